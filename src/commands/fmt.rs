//! `fmt`: rewrite the members file in canonical form, check it, or show the difference.

use std::io::Write;

use anstyle::{AnsiColor, Style};

use crate::commands::Error;
use crate::commands::{Common, Exit, display_path};
use crate::console::error;
use crate::engine::{self, FileProblems};
use crate::format;
use crate::fsutil;

const ADDED: Style = AnsiColor::Green.on_default();
const REMOVED: Style = AnsiColor::Red.on_default();
const HUNK: Style = AnsiColor::Cyan.on_default();

/// A unified diff of two texts, coloured when colour is on.
pub(crate) fn write_diff(
    out: &mut dyn Write,
    before: &str,
    after: &str,
    before_name: &str,
    after_name: &str,
) -> std::io::Result<()> {
    let text = similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(before_name, after_name)
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
    Ok(())
}

/// How `fmt` was asked to run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    /// Only say whether the file is formatted (exit 1 when not).
    pub(crate) check: bool,
    /// Show the difference formatting makes.
    pub(crate) diff: bool,
}

/// `fmt` of the file, or of each Workspace file of a folder (with their fragments) in turn:
/// one that cannot be formatted does not stop the others.
pub(crate) fn run_all(common: &Common, options: Options) -> Result<Exit, Error> {
    if !common.file.is_dir() {
        return run(common, options);
    }
    let mut exit = Exit::Success;
    let mut errors = Vec::new();
    for path in crate::commands::targets::folder_files(&common.file)? {
        let each = Common {
            file: path,
            ..common.clone()
        };
        match run(&each, options) {
            Ok(Exit::Success) => {}
            Ok(other) => exit = other,
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        return Ok(exit);
    }
    Err(Error::Several {
        summary: format!(
            "{} not be formatted",
            crate::render::count(errors.len(), "file could", "files could")
        ),
        errors,
    })
}

fn run(common: &Common, options: Options) -> Result<Exit, Error> {
    // The file is read with its fragments and checked whole, as `validate` does: a group of
    // the Workspace file may name people a fragment lists. A file validate rejects is not
    // rewritten.
    let loaded = engine::load(&common.file).map_err(|e| match e {
        engine::Error::Invalid(mut problems) => {
            problems.summary = format!("{} was not changed", display_path(&common.file));
            engine::Error::Invalid(problems)
        }
        other => other,
    })?;
    let crate::config::Loaded {
        source,
        file,
        fragments,
        ..
    } = loaded;
    // The Workspace file, then each fragment it includes, formatted in place: one that
    // cannot be does not keep the others from being checked.
    let mut exit = Exit::Success;
    let mut errors = Vec::new();
    let each = std::iter::once((common.file.clone(), source, format::format as Formatter)).chain(
        file.files
            .into_iter()
            .skip(1)
            .zip(fragments)
            // The fragment sync writes, before its first sync: nothing to format.
            .filter(|(name, _)| std::path::Path::new(name).exists())
            .map(|(name, (_, text))| {
                (
                    std::path::PathBuf::from(name),
                    text,
                    format::format_fragment as Formatter,
                )
            }),
    );
    for (path, text, formatter) in each {
        match one(common, &options, &path, text, formatter) {
            Ok(Exit::Success) => {}
            Ok(other) => exit = other,
            Err(e) => errors.push(e),
        }
    }
    match errors.len() {
        0 => Ok(exit),
        1 => Err(errors.remove(0)),
        n => Err(Error::Several {
            summary: format!("{n} files were not changed"),
            errors,
        }),
    }
}

/// How a file is put in canonical form: a Workspace file, or a fragment.
type Formatter = fn(&str) -> Result<String, Vec<crate::diag::Diagnostic>>;

/// Formats one file with `formatter`: checks it, shows the difference or rewrites it.
fn one(
    common: &Common,
    options: &Options,
    path: &std::path::Path,
    source: String,
    formatter: Formatter,
) -> Result<Exit, Error> {
    let Options { check, diff } = *options;
    let name = display_path(path);
    let formatted = match formatter(&source) {
        Ok(text) => text,
        Err(diagnostics) => {
            return Err(Error::Engine(engine::Error::Invalid(Box::new(
                FileProblems {
                    summary: format!("{name} was not changed"),
                    file: name,
                    source,
                    diagnostics,
                    general: Vec::new(),
                    fragments: Vec::new(),
                },
            ))));
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
        write_diff(
            &mut out,
            &source,
            &formatted,
            &name,
            &format!("{name} (formatted)"),
        )?;
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
