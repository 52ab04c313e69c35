//! The vocabulary shared by the desired state, the live Workspace and the plan: emails, roles,
//! guest permissions and shares. Plain data with no I/O; ClickUp's JSON shapes live in `wire`.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A ClickUp user id (also a guest's id in the guest endpoints).
pub(crate) type UserId = i64;

/// An email address, lower-cased, its domain in Unicode: ClickUp and this tool compare emails
/// case-insensitively, and `jo@münchen.example` is `jo@xn--mnchen-3ya.example` (IDNA).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct Email(Box<str>);

/// A domain as written in the file (`policy.member_domains`), normalised as the domains of
/// emails are (lower-case, in Unicode); why not when it is not a domain alone.
pub(crate) fn domain(text: &str) -> Result<String, InvalidDomain> {
    if text.contains("://") {
        return Err(InvalidDomain::Scheme);
    }
    if text.contains('@') {
        return Err(InvalidDomain::At);
    }
    if text.contains('/') || text.contains(':') {
        return Err(InvalidDomain::PathOrPort);
    }
    if text.chars().any(char::is_whitespace) {
        return Err(InvalidDomain::Spaces);
    }
    if text.split('.').count() < 2 || text.split('.').any(str::is_empty) {
        return Err(InvalidDomain::Labels);
    }
    let email = normalise(&format!("x@{text}"));
    Ok(email
        .split_once('@')
        .map_or(email.clone(), |(_, d)| d.to_owned()))
}

/// Why a `policy.member_domains` entry is not a domain alone, as a clause (`it has spaces`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum InvalidDomain {
    #[error("it has a scheme")]
    Scheme,
    #[error("it has an @ (write what comes after it)")]
    At,
    #[error("it has a path or a port")]
    PathOrPort,
    #[error("it has spaces")]
    Spaces,
    #[error("it needs labels joined by dots, none empty")]
    Labels,
}

/// Why an address written in the file is not acceptable, as a clause
/// (`it has spaces around it`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum InvalidEmail {
    #[error("it has spaces around it")]
    SpacesAround,
    /// What `email_address` found, told as a clause: `invalid character`.
    #[error("{}", clause(.0))]
    Rejected(email_address::Error),
}

/// `Invalid character.` as a clause: `invalid character`.
fn clause(error: &email_address::Error) -> String {
    let reason = error.to_string();
    let reason = reason.trim_end_matches('.');
    let mut chars = reason.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_lowercase().chain(chars).collect()
    })
}

impl Email {
    /// Checks and normalises an address written by a person: one `@`, a domain with a dot, no
    /// display name, no IP literal. Returns the reason when it is not acceptable.
    pub(crate) fn parse(text: &str) -> Result<Email, InvalidEmail> {
        let options = email_address::Options::default()
            .with_required_tld()
            .without_domain_literal()
            .without_display_text();
        let trimmed = text.trim();
        if trimmed != text {
            return Err(InvalidEmail::SpacesAround);
        }
        email_address::EmailAddress::parse_with_options(text, options)
            .map(|_| Email(normalise(text).into_boxed_str()))
            .map_err(InvalidEmail::Rejected)
    }

    /// An address as ClickUp reports it: trusted to be valid, only normalised.
    pub(crate) fn from_live(text: &str) -> Email {
        Email(normalise(text.trim()).into_boxed_str())
    }

    /// Like [`Email::from_live`], reusing the string when it is already normalised.
    pub(crate) fn from_live_owned(text: String) -> Email {
        let normal = !text.starts_with(char::is_whitespace)
            && !text.ends_with(char::is_whitespace)
            && !needs_idna(&text)
            && text
                .chars()
                .all(|c| c.to_lowercase().eq(std::iter::once(c)));
        if normal {
            Email(text.into_boxed_str())
        } else {
            Email::from_live(&text)
        }
    }

