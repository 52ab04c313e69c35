//! A write applied to a snapshot the way ClickUp applies it: an invitee appears as a pending
//! member (`date_joined: null`) with a new id, a removed person leaves every group, a guest's
//! shares follow adds and removes. Used by the snapshot backend and to keep the state's copy
//! of the Workspace current. Pure: the caller supplies new ids and the time.

use std::fmt;

use crate::clickup::wire::{
    CustomRoleField, Group, GroupMember, GuestDetail, GuestUser, InvitedBy, SharedItem,
    SnapshotDoc, TeamMember, User,
};
use crate::model::{BaseRole, Email, GuestPermissions, Share, ShareTarget, UserId};
use crate::plan::ops::{WriteOp, WriteOutcome};

/// A write that cannot apply to this snapshot (what ClickUp would answer with a 4xx).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EditError(pub(crate) String);

impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl SnapshotDoc {
    /// The id ClickUp would give the next invitee here: above every id in the snapshot.
    pub(crate) fn next_user_id(&self) -> UserId {
        self.team
            .members
            .iter()
            .map(|m| m.user.id)
            .chain(std::iter::once(self.me.id))
            .max()
            .unwrap_or(0)
            + 1
    }

    /// Checks that `op` can apply here, without changing anything. (That an invitee is not
    /// in the Workspace yet is for the caller to know: it is a scan of every member.)
    pub(crate) fn check(&self, op: &WriteOp) -> Result<(), EditError> {
        let user_exists = |id: UserId| {
            self.member_index(id)
                .map(|_| ())
                .ok_or_else(|| EditError(format!("there is no user {id} in the Workspace")))
        };
        match op {
            WriteOp::InviteMember { custom_role_id, .. }
            | WriteOp::InviteGuest { custom_role_id, .. } => {
                self.custom_role(*custom_role_id).map(|_| ())
            }
            WriteOp::EditMember {
                user_id,
                custom_role_id,
                ..
            }
            | WriteOp::EditGuest {
                user_id,
                custom_role_id,
                ..
            } => {
                user_exists(*user_id)?;
                self.custom_role(*custom_role_id).map(|_| ())
            }
            WriteOp::RemoveMember { user_id }
            | WriteOp::RemoveGuest { user_id }
            | WriteOp::AddShare {
                guest_id: user_id, ..
            }
            | WriteOp::RemoveShare {
                guest_id: user_id, ..
            } => user_exists(*user_id),
            WriteOp::CreateGroup { member_ids, .. } => {
                member_ids.iter().try_for_each(|id| user_exists(*id))
            }
            WriteOp::UpdateGroup { group_id, add, .. } => {
                self.group_index(group_id)?;
                add.iter().try_for_each(|id| user_exists(*id))
            }
            WriteOp::DeleteGroup { group_id } => self.group_index(group_id).map(|_| ()),
        }
    }

    /// Applies a write that ClickUp accepted. `outcome` carries the ids ClickUp gave;
    /// `now_ms` stamps invitations.
    pub(crate) fn apply(
        &mut self,
        op: &WriteOp,
        outcome: &WriteOutcome,
        now_ms: u64,
    ) -> Result<(), EditError> {
        self.check(op)?;
        match op {
            WriteOp::InviteMember {
                email,
                admin,
                custom_role_id,
            } => {
                let invitee = Invitee {
                    email,
                    role: member_role(*admin),
                    custom_role_id: *custom_role_id,
                    permissions: None,
                };
                self.invite(&invitee, outcome, now_ms)
            }
            WriteOp::InviteGuest {
                email,
                permissions,
                custom_role_id,
            } => {
                let invitee = Invitee {
                    email,
                    role: BaseRole::Guest,
                    custom_role_id: *custom_role_id,
                    permissions: Some(permissions),
                };
                self.invite(&invitee, outcome, now_ms)
            }
            WriteOp::EditMember {
                user_id,
                admin,
                custom_role_id,
                ..
            } => self.edit_member(*user_id, *admin, *custom_role_id),
            WriteOp::EditGuest {
                user_id,
                permissions,
                custom_role_id,
            } => self.edit_guest(*user_id, permissions, *custom_role_id),
            WriteOp::RemoveMember { user_id } | WriteOp::RemoveGuest { user_id } => {
                self.remove_person(*user_id)
            }
            WriteOp::AddShare { guest_id, share } => self.add_share(*guest_id, share),
            WriteOp::RemoveShare { guest_id, target } => self.remove_share(*guest_id, target),
            WriteOp::CreateGroup {
                name,
                handle,
                member_ids,
            } => self.create_group(name, handle.as_deref(), member_ids, outcome, now_ms),
            WriteOp::UpdateGroup {
                group_id,
                handle,
                add,
                remove,
            } => self.update_group(group_id, handle.as_deref(), add, remove),
            WriteOp::DeleteGroup { group_id } => self.delete_group(group_id),
        }
    }

    /// A member or a guest invited: pending, with the id ClickUp gave, taking a seat.
    fn invite(
        &mut self,
        invitee: &Invitee<'_>,
        outcome: &WriteOutcome,
        now_ms: u64,
    ) -> Result<(), EditError> {
        let id = invited_id(outcome)?;
        let mut member = self.new_member(
            id,
            invitee.email,
            invitee.role,
            invitee.custom_role_id,
            now_ms,
        )?;
        if let Some(permissions) = invitee.permissions {
            member.set_permissions(permissions);
        }
        self.team.push(member);
        self.take_seat(invitee.role == BaseRole::Guest, 1);
        Ok(())
    }

    /// A member's role (and custom role, or none) changed.
    fn edit_member(
        &mut self,
        user_id: UserId,
        admin: bool,
        custom_role_id: Option<i64>,
    ) -> Result<(), EditError> {
        let custom = self.custom_role(custom_role_id)?;
        let member = self.member_mut(user_id)?;
        let role = member_role(admin);
        member.user.role = Some(role.code());
        member.user.role_key = Some(role.name().into());
        member.user.custom_role = custom;
        Ok(())
    }

    /// A guest's permissions laid over theirs; a custom role set when one is named.
    fn edit_guest(
        &mut self,
        user_id: UserId,
        permissions: &GuestPermissions,
        custom_role_id: Option<i64>,
    ) -> Result<(), EditError> {
        let custom = self.custom_role(custom_role_id)?;
        let member = self.member_mut(user_id)?;
        member.set_permissions(permissions);
        if custom.is_some() {
            member.user.custom_role = custom;
        }
        Ok(())
    }

    /// A member or guest removed: their seat given back, gone from every group, their shares
    /// forgotten.
    fn remove_person(&mut self, user_id: UserId) -> Result<(), EditError> {
        let index = self.member_index(user_id).ok_or_else(|| no_user(user_id))?;
        let guest = self.team.members[index].user.is_guest();
        self.team.remove(index);
        self.take_seat(guest, -1);
        for group in self.groups.iter_mut().flatten() {
            group.members.retain(|m| m.id != user_id);
        }
        self.guests.retain(|g| g.user.id != user_id);
        Ok(())
    }

    /// A share with a guest, replacing any of the same target.
    fn add_share(&mut self, guest_id: UserId, share: &Share) -> Result<(), EditError> {
        let detail = self.guest_detail_mut(guest_id)?;
        let items = detail.shared.items_mut(share.target.kind);
        items.retain(|i| i.id != share.target.id);
        items.push(SharedItem {
            id: share.target.id.clone(),
            name: None,
            permission_level: Some(share.permission.key().to_owned()),
        });
        Ok(())
    }

    fn remove_share(&mut self, guest_id: UserId, target: &ShareTarget) -> Result<(), EditError> {
        let detail = self.guest_detail_mut(guest_id)?;
        detail
            .shared
            .items_mut(target.kind)
            .retain(|i| i.id != target.id);
        Ok(())
    }

    /// A user group created with the id ClickUp gave, made by the token's user.
    fn create_group(
        &mut self,
        name: &str,
        handle: Option<&str>,
        member_ids: &[UserId],
        outcome: &WriteOutcome,
        now_ms: u64,
    ) -> Result<(), EditError> {
        let WriteOutcome::GroupCreated { group_id } = outcome else {
            return Err(EditError("a created group needs its new id".to_owned()));
        };
        let members = member_ids
            .iter()
            .map(|id| self.group_member(*id))
            .collect::<Result<Vec<_>, _>>()?;
        self.groups.get_or_insert_with(Vec::new).push(Group {
            id: group_id.clone(),
            team_id: Some(serde_json::Value::String(self.team.id.clone())),
            userid: Some(serde_json::Value::from(self.me.id)),
            name: name.to_owned(),
            handle: handle.map(str::to_owned),
            date_created: Some(now_ms.to_string()),
            initials: Some(initials(name)),
            members,
            avatar: None,
        });
        Ok(())
    }

    /// A user group's handle set (when given) and its members added and removed.
    fn update_group(
        &mut self,
        group_id: &str,
        handle: Option<&str>,
        add: &[UserId],
        remove: &[UserId],
    ) -> Result<(), EditError> {
        let added = add
            .iter()
            .map(|id| self.group_member(*id))
            .collect::<Result<Vec<_>, _>>()?;
        let index = self.group_index(group_id)?;
        let groups = self.groups.get_or_insert_with(Vec::new);
        let group = &mut groups[index];
        if let Some(handle) = handle {
            group.handle = Some(handle.to_owned());
        }
        group.members.retain(|m| !remove.contains(&m.id));
        for member in added {
            if !group.members.iter().any(|m| m.id == member.id) {
                group.members.push(member);
            }
        }
        Ok(())
    }

    fn delete_group(&mut self, group_id: &str) -> Result<(), EditError> {
        let index = self.group_index(group_id)?;
        if let Some(groups) = &mut self.groups {
            groups.remove(index);
        }
        Ok(())
    }

    /// Whether an invitation of a guest (or of a member) finds a free seat in the seats this
    /// snapshot records; with none recorded, it is taken to.
    pub(crate) fn seat_free(&self, guest: bool) -> Result<(), EditError> {
        let Some(seats) = &self.seats else {
            return Ok(());
        };
        let (kind, used, total) = if guest {
            (
                "guest",
                seats.guests.filled_guest_seats,
                seats.guests.total_guest_seats,
            )
        } else {
            (
                "member",
                seats.members.filled_members_seats,
                seats.members.total_member_seats,
            )
        };
        if used < total {
            Ok(())
        } else {
            Err(EditError(format!(
                "the Workspace has no free {kind} seat ({used} of {total} used): buy more seats in ClickUp, or remove someone from the file"
            )))
        }
    }

    /// Counts a seat of a guest (or of a member) taken (`by` 1) or given back (-1) in the seats
    /// this snapshot records, so that they stay true as writes apply.
    fn take_seat(&mut self, guest: bool, by: i64) {
        let Some(seats) = &mut self.seats else {
            return;
        };
        let (used, total, empty) = if guest {
            let g = &mut seats.guests;
            (
                &mut g.filled_guest_seats,
                g.total_guest_seats,
                &mut g.empty_guest_seats,
            )
        } else {
            let m = &mut seats.members;
            (
                &mut m.filled_members_seats,
                m.total_member_seats,
                &mut m.empty_member_seats,
            )
        };
        *used = (*used + by).max(0);
        if let Some(empty) = empty {
            *empty = (total - *used).max(0);
        }
    }

    fn member_index(&self, id: UserId) -> Option<usize> {
        self.team.position(id)
    }

    /// The email of a user, by id.
    pub(crate) fn email_of(&self, id: UserId) -> Option<&str> {
        self.member_index(id)
            .and_then(|i| self.team.members[i].user.email.as_deref())
    }

    fn member_mut(&mut self, id: UserId) -> Result<&mut TeamMember, EditError> {
        let index = self.member_index(id).ok_or_else(|| no_user(id))?;
        self.team.member_mut(index).ok_or_else(|| no_user(id))
    }

    fn group_index(&self, group_id: &str) -> Result<usize, EditError> {
        self.groups
            .iter()
            .flatten()
            .position(|g| g.id == group_id)
            .ok_or_else(|| EditError(format!("there is no user group {group_id}")))
    }

    fn custom_role(&self, id: Option<i64>) -> Result<Option<CustomRoleField>, EditError> {
        let Some(id) = id else {
            return Ok(None);
        };
        let known = self.custom_roles.iter().flatten().find(|r| r.id == id);
        match (known, &self.custom_roles) {
            (Some(role), _) => Ok(Some(CustomRoleField {
                id,
                name: Some(role.name.clone()),
            })),
            // Roles that were not read are taken on trust.
            (None, None) => Ok(Some(CustomRoleField { id, name: None })),
            (None, Some(_)) => Err(EditError(format!("there is no custom role {id}"))),
        }
    }

    fn new_member(
        &self,
        id: UserId,
        email: &Email,
        role: BaseRole,
        custom_role_id: Option<i64>,
        now_ms: u64,
    ) -> Result<TeamMember, EditError> {
        let custom_role = self.custom_role(custom_role_id)?;
        let inviter = self
            .member_index(self.me.id)
            .map(|i| &self.team.members[i].user);
        Ok(TeamMember {
            user: User {
                id,
                username: None,
                email: Some(email.as_str().into()),
                color: None,
                profile_picture: None,
                initials: Some(initials(email.as_str()).into()),
                role: Some(role.code()),
                role_subtype: Some(if role == BaseRole::Guest { 2 } else { 0 }),
                role_key: Some(role.name().into()),
                custom_role,
                last_active: None,
                date_joined: None,
                date_invited: Some(now_ms.to_string().into()),
            },
            invited_by: Some(Box::new(InvitedBy {
                id: Some(self.me.id),
                username: inviter.and_then(|u| u.username.clone()),
                email: Some(self.me.email.as_str().into()),
                color: inviter.and_then(|u| u.color.clone()),
                initials: inviter.and_then(|u| u.initials.clone()),
                profile_picture: None,
                banned_date: None,
                status: Some("invited".into()),
            })),
            can_see_time_spent: None,
            can_see_time_estimated: None,
            can_edit_tags: None,
            can_create_views: None,
            can_see_points_estimated: None,
        })
    }

    fn group_member(&self, id: UserId) -> Result<GroupMember, EditError> {
        let member = self
            .member_index(id)
            .map(|i| &self.team.members[i].user)
            .ok_or_else(|| no_user(id))?;
        Ok(GroupMember {
            id,
            username: text(member.username.as_ref()),
            email: text(member.email.as_ref()).unwrap_or_default(),
            color: text(member.color.as_ref()),
            initials: text(member.initials.as_ref()),
            profile_picture: text(member.profile_picture.as_ref()),
        })
    }

    fn guest_detail_mut(&mut self, id: UserId) -> Result<&mut GuestDetail, EditError> {
        let index = self.member_index(id).ok_or_else(|| no_user(id))?;
        if !self.team.members[index].user.is_guest() {
            return Err(EditError(format!("user {id} is not a guest")));
        }
        let position = match self.guests.iter().position(|g| g.user.id == id) {
            Some(position) => position,
            None => {
                let email = text(self.team.members[index].user.email.as_ref());
                self.guests.push(GuestDetail {
                    user: GuestUser { id, email },
                    shared: Default::default(),
                });
                self.guests.len() - 1
            }
        };
        Ok(&mut self.guests[position])
    }
}

/// Who an invitation names, and as what.
struct Invitee<'a> {
    email: &'a Email,
    role: BaseRole,
    custom_role_id: Option<i64>,
    /// A guest's permissions.
    permissions: Option<&'a GuestPermissions>,
}

/// The role of a member (not a guest) who is an admin or not.
fn member_role(admin: bool) -> BaseRole {
    if admin {
        BaseRole::Admin
    } else {
        BaseRole::Member
    }
}

fn invited_id(outcome: &WriteOutcome) -> Result<UserId, EditError> {
    match outcome {
        WriteOutcome::Invited { user_id } => Ok(*user_id),
        _ => Err(EditError(
            "an invitation needs the new user's id".to_owned(),
        )),
    }
}

fn no_user(id: UserId) -> EditError {
    EditError(format!("there is no user {id} in the Workspace"))
}

/// A user's text as the shapes that hold a `String` take it.
fn text(text: Option<&compact_str::CompactString>) -> Option<String> {
    text.map(|t| t.as_str().to_owned())
}

/// ClickUp's initials: the first letters of the first two words of the name, upper-case.
fn initials(name: &str) -> String {
    name.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(2)
        .filter_map(|w| w.chars().next())
        .flat_map(char::to_uppercase)
        .collect()
}
