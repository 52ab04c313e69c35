//! The desired-state file (`members.yaml`): its types, which are also the source of the JSON
//! Schema, its decoding from YAML with every problem reported at once, and the rules of SPEC §1
//! that need no network.
//!
//! Reading the file is the only I/O here (`load`); decoding and checking are pure.

mod check;
mod decode;
mod include;

/// The keys each mapping of the file accepts, in the order `fmt` writes them.
pub(crate) mod keys {
    pub(crate) const FILE: &[&str] = &[
        "version",
        "workspace",
        "include",
        "policy",
        "members",
        "guests",
        "groups",
    ];
    pub(crate) const FRAGMENT: &[&str] = &["members", "guests", "groups"];
    pub(crate) const WORKSPACE: &[&str] = &["id", "name"];
    pub(crate) const POLICY: &[&str] = &[
        "mode",
        "max_removals",
        "protected",
        "member_domains",
        "admins",
        "seats",
        "expiry_notice_days",
    ];
    pub(crate) const ADMINS: &[&str] = &["min", "max"];
    pub(crate) const SEATS: &[&str] = &["max_members", "max_guests"];
    pub(crate) const MEMBER: &[&str] = &["email", "role", "expires"];
    pub(crate) const GUEST: &[&str] = &["email", "permissions", "custom_role", "access", "expires"];
    pub(crate) const ACCESS: &[&str] = &["folder", "list", "task", "permission"];
    pub(crate) const GROUP: &[&str] = &["name", "handle", "members"];
}

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Serialize;

use crate::diag::{Diagnostic, Loc};
use crate::model::{
    BaseRole, Email, GuestPermissions, Share, ShareKind, SharePermission, ShareTarget,
};
use crate::yaml;

/// A value from the file together with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct At<T> {
    pub(crate) value: T,
    pub(crate) loc: Loc,
}

impl<T> At<T> {
    pub(crate) fn new(value: T, loc: Loc) -> Self {
        At { value, loc }
    }
}

impl<T: Serialize> Serialize for At<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

impl<T: JsonSchema> JsonSchema for At<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

/// The whole desired-state file.
///
/// Who belongs in a ClickUp Workspace, with which role; guests with their permissions and
/// shares; user groups. Read by `clickup-members plan` and `apply`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(title = "clickup-members desired state", deny_unknown_fields)]
pub(crate) struct MembersFile {
    /// Format version of this file: always 1.
    #[schemars(schema_with = "version_schema")]
    pub(crate) version: u32,
    /// The Workspace this file describes.
    pub(crate) workspace: WorkspaceSection,
    /// Fragment files whose members, guests and groups are merged into this file: globs
    /// relative to this file (`teams/*.yaml`), each matching at least one file. A fragment
    /// holds only `members`, `guests` and `groups`, so that each team can own its own file.
    #[serde(default, skip_serializing)]
    #[schemars(schema_with = "includes")]
    pub(crate) include: Vec<At<String>>,
    /// The names of the files the entries come from, by [`Loc::file`]: this file, then its
    /// fragments in the order they are merged. Empty when there are no fragments.
    #[serde(skip)]
    #[schemars(skip)]
    pub(crate) sources: Vec<String>,
    /// How far the tool may go.
    #[serde(default)]
    pub(crate) policy: Policy,
    /// Members (owner, admins, members and custom roles), one entry per person.
    #[serde(default)]
    #[schemars(schema_with = "list_or_nothing::<Member>")]
    pub(crate) members: Vec<Member>,
    /// Guests, with the switches and shares the tool manages for them.
    #[serde(default)]
    #[schemars(schema_with = "list_or_nothing::<Guest>")]
    pub(crate) guests: Vec<Guest>,
    /// User groups (the "Teams" of ClickUp's UI). Groups are managed only when this key is
    /// present; `groups: []` manages them and wants none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Vec<Group>")]
    pub(crate) groups: Option<Vec<Group>>,
}

fn includes(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "array",
        "items": { "type": "string", "minLength": 1 },
        "description": "Fragment files whose members, guests and groups are merged into this file: globs relative to this file (teams/*.yaml), each matching at least one file."
    })
}

