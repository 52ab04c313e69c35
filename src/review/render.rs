//! The access review written out: CSV (RFC 4180, for spreadsheets and audit tools), JSON (an
//! array of objects with the CSV's columns as keys), and text and markdown tables with a summary
//! on top.

use std::borrow::Cow;
use std::io::{self, Write};

use crate::escape::{markdown as md, visible};
use crate::review::{COLUMNS, Flag, Kind, Row, Status};

/// What the summary names: what was reviewed, the day and the threshold of `inactive`.
#[derive(Debug, Clone)]
pub(crate) struct Heading {
    pub(crate) subject: Subject,
    pub(crate) day: time::Date,
    pub(crate) inactive_days: u32,
    /// The Workspaces of a folder that could not be reviewed, each with why: said where
    /// their rows would have been.
    pub(crate) unreviewed: Vec<String>,
}

/// What the review is of.
#[derive(Debug, Clone)]
pub(crate) enum Subject {
    /// One Workspace, by its name and id.
    Workspace { name: String, id: String },
    /// The Workspace files of a folder (`-f DIR`), named once.
    Folder { path: String, workspaces: usize },
}

/// The characters a spreadsheet starts a formula with, and their full-width and small forms,
/// which some spreadsheets read as the same.
const FORMULA: [char; 13] = [
    '=', '+', '-', '@', '\u{ff1d}', '\u{ff0b}', '\u{ff0d}', '\u{ff20}', '\u{fe66}', '\u{fe62}',
    '\u{fe63}', '\u{fe6b}', '\u{2212}',
];

/// Whether a spreadsheet could run `text` as a formula: a formula character first, or after
/// the spaces (a no-break space too), byte order mark and other invisible characters a
/// spreadsheet trims; or a tab, carriage return or line feed first.
fn runs_as_formula(text: &str) -> bool {
    if text.starts_with(['\t', '\r', '\n']) {
        return true;
    }
    text.trim_start_matches(|c: char| c.is_whitespace() || crate::escape::hidden(c))
        .starts_with(FORMULA)
}

/// A cell a spreadsheet could run as a formula starts with `'`: a name chosen in ClickUp must
/// not run in an auditor's spreadsheet.
fn inert(text: &str) -> Cow<'_, str> {
    if runs_as_formula(text) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

fn day(date: Option<time::Date>) -> String {
    date.map(crate::config::day).unwrap_or_default()
}

/// The columns of `rows`: [`COLUMNS`], after a `workspace` column when the rows come from a
/// folder of Workspace files.
fn columns(rows: &[Row]) -> Vec<&'static str> {
    let many = rows.iter().any(|r| r.workspace.is_some());
    many.then_some("workspace")
        .into_iter()
        .chain(COLUMNS)
        .collect()
}

/// The row's cells in the order of [`columns`], lists joined with `join`.
fn cells<'a>(row: &'a Row, join: &str, many: bool) -> Vec<Cow<'a, str>> {
    let flags: Vec<&str> = row.flags.iter().map(|f| f.key()).collect();
    let workspace = many.then(|| Cow::Borrowed(row.workspace.as_deref().unwrap_or("")));
    workspace
        .into_iter()
        .chain([
            Cow::Borrowed(row.email.as_str()),
            Cow::Borrowed(row.name.as_str()),
            Cow::Borrowed(row.kind.key()),
            Cow::Borrowed(row.role.as_str()),
            Cow::Borrowed(row.status.map_or("", Status::key)),
            Cow::Borrowed(yes_no(row.in_file)),
            Cow::Borrowed(yes_no(row.managed)),
            Cow::Owned(row.groups.join(join)),
            Cow::Owned(day(row.last_active)),
            Cow::Owned(day(row.invited)),
            Cow::Owned(day(row.expires)),
            Cow::Owned(flags.join(join)),
        ])
        .collect()
}

pub(crate) fn csv(out: &mut dyn Write, rows: &[Row]) -> io::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    let columns = columns(rows);
    let many = columns.len() > COLUMNS.len();
    writer.write_record(&columns)?;
    for row in rows {
        let cells = cells(row, ";", many);
        writer.write_record(cells.iter().map(|cell| inert(cell).into_owned()))?;
    }
    writer.flush()
}

pub(crate) fn json(out: &mut dyn Write, rows: &[Row]) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, rows).map_err(io::Error::other)?;
    writeln!(out)
}

