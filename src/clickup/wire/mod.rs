//! ClickUp's own JSON shapes (API v2), parsed tolerantly, and the snapshot file built from them
//! (SPEC §4). Only this module knows ClickUp's field names: unknown fields are ignored,
//! `custom_role` may be null, an object or an integer, ids and timestamps may come as strings or
//! numbers, `username` may be null. [`SnapshotDoc::to_live`] turns it into the core model.

pub(crate) mod api;
mod edit;
pub(crate) mod routes;

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::live::{self, Live};
use crate::model::{
    BaseRole, Email, GuestPermissions, Share, ShareKind, SharePermission, ShareTarget,
};

/// A saved Workspace: what `GET /team`, `/customroles`, `/group` and `/user` answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SnapshotDoc {
    pub(crate) team: Team,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) custom_roles: Option<Vec<CustomRole>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) groups: Option<Vec<Group>>,
    pub(crate) me: Me,
    /// `GET /team/{id}/guest/{id}` answers (the `guest` object) for guests whose shares are read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) guests: Vec<GuestDetail>,
    /// `GET /team/{id}/plan`, when it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) plan: Option<WorkspacePlan>,
    /// `GET /team/{id}/seats`, when it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) seats: Option<Seats>,
}

/// A Workspace ("team" in API v2) with its members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Team {
    #[serde(deserialize_with = "string_or_number")]
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) color: Option<String>,
    #[serde(default)]
    pub(crate) avatar: Option<serde_json::Value>,
    #[serde(default)]
    pub(crate) members: Vec<TeamMember>,
    #[serde(skip)]
    pub(crate) index: MemberIndex,
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
        self.members.push(member);
        if let Some(index) = self.index.0.get_mut() {
            index.insert(id, self.members.len() - 1);
        }
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) invited_by: Option<InvitedBy>,
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct User {
    #[serde(deserialize_with = "int_or_string")]
    pub(crate) id: i64,
    #[serde(default)]
    pub(crate) username: Option<String>,
    /// Absent in some of ClickUp's own documented answers: such a member is left alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) email: Option<String>,
    #[serde(default)]
    pub(crate) color: Option<String>,
    #[serde(default, rename = "profilePicture")]
    pub(crate) profile_picture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) initials: Option<String>,
    /// Absent in some of ClickUp's own documented answers: such a member is left alone.
    #[serde(
        default,
        deserialize_with = "opt_int_or_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) role: Option<i64>,
    #[serde(
        default,
        deserialize_with = "opt_int_or_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) role_subtype: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) role_key: Option<String>,
    #[serde(default, deserialize_with = "custom_role_field")]
    pub(crate) custom_role: Option<CustomRoleField>,
    #[serde(default, deserialize_with = "timestamp")]
    pub(crate) last_active: Option<String>,
    #[serde(default, deserialize_with = "timestamp")]
    pub(crate) date_joined: Option<String>,
    #[serde(default, deserialize_with = "timestamp")]
    pub(crate) date_invited: Option<String>,
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct InvitedBy {
    #[serde(default, deserialize_with = "opt_int_or_string")]
    pub(crate) id: Option<i64>,
    #[serde(default)]
    pub(crate) username: Option<String>,
    #[serde(default)]
    pub(crate) email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) initials: Option<String>,
    #[serde(
        default,
        rename = "profilePicture",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) profile_picture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) banned_date: Option<serde_json::Value>,
    /// `"invited"` while the invitation is pending, `"active"` once accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) status: Option<String>,
}

/// An entry of `GET /team/{id}/customroles`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CustomRole {
    #[serde(deserialize_with = "int_or_string")]
    pub(crate) id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) team_id: Option<serde_json::Value>,
    pub(crate) name: String,
    #[serde(deserialize_with = "int_or_string")]
    pub(crate) inherited_role: i64,
    #[serde(
        default,
        deserialize_with = "timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) date_created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) members: Option<Vec<serde_json::Value>>,
}

