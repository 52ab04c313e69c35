//! `fmt`: rewrite the members file in canonical form, check it, or show the difference.

use std::io::Write;

use anstyle::{AnsiColor, Style};

use crate::commands::Common;
use crate::commands::{Exit, Stop, display_path, error, report_problems};
use crate::format;
use crate::fsutil;

const ADDED: Style = AnsiColor::Green.on_default();
const REMOVED: Style = AnsiColor::Red.on_default();
const HUNK: Style = AnsiColor::Cyan.on_default();

pub(crate) fn run(common: &Common, check: bool, diff: bool) -> Result<Exit, Stop> {
    let name = display_path(&common.file);
    let source = std::fs::read_to_string(&common.file)
        .map_err(|e| Stop::Error(format!("cannot read {name}: {e}")))?;
    let formatted = match format::format(&source) {
        Ok(text) => text,
        Err(diagnostics) => {
            let summary = format!("{name} was not changed");
            return Err(report_problems(&name, &source, &diagnostics, &[], summary)?);
        }
    };
    if formatted == source {
        if !common.quiet && !check {
            let mut out = crate::console::stdout();
            writeln!(out, "{name} is already formatted.")?;
        }
        return Ok(Exit::Success);
    }
    if diff {
        let mut out = crate::console::stdout();
        let text = similar::TextDiff::from_lines(&source, &formatted)
            .unified_diff()
            .context_radius(3)
            .header(&name, &format!("{name} (formatted)"))
            .to_string();
        for line in text.lines() {
            let style = match line.as_bytes().first() {
                Some(b'+') if !line.starts_with("+++") => ADDED,
                Some(b'-') if !line.starts_with("---") => REMOVED,
                Some(b'@') => HUNK,
                _ => Style::new(),
            };
            writeln!(out, "{style}{line}{style:#}")?;
        }
    }
    if check {
        error(&format!(
            "{name} is not in canonical form; run `clickup-members fmt -f {name}`"
        ));
        return Ok(Exit::Failure);
    }
    if diff {
        return Ok(Exit::Success);
    }
    fsutil::write_atomic(&common.file, formatted.as_bytes())
        .map_err(|e| Stop::Error(format!("cannot write {name}: {e}")))?;
    if !common.quiet {
        let mut out = crate::console::stdout();
        writeln!(out, "Formatted {name}.")?;
    }
    Ok(Exit::Success)
}
