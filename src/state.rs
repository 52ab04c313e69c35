//! The state file (SPEC §4): what the tool manages and the Workspace as it stood after the last
//! apply. It is JSON, versioned, with a `lineage` made once and a `serial` that grows by one on
//! every write, and it is written atomically. A state that cannot be read is an error, never an
//! empty state.
//!
//! During an apply, the state is rewritten after each successful request. For a large
//! Workspace, whose state is megabytes, each request is instead appended to a journal beside it
//! (`<state>.journal`, one JSON line, synced to disk): either way a crash loses at most the
//! request in flight. Reading the state replays the journal; the apply folds it into the state
//! file when it starts and when it ends.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::MembersFile;
use crate::fsutil;
use crate::live::Live;
use crate::model::{BaseRole, Email, UserId};
use crate::plan::Managed;
use crate::plan::ops::{WriteOp, WriteOutcome};
use crate::wire::SnapshotDoc;

pub(crate) const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct State {
    pub(crate) format_version: u32,
    /// Made once when the state is created; a state of another lineage is another history.
    pub(crate) lineage: String,
    /// Grows by one on every write.
    pub(crate) serial: u64,
    pub(crate) workspace_id: String,
    #[serde(default)]
    pub(crate) members: BTreeMap<Email, ManagedPerson>,
    #[serde(default)]
    pub(crate) guests: BTreeMap<Email, ManagedPerson>,
    /// By group name.
    #[serde(default)]
    pub(crate) groups: BTreeMap<String, ManagedGroup>,
    /// RFC 3339 time of the last apply.
    #[serde(default)]
    pub(crate) last_apply: Option<String>,
    /// The Workspace as it stood after the last apply.
    #[serde(default)]
    pub(crate) snapshot: Option<SnapshotDoc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ManagedPerson {
    pub(crate) user_id: UserId,
    pub(crate) role: String,
    /// When the tool invited them, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) invited_at: Option<String>,
    pub(crate) status: PersonStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum PersonStatus {
    Pending,
    Active,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ManagedGroup {
    pub(crate) group_id: String,
}

/// One write in the journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct JournalEntry {
    serial: u64,
    time_ms: u64,
    op: WriteOp,
    outcome: WriteOutcome,
}

/// `members.state.json` → `members.state.json.journal`.
pub(crate) fn journal_path(state: &Path) -> PathBuf {
    let state = crate::fsutil::canonical(state);
    let mut name = state.file_name().unwrap_or_default().to_os_string();
    name.push(".journal");
    state.with_file_name(name)
}

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

/// The journal of an apply in progress: appended to and synced after every write.
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

    fn append(&mut self, entry: &JournalEntry) -> std::io::Result<()> {
        use std::io::Write;
        let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.sync_data()
    }
}

/// A state file that cannot be used.
#[derive(Debug)]
pub(crate) enum StateError {
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    Corrupt {
        path: PathBuf,
        reason: String,
    },
    Version {
        path: PathBuf,
        found: u32,
    },
    OtherWorkspace {
        path: PathBuf,
        found: String,
        wanted: String,
    },
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateError::Io { path, error } => {
                write!(f, "cannot read the state file {}: {error}", path.display())
            }
            StateError::Corrupt { path, reason } => write!(
                f,
                "the state file {} is damaged ({reason}); restore it from git or a backup, it is never read as empty",
                path.display()
            ),
            StateError::Version { path, found } => write!(
                f,
                "the state file {} has format_version {found}; this clickup-members reads version {FORMAT_VERSION}",
                path.display()
            ),
            StateError::OtherWorkspace {
                path,
                found,
                wanted,
            } => write!(
                f,
                "the state file {} belongs to Workspace {found}, not {wanted}; use --state to point at this Workspace's state",
                path.display()
            ),
        }
    }
}

impl std::error::Error for StateError {}

