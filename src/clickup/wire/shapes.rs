//! ClickUp's objects as its API v2 answers them and a snapshot keeps them: a Workspace and its
//! members, users, custom roles, user groups, subscription, seats and guests' shares. Field
//! names are ClickUp's; unknown fields are ignored and loose ones are read by `tolerant`. No
//! conversion into the model here (that is `convert`), and no I/O.

use std::collections::HashMap;
use std::sync::Arc;

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use serde_with::{DefaultOnNull, serde_as};

use super::tolerant::{CustomRoleOrId, Id, SeatCount, Text};
use crate::model::{BaseRole, Email, GuestPermissions, ShareKind};

/// A Workspace ("team" in API v2) with its members.
///
/// Each member is shared (`Arc`): a copy of the Workspace (the state's, the snapshot file's,
/// the one a plan keeps) costs a pointer a member, not the member, and an edit copies only the
/// member it changes. A user's texts are short (dates, a colour, initials, most names and
/// emails) and are held in place, not each in an allocation of its own
/// ([`CompactString`]): at 100,000 people that is 700,000 allocations fewer.
#[serde_as]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Team {
    #[serde_as(deserialize_as = "Text")]
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) color: Option<String>,
    #[serde(default)]
    pub(crate) avatar: Option<serde_json::Value>,
    #[serde(default)]
    pub(crate) members: Vec<Arc<TeamMember>>,
    #[serde(skip)]
    pub(crate) index: MemberIndex,
}

/// Two copies of one Workspace share most of their members: those are equal without a look
/// inside.
impl PartialEq for Team {
    fn eq(&self, other: &Team) -> bool {
        self.id == other.id
            && self.name == other.name
            && self.color == other.color
            && self.avatar == other.avatar
            && self.members.len() == other.members.len()
            && self
                .members
                .iter()
                .zip(&other.members)
                .all(|(a, b)| Arc::ptr_eq(a, b) || a == b)
    }
}

/// Where each member stands in `members`, by user id: built on first use, kept in step by the
/// edits, rebuilt after a clone. It is not part of the data: two teams with the same members are
/// equal whatever their indexes hold.
#[derive(Debug, Default)]
pub(crate) struct MemberIndex(std::sync::OnceLock<HashMap<i64, usize>>);

impl Clone for MemberIndex {
    fn clone(&self) -> Self {
        MemberIndex::default()
    }
}

impl PartialEq for MemberIndex {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Team {
    /// The position of user `id` in `members`.
    pub(crate) fn position(&self, id: i64) -> Option<usize> {
        self.index
            .0
            .get_or_init(|| {
                self.members
                    .iter()
                    .enumerate()
                    .map(|(i, m)| (m.user.id, i))
                    .collect()
            })
            .get(&id)
            .copied()
    }

    pub(crate) fn push(&mut self, member: TeamMember) {
        let id = member.user.id;
        self.members.push(Arc::new(member));
        if let Some(index) = self.index.0.get_mut() {
            index.insert(id, self.members.len() - 1);
        }
    }

    /// The member at `position`, to change: copied first when another copy of the Workspace
    /// shares it.
    pub(crate) fn member_mut(&mut self, position: usize) -> Option<&mut TeamMember> {
        self.members.get_mut(position).map(Arc::make_mut)
    }

    /// Removes the member at `position`; the last member takes its place.
    pub(crate) fn remove(&mut self, position: usize) {
        let removed = self.members.swap_remove(position);
        if let Some(index) = self.index.0.get_mut() {
            index.remove(&removed.user.id);
            if let Some(moved) = self.members.get(position) {
                index.insert(moved.user.id, position);
            }
        }
    }
}

/// An entry of `teams[].members[]`: the user, who invited them, and a guest's switches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct TeamMember {
    pub(crate) user: User,
    /// Boxed: it is two hundred bytes, which every member would hold whether ClickUp sends
    /// it or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) invited_by: Option<Box<InvitedBy>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) can_see_time_spent: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) can_see_time_estimated: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) can_edit_tags: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) can_create_views: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) can_see_points_estimated: Option<bool>,
}

