//! The canonical form of a members file, for `fmt` and `import`: members and guests sorted by
//! email, groups by name, emails lower-case, ids quoted, keys in a fixed order, block style with
//! two-space indentation, comments kept with the entries they belong to.
//!
//! `fmt` refuses rather than damages: its output is parsed again and must mean the same as the
//! input and hold every one of its comments, or the file is left as it is and the problem is
//! reported. Pure: text in, text out.

mod doc;
mod import;

use std::collections::BTreeMap;

use crate::config::{self, keys};
use crate::diag::{Diagnostic, Loc};
use crate::model::GuestFlag;
use crate::yaml::{self, Node, Value as Yaml};

pub(crate) use import::{Header, import};

use doc::{Comments, Document, Entry, Item, Value};

/// A comment found in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Comment {
    line: u32,
    /// Only whitespace before it on its line.
    whole_line: bool,
    /// The text after `#`.
    text: String,
}

/// What a line-by-line scan of the source carries from one line to the next.
#[derive(Debug, Default)]
struct Scan {
    /// Inside a quoted scalar that goes on over several lines.
    quote: Option<char>,
    /// Inside a block scalar (`|` or `>`) whose key was indented this much.
    block: Option<usize>,
}

impl Scan {
    /// Where a `#` starts a comment on this line, if it does: at the start of the line or
    /// after whitespace, outside quotes and block scalars.
    fn comment_start(&mut self, line: &str) -> Option<usize> {
        let indent = line.len() - line.trim_start().len();
        if let Some(key_indent) = self.block {
            if line.trim().is_empty() || indent > key_indent {
                return None;
            }
            self.block = None;
        }
        let mut escaped = false;
        let mut previous_blank = true;
        let mut found = None;
        let mut chars = line.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match self.quote {
                Some('"') => match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => self.quote = None,
                    _ => {}
                },
                Some(_) => {
                    // `''` is a quote inside a single-quoted scalar.
                    if c == '\'' && chars.next_if(|(_, n)| *n == '\'').is_none() {
                        self.quote = None;
                    }
                }
                None => match c {
                    '#' if previous_blank => {
                        found = Some(i);
                        break;
                    }
                    '"' | '\'' if previous_blank || line[..i].ends_with([':', '[', '{', ',']) => {
                        self.quote = Some(c);
                    }
                    _ => {}
                },
            }
            previous_blank = c.is_whitespace();
        }
        let code = line[..found.unwrap_or(line.len())].trim_end();
        let indicator = code.rsplit([' ', '\t']).next().unwrap_or("");
        if self.quote.is_none()
            && (indicator.starts_with('|') || indicator.starts_with('>'))
            && indicator[1..]
                .chars()
                .all(|c| matches!(c, '+' | '-' | '0'..='9'))
            && code.len() > indicator.len()
        {
            self.block = Some(indent);
        }
        found
    }
}

fn scan_comments(source: &str) -> Vec<Comment> {
    let mut scan = Scan::default();
    source
        .lines()
        .enumerate()
        .filter_map(|(i, line)| {
            scan.comment_start(line).map(|start| Comment {
                line: u32::try_from(i + 1).unwrap_or(u32::MAX),
                whole_line: line[..start].trim().is_empty(),
                text: line[start + 1..].trim_end().to_owned(),
            })
        })
        .collect()
}

/// The first alias (`*name`) in the tree: the canonical form has none, so fmt leaves such a
/// file alone rather than write every alias out.
fn first_alias(node: &Node) -> Option<Loc> {
    if node.alias {
        return Some(node.loc);
    }
    match &node.value {
        Yaml::Map(entries) => entries
            .iter()
            .find_map(|(k, v)| first_alias(k).or_else(|| first_alias(v))),
        Yaml::Seq(items) => items.iter().find_map(first_alias),
        _ => None,
    }
}