/// `Access review of Workspace "Acme" (9006054115), 2026-12-02: 29 people (26 members, 3
/// guests; 2 pending invitations), 1 in the file but not in the Workspace.` and the flags.
fn summary(rows: &[Row], heading: &Heading) -> (String, String) {
    let live: Vec<&Row> = rows.iter().filter(|r| r.status.is_some()).collect();
    let guests = live.iter().filter(|r| r.kind == Kind::Guest).count();
    let pending = live
        .iter()
        .filter(|r| r.status == Some(Status::Pending))
        .count();
    let missing = rows.len() - live.len();
    let count =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let of = match &heading.subject {
        Subject::Workspace { name, id } => format!("Workspace \"{name}\" ({id})"),
        Subject::Folder { path, workspaces } => format!(
            "the {} in {path}",
            count(*workspaces, "Workspace", "Workspaces")
        ),
    };
    let title = format!("Access review of {of}, {}", crate::config::day(heading.day));
    let mut line = format!(
        "{} ({}, {}; {})",
        count(live.len(), "person", "people"),
        count(live.len() - guests, "member", "members"),
        count(guests, "guest", "guests"),
        count(pending, "pending invitation", "pending invitations"),
    );
    if missing > 0 {
        line.push_str(&format!(
            ", and {missing} in the file but not in the Workspace"
        ));
    }
    let flagged: Vec<String> = Flag::ALL
        .iter()
        .filter_map(|flag| {
            let n = rows.iter().filter(|r| r.flags.contains(flag)).count();
            (n > 0).then(|| format!("{n} {}", flag.key()))
        })
        .collect();
    if flagged.is_empty() {
        line.push_str(". Nothing flagged");
    } else {
        line.push_str(&format!(". Flagged: {}", flagged.join(", ")));
    }
    line.push_str(&format!(
        " (inactive: no activity for {} days; pending-long: invited over {} days ago).",
        heading.inactive_days,
        crate::review::PENDING_LONG_DAYS
    ));
    (title, line)
}

/// A table with its columns padded, names made safe for a terminal.
pub(crate) fn text(out: &mut dyn Write, rows: &[Row], heading: &Heading) -> io::Result<()> {
    let (title, line) = summary(rows, heading);
    writeln!(out, "{}", visible(&title))?;
    writeln!(out, "{}", visible(&line))?;
    for why in &heading.unreviewed {
        writeln!(out, "{}", visible(why))?;
    }
    writeln!(out)?;
    let columns = columns(rows);
    let many = columns.len() > COLUMNS.len();
    let table: Vec<Vec<Cow<'_, str>>> = rows
        .iter()
        .map(|row| {
            cells(row, ";", many)
                .into_iter()
                .map(|cell| Cow::Owned(visible(&cell).into_owned()))
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = columns.iter().map(|c| c.len()).collect();
    for cells in &table {
        for (width, cell) in widths.iter_mut().zip(cells) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut write_line = |cells: &mut dyn Iterator<Item = &str>| -> io::Result<()> {
        let mut text = String::new();
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            text.push_str(cell);
            if i + 1 < widths.len() {
                let pad = widths[i].saturating_sub(cell.chars().count());
                text.extend(std::iter::repeat_n(' ', pad));
            }
        }
        writeln!(out, "{}", text.trim_end())
    };
    write_line(&mut columns.iter().copied())?;
    for cells in &table {
        write_line(&mut cells.iter().map(|c| c.as_ref()))?;
    }
    Ok(())
}

/// A markdown document for a pull request or an audit ticket: a heading, the summary and the
/// table.
pub(crate) fn markdown(out: &mut dyn Write, rows: &[Row], heading: &Heading) -> io::Result<()> {
    let (title, line) = summary(rows, heading);
    writeln!(out, "### {}\n\n{}\n", md(&title), md(&line))?;
    for why in &heading.unreviewed {
        writeln!(out, "> :warning: {}\n", md(why))?;
    }
    let columns = columns(rows);
    let many = columns.len() > COLUMNS.len();
    writeln!(out, "| {} |", columns.join(" | "))?;
    writeln!(out, "|{}", " --- |".repeat(columns.len()))?;
    for row in rows {
        let cells: Vec<String> = cells(row, "; ", many).iter().map(|cell| md(cell)).collect();
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    Ok(())
}
