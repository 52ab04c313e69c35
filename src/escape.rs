//! Text from outside (a Workspace, group or role name, an email as ClickUp lists it, ClickUp's
//! own error text) made safe to show a person: control characters and the invisible
//! direction overrides are shown escaped, so that no name can move the cursor, erase the line
//! an approver reads, set a window title, plant a hidden link or fake a line of its own.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must not reach a terminal or a document raw: C0 and C1 controls, DEL, and the
/// bidirectional formatting characters ("Trojan Source").
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every hidden character escaped: `\n`, `\r`, `\t`, or `\u001b`-style.
pub(crate) fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if hidden(c) => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Like [`visible`], keeping line breaks: for messages of several lines built by the tool,
/// whose outside parts were made [`visible`] where they came in.
pub(crate) fn visible_lines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && hidden(c)) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.split('\n')
            .map(|line| visible(line).into_owned())
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// Every string in `value`, made [`visible`] (keys and values alike).
/// Whether [`visible_json`] would change anything in `value`.
pub(crate) fn json_needs_escape(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(s) => matches!(visible(s), Cow::Owned(_)),
        Value::Array(items) => items.iter().any(json_needs_escape),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| matches!(visible(k), Cow::Owned(_)) || json_needs_escape(v)),
        _ => false,
    }
}

pub(crate) fn visible_json(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => match visible(&s) {
            Cow::Borrowed(_) => Value::String(s),
            Cow::Owned(o) => Value::String(o),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(visible_json).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (visible(&k).into_owned(), visible_json(v)))
                .collect(),
        ),
        other => other,
    }
}

/// Markdown text, safe in a heading, a list item or a quote: [`visible`], and every
/// character markdown or HTML would act on backslash-escaped (a backtick becomes `'`, which
/// no code span can be closed with).
pub(crate) fn markdown(text: &str) -> String {
    let text = visible(text);
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '`' => out.push('\''),
            '\\' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '#' | '!' | '&' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_direction_overrides_are_shown_escaped() {
        assert_eq!(visible("plain name"), "plain name");
        assert_eq!(
            visible("Ops\u{1b}[1A\u{1b}[2K\r\n- remove\u{7}\u{202e}"),
            "Ops\\u001b[1A\\u001b[2K\\r\\n- remove\\u0007\\u202e"
        );
        assert_eq!(visible("\u{9b}31m"), "\\u009b31m", "C1 CSI");
        assert_eq!(visible_lines("a\u{1b}b\nc"), "a\\u001bb\nc");
    }

    #[test]
    fn markdown_text_cannot_break_out() {
        assert_eq!(
            markdown("x\n+ invite `evil` [click](http://e) <!-- a_b|c"),
            "x\\\\n+ invite 'evil' \\[click\\](http://e) \\<\\!-- a\\_b\\|c",
            "the backslash of an escaped newline is itself escaped: it shows as \\n"
        );
    }

    #[test]
    fn json_strings_are_escaped_everywhere() {
        let value = serde_json::json!({"a\u{1b}": ["x\ny", {"n": 1}]});
        assert_eq!(
            visible_json(value),
            serde_json::json!({"a\\u001b": ["x\\ny", {"n": 1}]})
        );
    }
}
