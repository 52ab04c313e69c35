//! ClickUp's own JSON shapes (API v2), parsed tolerantly, and the snapshot file built from them
//! (SPEC §4). Only this module knows ClickUp's field names: unknown fields are ignored,
//! `custom_role` may be null, an object or an integer, ids and timestamps may come as strings or
//! numbers, `username` may be null. [`SnapshotDoc::to_live`] turns it into the core model.
//!
//! Here: the snapshot document and why one cannot be read. ClickUp's objects are in `shapes`,
//! the tolerant readers of their loose fields in `tolerant`, the conversion into the model in
//! `convert`, writes applied as ClickUp applies them in `edit`, the bodies and answers of the
//! API in `api`, and the table of its requests in `routes`.

pub(crate) mod api;
mod convert;
mod edit;
pub(crate) mod routes;
mod shapes;
mod tolerant;

use std::fmt;

use serde::{Deserialize, Serialize};

pub(crate) use convert::LiveRead;
pub(crate) use shapes::{
    CustomRole, CustomRoleField, Group, GroupMember, GuestDetail, GuestShares, GuestUser,
    InvitedBy, Me, Seats, SharedItem, Team, TeamMember, User, WorkspacePlan,
};

/// A saved Workspace: what `GET /team`, `/customroles`, `/group` and `/user` answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SnapshotDoc {
    pub(crate) team: Team,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) custom_roles: Option<Vec<CustomRole>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) groups: Option<Vec<Group>>,
    pub(crate) me: Me,
    /// `GET /team/{id}/guest/{id}` answers (the `guest` object) for guests whose shares are read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) guests: Vec<GuestDetail>,
    /// `GET /team/{id}/plan`, when it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) plan: Option<WorkspacePlan>,
    /// `GET /team/{id}/seats`, when it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) seats: Option<Seats>,
}

/// Why a snapshot or an answer could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WireError(pub(crate) String);

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl SnapshotDoc {
    /// Reads a snapshot file's JSON.
    pub(crate) fn from_json(bytes: &[u8]) -> Result<SnapshotDoc, WireError> {
        serde_json::from_slice(bytes).map_err(|e| snapshot_error(&e))
    }

    /// Reads a snapshot file's JSON as it comes from `reader`: the 50 MB of text of a
    /// Workspace of 100,000 people are not held beside the document made of them.
    pub(crate) fn from_reader(reader: impl std::io::Read) -> Result<SnapshotDoc, WireError> {
        serde_json::from_reader(reader).map_err(|e| read_error(&e))
    }

    pub(crate) fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::new();
        // Writing into memory fails only if serialising does, which these types never do.
        let _ = self.write_json(&mut out);
        out
    }

    /// Writes the snapshot file's JSON (what [`SnapshotDoc::to_json`] returns) to `out` as it
    /// is made: a Workspace of 100,000 people is 50 MB of it, never held whole.
    pub(crate) fn write_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self).map_err(std::io::Error::other)?;
        out.write_all(b"\n")
    }
}

/// Why a snapshot file read as it comes could not be read: the reading itself failed, or
/// its text (with its line and column).
fn read_error(e: &serde_json::Error) -> WireError {
    if e.is_io() {
        WireError(format!("cannot read it: {e}"))
    } else {
        snapshot_error(e)
    }
}

/// Why a snapshot file could not be read, with its line and column.
fn snapshot_error(e: &serde_json::Error) -> WireError {
    WireError(format!(
        "not a snapshot of a ClickUp Workspace (line {}, column {}): {}",
        e.line(),
        e.column(),
        strip_position(&e.to_string())
    ))
}

/// serde_json appends " at line X column Y"; the caller says it already.
fn strip_position(message: &str) -> &str {
    message.rsplit_once(" at line ").map_or(message, |(m, _)| m)
}

#[cfg(test)]
mod tests;
