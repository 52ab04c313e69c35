//! The csv source (SPEC §11): an HR system's export with a header line holding at least
//! `email` and `group`, and optionally `role`, `as` and `expires`, which override the rule for
//! that row. Lines starting with `#` are comments; a byte-order mark, CRLF line ends, quoted
//! fields with commas, quotes and line breaks are read as spreadsheets write them. A row with
//! a bad email, role, `as` or date is an error at its line; every such row is reported at once.
//! Other columns are left alone.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::config::{Expiry, Joins, RoleName, Rule};
use crate::diag::{Diagnostic, Loc};
use crate::model::Email;

/// A csv file larger than any HR export of a Workspace's people.
const MAX_BYTES: u64 = 256 * 1024 * 1024;

/// One row of the export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    pub(crate) email: Email,
    /// The `role` column, when the row fills it.
    pub(crate) role: Option<RoleName>,
    /// The `as` column, when the row fills it.
    pub(crate) joins: Option<Joins>,
    /// The `expires` column, when the row fills it.
    pub(crate) expires: Option<Expiry>,
    /// Its line in the file (where the row starts).
    pub(crate) line: u64,
}

/// The export, read whole: its rows by group.
#[derive(Debug, Default)]
pub(crate) struct Export {
    /// By the `group` column, lower-cased and trimmed: groups are matched case-insensitively.
    groups: HashMap<String, Vec<Row>>,
    /// How many rows it has, comments left out.
    pub(crate) rows: usize,
}

impl Export {
    /// The rows of `group`.
    pub(crate) fn group(&self, group: &str) -> &[Row] {
        self.groups
            .get(&group.trim().to_lowercase())
            .map_or(&[], Vec::as_slice)
    }
}

/// Why the export cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CsvError {
    #[error("cannot read {}: {error}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    #[error("{} is {bytes} bytes, more than a csv export is read ({} MB)", .path.display(), MAX_BYTES / (1024 * 1024))]
    TooLarge { path: PathBuf, bytes: u64 },
    /// Rows (or the header) with problems, each at its line.
    #[error("{} has {} {}", .path.display(), .diagnostics.len(), if .diagnostics.len() == 1 { "problem" } else { "problems" })]
    Invalid {
        path: PathBuf,
        text: String,
        diagnostics: Vec<Diagnostic>,
    },
}

/// Reads the export at `path`, each row checked against the rules that read its group.
pub(crate) fn read(path: &Path, rules: &[&Rule]) -> Result<Export, CsvError> {
    let io = |error| CsvError::Io {
        path: path.to_owned(),
        error,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.len() > MAX_BYTES {
        return Err(CsvError::TooLarge {
            path: path.to_owned(),
            bytes: meta.len(),
        });
    }
    let bytes = crate::fsutil::read_regular(path).map_err(io)?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid =
                String::from_utf8_lossy(&e.as_bytes()[..e.utf8_error().valid_up_to()]).into_owned();
            let line = valid.matches('\n').count() as u64 + 1;
            return Err(CsvError::Invalid {
                path: path.to_owned(),
                diagnostics: vec![Diagnostic::new(
                    Loc::new(line, 1),
                    "the file is not UTF-8 text; export it as UTF-8 (CSV UTF-8)",
                )],
                text: valid,
            });
        }
    };
    let invalid = |diagnostics| CsvError::Invalid {
        path: path.to_owned(),
        text: text.clone(),
        diagnostics,
    };
    let export = parse(&text).map_err(invalid)?;
    let problems = roles_fit(&export, rules);
    if problems.is_empty() {
        Ok(export)
    } else {
        Err(invalid(problems))
    }
}

/// Each row's role fits how its rule (or its `as` column) makes the person join: a guest's
/// role is a custom role, never admin or member. One problem per row, at its line.
fn roles_fit(export: &Export, rules: &[&Rule]) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for rule in rules {
        for row in export.group(&rule.group.value) {
            let joins = row.joins.unwrap_or(rule.joins);
            let role = row.role.as_ref().or(rule.role.as_ref().map(|r| &r.value));
            let problem = match (role, joins) {
                (Some(RoleName::Admin | RoleName::Member), Joins::Guest) => Some(format!(
                    "this row makes {} a guest with the role {}: a guest's role is a custom role that inherits the guest role, or left empty",
                    row.email,
                    role.map_or("", RoleName::as_str)
                )),
                (Some(RoleName::Custom(name)), _) if name.eq_ignore_ascii_case("guest") => Some(
                    "role guest: write guest in the as column; role is then a custom role's name, or left empty"
                        .to_owned(),
                ),
                _ => None,
            };
            if let Some(message) = problem
                && seen.insert(row.line)
            {
                problems.push(Diagnostic::new(Loc::new(row.line, 1), message));
            }
        }
    }
    problems.sort_by_key(|d| d.loc);
    problems
}

