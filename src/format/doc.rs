//! A members file as an ordered tree of keys, list items and comments, and its one canonical
//! rendering: block style, two-space indentation, a blank line before each top-level section,
//! comments on the lines before the entry they belong to or at the end of its line.

use std::fmt::Write;

/// A value in the tree. Scalars are already rendered as YAML.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Scalar(String),
    Map(Vec<Entry>),
    Seq(Vec<Item>),
}

/// `key: value`, with its comments.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) comments: Comments,
    pub(crate) key: String,
    pub(crate) value: Value,
}

/// `- value`, with its comments.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item {
    pub(crate) comments: Comments,
    pub(crate) value: Value,
}

/// The comments that belong to an entry or item: whole lines before it, and one at the end of
/// its first line. Texts start after the `#`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Comments {
    pub(crate) before: Vec<String>,
    pub(crate) after: Option<String>,
}

/// A whole file.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Document {
    /// Comment lines at the top (the `yaml-language-server` line among them).
    pub(crate) header: Vec<String>,
    pub(crate) entries: Vec<Entry>,
    /// Comment lines after the last entry.
    pub(crate) trailer: Vec<String>,
}

impl Entry {
    pub(crate) fn new(key: &str, value: Value) -> Entry {
        Entry {
            comments: Comments::default(),
            key: key.to_owned(),
            value,
        }
    }

    pub(crate) fn scalar(key: &str, value: String) -> Entry {
        Entry::new(key, Value::Scalar(value))
    }
}

impl Item {
    pub(crate) fn new(value: Value) -> Item {
        Item {
            comments: Comments::default(),
            value,
        }
    }
}

fn comment_line(out: &mut String, indent: usize, text: &str) {
    let _ = writeln!(out, "{:indent$}#{}", "", one_line(text));
}

fn end_of_line(out: &mut String, comment: Option<&String>) {
    if let Some(text) = comment {
        let _ = write!(out, "  #{}", one_line(text));
    }
    out.push('\n');
}

/// A comment's text kept on its line: a line break in it would end the comment and start a
/// line of YAML. (The comments `fmt` keeps are each one line already; a header that quotes a
/// Workspace's name may not be.)
fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains(['\n', '\r']) {
        std::borrow::Cow::Owned(text.replace('\n', "\\n").replace('\r', "\\r"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

impl Document {
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        for line in &self.header {
            comment_line(&mut out, 0, line);
        }
        for (i, entry) in self.entries.iter().enumerate() {
            // version and workspace sit together; each section after them gets a blank line.
            if i > 0 && !matches!(entry.key.as_str(), "version" | "workspace") {
                out.push('\n');
            }
            entry_lines(&mut out, 0, entry, false);
        }
        for line in &self.trailer {
            comment_line(&mut out, 0, line);
        }
        out
    }
}

/// Writes `key: value`. With `first_of_item`, the key follows a `- ` already written.
fn entry_lines(out: &mut String, indent: usize, entry: &Entry, first_of_item: bool) {
    if !first_of_item {
        for line in &entry.comments.before {
            comment_line(out, indent, line);
        }
        let _ = write!(out, "{:indent$}", "");
    }
    let _ = write!(out, "{}:", entry.key);
    match &entry.value {
        Value::Scalar(text) => {
            let _ = write!(out, " {text}");
            end_of_line(out, entry.comments.after.as_ref());
        }
        Value::Map(entries) if entries.is_empty() => {
            out.push_str(" {}");
            end_of_line(out, entry.comments.after.as_ref());
        }
        Value::Seq(items) if items.is_empty() => {
            out.push_str(" []");
            end_of_line(out, entry.comments.after.as_ref());
        }
        Value::Map(entries) => {
            end_of_line(out, entry.comments.after.as_ref());
            for child in entries {
                entry_lines(out, indent + 2, child, false);
            }
        }
        Value::Seq(items) => {
            end_of_line(out, entry.comments.after.as_ref());
            for item in items {
                item_lines(out, indent + 2, item);
            }
        }
    }
}

fn item_lines(out: &mut String, indent: usize, item: &Item) {
    for line in &item.comments.before {
        comment_line(out, indent, line);
    }
    let _ = write!(out, "{:indent$}- ", "");
    match &item.value {
        Value::Scalar(text) => {
            out.push_str(text);
            end_of_line(out, item.comments.after.as_ref());
        }
        Value::Map(entries) if entries.is_empty() => {
            out.push_str("{}");
            end_of_line(out, item.comments.after.as_ref());
        }
        Value::Seq(items) if items.is_empty() => {
            out.push_str("[]");
            end_of_line(out, item.comments.after.as_ref());
        }
        Value::Map(entries) => {
            // The item's own end-of-line comment goes with its first key.
            let mut first = entries[0].clone();
            if first.comments.after.is_none() {
                first.comments.after.clone_from(&item.comments.after);
            }
            // Comments before the first key go above the dash.
            entry_lines(out, indent + 2, &first, true);
            for child in &entries[1..] {
                entry_lines(out, indent + 2, child, false);
            }
        }
        Value::Seq(items) => {
            end_of_line(out, item.comments.after.as_ref());
            for child in items {
                item_lines(out, indent + 2, child);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_renders_in_block_style_with_its_comments() {
        let mut member = Entry::scalar("email", "ada@acme.example".into());
        member.comments.after = Some(" the lead".into());
        let mut item = Item::new(Value::Map(vec![
            member,
            Entry::scalar("role", "admin".into()),
        ]));
        item.comments.before = vec![" admins".into()];
        let doc = Document {
            header: vec![" header".into()],
            entries: vec![
                Entry::scalar("version", "1".into()),
                Entry::new("members", Value::Seq(vec![item])),
                Entry::new("guests", Value::Seq(Vec::new())),
            ],
            trailer: vec![" end".into()],
        };
        assert_eq!(
            doc.render(),
            "# header\nversion: 1\n\nmembers:\n  # admins\n  - email: ada@acme.example  # the lead\n    role: admin\n\nguests: []\n# end\n"
        );
    }
}
