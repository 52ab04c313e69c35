//! The snapshot backend: a Workspace kept in a local JSON file (SPEC §4). Reads return the file;
//! each write is applied the way ClickUp would apply it and the file is rewritten atomically.
//! Used to try the tool offline, for rehearsals and for tests.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::fsutil;
use crate::wire::SnapshotDoc;
use crate::workspace::{ReadNeeds, Workspace, WriteOp, WriteOutcome, Written, WsError};

#[derive(Debug)]
pub(crate) struct SnapshotWorkspace {
    /// `None` keeps the Workspace in memory only.
    path: Option<PathBuf>,
    doc: Mutex<SnapshotDoc>,
}

impl SnapshotWorkspace {
    /// Opens a snapshot file.
    pub(crate) fn open(path: &Path) -> Result<SnapshotWorkspace, String> {
        let bytes = std::fs::read(path)
            .map_err(|e| format!("cannot read the snapshot {}: {e}", path.display()))?;
        let doc = SnapshotDoc::from_json(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(SnapshotWorkspace {
            path: Some(path.to_owned()),
            doc: Mutex::new(doc),
        })
    }

    /// A Workspace held in memory, for tests.
    #[cfg(test)]
    pub(crate) fn in_memory(doc: SnapshotDoc) -> SnapshotWorkspace {
        SnapshotWorkspace {
            path: None,
            doc: Mutex::new(doc),
        }
    }

    pub(crate) fn doc(&self) -> SnapshotDoc {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SnapshotDoc> {
        // A panic elsewhere cannot leave the document half-edited: edits are checked first.
        self.doc
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Workspace for SnapshotWorkspace {
    fn describe(&self) -> String {
        match &self.path {
            Some(path) => format!("snapshot {}", path.display()),
            None => "in-memory snapshot".to_owned(),
        }
    }

    async fn read(&self, _needs: &ReadNeeds) -> Result<SnapshotDoc, WsError> {
        Ok(self.doc())
    }

    async fn write(&self, op: &WriteOp) -> Result<Written, WsError> {
        let mut doc = self.lock();
        doc.check(op).map_err(|e| WsError::local(e.0))?;
        let outcome = match op {
            WriteOp::InviteMember { .. } | WriteOp::InviteGuest { .. } => WriteOutcome::Invited {
                user_id: doc.next_user_id(),
            },
            WriteOp::CreateGroup { .. } => WriteOutcome::GroupCreated {
                group_id: uuid::Uuid::new_v4().to_string(),
            },
            _ => WriteOutcome::Done,
        };
        let mut edited = doc.clone();
        edited
            .apply(op, &outcome, crate::clock::now_ms())
            .map_err(|e| WsError::local(e.0))?;
        if let Some(path) = &self.path {
            fsutil::write_atomic(path, &edited.to_json()).map_err(|e| {
                WsError::local(format!("cannot write the snapshot {}: {e}", path.display()))
            })?;
        }
        *doc = edited;
        Ok(Written {
            outcome,
            status: None,
        })
    }
}