impl State {
    pub(crate) fn new(workspace_id: &str) -> State {
        State {
            format_version: FORMAT_VERSION,
            lineage: uuid::Uuid::new_v4().to_string(),
            serial: 0,
            workspace_id: workspace_id.to_owned(),
            members: BTreeMap::new(),
            guests: BTreeMap::new(),
            groups: BTreeMap::new(),
            last_apply: None,
            snapshot: None,
        }
    }

    /// Refuses a state recorded for another Workspace.
    pub(crate) fn ensure_workspace(
        &self,
        path: &Path,
        workspace_id: &str,
    ) -> Result<(), StateError> {
        if self.workspace_id == workspace_id {
            Ok(())
        } else {
            Err(StateError::OtherWorkspace {
                path: path.to_owned(),
                found: self.workspace_id.clone(),
                wanted: workspace_id.to_owned(),
            })
        }
    }

    /// Reads the state at `path`, whatever its Workspace, with the writes its journal holds;
    /// `None` when there is no file yet.
    pub(crate) fn read(path: &Path) -> Result<Option<State>, StateError> {
        let Some(mut state) = State::read_base(path)? else {
            return Ok(None);
        };
        state.replay(path)?;
        Ok(Some(state))
    }

    /// Applies the journal's writes that the state file does not hold yet. A last line cut short
    /// by a crash is the request that was in flight: it is ignored.
    fn replay(&mut self, path: &Path) -> Result<(), StateError> {
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

    /// Folds a successful write into the recorded Workspace and the managed people and groups.
    pub(crate) fn apply_write(&mut self, op: &WriteOp, outcome: &WriteOutcome, time_ms: u64) {
        if let Some(doc) = &mut self.snapshot
            && let Err(e) = doc.apply(op, outcome, time_ms)
        {
            tracing::warn!("the state's copy of the Workspace could not follow a write: {e}");
        }
        let role = |custom: Option<i64>, base: BaseRole| -> String {
            let named = custom.and_then(|id| {
                self.snapshot
                    .as_ref()
                    .and_then(|s| s.custom_roles.as_ref())
                    .and_then(|roles| roles.iter().find(|r| r.id == id))
                    .map(|r| r.name.clone())
            });
            named.unwrap_or_else(|| base.name().to_owned())
        };
        let invited = |user_id: UserId, role: String| ManagedPerson {
            user_id,
            role,
            invited_at: Some(crate::clock::rfc3339(time_ms)),
            status: PersonStatus::Pending,
        };
        match (op, outcome) {
            (
                WriteOp::InviteMember {
                    email,
                    admin,
                    custom_role_id,
                },
                WriteOutcome::Invited { user_id },
            ) => {
                let base = if *admin {
                    BaseRole::Admin
                } else {
                    BaseRole::Member
                };
                let entry = invited(*user_id, role(*custom_role_id, base));
                self.guests.remove(email);
                self.members.insert(email.clone(), entry);
            }
            (
                WriteOp::InviteGuest {
                    email,
                    custom_role_id,
                    ..
                },
                WriteOutcome::Invited { user_id },
            ) => {
                let entry = invited(*user_id, role(*custom_role_id, BaseRole::Guest));
                self.members.remove(email);
                self.guests.insert(email.clone(), entry);
            }
            (
                WriteOp::EditMember {
                    user_id,
                    admin,
                    custom_role_id,
                    ..
                },
                _,
            ) => {
                let base = if *admin {
                    BaseRole::Admin
                } else {
                    BaseRole::Member
                };
                let label = role(*custom_role_id, base);
                if let Some(entry) = self.members.values_mut().find(|p| p.user_id == *user_id) {
                    entry.role = label;
                }
            }
            (
                WriteOp::EditGuest {
                    user_id,
                    custom_role_id: Some(id),
                    ..
                },
                _,
            ) => {
                let label = role(Some(*id), BaseRole::Guest);
                if let Some(entry) = self.guests.values_mut().find(|p| p.user_id == *user_id) {
                    entry.role = label;
                }
            }
            (WriteOp::RemoveMember { user_id } | WriteOp::RemoveGuest { user_id }, _) => {
                for map in [&mut self.members, &mut self.guests] {
                    let found = map
                        .iter()
                        .find(|(_, p)| p.user_id == *user_id)
                        .map(|(email, _)| email.clone());
                    if let Some(email) = found {
                        map.remove(&email);
                    }
                }
            }
            (WriteOp::CreateGroup { name, .. }, WriteOutcome::GroupCreated { group_id }) => {
                self.groups.insert(
                    name.clone(),
                    ManagedGroup {
                        group_id: group_id.clone(),
                    },
                );
            }
            (WriteOp::DeleteGroup { group_id }, _) => {
                self.groups.retain(|_, g| g.group_id != *group_id);
            }
            _ => {}
        }
    }

    pub(crate) fn managed(&self) -> Managed {
        Managed {
            people: self
                .members
                .keys()
                .chain(self.guests.keys())
                .cloned()
                .collect(),
            groups: self.groups.keys().map(|n| n.to_lowercase()).collect(),
        }
    }

    /// Recomputes who and what is managed from the Workspace as it now stands: everyone the
    /// file lists or the state already managed, if they are still there.
    pub(crate) fn refresh_managed(&mut self, file: &MembersFile, live: &Live, now: &str) {
        let listed: BTreeSet<&Email> = file.people().map(|e| &e.value).collect();
        let previous: BTreeMap<Email, ManagedPerson> = std::mem::take(&mut self.members)
            .into_iter()
            .chain(std::mem::take(&mut self.guests))
            .collect();
        for person in &live.people {
            if person.role == BaseRole::Owner {
                continue;
            }
            let before = previous.get(&person.email);
            if !listed.contains(&person.email) && before.is_none() {
                continue;
            }
            let role = match &person.custom_role {
                Some(custom) => live.custom_role_name(custom),
                None => person.role.name().to_owned(),
            };
            // A new id means the person was (re)invited since.
            let invited_at = match before {
                Some(b) if b.user_id == person.id => b.invited_at.clone(),
                _ if person.pending => Some(now.to_owned()),
                _ => None,
            };
            let entry = ManagedPerson {
                user_id: person.id,
                role,
                invited_at,
                status: if person.pending {
                    PersonStatus::Pending
                } else {
                    PersonStatus::Active
                },
            };
            let map = if person.role == BaseRole::Guest {
                &mut self.guests
            } else {
                &mut self.members
            };
            map.insert(person.email.clone(), entry);
        }
        if let (Some(groups), Some(live_groups)) = (&file.groups, &live.groups) {
            let listed: BTreeSet<String> =
                groups.iter().map(|g| g.name.value.to_lowercase()).collect();
            let previous: BTreeSet<String> = self.groups.keys().map(|n| n.to_lowercase()).collect();
            self.groups = live_groups
                .iter()
                .filter(|g| {
                    let key = g.name.to_lowercase();
                    listed.contains(&key) || previous.contains(&key)
                })
                .map(|g| {
                    (
                        g.name.clone(),
                        ManagedGroup {
                            group_id: g.id.clone(),
                        },
                    )
                })
                .collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::ops::WriteOp;

    fn doc() -> SnapshotDoc {
        SnapshotDoc::from_json(
            br#"{"team": {"id": "1", "name": "W", "members": [
                {"user": {"id": 7, "email": "ada@x.io", "role": 1, "date_joined": "1"}},
                {"user": {"id": 8, "email": "bob@x.io", "role": 3, "date_joined": "1"}}]},
                "me": {"id": 7, "email": "ada@x.io"}}"#,
        )
        .expect("doc")
    }

