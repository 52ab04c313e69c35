//! The commands: thin adapters from the command line to the engine. Each takes its options,
//! calls the engine (or the core), renders, and returns its exit code; [`report`] is the one
//! place an [`Error`] becomes a sentence on standard error and an exit code.

pub(crate) mod apply;
mod ci;
mod error;
pub(crate) mod fmt;
pub(crate) mod import;
mod options;
pub(crate) mod plan;
mod progress;
pub(crate) mod review;
pub(crate) mod serve;
mod show;
pub(crate) mod snapshot;
mod summary;
pub(crate) mod sync;
mod targets;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::console::error;
use crate::diag::{self, Diagnostic};
use crate::engine;
use crate::render::{Problems, count};

pub(crate) use error::Error;
pub use options::Exit;
pub(crate) use options::{Common, Format, default_state_path};
pub(crate) use targets::Refresh;

/// Prints why a command stopped, with the problems' places when it has them, and gives the
/// exit code.
pub(crate) fn report(stop: Error) -> Exit {
    tracing::debug!(retryable = stop.retryable(), "stopped: {stop}");
    if let Error::Several { summary, errors } = stop {
        for each in errors {
            report(each);
        }
        error(&summary);
        return Exit::Failure;
    }
    if let Error::Interrupted(code) = stop {
        error(&stop.to_string());
        return Exit::Signal(code);
    }
    match stop.file_problems() {
        Some(problems) => {
            let _ = print_diagnostics(problems.texts(), &problems.diagnostics);
            for message in &problems.general {
                error(message);
            }
            error(&problems.summary);
        }
        None => error(&stop.to_string()),
    }
    Exit::Failure
}

/// Prints what the command line asked for instead of a command (help, the version) with exit
/// 0, or its usage error with exit 1: 2 is `plan --detailed-exitcode`'s "there are changes",
/// which a mistyped option in CI must never read as.
pub fn usage(error: &clap::Error) -> Exit {
    let _ = error.print();
    if error.use_stderr() {
        Exit::Failure
    } else {
        Exit::Success
    }
}

/// What stopped a command, as plain text: a summary and each problem (`FILE:LINE:COL: …`),
/// for the markdown of a pull request.
pub(crate) fn problems(stop: &Error) -> Problems {
    let Some(found) = stop.file_problems() else {
        return Problems {
            summary: stop.to_string(),
            lines: Vec::new(),
        };
    };
    let mut plain = Vec::new();
    let _ = diag::write_all(&mut plain, found.texts(), &found.diagnostics, false);
    let lines = String::from_utf8_lossy(&plain)
        .lines()
        .filter(|l| !l.starts_with("  help: "))
        .map(str::to_owned)
        .chain(found.general.iter().cloned())
        .collect();
    Problems {
        summary: found.summary,
        lines,
    }
}

/// Prints diagnostics on stderr, with source snippets when stderr is a terminal.
fn print_diagnostics(texts: diag::Texts<'_>, diagnostics: &[Diagnostic]) -> std::io::Result<()> {
    let snippets = std::io::stderr().is_terminal();
    let mut err = anstream::stderr().lock();
    diag::write_all(&mut err, texts, diagnostics, snippets)
}

/// The file's name as the user wrote it, for messages.
pub(crate) fn display_path(path: &Path) -> String {
    path.display().to_string()
}

/// A command ready to run.
#[derive(Debug, Clone)]
pub(crate) enum Invocation {
    Validate,
    Plan(plan::Options),
    Apply(apply::Options),
    Snapshot(snapshot::Options),
    Show {
        plan: Option<PathBuf>,
        format: Format,
    },
    ForceUnlock {
        lock_id: String,
        force: bool,
    },
    Import(import::Options),
    Fmt(fmt::Options),
    Report(review::Options),
    Schema {
        /// The schema of a fragment (`include:`) rather than of a Workspace file.
        fragment: bool,
    },
    Serve(serve::Options),
    Sync(sync::Options),
}

