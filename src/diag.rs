//! Problems found in a user's file, with the line and column they point at, and their two
//! renderings: `FILE:LINE:COL: message` (what scripts, editors and CI logs read) and, on a
//! terminal, the same line followed by a source snippet drawn by miette.

use std::fmt;
use std::io::{self, Write};

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic};

use crate::escape::visible;

/// A position in a text file, 1-based, counted in characters like editors do (a column past
/// 65,535 is told as 65,535). `file` says which file: 0 for the Workspace file, `n` for the
/// n-th fragment it includes. Eight bytes: every value of a large file carries one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub(crate) struct Loc {
    pub(crate) file: u16,
    pub(crate) line: u32,
    pub(crate) col: u16,
}

impl Loc {
    pub(crate) fn new(line: u64, col: u64) -> Self {
        Loc {
            file: 0,
            line: u32::try_from(line).unwrap_or(u32::MAX),
            col: u16::try_from(col).unwrap_or(u16::MAX),
        }
    }
}

/// The texts diagnostics point into, by [`Loc::file`]: the Workspace file first, then its
/// fragments, each with its name as the user wrote it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Texts<'a> {
    pub(crate) file: &'a str,
    pub(crate) source: &'a str,
    pub(crate) fragments: &'a [(String, String)],
}

impl<'a> Texts<'a> {
    /// The name and text of the file `loc` is in.
    pub(crate) fn of(&self, loc: Loc) -> (&'a str, &'a str) {
        match fragment_of(loc, self.fragments) {
            Some((name, source)) => (name, source),
            None => (self.file, self.source),
        }
    }
}

/// The fragment (name and text) `loc` is in; `None` for the Workspace file itself.
pub(crate) fn fragment_of(loc: Loc, fragments: &[(String, String)]) -> Option<&(String, String)> {
    usize::from(loc.file)
        .checked_sub(1)
        .and_then(|i| fragments.get(i))
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// One problem in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Diagnostic {
    pub(crate) loc: Loc,
    pub(crate) message: String,
    /// A short label drawn under the snippet ("unknown key").
    pub(crate) label: Option<String>,
    /// What to do about it.
    pub(crate) help: Option<String>,
}

impl Diagnostic {
    pub(crate) fn new(loc: Loc, message: impl Into<String>) -> Self {
        Diagnostic {
            loc,
            message: message.into(),
            label: None,
            help: None,
        }
    }

