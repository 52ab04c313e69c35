//! The keys each mapping of the members file accepts, in the order `fmt` writes them: what the
//! decoder checks a mapping's keys against (and suggests from), and what `fmt` orders by. Only
//! names here; what each key means is in the types of [`crate::config`].

pub(crate) const FILE: &[&str] = &[
    "version",
    "workspace",
    "include",
    "sources",
    "sync",
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
pub(crate) const MEMBER: &[&str] = &["email", "role", "expires", "groups", "source"];
pub(crate) const GUEST: &[&str] = &[
    "email",
    "permissions",
    "custom_role",
    "access",
    "expires",
    "groups",
    "source",
];
pub(crate) const ACCESS: &[&str] = &["folder", "list", "task", "permission"];
pub(crate) const GROUP: &[&str] = &["name", "handle", "members"];
pub(crate) const SOURCES: &[&str] = &["okta", "entra", "google", "csv"];
pub(crate) const OKTA: &[&str] = &["url"];
pub(crate) const ENTRA: &[&str] = &["tenant", "login_url", "graph_url"];
pub(crate) const GOOGLE: &[&str] = &["subject", "api_url"];
pub(crate) const CSV: &[&str] = &["path"];
pub(crate) const SYNC: &[&str] = &["into", "max_changes", "rules"];
pub(crate) const RULE: &[&str] = &["from", "group", "role", "as", "groups", "expires"];