    fn invite(email: &str) -> WriteOp {
        WriteOp::InviteMember {
            email: Email::from_live(email),
            admin: true,
            custom_role_id: None,
        }
    }

    #[test]
    fn reading_the_state_replays_its_journal_and_ignores_a_torn_last_line() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("members.state.json");
        let mut state = State::new("1");
        state.snapshot = Some(doc());
        state.save(&path).expect("save");
        let mut journal = Journal::create(&path).expect("journal");
        state
            .record(
                &path,
                Some(&mut journal),
                &invite("cy@x.io"),
                &WriteOutcome::Invited { user_id: 9 },
            )
            .expect("record");
        state
            .record(
                &path,
                Some(&mut journal),
                &WriteOp::RemoveMember { user_id: 8 },
                &WriteOutcome::Done,
            )
            .expect("record");
        // A crash in the middle of the next line.
        std::fs::OpenOptions::new()
            .append(true)
            .open(journal_path(&path))
            .and_then(|mut f| std::io::Write::write_all(&mut f, b"{\"serial\": 4, \"ti"))
            .expect("torn line");

        let read = State::read(&path).expect("read").expect("state");
        assert_eq!(read.serial, 3);
        assert_eq!(read.members[&Email::from_live("cy@x.io")].role, "admin");
        assert_eq!(
            read.members[&Email::from_live("cy@x.io")].status,
            PersonStatus::Pending
        );
        let live = read.snapshot.as_ref().expect("snapshot").to_live();
        assert!(
            live.person(&Email::from_live("cy@x.io"))
                .is_some_and(|p| p.pending)
        );
        assert!(live.person(&Email::from_live("bob@x.io")).is_none());

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for file in [path.clone(), journal_path(&path)] {
                let mode = std::fs::metadata(&file).expect("file").permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{}", file.display());
            }
        }
        // Saving folds the journal in; lines it already holds are not applied twice.
        let mut folded = read.clone();
        folded.save(&path).expect("save");
        assert!(!journal_path(&path).exists());
        assert_eq!(State::read(&path).expect("read"), Some(folded));
    }

    #[test]
    fn without_a_journal_every_write_rewrites_the_state_file() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("members.state.json");
        let mut state = State::new("1");
        state.snapshot = Some(doc());
        state.save(&path).expect("save");
        state
            .record(
                &path,
                None,
                &invite("cy@x.io"),
                &WriteOutcome::Invited { user_id: 9 },
            )
            .expect("record");
        assert!(!journal_path(&path).exists());
        let read = State::read(&path).expect("read").expect("state");
        assert_eq!(read.serial, 2);
        assert_eq!(read, state);
    }

    #[test]
    fn a_state_replaced_by_another_history_is_not_overwritten() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("members.state.json");
        let mut ours = State::new("900");
        ours.save(&path).expect("first save");
        let theirs = State::new("900");
        std::fs::write(&path, serde_json::to_vec(&theirs).expect("json")).expect("replaced");
        let err = ours.save(&path).expect_err("another lineage");
        assert!(
            err.to_string().contains(&format!(
                "the state file was replaced during this run by another history (lineage {}",
                theirs.lineage
            )),
            "{err}"
        );
        let on_disk = State::read(&path).expect("read").expect("state");
        assert_eq!(on_disk.lineage, theirs.lineage);
    }

    #[test]
    fn the_serial_never_wraps() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("members.state.json");
        let mut state = State::new("900");
        state.serial = u64::MAX;
        let err = state.save(&path).expect_err("no serial after the last");
        assert!(
            err.to_string().contains("serial is at its largest value"),
            "{err}"
        );
        assert_eq!(state.serial, u64::MAX);
    }

    #[test]
    fn a_damaged_state_file_is_an_error() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("s.json");
        std::fs::write(&path, "{\"format_version\": 1").expect("write");
        assert!(matches!(
            State::read(&path),
            Err(StateError::Corrupt { .. })
        ));
        std::fs::write(&path, "{\"format_version\": 7}").expect("write");
        assert!(matches!(
            State::read(&path),
            Err(StateError::Version { found: 7, .. })
        ));
    }
}
