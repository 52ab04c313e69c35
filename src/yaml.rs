//! The one place YAML is read: turns the text of a desired-state file into a tree of
//! [`Node`]s that each know their line and column.
//!
//! Everything YAML-specific (the loader crate, its options, its budgets against alias bombs and
//! deep nesting, the wording of its syntax errors) stays in this module, so that the loader can be
//! swapped by editing one file. Typed decoding and the checks of the file's rules live in
//! `config`, which only sees `Node`s.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{MessageFormatter, Spanned};

use crate::diag::Loc;

/// Refuse files larger than this before parsing: a members file of 100,000 people is about 5 MB.
pub(crate) const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// A YAML value together with where it stands in the file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub(crate) loc: Loc,
    pub(crate) value: Value,
    /// The value was written once elsewhere (`&anchor`) and repeated here (`*alias`).
    pub(crate) alias: bool,
}

/// The YAML data model after the core schema has resolved plain scalars.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Value {
    /// How the value is called in an error message ("a list", "a number", …).
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Value::Null => "empty (null)",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "a whole number",
            Value::Float(_) => "a number",
            Value::Str(_) => "text",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// A file that is not YAML at all, or that breaks a budget: one error, since parsing cannot go on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SyntaxError {
    pub(crate) loc: Loc,
    pub(crate) message: String,
}

/// Parses one YAML document. Duplicate keys, aliases beyond the budget, nesting deeper than the
/// budget and more nodes than a 100,000-person file needs are errors with their location.
pub(crate) fn parse(src: &str) -> Result<Node, SyntaxError> {
    let options = serde_saphyr::options! {
        // Only `true` and `false` are booleans: `n:` or `email: yes` stay text.
        strict_booleans: true,
        budget: serde_saphyr::budget! {
            max_depth: 24,
            flow_nesting_limit: 24,
            max_aliases: 1_000,
            max_anchors: 1_000,
            max_recorded_anchor_events: 100_000,
            max_documents: 1,
            max_nodes: 8_000_000,
            max_events: 16_000_000,
            max_merge_keys: 100,
        },
    };
    match serde_saphyr::from_str_with_options::<Spanned<Value>>(src, options) {
        Ok(root) => Ok(node(root)),
        Err(err) => Err(syntax_error(&err)),
    }
}

/// Places every node of the tree in file `file` (a fragment: see [`Loc::file`]).
pub(crate) fn in_file(node: &mut Node, file: u16) {
    node.loc.file = file;
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|n| in_file(n, file)),
        Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            in_file(k, file);
            in_file(v, file);
        }),
        _ => {}
    }
}

/// A string as a YAML scalar that reads back as the same string: plain when that is safe,
/// double-quoted otherwise (numbers, booleans, `#`, `: `, leading spaces…), never multi-line.
pub(crate) fn scalar(text: &str) -> String {
    match serde_saphyr::to_string(&text) {
        Ok(out) if !out.trim_end_matches('\n').contains('\n') => {
            out.trim_end_matches('\n').to_owned()
        }
        _ => serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned()),
    }
}

fn node(spanned: Spanned<Value>) -> Node {
    Node {
        loc: loc(&spanned.referenced),
        value: spanned.value,
        alias: spanned.referenced != spanned.defined,
    }
}

fn loc(location: &serde_saphyr::Location) -> Loc {
    Loc::new(location.line(), location.column())
}

fn syntax_error(err: &serde_saphyr::Error) -> SyntaxError {
    let mut err = err.without_snippet();
    // An error met while replaying an alias wraps the one that matters.
    while let serde_saphyr::Error::AliasError { error, .. } = err {
        err = error.without_snippet();
    }
    let loc = err
        .location()
        .filter(|l| l.line() > 0)
        .map_or(Loc::new(1, 1), |l| loc(&l));
    let message = match err {
        serde_saphyr::Error::Budget { breach, .. } => budget_message(breach),
        other => {
            let text = serde_saphyr::UserMessageFormatter.format_message(other);
            if text.contains("recursion limit") || text.contains("nesting limit") {
                too_deep(None)
            } else {
                format!("invalid YAML: {text}")
            }
        }
    };
    SyntaxError { loc, message }
}

