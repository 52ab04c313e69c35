//! The desired-state file (`members.yaml`): its types, which are also the source of the JSON
//! Schema, its decoding from YAML with every problem reported at once, and the rules of SPEC §1
//! that need no network.
//!
//! Reading the file is the only I/O here (`load`); decoding and checking are pure.

mod check;
mod decode;
mod include;
pub(crate) mod keys;
mod load;
mod meaning;
mod schema;
pub(crate) mod sync;

pub(crate) use load::{
    Decoded, LoadError, Loaded, decode_file, load, load_for_sync, load_with, parse_fragment_str,
    parse_str, parse_unchecked_str,
};
pub(crate) use schema::{fragment_json_schema, json_schema};
pub(crate) use sync::{Joins, Rule, SourceKind, Sources, SyncSection};

use schemars::JsonSchema;
use serde::Serialize;

use crate::diag::Loc;
use crate::model::{BaseRole, Email, GuestPermissions, Share, ShareTarget};

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

/// The whole desired-state file.
///
/// Who belongs in a ClickUp Workspace, with which role; guests with their permissions and
/// shares; user groups. Read by `clickup-members plan` and `apply`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(title = "clickup-members desired state", deny_unknown_fields)]
pub(crate) struct MembersFile {
    /// Format version of this file: always 1.
    #[schemars(schema_with = "schema::version_schema")]
    pub(crate) version: u32,
    /// The Workspace this file describes.
    pub(crate) workspace: WorkspaceSection,
    /// Fragment files whose members, guests and groups are merged into this file: globs
    /// relative to this file (`teams/*.yaml`), each matching at least one file. A fragment
    /// holds only `members`, `guests` and `groups`, so that each team can own its own file.
    #[serde(default, skip_serializing)]
    #[schemars(schema_with = "schema::includes")]
    pub(crate) include: Vec<At<String>>,
    /// The names of the files the entries come from, by [`Loc::file`]: this file, then its
    /// fragments in the order they are merged. Empty when there are no fragments.
    #[serde(skip)]
    #[schemars(skip)]
    pub(crate) files: Vec<String>,
    /// Where `clickup-members sync` reads people: identity providers and an HR export.
    /// Credentials come from the environment only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sources: Option<Sources>,
    /// What `clickup-members sync` writes: the fragment it owns (`into`) and the rules that
    /// turn the sources' groups into its entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sync: Option<SyncSection>,
    /// How far the tool may go.
    #[serde(default)]
    pub(crate) policy: Policy,
    /// Members (owner, admins, members and custom roles), one entry per person.
    #[serde(default)]
    #[schemars(schema_with = "schema::list_or_nothing::<Member>")]
    pub(crate) members: Vec<Member>,
    /// Guests, with the switches and shares the tool manages for them.
    #[serde(default)]
    #[schemars(schema_with = "schema::list_or_nothing::<Guest>")]
    pub(crate) guests: Vec<Guest>,
    /// User groups (the "Teams" of ClickUp's UI). Groups are managed only when this key is
    /// present; `groups: []` manages them and wants none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Vec<Group>")]
    pub(crate) groups: Option<Vec<Group>>,
}

/// A fragment of a Workspace file (`include:`): members, guests and user groups that a team
/// owns in its own file, merged into the Workspace file that includes it.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
#[schemars(title = "clickup-members fragment", deny_unknown_fields)]
pub(crate) struct FragmentFile {
    /// Members (owner, admins, members and custom roles), one entry per person.
    #[serde(default)]
    #[schemars(schema_with = "schema::list_or_nothing::<Member>")]
    pub(crate) members: Vec<Member>,
    /// Guests, with the switches and shares the tool manages for them.
    #[serde(default)]
    #[schemars(schema_with = "schema::list_or_nothing::<Guest>")]
    pub(crate) guests: Vec<Guest>,
    /// User groups. A fragment with this key makes the Workspace's groups managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Vec<Group>")]
    pub(crate) groups: Option<Vec<Group>>,
}

/// Which Workspace the file describes.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct WorkspaceSection {
    /// The Workspace (team) id, as in `https://app.clickup.com/<id>/…`.
    #[schemars(schema_with = "schema::workspace_id_schema")]
    pub(crate) id: At<String>,
    /// When set, the plan fails if the live Workspace has another name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schema::name_schema")]
    pub(crate) name: Option<At<String>>,
}

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
    #[schemars(schema_with = "schema::list_or_nothing::<Email>")]
    pub(crate) protected: Vec<At<Email>>,
    /// Every entry of `members` must have an email in one of these domains (exact and
    /// case-insensitive: list subdomains too if they are allowed). Guests are not bound.
    /// Absent: members may have any domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schema::domains")]
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
    /// User groups of the file the member joins, beside those whose `members` list them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "schema::group_names")]
    pub(crate) groups: Vec<At<String>>,
    /// The `sync` rules that brought the member (`okta:00g1abcd`). Informational: it does not
    /// change the plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "schema::source_names")]
    pub(crate) source: Vec<At<String>>,
}

/// When access ends: a moment in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
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
    #[schemars(schema_with = "schema::text_schema")]
    pub(crate) custom_role: Option<At<String>>,
    /// What the guest is shared on. Left out: not managed; listed: exactly these shares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Vec<Access>")]
    pub(crate) access: Option<Vec<Access>>,
    /// From this date (00:00 UTC) or time on, the guest is removed (`2027-03-31`, or a time
    /// with its zone, `2027-03-31T17:00:00+02:00`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) expires: Option<Box<At<Expiry>>>,
    /// User groups of the file the guest joins, beside those whose `members` list them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "schema::group_names")]
    pub(crate) groups: Vec<At<String>>,
    /// The `sync` rules that brought the guest (`csv:contractors`). Informational: it does not
    /// change the plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "schema::source_names")]
    pub(crate) source: Vec<At<String>>,
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

/// A user group.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Group {
    /// The group's name, unique in the file (case-insensitive).
    #[schemars(schema_with = "schema::name_schema")]
    pub(crate) name: At<String>,
    /// The group's @handle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schema::text_schema")]
    pub(crate) handle: Option<At<String>>,
    /// The group's members; each must be listed in `members` or `guests`.
    #[serde(default)]
    #[schemars(schema_with = "schema::list_or_nothing::<Email>")]
    pub(crate) members: Vec<At<Email>>,
}

impl MembersFile {
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

    /// `teams/eng.yaml:12:5` for a place in a file with fragments, `line 12` for one without:
    /// how a message names another place.
    pub(crate) fn place(&self, loc: Loc) -> String {
        match self.files.get(usize::from(loc.file)) {
            Some(name) if self.files.len() > 1 => format!("{name}:{loc}"),
            _ => format!("line {}", loc.line),
        }
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

#[cfg(test)]
mod tests;
