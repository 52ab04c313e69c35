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
use crate::engine::{self, ApplyOptions, Error, Reviewed, StateStore};
use crate::lock::StateLock;
use crate::render;
use crate::stop::{StopSignal, listen_for_signals};

/// How `apply` was asked to run.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// A plan saved by `plan --out`, applied only while it is the plan made now.
    pub(crate) saved: Option<PathBuf>,
    /// `--reviewed`: the plan a pull request showed; only its changes are made.
    pub(crate) reviewed: Option<PathBuf>,
    pub(crate) auto_approve: bool,
    pub(crate) allow_replace: bool,
    pub(crate) parallelism: usize,
    pub(crate) audit_log: Option<PathBuf>,
}

/// What the plan made now is held to.
#[derive(Debug, Clone)]
pub(crate) enum Against {
    /// `apply PLAN`: the saved plan, applied whole or not at all.
    Saved(Saved),
    /// `apply --reviewed PLAN`: the changes both plans hold are made.
    Reviewed(Reviewed),
}

pub(crate) async fn run(common: &Common, options: Options) -> Result<Exit, Error> {
    let against = match (&options.saved, &options.reviewed) {
        (Some(path), _) => Some(Against::Saved(Saved {
            name: crate::commands::display_path(path),
            plan: engine::read_saved_plan(path)?,
        })),
        (None, Some(path)) => Some(Against::Reviewed(Reviewed {
            name: crate::commands::display_path(path),
            plan: engine::read_saved_plan(path)?,
        })),
        (None, None) => None,
    };
    run_with(common, options, Client::default(), against).await
}

/// A saved plan, read, and where it was read from.
#[derive(Debug, Clone)]
pub(crate) struct Saved {
    pub(crate) name: String,
    pub(crate) plan: crate::render::json::JsonPlan,
}

/// [`run`], with the HTTP client as `client` says and the saved or reviewed plan already read.
pub(crate) async fn run_with(
    common: &Common,
    options: Options,
    client: Client,
    against: Option<Against>,
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
    let inputs = engine::Inputs {
        reviewed: match &against {
            Some(Against::Reviewed(reviewed)) => Some(reviewed.clone()),
            _ => None,
        },
        ..heard_inputs(common, Refresh::Read, true, &stop, client)
    };
    let planned = engine::plan(inputs, &mut Warnings).await?;
    if let Some(refusal) = planned.refusal() {
        return Err(refusal.when_applying());
    }
    let json_plan = planned.json(options.allow_replace);
    if let Some(Against::Saved(saved)) = &against {
        planned.check_saved_plan(&saved.name, &saved.plan, &json_plan)?;
    }
    let ctx = render::Context {
        held_back: planned.review.as_ref().is_some_and(|r| !r.is_whole()),
        ..planned.context()
    };
    let mut stdout = crate::console::stdout();
    render::text(&mut stdout, &json_plan, &ctx)?;
    if let Some(review) = &planned.review {
        writeln!(stdout)?;
        render::review(
            &mut stdout,
            &review.name,
            &review.not_reviewed,
            &review.already_done,
        )?;
    }
    stdout.flush()?;
    drop(stdout);

    let has_changes = !planned.plan.is_empty();
    let mut audit = None;
    if has_changes {
        planned.check_applicable(options.allow_replace)?;
        let saved = matches!(against, Some(Against::Saved(_)));
        if !saved && !options.auto_approve {
            confirm().await?;
        }
        if let Some(path) = &options.audit_log {
            audit =
                Some(AuditLog::open(path).map_err(|e| Error::io("open the audit log", path, e))?);
        }
        listen_for_signals(&stop, warning);
    }
    // Drawn only now: nothing may draw over the question and its answer.
    let mut observer = Terminal::new(&planned.plan, common.quiet, audit);
    let store = StateStore {
        journal_above: journal_above(),
        ..StateStore::new(&common.state)
    };
    let apply_options = ApplyOptions {
        allow_replace: options.allow_replace,
        parallelism: options.parallelism,
        stop,
    };
    let review = planned.review.clone();
    let applied = engine::apply(planned, &store, &mut observer, &apply_options).await;
    observer.finish();
    let applied = applied?;
    drop(lock);
    let exit = if has_changes {
        summary(&applied)?
    } else {
        Exit::Success
    };
    match review {
        Some(review) if !review.is_whole() => {
            crate::console::error(&not_reviewed_sentence(&review));
            Ok(if exit == Exit::Success {
                Exit::Failure
            } else {
                exit
            })
        }
        _ => Ok(exit),
    }
}

/// Why an apply of a reviewed plan that made everything it could still fails.
fn not_reviewed_sentence(review: &engine::Review) -> String {
    let n = review.not_reviewed.len();
    format!(
        "{n} {} the Workspace needs {} not in the reviewed plan {} and {} not made: plan again and have the new plan reviewed (a pull request), or undo in ClickUp's UI what was changed there since the review",
        if n == 1 { "change" } else { "changes" },
        if n == 1 { "is" } else { "are" },
        review.name,
        if n == 1 { "was" } else { "were" },
    )
}

/// `CLICKUP_MEMBERS_JOURNAL_ABOVE` sets the number of people above which writes go to the
/// state's journal (0: always).
fn journal_above() -> usize {
    std::env::var("CLICKUP_MEMBERS_JOURNAL_ABOVE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(engine::JOURNAL_ABOVE)
}

/// Asks for `yes` on the terminal. Ctrl-C (or SIGTERM) while it waits cancels the apply:
/// nothing was sent, and the exit code says which signal it was.
async fn confirm() -> Result<(), Error> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::NoConfirmation);
    }
    // Listening before asking: the signal is then this process's to handle, not its end.
    let interrupted = crate::stop::interrupted();
    let (answered, answer) = tokio::sync::oneshot::channel();
    // A thread of its own, not the runtime's blocking pool: a question nobody answers must not
    // keep the process from ending.
    std::thread::spawn(move || {
        let answer = dialoguer::Input::<String>::new()
            .with_prompt("Do you want to apply these changes? Only 'yes' will be accepted")
            .allow_empty(true)
            .interact_text();
        let _ = answered.send(answer);
    });
    let cancelled = |code: u8| {
        // The answer's line was not ended.
        eprintln!();
        Error::Interrupted(code)
    };
    tokio::select! {
        code = interrupted => Err(cancelled(code)),
        answer = answer => match answer {
            Ok(Ok(answer)) if answer.trim() == "yes" => Ok(()),
            Ok(Ok(_)) => Err(Error::Cancelled),
            Ok(Err(dialoguer::Error::IO(e))) if e.kind() == std::io::ErrorKind::Interrupted => {
                Err(cancelled(130))
            }
            Ok(Err(dialoguer::Error::IO(e))) => Err(Error::Prompt(e)),
            Err(_) => Err(Error::Internal("the question was not answered")),
        },
    }
}
