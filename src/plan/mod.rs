//! The plan: what must change for the live Workspace to match the file. [`compute`] makes it, a
//! pure function of the file, the live Workspace and what the state records as managed;
//! [`guards`] refuses dangerous plans. Renderers, the saved plan and the apply engine all work
//! from the one [`Plan`] value. No I/O here.

pub(crate) mod admins;
mod compute;
mod groups;
pub(crate) mod guards;
pub(crate) mod ops;
pub(crate) mod seats;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use anstyle::AnsiColor;
use serde::{Deserialize, Serialize};

use crate::config::Mode;
use crate::diag::Loc;
use crate::model::{
    BaseRole, Email, GuestFlag, GuestPermissions, Share, SharePermission, ShareTarget, UserId,
};

pub(crate) use compute::{compute, compute_with, live_fingerprint};

/// Who and what the tool manages beyond the file (from the state file), for additive mode.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Managed {
    pub(crate) people: BTreeSet<Email>,
    /// Lower-cased group names.
    pub(crate) groups: BTreeSet<String>,
}

/// The changes that make the Workspace match the file, in the order they are applied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    pub(crate) workspace_id: String,
    pub(crate) workspace_name: String,
    pub(crate) mode: Mode,
    pub(crate) max_removals: u32,
    pub(crate) changes: Vec<Change>,
    /// Live people the tool leaves alone (additive mode), sorted.
    pub(crate) unmanaged: Vec<Email>,
    /// People ClickUp lists without an email or with a role the tool does not know: left alone.
    pub(crate) unknown: Vec<String>,
    /// What a reader must know that is not a change (two live groups of one name).
    pub(crate) warnings: Vec<String>,
    /// People whose `expires` falls within `policy.expiry_notice_days`, with the day.
    pub(crate) expiring: Vec<(Email, String)>,
    /// Live invitations not accepted yet that the plan keeps, sorted.
    pub(crate) pending: Vec<Email>,
    pub(crate) census: Census,
    pub(crate) live_fingerprint: String,
    pub(crate) config_digest: String,
    /// Indexes of the changes due to the Workspace having been changed outside the tool since
    /// the last apply (see [`mark_drift`]).
    pub(crate) drift: BTreeSet<usize>,
}

/// Marks the changes of `plan` that come from the live Workspace having changed since the last
/// apply rather than from the file: those that the same file, planned against the Workspace
/// as the last apply left it (`baseline`), would not have made, or would have made otherwise.
pub(crate) fn mark_drift(plan: &mut Plan, baseline: &Plan) {
    // A display name edited in ClickUp is not a reason to call a role change drift.
    let essence = |change: &Change| {
        let mut change = change.clone();
        if let Change::UpdateMember(update) = &mut change {
            update.username = None;
        }
        change
    };
    let mut expected: BTreeMap<(u8, &str), Vec<Change>> = BTreeMap::new();
    for change in &baseline.changes {
        expected
            .entry((change.rank(), change.subject()))
            .or_default()
            .push(essence(change));
    }
    plan.drift = plan
        .changes
        .iter()
        .enumerate()
        .filter(|(_, change)| {
            expected
                .get(&(change.rank(), change.subject()))
                .is_none_or(|same| !same.contains(&essence(change)))
        })
        .map(|(i, _)| i)
        .collect();
}

/// Head counts of the live Workspace, for the plan's opening line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Census {
    pub(crate) people: usize,
    pub(crate) owners: usize,
    pub(crate) admins: usize,
    pub(crate) members: usize,
    pub(crate) guests: usize,
    pub(crate) pending: usize,
    pub(crate) groups: Option<usize>,
}

/// One change, as reviewed and as applied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Change {
    Invite(Invite),
    Replace(Replace),
    UpdateMember(UpdateMember),
    UpdateGuest(UpdateGuest),
    CreateGroup(CreateGroup),
    UpdateGroup(UpdateGroup),
    Remove(Remove),
    DeleteGroup(DeleteGroup),
}

/// The verbs of a plan (SPEC §3 `action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Action {
    Invite,
    Update,
    Remove,
    Replace,
    Create,
    Delete,
}

impl Action {
    pub(crate) const ALL: [Action; 6] = [
        Action::Invite,
        Action::Update,
        Action::Remove,
        Action::Replace,
        Action::Create,
        Action::Delete,
    ];