/// The position of an entry or a list item in the source; items sort before the entries of
/// the mapping they hold, which start at the same place.
type Anchor = (u32, u32, u8);

fn entry_anchor(key: &Node) -> Anchor {
    (key.loc.line, key.loc.col.into(), 1)
}

fn item_anchor(item: &Node) -> Anchor {
    (item.loc.line, item.loc.col.into(), 0)
}

fn collect_anchors(node: &Node, out: &mut Vec<Anchor>) {
    match &node.value {
        Yaml::Map(entries) => {
            for (key, value) in entries {
                out.push(entry_anchor(key));
                collect_anchors(value, out);
            }
        }
        Yaml::Seq(items) => {
            for item in items {
                out.push(item_anchor(item));
                collect_anchors(item, out);
            }
        }
        _ => {}
    }
}

/// Comments by the anchor they belong to, and those of the top and the end of the file.
#[derive(Debug, Default)]
struct Attached {
    by_anchor: BTreeMap<Anchor, Comments>,
    header: Vec<String>,
    trailer: Vec<String>,
}

fn attach(comments: Vec<Comment>, mut anchors: Vec<Anchor>) -> Attached {
    anchors.sort_unstable();
    anchors.dedup();
    let mut attached = Attached::default();
    for comment in comments {
        if comment.whole_line {
            match anchors.iter().find(|a| a.0 > comment.line) {
                None => attached.trailer.push(comment.text),
                Some(_) if anchors.first().is_none_or(|a| a.0 > comment.line) => {
                    attached.header.push(comment.text);
                }
                Some(anchor) => attached
                    .by_anchor
                    .entry(*anchor)
                    .or_default()
                    .before
                    .push(comment.text),
            }
        } else {
            // The innermost entry of the line: `- role: admin  # why` stays with `role`.
            let anchor = anchors.iter().rev().find(|a| a.0 <= comment.line);
            match anchor {
                Some(anchor) => {
                    let after = &mut attached.by_anchor.entry(*anchor).or_default().after;
                    *after = Some(match after.take() {
                        Some(text) => format!("{text} #{}", comment.text),
                        None => comment.text,
                    });
                }
                None => attached.header.push(comment.text),
            }
        }
    }
    attached
}

/// Builds the canonical tree of a valid file.
struct Builder {
    attached: Attached,
}

impl Builder {
    fn comments(&mut self, anchor: Anchor) -> Comments {
        self.attached.by_anchor.remove(&anchor).unwrap_or_default()
    }

    fn entry(&mut self, key: &Node, value: Value) -> Entry {
        Entry {
            comments: self.comments(entry_anchor(key)),
            key: key_name(key).to_owned(),
            value,
        }
    }

    /// A mapping with its keys in `order`.
    fn map(
        &mut self,
        node: &Node,
        order: &[&str],
        value: &mut dyn FnMut(&mut Self, &str, &Node) -> Value,
    ) -> Value {
        let Yaml::Map(entries) = &node.value else {
            return Value::Map(Vec::new());
        };
        let mut sorted: Vec<&(Node, Node)> = entries.iter().collect();
        sorted.sort_by_key(|(k, _)| {
            order
                .iter()
                .position(|o| *o == key_name(k))
                .unwrap_or(usize::MAX)
        });
        let mut out = Vec::with_capacity(sorted.len());
        for (key, child) in sorted {
            let v = value(self, key_name(key), child);
            out.push(self.entry(key, v));
        }
        Value::Map(out)
    }

    /// A list; `sort_key` orders the items when given.
    fn seq(
        &mut self,
        node: &Node,
        sort_key: Option<&dyn Fn(&Node) -> String>,
        value: &mut dyn FnMut(&mut Self, &Node) -> Value,
    ) -> Value {
        let items: Vec<&Node> = match &node.value {
            Yaml::Seq(items) => items.iter().collect(),
            _ => Vec::new(),
        };
        let mut items = items;
        if let Some(key) = sort_key {
            items.sort_by_cached_key(|n| key(n));
        }
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let comments = self.comments(item_anchor(item));
            let v = value(self, item);
            out.push(Item { comments, value: v });
        }
        Value::Seq(out)
    }
}

