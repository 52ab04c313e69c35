//! ClickUp: the narrow interface to a Workspace (read it, make one write) and what implements
//! it. `wire/` knows ClickUp's JSON shapes and routes, `http/` talks to ClickUp over HTTPS,
//! `snapshot.rs` reads and writes a snapshot file; the engine and the tests only see the
//! [`Workspace`] trait.

pub(crate) mod http;
pub(crate) mod snapshot;
pub(crate) mod wire;

use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;

use crate::clickup::wire::{Seats, SnapshotDoc, WorkspacePlan};
use crate::model::Email;
pub(crate) use crate::plan::ops::{WriteOp, WriteOutcome};

/// What a read must include beyond `GET /user` and `GET /team` (SPEC §5).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ReadNeeds {
    pub(crate) custom_roles: bool,
    pub(crate) groups: bool,
    /// Guests whose shares are read (one `GET /team/{id}/guest/{id}` each).
    pub(crate) guest_shares: BTreeSet<Email>,
}

/// A successful write: what it created, and ClickUp's HTTP status when there was one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Written {
    pub(crate) outcome: WriteOutcome,
    pub(crate) status: Option<u16>,
}

/// A failed read or write, with what ClickUp said when it said something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WsError {
    /// A sentence a person can act on.
    pub(crate) message: String,
    pub(crate) status: Option<u16>,
    pub(crate) ecode: Option<String>,
    pub(crate) err: Option<String>,
}

impl WsError {
    pub(crate) fn local(message: impl Into<String>) -> WsError {
        WsError {
            message: message.into(),
            status: None,
            ecode: None,
            err: None,
        }
    }

    /// Whether every other write would fail the same way: the Workspace's plan (`TEAM_110`) or
    /// the token (`OAUTH_*`) is refused, so the remaining writes are not sent (SPEC §5).
    pub(crate) fn stops_all_writes(&self) -> bool {
        self.ecode
            .as_deref()
            .is_some_and(|c| c == "TEAM_110" || c.starts_with("OAUTH_"))
    }
}

impl fmt::Display for WsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for WsError {}

/// A ClickUp Workspace that can be read and written.
pub(crate) trait Workspace: Sync {
    /// Where the Workspace is read from, for messages ("snapshot x.json", "ClickUp").
    fn describe(&self) -> String;

    /// Reads the Workspace as ClickUp shapes it.
    fn read(&self, needs: &ReadNeeds) -> impl Future<Output = Result<SnapshotDoc, WsError>> + Send;

    /// Makes one write.
    fn write(&self, op: &WriteOp) -> impl Future<Output = Result<Written, WsError>> + Send;

    /// The Workspace's subscription and seats (`GET /team/{id}/plan` and `/seats`), read only
    /// when a plan has writes (SPEC §5). `None` for what the source does not hold.
    fn subscription(
        &self,
    ) -> impl Future<Output = Result<(Option<WorkspacePlan>, Option<Seats>), WsError>> + Send {
        async { Ok((None, None)) }
    }

    /// Makes sure every write so far is kept (a local file is saved).
    fn flush(&self) -> impl Future<Output = Result<(), WsError>> + Send {
        async { Ok(()) }
    }
}