/// The columns the export is read by.
struct Columns {
    email: usize,
    group: usize,
    role: Option<usize>,
    joins: Option<usize>,
    expires: Option<usize>,
}

/// Reads the text of an export: its rows by group, or every problem found. Pure.
pub(crate) fn parse(text: &str) -> Result<Export, Vec<Diagnostic>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some(problem) = unclosed_quote(text) {
        return Err(vec![problem]);
    }
    let mut reader = ::csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .flexible(true)
        .trim(::csv::Trim::All)
        .from_reader(text.as_bytes());
    // The reader's own line count skips comments; a record's byte offset does not.
    let newlines: Vec<usize> = text
        .bytes()
        .enumerate()
        .filter_map(|(i, b)| (b == b'\n').then_some(i))
        .collect();
    // A record's offset is where the reader began it: the end of the line before, or a
    // comment it skipped.
    let bytes = text.as_bytes();
    let start = |byte: u64| {
        let mut i = usize::try_from(byte).unwrap_or(usize::MAX).min(bytes.len());
        loop {
            while i < bytes.len() && matches!(bytes[i], b'\r' | b'\n') {
                i += 1;
            }
            if i < bytes.len() && bytes[i] == b'#' {
                i = bytes[i..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |n| i + n);
                continue;
            }
            return i;
        }
    };
    let line_at = |byte: u64| newlines.partition_point(|&n| n < start(byte)) as u64 + 1;
    let error_loc = |e: &::csv::Error| Loc::new(e.position().map_or(1, |p| line_at(p.byte())), 1);
    let header = reader
        .headers()
        .map_err(|e| {
            vec![Diagnostic::new(
                error_loc(&e),
                format!("cannot read the header line: {e}"),
            )]
        })?
        .clone();
    let columns = columns(&header, header.position().map_or(1, |p| line_at(p.byte())))?;
    let mut export = Export::default();
    let mut problems = Vec::new();
    let mut record = ::csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                problems.push(Diagnostic::new(
                    error_loc(&e),
                    format!("cannot read this row: {e}"),
                ));
                break;
            }
        }
        let line = record.position().map_or(0, |p| line_at(p.byte()));
        if record.iter().all(str::is_empty) {
            continue;
        }
        export.rows += 1;
        match row(&record, &columns, line) {
            Ok((group, row)) => export.groups.entry(group).or_default().push(row),
            Err(found) => problems.extend(found),
        }
    }
    if problems.is_empty() {
        Ok(export)
    } else {
        Err(problems)
    }
}

/// A quote that is never closed, or closed with the field going on after it: a spreadsheet
/// never writes either, and reading on would take the rows after it for one field.
fn unclosed_quote(text: &str) -> Option<Diagnostic> {
    let bytes = text.as_bytes();
    let (mut line, mut opened) = (1u64, 0u64);
    let (mut in_quote, mut field_start, mut line_start) = (false, true, true);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        if in_quote {
            match b {
                b'"' if bytes.get(i) == Some(&b'"') => i += 1,
                b'"' => {
                    in_quote = false;
                    field_start = false;
                    if !matches!(bytes.get(i), None | Some(b',' | b'\r' | b'\n')) {
                        return Some(
                            Diagnostic::new(
                                Loc::new(opened, 1),
                                format!(
                                    "the quote opened on this line closes on line {line} with the field going on after it: a quote is missing or one too many"
                                ),
                            )
                            .help("a quoted field ends with a quote followed by a comma or the end of the line; a quote inside it is written twice (\"\")"),
                        );
                    }
                }
                b'\n' => line += 1,
                _ => {}
            }
            continue;
        }
        match b {
            b'#' if line_start => {
                i = bytes[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(bytes.len(), |n| i + n);
            }
            b'"' if field_start => {
                in_quote = true;
                opened = line;
            }
            b',' => field_start = true,
            b'\n' => {
                line += 1;
                field_start = true;
                line_start = true;
                continue;
            }
            b'\r' | b' ' | b'\t' => {}
            _ => field_start = false,
        }
        line_start = false;
    }
    in_quote.then(|| {
        Diagnostic::new(
            Loc::new(opened, 1),
            "the quote opened on this line is never closed: the rest of the file would be read as one field",
        )
        .help("close the quote, or write a quote inside a field twice (\"\")")
    })
}