/// Runs a command to its end.
pub(crate) async fn dispatch(common: &Common, invocation: Invocation) -> Result<Exit, Error> {
    let one_file = || {
        if common.file.is_dir() {
            return Err(Error::Usage(format!(
                "{} is a folder: this command takes one Workspace file (-f FILE)",
                display_path(&common.file)
            )));
        }
        Ok(())
    };
    match invocation {
        Invocation::Validate => validate(common),
        Invocation::Schema { fragment } => schema(fragment),
        Invocation::Show { plan, format } => {
            one_file()?;
            show::run(common, plan.as_deref(), format)
        }
        Invocation::ForceUnlock { lock_id, force } => {
            one_file()?;
            force_unlock(common, &lock_id, force)
        }
        Invocation::Fmt(options) => fmt::run_all(common, options),
        Invocation::Plan(options) => plan::run(common, &options).await,
        Invocation::Sync(options) => sync::run(common, &options).await,
        Invocation::Apply(options) => apply::run(common, options).await,
        Invocation::Snapshot(options) => {
            one_file()?;
            snapshot::run(common, &options).await
        }
        Invocation::Import(options) => {
            one_file()?;
            import::run(common, &options).await
        }
        Invocation::Serve(options) => serve::run(common, options).await,
        Invocation::Report(options) => review::run(common, &options).await,
    }
}

/// `validate`: every Workspace file's problems at once (a folder's all read first), and a
/// line for each valid one.
fn validate(common: &Common) -> Result<Exit, Error> {
    let targets = targets::targets(common)?;
    let valid = targets.files.len();
    for each in targets.files {
        let loaded = match each.loaded {
            Some(loaded) => loaded,
            None => engine::load(&each.options.file)?,
        };
        say_valid(&loaded, common.quiet)?;
    }
    if targets.folder && !common.quiet {
        let mut out = crate::console::stdout();
        writeln!(
            out,
            "{} in {} {} valid.",
            count(valid, "Workspace file", "Workspace files"),
            display_path(&common.file),
            if valid == 1 { "is" } else { "are" }
        )?;
    }
    Ok(Exit::Success)
}

/// What `validate` says of a valid file: the dates already past, and unless `quiet` a line.
pub(crate) fn say_valid(loaded: &crate::config::Loaded, quiet: bool) -> Result<(), Error> {
    let file = &loaded.file;
    // Dates already past are not errors: the plan removes those people.
    let now = crate::clock::now();
    for (email, expires) in file.expiries().filter(|(_, e)| e.value.0 <= now) {
        crate::console::warning(&format!(
            "{}:{}:{}: {email} expired on {}; plans remove them",
            loaded.name_of(expires.loc),
            expires.loc.line,
            expires.loc.col,
            expires.value.day()
        ));
    }
    if !quiet {
        let groups = match &file.groups {
            Some(g) => format!(", {}", count(g.len(), "group", "groups")),
            None => String::new(),
        };
        let mut out = crate::console::stdout();
        writeln!(
            out,
            "{} is valid: Workspace {}, {}, {}{groups} (mode: {}).",
            display_path(&loaded.path),
            file.workspace.id.value,
            count(file.members.len(), "member", "members"),
            count(file.guests.len(), "guest", "guests"),
            file.policy.mode.name()
        )?;
    }
    Ok(())
}

fn force_unlock(common: &Common, lock_id: &str, force: bool) -> Result<Exit, Error> {
    let holder = crate::lock::force_unlock(&common.state, lock_id, force, crate::console::warning)?;
    let mut out = crate::console::stdout();
    writeln!(
        out,
        "Removed the lock held by {}. The state can be applied again.",
        holder.describe()
    )?;
    Ok(Exit::Success)
}

fn schema(fragment: bool) -> Result<Exit, Error> {
    let mut out = crate::console::stdout();
    let schema = if fragment {
        crate::config::fragment_json_schema()
    } else {
        crate::config::json_schema()
    };
    out.write_all(schema.as_bytes())?;
    Ok(Exit::Success)
}
