//! `apply`: plan (or re-check a saved plan), confirm, make the changes and keep the state file
//! current after every write.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::apply::{self, Failure, Ids, Observer};
use crate::cli::Common;
use crate::clock;
use crate::commands::plan::state_ref;
use crate::commands::prepare::{Prepared, prepare};
use crate::commands::{Exit, Stop, display_path, error};
use crate::config::MembersFile;
use crate::plan::{Action, Change, Plan};
use crate::render::{self, json};
use crate::state::State;
use crate::wire::SnapshotDoc;
use crate::workspace::{WriteOp, WriteOutcome};

pub(crate) async fn run(
    common: &Common,
    saved: Option<PathBuf>,
    auto_approve: bool,
    allow_replace: bool,
    parallelism: usize,
) -> Result<Exit, Stop> {
    let prepared = prepare(common, true).await?;
    if let Some(path) = &saved {
        check_saved_plan(path, &prepared)?;
    }
    let Prepared {
        loaded,
        state,
        backend,
        doc,
        live,
        plan,
        ctx,
    } = prepared;
    let Some(backend) = backend else {
        return Err(Stop::Error("apply always reads the Workspace".to_owned()));
    };
    let json_plan = json::to_json(&plan, state_ref(state.as_ref()), &ctx);
    let mut stdout = anstream::stdout().lock();
    render::text(&mut stdout, &json_plan, &ctx)?;
    stdout.flush()?;
    drop(stdout);

    let mut state = state.unwrap_or_else(|| State::new(&plan.workspace_id));
    if plan.is_empty() {
        record_without_changes(&mut state, &common.state, &loaded.file, doc)?;
        return Ok(Exit::Success);
    }

    let replaces: Vec<&str> = plan
        .changes
        .iter()
        .filter(|c| c.action() == Action::Replace)
        .map(Change::subject)
        .collect();
    if !replaces.is_empty() && !allow_replace {
        return Err(Stop::Error(format!(
            "the plan replaces {} ({}): they are removed and invited again, which loses their history and shares; re-run with --allow-replace to accept",
            plural(replaces.len(), "person", "people"),
            replaces.join(", ")
        )));
    }
    if saved.is_none() && !auto_approve {
        confirm()?;
    }

    let mut ids = Ids::new(live.people.iter().map(|p| (p.email.clone(), p.id)));
    state.snapshot = Some(doc);
    let mut recorder = Recorder {
        state,
        path: common.state.clone(),
        file: &loaded.file,
        total: plan.changes.len(),
        done: 0,
        quiet: common.quiet,
    };
    let report = apply::apply(&plan, &backend, &mut ids, &mut recorder, parallelism).await;
    let mut state = recorder.state;
    state.last_apply = Some(clock::now_rfc3339());
    state
        .save(&common.state)
        .map_err(|e| Stop::Error(state_write_error(&common.state, &e)))?;

    let failures: Vec<(usize, &Failure)> = report.failures().collect();
    let mut stdout = anstream::stdout().lock();
    if failures.is_empty() && report.aborted.is_none() {
        writeln!(
            stdout,
            "\nApply complete! {}",
            applied_line(&plan, |_| true)
        )?;
        return Ok(Exit::Success);
    }
    let applied = report.results.values().filter(|r| r.is_ok()).count();
    writeln!(
        stdout,
        "\nApply incomplete: {applied} of {} changes applied ({}), {} failed.",
        plan.changes.len(),
        applied_line(&plan, |i| report.succeeded(i)).trim_end_matches('.'),
        failures.len() + (plan.changes.len() - report.results.len())
    )?;
    drop(stdout);
    failure_table(&plan, &failures)?;
    if let Some(reason) = &report.aborted {
        error(&format!("the apply stopped early: {reason}"));
    }
    error(
        "some changes failed; what succeeded is recorded in the state, and running apply again does only what is left",
    );
    Ok(Exit::Failure)
}

/// The first apply, or one with nothing to do, still records who is managed.
fn record_without_changes(
    state: &mut State,
    path: &Path,
    file: &MembersFile,
    doc: SnapshotDoc,
) -> Result<(), Stop> {
    let before = state.clone();
    let now = clock::now_rfc3339();
    state.refresh_managed(file, &doc.to_live(), &now);
    state.snapshot = Some(doc);
    if *state != before {
        state.last_apply = Some(now);
        state
            .save(path)
            .map_err(|e| Stop::Error(state_write_error(path, &e)))?;
    }
    Ok(())
}

