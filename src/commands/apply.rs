//! `apply`: each Workspace's run, applied: the state's lock taken, the plan made (and held to a
//! saved or a reviewed plan), shown, confirmed, and its changes made with progress shown; then
//! the summary and the exit code. A folder goes Workspace by Workspace; one refused or failed
//! does not stop the others, but a saved plan of a folder is applied whole or not at all.
//! Ctrl-C or SIGTERM stops it cleanly: no new request, the ones in flight finish, the state is
//! saved.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use crate::audit::AuditLog;
use crate::clickup::Backend;
use crate::commands::Error;
use crate::commands::progress::{Terminal, Warnings};
use crate::commands::summary::summary;
use crate::commands::targets::{Connection, Refresh, Targets, WorkspaceFile, targets};
use crate::commands::{Common, Exit, display_path, report};
use crate::console::warning;
use crate::engine::{self, Against, Outcome, Prepared, Purpose, Reviewed, Verdict, Writing};
use crate::render::{self, count, json};
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
    /// How long to wait for a state lock another run holds (0: fail at once).
    pub(crate) lock_timeout: Duration,
}

pub(crate) async fn run(common: &Common, options: Options) -> Result<Exit, Error> {
    // Its lines are the record of what it did: when standard output closes, they go on to
    // standard error and the apply goes on.
    crate::console::divert_to_stderr_when_closed();
    let targets = targets(common)?;
    let against = against_each(&options, &targets)?;
    let stop = StopSignal::default();
    let run = Run {
        options: &options,
        quiet: common.quiet,
        connection: Connection::default(),
        stop: &stop,
        holder: std::env::args().collect::<Vec<_>>().join(" "),
    };
    let total = targets.files.len();
    if !targets.folder {
        let mut pairs = targets.files.into_iter().zip(against);
        let (each, against) = pairs.next().ok_or(Error::internal("no Workspace file"))?;
        let prepared = run.prepare(each, against.map_err(Error::Usage)?).await?;
        return run.one(prepared).await;
    }
    let mut failures = Vec::new();
    if options.saved.is_some() {
        // A saved plan of a folder is applied whole or not at all: every Workspace is planned
        // (under its lock) and held to its saved plan before any is applied.
        for (heading, prepared) in run.prepare_whole(targets.files, against).await? {
            heading_line(&heading)?;
            let outcome = run.one(prepared).await;
            if let Some(exit) = tally(&heading, outcome, &mut failures)? {
                return Ok(exit);
            }
        }
    } else {
        for (each, against) in targets.files.into_iter().zip(against) {
            let heading = each.heading(None);
            heading_line(&heading)?;
            let outcome = match against {
                Ok(against) => match run.prepare(each, against).await {
                    Ok(prepared) => run.one(prepared).await,
                    Err(e) => Err(e),
                },
                Err(why) => Err(Error::Usage(why)),
            };
            if let Some(exit) = tally(&heading, outcome, &mut failures)? {
                return Ok(exit);
            }
        }
    }
    if failures.is_empty() {
        return Ok(Exit::Success);
    }
    Err(Error::Several {
        summary: format!(
            "{} of {} {} refused or failed; {}",
            failures.len(),
            count(total, "Workspace", "Workspaces"),
            if failures.len() == 1 { "was" } else { "were" },
            match total - failures.len() {
                0 => "none was applied",
                1 => "the other was applied",
                _ => "the others were applied",
            }
        ),
        errors: failures,
    })
}

/// `=== clickup/acme.yaml: Workspace 9006054115 ===`, before a Workspace's part of a folder's
/// output.
fn heading_line(heading: &str) -> std::io::Result<()> {
    let mut out = crate::console::stdout();
    writeln!(out, "=== {heading} ===\n")
}