/// A fragment of a Workspace file (`include:`): members, guests and user groups that a team
/// owns in its own file, merged into the Workspace file that includes it.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
#[schemars(title = "clickup-members fragment", deny_unknown_fields)]
pub(crate) struct FragmentFile {
    /// Members (owner, admins, members and custom roles), one entry per person.
    #[serde(default)]
    #[schemars(schema_with = "list_or_nothing::<Member>")]
    pub(crate) members: Vec<Member>,
    /// Guests, with the switches and shares the tool manages for them.
    #[serde(default)]
    #[schemars(schema_with = "list_or_nothing::<Guest>")]
    pub(crate) guests: Vec<Guest>,
    /// User groups. A fragment with this key makes the Workspace's groups managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Vec<Group>")]
    pub(crate) groups: Option<Vec<Group>>,
}

fn version_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "const": 1, "description": "Format version of this file: always 1." })
}

/// Which Workspace the file describes.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct WorkspaceSection {
    /// The Workspace (team) id, as in `https://app.clickup.com/<id>/…`.
    #[schemars(schema_with = "workspace_id_schema")]
    pub(crate) id: At<String>,
    /// When set, the plan fails if the live Workspace has another name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "name_schema")]
    pub(crate) name: Option<At<String>>,
}

fn workspace_id_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": ["string", "integer"],
        "pattern": "^[0-9]+$",
        "minimum": 0,
        "description": "The Workspace (team) id, as in https://app.clickup.com/<id>/…"
    })
}

/// A name: text that is not blank, or a number (`name: 42`).
fn name_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": ["string", "integer"], "minLength": 1, "pattern": NOT_BLANK })
}

/// Text that is not blank.
fn text_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "string", "minLength": 1, "pattern": NOT_BLANK })
}

/// A list that may also be left empty (`members:` with nothing under it).
fn list_or_nothing<T: JsonSchema>(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let items = generator.subschema_for::<T>();
    schemars::json_schema!({ "type": ["array", "null"], "items": items, "default": [] })
}

/// JSON Schema's pattern for text with something else than spaces in it.
const NOT_BLANK: &str = "\\S";

/// How far the tool may go.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Policy {
    /// `additive` (default): manage the people the file lists or the tool invited.
    /// `authoritative`: remove everyone the file does not list (except the owner, the token's
    /// own user and `protected`).
    #[serde(default)]
    pub(crate) mode: Mode,
    /// The plan is refused when it would remove, replace or delete more than this (0: none).
    #[serde(default = "default_max_removals")]
    #[schemars(range(max = 4_294_967_295_u32))]
    pub(crate) max_removals: u32,
    /// People never changed nor removed, whatever the file or the mode says.
    #[serde(default)]
    #[schemars(schema_with = "list_or_nothing::<Email>")]
    pub(crate) protected: Vec<At<Email>>,
    /// Every entry of `members` must have an email in one of these domains (exact and
    /// case-insensitive: list subdomains too if they are allowed). Guests are not bound.
    /// Absent: members may have any domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "domains")]
    pub(crate) member_domains: Option<Vec<At<String>>>,
    /// How many people may hold admin rights once a plan is applied: the owner, the admins and
    /// the holders of custom roles that inherit admin, pending invitations included. A plan
    /// that takes the count out of the bounds, or further from them, is refused; a Workspace
    /// already outside gets a warning, and plans that keep the count or move it towards the
    /// bounds are allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) admins: Option<AdminBounds>,
    /// How many seats the Workspace may use once a plan is applied (ClickUp's count, pending
    /// invitations included): a plan that adds seats and ends above a bound is refused. Seats
    /// are read whenever this is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) seats: Option<SeatBounds>,
    /// People whose `expires` falls within this many days are listed in the plan's notes
    /// (default 14).
    #[serde(default = "default_expiry_notice_days")]
    #[schemars(range(max = 36_500))]
    pub(crate) expiry_notice_days: u32,
}

pub(crate) const DEFAULT_EXPIRY_NOTICE_DAYS: u32 = 14;

fn default_expiry_notice_days() -> u32 {
    DEFAULT_EXPIRY_NOTICE_DAYS
}

/// `policy.admins`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct AdminBounds {
    /// At least this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 4_294_967_295_u32))]
    pub(crate) min: Option<u32>,
    /// At most this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 4_294_967_295_u32))]
    pub(crate) max: Option<u32>,
    /// Where `admins:` is in the file, for a refusal.
    #[serde(skip)]
    #[schemars(skip)]
    pub(crate) loc: Loc,
}

