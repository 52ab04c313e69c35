//! The JSON plan of SPEC §3: its own serde types, versioned by `format_version`, so that the
//! core types can change without breaking CI scripts. Also the format of saved plans.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{GuestPermissions, Share};
use crate::plan::{
    Action, Change, CurrentRole, Kind, Plan, Replace, Seat, ShareChange, UpdateGuest,
};
use crate::render::{Context, remove_reason, replace_reason};

pub(crate) const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct JsonPlan {
    pub(crate) format_version: u32,
    pub(crate) tool_version: String,
    pub(crate) workspace: JsonWorkspace,
    pub(crate) mode: String,
    /// `policy.max_removals` of the file.
    pub(crate) max_removals: u32,
    /// Head counts of the Workspace the plan was made from.
    pub(crate) counts: JsonCounts,
    pub(crate) live_fingerprint: String,
    pub(crate) config_digest: String,
    /// The state file the plan was made against (`null` when there was none).
    #[serde(default)]
    pub(crate) state: Option<JsonStateRef>,
    pub(crate) changes: Vec<JsonChange>,
    pub(crate) summary: BTreeMap<String, usize>,
    pub(crate) unmanaged: Vec<String>,
    /// People ClickUp lists without an email or with a role the tool does not know: left alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) unknown: Vec<String>,
    /// What a reader must know that is not a change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) warnings: Vec<String>,
    /// People whose access expires within `policy.expiry_notice_days` (SPEC §7).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) expiring: Vec<JsonExpiring>,
    pub(crate) pending: Vec<String>,
    /// Where the Workspace the plan compares with was read.
    #[serde(default)]
    pub(crate) live_source: LiveSource,
    /// The Workspace's plan name (`GET /team/{id}/plan`), read when the plan has writes or
    /// `policy.seats` is set; null when not read (SPEC §7).
    #[serde(default)]
    pub(crate) workspace_plan: Option<String>,
    /// Member and guest seats used and bought now, and used after the plan
    /// (`GET /team/{id}/seats`); null when not read (SPEC §7).
    #[serde(default)]
    pub(crate) seats: Option<crate::plan::seats::SeatsAfter>,
    /// With `live_source: state`: when the last apply recorded that Workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) recorded_at: Option<String>,
    /// Why `apply` would refuse this plan (a broken guard, a replace without
    /// `--allow-replace`); absent when it would apply it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) refused: Vec<String>,
    /// In a saved plan: the members file it was made from, relative to the saved plan's
    /// folder (`apply PLAN` finds it from anywhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) file: Option<String>,
    /// `sha256:<hex>` of everything else in the plan, in a saved plan: what `show` prints and
    /// `apply` applies is what `plan --out` wrote, display fields included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) plan_digest: Option<String>,
}

impl JsonPlan {
    /// The digest of this plan's content (without its `plan_digest`).
    pub(crate) fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        use std::fmt::Write as _;
        let mut plain = self.clone();
        plain.plan_digest = None;
        let bytes = serde_json::to_vec(&plain).unwrap_or_default();
        let mut out = String::from("sha256:");
        for byte in Sha256::digest(&bytes) {
            let _ = write!(out, "{byte:02x}");
        }
        out
    }

    /// This plan, sealed with its digest, as `plan --out` saves it.
    pub(crate) fn sealed(&self) -> JsonPlan {
        let mut sealed = self.clone();
        sealed.plan_digest = Some(self.digest());
        sealed
    }
}

/// The plans of a folder of Workspace files (`plan -f DIR --format json`, and the file
/// `plan -f DIR --out` writes): each a whole plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct JsonPlans {
    pub(crate) format_version: u32,
    /// In a saved plan: the folder of Workspace files, relative to the saved plan's folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) folder: Option<String>,
    pub(crate) workspaces: Vec<JsonPlan>,
}

