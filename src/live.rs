//! The live Workspace as the plan sees it: people with their role and state, custom roles, user
//! groups and guests' shares, normalised (emails lower-case, sorted) and free of ClickUp's JSON,
//! which `wire` turns into this. No I/O here.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{BaseRole, Email, GuestPermissions, Share, UserId};

/// The Workspace as it stands, as read from ClickUp or a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Live {
    pub(crate) workspace_id: String,
    pub(crate) workspace_name: String,
    /// The user the token belongs to.
    pub(crate) me: Me,
    /// Everyone with a known role, sorted by email.
    pub(crate) people: Vec<Person>,
    /// People whose role code this tool does not know: never touched, only reported.
    pub(crate) unknown_roles: Vec<UnknownRole>,
    /// `None` when they were not read (the file names no custom role).
    pub(crate) custom_roles: Option<Vec<CustomRole>>,
    /// `None` when they were not read (the file has no `groups` key).
    pub(crate) groups: Option<Vec<LiveGroup>>,
    /// The shares of the guests that were read (those whose `access` the file manages).
    pub(crate) shares: BTreeMap<UserId, Vec<Share>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Me {
    pub(crate) id: UserId,
    pub(crate) email: Email,
}

/// One member or guest of the Workspace, or a pending invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Person {
    pub(crate) id: UserId,
    pub(crate) email: Email,
    /// ClickUp wants it back when a member's role is edited; `None` for most invitees.
    pub(crate) username: Option<String>,
    pub(crate) role: BaseRole,
    pub(crate) custom_role: Option<CustomRoleRef>,
    /// Invited but not joined yet (`date_joined` is null).
    pub(crate) pending: bool,
    /// Only for guests; all unset for members.
    pub(crate) permissions: GuestPermissions,
}

/// Someone ClickUp lists without an email or with a role this tool does not know: never
/// changed, removed or invited, only reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct UnknownRole {
    pub(crate) id: UserId,
    pub(crate) email: Option<Email>,
    /// What ClickUp's answer lacked or said that is not known ("no email", "role code 7").
    pub(crate) why: String,
}

impl UnknownRole {
    /// `a@x.example (role code 7)`, or `user 123 (no email)`.
    pub(crate) fn describe(&self) -> String {
        match &self.email {
            Some(email) => format!("{email} ({})", self.why),
            None => format!("user {} ({})", self.id, self.why),
        }
    }
}

/// A custom role as a person carries it: ClickUp may send only its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct CustomRoleRef {
    pub(crate) id: i64,
    pub(crate) name: Option<String>,
}

/// A custom role of the Workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct CustomRole {
    pub(crate) id: i64,
    pub(crate) name: String,
    /// The built-in role it extends; `None` for a code this tool does not know.
    pub(crate) inherited: Option<BaseRole>,
}

/// A user group and its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct LiveGroup {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) handle: Option<String>,
    /// Sorted by email.
    pub(crate) members: Vec<(UserId, Email)>,
}

impl Live {
    pub(crate) fn person(&self, email: &Email) -> Option<&Person> {
        self.people
            .binary_search_by(|p| p.email.cmp(email))
            .ok()
            .map(|i| &self.people[i])
    }

    pub(crate) fn owner(&self) -> Option<&Person> {
        self.people.iter().find(|p| p.role == BaseRole::Owner)
    }

    /// The custom role of this name (case-insensitive), if the roles were read.
    pub(crate) fn custom_role_named(&self, name: &str) -> Option<&CustomRole> {
        let wanted = name.to_lowercase();
        self.custom_roles
            .iter()
            .flatten()
            .find(|r| r.name.to_lowercase() == wanted)
    }

    pub(crate) fn custom_role_name(&self, role: &CustomRoleRef) -> String {
        role.name
            .clone()
            .or_else(|| {
                self.custom_roles
                    .iter()
                    .flatten()
                    .find(|r| r.id == role.id)
                    .map(|r| r.name.clone())
            })
            .unwrap_or_else(|| format!("custom role {}", role.id))
    }
}
