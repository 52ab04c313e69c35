//! `apply`: lock the state, plan (or re-check a saved plan), confirm, make the changes with
//! progress, and keep the state file (and the audit log) current after every write. Ctrl-C or
//! SIGTERM stops it cleanly: no new request, the ones in flight finish, the state is saved.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::apply::{self, Failure, Ids, Observer};
use crate::audit::{self, AuditLog};
use crate::clickup::wire::api;
use crate::clickup::{Workspace, WriteOp, Written, WsError};
use crate::clock;
use crate::commands::Common;
use crate::commands::prepare::{Prepared, prepare, read_needs, replace_refusal};
use crate::commands::{Exit, Stop, display_path, error, read_saved_plan, warning};
use crate::lock::StateLock;
use crate::plan::{Action, Change, Plan};
use crate::render::{self, json};
use crate::state::{Journal, State, journal_path};
use crate::stop::{StopReason, StopSignal};

/// How `apply` was asked to run.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) saved: Option<PathBuf>,
    pub(crate) auto_approve: bool,
    pub(crate) allow_replace: bool,
    pub(crate) parallelism: usize,
    pub(crate) audit_log: Option<PathBuf>,
}

pub(crate) async fn run(common: &Common, options: Options) -> Result<Exit, Stop> {
    // Its lines are the record of what it did: when standard output closes, they go on to
    // standard error and the apply goes on.
    crate::console::divert_to_stderr_when_closed();
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let lock = StateLock::acquire(&common.state, &command).map_err(Stop::Error)?;
    tracing::debug!("holding the state lock {}", lock.info.id);
    if let Some(previous) = &lock.taken_over {
        warning(&format!(
            "took over the lock left by a run that ended without releasing it: {}",
            previous.describe()
        ));
    }
    let stop = StopSignal::default();
    let prepared = prepare(common, true, true, &stop).await?;
    if !prepared.violations.is_empty() {
        return Err(prepared.refuse()?);
    }
    let json_plan = prepared.json(options.allow_replace);
    if let Some(path) = &options.saved {
        check_saved_plan(path, &prepared, &json_plan)?;
    }
    let Prepared {
        loaded,
        state,
        backend,
        doc,
        live,
        plan,
        ctx,
        violations: _,
        workspace_plan: _,
        seats: _,
    } = prepared;
    let (Some(backend), Some(doc)) = (backend, doc) else {
        return Err(Stop::Error("apply always reads the Workspace".to_owned()));
    };
    let mut stdout = crate::console::stdout();
    render::text(&mut stdout, &json_plan, &ctx)?;
    stdout.flush()?;
    drop(stdout);

    let before = state.clone();
    let mut state = state.unwrap_or_else(|| State::new(&plan.workspace_id));
    state.refresh_managed(&loaded.file, &live, &clock::now_rfc3339());
    state.snapshot = Some(doc);
    let journal_left = journal_path(&common.state).exists();
    if plan.is_empty() {
        // The first apply, or one with nothing to do, still records who is managed.
        if before.as_ref() != Some(&state) || journal_left {
            state.last_apply = Some(clock::now_rfc3339());
            state
                .save(&common.state)
                .map_err(|e| Stop::Error(state_write_error(&common.state, &e)))?;
        }
        return Ok(Exit::Success);
    }

    if let Some(refusal) = replace_refusal(&plan)
        && !options.allow_replace
    {
        return Err(Stop::Error(format!(
            "{refusal}: re-run with --allow-replace to accept"
        )));
    }
    if options.saved.is_none() && !options.auto_approve {
        confirm()?;
    }
    // The state as the apply starts, then one journal line per write.
    state
        .save(&common.state)
        .map_err(|e| Stop::Error(state_write_error(&common.state, &e)))?;
    let journal = if live.people.len() > journal_above() {
        Some(
            Journal::create(&common.state)
                .map_err(|e| Stop::Error(format!("cannot start the state's journal: {e}")))?,
        )
    } else {
        None
    };
    let audit = match &options.audit_log {
        Some(path) => Some(AuditLog::open(path).map_err(|e| {
            Stop::Error(format!(
                "cannot open the audit log {}: {e}",
                display_path(path)
            ))
        })?),
        None => None,
    };

    listen_for_signals(&stop);
    let mut ids = Ids::new(live.people.iter().map(|p| (p.email.clone(), p.id))).with_groups(
        live.groups
            .iter()
            .flatten()
            .map(|g| (g.id.as_str(), g.members.iter().map(|(_, e)| e).collect())),
    );
    let mut recorder = Recorder {
        state,
        journal,
        path: common.state.clone(),
        total: plan.changes.len(),
        done: 0,
        quiet: common.quiet,
        audit,
        fingerprint: plan.live_fingerprint.clone(),
        team_id: plan.workspace_id.clone(),
        progress: progress_bar(plan.changes.len(), common.quiet),
        in_hand: BTreeMap::new(),
    };
    let report = apply::apply(
        &plan,
        &backend,
        &mut ids,
        &mut recorder,
        apply::Options {
            parallelism: options.parallelism,
            allow_replace: options.allow_replace,
        },
        &stop,
    )
    .await;
    if let Some(progress) = &recorder.progress {
        progress.finish_and_clear();
    }
    if let Err(e) = backend.flush().await {
        error(&e.message);
    }
    let mut state = recorder.state;
    // A failed request may still have taken effect (an answer lost after ClickUp acted): after
    // failures, the Workspace is read again so that the state records what is, not what was
    // asked.
    if report.failures().next().is_some() && report.stopped.is_none() {
        match backend.read(&read_needs(&loaded.file)).await {
            Ok(doc) => state.snapshot = Some(doc),
            Err(e) => warning(&format!(
                "cannot read the Workspace again after the failures ({e}); the state records what was applied as ClickUp answered it"
            )),
        }
    }
    if let Some(doc) = &state.snapshot {
        let live = doc.to_live();
        state.refresh_managed(&loaded.file, &live, &clock::now_rfc3339());
    }
    state.last_apply = Some(clock::now_rfc3339());
    state
        .save(&common.state)
        .map_err(|e| Stop::Error(state_write_error(&common.state, &e)))?;
    drop(lock);

    let failures: Vec<(usize, &Failure)> = report.failures().collect();
    let not_started = plan.changes.len() - report.results.len();
    let mut stdout = crate::console::stdout();
    if failures.is_empty() && not_started == 0 && report.stopped.is_none() {
        writeln!(
            stdout,
            "\nApply complete! {}.",
            applied_line(&plan, |_| true)
        )?;
        return Ok(Exit::Success);
    }
    let applied = report.results.values().filter(|r| r.is_ok()).count();
    let not_attempted = failures.iter().filter(|(_, f)| f.not_attempted).count();
    let not_attempted_note = if not_attempted > 0 {
        format!(", {not_attempted} not attempted")
    } else {
        String::new()
    };
    writeln!(
        stdout,
        "\nApply incomplete: {applied} of {} changes applied ({}), {} failed{not_attempted_note}, {not_started} not started.",
        plan.changes.len(),
        applied_line(&plan, |i| report.succeeded(i)),
        failures.len() - not_attempted
    )?;
    drop(stdout);
    failure_table(&plan, &failures)?;
    match &report.stopped {
        Some(reason) => error(&format!(
            "the apply stopped early: {}; what was applied is recorded in the state, and running apply again does only what is left",
            reason.message
        )),
        None if not_attempted > 0 => error(
            "ClickUp refused a write in a way every write would meet (see above), so the others were not sent; what succeeded is recorded in the state, and running apply again once that is fixed does only what is left",
        ),
        None => error(
            "some changes failed; what succeeded is recorded in the state, and running apply again does only what is left",
        ),
    }
    Ok(match report.stopped.and_then(|r| r.exit_code) {
        Some(code) => Exit::Signal(code),
        None => Exit::Failure,
    })
}

