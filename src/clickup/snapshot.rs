//! The snapshot backend: a Workspace kept in a local JSON file (SPEC §4). Reads return the file;
//! each write is applied the way ClickUp would apply it. The file is rewritten atomically at
//! most once a second during an apply and when it is flushed at the end, so that a large
//! Workspace is not rewritten for every change. Used to try the tool offline, for rehearsals and
//! for tests.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::clickup::wire::{LiveRead, SnapshotDoc};
use crate::clickup::{ReadNeeds, Subscription, Workspace, WriteOp, WriteOutcome, Written, WsError};
use crate::fsutil;
use crate::model::Email;

/// How often, at least, the file is rewritten while writes come in; for a large Workspace, less
/// often, so that saving never takes more than a tenth of the time.
const SAVE_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub(crate) struct SnapshotWorkspace {
    /// `None` keeps the Workspace in memory only.
    path: Option<PathBuf>,
    state: Mutex<Held>,
}

#[derive(Debug)]
struct Held {
    /// Loaded on the first write (reads parse the file afresh until then).
    doc: Option<SnapshotDoc>,
    /// Everyone's email, to refuse an invitation of someone already there as ClickUp does.
    emails: HashSet<Email>,
    /// Writes not in the file yet.
    dirty: bool,
    saved: Instant,
    /// How long the last save took.
    saving: Duration,
}

impl SnapshotWorkspace {
    /// A snapshot file; it is read when the Workspace is.
    pub(crate) fn open(path: &Path) -> std::io::Result<SnapshotWorkspace> {
        std::fs::metadata(path)?;
        Ok(SnapshotWorkspace {
            path: Some(path.to_owned()),
            state: Mutex::new(Held {
                doc: None,
                emails: HashSet::new(),
                dirty: false,
                saved: Instant::now(),
                saving: Duration::ZERO,
            }),
        })
    }

    /// A Workspace held in memory, for tests.
    #[cfg(test)]
    pub(crate) fn in_memory(doc: SnapshotDoc) -> SnapshotWorkspace {
        SnapshotWorkspace {
            path: None,
            state: Mutex::new(Held {
                emails: emails(&doc),
                doc: Some(doc),
                dirty: false,
                saved: Instant::now(),
                saving: Duration::ZERO,
            }),
        }
    }

    #[cfg(test)]
    pub(crate) fn doc(&self) -> SnapshotDoc {
        self.lock()
            .doc
            .clone()
            .unwrap_or_else(|| panic!("no document"))
    }

    fn lock(&self) -> MutexGuard<'_, Held> {
        // Edits are checked before they change anything, so a panic cannot leave one half-done.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The snapshot file's path and text.
    fn file(&self) -> Result<(&std::path::Path, Vec<u8>), WsError> {
        let Some(path) = &self.path else {
            return Err(WsError::local("the in-memory snapshot has no document"));
        };
        let bytes = crate::fsutil::read_regular(path).map_err(|e| {
            WsError::local(format!("cannot read the snapshot {}: {e}", path.display()))
        })?;
        Ok((path, bytes))
    }

    fn load(&self) -> Result<SnapshotDoc, WsError> {
        let (path, bytes) = self.file()?;
        SnapshotDoc::from_json(&bytes)
            .map_err(|e| WsError::local(format!("{}: {e}", path.display())))
    }

    /// The Workspace as the core model, and what it records of its subscription: read
    /// straight from the file into the model when nothing has been written to it yet.
    fn read_live(&self) -> Result<LiveRead, WsError> {
        let held = self.lock();
        if let Some(doc) = &held.doc {
            return Ok(LiveRead {
                live: doc.to_live(),
                plan: doc.plan.clone(),
                seats: doc.seats.clone(),
            });
        }
        drop(held);
        let Some(path) = &self.path else {
            return Err(WsError::local("the in-memory snapshot has no document"));
        };
        let file = crate::fsutil::open_regular(path).map_err(|e| {
            WsError::local(format!("cannot read the snapshot {}: {e}", path.display()))
        })?;
        SnapshotDoc::live_from_reader(std::io::BufReader::with_capacity(1 << 16, file))
            .map_err(|e| WsError::local(format!("{}: {e}", path.display())))
    }

    fn save(&self, held: &mut Held) -> Result<(), WsError> {
        let started = Instant::now();
        if let (Some(path), Some(doc)) = (&self.path, &held.doc) {
            fsutil::write_private(path, &doc.to_json()).map_err(|e| {
                WsError::local(format!("cannot write the snapshot {}: {e}", path.display()))
            })?;
        }
        held.dirty = false;
        held.saved = Instant::now();
        held.saving = started.elapsed();
        Ok(())
    }
}

