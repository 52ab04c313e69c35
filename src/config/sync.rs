//! `sources` and `sync` (SPEC §11): where `sync` reads people (identity providers and an HR
//! export) and the rules that turn their groups into the entries of the fragment it owns. Only
//! a Workspace file holds them. Plain data; decoding is in `decode/sync.rs`, the checks that
//! need the whole file in `check.rs`.

use schemars::JsonSchema;
use serde::Serialize;

use crate::config::{At, Expiry, RoleName, schema};
use crate::diag::Loc;

/// The default of `sync.max_changes`.
pub(crate) const DEFAULT_MAX_CHANGES: u32 = 25;

/// Where `sync` reads people, by kind: each kind at most once.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Sources {
    /// An Okta org. Credentials: `OKTA_CLIENT_ID` and `OKTA_PRIVATE_KEY_FILE` (OAuth 2.0
    /// client credentials with `private_key_jwt`, scope `okta.groups.read`), or
    /// `OKTA_API_TOKEN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) okta: Option<OktaSource>,
    /// A Microsoft Entra ID tenant, read through Microsoft Graph. Credentials:
    /// `ENTRA_CLIENT_ID` and `ENTRA_CLIENT_SECRET` (application permission
    /// `GroupMember.Read.All`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) entra: Option<EntraSource>,
    /// A Google Workspace domain, read through the Admin SDK Directory API. Credentials:
    /// `GOOGLE_APPLICATION_CREDENTIALS`, a service account's key file with domain-wide
    /// delegation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) google: Option<GoogleSource>,
    /// A CSV export (an HR system's): columns `email` and `group`, and optionally `role`,
    /// `as` and `expires`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) csv: Option<CsvSource>,
    /// The kinds the file names, also those whose settings have problems (reported where
    /// they are written).
    #[serde(skip)]
    #[schemars(skip)]
    pub(crate) named: Vec<SourceKind>,
}

impl Sources {
    /// Whether the file names a source of this kind.
    pub(crate) fn has(&self, kind: SourceKind) -> bool {
        self.named.contains(&kind)
    }
}

/// The kinds of source, as `sources` and a rule's `from` name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SourceKind {
    Okta,
    Entra,
    Google,
    Csv,
}

impl SourceKind {
    pub(crate) const ALL: [SourceKind; 4] = [
        SourceKind::Okta,
        SourceKind::Entra,
        SourceKind::Google,
        SourceKind::Csv,
    ];

    pub(crate) fn key(self) -> &'static str {
        match self {
            SourceKind::Okta => "okta",
            SourceKind::Entra => "entra",
            SourceKind::Google => "google",
            SourceKind::Csv => "csv",
        }
    }

    pub(crate) fn from_key(key: &str) -> Option<SourceKind> {
        SourceKind::ALL.into_iter().find(|k| k.key() == key)
    }
}

/// `sources.okta`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct OktaSource {
    /// The org's URL: `https://acme.okta.com`.
    #[schemars(schema_with = "schema::url_schema")]
    pub(crate) url: At<String>,
}

/// `sources.entra`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct EntraSource {
    /// The tenant: its id (a GUID) or one of its domains.
    #[schemars(schema_with = "schema::text_schema")]
    pub(crate) tenant: At<String>,
    /// Where tokens are asked for (default `https://login.microsoftonline.com`; another for a
    /// national cloud).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schema::url_schema")]
    pub(crate) login_url: Option<At<String>>,
    /// Microsoft Graph (default `https://graph.microsoft.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schema::url_schema")]
    pub(crate) graph_url: Option<At<String>>,
}

/// `sources.google`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct GoogleSource {
    /// The administrator the service account acts as (domain-wide delegation).
    #[schemars(schema_with = "schema::text_schema")]
    pub(crate) subject: At<String>,
    /// The Admin SDK (default `https://admin.googleapis.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schema::url_schema")]
    pub(crate) api_url: Option<At<String>>,
}

/// `sources.csv`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct CsvSource {
    /// The file, relative to the Workspace file, in its folder.
    #[schemars(schema_with = "schema::relative_path_schema")]
    pub(crate) path: At<String>,
}

/// `sync`: the fragment `sync` writes and the rules that fill it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct SyncSection {
    /// The fragment `sync` writes, relative to the Workspace file; an `include` must match it.
    /// Nobody edits it by hand: people listed by hand elsewhere win over it.
    #[schemars(schema_with = "schema::into_schema")]
    pub(crate) into: At<String>,
    /// A sync that would add, remove or change more people than this is refused (default 25).
    #[serde(default = "default_max_changes")]
    #[schemars(range(max = 4_294_967_295_u32))]
    pub(crate) max_changes: u32,
    /// In order; a person several rules match gets the highest role (admin, then a custom
    /// role, then member), is a member when any member rule matches, and joins the union of
    /// the rules' groups.
    #[serde(default)]
    #[schemars(schema_with = "schema::list_or_nothing::<Rule>")]
    pub(crate) rules: Vec<Rule>,
}

fn default_max_changes() -> u32 {
    DEFAULT_MAX_CHANGES
}

/// Whether a rule's people are members or guests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Joins {
    #[default]
    Member,
    Guest,
}

impl Joins {
    pub(crate) fn key(self) -> &'static str {
        match self {
            Joins::Member => "member",
            Joins::Guest => "guest",
        }
    }
}

/// One rule of `sync.rules`: the people of one group of one source.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Rule {
    /// The source, a key of `sources`.
    pub(crate) from: At<SourceKind>,
    /// The group: Okta's group id, Entra's group object id, Google's group email or id, or
    /// for csv the value of the `group` column.
    #[schemars(schema_with = "schema::name_schema")]
    pub(crate) group: At<String>,
    /// `admin`, `member` (default), or a custom role's name. For guests: a custom role that
    /// inherits the guest role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub(crate) role: Option<At<RoleName>>,
    /// `member` (default) or `guest`. A person a member rule and a guest rule both match is a
    /// member.
    #[serde(default, rename = "as")]
    pub(crate) joins: Joins,
    /// User groups of the file the people join.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "schema::list_or_nothing::<String>")]
    pub(crate) groups: Vec<At<String>>,
    /// Copied onto each person: from this date (00:00 UTC) or time on, they are removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) expires: Option<At<Expiry>>,
    /// Where the rule is in the file.
    #[serde(skip)]
    #[schemars(skip)]
    pub(crate) loc: Loc,
}

impl Rule {
    /// `okta:00g1abcd`: how `source:`, `--allow-empty` and messages name the rule's group.
    pub(crate) fn name(&self) -> String {
        format!("{}:{}", self.from.value.key(), self.group.value)
    }
}
