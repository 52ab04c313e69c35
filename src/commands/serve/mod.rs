//! `serve`: the controller (SPEC §6). A loop of cycles, each reading the file from disk and
//! the whole Workspace, planning and (in `--mode apply`) applying through the engine, with its
//! metrics and health on HTTP endpoints. SIGTERM or SIGINT ends it after the cycle in flight.

mod cycle;
mod endpoints;
mod metrics;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::commands::{Common, Exit};
use crate::engine::Error;
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
    pub(crate) listen: String,
    pub(crate) allow_replace: bool,
}

/// The first wait after a failed cycle; it doubles after each failure, up to the interval.
const FIRST_BACKOFF: Duration = Duration::from_secs(10);

/// What the loop and the endpoints share.
#[derive(Debug)]
struct Shared {
    metrics: Arc<Metrics>,
    status: Mutex<Status>,
    /// `POST /reconcile`: a cycle now (one waiting at most).
    trigger: tokio::sync::Notify,
    interval: Duration,
    /// The rate limit as ClickUp last told it, kept from one cycle to the next.
    pacer: Arc<crate::clickup::http::Pacer>,
}

/// What the last cycles left.
#[derive(Debug, Default)]
struct Status {
    /// The last plan of each Workspace, as the JSON of SPEC §3, by Workspace id.
    plans: std::collections::BTreeMap<String, Vec<u8>>,
    /// Whether `-f` is a folder of Workspace files: `/plan` then shows every Workspace's.
    folder: bool,
    /// The Workspace each file was last found to be, by file (empty before the first plan).
    workspaces: std::collections::BTreeMap<std::path::PathBuf, String>,
    /// How the last cycle ended, and why when it failed.
    last: Option<(Outcome, String)>,
    last_success: Option<Instant>,
}

impl Shared {
    fn status(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `None` when ready; else why not.
    fn unready(&self) -> Option<String> {
        let status = self.status();
        match (&status.last, status.last_success) {
            (None, _) => Some("no cycle has ended yet".to_owned()),
            (Some((Outcome::Success, _)), Some(at)) if at.elapsed() <= self.interval * 2 => None,
            (Some((Outcome::Success, _)), _) => Some(format!(
                "the last successful cycle is older than twice the interval ({:?})",
                self.interval
            )),
            (Some((outcome, why)), _) => {
                Some(format!("the last cycle: {}: {why}", outcome.label()))
            }
        }
    }
}

pub(crate) async fn run(common: &Common, options: Options) -> Result<Exit, Error> {
    // What would fail every cycle is said once, at start-up.
    if common.snapshot.is_none() {
        crate::clickup::http::Token::from_env()?;
    }
    let folder = crate::commands::many::is_folder(common);
    if folder {
        crate::commands::many::files(&common.file)?;
    } else {
        State::read(&common.state)?;
    }
    let listener = tokio::net::TcpListener::bind(&options.listen)
        .await
        .map_err(|e| Error::Usage(format!("cannot listen on {}: {e}", options.listen)))?;
    let address = listener
        .local_addr()
        .map_err(|e| Error::Usage(format!("cannot listen on {}: {e}", options.listen)))?;
    let shared = Arc::new(Shared {
        metrics: Arc::new(Metrics::default()),
        status: Mutex::new(Status {
            folder,
            ..Status::default()
        }),
        trigger: tokio::sync::Notify::new(),
        interval: options.interval,
        pacer: Arc::default(),
    });
    let stop = StopSignal::default();
    listen_for_signals(&stop, crate::console::warning);
    let server = {
        let app = endpoints::router(shared.clone());
        let stop = stop.clone();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { stop.stopped().await })
                .await
        })
    };
    tracing::info!(
        "serving on http://{address} (/metrics, /healthz, /readyz, /plan, POST /reconcile); mode {}, every {}",
        options.mode.name(),
        humantime::format_duration(options.interval)
    );
    let mut backoff = FIRST_BACKOFF.min(options.interval);
    while !stop.is_set() {
        let outcome = if folder {
            cycle::run_folder(common, &options, &shared, &stop).await
        } else {
            cycle::run(common, &options, &shared, &stop).await
        };
        let wait = if outcome == Outcome::Success {
            backoff = FIRST_BACKOFF.min(options.interval);
            options.interval
        } else {
            let wait = backoff;
            backoff = (backoff * 2).min(options.interval);
            wait
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = shared.trigger.notified() => {}
            () = stop.stopped() => {}
        }
    }
    if let Ok(Err(e)) = server.await {
        crate::console::warning(&format!("the HTTP endpoints ended with an error: {e}"));
    }
    tracing::info!("stopped");
    Ok(Exit::Success)
}