fn state_write_error(path: &Path, e: &std::io::Error) -> String {
    format!("cannot write the state file {}: {e}", display_path(path))
}

/// `3 invited, 2 changed, 1 removed.` over the changes `counted` selects.
fn applied_line(plan: &Plan, counted: impl Fn(usize) -> bool) -> String {
    let n = |action: Action| {
        plan.changes
            .iter()
            .enumerate()
            .filter(|(i, c)| c.action() == action && counted(*i))
            .count()
    };
    let mut line = format!(
        "{} invited, {} changed, {} removed",
        n(Action::Invite),
        n(Action::Update),
        n(Action::Remove)
    );
    for (action, text) in [
        (Action::Replace, "replaced"),
        (Action::Create, "created"),
        (Action::Delete, "deleted"),
    ] {
        let count = n(action);
        if count > 0 {
            let what = match action {
                Action::Replace => String::new(),
                _ => format!(" {}", plural_word(count, "group", "groups")),
            };
            line.push_str(&format!(", {count}{what} {text}"));
        }
    }
    line.push('.');
    line
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", plural_word(n, one, many))
}

fn plural_word<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

fn failure_table(plan: &Plan, failures: &[(usize, &Failure)]) -> Result<(), Stop> {
    let rows: Vec<[String; 6]> = failures
        .iter()
        .map(|(i, f)| {
            let change = &plan.changes[*i];
            [
                change.subject().to_owned(),
                format!("{} {}", change.action().key(), change.kind().key()),
                f.error.status.map_or("-".to_owned(), |s| s.to_string()),
                f.error.ecode.clone().unwrap_or_else(|| "-".to_owned()),
                f.error.err.clone().unwrap_or_else(|| "-".to_owned()),
                f.error.message.clone(),
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

fn check_saved_plan(path: &Path, prepared: &Prepared) -> Result<(), Stop> {
    let name = display_path(path);
    let bytes = std::fs::read(path).map_err(|e| Stop::Error(format!("cannot read {name}: {e}")))?;
    let saved: json::JsonPlan = serde_json::from_slice(&bytes).map_err(|e| {
        Stop::Error(format!(
            "{name} is not a plan written by `clickup-members plan --out` ({e})"
        ))
    })?;
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
    if saved.state != state_ref(prepared.state.as_ref()) {
        return Err(stale("the state file changed"));
    }
    let now = json::to_json(plan, state_ref(prepared.state.as_ref()), &prepared.ctx);
    if saved.changes != now.changes {
        return Err(stale("the changes differ"));
    }
    Ok(())
}

/// Prints each change as it ends and writes the state after every successful write.
struct Recorder<'a> {
    state: State,
    path: PathBuf,
    file: &'a MembersFile,
    total: usize,
    done: usize,
    quiet: bool,
}

impl Observer for Recorder<'_> {
    fn change_started(&mut self, _index: usize, change: &Change) {
        tracing::info!(
            "{} {} {}",
            change.action().key(),
            change.kind().key(),
            change.subject()
        );
    }

    fn write_done(&mut self, op: &WriteOp, outcome: &WriteOutcome) -> Result<(), String> {
        let now = clock::now_rfc3339();
        if let Some(doc) = &mut self.state.snapshot {
            if let Err(e) = doc.apply(op, outcome, clock::now_ms()) {
                tracing::warn!("the state's copy of the Workspace could not follow a write: {e}");
            }
            let live = doc.to_live();
            self.state.refresh_managed(self.file, &live, &now);
        }
        self.state
            .save(&self.path)
            .map_err(|e| state_write_error(&self.path, &e))
    }

    fn change_finished(&mut self, _index: usize, change: &Change, result: &Result<(), Failure>) {
        self.done += 1;
        if self.quiet && result.is_ok() {
            return;
        }
        let verb = match (change.action(), result.is_ok()) {
            (Action::Invite, true) => "invited",
            (Action::Update, true) => "updated",
            (Action::Remove, true) => "removed",
            (Action::Replace, true) => "replaced",
            (Action::Create, true) => "created",
            (Action::Delete, true) => "deleted",
            (_, false) => "FAILED",
        };
        let mut out = anstream::stdout().lock();
        let _ = match result {
            Ok(()) => writeln!(
                out,
                "[{}/{}] {} {}: {verb}",
                self.done,
                self.total,
                change.kind().key(),
                change.subject()
            ),
            Err(f) => writeln!(
                out,
                "[{}/{}] {} {}: {verb} ({}: {})",
                self.done,
                self.total,
                change.kind().key(),
                change.subject(),
                f.request,
                f.error
            ),
        };
    }
}