/// Where the Workspace a plan compares with was read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LiveSource {
    /// ClickUp's API.
    #[default]
    Clickup,
    /// A snapshot file (`--snapshot`).
    Snapshot,
    /// The Workspace as the last apply recorded it in the state file (`--refresh=false`).
    State,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct JsonWorkspace {
    pub(crate) id: String,
    pub(crate) name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct JsonCounts {
    pub(crate) people: usize,
    pub(crate) owners: usize,
    pub(crate) admins: usize,
    pub(crate) members: usize,
    pub(crate) guests: usize,
    pub(crate) pending: usize,
    /// `null` when the groups were not read.
    pub(crate) groups: Option<usize>,
}

/// Someone whose access expires soon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct JsonExpiring {
    pub(crate) email: String,
    /// `YYYY-MM-DD`, UTC.
    pub(crate) expires: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct JsonStateRef {
    pub(crate) lineage: String,
    pub(crate) serial: u64,
}

/// One change; the fields present depend on `action` and `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct JsonChange {
    pub(crate) action: Action,
    pub(crate) kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) user_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) permissions: Option<GuestPermissions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) custom_role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) access: Option<Vec<JsonShare>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) handle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) members: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) add: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) remove: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) attributes: Option<BTreeMap<String, FromTo>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) pending: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<String>,
    /// True when the change is due to the Workspace having been changed outside the tool
    /// since the last apply, not to the file.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) drift: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct FromTo {
    pub(crate) from: Value,
    pub(crate) to: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct JsonShare {
    pub(crate) kind: String,
    pub(crate) id: String,
    pub(crate) permission: String,
}

impl From<&Share> for JsonShare {
    fn from(share: &Share) -> Self {
        JsonShare {
            kind: share.target.kind.key().to_owned(),
            id: share.target.id.clone(),
            permission: share.permission.key().to_owned(),
        }
    }
}

impl JsonChange {
    fn new(change: &Change) -> JsonChange {
        JsonChange {
            action: change.action(),
            kind: change.kind(),
            email: change.email().map(ToString::to_string),
            name: None,
            user_id: None,
            group_id: None,
            role: None,
            permissions: None,
            custom_role: None,
            access: None,
            handle: None,
            members: None,
            add: None,
            remove: None,
            attributes: None,
            pending: None,
            reason: None,
            drift: false,
        }
    }

    fn seat(mut self, seat: &Seat) -> JsonChange {
        match seat {
            Seat::Member { role } => self.role = Some(role.to_string()),
            Seat::Guest {
                permissions,
                custom_role,
                shares,
            } => {
                self.permissions = Some(*permissions);
                self.custom_role = custom_role.as_ref().map(|r| r.name.clone());
                self.access =
                    (!shares.is_empty()).then(|| shares.iter().map(JsonShare::from).collect());
            }
        }
        self
    }
}

fn from_to(from: impl Into<Value>, to: impl Into<Value>) -> FromTo {
    FromTo {
        from: from.into(),
        to: to.into(),
    }
}

fn role_value(role: &CurrentRole) -> Value {
    Value::String(role.to_string())
}

/// The JSON plan of a [`Plan`].
pub(crate) fn to_json(plan: &Plan, state: Option<JsonStateRef>, ctx: &Context) -> JsonPlan {
    let changes = plan
        .changes
        .iter()
        .enumerate()
        .map(|(i, c)| JsonChange {
            drift: plan.drift.contains(&i),
            ..change_json(c, ctx)
        })
        .collect();
    JsonPlan {
        format_version: FORMAT_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        workspace: JsonWorkspace {
            id: plan.workspace_id.clone(),
            name: plan.workspace_name.clone(),
        },
        mode: plan.mode.name().to_owned(),
        max_removals: plan.max_removals,
        counts: JsonCounts {
            people: plan.census.people,
            owners: plan.census.owners,
            admins: plan.census.admins,
            members: plan.census.members,
            guests: plan.census.guests,
            pending: plan.census.pending,
            groups: plan.census.groups,
        },
        live_fingerprint: plan.live_fingerprint.clone(),
        config_digest: plan.config_digest.clone(),
        state,
        changes,
        summary: plan
            .summary()
            .iter()
            .map(|(a, n)| (a.key().to_owned(), *n))
            .collect(),
        unmanaged: plan.unmanaged.iter().map(ToString::to_string).collect(),
        unknown: plan.unknown.clone(),
        warnings: plan.warnings.clone(),
        expiring: plan
            .expiring
            .iter()
            .map(|(email, day)| JsonExpiring {
                email: email.to_string(),
                expires: day.clone(),
            })
            .collect(),
        pending: plan.pending.iter().map(ToString::to_string).collect(),
        live_source: LiveSource::default(),
        workspace_plan: None,
        seats: None,
        recorded_at: None,
        refused: Vec::new(),
        file: None,
        plan_digest: None,
    }
}

/// Why a pending invitation's role change may become a replace.
pub(crate) const PENDING_EDIT: &str = "a pending invitation: ClickUp is asked to edit it; if it refuses, apply --allow-replace cancels it and invites again with the new role";