    pub(crate) fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Writes diagnostics of a file and its fragments, sorted by position: always the `FILE:LINE:COL: message` line,
/// and with `snippets` a miette drawing of the source around it.
pub(crate) fn write_all(
    out: &mut dyn Write,
    texts: Texts<'_>,
    diags: &[Diagnostic],
    snippets: bool,
) -> io::Result<()> {
    let mut sorted: Vec<&Diagnostic> = diags.iter().collect();
    sorted.sort_by_key(|d| d.loc);
    for d in sorted {
        let (file, src) = texts.of(d.loc);
        // A message may quote the file (an unknown key), which may hold anything.
        let message = visible(&d.message);
        writeln!(out, "{}:{}: {message}", visible(file), d.loc)?;
        if snippets {
            write!(out, "{}", snippet(file, src, d))?;
        } else if let Some(help) = &d.help {
            writeln!(out, "  help: {}", visible(help))?;
        }
    }
    Ok(())
}

fn snippet(file: &str, src: &str, d: &Diagnostic) -> String {
    let offset = byte_offset(src, d.loc);
    let len = token_len(src, offset);
    // Only the offending line is shown, escaped: the file may not be the user's own (a
    // fragment can be anything a glob matches), and its other lines are none of the error's
    // business; nor may its text reach the terminal raw.
    let start = src[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = src[offset..].find('\n').map_or(src.len(), |i| offset + i);
    let line = &src[start..end];
    let line = line.strip_suffix('\r').unwrap_or(line);
    let before = visible(&line[..(offset - start).min(line.len())]).len();
    let token = visible(&src[offset..(offset + len).min(start + line.len())]).len();
    let source = OneLine {
        name: visible(file).into_owned(),
        text: visible(line).into_owned(),
        number: usize::try_from(d.loc.line)
            .unwrap_or(usize::MAX)
            .saturating_sub(1),
        column: usize::from(d.loc.col.saturating_sub(1)),
    };
    let label = d.label.as_deref().map(|l| visible(l).into_owned());
    let mut diagnostic = MietteDiagnostic::new(visible(&d.message).into_owned())
        .with_labels([LabeledSpan::new_with_span(label, (before, token.max(1)))]);
    if let Some(help) = &d.help {
        diagnostic = diagnostic.with_help(visible(help).into_owned());
    }
    let report = miette::Report::new(diagnostic).with_source_code(source);
    let mut out = String::new();
    let handler =
        GraphicalReportHandler::new_themed(GraphicalTheme::unicode()).with_context_lines(0);
    if handler.render_report(&mut out, report.as_ref()).is_err() {
        return String::new();
    }
    // The first line repeats the message already printed with its location.
    match out.split_once('\n') {
        Some((_, rest)) => rest.to_owned(),
        None => String::new(),
    }
}

/// One line of a file, already escaped, as miette draws it: with its file's name and its
/// line number, and nothing around it.
#[derive(Debug)]
struct OneLine {
    name: String,
    text: String,
    /// 0-based.
    number: usize,
    /// Where the problem is on the line, 0-based, counted in the file's characters.
    column: usize,
}

impl miette::SourceCode for OneLine {
    fn read_span<'a>(
        &'a self,
        _span: &miette::SourceSpan,
        _before: usize,
        _after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        Ok(Box::new(
            miette::MietteSpanContents::new_named(
                self.name.clone(),
                self.text.as_bytes(),
                (0, self.text.len()).into(),
                self.number,
                self.column,
                1,
            )
            .with_language("yaml"),
        ))
    }
}

/// The byte offset of a line and (character) column in `src`, clamped to the text.
pub(crate) fn byte_offset(src: &str, loc: Loc) -> usize {
    let mut line_start = 0usize;
    for _ in 1..loc.line {
        match src[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => return src.len(),
        }
    }
    let line_end = src[line_start..]
        .find('\n')
        .map_or(src.len(), |i| line_start + i);
    let line = &src[line_start..line_end];
    let col = usize::from(loc.col.saturating_sub(1));
    line_start + line.char_indices().nth(col).map_or(line.len(), |(i, _)| i)
}

/// The length of the word at `offset`, so the snippet underlines a key or value, not one letter.
fn token_len(src: &str, offset: usize) -> usize {
    let rest = &src[offset.min(src.len())..];
    let end = rest
        .find(['\n', ':', ',', ']', '}', '#'])
        .unwrap_or(rest.len());
    rest[..end].trim_end().len().max(1).min(rest.len().max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_offsets_count_characters_not_bytes() {
        let src = "a: é\nbb: x\n";
        assert_eq!(byte_offset(src, Loc::new(1, 4)), 3);
        assert_eq!(byte_offset(src, Loc::new(2, 5)), 10);
        assert_eq!(byte_offset(src, Loc::new(9, 1)), src.len());
    }

    #[test]
    fn plain_output_is_file_line_col_message() {
        let mut out = Vec::new();
        let diags = [
            Diagnostic::new(Loc::new(3, 5), "second"),
            Diagnostic::new(Loc::new(1, 1), "first").help("fix it"),
        ];
        let texts = Texts {
            file: "m.yaml",
            source: "a\nb\nc\n",
            fragments: &[],
        };
        write_all(&mut out, texts, &diags, false).expect("write");
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "m.yaml:1:1: first\n  help: fix it\nm.yaml:3:5: second\n"
        );
    }

    #[test]
    fn a_problem_in_a_fragment_is_named_by_the_fragment_and_comes_after_the_file() {
        let mut out = Vec::new();
        let in_fragment = Loc {
            file: 1,
            ..Loc::new(2, 3)
        };
        let diags = [
            Diagnostic::new(in_fragment, "in the fragment"),
            Diagnostic::new(Loc::new(9, 1), "in the file"),
        ];
        let fragments = [("teams/eng.yaml".to_owned(), "a\nbb: x\n".to_owned())];
        let texts = Texts {
            file: "m.yaml",
            source: "a\n",
            fragments: &fragments,
        };
        write_all(&mut out, texts, &diags, false).expect("write");
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "m.yaml:9:1: in the file\nteams/eng.yaml:2:3: in the fragment\n"
        );
    }

    #[test]
    fn a_snippet_shows_the_offending_line_only_escaped() {
        let src =
            "secret: one\napi_key: \"SECRET\\e]0;x\u{7}\"\nkey: \u{1b}[2Kvalue\nafter: three\n";
        let d = Diagnostic::new(Loc::new(3, 1), "unknown key \"key\"").label("unknown key");
        let drawn = snippet("teams/x.yaml", src, &d);
        assert!(!drawn.contains("\u{1b}[2K"), "{drawn}");
        let shown = anstream::adapter::strip_str(&drawn).to_string();
        assert!(shown.contains("key: \\u001b[2Kvalue"), "{shown}");
        for other in ["secret", "api_key", "SECRET", "after", "three"] {
            assert!(!shown.contains(other), "{other:?} shown:\n{shown}");
        }
        assert!(
            shown.contains(" 3 │ key"),
            "its line number is kept:\n{shown}"
        );
    }
}