/// `text` as a message shows it: at most 80 characters.
fn shown(text: &str) -> String {
    match text.char_indices().nth(80) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// Where the header names each column the export is read by; `email` and `group` are needed.
fn columns(header: &::csv::StringRecord, line: u64) -> Result<Columns, Vec<Diagnostic>> {
    let find = |name: &str| {
        header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let twice: Vec<Diagnostic> = ["email", "group", "role", "as", "expires"]
        .into_iter()
        .filter_map(|name| {
            let at: Vec<usize> = header
                .iter()
                .enumerate()
                .filter(|(_, h)| h.trim().eq_ignore_ascii_case(name))
                .map(|(i, _)| i + 1)
                .collect();
            (at.len() > 1).then(|| {
                Diagnostic::new(
                    Loc::new(line, at[1] as u64),
                    format!(
                        "the header line names the column {name} more than once (columns {}): which one to read is unclear",
                        at.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
                    ),
                )
            })
        })
        .collect();
    if !twice.is_empty() {
        return Err(twice);
    }
    let missing: Vec<&str> = ["email", "group"]
        .into_iter()
        .filter(|name| find(name).is_none())
        .collect();
    match (find("email"), find("group")) {
        (Some(email), Some(group)) => Ok(Columns {
            email,
            group,
            role: find("role"),
            joins: find("as"),
            expires: find("expires"),
        }),
        _ => Err(vec![
            Diagnostic::new(
                Loc::new(line, 1),
                format!(
                    "the header line has no {} column",
                    missing.join(" column and no ")
                ),
            )
            .help("the first line names the columns: email,group and optionally role,as,expires"),
        ]),
    }
}

/// One row: its group (lower-cased) and what it says, or its problems.
fn row(
    record: &::csv::StringRecord,
    columns: &Columns,
    line: u64,
) -> Result<(String, Row), Vec<Diagnostic>> {
    let at = |column: usize| Loc::new(line, column as u64 + 1);
    let cell = |column: Option<usize>| {
        column
            .and_then(|c| record.get(c))
            .filter(|text| !text.is_empty())
    };
    let mut problems = Vec::new();
    let email = match cell(Some(columns.email)) {
        None => {
            problems.push(Diagnostic::new(at(columns.email), "this row has no email"));
            None
        }
        Some(text) => match Email::parse(text) {
            Ok(email) => Some(email),
            Err(why) => {
                problems.push(Diagnostic::new(
                    at(columns.email),
                    format!("\"{}\" is not a valid email address: {why}", shown(text)),
                ));
                None
            }
        },
    };
    let group = cell(Some(columns.group)).map(str::to_lowercase);
    if group.is_none() {
        problems.push(Diagnostic::new(at(columns.group), "this row has no group"));
    }
    let role = cell(columns.role).map(RoleName::parse);
    if let Some(RoleName::Owner) = role {
        problems.push(Diagnostic::new(
            at(columns.role.unwrap_or_default()),
            "sync cannot make anyone the owner; list the owner by hand",
        ));
    }
    let joins = match cell(columns.joins) {
        None => None,
        Some("member") => Some(Joins::Member),
        Some("guest") => Some(Joins::Guest),
        Some(other) => {
            problems.push(Diagnostic::new(
                at(columns.joins.unwrap_or_default()),
                format!("as must be member or guest, not \"{}\"", shown(other)),
            ));
            None
        }
    };
    let expires = match cell(columns.expires) {
        None => None,
        Some(text) => match Expiry::parse(text) {
            Ok(expiry) => Some(expiry),
            Err(why) => {
                problems.push(Diagnostic::new(
                    at(columns.expires.unwrap_or_default()),
                    format!("expires: {why}"),
                ));
                None
            }
        },
    };
    match (email, group) {
        (Some(email), Some(group)) if problems.is_empty() => Ok((
            group,
            Row {
                email,
                role,
                joins,
                expires,
                line,
            },
        )),
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(export: &Export, group: &str) -> Vec<(String, u64)> {
        export
            .group(group)
            .iter()
            .map(|r| (r.email.as_str().to_owned(), r.line))
            .collect()
    }

    fn problems(text: &str) -> Vec<String> {
        parse(text)
            .expect_err("invalid")
            .iter()
            .map(|d| format!("{}: {}", d.loc, d.message))
            .collect()
    }

    #[test]
    fn a_quote_left_open_or_closed_too_early_is_an_error_at_the_line_it_opens() {
        let open_at_end = "email,group\na@acme.example,staff\n\"b@acme.example,staff\n";
        assert_eq!(
            problems(open_at_end),
            [
                "3:1: the quote opened on this line is never closed: the rest of the file would be read as one field"
            ]
        );
        let lone = "email,group\na@acme.example,staff\n\"";
        assert_eq!(problems(lone).len(), 1);
        let mid =
            "name,email,group\n\"Kira,kira@acme.example,staff\nLiam,liam@acme.example,\"staff\"\n";
        let found = problems(mid);
        assert!(
            found[0].starts_with(
                "2:1: the quote opened on this line closes on line 3 with the field going on"
            ),
            "{found:?}"
        );
        // Quotes written as spreadsheets write them, and a # inside a quoted field, are fine.
        let fine = "name,email,group\n\"A \"\"B\"\"\nC, # D\",a@acme.example,staff\n# comment \"\n";
        assert_eq!(parse(fine).expect("valid").rows, 1);
    }

    #[test]
    fn a_column_named_twice_is_an_error() {
        assert_eq!(
            problems("email,group,Email\na@acme.example,staff,b@acme.example\n"),
            [
                "1:3: the header line names the column email more than once (columns 1, 3): which one to read is unclear"
            ]
        );
    }

    #[test]
    fn a_long_cell_is_shown_cut() {
        let long = "x".repeat(5000);
        let found = problems(&format!("email,group\n{long},staff\n"));
        assert!(found[0].len() < 200, "{found:?}");
    }

    #[test]
    fn commas_quotes_bom_crlf_and_comments_are_read_as_spreadsheets_write_them() {
        let text = "\u{feff}name,email,group,role\r\n\
                    # exported 2026-12-01\r\n\
                    \"Smith, Ann\",ann@acme.example,Contractors,\r\n\
                    \"Bob \"\"the builder\"\"\",Bob@Acme.example,contractors,\"Viewer, read\"\r\n\
                    \"Cy\nSecond line\",cy@acme.example,interns,\r\n";
        let export = parse(text).expect("valid");
        assert_eq!(
            groups(&export, "contractors"),
            [
                ("ann@acme.example".to_owned(), 3),
                ("bob@acme.example".to_owned(), 4)
            ]
        );
        assert_eq!(
            export.group("CONTRACTORS")[1].role,
            Some(RoleName::Custom("Viewer, read".to_owned()))
        );
        assert_eq!(
            groups(&export, "interns"),
            [("cy@acme.example".to_owned(), 5)]
        );
        assert_eq!(export.rows, 3);
    }

    #[test]
    fn every_bad_row_is_reported_at_its_line_and_column() {
        let text = "email,group,as,expires\n\
                    ann@,eng,,\n\
                    bob@acme.example,,guest,\n\
                    cy@acme.example,eng,visitor,2027-02-30\n";
        let problems = parse(text).expect_err("invalid");
        let found: Vec<(u32, u16, &str)> = problems
            .iter()
            .map(|d| (d.loc.line, d.loc.col, d.message.as_str()))
            .collect();
        assert_eq!(found.len(), 4, "{found:?}");
        assert_eq!((found[0].0, found[0].1), (2, 1));
        assert!(
            found[0].2.contains("\"ann@\" is not a valid email"),
            "{found:?}"
        );
        assert_eq!((found[1].0, found[1].1), (3, 2));
        assert!(found[2].2.contains("not \"visitor\""), "{found:?}");
        assert_eq!((found[3].0, found[3].1), (4, 4));
        assert!(found[3].2.starts_with("expires:"), "{found:?}");
    }

    #[test]
    fn a_header_without_email_or_group_says_which_is_missing() {
        let problems = parse("mail,team\nann@acme.example,eng\n").expect_err("no columns");
        assert_eq!(problems[0].loc.line, 1);
        assert_eq!(
            problems[0].message,
            "the header line has no email column and no group column"
        );
    }

    #[test]
    fn overrides_are_read_and_blank_cells_leave_the_rule_alone() {
        let text = "email,group,role,as,expires\n\
                    ann@acme.example,eng,admin,,2027-03-31\n\
                    bob@acme.example,eng,,guest,\n";
        let export = parse(text).expect("valid");
        let rows = export.group("eng");
        assert_eq!(rows[0].role, Some(RoleName::Admin));
        assert_eq!(rows[0].joins, None);
        assert_eq!(
            rows[0].expires.map(Expiry::day).as_deref(),
            Some("2027-03-31")
        );
        assert_eq!(rows[1].role, None);
        assert_eq!(rows[1].joins, Some(Joins::Guest));
    }
}
