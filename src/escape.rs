//! Text from outside (a Workspace, group or role name, an email as ClickUp lists it, ClickUp's
//! own error text) made safe to show a person: control characters, line and paragraph
//! separators, the direction overrides and every other invisible character are shown escaped,
//! so that no name can move the cursor, erase the line an approver reads, set a window title,
//! plant a hidden link, fake a line of its own or hide text; in markdown, a name can also not
//! mention a person or team, nor become a link.

use std::borrow::Cow;
use std::fmt::Write as _;

use unicode_general_category::{GeneralCategory, get_general_category};

/// Whether `c` must not reach a terminal or a document raw: C0 and C1 controls, DEL, the line
/// and paragraph separators (U+2028, U+2029), every format character (general category Cf:
/// the bidirectional controls of "Trojan Source" such as U+061C and U+202E, zero-width
/// spaces and joiners, the byte order mark, the tag characters U+E0000–U+E007F that spell
/// hidden text), and the characters that draw nothing though they are letters, marks or
/// symbols (the Hangul fillers, the combining grapheme joiner, Khmer's inherent vowels, the
/// blank braille pattern).
pub(crate) fn hidden(c: char) -> bool {
    // Most text is ASCII: its only hidden characters are the controls.
    if c.is_ascii() {
        return c.is_ascii_control();
    }
    c.is_control()
        || matches!(
            c,
            '\u{034f}'
                | '\u{115f}'
                | '\u{1160}'
                | '\u{17b4}'
                | '\u{17b5}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{ffa0}'
                | '\u{e0000}'..='\u{e007f}'
        )
        || matches!(
            get_general_category(c),
            GeneralCategory::Format
                | GeneralCategory::LineSeparator
                | GeneralCategory::ParagraphSeparator
        )
}

/// A variation selector: it picks a glyph of the character before it (an emoji's colour form,
/// a variant of an ideograph or a Mongolian letter). One after a visible character is part of
/// a name; any other (a run of them, or one with nothing to vary) carries hidden data.
fn variation_selector(c: char) -> bool {
    matches!(
        c,
        '\u{180b}'..='\u{180d}' | '\u{180f}' | '\u{fe00}'..='\u{fe0f}' | '\u{e0100}'..='\u{e01ef}'
    )
}

/// Whether `text` has a character [`visible`] escapes.
fn needs_escape(text: &str) -> bool {
    let mut previous: Option<char> = None;
    for c in text.chars() {
        if hidden(c) || (variation_selector(c) && !previous.is_some_and(draws)) {
            return true;
        }
        previous = Some(c);
    }
    false
}

/// A character that draws something, which a variation selector may follow.
fn draws(c: char) -> bool {
    !hidden(c) && !variation_selector(c) && !c.is_whitespace()
}

/// `text` with every hidden character escaped: `\n`, `\r`, `\t`, or `\u001b`-style.
pub(crate) fn visible(text: &str) -> Cow<'_, str> {
    if !needs_escape(text) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut previous: Option<char> = None;
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if hidden(c) || (variation_selector(c) && !previous.is_some_and(draws)) => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
        previous = Some(c);
    }
    Cow::Owned(out)
}

/// Like [`visible`], keeping line breaks: for messages of several lines built by the tool,
/// whose outside parts were made [`visible`] where they came in.
pub(crate) fn visible_lines(text: &str) -> Cow<'_, str> {
    if !text.split('\n').any(needs_escape) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.split('\n')
            .map(|line| visible(line).into_owned())
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

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

/// Every string in `value`, made [`visible`] (keys and values alike).
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

/// What stops a mention, an issue reference or a link in markdown without showing: an empty
/// HTML comment. GitHub (and GitLab) find `@name`, `@org/team`, `#123` and bare URLs in each
/// piece of text between tags, so `@<!-- -->team` shows as `@team` and notifies no one. A
/// backslash does not stop them, nor `&#64;` (the entity is text again before mentions are
/// looked for), and a zero-width character would be escaped itself.
const BREAK: &str = "<!-- -->";