fn emails(doc: &SnapshotDoc) -> HashSet<Email> {
    doc.team
        .members
        .iter()
        .filter_map(|m| m.user.email.as_deref().map(Email::from_live))
        .collect()
}

impl Workspace for SnapshotWorkspace {
    fn describe(&self) -> String {
        match &self.path {
            Some(path) => format!("snapshot {}", path.display()),
            None => "in-memory snapshot".to_owned(),
        }
    }

    async fn read(&self, _needs: &ReadNeeds) -> Result<SnapshotDoc, WsError> {
        let held = self.lock();
        match &held.doc {
            Some(doc) => Ok(doc.clone()),
            None => {
                drop(held);
                self.load()
            }
        }
    }

    async fn read_model(&self) -> Result<LiveRead, WsError> {
        self.read_live()
    }

    async fn subscription(&self) -> Subscription {
        match self.read(&ReadNeeds::default()).await {
            Ok(doc) => Subscription {
                plan: Ok(doc.plan),
                seats: Ok(doc.seats),
            },
            Err(e) => Subscription {
                plan: Err(e.clone()),
                seats: Err(e),
            },
        }
    }

    async fn write(&self, op: &WriteOp) -> Result<Written, WsError> {
        let mut held = self.lock();
        if held.doc.is_none() {
            let doc = self.load()?;
            held.emails = emails(&doc);
            held.doc = Some(doc);
        }
        let Held { doc, emails, .. } = &mut *held;
        let Some(doc) = doc.as_mut() else {
            return Err(WsError::local("the snapshot could not be loaded"));
        };
        if let WriteOp::InviteMember { email, .. } | WriteOp::InviteGuest { email, .. } = op {
            if emails.contains(email) {
                return Err(WsError::local(format!(
                    "{email} is already in the Workspace"
                )));
            }
            // As a Workspace with every seat of the kind taken would refuse it.
            doc.seat_free(matches!(op, WriteOp::InviteGuest { .. }))
                .map_err(|e| WsError::local(e.0))?;
        }
        doc.check(op).map_err(|e| WsError::local(e.0))?;
        let leaving = match op {
            WriteOp::RemoveMember { user_id } | WriteOp::RemoveGuest { user_id } => {
                doc.email_of(*user_id).map(Email::from_live)
            }
            _ => None,
        };
        let outcome = match op {
            WriteOp::InviteMember { .. } | WriteOp::InviteGuest { .. } => WriteOutcome::Invited {
                user_id: doc.next_user_id(),
            },
            WriteOp::CreateGroup { .. } => WriteOutcome::GroupCreated {
                group_id: uuid::Uuid::new_v4().to_string(),
            },
            _ => WriteOutcome::Done,
        };
        doc.apply(op, &outcome, crate::clock::now_ms())
            .map_err(|e| WsError::local(e.0))?;
        match op {
            WriteOp::InviteMember { email, .. } | WriteOp::InviteGuest { email, .. } => {
                emails.insert(email.clone());
            }
            _ => {
                if let Some(email) = &leaving {
                    emails.remove(email);
                }
            }
        }
        held.dirty = true;
        if held.saved.elapsed() >= SAVE_EVERY.max(held.saving * 10) {
            self.save(&mut held)?;
        }
        Ok(Written {
            outcome,
            status: None,
        })
    }

    async fn flush(&self) -> Result<(), WsError> {
        let mut held = self.lock();
        if held.dirty {
            self.save(&mut held)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Email;

    fn doc() -> SnapshotDoc {
        SnapshotDoc::from_json(
            br#"{"team": {"id": "1", "name": "W", "members": [
                {"user": {"id": 7, "email": "Ada@X.io", "role": 1, "date_joined": "1"}}]},
                "me": {"id": 7, "email": "ada@x.io"}}"#,
        )
        .expect("doc")
    }

    #[tokio::test]
    async fn inviting_someone_already_there_is_refused_as_clickup_would() {
        let workspace = SnapshotWorkspace::in_memory(doc());
        let invite = |email: &str| WriteOp::InviteMember {
            email: Email::from_live(email),
            admin: false,
            custom_role_id: None,
        };
        assert!(workspace.write(&invite("ada@x.io")).await.is_err());
        assert!(workspace.write(&invite("bob@x.io")).await.is_ok());
        assert!(workspace.write(&invite("bob@x.io")).await.is_err());
        workspace
            .write(&WriteOp::RemoveMember { user_id: 8 })
            .await
            .expect("remove bob");
        assert!(
            workspace.write(&invite("bob@x.io")).await.is_ok(),
            "bob can come back"
        );
    }
}
