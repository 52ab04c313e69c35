//! `serve`: the controller (SPEC §6). A loop of cycles, each reading the files from disk once
//! they stand still and the whole Workspace, planning and (in `--mode apply`) applying through
//! the engine, with its metrics and health on HTTP endpoints. SIGTERM or SIGINT ends it after
//! the cycle in flight, within 10 s whatever the HTTP clients do.

mod access;
mod cycle;
mod endpoints;
mod metrics;
mod reconcile;
mod server;
mod settle;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::commands::Error;
use crate::commands::{Common, Exit};
use crate::state::State;
use crate::stop::{StopSignal, listen_for_signals};

use metrics::{Metrics, Outcome};

/// What a cycle may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Mode {
    /// Plan and report; never write.
    Observe,
    /// Also apply every plan that is not refused.
    Apply,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Observe => "observe",
            Mode::Apply => "apply",
        }
    }
}

/// How `serve` was asked to run.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) mode: Mode,
    pub(crate) interval: Duration,
    /// How long the files must have stood still before a cycle reads them.
    pub(crate) settle: Duration,
    pub(crate) listen: String,
    pub(crate) allow_replace: bool,
}

/// The longest `--interval`: a week (every deadline made from it must fit the clocks).
pub(crate) const LONGEST_INTERVAL: Duration = Duration::from_secs(7 * 86_400);
/// The longest `--settle`.
pub(crate) const LONGEST_SETTLE: Duration = Duration::from_secs(60);

/// The first wait after a failed cycle; it doubles after each failure, up to the interval.
const FIRST_BACKOFF: Duration = Duration::from_secs(10);
/// A controller that has not reached ClickUp for this many intervals is not healthy.
const QUIET_INTERVALS: u32 = 3;

/// The controller: what its loop and its endpoints share.
#[derive(Debug)]
struct Controller {
    metrics: Arc<Metrics>,
    status: Mutex<Status>,
    /// `POST /reconcile`: cycles asked for.
    requests: reconcile::Requests,
    /// Who may read `/plan` and ask for cycles.
    access: access::Access,
    interval: Duration,
    /// The rate limit as ClickUp last told it, kept from one cycle to the next.
    pacer: Arc<crate::clickup::http::Pacer>,
    /// The files' stamps, kept from one cycle to the next.
    seen: Arc<settle::Seen>,
}

/// What the last cycles left.
#[derive(Debug)]
struct Status {
    /// The last plan of each Workspace, as the JSON of SPEC §3, by Workspace id.
    plans: BTreeMap<String, Vec<u8>>,
    /// Whether `-f` is a folder of Workspace files: `/plan` then shows every Workspace's.
    folder: bool,
    /// The Workspace each file was last found to be, by file (empty before the first read).
    workspaces: BTreeMap<PathBuf, String>,
    /// The Workspaces the files named at the last read: those whose series exist.
    known: BTreeSet<String>,
    /// How the last cycle ended, and why when it failed.
    last: Option<(Outcome, String)>,
    last_success: Option<Instant>,
    /// When a cycle last ended having sent a request to ClickUp (or with no need to), or
    /// when serve started.
    last_reached: Instant,
    /// When the cycle in flight began.
    cycle_began: Option<Instant>,
}

