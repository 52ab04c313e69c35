//! The commands: each reads what it needs at the edges, calls the pure core and prints. Shared
//! here: how a file, a state and a Workspace are opened, and how problems are reported.

pub(crate) mod apply;
mod fmt;
mod import;
pub(crate) mod plan;
mod prepare;
mod show;
mod snapshot;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::config::{self, LoadError};
use crate::console::{error, warning};
use crate::diag::{self, Diagnostic};
use crate::render::Problems;
use crate::render::json::JsonPlan;

/// How a run ended, as an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: done, or no changes.
    Success,
    /// 1: an error, a refused plan, or a change that failed.
    Failure,
    /// 2: `plan --detailed-exitcode` found changes.
    Changes,
    /// 130 or 143: `apply` was stopped by SIGINT or SIGTERM (what was applied is recorded).
    Signal(u8),
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        match exit {
            Exit::Success => ExitCode::SUCCESS,
            Exit::Failure => ExitCode::from(1),
            Exit::Changes => ExitCode::from(2),
            Exit::Signal(code) => ExitCode::from(code),
        }
    }
}

/// How `plan` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
    Markdown,
}

/// Options every command shares, resolved.
#[derive(Debug, Clone)]
pub(crate) struct Common {
    pub(crate) file: PathBuf,
    pub(crate) state: PathBuf,
    pub(crate) api_url: String,
    pub(crate) snapshot: Option<PathBuf>,
    pub(crate) timeout: std::time::Duration,
    pub(crate) verbose: u8,
    pub(crate) quiet: bool,
}

/// A command ready to run.
#[derive(Debug, Clone)]
pub(crate) enum Invocation {
    Validate,
    Plan(plan::Options),
    Apply(apply::Options),
    Snapshot {
        workspace: String,
        out: PathBuf,
        with_guest_shares: bool,
    },
    Show {
        plan: Option<PathBuf>,
        format: Format,
    },
    ForceUnlock {
        lock_id: String,
        force: bool,
    },
    Import {
        workspace: String,
        out: Option<PathBuf>,
        force: bool,
        with_guest_shares: bool,
        schema: String,
    },
    Fmt {
        check: bool,
        diff: bool,
    },
    Schema,
}

/// `members.yaml` → `members.state.json`, in the same directory.
pub(crate) fn default_state_path(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map_or_else(|| "members".into(), |s| s.to_string_lossy().into_owned());
    file.with_file_name(format!("{stem}.state.json"))
}

/// Why a command stopped early.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The details were printed already; they are kept as text for the markdown of a pull
    /// request.
    Reported(Problems),
    /// A sentence to print as the error.
    Error(String),
    /// `--refresh=false` found no Workspace recorded by an apply: there is nothing to plan
    /// against yet, which a pull request without a token is told, not failed for.
    NothingRecorded(String),
    /// Writing the output failed (a closed standard output is not an error: see `console`).
    Io(std::io::Error),
}

impl From<std::io::Error> for Stop {
    fn from(e: std::io::Error) -> Stop {
        Stop::Io(e)
    }
}

impl From<String> for Stop {
    fn from(message: String) -> Stop {
        Stop::Error(message)
    }
}

impl Stop {
    /// What stopped the command, as a summary and its details.
    pub(crate) fn problems(&self) -> Problems {
        match self {
            Stop::Reported(problems) => problems.clone(),
            Stop::Error(message) | Stop::NothingRecorded(message) => Problems {
                summary: message.clone(),
                lines: Vec::new(),
            },
            Stop::Io(e) => Problems {
                summary: format!("cannot write the output: {e}"),
                lines: Vec::new(),
            },
        }
    }
}

/// Runs a command to its end.
pub(crate) async fn dispatch(common: &Common, invocation: Invocation) -> Result<Exit, Stop> {
    match invocation {
        Invocation::Validate => validate(common),
        Invocation::Schema => schema(),
        Invocation::Show { plan, format } => show::run(common, plan.as_deref(), format),
        Invocation::ForceUnlock { lock_id, force } => force_unlock(common, &lock_id, force),
        Invocation::Fmt { check, diff } => fmt::run(common, check, diff),
        Invocation::Plan(options) => plan::run(common, &options).await,
        Invocation::Apply(options) => apply::run(common, options).await,
        Invocation::Snapshot {
            workspace,
            out,
            with_guest_shares,
        } => snapshot::run(common, &workspace, &out, with_guest_shares).await,
        Invocation::Import {
            workspace,
            out,
            force,
            with_guest_shares,
            schema,
        } => {
            let options = import::Options {
                workspace,
                out,
                force,
                with_guest_shares,
                schema,
            };
            import::run(common, &options).await
        }
    }
}

