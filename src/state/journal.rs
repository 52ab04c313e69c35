//! The journal of an apply in progress, beside the state (`<state>.journal`): one line per
//! write for a Workspace whose state is too large to rewrite after each, synced as soon as the
//! Workspace holds the write durably, replayed when the state is read.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::plan::ops::{WriteOp, WriteOutcome};
use crate::state::{State, StateError};

/// One write in the journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct JournalEntry {
    pub(super) serial: u64,
    pub(super) time_ms: u64,
    pub(super) op: WriteOp,
    pub(super) outcome: WriteOutcome,
}

/// `members.state.json` → `members.state.json.journal`.
pub(crate) fn journal_path(state: &Path) -> PathBuf {
    let state = crate::fsutil::canonical(state);
    let mut name = state.file_name().unwrap_or_default().to_os_string();
    name.push(".journal");
    state.with_file_name(name)
}

/// The journal of an apply in progress: appended to after every write, and synced after
/// every write to ClickUp (a snapshot file's writes: when the file is saved).
#[derive(Debug)]
pub(crate) struct Journal {
    file: std::fs::File,
}

impl Journal {
    /// Starts the journal of `state` (an empty one: the state file was just saved).
    pub(crate) fn create(state: &Path) -> std::io::Result<Journal> {
        let mut options = std::fs::OpenOptions::new();
        options.create(true).write(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // A link planted in the journal's place must not make it truncate another file.
            options.mode(0o600).custom_flags(crate::fsutil::O_NOFOLLOW);
        }
        Ok(Journal {
            file: options.open(journal_path(state))?,
        })
    }

    /// Appends `entry`, synced to disk with the lines before it when `sync`.
    pub(super) fn append(&mut self, entry: &JournalEntry, sync: bool) -> std::io::Result<()> {
        use std::io::Write;
        let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        if sync { self.sync() } else { Ok(()) }
    }

    /// Syncs the lines written so far to disk.
    pub(crate) fn sync(&self) -> std::io::Result<()> {
        self.file.sync_data()
    }
}

impl State {
    /// Applies the journal's writes that the state file does not hold yet. A last line cut short
    /// by a crash is the request that was in flight: it is ignored.
    pub(super) fn replay(&mut self, path: &Path) -> Result<(), StateError> {
        let journal = journal_path(path);
        let text = match crate::fsutil::read_regular(&journal)
            .and_then(|b| String::from_utf8(b).map_err(std::io::Error::other))
        {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(error) => {
                return Err(StateError::Io {
                    path: journal,
                    error,
                });
            }
        };
        let lines: Vec<&str> = text.lines().collect();
        for (n, line) in lines.iter().enumerate() {
            let Ok(entry) = serde_json::from_str::<JournalEntry>(line) else {
                // Only the last line, cut short by a crash (no newline after it), is expected.
                if n + 1 == lines.len() && !text.ends_with('\n') {
                    break;
                }
                return Err(StateError::Corrupt {
                    path: journal,
                    reason: format!(
                        "line {} of {} is damaged, and the writes recorded after it would be lost; keep the file, check the Workspace with `clickup-members plan`, then remove the journal",
                        n + 1,
                        lines.len()
                    ),
                });
            };
            if entry.serial <= self.serial {
                continue;
            }
            self.apply_write(&entry.op, &entry.outcome, entry.time_ms);
            self.serial = entry.serial;
        }
        Ok(())
    }
}