impl Controller {
    fn status(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `None` when ready; else why not.
    fn unready(&self) -> Option<String> {
        let status = self.status();
        let young = self.interval.saturating_mul(2);
        match (&status.last, status.last_success) {
            (None, _) => Some("no cycle has ended yet".to_owned()),
            (Some((Outcome::Success, _)), Some(at)) if at.elapsed() <= young => None,
            (Some((Outcome::Success, _)), _) => Some(format!(
                "the last successful cycle is older than twice the interval ({})",
                humantime::format_duration(self.interval)
            )),
            (Some((outcome, why)), _) => {
                Some(format!("the last cycle: {}: {why}", outcome.label()))
            }
        }
    }

    /// `None` while the controller manages to reach ClickUp; else why not. A cycle in flight
    /// may wait for a rate-limit window besides its work; cycles that end on an invalid file
    /// needed no request (`/readyz` says why they fail).
    fn unhealthy(&self) -> Option<String> {
        let status = self.status();
        let quiet = self.interval.saturating_mul(QUIET_INTERVALS);
        if let Some(began) = status.cycle_began {
            let bound = quiet + crate::clickup::http::LONGEST_WAIT;
            return (began.elapsed() > bound).then(|| {
                format!(
                    "a cycle has run for {} (more than three intervals and the longest wait for ClickUp's rate limit)",
                    reconcile::seconds(began.elapsed())
                )
            });
        }
        if status.last_reached.elapsed() <= quiet {
            return None;
        }
        let last = match &status.last {
            Some((outcome, why)) if !why.is_empty() => {
                format!("the last cycle: {}: {why}", outcome.label())
            }
            Some((outcome, _)) => format!("the last cycle: {}", outcome.label()),
            None => "no cycle has ended".to_owned(),
        };
        Some(format!(
            "no cycle has sent a request to ClickUp for three intervals ({}); {last}",
            humantime::format_duration(quiet)
        ))
    }
}

pub(crate) async fn run(common: &Common, options: Options) -> Result<Exit, Error> {
    // What would fail every cycle is said once, at start-up.
    if common.snapshot.is_none() {
        crate::clickup::http::Token::from_env()?;
    }
    let folder = common.file.is_dir();
    if folder {
        crate::commands::targets::folder_files(&common.file)?;
    } else {
        State::read(&common.state)?;
    }
    let listener = tokio::net::TcpListener::bind(&options.listen)
        .await
        .map_err(|e| Error::Usage(format!("cannot listen on {}: {e}", options.listen)))?;
    let address = listener
        .local_addr()
        .map_err(|e| Error::Usage(format!("cannot listen on {}: {e}", options.listen)))?;
    let access = access::Access::from_env(address)?;
    let shared = Arc::new(Controller {
        metrics: Arc::new(Metrics::default()),
        status: Mutex::new(Status {
            plans: BTreeMap::new(),
            folder,
            workspaces: BTreeMap::new(),
            known: BTreeSet::new(),
            last: None,
            last_success: None,
            last_reached: Instant::now(),
            cycle_began: None,
        }),
        requests: reconcile::Requests::default(),
        access,
        interval: options.interval,
        pacer: Arc::default(),
        seen: Arc::default(),
    });
    let stop = StopSignal::default();
    listen_for_signals(&stop, crate::console::warning);
    let server = tokio::spawn(server::serve(
        listener,
        endpoints::router(shared.clone()),
        stop.clone(),
    ));
    tracing::info!(
        "serving on http://{address} (/metrics, /healthz, /readyz, /plan, POST /reconcile); mode {}, every {}",
        options.mode.name(),
        humantime::format_duration(options.interval)
    );
    if let Some(warning) = shared.access.warning() {
        tracing::warn!("{warning}");
    }
    let mut backoff = FIRST_BACKOFF.min(options.interval);
    while !stop.is_set() {
        shared.requests.cycle_starts();
        let sent = shared.metrics.sent();
        shared.status().cycle_began = Some(Instant::now());
        // A failed cycle says when the next try comes: after the backoff as it stands.
        let outcome = cycle::run(common, &options, &shared, &stop, backoff).await;
        {
            let mut status = shared.status();
            status.cycle_began = None;
            let reached = shared.metrics.sent() != sent
                || outcome == Outcome::Invalid
                || common.snapshot.is_some();
            if reached {
                status.last_reached = Instant::now();
            }
        }
        let wait = if outcome == Outcome::Success {
            backoff = FIRST_BACKOFF.min(options.interval);
            shared.requests.backoff(None);
            options.interval
        } else {
            let wait = backoff;
            backoff = (backoff * 2).min(options.interval);
            shared.requests.backoff(Some(Instant::now() + wait));
            wait
        };
        let backing_off = outcome != Outcome::Success;
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = shared.requests.due(), if !backing_off => {}
            () = stop.stopped() => {}
        }
        shared.requests.backoff(None);
    }
    // The endpoints end within their grace once the stop is set.
    if let Err(e) = server.await {
        crate::console::warning(&format!("the HTTP endpoints ended with an error: {e}"));
    }
    tracing::info!("stopped");
    Ok(Exit::Success)
}
