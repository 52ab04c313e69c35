//! Turns the YAML tree into a [`MembersFile`], collecting every problem instead of stopping at
//! the first: unknown keys (with a suggestion), missing keys, wrong types, bad emails, bad
//! enumerations. Each problem points at the key or value it is about. Pure.
//!
//! A file with problems still decodes into what could be read (a bad value replaced by its
//! default, an entry without a readable email or name left out), so that the rules checked on
//! the whole file (duplicates, group members) are reported in the same run.

mod people;
mod policy;
mod sync;
mod values;

use crate::config::{At, FragmentFile, MembersFile, Policy, WorkspaceSection, keys};
use crate::diag::{Diagnostic, Loc};
use crate::yaml::{Node, Value};

use values::whole;

/// Decodes the file's tree, which it frees as it goes: the long lists (members, guests) are
/// taken out of it and each item is freed once decoded, so that the tree and the file it
/// becomes are never both whole.
pub(super) fn decode(mut root: Node) -> (Option<MembersFile>, Vec<Diagnostic>) {
    let mut decoder = Decoder::default();
    let members = take_list(&mut root, "members");
    let guests = take_list(&mut root, "guests");
    let file = decoder.file(&root, Lists { members, guests });
    // What is left of a large file's tree takes a while to free, and nothing waits for it
    // (if no thread can be started, it is freed here).
    let _ = std::thread::Builder::new().spawn(move || drop(root));
    (file, decoder.diags)
}

/// Decodes a fragment's tree. Keys that only a Workspace file holds are errors that say so.
pub(super) fn fragment(mut root: Node) -> (Option<FragmentFile>, Vec<Diagnostic>) {
    let mut decoder = Decoder::default();
    let members = take_list(&mut root, "members");
    let guests = take_list(&mut root, "guests");
    let fragment = decoder.fragment(&mut root, Lists { members, guests });
    (fragment, decoder.diags)
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
        let sources = fields.get("sources").and_then(|n| self.sources(n));
        let sync = fields.get("sync").and_then(|n| self.sync(n));
        Some(MembersFile {
            include,
            files: Vec::new(),
            sources,
            sync,
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
                        "version" | "workspace" | "policy" | "sources" | "sync" => "a fragment holds only members, guests and groups; this key belongs in the Workspace file",
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
}

/// The allowed key nearest to a misspelt one, when it is near enough to be a typo.
fn closest<'k>(word: &str, keys: &[&'k str]) -> Option<&'k str> {
    keys.iter()
        .map(|k| (strsim::levenshtein(word, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}
