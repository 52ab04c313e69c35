//! One cycle of the controller: read the files once they stand still and the whole Workspace,
//! plan, and in apply mode apply under the lock, like `apply --auto-approve`. A cycle that
//! cannot read everything writes nothing. The Workspaces the files no longer name are
//! forgotten: their plans and their series go.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::clickup::http::Later;
use crate::commands::Error;
use crate::commands::serve::metrics::{Metrics, Outcome};
use crate::commands::serve::settle::{self, Settled};
use crate::commands::serve::{Controller, Mode, Options};
use crate::commands::targets::{Connection, Refresh, WorkspaceFile};
use crate::commands::{Common, problems};
use crate::engine::{self, Purpose, Writing};
use crate::render::json;
use crate::stop::StopSignal;

/// How many times a request failing for a passing reason is sent again within a cycle.
const RETRIES: usize = 2;

/// Runs one cycle: the file set read once it stands still (a file that cannot be read or is
/// invalid, or two files for one Workspace, and no Workspace is planned), then each
/// Workspace's run in turn. Its outcome (the worst of the Workspaces') is in the metrics, the
/// status and one log line per Workspace. `next`: when the next try comes if it does not
/// succeed.
pub(super) async fn run(
    common: &Common,
    options: &Options,
    shared: &Controller,
    stop: &StopSignal,
    next: Duration,
) -> Outcome {
    let read = {
        let common = common.clone();
        settle::read_still(options.settle, &shared.seen, stop, move || {
            settle::targets(&common)
        })
        .await
    };
    let targets = match read {
        Settled::Read(Ok(targets)) => targets,
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
            // Nothing is planned for any Workspace the files named.
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
        targets.files.iter().filter_map(|each| {
            let id = each.workspace_id()?.to_owned();
            Some((each.options.file.clone(), id))
        }),
    );
    let mut worst = (Outcome::Success, String::new());
    for each in targets.files {
        if stop.is_set() {
            break;
        }
        let workspace = each.workspace_id().unwrap_or_default().to_owned();
        let (outcome, why) = one(each, &workspace, options, shared, stop, next).await;
        if outcome != Outcome::Success && worst.0 == Outcome::Success {
            worst = (outcome, why);
        }
    }
    record(shared, worst.0, worst.1);
    worst.0
}

/// The files named these Workspaces: their counters exist from now on, and the Workspaces no
/// file names any more are forgotten (their plans and series).
fn name_workspaces(shared: &Controller, named: impl IntoIterator<Item = (PathBuf, String)>) {
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

/// The files cannot be planned (they never stood still, or one of a folder is invalid): the
/// cycle is invalid for each of these Workspaces, and nothing was read from ClickUp.
fn invalid(
    shared: &Controller,
    workspaces: BTreeSet<String>,
    why: String,
    next: Duration,
) -> Outcome {
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
fn record(shared: &Controller, outcome: Outcome, why: String) {
    let mut status = shared.status();
    if outcome == Outcome::Success {
        status.last_success = Some(tokio::time::Instant::now());
    }
    status.last = Some((outcome, why));
}

/// How an error ends a cycle, and why (its problems each on an error line).
fn failed(error: &Error) -> (Outcome, String) {
    let outcome = match error.engine() {
        Some(engine::Error::Invalid(_)) => Outcome::Invalid,
        Some(
            engine::Error::Refused(_)
            | engine::Error::ReplaceNotAllowed(_)
            | engine::Error::Stale { .. }
            | engine::Error::NotReviewed { .. },
        ) => Outcome::Refused,
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
    each: WorkspaceFile,
    workspace: &str,
    options: &Options,
    shared: &Controller,
    stop: &StopSignal,
    next: Duration,
) -> (Outcome, String) {
    let started = Instant::now();
    let mut counts = Counts::default();
    let result = cycle(each, workspace, options, shared, stop, &mut counts).await;
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

/// One Workspace's run, as `plan` (observe mode) or as `apply --auto-approve` (apply mode,
/// waiting up to the interval for a state lock another run holds): its plan kept for `/plan`
/// and the metrics.
async fn cycle(
    each: WorkspaceFile,
    workspace: &str,
    options: &Options,
    shared: &Controller,
    stop: &StopSignal,
    counts: &mut Counts,
) -> Result<Outcome, Error> {
    let metrics: &Metrics = &shared.metrics;
    // A failing request is tried again less within a cycle: the next cycle tries again.
    let connection = Connection {
        listener: Some(shared.metrics.clone()),
        retries: RETRIES,
        pacer: shared.pacer.clone(),
        later: Later::NextCycle,
        ..Connection::default()
    };
    let target = each.target(Refresh::Read, stop, connection);
    let purpose = match options.mode {
        Mode::Observe => Purpose::Plan {
            allow_replace: options.allow_replace,
        },
        Mode::Apply => Purpose::Apply(Box::new(Writing {
            against: None,
            allow_replace: options.allow_replace,
            parallelism: 4,
            stop: stop.clone(),
            holder: "clickup-members serve".to_owned(),
            lock_timeout: options.interval,
        })),
    };
    let mut writes = metrics.writes(workspace);
    let prepared = engine::prepare(target, purpose, &mut writes).await?;
    let planned = &prepared.planned;
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
        return Err(refusal.into());
    }
    let mut writes = metrics.writes(workspace);
    let finished = prepared.finish(&mut writes).await?;
    counts.writes = writes.made;
    counts.failed = writes.failed;
    Ok(match finished {
        engine::Outcome::Applied { applied, .. } if !applied.complete() => Outcome::Failure,
        _ => Outcome::Success,
    })
}
