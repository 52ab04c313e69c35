//! `sources` and `sync` (SPEC §11), each value checked where it is written. That a rule's
//! source is set, that its groups exist and that an include matches `into` need the whole
//! file: `check.rs`. Pure.

use std::path::Path;

use crate::config::decode::{Decoder, closest};
use crate::config::sync::{
    CsvSource, DEFAULT_MAX_CHANGES, EntraSource, GoogleSource, Joins, OktaSource, Rule, SourceKind,
    Sources, SyncSection,
};
use crate::config::{At, RoleName, keys};
use crate::diag::Diagnostic;
use crate::yaml::{Node, Value};

impl Decoder {
    pub(super) fn sources(&mut self, node: &Node) -> Option<Sources> {
        let fields = self.map(node, "sources", keys::SOURCES)?;
        let mut sources = Sources {
            named: fields
                .entries
                .iter()
                .filter_map(|(key, _, _)| SourceKind::from_key(key))
                .collect(),
            ..Sources::default()
        };
        if let Some(n) = fields.get("okta") {
            sources.okta = self.map(n, "sources.okta", keys::OKTA).and_then(|f| {
                let url = self.required(&f, "url", "sources.okta")?;
                Some(OktaSource {
                    url: self.url(url, "sources.okta.url")?,
                })
            });
        }
        if let Some(n) = fields.get("entra") {
            sources.entra = self.map(n, "sources.entra", keys::ENTRA).and_then(|f| {
                let tenant = self.required(&f, "tenant", "sources.entra");
                let tenant = tenant.and_then(|t| self.text(t, "sources.entra.tenant"));
                let login_url = f.get("login_url").map(|u| self.url(u, "login_url"));
                let graph_url = f.get("graph_url").map(|u| self.url(u, "graph_url"));
                Some(EntraSource {
                    tenant: trimmed(tenant?),
                    login_url: login_url.map_or(Some(None), |u| u.map(Some))?,
                    graph_url: graph_url.map_or(Some(None), |u| u.map(Some))?,
                })
            });
        }
        if let Some(n) = fields.get("google") {
            sources.google = self.map(n, "sources.google", keys::GOOGLE).and_then(|f| {
                let subject = self.required(&f, "subject", "sources.google");
                let subject = subject.and_then(|s| self.email(s, "sources.google.subject"));
                let api_url = f.get("api_url").map(|u| self.url(u, "api_url"));
                Some(GoogleSource {
                    subject: subject.map(|s| At::new(s.value.as_str().to_owned(), s.loc))?,
                    api_url: api_url.map_or(Some(None), |u| u.map(Some))?,
                })
            });
        }
        if let Some(n) = fields.get("csv") {
            sources.csv = self.map(n, "sources.csv", keys::CSV).and_then(|f| {
                let path = self.required(&f, "path", "sources.csv")?;
                let path = trimmed(self.text(path, "sources.csv.path")?);
                Some(CsvSource {
                    path: self.inside("sources.csv.path", path, "hr/people.csv")?,
                })
            });
        }
        Some(sources)
    }

    /// A source's URL: https, or plain http to a loopback address (credentials go nowhere
    /// else in the clear).
    fn url(&mut self, node: &Node, what: &str) -> Option<At<String>> {
        let text = trimmed(self.text(node, what)?);
        let problem = match url::Url::parse(&text.value) {
            Err(e) => Some(format!("{what} is not a URL: {e}")),
            Ok(u) if u.scheme() == "https" => None,
            Ok(u) if u.scheme() == "http" && loopback(&u) => None,
            Ok(u) if u.scheme() == "http" => Some(format!(
                "{what} must be https:// (plain http:// only to a loopback address): credentials are sent there"
            )),
            Ok(u) => Some(format!("{what} must be https://, not {}://", u.scheme())),
        };
        match problem {
            Some(message) => {
                self.diags
                    .push(Diagnostic::new(node.loc, message).label("not an https URL"));
                None
            }
            None => Some(text),
        }
    }

