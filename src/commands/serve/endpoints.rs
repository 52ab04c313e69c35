//! The controller's HTTP endpoints. Nothing a client sends can do more than read the metrics,
//! the health and the last plan, or ask for a cycle. The metrics and the probes are open to
//! whoever reaches the port; the plan (every member's email) and a cycle (the token's rate
//! limit) only to whom `access.rs` lets in, and cycles asked for are spaced (`reconcile.rs`).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::commands::serve::Controller;

pub(super) fn router(shared: Arc<Controller>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/plan", get(plan))
        .route("/reconcile", post(reconcile))
        .with_state(shared)
}

async fn metrics(State(shared): State<Arc<Controller>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        shared.metrics.encode(),
    )
        .into_response()
}

async fn healthz(State(shared): State<Arc<Controller>>) -> Response {
    match shared.unhealthy() {
        None => (StatusCode::OK, "ok\n".to_owned()).into_response(),
        Some(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")).into_response(),
    }
}

async fn readyz(State(shared): State<Arc<Controller>>) -> Response {
    match shared.unready() {
        None => (StatusCode::OK, "ready\n".to_owned()).into_response(),
        Some(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")).into_response(),
    }
}

async fn plan(State(shared): State<Arc<Controller>>, headers: HeaderMap) -> Response {
    if let Err(denied) = shared.access.check(&headers) {
        return denied.into_response();
    }
    let json = {
        let status = shared.status();
        if status.plans.is_empty() {
            None
        } else if status.folder {
            // A folder: `{"format_version": 1, "workspaces": [PLAN, …]}`, as `plan -f DIR`.
            let workspaces: Vec<serde_json::Value> = status
                .plans
                .values()
                .filter_map(|bytes| serde_json::from_slice(bytes).ok())
                .collect();
            serde_json::to_vec_pretty(&serde_json::json!({
                "format_version": crate::render::json::FORMAT_VERSION,
                "workspaces": workspaces,
            }))
            .ok()
        } else {
            status.plans.values().next().cloned()
        }
    };
    match json {
        Some(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            "no plan yet: the first cycle has not ended\n",
        )
            .into_response(),
    }
}

/// `202 Accepted` whatever is decided (a cycle now, later, folded into one that waits, or the
/// retry after a backoff, which reads the file again): the body says which.
async fn reconcile(State(shared): State<Arc<Controller>>, headers: HeaderMap) -> Response {
    if let Err(denied) = shared.access.check(&headers) {
        return denied.into_response();
    }
    let answer = shared.requests.ask();
    (StatusCode::ACCEPTED, answer.sentence()).into_response()
}