    /// Whether an address as ClickUp reports it is this one, without allocating.
    pub(crate) fn is(&self, live: &str) -> bool {
        let live = live.trim();
        if !needs_idna(live) && self.0.is_ascii() {
            live.eq_ignore_ascii_case(&self.0)
        } else {
            *normalise(live) == *self.0
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// What comes after the `@`.
    pub(crate) fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }
}

/// Whether the domain of `email` has an internationalised form to settle (Unicode, or an
/// ACE `xn--` label).
fn needs_idna(email: &str) -> bool {
    email.rsplit_once('@').is_some_and(|(_, domain)| {
        !domain.is_ascii()
            || domain
                .as_bytes()
                .windows(4)
                .any(|w| w.eq_ignore_ascii_case(b"xn--"))
    })
}

/// Lower-cased, with the domain in its Unicode form (UTS #46), so that both spellings of an
/// internationalised domain are one address. A domain IDNA cannot read is kept lower-cased.
fn normalise(email: &str) -> String {
    let lower = email.to_lowercase();
    if !needs_idna(&lower) {
        return lower;
    }
    let Some((local, domain)) = lower.rsplit_once('@') else {
        return lower;
    };
    match idna::domain_to_unicode(domain) {
        (unicode, Ok(())) => format!("{local}@{unicode}"),
        (_, Err(_)) => lower,
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl JsonSchema for Email {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Email".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // The pattern catches what validators that skip `format` would let through.
        schemars::json_schema!({
            "type": "string",
            "format": "email",
            "pattern": "^[^@\\s]+@[^@\\s]+$",
            "description": "An email address; compared case-insensitively."
        })
    }
}

/// The built-in roles of ClickUp, by their numeric codes (1 owner, 2 admin, 3 member, 4 guest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum BaseRole {
    Owner,
    Admin,
    Member,
    Guest,
}

impl BaseRole {
    pub(crate) fn from_code(code: i64) -> Option<BaseRole> {
        match code {
            1 => Some(BaseRole::Owner),
            2 => Some(BaseRole::Admin),
            3 => Some(BaseRole::Member),
            4 => Some(BaseRole::Guest),
            _ => None,
        }
    }

    pub(crate) fn code(self) -> i64 {
        match self {
            BaseRole::Owner => 1,
            BaseRole::Admin => 2,
            BaseRole::Member => 3,
            BaseRole::Guest => 4,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            BaseRole::Owner => "owner",
            BaseRole::Admin => "admin",
            BaseRole::Member => "member",
            BaseRole::Guest => "guest",
        }
    }
}

impl fmt::Display for BaseRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The five switches ClickUp keeps per guest.
// The names follow ClickUp's fields (`can_…`), which keeps the mapping obvious.
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum GuestFlag {
    CanSeeTimeSpent,
    CanSeeTimeEstimated,
    CanEditTags,
    CanCreateViews,
    CanSeePointsEstimated,
}

impl GuestFlag {
    pub(crate) const ALL: [GuestFlag; 5] = [
        GuestFlag::CanSeeTimeSpent,
        GuestFlag::CanSeeTimeEstimated,
        GuestFlag::CanEditTags,
        GuestFlag::CanCreateViews,
        GuestFlag::CanSeePointsEstimated,
    ];

    pub(crate) fn key(self) -> &'static str {
        match self {
            GuestFlag::CanSeeTimeSpent => "can_see_time_spent",
            GuestFlag::CanSeeTimeEstimated => "can_see_time_estimated",
            GuestFlag::CanEditTags => "can_edit_tags",
            GuestFlag::CanCreateViews => "can_create_views",
            GuestFlag::CanSeePointsEstimated => "can_see_points_estimated",
        }
    }

    pub(crate) fn from_key(key: &str) -> Option<GuestFlag> {
        GuestFlag::ALL.into_iter().find(|f| f.key() == key)
    }
}

/// A guest's switches. A switch left out is not managed (and, read from ClickUp, not reported).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct GuestPermissions {
    /// Whether the guest sees time tracked on tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub(crate) can_see_time_spent: Option<bool>,
    /// Whether the guest sees time estimates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub(crate) can_see_time_estimated: Option<bool>,
    /// Whether the guest can create and edit tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub(crate) can_edit_tags: Option<bool>,
    /// Whether the guest can create views.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub(crate) can_create_views: Option<bool>,
    /// Whether the guest sees sprint points estimates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub(crate) can_see_points_estimated: Option<bool>,
}

impl GuestPermissions {
    pub(crate) fn get(&self, flag: GuestFlag) -> Option<bool> {
        match flag {
            GuestFlag::CanSeeTimeSpent => self.can_see_time_spent,
            GuestFlag::CanSeeTimeEstimated => self.can_see_time_estimated,
            GuestFlag::CanEditTags => self.can_edit_tags,
            GuestFlag::CanCreateViews => self.can_create_views,
            GuestFlag::CanSeePointsEstimated => self.can_see_points_estimated,
        }
    }

    pub(crate) fn set(&mut self, flag: GuestFlag, value: Option<bool>) {
        let slot = match flag {
            GuestFlag::CanSeeTimeSpent => &mut self.can_see_time_spent,
            GuestFlag::CanSeeTimeEstimated => &mut self.can_see_time_estimated,
            GuestFlag::CanEditTags => &mut self.can_edit_tags,
            GuestFlag::CanCreateViews => &mut self.can_create_views,
            GuestFlag::CanSeePointsEstimated => &mut self.can_see_points_estimated,
        };
        *slot = value;
    }