    /// The action's row of [`ACTIONS`].
    fn row(self) -> &'static ActionRow {
        let row = &ACTIONS[self as usize];
        debug_assert_eq!(row.action, self, "ACTIONS is in the order of Action");
        row
    }

    /// Its name in the JSON plan and the audit log (SPEC §3).
    pub(crate) fn key(self) -> &'static str {
        self.row().key
    }

    /// Its sign in the text plan: `+`, `~`, `-`, `-/+`.
    pub(crate) fn sign(self) -> &'static str {
        self.row().sign
    }

    /// How the plan line counts it: `3 to invite`.
    pub(crate) fn to_do(self) -> &'static str {
        self.row().to_do
    }

    /// How a finished apply counts it: `3 invited`.
    pub(crate) fn done(self) -> &'static str {
        self.row().done
    }

    /// Its colour in a terminal.
    pub(crate) fn colour(self) -> anstyle::AnsiColor {
        self.row().colour
    }

    /// Whether it takes someone or something away (counted against `max_removals`).
    pub(crate) fn removes(self) -> bool {
        self.row().removes
    }
}

/// What every renderer says of an action.
#[derive(Debug)]
pub(crate) struct ActionRow {
    action: Action,
    key: &'static str,
    sign: &'static str,
    to_do: &'static str,
    done: &'static str,
    colour: anstyle::AnsiColor,
    removes: bool,
}

/// One row per [`Action`], in its order: the one table of the action vocabulary.
#[rustfmt::skip]
pub(crate) const ACTIONS: [ActionRow; 6] = [
    ActionRow { action: Action::Invite,  key: "invite",  sign: "+",   to_do: "to invite",  done: "invited",  colour: AnsiColor::Green,   removes: false },
    ActionRow { action: Action::Update,  key: "update",  sign: "~",   to_do: "to change",  done: "changed",  colour: AnsiColor::Yellow,  removes: false },
    ActionRow { action: Action::Remove,  key: "remove",  sign: "-",   to_do: "to remove",  done: "removed",  colour: AnsiColor::Red,     removes: true },
    ActionRow { action: Action::Replace, key: "replace", sign: "-/+", to_do: "to replace", done: "replaced", colour: AnsiColor::Magenta, removes: true },
    ActionRow { action: Action::Create,  key: "create",  sign: "+",   to_do: "to create",  done: "created",  colour: AnsiColor::Green,   removes: false },
    ActionRow { action: Action::Delete,  key: "delete",  sign: "-",   to_do: "to delete",  done: "deleted",  colour: AnsiColor::Red,     removes: true },
];

/// What a change is about (SPEC §3 `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    Member,
    Guest,
    Group,
}

impl Kind {
    pub(crate) fn key(self) -> &'static str {
        match self {
            Kind::Member => "member",
            Kind::Guest => "guest",
            Kind::Group => "group",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// Someone to invite, as a member or as a guest.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Invite {
    pub(crate) email: Email,
    pub(crate) seat: Seat,
}

/// The place someone is invited to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Seat {
    Member {
        role: TargetRole,
    },
    Guest {
        permissions: GuestPermissions,
        custom_role: Option<RoleRef>,
        shares: Vec<Share>,
    },
}

impl Seat {
    pub(crate) fn kind(&self) -> Kind {
        match self {
            Seat::Member { .. } => Kind::Member,
            Seat::Guest { .. } => Kind::Guest,
        }
    }
}

/// A member's role as the file wants it, resolved against the Workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TargetRole {
    Admin,
    Member,
    Custom(RoleRef),
}

impl TargetRole {
    /// ClickUp's `admin` flag for this role: a custom role carries the one it inherits.
    pub(crate) fn admin(&self) -> bool {
        match self {
            TargetRole::Admin => true,
            TargetRole::Member => false,
            TargetRole::Custom(role) => role.base == BaseRole::Admin,
        }
    }

    pub(crate) fn custom_role_id(&self) -> Option<i64> {
        match self {
            TargetRole::Custom(role) => Some(role.id),
            TargetRole::Admin | TargetRole::Member => None,
        }
    }
}

