//! One cycle of the controller: read the files once they stand still and the whole Workspace,
//! plan, and in apply mode apply under the lock, like `apply --auto-approve`. A cycle that
//! cannot read everything writes nothing. The Workspaces the files no longer name are
//! forgotten: their plans and their series go.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::clickup::http::Later;
use crate::commands::serve::metrics::{Metrics, Outcome};
use crate::commands::serve::settle::{self, Settled};
use crate::commands::serve::{Mode, Options, Shared};
use crate::commands::source::{Client, Refresh, heard_inputs};
use crate::commands::{Common, problems};
use crate::config::Decoded;
use crate::engine::{self, ApplyOptions, Error, StateStore};
use crate::lock::StateLock;
use crate::render::json;
use crate::stop::StopSignal;

/// How many times a request failing for a passing reason is sent again within a cycle.
const RETRIES: usize = 2;

/// Runs one cycle of the Workspace file; its outcome is in the metrics, the status and one log
/// line. `next`: when the next try comes if this cycle does not succeed.
pub(super) async fn run(
    common: &Common,
    options: &Options,
    shared: &Shared,
    stop: &StopSignal,
    next: Duration,
) -> Outcome {
    let file = common.file.clone();
    let read = settle::read_still(options.settle, &shared.seen, stop, move || {
        settle::file(&file)
    })
    .await;
    let decoded = match read {
        Settled::Read(Ok(decoded)) => decoded,
        Settled::Read(Err(_)) => {
            // The files stood still and cannot be used: the engine says why, as `plan` would.
            let error = match engine::load(&common.file) {
                Err(error) => error,
                Ok(_) => Error::Usage(format!(
                    "{} changed while the cycle read it",
                    common.file.display()
                )),
            };
            let workspace = last_workspace(shared, &common.file);
            let (outcome, why) = failed(&error);
            log_cycle(outcome, &workspace, Counts::default(), 0.0, &why, next);
            shared.metrics.cycle(&workspace, outcome, 0.0);
            record(shared, outcome, why);
            return outcome;
        }
        Settled::Never(why) => {
            let workspace = last_workspace(shared, &common.file);
            return invalid(shared, [workspace].into(), why, next);
        }
        Settled::Stopped => return Outcome::Failure,
    };
    let named = decoded.file.workspace.id.value.clone();
    // A file the decoder found wrong may name its Workspace wrong: nothing is forgotten for it.
    let workspace = if decoded.diagnostics.is_empty() {
        name_workspaces(shared, [(common.file.clone(), named.clone())]);
        named
    } else {
        Some(last_workspace(shared, &common.file))
            .filter(|last| !last.is_empty())
            .unwrap_or(named)
    };
    let (outcome, why) = one(common, decoded, &workspace, options, shared, stop, next).await;
    record(shared, outcome, why);
    outcome
}

/// A cycle over a folder of Workspace files: the whole set is read first (a file that cannot
/// be read or is invalid, or two files for one Workspace, and no Workspace is planned), then
/// each Workspace in turn. Its outcome is the worst of theirs.
pub(super) async fn run_folder(
    common: &Common,
    options: &Options,
    shared: &Shared,
    stop: &StopSignal,
    next: Duration,
) -> Outcome {
    let read = {
        let common = common.clone();
        settle::read_still(options.settle, &shared.seen, stop, move || {
            settle::folder(&common)
        })
        .await
    };
    let members = match read {
        Settled::Read(Ok(members)) => members,
        Settled::Read(Err(error)) => {
            let each: Vec<&Error> = match &error {
                Error::Several { errors, .. } => errors.iter().collect(),
                other => vec![other],
            };
            for error in each {
                let found = problems(error);
                for line in found.lines.iter().chain([&found.summary]) {
                    tracing::error!("{}", crate::escape::visible(line));
                }
            }
            // Nothing is planned for any Workspace of the folder.
            let known = shared.status().known.clone();
            return invalid(shared, known, error.to_string(), next);
        }
        Settled::Never(why) => {
            let known = shared.status().known.clone();
            return invalid(shared, known, why, next);
        }
        Settled::Stopped => return Outcome::Failure,
    };
    name_workspaces(
        shared,
        members.iter().map(|m| {
            (
                m.loaded.path.clone(),
                m.loaded.file.workspace.id.value.clone(),
            )
        }),
    );
    let mut worst = (Outcome::Success, String::new());
    for member in members {
        if stop.is_set() {
            break;
        }
        let workspace = member.loaded.file.workspace.id.value.clone();
        // The file was read with the folder: the cycle does not read it again.
        let decoded = member.loaded.into_decoded();
        let (outcome, why) = one(
            &member.common,
            decoded,
            &workspace,
            options,
            shared,
            stop,
            next,
        )
        .await;
        if outcome != Outcome::Success && worst.0 == Outcome::Success {
            worst = (outcome, why);
        }
    }
    record(shared, worst.0, worst.1);
    worst.0
}

