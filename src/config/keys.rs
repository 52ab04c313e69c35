//! The keys each mapping of the members file accepts, in the order `fmt` writes them: what the
//! decoder checks a mapping's keys against (and suggests from), and what `fmt` orders by. Only
//! names here; what each key means is in the types of [`crate::config`].

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