    /// The flags that are set, in a fixed order.
    pub(crate) fn set_flags(&self) -> impl Iterator<Item = (GuestFlag, bool)> + '_ {
        GuestFlag::ALL
            .into_iter()
            .filter_map(|f| self.get(f).map(|v| (f, v)))
    }

    /// `other` laid over `self`: every flag `other` sets wins.
    pub(crate) fn merged(mut self, other: &GuestPermissions) -> GuestPermissions {
        for (flag, value) in other.set_flags() {
            self.set(flag, Some(value));
        }
        self
    }
}

/// What a guest can be shared on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ShareKind {
    Folder,
    List,
    Task,
}

impl ShareKind {
    pub(crate) const ALL: [ShareKind; 3] = [ShareKind::Folder, ShareKind::List, ShareKind::Task];

    pub(crate) fn key(self) -> &'static str {
        match self {
            ShareKind::Folder => "folder",
            ShareKind::List => "list",
            ShareKind::Task => "task",
        }
    }
}

/// The permission level of a share: read (view only), comment, edit or create (full access).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SharePermission {
    Read,
    Comment,
    Edit,
    Create,
}

impl SharePermission {
    pub(crate) const ALL: [SharePermission; 4] = [
        SharePermission::Read,
        SharePermission::Comment,
        SharePermission::Edit,
        SharePermission::Create,
    ];

    pub(crate) fn key(self) -> &'static str {
        match self {
            SharePermission::Read => "read",
            SharePermission::Comment => "comment",
            SharePermission::Edit => "edit",
            SharePermission::Create => "create",
        }
    }

    pub(crate) fn from_key(key: &str) -> Option<SharePermission> {
        SharePermission::ALL.into_iter().find(|p| p.key() == key)
    }
}

/// A folder, list or task, by its ClickUp id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct ShareTarget {
    pub(crate) kind: ShareKind,
    pub(crate) id: String,
}

impl fmt::Display for ShareTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.key(), self.id)
    }
}

/// One item shared with a guest, at a permission level.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct Share {
    pub(crate) target: ShareTarget,
    pub(crate) permission: SharePermission,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            Email::parse("Ada@Acme.Example").map(|e| e.to_string()),
            Ok("ada@acme.example".to_owned())
        );
        for bad in [
            "ada",
            "ada@",
            "@acme.example",
            "ada@localhost",
            "Ada <ada@acme.example>",
            " a@b.io",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn why_an_address_or_a_domain_is_refused_reads_as_a_clause() {
        let why = |text: &str| Email::parse(text).map(|_| ()).map_err(|e| e.to_string());
        assert_eq!(why(" a@b.io"), Err("it has spaces around it".to_owned()));
        assert_eq!(
            why("ada"),
            Err("missing separator character '@'".to_owned())
        );
        assert_eq!(why("ada@"), Err("domain is empty".to_owned()));
        let why = |text: &str| domain(text).map_err(|e| e.to_string());
        assert_eq!(
            why("https://acme.example"),
            Err("it has a scheme".to_owned())
        );
        assert_eq!(
            why("ada@acme.example"),
            Err("it has an @ (write what comes after it)".to_owned())
        );
        assert_eq!(
            why("acme.example:443"),
            Err("it has a path or a port".to_owned())
        );
        assert_eq!(why("acme .example"), Err("it has spaces".to_owned()));
        assert_eq!(
            why("acme"),
            Err("it needs labels joined by dots, none empty".to_owned())
        );
        assert_eq!(why("Acme.Example"), Ok("acme.example".to_owned()));
    }

    #[test]
    fn role_codes_round_trip() {
        for code in 1..=4 {
            assert_eq!(BaseRole::from_code(code).map(BaseRole::code), Some(code));
        }
        assert_eq!(BaseRole::from_code(5), None);
    }

    #[test]
    fn an_internationalised_domain_is_one_address_in_both_spellings() {
        let file = Email::parse("jo@münchen.example").expect("valid");
        let live = Email::from_live("JO@xn--mnchen-3ya.example");
        assert_eq!(file, live);
        assert_eq!(file.as_str(), "jo@münchen.example");
        assert!(file.is("jo@XN--MNCHEN-3YA.example"));
        assert!(live.is("Jo@München.example"));
        assert_eq!(
            Email::from_live_owned("jo@xn--mnchen-3ya.example".into()),
            file
        );
        assert_eq!(
            Email::from_live("a@plain.example").as_str(),
            "a@plain.example"
        );
    }
}