/// Prints why a command stopped and gives its exit code.
pub(crate) fn report(stop: Stop) -> Exit {
    match stop {
        Stop::Reported(_) => Exit::Failure,
        Stop::Io(e) => {
            error(&format!("cannot write the output: {e}"));
            Exit::Failure
        }
        Stop::Error(message) | Stop::NothingRecorded(message) => {
            error(&message);
            Exit::Failure
        }
    }
}

/// The file's name as the user wrote it, for messages.
pub(crate) fn display_path(path: &std::path::Path) -> String {
    path.display().to_string()
}

/// Reads a plan saved by `plan --out`.
pub(crate) fn read_saved_plan(path: &std::path::Path) -> Result<JsonPlan, Stop> {
    let name = display_path(path);
    let bytes = crate::fsutil::read_regular(path)
        .map_err(|e| Stop::Error(format!("cannot read {name}: {e}")))?;
    let plan: JsonPlan = serde_json::from_slice(&bytes).map_err(|e| {
        Stop::Error(format!(
            "{name} is not a plan written by `clickup-members plan --out` ({e})"
        ))
    })?;
    // Every field is covered, the ones only shown (mode, max_removals, the summary) too.
    if plan.plan_digest.as_deref() != Some(plan.digest().as_str()) {
        return Err(Stop::Error(format!(
            "{name} was changed after `clickup-members plan --out` wrote it (its plan_digest does not match what it holds); make the plan again"
        )));
    }
    Ok(plan)
}

/// Loads the desired-state file, printing every problem when it is invalid.
pub(crate) fn load_config(common: &Common) -> Result<config::Loaded, Stop> {
    match config::load(&common.file) {
        Ok(loaded) => Ok(loaded),
        Err(LoadError::Io { path, error }) => Err(Stop::Error(format!(
            "cannot read {}: {error}",
            display_path(&path)
        ))),
        Err(LoadError::TooLarge { path, bytes }) => Err(Stop::Error(format!(
            "{} is {} MB; a members file is refused above {} MB",
            display_path(&path),
            bytes / (1024 * 1024),
            crate::yaml::MAX_FILE_BYTES / (1024 * 1024)
        ))),
        Err(LoadError::Invalid {
            path,
            source,
            diagnostics,
        }) => {
            let name = display_path(&path);
            let n = diagnostics.len();
            let summary = format!(
                "{name} is invalid: {n} {}",
                if n == 1 { "problem" } else { "problems" }
            );
            Err(report_problems(&name, &source, &diagnostics, &[], summary)?)
        }
    }
}

/// Prints located problems (with source snippets on a terminal), then the others, then the
/// summary, on standard error; returns them as the [`Stop`] that ends the command.
pub(crate) fn report_problems(
    file: &str,
    source: &str,
    diagnostics: &[Diagnostic],
    general: &[String],
    summary: String,
) -> Result<Stop, Stop> {
    print_diagnostics(file, source, diagnostics)?;
    for message in general {
        error(message);
    }
    error(&summary);
    let mut plain = Vec::new();
    diag::write_all(&mut plain, file, source, diagnostics, false)?;
    let lines = String::from_utf8_lossy(&plain)
        .lines()
        .filter(|l| !l.starts_with("  help: "))
        .map(str::to_owned)
        .chain(general.iter().cloned())
        .collect();
    Ok(Stop::Reported(Problems { summary, lines }))
}

/// Prints diagnostics on stderr, with source snippets when stderr is a terminal.
pub(crate) fn print_diagnostics(
    file: &str,
    source: &str,
    diagnostics: &[Diagnostic],
) -> Result<(), Stop> {
    let snippets = std::io::stderr().is_terminal();
    let mut err = anstream::stderr().lock();
    diag::write_all(&mut err, file, source, diagnostics, snippets)?;
    Ok(())
}

fn validate(common: &Common) -> Result<Exit, Stop> {
    let loaded = load_config(common)?;
    let file = &loaded.file;
    if !common.quiet {
        let groups = match &file.groups {
            Some(g) => format!(", {} groups", g.len()),
            None => String::new(),
        };
        let mut out = crate::console::stdout();
        writeln!(
            out,
            "{} is valid: Workspace {}, {} members, {} guests{groups} (mode: {}).",
            display_path(&loaded.path),
            file.workspace.id.value,
            file.members.len(),
            file.guests.len(),
            file.policy.mode.name()
        )?;
    }
    Ok(Exit::Success)
}

fn force_unlock(common: &Common, lock_id: &str, force: bool) -> Result<Exit, Stop> {
    let holder =
        crate::lock::force_unlock(&common.state, lock_id, force, warning).map_err(Stop::Error)?;
    let mut out = crate::console::stdout();
    writeln!(
        out,
        "Removed the lock held by {}. The state can be applied again.",
        holder.describe()
    )?;
    Ok(Exit::Success)
}

fn schema() -> Result<Exit, Stop> {
    let mut out = crate::console::stdout();
    out.write_all(config::json_schema().as_bytes())?;
    Ok(Exit::Success)
}