/// Counts how one Workspace of a folder ended; a signal ends the whole apply.
fn tally(
    heading: &str,
    outcome: Result<Exit, Error>,
    failures: &mut Vec<Error>,
) -> Result<Option<Exit>, Error> {
    match outcome {
        Ok(Exit::Success | Exit::Changes) => {}
        Ok(Exit::Failure) => failures.push(Error::Usage(format!(
            "{heading}: some changes failed or were not reviewed (above)"
        ))),
        Ok(Exit::Signal(code)) => return Ok(Some(Exit::Signal(code))),
        Err(Error::Interrupted(code)) => return Err(Error::Interrupted(code)),
        Err(e) => {
            report(e);
            failures.push(Error::Usage(format!("{heading} was not applied")));
        }
    }
    let mut out = crate::console::stdout();
    writeln!(out)?;
    Ok(None)
}

/// What every Workspace's run of one `apply` shares.
struct Run<'a> {
    options: &'a Options,
    quiet: bool,
    connection: Connection,
    stop: &'a StopSignal,
    /// The command line, which the lock file names.
    holder: String,
}

impl Run<'_> {
    /// Takes the Workspace's lock and plans it, held to what `against` says.
    async fn prepare(
        &self,
        each: WorkspaceFile,
        against: Option<Against>,
    ) -> Result<Prepared<Backend>, Error> {
        let target = each.target(Refresh::Read, self.stop, self.connection.clone());
        let writing = Writing {
            against,
            allow_replace: self.options.allow_replace,
            parallelism: self.options.parallelism,
            stop: self.stop.clone(),
            holder: self.holder.clone(),
            lock_timeout: self.options.lock_timeout,
        };
        Ok(engine::prepare(target, Purpose::Apply(Box::new(writing)), &mut Warnings).await?)
    }

    /// Every Workspace of a folder planned and held to its saved plan: one stale, and all are
    /// refused (their locks released, nothing applied).
    async fn prepare_whole(
        &self,
        files: Vec<WorkspaceFile>,
        against: Vec<Result<Option<Against>, String>>,
    ) -> Result<Vec<(String, Prepared<Backend>)>, Error> {
        let name = self
            .options
            .saved
            .as_deref()
            .map(display_path)
            .unwrap_or_default();
        let mut prepared = Vec::with_capacity(files.len());
        let mut stale = Vec::new();
        let mut against = against.into_iter();
        for each in files {
            let heading = each.heading(None);
            let against = against.next().unwrap_or(Ok(None));
            let against = match against {
                Ok(against) => against,
                Err(why) => {
                    stale.push(stale_plan(name.clone(), why));
                    continue;
                }
            };
            match self.prepare(each, against).await {
                Ok(one) => match &one.planned.verdict {
                    Verdict::Stale { plan, why } => {
                        stale.push(stale_plan(plan.clone(), why.clone()));
                    }
                    _ => prepared.push((heading, one)),
                },
                Err(e) => stale.push(e),
            }
        }
        // Saved plans of Workspaces whose files are gone.
        for why in against.filter_map(Result::err) {
            stale.push(stale_plan(name.clone(), why));
        }
        if stale.is_empty() {
            return Ok(prepared);
        }
        Err(Error::Several {
            summary: format!(
                "the saved plans in {name} are refused whole: nothing was applied to any Workspace"
            ),
            errors: stale,
        })
    }

    /// One Workspace's run from its plan: shown, judged, confirmed, applied, summed up.
    async fn one(&self, prepared: Prepared<Backend>) -> Result<Exit, Error> {
        let options = self.options;
        let planned = &prepared.planned;
        // A plan apply refuses whole is not shown: the reason is the whole story.
        match &planned.verdict {
            Verdict::Applicable | Verdict::ReplaceNotAllowed(_) => {}
            refused => {
                return Err(match refused.error(true) {
                    Some(error) => error.into(),
                    None => Error::internal("a refused verdict without a reason"),
                });
            }
        }
        show(planned, options.allow_replace)?;
        let has_changes = !planned.plan.is_empty();
        let mut audit = None;
        if has_changes {
            if let Some(refused) = planned.verdict.error(true) {
                return Err(refused.into());
            }
            if options.saved.is_none() && !options.auto_approve {
                confirm().await?;
            }
            if let Some(path) = &options.audit_log {
                let log =
                    AuditLog::open(path).map_err(|e| Error::io("open the audit log", path, e))?;
                audit = Some(log);
            }
            listen_for_signals(self.stop, warning);
        }
        // Drawn only now: nothing may draw over the question and its answer.
        let mut observer = Terminal::new(&planned.plan, self.quiet, audit);
        let finished = prepared.finish(&mut observer).await;
        observer.finish();
        let Outcome::Applied { applied, review } = finished? else {
            return Err(Error::internal("an apply that did not apply"));
        };
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
}