/// A character that makes the `@` after it part of a word (an email), not a mention: GitHub
/// counts ASCII letters, digits and `_`.
fn in_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Markdown text, safe in a heading, a list item, a quote or a table cell: [`visible`], every
/// character markdown or HTML would act on backslash-escaped (a backtick becomes `'`, which no
/// code span can be closed with), and mentions (`@name`, `@org/team`), issue references
/// (`#12`) and bare links (`https://…`, `www.…`) broken so that they stay text: a name chosen
/// in ClickUp must not notify a team from the bot's comment, nor plant a link in it.
pub(crate) fn markdown(text: &str) -> String {
    let text = visible(text);
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        let before = i.checked_sub(1).map(|j| chars[j]);
        let after = chars.get(i + 1).copied();
        // `www.`: broken before its dot.
        if c == '.'
            && i >= 3
            && chars[i - 3..i].iter().all(|w| w.eq_ignore_ascii_case(&'w'))
            && !(i >= 4 && chars[i - 4].is_alphanumeric())
        {
            out.push_str(BREAK);
        }
        match c {
            '`' => out.push('\''),
            '\\' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '#' | '!' | '&' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
        let breaks = match c {
            '@' => !before.is_some_and(in_word) && after.is_some_and(|a| a.is_ascii_alphanumeric()),
            '#' => after.is_some_and(|a| a.is_ascii_digit()),
            ':' => after == Some('/') && chars.get(i + 2) == Some(&'/'),
            _ => false,
        };
        if breaks {
            out.push_str(BREAK);
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
            "x\\\\n+ invite 'evil' \\[click\\](http:<!-- -->//e) \\<\\!-- a\\_b\\|c",
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

    #[test]
    fn invisible_and_format_characters_are_shown_escaped() {
        for (raw, shown) in [
            ("a\u{061c}b", "a\\u061cb"),
            ("a\u{2028}b\u{2029}c", "a\\u2028b\\u2029c"),
            (
                "a\u{200b}b\u{200c}c\u{200d}d\u{2060}e",
                "a\\u200bb\\u200cc\\u200dd\\u2060e",
            ),
            ("\u{feff}bom\u{ad}", "\\ufeffbom\\u00ad"),
            (
                "Ops\u{e0041}\u{e0042}\u{e007f}",
                "Ops\\ue0041\\ue0042\\ue007f",
            ),
            ("x\u{3164}y\u{115f}\u{034f}", "x\\u3164y\\u115f\\u034f"),
        ] {
            assert_eq!(visible(raw), shown, "{raw:?}");
        }
        // One variation selector after a character is part of the name; a run hides data.
        assert_eq!(visible("I \u{2764}\u{fe0f} Ops"), "I \u{2764}\u{fe0f} Ops");
        assert_eq!(
            visible("a\u{fe0f}\u{fe01}\u{e0100}"),
            "a\u{fe0f}\\ufe01\\ue0100"
        );
        assert_eq!(visible("\u{fe0f}x"), "\\ufe0fx");
        assert_eq!(visible("Zoë Åström 佐藤"), "Zoë Åström 佐藤");
    }

    #[test]
    fn in_markdown_mentions_references_and_links_stay_text() {
        let shown = markdown(
            "Ops @acme/admins cc @bob, see #12 and https://evil.example or WWW.evil.example",
        );
        for live in [
            "@acme/admins",
            "@bob",
            "#12",
            "https://",
            "://evil",
            "WWW.evil",
        ] {
            assert!(!shown.contains(live), "{live} is live in {shown}");
        }
        // Still read as written, once GitHub drops the empty comments.
        assert_eq!(
            shown.replace("<!-- -->", ""),
            "Ops @acme/admins cc @bob, see \\#12 and https://evil.example or WWW.evil.example"
        );
        // An email is not a mention.
        assert_eq!(markdown("ada@acme.example"), "ada@acme.example");
    }
}