/// A user group (`GET /group?team_id=`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Group {
    #[serde(deserialize_with = "string_or_number")]
    pub(crate) id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) team_id: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) userid: Option<serde_json::Value>,
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) handle: Option<String>,
    #[serde(
        default,
        deserialize_with = "timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) date_created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) initials: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub(crate) members: Vec<GroupMember>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) avatar: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct GroupMember {
    #[serde(deserialize_with = "int_or_string")]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WorkspacePlan {
    #[serde(default)]
    pub(crate) plan_name: Option<String>,
    #[serde(default, deserialize_with = "opt_int_or_string")]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MemberSeats {
    #[serde(deserialize_with = "seat_count")]
    pub(crate) filled_members_seats: i64,
    #[serde(deserialize_with = "seat_count")]
    pub(crate) total_member_seats: i64,
    #[serde(default, deserialize_with = "opt_seat_count")]
    pub(crate) empty_member_seats: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GuestSeats {
    #[serde(deserialize_with = "seat_count")]
    pub(crate) filled_guest_seats: i64,
    #[serde(deserialize_with = "seat_count")]
    pub(crate) total_guest_seats: i64,
    #[serde(default, deserialize_with = "opt_seat_count")]
    pub(crate) empty_guest_seats: Option<i64>,
}