/// The files named these Workspaces: their counters exist from now on, and the Workspaces no
/// file names any more are forgotten (their plans and series).
fn name_workspaces(shared: &Shared, named: impl IntoIterator<Item = (PathBuf, String)>) {
    let named: Vec<(PathBuf, String)> = named.into_iter().collect();
    let ids: BTreeSet<String> = named.iter().map(|(_, id)| id.clone()).collect();
    let mut status = shared.status();
    for gone in status.known.difference(&ids) {
        shared.metrics.forget(gone);
        tracing::info!(
            workspace = %gone,
            "Workspace {} is no longer named by the files: forgotten",
            crate::escape::visible(gone)
        );
    }
    for id in &ids {
        shared.metrics.known(id);
    }
    status.plans.retain(|id, _| ids.contains(id));
    status.workspaces = named.into_iter().collect();
    status.known = ids;
}

/// The Workspace `file` was last found to be ("" before it ever was).
fn last_workspace(shared: &Shared, file: &PathBuf) -> String {
    shared
        .status()
        .workspaces
        .get(file)
        .cloned()
        .unwrap_or_default()
}

/// The files cannot be planned (they never stood still, or one of a folder is invalid): the
/// cycle is invalid for each of these Workspaces, and nothing was read from ClickUp.
fn invalid(shared: &Shared, workspaces: BTreeSet<String>, why: String, next: Duration) -> Outcome {
    if workspaces.is_empty() {
        log_cycle(Outcome::Invalid, "", Counts::default(), 0.0, &why, next);
    }
    for workspace in &workspaces {
        shared.metrics.cycle(workspace, Outcome::Invalid, 0.0);
        log_cycle(
            Outcome::Invalid,
            workspace,
            Counts::default(),
            0.0,
            &why,
            next,
        );
    }
    record(shared, Outcome::Invalid, why);
    Outcome::Invalid
}

/// Records how a cycle ended, for `/readyz`.
fn record(shared: &Shared, outcome: Outcome, why: String) {
    let mut status = shared.status();
    if outcome == Outcome::Success {
        status.last_success = Some(tokio::time::Instant::now());
    }
    status.last = Some((outcome, why));
}

/// How an error ends a cycle, and why (its problems each on an error line).
fn failed(error: &Error) -> (Outcome, String) {
    let outcome = match error {
        Error::Invalid(_) => Outcome::Invalid,
        Error::Refused(_) | Error::ReplaceNotAllowed(_) => Outcome::Refused,
        _ => Outcome::Failure,
    };
    let found = problems(error);
    for line in &found.lines {
        tracing::error!("{}", crate::escape::visible(line));
    }
    (outcome, found.summary)
}