/// `policy.seats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct SeatBounds {
    /// At most this many member seats (owner, admins, members and custom roles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 4_294_967_295_u32))]
    pub(crate) max_members: Option<u32>,
    /// At most this many guest seats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 4_294_967_295_u32))]
    pub(crate) max_guests: Option<u32>,
    /// Where `seats:` is in the file, for a refusal.
    #[serde(skip)]
    #[schemars(skip)]
    pub(crate) loc: Loc,
}

impl AdminBounds {
    /// How far `count` is from the bounds (0 within them).
    pub(crate) fn distance(&self, count: usize) -> usize {
        let below = self
            .min
            .map_or(0, |min| (min as usize).saturating_sub(count));
        let above = self.max.map_or(0, |max| count.saturating_sub(max as usize));
        below.max(above)
    }

    /// `2 to 6`, `at least 2`, `at most 6`.
    pub(crate) fn describe(&self) -> String {
        match (self.min, self.max) {
            (Some(min), Some(max)) => format!("{min} to {max}"),
            (Some(min), None) => format!("at least {min}"),
            (None, Some(max)) => format!("at most {max}"),
            (None, None) => "any number".to_owned(),
        }
    }
}

/// JSON Schema's pattern for a domain as `policy.member_domains` takes it: labels joined by
/// dots, without a scheme, a user, a port or a path.
pub(crate) const DOMAIN_PATTERN: &str = "^([^\\s@/:.]+\\.)+[^\\s@/:.]+$";

fn domains(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "array",
        "minItems": 1,
        "items": { "type": "string", "pattern": DOMAIN_PATTERN }
    })
}

pub(crate) const DEFAULT_MAX_REMOVALS: u32 = 5;

fn default_max_removals() -> u32 {
    DEFAULT_MAX_REMOVALS
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            mode: Mode::default(),
            max_removals: DEFAULT_MAX_REMOVALS,
            protected: Vec::new(),
            member_domains: None,
            admins: None,
            seats: None,
            expiry_notice_days: DEFAULT_EXPIRY_NOTICE_DAYS,
        }
    }
}

/// Whether people the file does not list are removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Mode {
    /// Manage the people the file lists or the tool invited; leave the others alone.
    #[default]
    Additive,
    /// The file is the whole truth: remove everyone it does not list.
    Authoritative,
}

impl Mode {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Mode::Additive => "additive",
            Mode::Authoritative => "authoritative",
        }
    }
}

/// A member of the Workspace.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Member {
    pub(crate) email: At<Email>,
    /// `admin`, `member` (default), `owner` (only the real owner), or the name of a custom role.
    #[serde(default)]
    pub(crate) role: At<RoleName>,
    /// From this date (00:00 UTC) or time on, the member is removed (`2027-03-31`, or a time
    /// with its zone, `2027-03-31T17:00:00+02:00`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) expires: Option<Box<At<Expiry>>>,
}

/// When access ends: a moment in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Expiry(pub(crate) time::OffsetDateTime);

impl Expiry {
    /// `2027-03-31` (00:00 UTC that day), or an RFC 3339 time with its zone.
    pub(crate) fn parse(text: &str) -> Result<Expiry, InvalidExpiry> {
        use time::format_description::well_known::Rfc3339;
        let date_format = time::macros::format_description!("[year]-[month]-[day]");
        if text.len() == 10 {
            return time::Date::parse(text, date_format)
                .map(|date| Expiry(date.midnight().assume_utc()))
                .map_err(|error| InvalidExpiry::NotADate {
                    text: text.to_owned(),
                    error,
                });
        }
        let at = time::OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
            InvalidExpiry::NeitherDateNorTime {
                text: text.to_owned(),
            }
        })?;
        // RFC 3339 allows 9999-12-31 in a zone behind UTC, which is the year 10000 in UTC:
        // past the calendar the tool keeps, and never a panic.
        at.checked_to_offset(time::UtcOffset::UTC)
            .map(Expiry)
            .ok_or_else(|| InvalidExpiry::PastLastDay {
                text: text.to_owned(),
            })
    }

    /// The day it falls on, in UTC: `2027-03-31`.
    pub(crate) fn day(self) -> String {
        day(self.0.date())
    }
}

