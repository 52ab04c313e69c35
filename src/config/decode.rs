//! Turns the YAML tree into a [`MembersFile`], collecting every problem instead of stopping at
//! the first: unknown keys (with a suggestion), missing keys, wrong types, bad emails, bad
//! enumerations. Each problem points at the key or value it is about. Pure.
//!
//! A file with problems still decodes into what could be read (a bad value replaced by its
//! default, an entry without a readable email or name left out), so that the rules checked on
//! the whole file (duplicates, group members) are reported in the same run.

use crate::config::{
    Access, AdminBounds, At, DEFAULT_EXPIRY_NOTICE_DAYS, DEFAULT_MAX_REMOVALS, Expiry,
    FragmentFile, Group, Guest, Member, MembersFile, Mode, Policy, RoleName, SeatBounds,
    WorkspaceSection, keys,
};
use crate::diag::{Diagnostic, Loc};
use crate::model::{
    Email, GuestFlag, GuestPermissions, Share, ShareKind, SharePermission, ShareTarget,
};
use crate::yaml::{Node, Value};

/// Decodes the file's tree, which it frees as it goes: the long lists (members, guests) are
/// taken out of it and each item is freed once decoded, so that the tree and the file it
/// becomes are never both whole.
pub(super) fn decode(mut root: Node) -> (Option<MembersFile>, Vec<Diagnostic>) {
    let mut d = Decoder::default();
    let members = take_list(&mut root, "members");
    let guests = take_list(&mut root, "guests");
    let file = d.file(&root, Lists { members, guests });
    // What is left of a large file's tree takes a while to free, and nothing waits for it
    // (if no thread can be started, it is freed here).
    let _ = std::thread::Builder::new().spawn(move || drop(root));
    (file, d.diags)
}

/// Decodes a fragment's tree. Keys that only a Workspace file holds are errors that say so.
pub(super) fn fragment(mut root: Node) -> (Option<FragmentFile>, Vec<Diagnostic>) {
    let mut d = Decoder::default();
    let members = take_list(&mut root, "members");
    let guests = take_list(&mut root, "guests");
    let fragment = d.fragment(&mut root, Lists { members, guests });
    (fragment, d.diags)
}

/// The items of the top-level list `key`, taken out of the tree (which keeps an empty list in
/// their place); `None` when the file has no such list.
fn take_list(root: &mut Node, key: &str) -> Option<Vec<Node>> {
    let Value::Map(entries) = &mut root.value else {
        return None;
    };
    entries
        .iter_mut()
        .find_map(|(k, v)| match (&k.value, &mut v.value) {
            (Value::Str(name), Value::Seq(items)) if name == key => Some(std::mem::take(items)),
            _ => None,
        })
}

/// The long lists of the file, taken out of its tree.
struct Lists {
    members: Option<Vec<Node>>,
    guests: Option<Vec<Node>>,
}

#[derive(Default)]
struct Decoder {
    diags: Vec<Diagnostic>,
}

/// The entries of a mapping whose keys were checked against the allowed ones.
struct Fields<'a> {
    loc: Loc,
    entries: Vec<(&'a str, &'a Node, &'a Node)>,
}

impl<'a> Fields<'a> {
    fn get(&self, key: &str) -> Option<&'a Node> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, _, v)| *v)
    }

    fn key_loc(&self, key: &str) -> Loc {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map_or(self.loc, |(_, k, _)| k.loc)
    }
}

impl Decoder {
    fn error(&mut self, loc: Loc, message: impl Into<String>) {
        self.diags.push(Diagnostic::new(loc, message));
    }

    fn wrong_type(&mut self, node: &Node, what: &str, expected: &str) {
        self.diags.push(
            Diagnostic::new(
                node.loc,
                format!("{what} must be {expected}, not {}", node.value.describe()),
            )
            .label(format!("expected {expected}")),
        );
    }