/// Above this many people, writes go to the state's journal: rewriting a state of megabytes
/// for every request would make a large apply quadratic. `CLICKUP_MEMBERS_JOURNAL_ABOVE` sets
/// another threshold (0: always journal).
const JOURNAL_ABOVE: usize = 1_000;

fn journal_above() -> usize {
    std::env::var("CLICKUP_MEMBERS_JOURNAL_ABOVE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(JOURNAL_ABOVE)
}

/// On the first SIGINT or SIGTERM, asks the apply to stop; on the second, quits at once.
fn listen_for_signals(stop: &StopSignal) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut interrupt), Ok(mut terminate)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            warning("cannot listen for Ctrl-C; an interrupted apply loses the call in flight");
            return;
        };
        let stop = stop.clone();
        tokio::spawn(async move {
            let (name, code) = tokio::select! {
                _ = interrupt.recv() => ("SIGINT", 130),
                _ = terminate.recv() => ("SIGTERM", 143),
            };
            warning(&format!(
                "{name} received: no new change is started; the calls in flight finish and the state is saved (send it again to quit now)"
            ));
            stop.request(StopReason {
                message: format!("interrupted by {name}"),
                exit_code: Some(code),
            });
            let code = tokio::select! {
                _ = interrupt.recv() => 130,
                _ = terminate.recv() => 143,
            };
            std::process::exit(code);
        });
    }
    #[cfg(not(unix))]
    {
        let stop = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.request(StopReason {
                    message: "interrupted by Ctrl-C".to_owned(),
                    exit_code: Some(130),
                });
            }
        });
    }
}