/// The token's user (`GET /user`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Me {
    #[serde(deserialize_with = "int_or_string")]
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
    pub(crate) shared: Shared,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct GuestUser {
    #[serde(deserialize_with = "int_or_string")]
    pub(crate) id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub(crate) struct Shared {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub(crate) tasks: Vec<SharedItem>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub(crate) lists: Vec<SharedItem>,
    #[serde(default, deserialize_with = "null_as_empty")]
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

impl Shared {
    pub(crate) fn items_mut(&mut self, kind: ShareKind) -> &mut Vec<SharedItem> {
        match kind {
            ShareKind::Folder => &mut self.folders,
            ShareKind::List => &mut self.lists,
            ShareKind::Task => &mut self.tasks,
        }
    }

    fn items(&self, kind: ShareKind) -> &[SharedItem] {
        match kind {
            ShareKind::Folder => &self.folders,
            ShareKind::List => &self.lists,
            ShareKind::Task => &self.tasks,
        }
    }

    /// The shares, sorted. An item without a known permission level reads as `read`.
    pub(crate) fn shares(&self) -> Vec<Share> {
        let mut shares: Vec<Share> = ShareKind::ALL
            .into_iter()
            .flat_map(|kind| {
                self.items(kind).iter().map(move |item| Share {
                    target: ShareTarget {
                        kind,
                        id: item.id.clone(),
                    },
                    permission: item
                        .permission_level
                        .as_deref()
                        .and_then(SharePermission::from_key)
                        .unwrap_or(SharePermission::Read),
                })
            })
            .collect();
        shares.sort();
        shares
    }
}

/// Why a snapshot or an answer could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WireError(pub(crate) String);

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl SnapshotDoc {
    /// Reads a snapshot file's JSON.
    pub(crate) fn from_json(bytes: &[u8]) -> Result<SnapshotDoc, WireError> {
        serde_json::from_slice(bytes).map_err(|e| snapshot_error(&e))
    }

    pub(crate) fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// The core model of this Workspace.
    pub(crate) fn to_live(&self) -> Live {
        self.clone().into_live()
    }

    /// The core model of this Workspace, taking the snapshot apart (no copy of its text).
    pub(crate) fn into_live(self) -> Live {
        let SnapshotDoc {
            team,
            custom_roles,
            groups,
            me,
            guests,
            plan: _,
            seats: _,
        } = self;
        let mut people = People::default();
        people.people.reserve(team.members.len());
        for member in team.members {
            people.push(member);
        }
        people.into_live(team.id, team.name, custom_roles, groups, me, &guests)
    }

    /// The core model of a snapshot file's JSON, with the subscription and seats it records,
    /// built as the members are read: neither the file's text nor ClickUp's shapes of 100,000
    /// people are ever all held.
    pub(crate) fn live_from_reader(reader: impl std::io::Read) -> Result<LiveRead, WireError> {
        let doc: LiveDoc = serde_json::from_reader(reader).map_err(|e| {
            if e.is_io() {
                WireError(format!("cannot read it: {e}"))
            } else {
                snapshot_error(&e)
            }
        })?;
        Ok(doc.into_read())
    }
}

/// A snapshot as the model needs it.
#[derive(Deserialize)]
struct LiveDoc {
    team: LiveTeam,
    #[serde(default)]
    custom_roles: Option<Vec<CustomRole>>,
    #[serde(default)]
    groups: Option<Vec<Group>>,
    me: Me,
    #[serde(default)]
    guests: Vec<GuestDetail>,
    #[serde(default)]
    plan: Option<WorkspacePlan>,
    #[serde(default)]
    seats: Option<Seats>,
}

#[derive(Deserialize)]
struct LiveTeam {
    #[serde(deserialize_with = "string_or_number")]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    members: People,
}

impl LiveDoc {
    fn into_read(self) -> LiveRead {
        let LiveDoc {
            team,
            custom_roles,
            groups,
            me,
            guests,
            plan,
            seats,
        } = self;
        let live = team
            .members
            .into_live(team.id, team.name, custom_roles, groups, me, &guests);
        LiveRead { live, plan, seats }
    }
}

/// A Workspace read straight into the model, with what it records of its subscription.
#[derive(Debug)]
pub(crate) struct LiveRead {
    pub(crate) live: Live,
    pub(crate) plan: Option<WorkspacePlan>,
    pub(crate) seats: Option<Seats>,
}

/// `teams[].members[]` as the model's people, each converted as it is read.
#[derive(Debug, Default)]
struct People {
    people: Vec<live::Person>,
    unknown: Vec<live::UnknownRole>,
}

impl People {
    fn push(&mut self, member: TeamMember) {
        let permissions = member.permissions();
        let active = member.invited_by.as_ref().and_then(|i| i.status.as_deref()) == Some("active");
        let user = member.user;
        let role = match known_role(&user) {
            Ok(role) => role,
            Err(why) => {
                self.unknown.push(live::UnknownRole {
                    id: user.id,
                    email: user.email.map(Email::from_live_owned),
                    why: why.to_string(),
                });
                return;
            }
        };
        self.people.push(live::Person {
            id: user.id,
            email: Email::from_live_owned(user.email.unwrap_or_default()),
            username: user.username,
            role,
            custom_role: user.custom_role.map(|c| live::CustomRoleRef {
                id: c.id,
                name: c.name,
            }),
            pending: user.date_joined.is_none() && !active,
            permissions: if role == BaseRole::Guest {
                permissions
            } else {
                GuestPermissions::default()
            },
        });
    }

    fn into_live(
        self,
        workspace_id: String,
        workspace_name: String,
        custom_roles: Option<Vec<CustomRole>>,
        groups: Option<Vec<Group>>,
        me: Me,
        guests: &[GuestDetail],
    ) -> Live {
        let People {
            mut people,
            unknown: mut unknown_roles,
        } = self;
        people.sort_unstable_by(|a, b| a.email.cmp(&b.email).then(a.id.cmp(&b.id)));
        people.dedup_by(|b, a| a.email == b.email);
        unknown_roles.sort_by(|a, b| a.email.cmp(&b.email).then(a.id.cmp(&b.id)));

        let custom_roles = custom_roles.map(|roles| {
            let mut roles: Vec<live::CustomRole> = roles
                .into_iter()
                .map(|r| live::CustomRole {
                    id: r.id,
                    inherited: BaseRole::from_code(r.inherited_role),
                    name: r.name,
                })
                .collect();
            roles.sort_by_key(|r| r.id);
            roles
        });
        let groups = groups.map(|groups| {
            let mut groups: Vec<live::LiveGroup> = groups
                .into_iter()
                .map(|g| {
                    let mut members: Vec<_> = g
                        .members
                        .into_iter()
                        .map(|m| (m.id, Email::from_live_owned(m.email)))
                        .collect();
                    members.sort_unstable_by(|a, b| a.1.cmp(&b.1));
                    live::LiveGroup {
                        id: g.id,
                        name: g.name,
                        handle: g.handle.filter(|h| !h.is_empty()),
                        members,
                    }
                })
                .collect();
            groups.sort_by_key(|g| g.name.to_lowercase());
            groups
        });
        let shares: BTreeMap<_, _> = guests
            .iter()
            .map(|g| (g.user.id, g.shared.shares()))
            .collect();
        Live {
            workspace_id,
            workspace_name,
            me: live::Me {
                id: me.id,
                email: Email::from_live_owned(me.email),
            },
            people,
            unknown_roles,
            custom_roles,
            groups,
            shares,
            index: Default::default(),
        }
    }
}

impl<'de> Deserialize<'de> for People {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> Visitor<'de> for Members {
            type Value = People;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of members")
            }

            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<People, A::Error> {
                let mut people = People::default();
                people.people.reserve(seq.size_hint().unwrap_or(0));
                while let Some(member) = seq.next_element::<TeamMember>()? {
                    people.push(member);
                }
                Ok(people)
            }
        }
        d.deserialize_seq(Members)
    }
}