    /// A mapping with only the given keys. Unknown keys are reported with the closest known
    /// one; the known entries are returned even then, so their own problems are found too.
    fn map<'a>(&mut self, node: &'a Node, what: &str, keys: &[&str]) -> Option<Fields<'a>> {
        let Value::Map(entries) = &node.value else {
            self.wrong_type(node, what, "a mapping");
            return None;
        };
        let mut fields = Fields {
            loc: node.loc,
            entries: Vec::with_capacity(entries.len()),
        };
        for (key, value) in entries {
            let Value::Str(name) = &key.value else {
                self.error(
                    key.loc,
                    format!(
                        "{what} has a key that is {}, not text",
                        key.value.describe()
                    ),
                );
                continue;
            };
            if keys.contains(&name.as_str()) {
                fields.entries.push((name.as_str(), key, value));
            } else {
                let mut diag =
                    Diagnostic::new(key.loc, format!("unknown key \"{name}\" in {what}"))
                        .label("unknown key");
                diag = match closest(name, keys) {
                    Some(near) => diag.help(format!(
                        "did you mean \"{near}\"? {what} takes: {}",
                        keys.join(", ")
                    )),
                    None => diag.help(format!("{what} takes: {}", keys.join(", "))),
                };
                self.diags.push(diag);
            }
        }
        Some(fields)
    }

    fn required<'a>(&mut self, fields: &Fields<'a>, key: &str, what: &str) -> Option<&'a Node> {
        let found = fields.get(key);
        if found.is_none() {
            self.diags.push(
                Diagnostic::new(fields.loc, format!("{what} is missing the key \"{key}\""))
                    .label(format!("no \"{key}\" here")),
            );
        }
        found
    }

    fn text(&mut self, node: &Node, what: &str) -> Option<At<String>> {
        match &node.value {
            Value::Str(s) if s.trim().is_empty() => {
                self.error(node.loc, format!("{what} must not be empty"));
                None
            }
            Value::Str(s) => Some(At::new(s.clone(), node.loc)),
            _ => {
                self.wrong_type(node, what, "text");
                None
            }
        }
    }

    /// A list; an empty value (`members:` with nothing under it) is an empty list.
    fn list<'a>(&mut self, node: &'a Node, what: &str) -> Option<&'a [Node]> {
        match &node.value {
            Value::Seq(items) => Some(items),
            Value::Null => Some(&[]),
            _ => {
                self.wrong_type(node, what, "a list");
                None
            }
        }
    }

    /// Keys whose presence means "manage and remove the rest" must not be left empty by
    /// accident: `groups:` with nothing under it is an error, `groups: []` is explicit.
    fn explicit_list<'a>(
        &mut self,
        node: &'a Node,
        key_loc: Loc,
        key: &str,
        empty_means: &str,
        absent_means: &str,
    ) -> Option<&'a Node> {
        if node.value == Value::Null {
            self.diags.push(
                Diagnostic::new(key_loc, format!("{key} is empty"))
                    .label("empty")
                    .help(format!(
                        "write `{key}: []` to {empty_means}, or remove the key to {absent_means}"
                    )),
            );
            return None;
        }
        Some(node)
    }

    fn email(&mut self, node: &Node, what: &str) -> Option<At<Email>> {
        let Value::Str(text) = &node.value else {
            self.wrong_type(node, what, "an email address");
            return None;
        };
        match Email::parse(text) {
            Ok(email) => Some(At::new(email, node.loc)),
            Err(reason) => {
                self.diags.push(
                    Diagnostic::new(
                        node.loc,
                        format!("\"{text}\" is not a valid email address: {reason}"),
                    )
                    .label("not an email address"),
                );
                None
            }
        }
    }

    /// `expires:` a date or an RFC 3339 time with its zone.
    fn expiry(&mut self, node: &Node) -> Option<At<Expiry>> {
        let Value::Str(text) = &node.value else {
            self.wrong_type(
                node,
                "expires",
                "a date (2027-03-31) or a time with its zone",
            );
            return None;
        };
        match Expiry::parse(text.trim()) {
            Ok(expiry) => Some(At::new(expiry, node.loc)),
            Err(why) => {
                self.diags.push(
                    Diagnostic::new(node.loc, format!("expires: {why}"))
                        .label("not a date")
                        .help("write a date, 2027-03-31 (from 00:00 UTC), or a time with its zone, 2027-03-31T17:00:00+02:00"),
                );
                None
            }
        }
    }

    /// A count of people under `policy`: a whole number, 0 or more.
    fn count(&mut self, node: &Node, name: &str) -> Option<u32> {
        match whole(&node.value) {
            Some(i) if (0..=i128::from(u32::MAX)).contains(&i) => u32::try_from(i).ok(),
            Some(i) => {
                self.diags.push(Diagnostic::new(
                    node.loc,
                    format!("{name} must be a whole number, 0 or more, not {i}"),
                ));
                None
            }
            None => {
                self.wrong_type(node, name, "a whole number (0 or more)");
                None
            }
        }
    }

    /// `policy.admins: {min, max}`: whole numbers, `min` at most `max`.
    fn admins(&mut self, node: &Node, key_loc: Loc) -> Option<AdminBounds> {
        let fields = self.map(node, "policy.admins", keys::ADMINS)?;
        let mut bound = |key: &str| {
            let n = fields.get(key)?;
            self.count(n, &format!("policy.admins.{key}"))
                .map(|v| (v, n.loc))
        };
        let min = bound("min");
        let max = bound("max");
        if let (Some((low, loc)), Some((high, _))) = (min, max)
            && low > high
        {
            self.diags.push(
                Diagnostic::new(
                    loc,
                    format!("policy.admins.min ({low}) is above max ({high})"),
                )
                .label("above max"),
            );
            return None;
        }
        Some(AdminBounds {
            min: min.map(|(v, _)| v),
            max: max.map(|(v, _)| v),
            loc: key_loc,
        })
    }

    /// `policy.seats: {max_members, max_guests}`: whole numbers.
    fn seats(&mut self, node: &Node, key_loc: Loc) -> Option<SeatBounds> {
        let fields = self.map(node, "policy.seats", keys::SEATS)?;
        let mut bound = |key: &str| {
            let n = fields.get(key)?;
            self.count(n, &format!("policy.seats.{key}"))
        };
        Some(SeatBounds {
            max_members: bound("max_members"),
            max_guests: bound("max_guests"),
            loc: key_loc,
        })
    }

    /// A domain of `policy.member_domains`, normalised as emails' domains are.
    fn domain(&mut self, node: &Node) -> Option<At<String>> {
        let Value::Str(text) = &node.value else {
            self.wrong_type(node, "an entry of policy.member_domains", "a domain");
            return None;
        };
        match crate::model::domain(text) {
            Ok(domain) => Some(At::new(domain, node.loc)),
            Err(why) => {
                self.diags.push(
                    Diagnostic::new(node.loc, format!("\"{text}\" is not a domain: {why}"))
                        .label("not a domain")
                        .help("write the domain alone, as in an email after the @: acme.example"),
                );
                None
            }
        }
    }

    fn bool(&mut self, node: &Node, what: &str) -> Option<bool> {
        match node.value {
            Value::Bool(b) => Some(b),
            _ => {
                self.wrong_type(node, what, "true or false");
                None
            }
        }
    }

    fn id(&mut self, node: &Node, what: &str) -> Option<String> {
        let id = match &node.value {
            _ if whole(&node.value).is_some_and(|n| n >= 0) => {
                whole(&node.value).unwrap_or_default().to_string()
            }
            Value::Str(s) => s.trim().to_owned(),
            _ => {
                self.wrong_type(node, what, "an id (text or a whole number)");
                return None;
            }
        };
        if id.is_empty() {
            self.error(node.loc, format!("{what} must not be empty"));
            return None;
        }
        Some(id)
    }

    fn file(&mut self, root: &Node, lists: Lists) -> Option<MembersFile> {
        match &root.value {
            Value::Null => {
                self.diags.push(
                    Diagnostic::new(Loc::new(1, 1), "the file is empty")
                        .help("a members file starts with `version: 1` and `workspace: {id: …}`"),
                );
                return None;
            }
            Value::Map(_) => {}
            other => {
                self.diags.push(
                    Diagnostic::new(
                        root.loc,
                        format!(
                            "the file must be a mapping (version:, workspace:, members: …), not {}",
                            other.describe()
                        ),
                    )
                    .label("expected a mapping"),
                );
                return None;
            }
        }
        let fields = self.map(root, "the file", keys::FILE)?;
        let version = self
            .required(&fields, "version", "the file")
            .and_then(|n| self.version(n));
        let workspace = self
            .required(&fields, "workspace", "the file")
            .and_then(|n| self.workspace(n));
        let policy = fields
            .get("policy")
            .map_or_else(|| Some(Policy::default()), |n| self.policy(n));
        let people = self.people(&fields, lists);
        let include = fields
            .get("include")
            .map(|n| self.include(n))
            .unwrap_or_default();
        Some(MembersFile {
            include,
            sources: Vec::new(),
            version: version.unwrap_or(1),
            workspace: workspace.unwrap_or_else(|| WorkspaceSection {
                id: At::new(String::new(), root.loc),
                name: None,
            }),
            policy: policy.unwrap_or_default(),
            members: people.members,
            guests: people.guests,
            groups: people.groups,
        })
    }

    /// `members`, `guests` and `groups`, as a Workspace file and a fragment hold them: what
    /// could be read of each (a list that is no list is reported and left empty).
    fn people(&mut self, fields: &Fields<'_>, lists: Lists) -> FragmentFile {
        let members = match (fields.get("members"), lists.members) {
            (_, Some(items)) => self.owned_items(items, Self::member),
            (Some(n), None) => self.items(n, "members", Self::member).unwrap_or_default(),
            (None, None) => Vec::new(),
        };
        let guests = match (fields.get("guests"), lists.guests) {
            (_, Some(items)) => self.owned_items(items, Self::guest),
            (Some(n), None) => self.items(n, "guests", Self::guest).unwrap_or_default(),
            (None, None) => Vec::new(),
        };
        let groups = fields.get("groups").and_then(|n| {
            self.explicit_list(
                n,
                fields.key_loc("groups"),
                "groups",
                "manage groups and want none",
                "leave groups alone",
            )
            .and_then(|n| self.items(n, "groups", Self::group))
        });
        FragmentFile {
            members,
            guests,
            groups,
        }
    }

    fn fragment(&mut self, root: &mut Node, lists: Lists) -> Option<FragmentFile> {
        match &mut root.value {
            Value::Null => return Some(FragmentFile::default()),
            Value::Map(entries) => {
                // Keys of the Workspace file: said so, then left out.
                let diags = &mut self.diags;
                entries.retain(|(key, _)| {
                    let Value::Str(name) = &key.value else {
                        return true;
                    };
                    let message = match name.as_str() {
                        "include" => "a fragment may not include other files; list every fragment in the Workspace file's include",
                        "version" | "workspace" | "policy" => "a fragment holds only members, guests and groups; this key belongs in the Workspace file",
                        _ => return true,
                    };
                    diags.push(
                        Diagnostic::new(key.loc, format!("{name}: {message}"))
                            .label("only in the Workspace file"),
                    );
                    false
                });
            }
            other => {
                let loc = root.loc;
                let what = other.describe();
                self.diags.push(
                    Diagnostic::new(
                        loc,
                        format!(
                            "a fragment must be a mapping (members:, guests:, groups:), not {what}"
                        ),
                    )
                    .label("expected a mapping"),
                );
                return None;
            }
        }
        let fields = self.map(root, "a fragment", keys::FRAGMENT)?;
        Some(self.people(&fields, lists))
    }

    /// `include: [globs]`: fragment files, relative to the Workspace file.
    fn include(&mut self, node: &Node) -> Vec<At<String>> {
        let Some(items) = self.list(node, "include") else {
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| match &item.value {
                Value::Str(s) if !s.trim().is_empty() => {
                    Some(At::new(s.trim().to_owned(), item.loc))
                }
                _ => {
                    self.wrong_type(
                        item,
                        "an entry of include",
                        "a file name or glob (teams/*.yaml)",
                    );
                    None
                }
            })
            .collect()
    }

    fn version(&mut self, node: &Node) -> Option<u32> {
        match whole(&node.value) {
            Some(1) => Some(1),
            Some(n) => {
                self.diags.push(
                    Diagnostic::new(node.loc, format!("version must be 1, not {n}"))
                        .label("unsupported version")
                        .help("this clickup-members reads version 1 of the file format"),
                );
                None
            }
            _ => {
                self.wrong_type(node, "version", "the number 1");
                None
            }
        }
    }

    fn workspace(&mut self, node: &Node) -> Option<WorkspaceSection> {
        let fields = self.map(node, "workspace", keys::WORKSPACE)?;
        let id = self.required(&fields, "id", "workspace").and_then(|n| {
            let id = match &n.value {
                // Not trimmed: the id goes into URLs as written.
                Value::Str(s) if !s.is_empty() => s.clone(),
                _ => self.id(n, "workspace.id")?,
            };
            if id.chars().all(|c| c.is_ascii_digit()) {
                Some(At::new(id, n.loc))
            } else {
                self.diags.push(
                    Diagnostic::new(n.loc, format!("workspace.id must be digits, not \"{id}\""))
                        .help("the Workspace id is the number in https://app.clickup.com/<id>/…"),
                );
                None
            }
        });
        let name = match fields.get("name") {
            None => Some(None),
            Some(n) => match &n.value {
                Value::Int(i) => Some(Some(At::new(i.to_string(), n.loc))),
                _ => self.text(n, "workspace.name").map(Some),
            },
        };
        Some(WorkspaceSection {
            id: id?,
            name: name.unwrap_or(None),
        })
    }

    fn policy(&mut self, node: &Node) -> Option<Policy> {
        let fields = self.map(node, "policy", keys::POLICY)?;
        let mode = match fields.get("mode") {
            None => Some(Mode::default()),
            Some(n) => match &n.value {
                Value::Str(s) if s == "additive" => Some(Mode::Additive),
                Value::Str(s) if s == "authoritative" => Some(Mode::Authoritative),
                _ => {
                    let found = match &n.value {
                        Value::Str(s) => format!("\"{s}\""),
                        other => other.describe().to_owned(),
                    };
                    let mut diag = Diagnostic::new(
                        n.loc,
                        format!("policy.mode must be additive or authoritative, not {found}"),
                    )
                    .label("unknown mode");
                    if let Value::Str(s) = &n.value
                        && let Some(near) =
                            closest(s, &[Mode::Additive.name(), Mode::Authoritative.name()])
                    {
                        diag = diag.help(format!("did you mean \"{near}\"?"));
                    }
                    self.diags.push(diag);
                    None
                }
            },
        };
        let max_removals = match fields.get("max_removals") {
            None => Some(DEFAULT_MAX_REMOVALS),
            Some(n) => match whole(&n.value) {
                Some(i) if (0..=i128::from(u32::MAX)).contains(&i) => u32::try_from(i).ok(),
                Some(i) => {
                    let message = if i < 0 {
                        format!("policy.max_removals must be 0 or more, not {i}")
                    } else {
                        format!("policy.max_removals must be at most {}, not {i}", u32::MAX)
                    };
                    self.diags
                        .push(Diagnostic::new(n.loc, message).help("0 allows no removal at all"));
                    None
                }
                _ => {
                    self.wrong_type(n, "policy.max_removals", "a whole number (0 or more)");
                    None
                }
            },
        };
        let protected = match fields.get("protected") {
            None => Some(Vec::new()),
            Some(n) => self.list(n, "policy.protected").map(|items| {
                items
                    .iter()
                    .filter_map(|item| self.email(item, "an entry of policy.protected"))
                    .collect::<Vec<_>>()
            }),
        };
        let member_domains = match fields.get("member_domains") {
            None => None,
            Some(n) => {
                let domains: Vec<At<String>> = self
                    .list(n, "policy.member_domains")
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|item| self.domain(item))
                    .collect();
                if matches!(&n.value, Value::Seq(items) if items.is_empty())
                    || n.value == Value::Null
                {
                    self.diags.push(
                        Diagnostic::new(
                            fields.key_loc("member_domains"),
                            "policy.member_domains is empty",
                        )
                        .label("empty")
                        .help("list the domains members may have, or remove the key to allow any"),
                    );
                }
                Some(domains)
            }
        };
        let admins = fields
            .get("admins")
            .and_then(|n| self.admins(n, fields.key_loc("admins")));
        let seats = fields
            .get("seats")
            .and_then(|n| self.seats(n, fields.key_loc("seats")));
        let expiry_notice_days = match fields.get("expiry_notice_days") {
            None => DEFAULT_EXPIRY_NOTICE_DAYS,
            Some(n) => match whole(&n.value) {
                Some(i) if (0..=36_500).contains(&i) => {
                    u32::try_from(i).unwrap_or(DEFAULT_EXPIRY_NOTICE_DAYS)
                }
                Some(i) => {
                    self.diags.push(Diagnostic::new(
                        n.loc,
                        format!(
                            "policy.expiry_notice_days must be a whole number of days, 0 to 36500, not {i}"
                        ),
                    ));
                    DEFAULT_EXPIRY_NOTICE_DAYS
                }
                None => {
                    self.wrong_type(
                        n,
                        "policy.expiry_notice_days",
                        "a whole number of days, 0 to 36500",
                    );
                    DEFAULT_EXPIRY_NOTICE_DAYS
                }
            },
        };
        Some(Policy {
            mode: mode.unwrap_or_default(),
            max_removals: max_removals.unwrap_or(DEFAULT_MAX_REMOVALS),
            protected: protected.unwrap_or_default(),
            member_domains,
            admins,
            seats,
            expiry_notice_days,
        })
    }

    /// A list whose items are decoded one by one; every item is checked even after a bad one,
    /// and the items that could be read are kept.
    fn items<T>(
        &mut self,
        node: &Node,
        what: &str,
        item: fn(&mut Self, &Node) -> Option<T>,
    ) -> Option<Vec<T>> {
        let items = self.list(node, what)?;
        Some(items.iter().filter_map(|n| item(self, n)).collect())
    }

    /// [`Decoder::items`] of a list taken out of the tree: each item is freed once decoded.
    fn owned_items<T>(
        &mut self,
        items: Vec<Node>,
        item: fn(&mut Self, &Node) -> Option<T>,
    ) -> Vec<T> {
        items.into_iter().filter_map(|n| item(self, &n)).collect()
    }

    fn member(&mut self, node: &Node) -> Option<Member> {
        let fields = self.map(node, "a member", keys::MEMBER)?;
        let email = self
            .required(&fields, "email", "a member")
            .and_then(|n| self.email(n, "email"));
        let role = match fields.get("role") {
            None => Some(At::new(RoleName::Member, node.loc)),
            Some(n) => self
                .text(n, "role")
                .map(|t| At::new(RoleName::parse(t.value.trim()), t.loc)),
        };
        let role = match role {
            Some(At {
                value: RoleName::Custom(name),
                loc,
            }) if name.eq_ignore_ascii_case("guest") => {
                self.diags.push(
                    Diagnostic::new(loc, "a member cannot have the role \"guest\"")
                        .help("list guests under `guests:` instead"),
                );
                None
            }
            role => role,
        };
        let expires = fields
            .get("expires")
            .and_then(|n| self.expiry(n))
            .map(Box::new);
        Some(Member {
            email: email?,
            role: role.unwrap_or_else(|| At::new(RoleName::Member, node.loc)),
            expires,
        })
    }

    fn guest(&mut self, node: &Node) -> Option<Guest> {
        let fields = self.map(node, "a guest", keys::GUEST)?;
        let email = self
            .required(&fields, "email", "a guest")
            .and_then(|n| self.email(n, "email"));
        let permissions = match fields.get("permissions") {
            None => Some(GuestPermissions::default()),
            Some(n) => self.permissions(n),
        };
        let custom_role = match fields.get("custom_role") {
            None => Some(None),
            Some(n) => self
                .text(n, "custom_role")
                .map(|t| Some(At::new(t.value.trim().to_owned(), t.loc))),
        };
        let access = match fields.get("access") {
            None => Some(None),
            Some(n) => self
                .explicit_list(
                    n,
                    fields.key_loc("access"),
                    "access",
                    "remove every share of this guest",
                    "leave the guest's shares alone",
                )
                .and_then(|n| self.items(n, "access", Self::access))
                .map(Some),
        };
        let expires = fields
            .get("expires")
            .and_then(|n| self.expiry(n))
            .map(Box::new);
        Some(Guest {
            email: email?,
            permissions: permissions.unwrap_or_default(),
            custom_role: custom_role.unwrap_or(None),
            access: access.unwrap_or(None),
            expires,
        })
    }

    fn permissions(&mut self, node: &Node) -> Option<GuestPermissions> {
        let keys: Vec<&str> = GuestFlag::ALL.iter().map(|f| f.key()).collect();
        let fields = self.map(node, "permissions", &keys)?;
        let mut permissions = GuestPermissions::default();
        let mut ok = true;
        for (key, _, value) in &fields.entries {
            let Some(flag) = GuestFlag::from_key(key) else {
                continue;
            };
            match self.bool(value, &format!("permissions.{key}")) {
                Some(b) => permissions.set(flag, Some(b)),
                None => ok = false,
            }
        }
        ok.then_some(permissions)
    }

    fn access(&mut self, node: &Node) -> Option<Access> {
        let fields = self.map(node, "an access entry", keys::ACCESS)?;
        let mut targets: Vec<(ShareKind, &Node, &Node)> = ShareKind::ALL
            .into_iter()
            .filter_map(|k| {
                fields
                    .entries
                    .iter()
                    .find(|(name, _, _)| *name == k.key())
                    .map(|(_, key, value)| (k, *key, *value))
            })
            .collect();
        targets.sort_by_key(|(_, key, _)| key.loc);
        let target = match targets.as_slice() {
            [(kind, _, n)] => self.id(n, kind.key()).and_then(|id| {
                // ClickUp's folder and list ids are numbers (they go into a request's path).
                if *kind != ShareKind::Task && !id.chars().all(|c| c.is_ascii_digit()) {
                    self.error(
                        n.loc,
                        format!(
                            "a {} id is a number (the digits in its ClickUp link), not \"{id}\"",
                            kind.key()
                        ),
                    );
                    return None;
                }
                Some(ShareTarget { kind: *kind, id })
            }),
            [] => {
                self.diags.push(
                    Diagnostic::new(
                        node.loc,
                        "an access entry needs one of folder, list or task",
                    )
                    .help("for example `- list: \"901234567\"` with `permission: read`"),
                );
                None
            }
            [_, (_, second, _), ..] => {
                self.error(
                    second.loc,
                    "an access entry names one folder, list or task; split it into several entries",
                );
                None
            }
        };
        let permission = self
            .required(&fields, "permission", "an access entry")
            .and_then(|n| {
                let found = match &n.value {
                    Value::Str(s) => SharePermission::from_key(s).ok_or(format!("\"{s}\"")),
                    other => Err(other.describe().to_owned()),
                };
                match found {
                    Ok(p) => Some(p),
                    Err(found) => {
                        let mut diag = Diagnostic::new(
                            n.loc,
                            format!(
                                "permission must be one of read, comment, edit, create; not {found}"
                            ),
                        )
                        .label("unknown permission level");
                        let levels = SharePermission::ALL.map(SharePermission::key);
                        if let Value::Str(s) = &n.value
                            && let Some(near) = closest(s, &levels)
                        {
                            diag = diag.help(format!("did you mean \"{near}\"?"));
                        }
                        self.diags.push(diag);
                        None
                    }
                }
            });
        Some(Access {
            share: Share {
                target: target?,
                permission: permission?,
            },
            loc: node.loc,
        })
    }

    fn group(&mut self, node: &Node) -> Option<Group> {
        let fields = self.map(node, "a group", keys::GROUP)?;
        let name = self
            .required(&fields, "name", "a group")
            .and_then(|n| match &n.value {
                Value::Int(i) => Some(At::new(i.to_string(), n.loc)),
                _ => self.text(n, "name"),
            })
            .map(|t| At::new(t.value.trim().to_owned(), t.loc));
        let handle = match fields.get("handle") {
            None => Some(None),
            Some(n) => self.text(n, "handle").map(Some),
        };
        let members = match fields.get("members") {
            None => Some(Vec::new()),
            Some(n) => self.list(n, "a group's members").map(|items| {
                items
                    .iter()
                    .filter_map(|item| self.email(item, "a group member"))
                    .collect()
            }),
        };
        Some(Group {
            name: name?,
            handle: handle.unwrap_or(None),
            members: members.unwrap_or_default(),
        })
    }
}

/// A whole number, written as one (`3`) or with a zero fraction (`3.0`), as JSON Schema's
/// `integer` counts it.
fn whole(value: &Value) -> Option<i128> {
    match value {
        Value::Int(n) => Some(*n),
        // Exact: within ±2^53 every whole f64 is the integer it shows.
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => {
            Some(*f as i128)
        }
        _ => None,
    }
}

/// The allowed key nearest to a misspelt one, when it is near enough to be a typo.
fn closest<'k>(word: &str, keys: &[&'k str]) -> Option<&'k str> {
    keys.iter()
        .map(|k| (strsim::levenshtein(word, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}