fn budget_message(breach: &serde_saphyr::budget::BudgetBreach) -> String {
    use serde_saphyr::budget::BudgetBreach as B;
    match breach {
        B::Depth { depth } => too_deep(Some(*depth)),
        B::Aliases { .. }
        | B::Anchors { .. }
        | B::AliasAnchorRatio { .. }
        | B::RecordedAnchorEvents { .. }
        | B::RecordedAnchorBytes { .. } => {
            "the file uses too many YAML aliases (an \"alias bomb\" would expand to gigabytes); refused"
                .to_owned()
        }
        B::Documents { .. } => {
            "the file holds more than one YAML document (`---`); keep one document".to_owned()
        }
        other => format!("the file is too large or too complex to be a members file ({other:?})"),
    }
}

fn too_deep(depth: Option<usize>) -> String {
    let depth = depth.map_or("too many".to_owned(), |d| d.to_string());
    format!(
        "the file nests {depth} levels deep; a members file never needs more than 6, so it is refused"
    )
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }

    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Int(v))
    }

    fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Value, E> {
        i128::try_from(v)
            .map(Value::Int)
            .map_err(|_| E::custom("integer too large"))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element::<Spanned<Value>>()? {
            items.push(node(item));
        }
        Ok(Value::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
        while let Some(key) = map.next_key::<Spanned<Value>>()? {
            let value = map.next_value::<Spanned<Value>>()?;
            entries.push((node(key), node(value)));
        }
        // A person is a mapping of one or two entries in room for four: at 100,000 people the
        // room left over is 25 MB of the tree.
        entries.shrink_to_fit();
        Ok(Value::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(n: &Node) -> (u32, u32) {
        (n.loc.line, n.loc.col.into())
    }

    #[test]
    fn every_node_knows_its_line_and_column() {
        let root = parse("version: 1\nmembers:\n  - email: a@x.io\n    role: admin\n")
            .expect("valid YAML");
        let Value::Map(entries) = &root.value else {
            panic!("root is a mapping")
        };
        assert_eq!(at(&entries[0].0), (1, 1));
        assert_eq!(at(&entries[0].1), (1, 10));
        let Value::Seq(items) = &entries[1].1.value else {
            panic!("members is a list")
        };
        let Value::Map(member) = &items[0].value else {
            panic!("member is a mapping")
        };
        assert_eq!(at(&member[1].0), (4, 5));
        assert_eq!(member[1].1.value, Value::Str("admin".into()));
    }

    #[test]
    fn scalars_read_back_as_the_same_text() {
        for text in [
            "ada@acme.example",
            "Project Lead",
            "9006054115",
            "yes",
            "null",
            "",
            " x",
            "a: b",
            "a #b",
            "#x",
            "line\nbreak",
            "~",
            "@eng",
            "It's \"quoted\"",
        ] {
            let yaml = format!("k: {}\n", scalar(text));
            let root = parse(&yaml).expect("parses");
            let Value::Map(entries) = root.value else {
                panic!("mapping")
            };
            assert_eq!(entries[0].1.value, Value::Str(text.to_owned()), "{yaml}");
        }
        assert_eq!(scalar("ada@acme.example"), "ada@acme.example");
        assert_eq!(scalar("9006054115"), "\"9006054115\"");
    }

    #[test]
    fn duplicate_keys_are_a_syntax_error_at_the_second_key() {
        let err = parse("a: 1\nb: 2\na: 3\n").expect_err("duplicate key");
        assert_eq!((err.loc.line, err.loc.col), (3, 1));
        assert!(err.message.contains("duplicate"), "{}", err.message);
    }

    #[test]
    fn yes_and_no_stay_text() {
        let root = parse("n: yes\n").expect("valid YAML");
        let Value::Map(entries) = root.value else {
            panic!("mapping")
        };
        assert_eq!(entries[0].0.value, Value::Str("n".into()));
        assert_eq!(entries[0].1.value, Value::Str("yes".into()));
    }

    #[test]
    fn alias_bomb_is_refused_quickly() {
        let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..40 {
            let p = i - 1;
            src.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = parse(&src).expect_err("alias bomb");
        assert!(err.message.contains("alias"), "{}", err.message);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let src = format!("a: {}1{}\n", "[".repeat(200), "]".repeat(200));
        let err = parse(&src).expect_err("too deep");
        assert!(err.message.contains("deep"), "{}", err.message);
    }
}