/// The role and email of a member, or why this tool cannot tell them: no email, no role, a
/// role code it does not know, or a guest whose `role_subtype` is not the documented one (2).
fn known_role(user: &User) -> Result<BaseRole, Unknown> {
    if user.email.as_deref().is_none_or(|e| e.trim().is_empty()) {
        return Err(Unknown::NoEmail);
    }
    let Some(code) = user.role else {
        return Err(Unknown::NoRole);
    };
    let Some(role) = BaseRole::from_code(code) else {
        return Err(Unknown::Role(code));
    };
    if role == BaseRole::Guest
        && let Some(subtype) = user.role_subtype.filter(|s| *s != 2)
    {
        return Err(Unknown::GuestSubtype(subtype));
    }
    Ok(role)
}

/// Why a member of ClickUp's answer is not one this tool can manage.
#[derive(Debug, thiserror::Error)]
enum Unknown {
    #[error("no email in ClickUp's answer")]
    NoEmail,
    #[error("no role in ClickUp's answer")]
    NoRole,
    #[error("role code {0}, which ClickUp does not document")]
    Role(i64),
    #[error(
        "role 4 with role_subtype {0}: not the guest ClickUp documents (2), perhaps a limited member"
    )]
    GuestSubtype(i64),
}

/// Why a snapshot file could not be read, with its line and column.
fn snapshot_error(e: &serde_json::Error) -> WireError {
    WireError(format!(
        "not a snapshot of a ClickUp Workspace (line {}, column {}): {}",
        e.line(),
        e.column(),
        strip_position(&e.to_string())
    ))
}

/// serde_json appends " at line X column Y"; the caller says it already.
fn strip_position(message: &str) -> &str {
    message.rsplit_once(" at line ").map_or(message, |(m, _)| m)
}

// ---- tolerant field parsers -------------------------------------------------------------

fn int_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    d.deserialize_any(IntVisitor)
}

fn opt_int_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    d.deserialize_any(OptVisitor(IntVisitor))
}

/// A count of seats: a whole number, 0 or more.
fn seat_count<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let n = int_or_string(d)?;
    if n < 0 {
        return Err(de::Error::custom(format!(
            "a seat count is 0 or more, not {n}"
        )));
    }
    Ok(n)
}

fn opt_seat_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match opt_int_or_string(d)? {
        Some(n) if n < 0 => Err(de::Error::custom(format!(
            "a seat count is 0 or more, not {n}"
        ))),
        other => Ok(other),
    }
}

struct IntVisitor;

impl Visitor<'_> for IntVisitor {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer id")
    }

    fn visit_i64<E>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::custom("id out of range"))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        if v.fract() == 0.0 && v.abs() < 9.0e15 {
            #[allow(clippy::cast_possible_truncation)]
            Ok(v as i64)
        } else {
            Err(E::custom("id is not a whole number"))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        v.trim()
            .parse()
            .map_err(|_| E::custom(format!("\"{v}\" is not a numeric id")))
    }
}