fn progress_bar(total: usize, quiet: bool) -> Option<ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{spinner} [{pos}/{len}] {wide_bar} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(120));
    Some(bar)
}

fn state_write_error(path: &Path, e: &std::io::Error) -> String {
    format!("cannot write the state file {}: {e}", display_path(path))
}

/// `3 invited, 2 changed, 1 removed` over the changes `counted` selects.
fn applied_line(plan: &Plan, counted: impl Fn(usize) -> bool) -> String {
    let count = |action| {
        plan.changes
            .iter()
            .enumerate()
            .filter(|(i, c)| c.action() == action && counted(*i))
            .count()
    };
    render::tally(count, Action::done)
}

fn failure_table(plan: &Plan, failures: &[(usize, &Failure)]) -> Result<(), Stop> {
    if failures.is_empty() {
        return Ok(());
    }
    let rows: Vec<[String; 6]> = failures
        .iter()
        .map(|(i, f)| {
            let change = &plan.changes[*i];
            let shown = |text: &str| crate::escape::visible(text).into_owned();
            [
                shown(change.subject()),
                format!("{} {}", change.action().key(), change.kind().key()),
                f.error.status.map_or("-".to_owned(), |s| s.to_string()),
                f.error
                    .ecode
                    .as_deref()
                    .map_or_else(|| "-".to_owned(), shown),
                f.error.err.as_deref().map_or_else(|| "-".to_owned(), shown),
                shown(&f.error.message),
            ]
        })
        .collect();
    let header = [
        "person / group",
        "action",
        "HTTP",
        "ECODE",
        "err",
        "what to do",
    ]
    .map(String::from);
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut err = anstream::stderr().lock();
    writeln!(err, "\nFailed changes:")?;
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        writeln!(err, "  {}", cells.join("  ").trim_end())?;
    }
    Ok(())
}

fn confirm() -> Result<(), Stop> {
    if !std::io::stdin().is_terminal() {
        return Err(Stop::Error(
            "refusing to apply without confirmation: stdin is not a terminal; review the plan and re-run with --auto-approve"
                .to_owned(),
        ));
    }
    let answer: String = dialoguer::Input::new()
        .with_prompt("Do you want to apply these changes? Only 'yes' will be accepted")
        .allow_empty(true)
        .interact_text()
        .map_err(|e| Stop::Error(format!("cannot read the answer: {e}")))?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(Stop::Error(
            "apply cancelled; nothing was changed".to_owned(),
        ))
    }
}

/// Refuses a saved plan that is not the plan made now (`now`).
fn check_saved_plan(path: &Path, prepared: &Prepared, now: &json::JsonPlan) -> Result<(), Stop> {
    let name = display_path(path);
    let saved = read_saved_plan(path)?;
    if saved.format_version != json::FORMAT_VERSION {
        return Err(Stop::Error(format!(
            "{name} has plan format_version {}; this clickup-members reads version {}",
            saved.format_version,
            json::FORMAT_VERSION
        )));
    }
    let version = env!("CARGO_PKG_VERSION");
    if saved.tool_version != version {
        return Err(Stop::Error(format!(
            "{name} was made by clickup-members {}, this is {version}: re-run plan",
            saved.tool_version
        )));
    }
    let plan = &prepared.plan;
    let stale = |what: &str| {
        Stop::Error(format!(
            "the saved plan is stale: re-run plan ({what} since {name} was made)"
        ))
    };
    if saved.workspace.id != plan.workspace_id {
        return Err(stale("the file now describes another Workspace"));
    }
    if saved.config_digest != plan.config_digest {
        return Err(stale(&format!("{} changed", prepared.ctx.file_name)));
    }
    if saved.live_fingerprint != plan.live_fingerprint {
        return Err(stale("the Workspace changed"));
    }
    if let (Some(then), Some(current)) = (&saved.state, &now.state)
        && then.lineage != current.lineage
    {
        return Err(stale(&format!(
            "the state file was replaced by another history (lineage {}, not {})",
            current.lineage, then.lineage
        )));
    }
    if saved.state != now.state {
        return Err(stale("the state file changed"));
    }
    if saved.changes != now.changes {
        return Err(stale("the changes differ"));
    }
    Ok(())
}

