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

use crate::clickup::wire::{LiveRead, Seats, SnapshotDoc, WorkspacePlan};
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
    /// The Workspace now holds this write (and those before it) durably: ClickUp as soon as
    /// it answers; a snapshot file only when it is saved, which is not after every write.
    /// The state's record of a write is synced to disk only then: sooner would not keep a
    /// write that the Workspace itself can still lose.
    pub(crate) durable: bool,
}

/// A failed read or write, with what ClickUp said when it said something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WsError {
    /// A sentence a person can act on.
    pub(crate) message: String,
    pub(crate) status: Option<u16>,
    pub(crate) ecode: Option<String>,
    pub(crate) err: Option<String>,
    /// ClickUp was unavailable, slow or rate limited past the retries: a later run may
    /// succeed as it is.
    pub(crate) transient: bool,
}

impl WsError {
    pub(crate) fn local(message: impl Into<String>) -> WsError {
        WsError {
            message: message.into(),
            status: None,
            ecode: None,
            err: None,
            transient: false,
        }
    }

    /// Whether trying again later, unchanged, may succeed.
    pub(crate) fn retryable(&self) -> bool {
        self.transient
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

/// The Workspace's subscription and seats, each as its read ended.
#[derive(Debug)]
pub(crate) struct Subscription {
    pub(crate) plan: Result<Option<WorkspacePlan>, WsError>,
    pub(crate) seats: Result<Option<Seats>, WsError>,
}

/// A ClickUp Workspace that can be read and written.
pub(crate) trait Workspace: Sync {
    /// Where the Workspace is read from, for messages ("snapshot x.json", "ClickUp").
    fn describe(&self) -> String;

    /// Reads the Workspace as ClickUp shapes it.
    fn read(&self, needs: &ReadNeeds) -> impl Future<Output = Result<SnapshotDoc, WsError>> + Send;

    /// The Workspace as the core model, with the subscription and seats it records; for a
    /// source that holds the whole Workspace (a snapshot), read without the document.
    fn read_model(&self) -> impl Future<Output = Result<LiveRead, WsError>> + Send {
        async {
            let mut doc = self.read(&ReadNeeds::default()).await?;
            let (plan, seats) = (doc.plan.take(), doc.seats.take());
            Ok(LiveRead {
                live: doc.into_live(),
                plan,
                seats,
            })
        }
    }

    /// Makes one write.
    fn write(&self, op: &WriteOp) -> impl Future<Output = Result<Written, WsError>> + Send;

    /// The Workspace's subscription and seats (`GET /team/{id}/plan` and `/seats`), read only
    /// when a plan has writes or `policy.seats` is set (SPEC §5, §7). `None` for what the
    /// source does not hold; each read fails on its own.
    fn subscription(&self) -> impl Future<Output = Subscription> + Send {
        async {
            Subscription {
                plan: Ok(None),
                seats: Ok(None),
            }
        }
    }

    /// Makes sure every write so far is kept (a local file is saved).
    fn flush(&self) -> impl Future<Output = Result<(), WsError>> + Send {
        async { Ok(()) }
    }
}

/// Where the live Workspace comes from: a snapshot file or ClickUp. One lives per run, so
/// its size does not matter.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Backend {
    Snapshot(snapshot::SnapshotWorkspace),
    Http(http::HttpWorkspace),
}

impl Workspace for Backend {
    fn describe(&self) -> String {
        match self {
            Backend::Snapshot(s) => s.describe(),
            Backend::Http(h) => h.describe(),
        }
    }

    async fn read(&self, needs: &ReadNeeds) -> Result<SnapshotDoc, WsError> {
        match self {
            Backend::Snapshot(s) => s.read(needs).await,
            Backend::Http(h) => h.read(needs).await,
        }
    }

    async fn read_model(&self) -> Result<LiveRead, WsError> {
        match self {
            Backend::Snapshot(s) => s.read_model().await,
            Backend::Http(h) => h.read_model().await,
        }
    }

    async fn write(&self, op: &WriteOp) -> Result<Written, WsError> {
        match self {
            Backend::Snapshot(s) => s.write(op).await,
            Backend::Http(h) => h.write(op).await,
        }
    }

    async fn subscription(&self) -> Subscription {
        match self {
            Backend::Snapshot(s) => s.subscription().await,
            Backend::Http(h) => h.subscription().await,
        }
    }

    async fn flush(&self) -> Result<(), WsError> {
        match self {
            Backend::Snapshot(s) => s.flush().await,
            Backend::Http(h) => h.flush().await,
        }
    }
}