/// One change as the JSON plan shows it (without its drift mark).
pub(crate) fn change_json(change: &Change, ctx: &Context) -> JsonChange {
    let base = JsonChange::new(change);
    match change {
        Change::Invite(invite) => base.seat(&invite.seat),
        Change::Replace(replace) => replace_json(replace, base),
        Change::UpdateMember(update) => {
            let attributes = BTreeMap::from([(
                "role".to_owned(),
                from_to(role_value(&update.from), update.to.to_string()),
            )]);
            JsonChange {
                user_id: Some(update.user_id),
                attributes: Some(attributes),
                pending: update.pending.then_some(true),
                reason: update.pending.then(|| PENDING_EDIT.to_owned()),
                ..base
            }
        }
        Change::UpdateGuest(update) => JsonChange {
            user_id: Some(update.user_id),
            attributes: Some(guest_attributes(update)),
            ..base
        },
        Change::Remove(remove) => JsonChange {
            user_id: Some(remove.user_id),
            pending: remove.pending.then_some(true),
            reason: Some(remove_reason(remove.reason, ctx)),
            ..base
        },
        Change::CreateGroup(create) => JsonChange {
            name: Some(create.name.clone()),
            handle: create.handle.clone(),
            members: Some(create.members.iter().map(ToString::to_string).collect()),
            ..base
        },
        Change::UpdateGroup(update) => JsonChange {
            name: Some(update.name.clone()),
            group_id: Some(update.group_id.clone()),
            add: Some(update.add.iter().map(ToString::to_string).collect()),
            remove: Some(update.remove.iter().map(|(_, e)| e.to_string()).collect()),
            attributes: update.handle.as_ref().map(|(from, to)| {
                BTreeMap::from([("handle".to_owned(), from_to(from.clone(), to.clone()))])
            }),
            ..base
        },
        Change::DeleteGroup(delete) => JsonChange {
            name: Some(delete.name.clone()),
            group_id: Some(delete.group_id.clone()),
            reason: Some(format!(
                "{}; it has {}",
                remove_reason(delete.reason, ctx),
                match delete.members {
                    1 => "1 member".to_owned(),
                    n => format!("{n} members"),
                }
            )),
            ..base
        },
    }
}

/// A replace: the kind and the role it goes from and to, why, and the new seat.
fn replace_json(replace: &Replace, base: JsonChange) -> JsonChange {
    let to = match &replace.seat {
        Seat::Member { role } => role.to_string(),
        Seat::Guest { .. } => "guest".to_owned(),
    };
    let attributes = BTreeMap::from([
        (
            "kind".to_owned(),
            from_to(replace.from_kind.key(), replace.seat.kind().key()),
        ),
        ("role".to_owned(), from_to(role_value(&replace.from), to)),
    ]);
    JsonChange {
        user_id: Some(replace.user_id),
        attributes: Some(attributes),
        reason: Some(replace_reason(replace.reason).to_owned()),
        ..base
    }
    .seat(&replace.seat)
}

/// What a guest update changes: each switch, the custom role, and each share
/// (`access.<kind>.<id>`), from and to.
fn guest_attributes(update: &UpdateGuest) -> BTreeMap<String, FromTo> {
    let mut attributes = BTreeMap::new();
    for flag in &update.permissions {
        attributes.insert(flag.flag.key().to_owned(), from_to(flag.from, flag.to));
    }
    if let Some(role) = &update.custom_role {
        attributes.insert(
            "custom_role".to_owned(),
            from_to(role.from.clone(), role.to.name.clone()),
        );
    }
    for share in &update.shares {
        let (target, from, to) = match share {
            ShareChange::Add(s) => (&s.target, None, Some(s.permission)),
            ShareChange::Change { target, from, to } => (target, Some(*from), Some(*to)),
            ShareChange::Remove(s) => (&s.target, Some(s.permission), None),
        };
        attributes.insert(
            format!("access.{}.{}", target.kind.key(), target.id),
            from_to(from.map(|p| p.key()), to.map(|p| p.key())),
        );
    }
    attributes
}

impl JsonPlan {
    pub(crate) fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    pub(crate) fn count(&self, action: Action) -> usize {
        self.summary.get(action.key()).copied().unwrap_or(0)
    }
}

impl JsonChange {
    /// The email or group name the change is about.
    pub(crate) fn subject(&self) -> &str {
        self.email
            .as_deref()
            .or(self.name.as_deref())
            .unwrap_or_default()
    }

    pub(crate) fn is_removal(&self) -> bool {
        self.action.removes()
    }
}

/// Writes the JSON plan, pretty-printed, with a final newline.
pub(crate) fn write(out: &mut dyn Write, plan: &JsonPlan) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, plan)?;
    writeln!(out)
}
