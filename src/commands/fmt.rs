//! `fmt`: rewrite the members file in canonical form, check it, or show the difference.

use std::io::Write;

use anstyle::{AnsiColor, Style};

use crate::commands::{Common, Exit, display_path};
use crate::console::error;
use crate::engine::{Error, FileProblems};
use crate::format;
use crate::fsutil;

const ADDED: Style = AnsiColor::Green.on_default();
const REMOVED: Style = AnsiColor::Red.on_default();
const HUNK: Style = AnsiColor::Cyan.on_default();

/// How `fmt` was asked to run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    /// Only say whether the file is formatted (exit 1 when not).
    pub(crate) check: bool,
    /// Show the difference formatting makes.
    pub(crate) diff: bool,
}

pub(crate) fn run(common: &Common, options: Options) -> Result<Exit, Error> {
    let source =
        std::fs::read_to_string(&common.file).map_err(|e| Error::io("read", &common.file, e))?;
    let mut exit = one(common, &options, &common.file, source, format::format)?;
    // The fragments it includes, each formatted in place.
    let fragments = match crate::config::decode_file(&common.file) {
        Ok(decoded) => decoded
            .file
            .sources
            .into_iter()
            .skip(1)
            .zip(decoded.fragments),
        Err(_) => return Ok(exit),
    };
    for (name, (_, text)) in fragments {
        let path = std::path::PathBuf::from(&name);
        if one(common, &options, &path, text, format::format_fragment)? == Exit::Failure {
            exit = Exit::Failure;
        }
    }
    Ok(exit)
}

/// Formats one file with `formatter`: checks it, shows the difference or rewrites it.
fn one(
    common: &Common,
    options: &Options,
    path: &std::path::Path,
    source: String,
    formatter: fn(&str) -> Result<String, Vec<crate::diag::Diagnostic>>,
) -> Result<Exit, Error> {
    let Options { check, diff } = *options;
    let name = display_path(path);
    let formatted = match formatter(&source) {
        Ok(text) => text,
        Err(diagnostics) => {
            return Err(Error::Invalid(Box::new(FileProblems {
                summary: format!("{name} was not changed"),
                file: name,
                source,
                diagnostics,
                general: Vec::new(),
                fragments: Vec::new(),
            })));
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
            "{name} is not in canonical form; run `clickup-members fmt -f {}`",
            display_path(&common.file)
        ));
        return Ok(Exit::Failure);
    }
    if diff {
        return Ok(Exit::Success);
    }
    fsutil::write_atomic(path, formatted.as_bytes()).map_err(|e| Error::io("write", path, e))?;
    if !common.quiet {
        let mut out = crate::console::stdout();
        writeln!(out, "Formatted {name}.")?;
    }
    Ok(Exit::Success)
}
