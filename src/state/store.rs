//! Reading and writing the state file: atomic rewrites one serial further, a damaged or
//! foreign file refused, never overwritten.

use std::path::Path;

use serde::Deserialize;

use crate::fsutil;
use crate::plan::ops::{WriteOp, WriteOutcome};
use crate::state::journal::{Journal, JournalEntry, journal_path};
use crate::state::{FORMAT_VERSION, State, StateError};

/// The lineage of the state file at `path`, when there is one that says it. The state is
/// written with its lineage near the top, so its first kilobytes are read, not megabytes.
fn lineage_on_disk(path: &Path) -> Option<String> {
    use std::io::Read;
    if !std::fs::metadata(path).ok()?.is_file() {
        return None;
    }
    let mut head = Vec::with_capacity(4096);
    std::fs::File::open(path)
        .ok()?
        .take(4096)
        .read_to_end(&mut head)
        .ok()?;
    let text = String::from_utf8_lossy(&head);
    let key = "\"lineage\":";
    let after = text[text.find(key)? + key.len()..].trim_start();
    let value = after.strip_prefix('"')?;
    Some(value[..value.find('"')?].to_owned())
}

/// The serial after `serial`; at the largest one there is none, and the state says so rather
/// than start again at zero.
fn next_serial(serial: u64) -> std::io::Result<u64> {
    serial.checked_add(1).ok_or_else(|| {
        std::io::Error::other(
            "the state's serial is at its largest value; start a new state (move the file away) after checking it",
        )
    })
}

impl State {
    /// Reads the state at `path`, whatever its Workspace, with the writes its journal holds;
    /// `None` when there is no file yet.
    pub(crate) fn read(path: &Path) -> Result<Option<State>, StateError> {
        let Some(mut state) = State::read_base(path)? else {
            return Ok(None);
        };
        state.replay(path)?;
        Ok(Some(state))
    }

    fn read_base(path: &Path) -> Result<Option<State>, StateError> {
        let bytes = match crate::fsutil::read_regular(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => {
                return Err(StateError::Io {
                    path: path.to_owned(),
                    error,
                });
            }
        };
        #[derive(Deserialize)]
        struct Version {
            format_version: u32,
        }
        let corrupt = |e: serde_json::Error| StateError::Corrupt {
            path: path.to_owned(),
            reason: e.to_string(),
        };
        let version: Version = serde_json::from_slice(&bytes).map_err(corrupt)?;
        if version.format_version != FORMAT_VERSION {
            return Err(StateError::Version {
                path: path.to_owned(),
                found: version.format_version,
            });
        }
        let state: State = serde_json::from_slice(&bytes).map_err(corrupt)?;
        Ok(Some(state))
    }

    /// Writes the state atomically, one serial further, and empties the journal it now holds.
    /// A state file of another lineage found at `path` is an error, never overwritten.
    pub(crate) fn save(&mut self, path: &Path) -> std::io::Result<()> {
        // Another history put in its place during the run is not overwritten.
        if let Some(found) = lineage_on_disk(path)
            && found != self.lineage
        {
            return Err(std::io::Error::other(format!(
                "the state file was replaced during this run by another history (lineage {found}, this run's is {}); it is left as it is: compare the two, then run again",
                self.lineage
            )));
        }
        self.serial = next_serial(self.serial)?;
        let mut bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        fsutil::write_private(path, &bytes)?;
        match std::fs::remove_file(journal_path(path)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Records a successful write, one serial further: folded into the state, then the state
    /// file at `path` rewritten, or with a journal, one line appended to it.
    pub(crate) fn record(
        &mut self,
        path: &Path,
        journal: Option<&mut Journal>,
        op: &WriteOp,
        outcome: &WriteOutcome,
    ) -> std::io::Result<()> {
        let time_ms = crate::clock::now_ms();
        self.apply_write(op, outcome, time_ms);
        let Some(journal) = journal else {
            return self.save(path);
        };
        self.serial = next_serial(self.serial)?;
        journal.append(&JournalEntry {
            serial: self.serial,
            time_ms,
            op: op.clone(),
            outcome: outcome.clone(),
        })
    }
}
