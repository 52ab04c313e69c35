//! `apply`: lock the state, plan (or re-check a saved plan), confirm, and let the engine make
//! the changes, showing progress; then the summary and the exit code. Ctrl-C or SIGTERM stops
//! it cleanly: no new request, the ones in flight finish, the state is saved.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use crate::audit::AuditLog;
use crate::commands::progress::{Terminal, Warnings};
use crate::commands::source::{Client, Refresh, heard_inputs};
use crate::commands::summary::summary;
use crate::commands::{Common, Exit};
use crate::console::warning;
use crate::engine::{self, ApplyOptions, Error, StateStore};
use crate::lock::StateLock;
use crate::render;
use crate::stop::{StopSignal, listen_for_signals};

/// How `apply` was asked to run.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) saved: Option<PathBuf>,
    pub(crate) auto_approve: bool,
    pub(crate) allow_replace: bool,
    pub(crate) parallelism: usize,
    pub(crate) audit_log: Option<PathBuf>,
}

pub(crate) async fn run(common: &Common, options: Options) -> Result<Exit, Error> {
    let saved = match &options.saved {
        Some(path) => Some(Saved {
            name: crate::commands::display_path(path),
            plan: engine::read_saved_plan(path)?,
        }),
        None => None,
    };
    run_with(common, options, Client::default(), saved).await
}

/// A saved plan, read, and where it was read from.
#[derive(Debug, Clone)]
pub(crate) struct Saved {
    pub(crate) name: String,
    pub(crate) plan: crate::render::json::JsonPlan,
}

/// [`run`], with the HTTP client as `client` says and the saved plan already read.
pub(crate) async fn run_with(
    common: &Common,
    options: Options,
    client: Client,
    saved: Option<Saved>,
) -> Result<Exit, Error> {
    // Its lines are the record of what it did: when standard output closes, they go on to
    // standard error and the apply goes on.
    crate::console::divert_to_stderr_when_closed();
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let lock = StateLock::acquire(&common.state, &command)?;
    tracing::debug!("holding the state lock {}", lock.info.id);
    if let Some(previous) = &lock.taken_over {
        warning(&format!(
            "took over the lock left by a run that ended without releasing it: {}",
            previous.describe()
        ));
    }
    let stop = StopSignal::default();
    let inputs = heard_inputs(common, Refresh::Read, true, &stop, client);
    let planned = engine::plan(inputs, &mut Warnings).await?;
    if let Some(refusal) = planned.refusal() {
        return Err(refusal);
    }
    let json_plan = planned.json(options.allow_replace);
    if let Some(saved) = &saved {
        planned.check_saved_plan(&saved.name, &saved.plan, &json_plan)?;
    }
    let mut stdout = crate::console::stdout();
    render::text(&mut stdout, &json_plan, &planned.context())?;
    stdout.flush()?;
    drop(stdout);

    let has_changes = !planned.plan.is_empty();
    let mut observer = Terminal::new(&planned.plan, common.quiet, None);
    if has_changes {
        planned.check_applicable(options.allow_replace)?;
        if options.saved.is_none() && !options.auto_approve {
            confirm()?;
        }
        if let Some(path) = &options.audit_log {
            let audit =
                AuditLog::open(path).map_err(|e| Error::io("open the audit log", path, e))?;
            observer = Terminal::new(&planned.plan, common.quiet, Some(audit));
        }
        listen_for_signals(&stop, warning);
    }
    let store = StateStore {
        journal_above: journal_above(),
        ..StateStore::new(&common.state)
    };
    let apply_options = ApplyOptions {
        allow_replace: options.allow_replace,
        parallelism: options.parallelism,
        stop,
    };
    let applied = engine::apply(planned, &store, &mut observer, &apply_options).await;
    observer.finish();
    let applied = applied?;
    drop(lock);
    if has_changes {
        summary(&applied)
    } else {
        Ok(Exit::Success)
    }
}

/// `CLICKUP_MEMBERS_JOURNAL_ABOVE` sets the number of people above which writes go to the
/// state's journal (0: always).
fn journal_above() -> usize {
    std::env::var("CLICKUP_MEMBERS_JOURNAL_ABOVE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(engine::JOURNAL_ABOVE)
}

fn confirm() -> Result<(), Error> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::NoConfirmation);
    }
    let answer: String = dialoguer::Input::new()
        .with_prompt("Do you want to apply these changes? Only 'yes' will be accepted")
        .allow_empty(true)
        .interact_text()
        .map_err(|dialoguer::Error::IO(e)| Error::Prompt(e))?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(Error::Cancelled)
    }
}
