//! The controller's metrics (SPEC §6), with the Prometheus project's client: what each cycle
//! did, what the last plan held, the writes and every request to ClickUp. A Workspace's
//! counters exist at zero from when a file names it, and its series go when no file does.

use std::sync::atomic::{AtomicU64, Ordering};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use crate::clickup::http::Listener;
use crate::clickup::wire::Seats;
use crate::clickup::wire::routes::Route;
use crate::engine::{Failure, Observer, Request};
use crate::live::Live;
use crate::model::BaseRole;
use crate::plan::{Action, Change, Plan};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Cycle {
    workspace: String,
    result: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Workspace {
    workspace: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ByAction {
    workspace: String,
    action: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Write {
    workspace: String,
    action: String,
    result: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiRequest {
    method: String,
    endpoint: String,
    code: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Seat {
    workspace: String,
    kind: String,
    state: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct People {
    workspace: String,
    kind: String,
    status: String,
}

/// Every metric of the controller, registered once.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    reconcile: Family<Cycle, Counter>,
    duration: Histogram,
    last_success: Family<Workspace, Gauge<f64, AtomicU64>>,
    drift: Family<ByAction, Gauge>,
    writes: Family<Write, Counter>,
    api_requests: Family<ApiRequest, Counter>,
    ratelimit_remaining: Gauge,
    seats: Family<Seat, Gauge>,
    people: Family<People, Gauge>,
    /// Requests sent to ClickUp, answered or not (for `/healthz`).
    sent: AtomicU64,
}

/// The kinds and states of `clickup_members_seats`.
const SEATS: [(&str, &str); 4] = [
    ("member", "filled"),
    ("member", "total"),
    ("guest", "filled"),
    ("guest", "total"),
];
/// The roles of `clickup_members_people`.
const ROLES: [BaseRole; 4] = [
    BaseRole::Owner,
    BaseRole::Admin,
    BaseRole::Member,
    BaseRole::Guest,
];
/// The results of `clickup_members_writes_total`.
const WRITE_RESULTS: [&str; 2] = ["success", "failure"];

/// How a cycle ended, as the `result` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Success,
    Failure,
    Refused,
    Invalid,
}

impl Outcome {
    const ALL: [Outcome; 4] = [
        Outcome::Success,
        Outcome::Failure,
        Outcome::Refused,
        Outcome::Invalid,
    ];

    pub(crate) fn label(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Refused => "refused",
            Outcome::Invalid => "invalid",
        }
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::default();
        let reconcile = Family::<Cycle, Counter>::default();
        registry.register(
            "clickup_members_reconcile",
            "Cycles run, by how they ended",
            reconcile.clone(),
        );
        let buckets = [
            0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
        ];
        let duration = Histogram::new(buckets);
        registry.register(
            "clickup_members_reconcile_duration_seconds",
            "How long a cycle took",
            duration.clone(),
        );
        let last_success = Family::<Workspace, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "clickup_members_last_success_timestamp_seconds",
            "When a cycle last succeeded (Unix time)",
            last_success.clone(),
        );
        let drift = Family::<ByAction, Gauge>::default();
        registry.register(
            "clickup_members_drift",
            "Changes the last plan held, by action",
            drift.clone(),
        );
        let writes = Family::<Write, Counter>::default();
        registry.register(
            "clickup_members_writes",
            "Write requests sent to ClickUp, by action and result",
            writes.clone(),
        );
        let api_requests = Family::<ApiRequest, Counter>::default();
        registry.register(
            "clickup_members_api_requests",
            "Requests sent to ClickUp, by method, route template and HTTP status",
            api_requests.clone(),
        );
        let ratelimit_remaining = Gauge::default();
        registry.register(
            "clickup_members_ratelimit_remaining",
            "Requests left in ClickUp's current rate-limit window, as it last said",
            ratelimit_remaining.clone(),
        );
        let seats = Family::<Seat, Gauge>::default();
        registry.register(
            "clickup_members_seats",
            "The Workspace's seats, by kind and state",
            seats.clone(),
        );
        let people = Family::<People, Gauge>::default();
        registry.register(
            "clickup_members_people",
            "People in the Workspace, by role and status",
            people.clone(),
        );
        registry.register(
            "clickup_members_build",
            "The version of clickup-members",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        Metrics {
            registry,
            reconcile,
            duration,
            last_success,
            drift,
            writes,
            api_requests,
            ratelimit_remaining,
            seats,
            people,
            sent: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    /// The exposition in Prometheus' text format.
    pub(crate) fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    /// How many requests have been sent to ClickUp, answered or not.
    pub(crate) fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// A file names `workspace`: its counters exist from now on, at zero, so that the first
    /// failure or write is an increase Prometheus sees.
    pub(crate) fn known(&self, workspace: &str) {
        for outcome in Outcome::ALL {
            drop(self.reconcile.get_or_create(&Cycle {
                workspace: workspace.to_owned(),
                result: outcome.label().to_owned(),
            }));
        }
        for action in Action::ALL {
            for result in WRITE_RESULTS {
                drop(self.writes.get_or_create(&Write {
                    workspace: workspace.to_owned(),
                    action: action.key().to_owned(),
                    result: result.to_owned(),
                }));
            }
        }
    }

    /// No file names `workspace` any more: its series go (the alerts are about Workspaces that
    /// are managed).
    pub(crate) fn forget(&self, workspace: &str) {
        let workspace = workspace.to_owned();
        for outcome in Outcome::ALL {
            self.reconcile.remove(&Cycle {
                workspace: workspace.clone(),
                result: outcome.label().to_owned(),
            });
        }
        self.last_success.remove(&Workspace {
            workspace: workspace.clone(),
        });
        for action in Action::ALL {
            let action = action.key().to_owned();
            self.drift.remove(&ByAction {
                workspace: workspace.clone(),
                action: action.clone(),
            });
            for result in WRITE_RESULTS {
                self.writes.remove(&Write {
                    workspace: workspace.clone(),
                    action: action.clone(),
                    result: result.to_owned(),
                });
            }
        }
        for (kind, state) in SEATS {
            self.seats.remove(&Seat {
                workspace: workspace.clone(),
                kind: kind.to_owned(),
                state: state.to_owned(),
            });
        }
        for role in ROLES {
            for status in ["active", "pending"] {
                self.people.remove(&People {
                    workspace: workspace.clone(),
                    kind: role.name().to_owned(),
                    status: status.to_owned(),
                });
            }
        }
    }

    /// A cycle of `workspace` ended with `outcome` after `seconds`.
    pub(crate) fn cycle(&self, workspace: &str, outcome: Outcome, seconds: f64) {
        self.reconcile
            .get_or_create(&Cycle {
                workspace: workspace.to_owned(),
                result: outcome.label().to_owned(),
            })
            .inc();
        self.duration.observe(seconds);
        if outcome == Outcome::Success {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            self.last_success
                .get_or_create(&Workspace {
                    workspace: workspace.to_owned(),
                })
                .set(now);
        }
    }

    /// What the last plan of `workspace` held, and the Workspace it was made against.
    pub(crate) fn planned(&self, plan: &Plan, live: &Live, seats: Option<&Seats>) {
        let workspace = &plan.workspace_id;
        for action in Action::ALL {
            let count = plan.changes.iter().filter(|c| c.action() == action).count();
            self.drift
                .get_or_create(&ByAction {
                    workspace: workspace.clone(),
                    action: action.key().to_owned(),
                })
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
        for role in ROLES {
            for pending in [false, true] {
                let count = live
                    .people
                    .iter()
                    .filter(|p| p.role == role && p.pending == pending)
                    .count();
                self.people
                    .get_or_create(&People {
                        workspace: workspace.clone(),
                        kind: role.name().to_owned(),
                        status: if pending { "pending" } else { "active" }.to_owned(),
                    })
                    .set(i64::try_from(count).unwrap_or(i64::MAX));
            }
        }
        if let Some(seats) = seats {
            let values = [
                seats.members.filled_members_seats,
                seats.members.total_member_seats,
                seats.guests.filled_guest_seats,
                seats.guests.total_guest_seats,
            ];
            for ((kind, state), value) in SEATS.into_iter().zip(values) {
                self.seats
                    .get_or_create(&Seat {
                        workspace: workspace.clone(),
                        kind: kind.to_owned(),
                        state: state.to_owned(),
                    })
                    .set(value);
            }
        }
    }

    /// Hears the writes of `workspace`'s apply.
    pub(crate) fn writes<'a>(&'a self, workspace: &str) -> Writes<'a> {
        Writes {
            metrics: self,
            workspace: workspace.to_owned(),
            made: 0,
            failed: 0,
        }
    }
}

/// Counts the requests to ClickUp (a [`Listener`] of the HTTP client).
impl Listener for Metrics {
    fn answered(&self, method: &str, route: Option<Route>, status: Option<u16>) {
        self.sent.fetch_add(1, Ordering::Relaxed);
        self.api_requests
            .get_or_create(&ApiRequest {
                method: method.to_owned(),
                endpoint: route.map_or("other", Route::template).to_owned(),
                code: status.map_or_else(|| "none".to_owned(), |s| s.to_string()),
            })
            .inc();
    }

    fn rate_limit_remaining(&self, remaining: u64) {
        self.ratelimit_remaining
            .set(i64::try_from(remaining).unwrap_or(i64::MAX));
    }
}

/// Counts the writes of one apply, for the metrics and the cycle's log line.
#[derive(Debug)]
pub(crate) struct Writes<'a> {
    metrics: &'a Metrics,
    workspace: String,
    pub(crate) made: usize,
    pub(crate) failed: usize,
}

impl Observer for Writes<'_> {
    fn warning(&mut self, message: &str) {
        tracing::warn!("{}", crate::escape::visible(message));
    }

    fn request(&mut self, request: &Request<'_>) {
        let ok = request.outcome.is_ok();
        self.metrics
            .writes
            .get_or_create(&Write {
                workspace: self.workspace.clone(),
                action: request.change.action().key().to_owned(),
                result: if ok { "success" } else { "failure" }.to_owned(),
            })
            .inc();
    }

    fn change_finished(&mut self, _: usize, change: &Change, result: &Result<(), Failure>) {
        match result {
            Ok(()) => self.made += 1,
            Err(failure) => {
                self.failed += 1;
                tracing::warn!(
                    "{} {} {}: {}",
                    change.action().key(),
                    change.kind().key(),
                    crate::escape::visible(change.subject()),
                    crate::escape::visible(&failure.error.message)
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_workspace_counts_from_zero_and_a_forgotten_one_leaves_no_series() {
        let metrics = Metrics::default();
        metrics.known("9006054115");
        let text = metrics.encode();
        for line in [
            "clickup_members_reconcile_total{workspace=\"9006054115\",result=\"invalid\"} 0",
            "clickup_members_writes_total{workspace=\"9006054115\",action=\"delete\",result=\"failure\"} 0",
        ] {
            assert!(text.contains(line), "{line} is missing:\n{text}");
        }
        metrics.cycle("9006054115", Outcome::Success, 0.1);
        metrics.forget("9006054115");
        assert!(
            !metrics.encode().contains("9006054115"),
            "{}",
            metrics.encode()
        );
    }
}