    pub(super) fn sync(&mut self, node: &Node) -> Option<SyncSection> {
        let fields = self.map(node, "sync", keys::SYNC)?;
        let into = self
            .required(&fields, "into", "sync")
            .and_then(|n| self.text(n, "sync.into"))
            .map(trimmed)
            .and_then(|into| self.sync_into(into));
        let max_changes = fields
            .get("max_changes")
            .map_or(Some(DEFAULT_MAX_CHANGES), |n| {
                self.count(n, "sync.max_changes")
            });
        let rules = match fields.get("rules") {
            None => Vec::new(),
            Some(n) => self.items(n, "sync.rules", Self::rule).unwrap_or_default(),
        };
        // A group read twice would be merged silently: which rule's role wins is unclear.
        for (n, rule) in rules.iter().enumerate() {
            let name = rule.name().to_lowercase();
            if let Some(first) = rules[..n].iter().find(|r| r.name().to_lowercase() == name) {
                self.diags.push(
                    Diagnostic::new(
                        rule.group.loc,
                        format!(
                            "a rule reads {} already (line {}): one rule per group",
                            rule.name(),
                            first.loc.line
                        ),
                    )
                    .help("merge the two rules into one"),
                );
            }
        }
        Some(SyncSection {
            into: into?,
            max_changes: max_changes.unwrap_or(DEFAULT_MAX_CHANGES),
            rules,
        })
    }

    /// `sync.into`: one YAML file, relative to the Workspace file, inside its folder.
    fn sync_into(&mut self, into: At<String>) -> Option<At<String>> {
        let into = self.inside("sync.into", into, "synced/people.yaml")?;
        let text = into.value.as_str();
        let problem = if text.contains(['*', '?', '[', ']', '{', '}']) {
            Some(format!(
                "sync.into \"{text}\" is a pattern; it names the one file sync writes"
            ))
        } else if !(text.ends_with(".yaml") || text.ends_with(".yml")) {
            Some(format!(
                "sync.into \"{text}\" must name a YAML file (.yaml or .yml)"
            ))
        } else {
            None
        };
        match problem {
            Some(message) => {
                self.diags.push(
                    Diagnostic::new(into.loc, message).help("for example: synced/people.yaml"),
                );
                None
            }
            None => Some(into),
        }
    }

    /// A path relative to the Workspace file, inside its folder.
    fn inside(&mut self, key: &str, path: At<String>, example: &str) -> Option<At<String>> {
        let text = path.value.as_str();
        if text.is_empty()
            || Path::new(text).is_absolute()
            || text.starts_with('\\')
            || (text.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
                && text.as_bytes().get(1) == Some(&b':'))
            || text.split(['/', '\\']).any(|part| part == "..")
        {
            self.diags.push(
                Diagnostic::new(
                    path.loc,
                    format!("{key} \"{text}\" must stay in the Workspace file's folder"),
                )
                .help(format!(
                    "write a path relative to the Workspace file, without `..`: {example}"
                )),
            );
            return None;
        }
        let clean = text.trim_start_matches("./").to_owned();
        Some(At::new(clean, path.loc))
    }

    fn rule(&mut self, node: &Node) -> Option<Rule> {
        let fields = self.map(node, "a sync rule", keys::RULE)?;
        let from = self
            .required(&fields, "from", "a sync rule")
            .and_then(|n| self.source_kind(n));
        let group = self
            .required(&fields, "group", "a sync rule")
            .and_then(|n| self.id(n, "group").map(|g| At::new(g, n.loc)));
        let joins = match fields.get("as") {
            None => Some(Joins::Member),
            Some(n) => self.joins(n),
        };
        let role = match fields.get("role") {
            None => Some(None),
            Some(n) => self.rule_role(n, joins.unwrap_or_default()).map(Some),
        };
        let groups = match fields.get("groups") {
            None => Some(Vec::new()),
            Some(n) => self.group_names(n),
        };
        let expires = match fields.get("expires") {
            None => Some(None),
            Some(n) => self.expiry(n).map(Some),
        };
        Some(Rule {
            from: from?,
            group: group?,
            role: role?,
            joins: joins?,
            groups: groups?,
            expires: expires?,
            loc: node.loc,
        })
    }