/// Why an `expires:` cannot be read, naming the text as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum InvalidExpiry {
    /// Ten characters, as a date is, but not a date of the calendar.
    #[error("\"{text}\" is not a date ({error})")]
    NotADate {
        text: String,
        error: time::error::Parse,
    },
    #[error(
        "\"{text}\" is neither a date (2027-03-31) nor a time with its zone (2027-03-31T17:00:00Z)"
    )]
    NeitherDateNorTime { text: String },
    #[error(
        "\"{text}\" is past 9999-12-31 in UTC, the last day the tool keeps; write 9999-12-31 at the latest"
    )]
    PastLastDay { text: String },
}

/// A date as the file and the plan write it: `2027-03-31`.
pub(crate) fn day(date: time::Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

impl Serialize for Expiry {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use time::format_description::well_known::Rfc3339;
        serializer.serialize_str(&self.0.format(&Rfc3339).unwrap_or_default())
    }
}

impl JsonSchema for Expiry {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Expiry".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "anyOf": [
                { "type": "string", "format": "date" },
                { "type": "string", "format": "date-time" }
            ],
            "description": "A date (00:00 UTC that day) or a time with its zone, in RFC 3339."
        })
    }
}

/// A role as written in the file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum RoleName {
    Owner,
    Admin,
    #[default]
    Member,
    /// A custom role, by name (matched case-insensitively).
    Custom(String),
}

impl RoleName {
    pub(crate) fn parse(text: &str) -> RoleName {
        let base = [RoleName::Owner, RoleName::Admin, RoleName::Member];
        base.into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(text))
            .unwrap_or_else(|| RoleName::Custom(text.to_owned()))
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            RoleName::Owner => BaseRole::Owner.name(),
            RoleName::Admin => BaseRole::Admin.name(),
            RoleName::Member => BaseRole::Member.name(),
            RoleName::Custom(name) => name,
        }
    }
}

impl Default for At<RoleName> {
    fn default() -> Self {
        At::new(RoleName::default(), Loc::default())
    }
}

impl Serialize for RoleName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl JsonSchema for RoleName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Role".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "admin, member, owner (only the Workspace's real owner), or the name of a custom role of the Workspace (case-insensitive).",
            "anyOf": [
                { "enum": ["admin", "member", "owner"] },
                {
                    "type": "string",
                    "minLength": 1,
                    "pattern": NOT_BLANK,
                    "not": { "pattern": "^\\s*[Gg][Uu][Ee][Ss][Tt]\\s*$" },
                    "description": "The name of a custom role (a member cannot have the role guest: list guests under `guests`)."
                }
            ],
            "default": "member"
        })
    }
}

/// A guest of the Workspace.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Guest {
    pub(crate) email: At<Email>,
    /// The guest's switches; a switch left out is not managed.
    #[serde(default)]
    pub(crate) permissions: GuestPermissions,
    /// A custom role that inherits the guest role. Left out: not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "text_schema")]
    pub(crate) custom_role: Option<At<String>>,
    /// What the guest is shared on. Left out: not managed; listed: exactly these shares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Vec<Access>")]
    pub(crate) access: Option<Vec<Access>>,
    /// From this date (00:00 UTC) or time on, the guest is removed (`2027-03-31`, or a time
    /// with its zone, `2027-03-31T17:00:00+02:00`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) expires: Option<Box<At<Expiry>>>,
}

/// One folder, list or task shared with a guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Access {
    pub(crate) share: Share,
    pub(crate) loc: Loc,
}

impl Serialize for Access {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry(self.share.target.kind.key(), &self.share.target.id)?;
        map.serialize_entry("permission", &self.share.permission)?;
        map.end()
    }
}

impl JsonSchema for Access {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Access".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let permission = generator.subschema_for::<SharePermission>();
        let one = |kind: ShareKind| {
            // ClickUp's folder and list ids are numbers; task ids may be custom ("DEV-42").
            let pattern = match kind {
                ShareKind::Task => NOT_BLANK,
                ShareKind::Folder | ShareKind::List => "^\\s*[0-9]+\\s*$",
            };
            schemars::json_schema!({
                "type": "object",
                "properties": {
                    kind.key(): {
                        "type": ["string", "integer"],
                        "minimum": 0,
                        "minLength": 1,
                        "pattern": pattern,
                        "description": format!("The id of the {}.", kind.key())
                    },
                    "permission": permission.clone()
                },
                "required": [kind.key(), "permission"],
                "additionalProperties": false
            })
        };
        schemars::json_schema!({
            "description": "A folder, list or task shared with the guest, and the permission level.",
            "oneOf": [one(ShareKind::Folder), one(ShareKind::List), one(ShareKind::Task)]
        })
    }
}

