//! The snapshot backend: a Workspace kept in a local JSON file (SPEC §4). Reads return the file;
//! each write is applied the way ClickUp would apply it. The file is rewritten atomically at
//! most once a second during an apply and when it is flushed at the end, so that a large
//! Workspace is not rewritten for every change. Used to try the tool offline, for rehearsals and
//! for tests.
//!
//! The document is read once: the copy a read hands out (which an apply records in the state)
//! and the one the writes edit share their members, so that a Workspace of 100,000 people is
//! held once, not twice.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::clickup::wire::{LiveRead, SnapshotDoc};
use crate::clickup::{ReadNeeds, Subscription, Workspace, WriteOp, WriteOutcome, Written, WsError};
use crate::fsutil;
use crate::model::{Email, UserId};

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
    /// Loaded by the first read of the whole document or the first write, and kept (reads of
    /// the model alone parse the file afresh until then).
    doc: Option<SnapshotDoc>,
    /// Everyone's email, to refuse an invitation of someone already there as ClickUp does;
    /// gathered at the first write.
    emails: Option<HashSet<Email>>,
    /// The id the next invitee gets, once one was invited: finding the largest id is a scan of
    /// every member, made once.
    next_id: Option<UserId>,
    /// Writes not in the file yet.
    dirty: bool,
    /// When the file was last saved, or the writes began.
    saved: Instant,
    /// How long the last save took.
    saving: Duration,
}

impl Held {
    fn new(doc: Option<SnapshotDoc>) -> Held {
        Held {
            doc,
            emails: None,
            next_id: None,
            dirty: false,
            saved: Instant::now(),
            saving: Duration::ZERO,
        }
    }
}

impl SnapshotWorkspace {
    /// A snapshot file; it is read when the Workspace is.
    pub(crate) fn open(path: &Path) -> std::io::Result<SnapshotWorkspace> {
        std::fs::metadata(path)?;
        Ok(SnapshotWorkspace {
            path: Some(path.to_owned()),
            state: Mutex::new(Held::new(None)),
        })
    }

    /// A Workspace held in memory, for tests.
    #[cfg(test)]
    pub(crate) fn in_memory(doc: SnapshotDoc) -> SnapshotWorkspace {
        SnapshotWorkspace {
            path: None,
            state: Mutex::new(Held::new(Some(doc))),
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

    /// The snapshot file's path, opened, read through a buffer.
    fn file(&self) -> Result<(&Path, std::io::BufReader<std::fs::File>), WsError> {
        let Some(path) = &self.path else {
            return Err(WsError::local("the in-memory snapshot has no document"));
        };
        let file = crate::fsutil::open_regular(path).map_err(|e| {
            WsError::local(format!("cannot read the snapshot {}: {e}", path.display()))
        })?;
        Ok((path, std::io::BufReader::with_capacity(1 << 16, file)))
    }

    fn load(&self) -> Result<SnapshotDoc, WsError> {
        let (path, reader) = self.file()?;
        SnapshotDoc::from_reader(reader)
            .map_err(|e| WsError::local(format!("{}: {e}", path.display())))
    }

    /// The document, loaded from the file the first time.
    fn loaded<'a>(&self, held: &'a mut Held) -> Result<&'a mut SnapshotDoc, WsError> {
        if held.doc.is_none() {
            held.doc = Some(self.load()?);
        }
        held.doc
            .as_mut()
            .ok_or_else(|| WsError::local("the snapshot could not be loaded"))
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
        let (path, reader) = self.file()?;
        SnapshotDoc::live_from_reader(reader)
            .map_err(|e| WsError::local(format!("{}: {e}", path.display())))
    }

    fn save(&self, held: &mut Held) -> Result<(), WsError> {
        let started = Instant::now();
        if let (Some(path), Some(doc)) = (&self.path, &held.doc) {
            fsutil::write_private_with(path, |out| doc.write_json(out)).map_err(|e| {
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
        let mut held = self.lock();
        // A copy shares its members with the one kept: it costs a pointer a member.
        self.loaded(&mut held).map(|doc| doc.clone())
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
        if held.emails.is_none() {
            let doc = self.loaded(&mut held)?;
            held.emails = Some(emails(doc));
            // The writes begin: the first save comes a second from now, not at once.
            held.saved = Instant::now();
        }
        let Held {
            doc,
            emails,
            next_id,
            ..
        } = &mut *held;
        let (Some(doc), Some(emails)) = (doc.as_mut(), emails.as_mut()) else {
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
            WriteOp::InviteMember { .. } | WriteOp::InviteGuest { .. } => {
                let user_id = next_id.unwrap_or_else(|| doc.next_user_id());
                WriteOutcome::Invited { user_id }
            }
            WriteOp::CreateGroup { .. } => WriteOutcome::GroupCreated {
                group_id: uuid::Uuid::new_v4().to_string(),
            },
            _ => WriteOutcome::Done,
        };
        doc.apply(op, &outcome, crate::clock::now_ms())
            .map_err(|e| WsError::local(e.0))?;
        if let WriteOutcome::Invited { user_id } = &outcome {
            *next_id = Some(user_id + 1);
        }
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
        let durable = held.saved.elapsed() >= SAVE_EVERY.max(held.saving * 10);
        if durable {
            self.save(&mut held)?;
        }
        Ok(Written {
            outcome,
            status: None,
            durable,
        })
    }

    async fn flush(&self) -> Result<(), WsError> {
        let mut held = self.lock();
        if held.dirty {
            self.save(&mut held)?;
        }
        // The writes are over: everyone's email is gathered again if more come.
        held.emails = None;
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