/// Shows progress, writes the state after every successful write, and the audit log.
struct Recorder {
    state: State,
    /// For a large Workspace: each write is a journal line rather than a state rewrite.
    journal: Option<Journal>,
    path: PathBuf,
    total: usize,
    done: usize,
    quiet: bool,
    audit: Option<AuditLog>,
    fingerprint: String,
    team_id: String,
    progress: Option<ProgressBar>,
    /// The changes in flight, by index, for the progress line.
    in_hand: BTreeMap<usize, String>,
}

impl Recorder {
    fn show_in_hand(&self) {
        if let Some(progress) = &self.progress {
            let names: Vec<&str> = self.in_hand.values().map(String::as_str).collect();
            progress.set_message(names.join(", "));
        }
    }

    fn audit(
        &mut self,
        change: &Change,
        op: &WriteOp,
        outcome: Result<Option<u16>, &WsError>,
        elapsed: Duration,
    ) {
        let Some(log) = &mut self.audit else {
            return;
        };
        let (method, path, _) = api::request(op, &self.team_id);
        let path = format!("/{path}");
        let (ok, status, ecode, err) = match outcome {
            Ok(status) => (true, status, None, None),
            Err(e) => (false, e.status, e.ecode.as_deref(), e.err.as_deref()),
        };
        let entry = audit::Entry {
            time: clock::now_rfc3339(),
            action: change.action().key(),
            kind: change.kind().key(),
            subject: change.subject(),
            method: method.as_str(),
            path: &path,
            ok,
            status,
            ecode,
            err,
            duration_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            plan: &self.fingerprint,
        };
        if let Err(e) = log.record(&entry) {
            warning(&format!("cannot write the audit log: {e}"));
        }
    }
}

impl Observer for Recorder {
    fn change_started(&mut self, index: usize, change: &Change) {
        tracing::info!(
            "{} {} {}",
            change.action().key(),
            change.kind().key(),
            change.subject()
        );
        self.in_hand.insert(index, change.subject().to_owned());
        self.show_in_hand();
    }

    fn write_done(
        &mut self,
        change: &Change,
        op: &WriteOp,
        written: &Written,
        elapsed: Duration,
    ) -> Result<(), String> {
        self.audit(change, op, Ok(written.status), elapsed);
        self.state
            .record(&self.path, self.journal.as_mut(), op, &written.outcome)
            .map_err(|e| state_write_error(&self.path, &e))
    }

    fn write_failed(&mut self, change: &Change, op: &WriteOp, error: &WsError, elapsed: Duration) {
        self.audit(change, op, Err(error), elapsed);
    }

    fn change_finished(&mut self, index: usize, change: &Change, result: &Result<(), Failure>) {
        self.done += 1;
        self.in_hand.remove(&index);
        if let Some(progress) = &self.progress {
            progress.inc(1);
        }
        self.show_in_hand();
        if self.quiet && result.is_ok() {
            return;
        }
        let verb = match (change.action(), result.is_ok()) {
            (action, true) => action.done(),
            (_, false) => "FAILED",
        };
        let line = match result {
            Ok(()) => format!(
                "[{}/{}] {} {}: {verb}",
                self.done,
                self.total,
                change.kind().key(),
                change.subject()
            ),
            Err(f) => format!(
                "[{}/{}] {} {}: {verb} ({}: {})",
                self.done,
                self.total,
                change.kind().key(),
                change.subject(),
                f.request,
                f.error
            ),
        };
        let line = crate::escape::visible(&line);
        let print = || {
            let mut out = crate::console::stdout();
            let _ = writeln!(out, "{line}");
        };
        match &self.progress {
            Some(progress) => progress.suspend(print),
            None => print(),
        }
    }
}