/// A user group.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Group {
    /// The group's name, unique in the file (case-insensitive).
    #[schemars(schema_with = "name_schema")]
    pub(crate) name: At<String>,
    /// The group's @handle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "text_schema")]
    pub(crate) handle: Option<At<String>>,
    /// The group's members; each must be listed in `members` or `guests`.
    #[serde(default)]
    #[schemars(schema_with = "list_or_nothing::<Email>")]
    pub(crate) members: Vec<At<Email>>,
}

impl MembersFile {
    /// What the file says, free of order and layout (lists sorted, comments and formatting
    /// gone), as compact JSON written to `out`. Two files with the same meaning plan the same,
    /// and `fmt` must keep it.
    pub(crate) fn write_meaning(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        fn sorted<T>(items: &[T], key: impl Fn(&T) -> &str) -> Vec<&T> {
            let mut refs: Vec<&T> = items.iter().collect();
            refs.sort_by(|a, b| key(a).cmp(key(b)));
            refs
        }
        #[derive(Serialize)]
        struct GroupMeaning<'a> {
            name: &'a At<String>,
            handle: &'a Option<At<String>>,
            members: Vec<&'a At<Email>>,
        }
        #[derive(Serialize)]
        struct PolicyMeaning<'a> {
            mode: Mode,
            max_removals: u32,
            protected: Vec<&'a At<Email>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            member_domains: Option<Vec<&'a At<String>>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            admins: Option<&'a AdminBounds>,
            #[serde(skip_serializing_if = "Option::is_none")]
            seats: Option<&'a SeatBounds>,
            #[serde(skip_serializing_if = "is_default_notice")]
            expiry_notice_days: u32,
        }
        fn is_default_notice(days: &u32) -> bool {
            *days == DEFAULT_EXPIRY_NOTICE_DAYS
        }
        #[derive(Serialize)]
        struct Meaning<'a> {
            version: u32,
            workspace: &'a WorkspaceSection,
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            include: &'a [At<String>],
            policy: PolicyMeaning<'a>,
            members: Vec<&'a Member>,
            guests: Vec<&'a Guest>,
            groups: Option<Vec<GroupMeaning<'a>>>,
        }
        let mut groups: Option<Vec<GroupMeaning<'_>>> = self.groups.as_ref().map(|groups| {
            groups
                .iter()
                .map(|g| GroupMeaning {
                    name: &g.name,
                    handle: &g.handle,
                    members: sorted(&g.members, |m| m.value.as_str()),
                })
                .collect()
        });
        if let Some(groups) = &mut groups {
            groups.sort_by_cached_key(|g| g.name.value.to_lowercase());
        }
        let meaning = Meaning {
            version: self.version,
            workspace: &self.workspace,
            include: &self.include,
            policy: PolicyMeaning {
                mode: self.policy.mode,
                max_removals: self.policy.max_removals,
                protected: sorted(&self.policy.protected, |p| p.value.as_str()),
                member_domains: self
                    .policy
                    .member_domains
                    .as_ref()
                    .map(|d| sorted(d, |d| d.value.as_str())),
                admins: self.policy.admins.as_ref(),
                seats: self.policy.seats.as_ref(),
                expiry_notice_days: self.policy.expiry_notice_days,
            },
            members: sorted(&self.members, |m| m.email.value.as_str()),
            guests: sorted(&self.guests, |g| g.email.value.as_str()),
            groups,
        };
        serde_json::to_writer(out, &meaning).map_err(std::io::Error::other)
    }

    /// [`MembersFile::write_meaning`] in memory, to compare two files.
    pub(crate) fn meaning(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let _ = self.write_meaning(&mut out);
        out
    }

    /// Everyone the file gives an `expires`, members first, with the date and its place.
    pub(crate) fn expiries(&self) -> impl Iterator<Item = (&Email, &At<Expiry>)> {
        let members = self.members.iter().map(|m| (&m.email.value, &m.expires));
        let guests = self.guests.iter().map(|g| (&g.email.value, &g.expires));
        members
            .chain(guests)
            .filter_map(|(email, expires)| Some((email, &**expires.as_ref()?)))
    }

    /// Everyone the file lists, members first, with their line.
    pub(crate) fn people(&self) -> impl Iterator<Item = &At<Email>> {
        self.members
            .iter()
            .map(|m| &m.email)
            .chain(self.guests.iter().map(|g| &g.email))
    }

    /// Whether a custom role is named anywhere, which is when the plan needs the Workspace's
    /// custom roles.
    pub(crate) fn names_custom_roles(&self) -> bool {
        self.members
            .iter()
            .any(|m| matches!(m.role.value, RoleName::Custom(_)))
            || self.guests.iter().any(|g| g.custom_role.is_some())
    }

    /// Guests whose shares the file manages.
    pub(crate) fn guests_with_access(&self) -> impl Iterator<Item = &Guest> {
        self.guests.iter().filter(|g| g.access.is_some())
    }
}

