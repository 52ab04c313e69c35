//! One cycle of the controller: read the file and the whole Workspace, plan, and in apply mode
//! apply under the lock, like `apply --auto-approve`. A cycle that cannot read everything
//! writes nothing.

use std::time::Instant;

use crate::commands::serve::metrics::{Metrics, Outcome};
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

/// Runs one cycle; its outcome is in the metrics, the status and one log line.
pub(super) async fn run(
    common: &Common,
    options: &Options,
    shared: &Shared,
    stop: &StopSignal,
) -> Outcome {
    let (outcome, why) = one(common, None, options, shared, stop).await;
    settle(shared, outcome, why);
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
) -> Outcome {
    let members = match crate::commands::many::load_all(common) {
        Ok(members) => members,
        Err(error) => {
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
            let why = error.to_string();
            tracing::info!(
                result = Outcome::Invalid.label(),
                "cycle invalid: {}",
                crate::escape::visible(&why)
            );
            settle(shared, Outcome::Invalid, why);
            return Outcome::Invalid;
        }
    };
    let mut worst = (Outcome::Success, String::new());
    let ids: Vec<String> = members
        .iter()
        .map(|m| m.loaded.file.workspace.id.value.clone())
        .collect();
    for member in members {
        if stop.is_set() {
            break;
        }
        // The file was read with the folder: the cycle does not read it again.
        let decoded = Some(member.loaded.into_decoded());
        let (outcome, why) = one(&member.common, decoded, options, shared, stop).await;
        if outcome != Outcome::Success && worst.0 == Outcome::Success {
            worst = (outcome, why);
        }
    }
    // Workspaces whose file is gone are no longer shown.
    shared.status().plans.retain(|id, _| ids.contains(id));
    settle(shared, worst.0, worst.1);
    worst.0
}

/// Records how a cycle ended, for `/readyz`.
fn settle(shared: &Shared, outcome: Outcome, why: String) {
    let mut status = shared.status();
    if outcome == Outcome::Success {
        status.last_success = Some(Instant::now());
    }
    status.last = Some((outcome, why));
}

/// One Workspace's cycle: its metrics and its log line; how it ended, and why. `decoded`: the
/// file, when it was read already.
async fn one(
    common: &Common,
    decoded: Option<Decoded>,
    options: &Options,
    shared: &Shared,
    stop: &StopSignal,
) -> (Outcome, String) {
    let started = Instant::now();
    let mut workspace = shared
        .status()
        .workspaces
        .get(&common.file)
        .cloned()
        .unwrap_or_default();
    let mut counts = Counts::default();
    let result = cycle(
        common,
        decoded,
        options,
        shared,
        stop,
        &mut workspace,
        &mut counts,
    )
    .await;
    let (outcome, why) = match result {
        Ok(outcome) => (outcome, String::new()),
        Err(error) => {
            let outcome = match error {
                Error::Invalid(_) => Outcome::Invalid,
                Error::Refused(_) | Error::ReplaceNotAllowed(_) => Outcome::Refused,
                _ => Outcome::Failure,
            };
            // Before the first plan, the file still names the Workspace a failure is about.
            if workspace.is_empty()
                && let Ok(loaded) = engine::load(&common.file)
            {
                workspace.clone_from(&loaded.file.workspace.id.value);
            }
            let found = problems(&error);
            for line in &found.lines {
                tracing::error!("{}", crate::escape::visible(line));
            }
            (outcome, found.summary)
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    shared.metrics.cycle(&workspace, outcome, seconds);
    shared
        .status()
        .workspaces
        .insert(common.file.clone(), workspace.clone());
    let shown = crate::escape::visible(&why);
    tracing::info!(
        result = outcome.label(),
        workspace = %workspace,
        changes = counts.changes,
        writes = counts.writes,
        failed = counts.failed,
        duration_ms = (seconds * 1000.0).round() as u64,
        "cycle {}{}{shown}",
        outcome.label(),
        if why.is_empty() { "" } else { ": " },
    );
    (outcome, why)
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
    decoded: Option<Decoded>,
    options: &Options,
    shared: &Shared,
    stop: &StopSignal,
    workspace: &mut String,
    counts: &mut Counts,
) -> Result<Outcome, Error> {
    let metrics: &Metrics = &shared.metrics;
    let applying = options.mode == Mode::Apply;
    // A failing request is tried again less within a cycle: the next cycle tries again.
    let client = Client {
        listener: Some(shared.metrics.clone()),
        retries: RETRIES,
        pacer: shared.pacer.clone(),
        ..Client::default()
    };
    let inputs = engine::Inputs {
        decoded,
        ..heard_inputs(common, Refresh::Read, applying, stop, client)
    };
    let mut writes = metrics.writes(workspace);
    let planned = engine::plan(inputs, &mut writes).await?;
    workspace.clone_from(&planned.plan.workspace_id);
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