impl fmt::Display for TargetRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetRole::Admin => f.write_str(BaseRole::Admin.name()),
            TargetRole::Member => f.write_str(BaseRole::Member.name()),
            TargetRole::Custom(role) => f.write_str(&role.name),
        }
    }
}

/// A custom role of the Workspace, resolved from its name in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoleRef {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) base: BaseRole,
}

/// A person's role as it is today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CurrentRole {
    Builtin(BaseRole),
    Custom { id: i64, name: String },
}

impl fmt::Display for CurrentRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CurrentRole::Builtin(role) => f.write_str(role.name()),
            CurrentRole::Custom { name, .. } => f.write_str(name),
        }
    }
}

/// A member whose role changes in place.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UpdateMember {
    pub(crate) email: Email,
    pub(crate) user_id: UserId,
    /// Sent back to ClickUp, which requires it with a role change.
    pub(crate) username: Option<String>,
    /// A pending invitation: if ClickUp refuses the edit, apply with `--allow-replace` sends
    /// the invitation again with the new role.
    pub(crate) pending: bool,
    pub(crate) from: CurrentRole,
    pub(crate) to: TargetRole,
}

/// A guest whose switches, custom role or shares change.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UpdateGuest {
    pub(crate) email: Email,
    pub(crate) user_id: UserId,
    pub(crate) permissions: Vec<FlagChange>,
    pub(crate) custom_role: Option<CustomRoleChange>,
    pub(crate) shares: Vec<ShareChange>,
}

impl UpdateGuest {
    /// Whether the guest itself is edited (`PUT /team/{id}/guest/{id}`), beside share changes.
    pub(crate) fn edits_guest(&self) -> bool {
        !self.permissions.is_empty() || self.custom_role.is_some()
    }

    /// The switches to send: only those that change.
    pub(crate) fn new_permissions(&self) -> GuestPermissions {
        let mut permissions = GuestPermissions::default();
        for change in &self.permissions {
            permissions.set(change.flag, Some(change.to));
        }
        permissions
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FlagChange {
    pub(crate) flag: GuestFlag,
    pub(crate) from: Option<bool>,
    pub(crate) to: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CustomRoleChange {
    pub(crate) from: Option<String>,
    pub(crate) to: RoleRef,
}

/// A change to what is shared with a guest: one request each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ShareChange {
    Add(Share),
    Change {
        target: ShareTarget,
        from: SharePermission,
        to: SharePermission,
    },
    Remove(Share),
}

/// Someone to remove from the Workspace.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Remove {
    pub(crate) email: Email,
    pub(crate) user_id: UserId,
    pub(crate) kind: Kind,
    pub(crate) pending: bool,
    pub(crate) reason: RemoveReason,
}

/// Why someone or a group is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RemoveReason {
    /// Authoritative mode: the file does not list them.
    NotListed,
    /// Additive mode: the state records them as managed and the file no longer lists them.
    NoLongerListed,
    /// Authoritative mode: another user group of the same name (case-insensitive) is the one
    /// the file's group is kept as.
    Duplicate,
    /// Their `expires` has passed (on this day, UTC).
    Expired(time::Date),
}