    fn source_kind(&mut self, node: &Node) -> Option<At<SourceKind>> {
        let text = self.text(node, "from")?;
        let found = SourceKind::from_key(text.value.trim());
        if found.is_none() {
            let mut diag = Diagnostic::new(
                node.loc,
                format!(
                    "unknown source \"{}\": a rule reads from okta, entra, google or csv",
                    text.value
                ),
            )
            .label("unknown source");
            if let Some(near) = closest(text.value.trim(), keys::SOURCES) {
                diag = diag.help(format!("did you mean \"{near}\"?"));
            }
            self.diags.push(diag);
        }
        found.map(|kind| At::new(kind, node.loc))
    }

    /// `as:` member or guest.
    pub(super) fn joins(&mut self, node: &Node) -> Option<Joins> {
        match &node.value {
            Value::Str(s) if s.trim() == "member" => Some(Joins::Member),
            Value::Str(s) if s.trim() == "guest" => Some(Joins::Guest),
            _ => {
                self.diags.push(
                    Diagnostic::new(
                        node.loc,
                        format!(
                            "as must be member or guest, not {}",
                            describe_value(&node.value)
                        ),
                    )
                    .label("member or guest"),
                );
                None
            }
        }
    }

    /// A rule's `role`: admin, member or a custom role's name for members; a custom role
    /// alone for guests. Never the owner.
    fn rule_role(&mut self, node: &Node, joins: Joins) -> Option<At<RoleName>> {
        let text = self.text(node, "role")?;
        let role = RoleName::parse(text.value.trim());
        let problem = match (&role, joins) {
            (RoleName::Owner, _) => {
                Some("sync cannot make anyone the owner; list the owner by hand")
            }
            (RoleName::Custom(name), _) if name.eq_ignore_ascii_case("guest") => {
                Some("write `as: guest` for guests; role is then a custom role's name, or left out")
            }
            (RoleName::Admin | RoleName::Member, Joins::Guest) => Some(
                "a guest rule's role is a custom role that inherits the guest role, or left out",
            ),
            _ => None,
        };
        match problem {
            Some(message) => {
                self.diags
                    .push(Diagnostic::new(node.loc, format!("role: {message}")));
                None
            }
            None => Some(At::new(role, text.loc)),
        }
    }

    /// A list of user group names (a person's or a rule's `groups`).
    pub(super) fn group_names(&mut self, node: &Node) -> Option<Vec<At<String>>> {
        let items = self.list(node, "groups")?;
        let mut names = Vec::with_capacity(items.len());
        let mut ok = true;
        for item in items {
            let name = match &item.value {
                Value::Int(i) => Some(At::new(i.to_string(), item.loc)),
                _ => self.text(item, "a group's name").map(trimmed),
            };
            match name {
                Some(name) => names.push(name),
                None => ok = false,
            }
        }
        ok.then_some(names)
    }

    /// A person's `source`: the rules that brought them, `from:group`.
    pub(super) fn source_names(&mut self, node: &Node) -> Option<Vec<At<String>>> {
        let items = self.list(node, "source")?;
        let mut names = Vec::with_capacity(items.len());
        for item in items {
            let name = self.text(item, "an entry of source")?;
            let known = name.value.split_once(':').is_some_and(|(from, group)| {
                SourceKind::from_key(from).is_some() && !group.is_empty()
            });
            if !known {
                self.diags.push(
                    Diagnostic::new(
                        item.loc,
                        format!(
                            "source \"{}\" must name a sync rule's group: okta:GROUP, entra:GROUP, google:GROUP or csv:GROUP",
                            name.value
                        ),
                    )
                    .help("sync writes source: itself; it does not change the plan"),
                );
                return None;
            }
            names.push(name);
        }
        Some(names)
    }
}

fn trimmed(text: At<String>) -> At<String> {
    At::new(text.value.trim().to_owned(), text.loc)
}

fn loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A value as a message names it: `"visitor"`, or what kind of value it is.
fn describe_value(value: &Value) -> String {
    match value {
        Value::Str(s) => format!("\"{s}\""),
        other => other.describe().to_owned(),
    }
}