impl Guest {
    pub(crate) fn shares(&self) -> Option<Vec<Share>> {
        self.access
            .as_ref()
            .map(|list| list.iter().map(|a| a.share.clone()).collect())
    }
}

impl Access {
    pub(crate) fn target(&self) -> &ShareTarget {
        &self.share.target
    }
}

/// A file that was read and decoded, or the problems that stop it.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) path: PathBuf,
    pub(crate) source: String,
    pub(crate) file: MembersFile,
    /// The fragments it includes, name and text.
    pub(crate) fragments: Vec<(String, String)>,
}

impl Loaded {
    /// The file as decoded, its problems known to be none: for a plan of a file read already.
    pub(crate) fn into_decoded(self) -> Decoded {
        Decoded {
            path: self.path,
            source: self.source,
            file: self.file,
            diagnostics: Vec::new(),
            fragments: self.fragments,
        }
    }

    /// The name of the file `loc` is in: the Workspace file or one of its fragments.
    pub(crate) fn name_of(&self, loc: Loc) -> String {
        crate::diag::fragment_of(loc, &self.fragments)
            .map_or_else(|| self.path.display().to_string(), |(name, _)| name.clone())
    }
}

/// Why a file could not be used: unreadable, or invalid with every problem found.
#[derive(Debug)]
pub(crate) enum LoadError {
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    TooLarge {
        path: PathBuf,
        bytes: u64,
    },
    Invalid {
        path: PathBuf,
        source: String,
        diagnostics: Vec<Diagnostic>,
        /// The fragments the file includes, name and text, for problems placed in them.
        fragments: Vec<(String, String)>,
    },
}

/// Reads, parses, decodes and checks a desired-state file.
pub(crate) fn load(path: &Path) -> Result<Loaded, LoadError> {
    let decoded = decode_file(path)?;
    let problems = decoded.problems();
    if problems.is_empty() {
        Ok(decoded.into_loaded())
    } else {
        Err(LoadError::Invalid {
            path: decoded.path,
            source: decoded.source,
            diagnostics: problems,
            fragments: decoded.fragments,
        })
    }
}

/// A file read and decoded but not checked yet: the checks ([`Decoded::problems`]) can run
/// beside other work.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub(crate) path: PathBuf,
    pub(crate) source: String,
    pub(crate) file: MembersFile,
    /// What the decoder found wrong, when it could still make a file of it.
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// The fragments it includes, name and text.
    pub(crate) fragments: Vec<(String, String)>,
}

impl Decoded {
    /// Every problem of the file, the decoder's and the checks', in file order; none for a
    /// valid file.
    pub(crate) fn problems(&self) -> Vec<Diagnostic> {
        let mut problems = self.diagnostics.clone();
        problems.extend(check::check(&self.file));
        problems.sort_by_key(|d| d.loc);
        problems
    }

    /// The file, once [`Decoded::problems`] found none.
    pub(crate) fn into_loaded(self) -> Loaded {
        Loaded {
            path: self.path,
            source: self.source,
            file: self.file,
            fragments: self.fragments,
        }
    }
}