/// One Workspace's cycle from its file as read: its metrics and its log line; how it ended,
/// and why.
async fn one(
    common: &Common,
    decoded: Decoded,
    workspace: &str,
    options: &Options,
    shared: &Shared,
    stop: &StopSignal,
    next: Duration,
) -> (Outcome, String) {
    let started = Instant::now();
    let mut counts = Counts::default();
    let result = cycle(
        common,
        decoded,
        workspace,
        options,
        shared,
        stop,
        &mut counts,
    )
    .await;
    let (outcome, why) = match result {
        Ok(outcome) => (outcome, String::new()),
        Err(error) => failed(&error),
    };
    let seconds = started.elapsed().as_secs_f64();
    shared.metrics.cycle(workspace, outcome, seconds);
    log_cycle(outcome, workspace, counts, seconds, &why, next);
    (outcome, why)
}

/// The one log line of a Workspace's cycle: a success is news, a refused or failed cycle a
/// warning, an invalid file an error; those that did not succeed say when the next try comes.
fn log_cycle(
    outcome: Outcome,
    workspace: &str,
    counts: Counts,
    seconds: f64,
    why: &str,
    next: Duration,
) {
    let shown = crate::escape::visible(why);
    let next = super::reconcile::seconds(next);
    macro_rules! line {
        ($event:ident, $($message:tt)+) => {
            tracing::$event!(
                result = outcome.label(),
                workspace = %workspace,
                changes = counts.changes,
                writes = counts.writes,
                failed = counts.failed,
                duration_ms = (seconds * 1000.0).round() as u64,
                $($message)+
            )
        };
    }
    match outcome {
        Outcome::Success => line!(info, "cycle success"),
        Outcome::Refused => line!(warn, "cycle refused: {shown}; next try in {next}"),
        Outcome::Failure => line!(warn, "cycle failure: {shown}; next try in {next}"),
        Outcome::Invalid => line!(error, "cycle invalid: {shown}; next try in {next}"),
    }
}

/// What a cycle counted, for its log line.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    changes: usize,
    writes: usize,
    failed: usize,
}

async fn cycle(
    common: &Common,
    decoded: Decoded,
    workspace: &str,
    options: &Options,
    shared: &Shared,
    stop: &StopSignal,
    counts: &mut Counts,
) -> Result<Outcome, Error> {
    let metrics: &Metrics = &shared.metrics;
    let applying = options.mode == Mode::Apply;
    // A failing request is tried again less within a cycle: the next cycle tries again.
    let client = Client {
        listener: Some(shared.metrics.clone()),
        retries: RETRIES,
        pacer: shared.pacer.clone(),
        later: Later::NextCycle,
        ..Client::default()
    };
    let inputs = engine::Inputs {
        decoded: Some(decoded),
        ..heard_inputs(common, Refresh::Read, applying, stop, client)
    };
    let mut writes = metrics.writes(workspace);
    let planned = engine::plan(inputs, &mut writes).await?;
    metrics.planned(&planned.plan, &planned.live, planned.seats.as_ref());
    let json_plan = planned.json(options.allow_replace);
    let mut bytes = Vec::new();
    if json::write(&mut bytes, &json_plan).is_ok() {
        shared
            .status()
            .plans
            .insert(planned.plan.workspace_id.clone(), bytes);
    }
    counts.changes = planned.plan.changes.len();
    if let Some(refusal) = planned.refusal() {
        return Err(refusal);
    }
    if !applying {
        return Ok(Outcome::Success);
    }
    planned.check_applicable(options.allow_replace)?;
    // The lock is held only while the cycle applies (and records the state).
    let lock = StateLock::acquire(&common.state, "clickup-members serve")?;
    let mut writes = metrics.writes(workspace);
    let applied = engine::apply(
        planned,
        &StateStore::new(&common.state),
        &mut writes,
        &ApplyOptions {
            allow_replace: options.allow_replace,
            parallelism: 4,
            stop: stop.clone(),
        },
    )
    .await?;
    drop(lock);
    counts.writes = writes.made;
    counts.failed = writes.failed;
    Ok(if applied.complete() {
        Outcome::Success
    } else {
        Outcome::Failure
    })
}