/// Accepts `null` (and absence, with `#[serde(default)]`) around another visitor.
struct OptVisitor<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for OptVisitor<V> {
    type Value = Option<V::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)?;
        f.write_str(" or null")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self.0).map(Some)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.0.visit_i64(v).map(Some)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.0.visit_u64(v).map(Some)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        self.0.visit_f64(v).map(Some)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        self.0.visit_str(v).map(Some)
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.visit_map(map).map(Some)
    }
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(TextVisitor)
}

/// Timestamps are strings of milliseconds in ClickUp's answers; numbers are accepted too.
fn timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_any(OptVisitor(TextVisitor))
}

struct TextVisitor;

impl Visitor<'_> for TextVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a number")
    }

    fn visit_str<E>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_i64<E>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_f64<E>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
}

fn custom_role_field<'de, D: Deserializer<'de>>(d: D) -> Result<Option<CustomRoleField>, D::Error> {
    d.deserialize_any(OptVisitor(CustomRoleVisitor))
}

struct CustomRoleVisitor;

impl<'de> Visitor<'de> for CustomRoleVisitor {
    type Value = CustomRoleField;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a custom role: {id, name} or an id")
    }

    fn visit_i64<E>(self, v: i64) -> Result<CustomRoleField, E> {
        Ok(CustomRoleField { id: v, name: None })
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<CustomRoleField, E> {
        IntVisitor
            .visit_u64(v)
            .map(|id| CustomRoleField { id, name: None })
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<CustomRoleField, E> {
        IntVisitor
            .visit_str(v)
            .map(|id| CustomRoleField { id, name: None })
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<CustomRoleField, A::Error> {
        #[derive(Deserialize)]
        struct Obj {
            #[serde(deserialize_with = "int_or_string")]
            id: i64,
            #[serde(default)]
            name: Option<String>,
        }
        let obj = Obj::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(CustomRoleField {
            id: obj.id,
            name: obj.name,
        })
    }
}

/// A share's `permission_level`: `"read"`, `"comment"`, `"edit"`, `"create"`, or the number
/// ClickUp's v3 access API uses for each (1, 3, 4, 5). Another number is an error that names it.
fn permission_level<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let Some(level) = d.deserialize_any(OptVisitor(TextVisitor))? else {
        return Ok(None);
    };
    if !level.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Some(level));
    }
    let key = match level.as_str() {
        "1" => "read",
        "3" => "comment",
        "4" => "edit",
        "5" => "create",
        other => {
            return Err(de::Error::custom(format!(
                "permission_level {other} is none of 1 (read), 3 (comment), 4 (edit), 5 (create)"
            )));
        }
    };
    Ok(Some(key.to_owned()))
}

fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

impl<'de> Deserialize<'de> for SharedItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ItemVisitor;
        impl<'de> Visitor<'de> for ItemVisitor {
            type Value = SharedItem;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a shared item: {id, permission_level} or an id")
            }

            fn visit_str<E>(self, v: &str) -> Result<SharedItem, E> {
                Ok(SharedItem {
                    id: v.to_owned(),
                    name: None,
                    permission_level: None,
                })
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<SharedItem, E> {
                self.visit_str(&v.to_string())
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<SharedItem, E> {
                self.visit_str(&v.to_string())
            }

            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<SharedItem, A::Error> {
                #[derive(Deserialize)]
                struct Obj {
                    #[serde(deserialize_with = "string_or_number")]
                    id: String,
                    #[serde(default)]
                    name: Option<String>,
                    #[serde(default, deserialize_with = "permission_level")]
                    permission_level: Option<String>,
                }
                let obj = Obj::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(SharedItem {
                    id: obj.id,
                    name: obj.name,
                    permission_level: obj.permission_level,
                })
            }
        }
        d.deserialize_any(ItemVisitor)
    }
}

#[cfg(test)]
mod tests;