impl TeamMember {
    pub(crate) fn permissions(&self) -> GuestPermissions {
        GuestPermissions {
            can_see_time_spent: self.can_see_time_spent,
            can_see_time_estimated: self.can_see_time_estimated,
            can_edit_tags: self.can_edit_tags,
            can_create_views: self.can_create_views,
            can_see_points_estimated: self.can_see_points_estimated,
        }
    }

    /// Lays the set flags of `permissions` over this entry's.
    pub(crate) fn set_permissions(&mut self, permissions: &GuestPermissions) {
        let merged = self.permissions().merged(permissions);
        self.can_see_time_spent = merged.can_see_time_spent;
        self.can_see_time_estimated = merged.can_see_time_estimated;
        self.can_edit_tags = merged.can_edit_tags;
        self.can_create_views = merged.can_create_views;
        self.can_see_points_estimated = merged.can_see_points_estimated;
    }
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct User {
    #[serde_as(deserialize_as = "Id")]
    pub(crate) id: i64,
    #[serde(default)]
    pub(crate) username: Option<CompactString>,
    /// Absent in some of ClickUp's own documented answers: such a member is left alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) email: Option<CompactString>,
    #[serde(default)]
    pub(crate) color: Option<CompactString>,
    #[serde(default, rename = "profilePicture")]
    pub(crate) profile_picture: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) initials: Option<CompactString>,
    /// Absent in some of ClickUp's own documented answers: such a member is left alone.
    #[serde_as(deserialize_as = "Option<Id>")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) role: Option<i64>,
    #[serde_as(deserialize_as = "Option<Id>")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) role_subtype: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) role_key: Option<CompactString>,
    #[serde_as(deserialize_as = "Option<CustomRoleOrId>")]
    #[serde(default)]
    pub(crate) custom_role: Option<CustomRoleField>,
    #[serde_as(deserialize_as = "Option<Text>")]
    #[serde(default)]
    pub(crate) last_active: Option<CompactString>,
    #[serde_as(deserialize_as = "Option<Text>")]
    #[serde(default)]
    pub(crate) date_joined: Option<CompactString>,
    #[serde_as(deserialize_as = "Option<Text>")]
    #[serde(default)]
    pub(crate) date_invited: Option<CompactString>,
}

impl User {
    /// Whether this user has `email` (case-insensitively).
    pub(crate) fn has_email(&self, email: &Email) -> bool {
        self.email.as_deref().is_some_and(|e| email.is(e))
    }

    pub(crate) fn is_guest(&self) -> bool {
        self.role == Some(BaseRole::Guest.code())
    }
}

/// `custom_role` on a user: `{id, name}` in most answers, a bare id in some.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CustomRoleField {
    pub(crate) id: i64,
    #[serde(default)]
    pub(crate) name: Option<String>,
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct InvitedBy {
    #[serde_as(deserialize_as = "Option<Id>")]
    #[serde(default)]
    pub(crate) id: Option<i64>,
    #[serde(default)]
    pub(crate) username: Option<CompactString>,
    #[serde(default)]
    pub(crate) email: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) color: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) initials: Option<CompactString>,
    #[serde(
        default,
        rename = "profilePicture",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) profile_picture: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) banned_date: Option<serde_json::Value>,
    /// `"invited"` while the invitation is pending, `"active"` once accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) status: Option<CompactString>,
}

/// An entry of `GET /team/{id}/customroles`.
#[serde_as]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CustomRole {
    #[serde_as(deserialize_as = "Id")]
    pub(crate) id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) team_id: Option<serde_json::Value>,
    pub(crate) name: String,
    #[serde_as(deserialize_as = "Id")]
    pub(crate) inherited_role: i64,
    #[serde_as(deserialize_as = "Option<Text>")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) date_created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) members: Option<Vec<serde_json::Value>>,
}

/// A user group (`GET /group?team_id=`).
#[serde_as]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Group {
    #[serde_as(deserialize_as = "Text")]
    pub(crate) id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) team_id: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) userid: Option<serde_json::Value>,
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) handle: Option<String>,
    #[serde_as(deserialize_as = "Option<Text>")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) date_created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) initials: Option<String>,
    #[serde_as(deserialize_as = "DefaultOnNull")]
    #[serde(default)]
    pub(crate) members: Vec<GroupMember>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) avatar: Option<serde_json::Value>,
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct GroupMember {
    #[serde_as(deserialize_as = "Id")]
    pub(crate) id: i64,
    #[serde(default)]
    pub(crate) username: Option<String>,
    #[serde(default)]
    pub(crate) email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) initials: Option<String>,
    #[serde(default, rename = "profilePicture")]
    pub(crate) profile_picture: Option<String>,
}

