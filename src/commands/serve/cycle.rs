//! One cycle of the controller: read the file and the whole Workspace, plan, and in apply mode
//! apply under the lock, like `apply --auto-approve`. A cycle that cannot read everything
//! writes nothing.

use std::time::Instant;

use crate::commands::serve::metrics::{Metrics, Outcome};
use crate::commands::serve::{Mode, Options, Shared};
use crate::commands::source::{Client, Refresh, heard_inputs};
use crate::commands::{Common, problems};
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
    let started = Instant::now();
    let mut workspace = shared.status().workspace.clone();
    let mut counts = Counts::default();
    let result = cycle(common, options, shared, stop, &mut workspace, &mut counts).await;
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
    {
        let mut status = shared.status();
        status.workspace.clone_from(&workspace);
        if outcome == Outcome::Success {
            status.last_success = Some(Instant::now());
        }
        status.last = Some((outcome, why.clone()));
    }
    let why = crate::escape::visible(&why);
    tracing::info!(
        result = outcome.label(),
        workspace = %workspace,
        changes = counts.changes,
        writes = counts.writes,
        failed = counts.failed,
        duration_ms = (seconds * 1000.0).round() as u64,
        "cycle {}{}{why}",
        outcome.label(),
        if why.is_empty() { "" } else { ": " },
    );
    outcome
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
    };
    let inputs = heard_inputs(common, Refresh::Read, applying, stop, client);
    let mut writes = metrics.writes(workspace);
    let planned = engine::plan(inputs, &mut writes).await?;
    workspace.clone_from(&planned.plan.workspace_id);
    metrics.planned(&planned.plan, &planned.live, planned.seats.as_ref());
    let json_plan = planned.json(options.allow_replace);
    let mut bytes = Vec::new();
    if json::write(&mut bytes, &json_plan).is_ok() {
        shared.status().plan = Some(bytes);
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
