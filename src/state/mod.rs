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

use crate::clickup::wire::SnapshotDoc;
use crate::config::MembersFile;
use crate::live::Live;
use crate::model::{BaseRole, Email, UserId};
use crate::plan::Managed;
use crate::plan::ops::{WriteOp, WriteOutcome};

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

    /// The lineage and serial a plan records it was made against.
    pub(crate) fn reference(&self) -> crate::render::json::JsonStateRef {
        crate::render::json::JsonStateRef {
            lineage: self.lineage.clone(),
            serial: self.serial,
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

    /// Folds a successful write into the recorded Workspace and the managed people and groups.
    pub(crate) fn apply_write(&mut self, op: &WriteOp, outcome: &WriteOutcome, time_ms: u64) {
        // Who an edit or a removal is about, as the recorded Workspace names them (before the
        // write takes them out of it): the managed people are keyed by the emails it gives
        // (`refresh_managed` makes them so, and each write keeps them so), so their entry is
        // under that email or nowhere, found without a scan of 100,000 entries.
        let named = match op {
            WriteOp::EditMember { user_id, .. }
            | WriteOp::EditGuest { user_id, .. }
            | WriteOp::RemoveMember { user_id }
            | WriteOp::RemoveGuest { user_id } => self
                .snapshot
                .as_ref()
                .and_then(|doc| doc.email_of(*user_id))
                .map(Email::from_live),
            _ => None,
        };
        let named = named.as_ref();
        if let Some(doc) = &mut self.snapshot
            && let Err(e) = doc.apply(op, outcome, time_ms)
        {
            tracing::warn!("the state's copy of the Workspace could not follow a write: {e}");
        }
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
                let entry = invited(
                    *user_id,
                    self.role_label(*custom_role_id, member_base(*admin)),
                );
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
                let entry = invited(*user_id, self.role_label(*custom_role_id, BaseRole::Guest));
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
                let label = self.role_label(*custom_role_id, member_base(*admin));
                if let Some(entry) = entry_mut(&mut self.members, *user_id, named) {
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
                let label = self.role_label(Some(*id), BaseRole::Guest);
                if let Some(entry) = entry_mut(&mut self.guests, *user_id, named) {
                    entry.role = label;
                }
            }
            (WriteOp::RemoveMember { user_id } | WriteOp::RemoveGuest { user_id }, _) => {
                self.forget_person(*user_id, named);
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

    /// A role as the state records it: the custom role's name as the recorded Workspace
    /// knows it, else the built-in role's.
    fn role_label(&self, custom: Option<i64>, base: BaseRole) -> String {
        let named = custom.and_then(|id| {
            self.snapshot
                .as_ref()
                .and_then(|s| s.custom_roles.as_ref())
                .and_then(|roles| roles.iter().find(|r| r.id == id))
                .map(|r| r.name.clone())
        });
        named.unwrap_or_else(|| base.name().to_owned())
    }

    /// No longer manages the person with this id, member or guest (`named`: their email in
    /// the recorded Workspace).
    fn forget_person(&mut self, user_id: UserId, named: Option<&Email>) {
        for map in [&mut self.members, &mut self.guests] {
            if let Some(email) = key_of(map, user_id, named) {
                map.remove(&email);
            }
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
    /// file lists or the state already managed, if they are still there. Someone found
    /// pending is recorded as invited when ClickUp says (the recorded Workspace's
    /// `date_invited`), else `now`. Returns whether what is managed changed.
    pub(crate) fn refresh_managed(&mut self, file: &MembersFile, live: &Live, now: &str) -> bool {
        // Only the pending people not recorded yet need ClickUp's date: it is looked up for
        // them, not made for everyone.
        let invited_on = |id: UserId| {
            let doc = self.snapshot.as_ref()?;
            let member = &doc.team.members[doc.team.position(id)?];
            let ms = member.user.date_invited.as_deref()?.parse::<u64>().ok()?;
            Some(crate::clock::rfc3339(ms))
        };
        let listed: BTreeSet<&Email> = file.people().map(|e| &e.value).collect();
        let (mut old_members, mut old_guests) = (
            std::mem::take(&mut self.members),
            std::mem::take(&mut self.guests),
        );
        let mut changed = false;
        for person in &live.people {
            if person.role == BaseRole::Owner {
                continue;
            }
            // Each entry is taken out of the old record as it is met, so that the record is
            // never held twice; someone recorded as both is taken as the guest.
            let (was_member, was_guest) = (
                old_members.remove(&person.email),
                old_guests.remove(&person.email),
            );
            let before = was_guest.as_ref().or(was_member.as_ref());
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
                _ if person.pending => {
                    Some(invited_on(person.id).unwrap_or_else(|| now.to_owned()))
                }
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
            let (map, was, other) = if person.role == BaseRole::Guest {
                (&mut self.guests, was_guest, was_member)
            } else {
                (&mut self.members, was_member, was_guest)
            };
            changed |= was.as_ref() != Some(&entry) || other.is_some();
            map.insert(person.email.clone(), entry);
        }
        // Those left of the old record are no longer managed.
        changed |= !old_members.is_empty() || !old_guests.is_empty();
        if let (Some(groups), Some(live_groups)) = (&file.groups, &live.groups) {
            let listed: BTreeSet<String> =
                groups.iter().map(|g| g.name.value.to_lowercase()).collect();
            let previous: BTreeSet<String> = self.groups.keys().map(|n| n.to_lowercase()).collect();
            let managed: BTreeMap<String, ManagedGroup> = live_groups
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
            changed |= managed != self.groups;
            self.groups = managed;
        }
        changed
    }
}

/// The email under which `map` holds the person with id `user_id`: `named` (their email in
/// the recorded Workspace) when they are there at all; found by a scan only when the recorded
/// Workspace does not know them.
fn key_of(
    map: &BTreeMap<Email, ManagedPerson>,
    user_id: UserId,
    named: Option<&Email>,
) -> Option<Email> {
    match named {
        Some(email) => map
            .get(email)
            .filter(|p| p.user_id == user_id)
            .map(|_| email.clone()),
        None => map
            .iter()
            .find(|(_, p)| p.user_id == user_id)
            .map(|(email, _)| email.clone()),
    }
}

/// The entry of `map` of the person with id `user_id` (see [`key_of`]).
fn entry_mut<'a>(
    map: &'a mut BTreeMap<Email, ManagedPerson>,
    user_id: UserId,
    named: Option<&Email>,
) -> Option<&'a mut ManagedPerson> {
    let email = key_of(map, user_id, named)?;
    map.get_mut(&email)
}

/// The built-in role a member is invited or edited to: admin or member.
fn member_base(admin: bool) -> BaseRole {
    if admin {
        BaseRole::Admin
    } else {
        BaseRole::Member
    }
}

mod journal;
mod store;

pub(crate) use journal::{Journal, journal_path};

#[cfg(test)]
mod tests;
