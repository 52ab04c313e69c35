//! The audit log (`apply --audit-log FILE`): one JSON line appended per write sent to ClickUp,
//! whether it succeeded or not. Never the token.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use serde::Serialize;

/// One line of the audit log.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Entry<'a> {
    /// RFC 3339.
    pub(crate) time: String,
    /// The plan's verb: invite, update, remove, replace, create, delete.
    pub(crate) action: &'a str,
    /// member, guest or group.
    pub(crate) kind: &'a str,
    /// The email or group name.
    pub(crate) subject: &'a str,
    pub(crate) method: &'a str,
    /// Below the API base, e.g. `/team/9006054115/user`.
    pub(crate) path: &'a str,
    pub(crate) ok: bool,
    /// The HTTP status, when there was an answer.
    pub(crate) status: Option<u16>,
    #[serde(rename = "ECODE")]
    pub(crate) ecode: Option<&'a str>,
    pub(crate) err: Option<&'a str>,
    pub(crate) duration_ms: u64,
    /// The plan's `live_fingerprint`: which plan the write belongs to.
    pub(crate) plan: &'a str,
}

#[derive(Debug)]
pub(crate) struct AuditLog {
    file: File,
}

impl AuditLog {
    pub(crate) fn open(path: &Path) -> std::io::Result<AuditLog> {
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        Ok(AuditLog {
            file: options.open(path)?,
        })
    }

    /// Appends one line and syncs it to disk.
    pub(crate) fn record(&mut self, entry: &Entry<'_>) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.sync_data()
    }
}
