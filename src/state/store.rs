//! Reading and writing the state file: atomic rewrites one serial further, a damaged or
//! foreign file refused, never overwritten.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::fsutil;
use crate::plan::ops::{WriteOp, WriteOutcome};
use crate::state::journal::{Journal, JournalEntry, journal_path};
use crate::state::{FORMAT_VERSION, State, StateError};

/// The lineage of the state file at `path`, when there is one that says it.
fn lineage_on_disk(path: &Path) -> Option<String> {
    head_field(path, "lineage")
}

/// The serial of the state at `path` as the next read of it would find it: its file's, or
/// the last line of its journal when that is further.
fn serial_on_disk(path: &Path) -> Option<u64> {
    let file = head_raw(path, "serial")?.parse::<u64>().ok()?;
    let journal = std::fs::read_to_string(journal_path(path))
        .ok()
        .and_then(|text| {
            text.lines()
                .rev()
                .find_map(|line| serde_json::from_str::<JournalEntry>(line).ok())
                .map(|entry| entry.serial)
        });
    Some(journal.map_or(file, |j| j.max(file)))
}

/// The number `key` of the state file at `path`, as written, when there is one that says it.
fn head_raw(path: &Path, key: &str) -> Option<String> {
    let text = head(path)?;
    let key = format!("\"{key}\":");
    let after = text[text.find(&key)? + key.len()..].trim_start();
    let end = after
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(after.len());
    Some(after[..end].to_owned())
}

/// The first kilobytes of the state file at `path`: its lineage, serial and Workspace id are
/// written near the top, so megabytes are not read for them.
fn head(path: &Path) -> Option<String> {
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
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// The string `key` of the state file at `path`, when there is one that says it. The state is
/// written with its lineage and Workspace id near the top, so its first kilobytes are read,
/// not megabytes.
fn head_field(path: &Path, key: &str) -> Option<String> {
    let text = head(path)?;
    let key = format!("\"{key}\":");
    let after = text[text.find(&key)? + key.len()..].trim_start();
    let value = after.strip_prefix('"')?;
    Some(value[..value.find('"')?].to_owned())
}

/// A state file that records a Workspace whose own state file is missing: what renaming a
/// Workspace file after its first apply leaves behind, since a state is named after its file.
/// The fresh state the plan then starts from knows no one the tool managed, so people deleted
/// from the file are no longer removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stray {
    /// The state file the plan looked for.
    pub(crate) missing: PathBuf,
    /// The state file beside it that records the same Workspace.
    pub(crate) found: PathBuf,
    pub(crate) workspace_id: String,
}

impl fmt::Display for Stray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (missing, found) = (self.missing.display(), self.found.display());
        write!(
            f,
            "there is no state file at {missing}, but {found} records Workspace {}: if the Workspace file was renamed, rename its state too (`git mv {found} {missing}`, or mv where the state is not in git). Until then nothing is known of whom clickup-members manages, and people deleted from the file are not removed",
            self.workspace_id
        )
    }
}

impl State {
    /// The other state files beside `path`, which does not exist, that record Workspace
    /// `workspace_id`, by name.
    pub(crate) fn strays(path: &Path, workspace_id: &str) -> Vec<Stray> {
        let folder = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let Ok(entries) = std::fs::read_dir(folder) else {
            return Vec::new();
        };
        let mut found: Vec<Stray> = entries
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name();
                let name = name.to_str()?;
                let other = path.with_file_name(name);
                (name.ends_with(".state.json")
                    && other != path
                    && head_field(&entry.path(), "workspace_id").as_deref() == Some(workspace_id))
                .then(|| Stray {
                    missing: path.to_owned(),
                    found: other,
                    workspace_id: workspace_id.to_owned(),
                })
            })
            .collect();
        found.sort_by(|a, b| a.found.cmp(&b.found));
        found
    }
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
        let version = |found| StateError::Version {
            path: path.to_owned(),
            found,
        };
        // Read once as this version's state; only one that does not read is read again for
        // its version, so that a state of another version says so rather than how it differs.
        match serde_json::from_slice::<State>(&bytes) {
            Ok(state) if state.format_version == FORMAT_VERSION => Ok(Some(state)),
            Ok(state) => Err(version(state.format_version)),
            Err(error) => match serde_json::from_slice::<Version>(&bytes) {
                Ok(found) if found.format_version != FORMAT_VERSION => {
                    Err(version(found.format_version))
                }
                Ok(_) => Err(corrupt(error)),
                Err(error) => Err(corrupt(error)),
            },
        }
    }

    /// Writes the state atomically, one serial further, and empties the journal it now holds.
    /// A state file of another lineage found at `path` is an error, never overwritten, and so
    /// is one further on than this state: a save never takes the state back in time, undoing
    /// what another run recorded since this one read it (SPEC §10).
    pub(crate) fn save(&mut self, path: &Path) -> std::io::Result<()> {
        // Another history put in its place during the run is not overwritten.
        let lineage = lineage_on_disk(path);
        if let Some(found) = &lineage
            && *found != self.lineage
        {
            return Err(std::io::Error::other(format!(
                "the state file was replaced during this run by another history (lineage {found}, this run's is {}); it is left as it is: compare the two, then run again",
                self.lineage
            )));
        }
        let next = next_serial(self.serial)?;
        if lineage.is_some()
            && let Some(found) = serial_on_disk(path)
            && found >= next
        {
            return Err(std::io::Error::other(format!(
                "the state on disk is at serial {found}, and this run would write serial {next}: another run recorded its writes since this one read the state, and saving would undo them; nothing was written over it: run again"
            )));
        }
        self.serial = next;
        // Written as it is made: a state of 100,000 people is 60 MB of JSON, never held whole.
        fsutil::write_private_with(path, |out| {
            serde_json::to_writer_pretty(&mut *out, self).map_err(std::io::Error::other)?;
            out.write_all(b"\n")
        })?;
        match std::fs::remove_file(journal_path(path)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Records a successful write, one serial further: folded into the state, then the state
    /// file at `path` rewritten, or with a journal, one line appended to it, synced when
    /// `durable`: once the Workspace holds the write durably itself (ClickUp at once, a
    /// snapshot file when it is saved: see [`crate::clickup::Written::durable`]).
    pub(crate) fn record(
        &mut self,
        path: &Path,
        journal: Option<&mut Journal>,
        op: &WriteOp,
        outcome: &WriteOutcome,
        durable: bool,
    ) -> std::io::Result<()> {
        let time_ms = crate::clock::now_ms();
        self.apply_write(op, outcome, time_ms);
        let Some(journal) = journal else {
            return self.save(path);
        };
        self.serial = next_serial(self.serial)?;
        journal.append(
            &JournalEntry {
                serial: self.serial,
                time_ms,
                op: op.clone(),
                outcome: outcome.clone(),
            },
            durable,
        )
    }
}