/// The plan as text, and with a reviewed plan what was not reviewed and what is done already.
fn show(planned: &engine::Planned<Backend>, allow_replace: bool) -> Result<(), Error> {
    let json_plan = planned.json(allow_replace);
    let ctx = render::Context {
        held_back: planned.review.as_ref().is_some_and(|r| !r.is_whole()),
        ..planned.context()
    };
    // Written in one write, as `plan` does: a plan of thousands of changes is as many lines.
    let mut document = Vec::new();
    render::text(&mut document, &json_plan, &ctx)?;
    if let Some(review) = &planned.review {
        writeln!(document)?;
        render::review(
            &mut document,
            &review.name,
            &review.not_reviewed,
            &review.already_done,
        )?;
    }
    crate::console::write_styled(&document)?;
    Ok(())
}

/// What each Workspace's plan is held to: a saved plan (of a file, or of a folder whose plan
/// of that Workspace is taken), a reviewed plan, or nothing; an error (as its sentence) for a
/// Workspace the plans given do not hold.
fn against_each(
    options: &Options,
    targets: &Targets,
) -> Result<Vec<Result<Option<Against>, String>>, Error> {
    let given = match (&options.saved, &options.reviewed) {
        (Some(path), _) => Some((path, false)),
        (None, Some(path)) => Some((path, true)),
        (None, None) => None,
    };
    let Some((path, reviewed)) = given else {
        return Ok(targets.files.iter().map(|_| Ok(None)).collect());
    };
    let name = display_path(path);
    let plans: Vec<json::JsonPlan> = if targets.folder {
        match engine::read_saved(path)? {
            engine::SavedDoc::Folder(all) => all.workspaces,
            engine::SavedDoc::One(plan) if reviewed => vec![*plan],
            engine::SavedDoc::One(_) => {
                return Err(Error::Usage(format!(
                    "{name} is the saved plan of one Workspace file, not of a folder: apply it with -f and that file"
                )));
            }
        }
    } else {
        vec![engine::read_saved_plan(path)?]
    };
    let against = |plan: json::JsonPlan| {
        if reviewed {
            Against::Reviewed(Box::new(Reviewed {
                name: name.clone(),
                plan,
            }))
        } else {
            Against::Saved {
                name: name.clone(),
                plan: Box::new(plan),
            }
        }
    };
    if !targets.folder {
        return Ok(plans.into_iter().map(|p| Ok(Some(against(p)))).collect());
    }
    let mut each: Vec<Result<Option<Against>, String>> = targets
        .files
        .iter()
        .map(|file| {
            let id = file.workspace_id().unwrap_or_default();
            let shown = display_path(&file.options.file);
            match plans.iter().find(|p| p.workspace.id == id) {
                Some(plan) => Ok(Some(against(plan.clone()))),
                None if reviewed => Err(format!(
                    "the reviewed plan {name} holds no plan of Workspace {id} ({shown}): nothing was applied to it; plan it and have the plan reviewed"
                )),
                None => Err(format!("{shown} was added for Workspace {id}")),
            }
        })
        .collect();
    // A saved plan of a Workspace whose file is gone makes the folder's plans stale.
    if !reviewed {
        for plan in &plans {
            let known = targets
                .files
                .iter()
                .any(|f| f.workspace_id() == Some(plan.workspace.id.as_str()));
            if !known {
                each.push(Err(format!(
                    "the file of Workspace {} was removed",
                    plan.workspace.id
                )));
            }
        }
    }
    Ok(each)
}

/// A saved plan that is not the plan made now.
fn stale_plan(plan: String, why: String) -> Error {
    engine::Error::Stale { plan, why }.into()
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
            Err(_) => Err(Error::internal("the question was not answered")),
        },
    }
}