/// `GET /team/{id}/plan`: the Workspace's subscription, e.g. `{"plan_name": "Enterprise",
/// "plan_id": 4}`.
#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WorkspacePlan {
    #[serde(default)]
    pub(crate) plan_name: Option<String>,
    #[serde_as(deserialize_as = "Option<Id>")]
    #[serde(default)]
    pub(crate) plan_id: Option<i64>,
}

impl WorkspacePlan {
    /// ClickUp's membership endpoints answer `TEAM_110` on every plan but Enterprise
    /// (reference §11: branch on the name; the id mapping is not documented). A name that
    /// says Enterprise in any form counts, so that a renamed tier never blocks a Workspace
    /// that can take the writes; `TEAM_110` is still handled when one cannot.
    pub(crate) fn is_enterprise(&self) -> bool {
        self.plan_name
            .as_deref()
            .is_some_and(|n| n.to_ascii_lowercase().contains("enterprise"))
    }
}

/// `GET /team/{id}/seats`, with ClickUp's uneven key names kept as they are. A count is 0 or
/// more: an answer with a negative one cannot be read (and the seats are then unknown), for
/// neither the plan's seats nor `policy.seats` can be worked out from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Seats {
    pub(crate) members: MemberSeats,
    pub(crate) guests: GuestSeats,
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MemberSeats {
    #[serde_as(deserialize_as = "SeatCount")]
    pub(crate) filled_members_seats: i64,
    #[serde_as(deserialize_as = "SeatCount")]
    pub(crate) total_member_seats: i64,
    #[serde_as(deserialize_as = "Option<SeatCount>")]
    #[serde(default)]
    pub(crate) empty_member_seats: Option<i64>,
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GuestSeats {
    #[serde_as(deserialize_as = "SeatCount")]
    pub(crate) filled_guest_seats: i64,
    #[serde_as(deserialize_as = "SeatCount")]
    pub(crate) total_guest_seats: i64,
    #[serde_as(deserialize_as = "Option<SeatCount>")]
    #[serde(default)]
    pub(crate) empty_guest_seats: Option<i64>,
}

/// The token's user (`GET /user`).
#[serde_as]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Me {
    #[serde_as(deserialize_as = "Id")]
    pub(crate) id: i64,
    pub(crate) email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) username: Option<String>,
}

/// A guest with what is shared with them (`GET /team/{id}/guest/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct GuestDetail {
    pub(crate) user: GuestUser,
    #[serde(default)]
    pub(crate) shared: GuestShares,
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct GuestUser {
    #[serde_as(deserialize_as = "Id")]
    pub(crate) id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) email: Option<String>,
}

/// What is shared with a guest (`shared` of ClickUp's guest object): tasks, lists, folders.
#[serde_as]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub(crate) struct GuestShares {
    #[serde_as(deserialize_as = "DefaultOnNull")]
    #[serde(default)]
    pub(crate) tasks: Vec<SharedItem>,
    #[serde_as(deserialize_as = "DefaultOnNull")]
    #[serde(default)]
    pub(crate) lists: Vec<SharedItem>,
    #[serde_as(deserialize_as = "DefaultOnNull")]
    #[serde(default)]
    pub(crate) folders: Vec<SharedItem>,
}

/// A shared folder, list or task: an object with `id` and `permission_level`, or a bare id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct SharedItem {
    pub(crate) id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) permission_level: Option<String>,
}

impl GuestShares {
    pub(crate) fn items_mut(&mut self, kind: ShareKind) -> &mut Vec<SharedItem> {
        match kind {
            ShareKind::Folder => &mut self.folders,
            ShareKind::List => &mut self.lists,
            ShareKind::Task => &mut self.tasks,
        }
    }

    pub(super) fn items(&self, kind: ShareKind) -> &[SharedItem] {
        match kind {
            ShareKind::Folder => &self.folders,
            ShareKind::List => &self.lists,
            ShareKind::Task => &self.tasks,
        }
    }
}