fn key_name(key: &Node) -> &str {
    match &key.value {
        Yaml::Str(s) => s,
        _ => "",
    }
}

fn text_of(node: &Node) -> String {
    match &node.value {
        Yaml::Str(s) => s.clone(),
        Yaml::Int(i) => i.to_string(),
        Yaml::Float(f) => f.to_string(),
        Yaml::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// A scalar as written, re-quoted canonically.
fn plain(node: &Node) -> Value {
    Value::Scalar(match &node.value {
        Yaml::Str(s) => yaml::scalar(s),
        Yaml::Null => "null".to_owned(),
        _ => text_of(node),
    })
}

fn email(node: &Node) -> Value {
    Value::Scalar(yaml::scalar(&text_of(node).to_lowercase()))
}

/// Ids are always quoted text.
fn id(node: &Node) -> Value {
    let text = text_of(node);
    Value::Scalar(serde_json::to_string(&text).unwrap_or_default())
}

fn field<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    match &node.value {
        Yaml::Map(entries) => entries
            .iter()
            .find(|(k, _)| key_name(k) == key)
            .map(|(_, v)| v),
        _ => None,
    }
}

fn by_field(key: &'static str) -> impl Fn(&Node) -> String {
    move |n: &Node| {
        field(n, key)
            .map(text_of)
            .unwrap_or_default()
            .to_lowercase()
    }
}

fn by_text(n: &Node) -> String {
    text_of(n).to_lowercase()
}

fn build(root: &Node, attached: Attached) -> Document {
    let mut b = Builder { attached };
    let Value::Map(entries) = b.map(root, keys::FILE, &mut |b, key, node| match key {
        "workspace" => b.map(node, keys::WORKSPACE, &mut |_, k, n| {
            if k == "id" { id(n) } else { plain(n) }
        }),
        "policy" => b.map(node, keys::POLICY, &mut |b, k, n| match k {
            "protected" => b.seq(n, Some(&by_text), &mut |_, item| email(item)),
            "member_domains" => b.seq(n, Some(&by_text), &mut |_, item| plain(item)),
            "admins" => b.map(n, keys::ADMINS, &mut |_, _, v| plain(v)),
            "seats" => b.map(n, keys::SEATS, &mut |_, _, v| plain(v)),
            _ => plain(n),
        }),
        // Merged in this order: kept as written.
        "include" => b.seq(node, None, &mut |_, item| plain(item)),
        "sources" => b.map(node, keys::SOURCES, &mut |b, k, n| {
            let order = match k {
                "okta" => keys::OKTA,
                "entra" => keys::ENTRA,
                "google" => keys::GOOGLE,
                _ => keys::CSV,
            };
            b.map(n, order, &mut |_, _, v| plain(v))
        }),
        "sync" => b.map(node, keys::SYNC, &mut |b, k, n| match k {
            // Applied in this order: kept as written.
            "rules" => b.seq(n, None, &mut |b, rule| {
                b.map(rule, keys::RULE, &mut |b, k, v| match k {
                    "group" => id(v),
                    "groups" => b.seq(v, Some(&by_text), &mut |_, item| plain(item)),
                    _ => plain(v),
                })
            }),
            _ => plain(n),
        }),
        "members" => b.seq(node, Some(&by_field("email")), &mut |b, item| {
            b.map(item, keys::MEMBER, &mut |b, k, n| match k {
                "email" => email(n),
                "groups" | "source" => b.seq(n, Some(&by_text), &mut |_, item| plain(item)),
                _ => plain(n),
            })
        }),
        "guests" => b.seq(node, Some(&by_field("email")), &mut |b, item| {
            b.map(item, keys::GUEST, &mut |b, k, n| match k {
                "email" => email(n),
                "permissions" => {
                    let flags: Vec<&str> = GuestFlag::ALL.iter().map(|f| f.key()).collect();
                    b.map(n, &flags, &mut |_, _, v| plain(v))
                }
                "access" => b.seq(n, None, &mut |b, share| {
                    b.map(share, keys::ACCESS, &mut |_, k, v| {
                        if k == "permission" { plain(v) } else { id(v) }
                    })
                }),
                "groups" | "source" => b.seq(n, Some(&by_text), &mut |_, item| plain(item)),
                _ => plain(n),
            })
        }),
        "groups" => b.seq(node, Some(&by_field("name")), &mut |b, group| {
            b.map(group, keys::GROUP, &mut |b, k, n| {
                if k == "members" {
                    b.seq(n, Some(&by_text), &mut |_, item| email(item))
                } else {
                    plain(n)
                }
            })
        }),
        _ => plain(node),
    }) else {
        return Document::default();
    };
    Document {
        header: std::mem::take(&mut b.attached.header),
        entries,
        trailer: std::mem::take(&mut b.attached.trailer),
    }
}

/// The canonical form of a Workspace file, or why it cannot be rewritten safely. Only what
/// the text holds is checked: the rules that need its fragments (a group naming people a
/// fragment lists) are the caller's, which `fmt` checks on the whole file first.
pub(crate) fn format(source: &str) -> Result<String, Vec<Diagnostic>> {
    format_as(source, config::parse_unchecked_str)
}

/// [`format`] for a fragment (`include:`), which holds only members, guests and groups.
pub(crate) fn format_fragment(source: &str) -> Result<String, Vec<Diagnostic>> {
    format_as(source, config::parse_fragment_str)
}

fn format_as(
    source: &str,
    parse: fn(&str) -> Result<config::MembersFile, Vec<Diagnostic>>,
) -> Result<String, Vec<Diagnostic>> {
    let file = parse(source)?;
    let root = yaml::parse(source).map_err(|e| vec![Diagnostic::new(e.loc, e.message)])?;
    if let Some(loc) = first_alias(&root) {
        return Err(vec![
            Diagnostic::new(
                loc,
                "fmt does not rewrite files that use YAML anchors and aliases (&name, *name)",
            )
            .help("write the repeated value out where the alias stands, then run fmt again"),
        ]);
    }
    let comments = scan_comments(source);
    let mut anchors = Vec::new();
    collect_anchors(&root, &mut anchors);
    let document = build(&root, attach(comments.clone(), anchors));
    let output = document.render();

    let refuse = |loc: Loc, message: String| {
        vec![Diagnostic::new(loc, message).help(
            "fmt leaves the file as it is; keep comments on their own line before an entry, or at the end of an entry's line",
        )]
    };
    let rewritten = parse(&output).map_err(|d| {
        refuse(
            Loc::new(1, 1),
            format!(
                "fmt cannot rewrite this file safely (its output would not read back: {})",
                d.first().map_or("", |d| d.message.as_str())
            ),
        )
    })?;
    if rewritten.meaning() != file.meaning() {
        return Err(refuse(
            Loc::new(1, 1),
            "fmt cannot rewrite this file without changing its meaning (YAML anchors or aliases?)"
                .to_owned(),
        ));
    }
    let mut kept: Vec<String> = scan_comments(&output).into_iter().map(|c| c.text).collect();
    for comment in &comments {
        match kept.iter().position(|t| t.contains(comment.text.as_str())) {
            Some(i) => {
                kept.remove(i);
            }
            None => {
                return Err(refuse(
                    Loc::new(u64::from(comment.line), 1),
                    "fmt cannot rewrite this file without losing this comment".to_owned(),
                ));
            }
        }
    }
    Ok(output)
}

#[cfg(test)]
mod tests;