/// Reads, parses and decodes a desired-state file: the first half of [`load`].
pub(crate) fn decode_file(path: &Path) -> Result<Decoded, LoadError> {
    let io = |error| LoadError::Io {
        path: path.to_owned(),
        error,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.len() > yaml::MAX_FILE_BYTES {
        return Err(LoadError::TooLarge {
            path: path.to_owned(),
            bytes: meta.len(),
        });
    }
    let bytes = crate::fsutil::read_regular(path).map_err(io)?;
    let source = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let text = String::from_utf8_lossy(valid).into_owned();
            let line = text.matches('\n').count() + 1;
            let col = text.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            let diag = Diagnostic::new(
                Loc::new(line as u64, col as u64),
                "the file is not UTF-8 text; save it as UTF-8",
            );
            return Err(LoadError::Invalid {
                path: path.to_owned(),
                source: text,
                diagnostics: vec![diag],
                fragments: Vec::new(),
            });
        }
    };
    match decode_str(&source) {
        Ok((mut file, mut diagnostics)) => {
            let fragments = if file.include.is_empty() {
                Vec::new()
            } else {
                include::merge(path, &mut file, &mut diagnostics)
            };
            Ok(Decoded {
                path: path.to_owned(),
                source,
                file,
                diagnostics,
                fragments,
            })
        }
        Err(diagnostics) => Err(LoadError::Invalid {
            path: path.to_owned(),
            source,
            diagnostics,
            fragments: Vec::new(),
        }),
    }
}

/// `teams/eng.yaml:12:5` for a place in a file with fragments, `line 12` for one without: how
/// a message names another place.
impl MembersFile {
    pub(crate) fn place(&self, loc: Loc) -> String {
        match self.sources.get(usize::from(loc.file)) {
            Some(name) if self.sources.len() > 1 => format!("{name}:{loc}"),
            _ => format!("line {}", loc.line),
        }
    }
}

/// Parses and decodes the text of a desired-state file: the file, with what the decoder found
/// wrong, or only the problems when no file could be made of it.
fn decode_str(source: &str) -> Result<(MembersFile, Vec<Diagnostic>), Vec<Diagnostic>> {
    let root = yaml::parse(source).map_err(|e| vec![Diagnostic::new(e.loc, e.message)])?;
    let (file, mut diagnostics) = decode::decode(root);
    match file {
        Some(file) => Ok((file, diagnostics)),
        None => {
            diagnostics.sort_by_key(|d| d.loc);
            Err(diagnostics)
        }
    }
}

/// Parses and decodes the text of a desired-state file, without the checks that need the
/// whole Workspace (its fragments): the file, or what the decoder found wrong. Pure.
pub(crate) fn parse_unchecked_str(source: &str) -> Result<MembersFile, Vec<Diagnostic>> {
    match decode_str(source)? {
        (file, diagnostics) if diagnostics.is_empty() => Ok(file),
        (_, mut diagnostics) => {
            diagnostics.sort_by_key(|d| d.loc);
            Err(diagnostics)
        }
    }
}

/// Parses, decodes and checks the text of a desired-state file. Pure.
pub(crate) fn parse_str(source: &str) -> Result<MembersFile, Vec<Diagnostic>> {
    let (file, mut diagnostics) = decode_str(source)?;
    diagnostics.extend(check::check(&file));
    if diagnostics.is_empty() {
        Ok(file)
    } else {
        diagnostics.sort_by_key(|d| d.loc);
        Err(diagnostics)
    }
}

/// Parses and decodes the text of a fragment (`include:`) on its own, as a file with only
/// members, guests and groups; the checks that need the whole Workspace file are not made.
pub(crate) fn parse_fragment_str(source: &str) -> Result<MembersFile, Vec<Diagnostic>> {
    let root = yaml::parse(source).map_err(|e| vec![Diagnostic::new(e.loc, e.message)])?;
    let (fragment, mut diagnostics) = decode::fragment(root);
    match fragment {
        Some(fragment) if diagnostics.is_empty() => Ok(MembersFile {
            version: 1,
            workspace: WorkspaceSection {
                id: At::new(String::new(), Loc::default()),
                name: None,
            },
            include: Vec::new(),
            sources: Vec::new(),
            policy: Policy::default(),
            members: fragment.members,
            guests: fragment.guests,
            groups: fragment.groups,
        }),
        _ => {
            diagnostics.sort_by_key(|d| d.loc);
            Err(diagnostics)
        }
    }
}

/// The JSON Schema of a fragment (`include:`), pretty-printed.
pub(crate) fn fragment_json_schema() -> String {
    schema_of::<FragmentFile>()
}

/// The JSON Schema (draft-07, which yaml-language-server reads) of the file, pretty-printed.
pub(crate) fn json_schema() -> String {
    schema_of::<MembersFile>()
}

fn schema_of<T: JsonSchema>() -> String {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<T>();
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests;