/// Someone removed and invited again, because ClickUp cannot make the change in place.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Replace {
    pub(crate) email: Email,
    pub(crate) user_id: UserId,
    pub(crate) from_kind: Kind,
    pub(crate) from: CurrentRole,
    pub(crate) reason: ReplaceReason,
    pub(crate) seat: Seat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReplaceReason {
    /// Member to guest or back: ClickUp has no call for it.
    KindChange,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CreateGroup {
    pub(crate) name: String,
    pub(crate) handle: Option<String>,
    pub(crate) members: Vec<Email>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UpdateGroup {
    pub(crate) name: String,
    pub(crate) group_id: String,
    /// `(from, to)` when the handle changes.
    pub(crate) handle: Option<(Option<String>, String)>,
    pub(crate) add: Vec<Email>,
    pub(crate) remove: Vec<(UserId, Email)>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DeleteGroup {
    pub(crate) name: String,
    pub(crate) group_id: String,
    pub(crate) members: usize,
    pub(crate) reason: RemoveReason,
}

impl Change {
    pub(crate) fn action(&self) -> Action {
        match self {
            Change::Invite(_) => Action::Invite,
            Change::Replace(_) => Action::Replace,
            Change::UpdateMember(_) | Change::UpdateGuest(_) | Change::UpdateGroup(_) => {
                Action::Update
            }
            Change::CreateGroup(_) => Action::Create,
            Change::Remove(_) => Action::Remove,
            Change::DeleteGroup(_) => Action::Delete,
        }
    }

    pub(crate) fn kind(&self) -> Kind {
        match self {
            Change::Invite(i) => i.seat.kind(),
            Change::Replace(r) => r.seat.kind(),
            Change::UpdateMember(_) => Kind::Member,
            Change::UpdateGuest(_) => Kind::Guest,
            Change::Remove(r) => r.kind,
            Change::CreateGroup(_) | Change::UpdateGroup(_) | Change::DeleteGroup(_) => Kind::Group,
        }
    }

    /// The person a change is about; `None` for groups.
    pub(crate) fn email(&self) -> Option<&Email> {
        match self {
            Change::Invite(c) => Some(&c.email),
            Change::Replace(c) => Some(&c.email),
            Change::UpdateMember(c) => Some(&c.email),
            Change::UpdateGuest(c) => Some(&c.email),
            Change::Remove(c) => Some(&c.email),
            Change::CreateGroup(_) | Change::UpdateGroup(_) | Change::DeleteGroup(_) => None,
        }
    }

    /// The ClickUp user a change is about, when they are in the Workspace already.
    pub(crate) fn user_id(&self) -> Option<UserId> {
        match self {
            Change::Replace(c) => Some(c.user_id),
            Change::UpdateMember(c) => Some(c.user_id),
            Change::UpdateGuest(c) => Some(c.user_id),
            Change::Remove(c) => Some(c.user_id),
            Change::Invite(_)
            | Change::CreateGroup(_)
            | Change::UpdateGroup(_)
            | Change::DeleteGroup(_) => None,
        }
    }

    /// The email or group name the change is about.
    pub(crate) fn subject(&self) -> &str {
        match self {
            Change::CreateGroup(c) => &c.name,
            Change::UpdateGroup(c) => &c.name,
            Change::DeleteGroup(c) => &c.name,
            other => other.email().map_or("", Email::as_str),
        }
    }

    /// Whether it takes someone or something away (what `max_removals` counts).
    pub(crate) fn is_removal(&self) -> bool {
        self.action().removes()
    }

    /// Apply order: invites, replaces, updates, group creates and updates, removals, group
    /// deletes (a group can take someone invited earlier in the same run).
    pub(crate) fn rank(&self) -> u8 {
        match self {
            Change::Invite(_) => 0,
            Change::Replace(_) => 1,
            Change::UpdateMember(_) | Change::UpdateGuest(_) => 2,
            Change::CreateGroup(_) | Change::UpdateGroup(_) => 3,
            Change::Remove(_) => 4,
            Change::DeleteGroup(_) => 5,
        }
    }
}

impl Plan {
    pub(crate) fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// How many changes of each action, all six always present.
    pub(crate) fn summary(&self) -> [(Action, usize); 6] {
        Action::ALL.map(|a| (a, self.changes.iter().filter(|c| c.action() == a).count()))
    }

    /// Keeps the changes whose index `keep` accepts, their drift marks with them.
    pub(crate) fn retain_changes(&mut self, keep: impl Fn(usize) -> bool) {
        let mut kept = Vec::with_capacity(self.changes.len());
        let mut drift = BTreeSet::new();
        for (i, change) in std::mem::take(&mut self.changes).into_iter().enumerate() {
            if keep(i) {
                if self.drift.contains(&i) {
                    drift.insert(kept.len());
                }
                kept.push(change);
            }
        }
        self.changes = kept;
        self.drift = drift;
    }

    pub(crate) fn removals(&self) -> usize {
        self.changes.iter().filter(|c| c.is_removal()).count()
    }
}

/// Why no plan could be made: each names the person or key and, when it comes from the file,
/// its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlanError {
    pub(crate) loc: Option<Loc>,
    pub(crate) message: String,
}

impl PlanError {
    fn at(loc: Loc, message: impl Into<String>) -> PlanError {
        PlanError {
            loc: Some(loc),
            message: message.into(),
        }
    }

    fn general(message: impl Into<String>) -> PlanError {
        PlanError {
            loc: None,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests;
