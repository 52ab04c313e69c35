//! The people and groups of the file: members, guests (their switches and shares) and user
//! groups, each entry decoded on its own. An entry without a readable email or name is left
//! out; its other problems are still reported. Pure.

use crate::config::decode::{Decoder, Fields, closest};
use crate::config::{Access, At, Group, Guest, Member, RoleName, keys};
use crate::diag::Diagnostic;
use crate::model::{GuestFlag, GuestPermissions, Share, ShareKind, SharePermission, ShareTarget};
use crate::yaml::{Node, Value};

impl Decoder {
    pub(super) fn member(&mut self, node: &Node) -> Option<Member> {
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
        let (groups, source) = self.joined(&fields);
        Some(Member {
            email: email?,
            role: role.unwrap_or_else(|| At::new(RoleName::Member, node.loc)),
            expires,
            groups,
            source,
        })
    }

    pub(super) fn guest(&mut self, node: &Node) -> Option<Guest> {
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
        let (groups, source) = self.joined(&fields);
        Some(Guest {
            email: email?,
            permissions: permissions.unwrap_or_default(),
            custom_role: custom_role.unwrap_or(None),
            access: access.unwrap_or(None),
            expires,
            groups,
            source,
        })
    }

    /// A person's `groups` (user groups they join) and `source` (the sync rules that brought
    /// them); what cannot be read is reported and left empty.
    fn joined(&mut self, fields: &Fields<'_>) -> (Vec<At<String>>, Vec<At<String>>) {
        let groups = fields
            .get("groups")
            .and_then(|n| self.group_names(n))
            .unwrap_or_default();
        let source = fields
            .get("source")
            .and_then(|n| self.source_names(n))
            .unwrap_or_default();
        (groups, source)
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

    /// One entry of a guest's `access`: exactly one of folder, list or task, and a permission.
    fn access(&mut self, node: &Node) -> Option<Access> {
        let fields = self.map(node, "an access entry", keys::ACCESS)?;
        let target = self.share_target(node, &fields);
        let permission = self
            .required(&fields, "permission", "an access entry")
            .and_then(|n| self.share_permission(n));
        Some(Access {
            share: Share {
                target: target?,
                permission: permission?,
            },
            loc: node.loc,
        })
    }

    /// What an access entry shares: the one folder, list or task it names, by id.
    fn share_target(&mut self, node: &Node, fields: &Fields<'_>) -> Option<ShareTarget> {
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
        match targets.as_slice() {
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
        }
    }

    /// An access entry's `permission`: a level, with a suggestion for a misspelt one.
    fn share_permission(&mut self, node: &Node) -> Option<SharePermission> {
        let found = match &node.value {
            Value::Str(s) => SharePermission::from_key(s).ok_or(format!("\"{s}\"")),
            other => Err(other.describe().to_owned()),
        };
        match found {
            Ok(p) => Some(p),
            Err(found) => {
                let mut diag = Diagnostic::new(
                    node.loc,
                    format!("permission must be one of read, comment, edit, create; not {found}"),
                )
                .label("unknown permission level");
                let levels = SharePermission::ALL.map(SharePermission::key);
                if let Value::Str(s) = &node.value
                    && let Some(near) = closest(s, &levels)
                {
                    diag = diag.help(format!("did you mean \"{near}\"?"));
                }
                self.diags.push(diag);
                None
            }
        }
    }

    pub(super) fn group(&mut self, node: &Node) -> Option<Group> {
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
