//! The HTTP server of the endpoints, bounded so that no client can take the controller's files
//! or its stop from it: at most [`MAX_CONNECTIONS`] connections are served at once (more wait
//! in the kernel's queue, holding no file of this process), a request's head must arrive within
//! [`HEADER_READ_TIMEOUT`] (an idle kept-alive connection is closed after as long), no
//! connection lasts longer than [`LONGEST_CONNECTION`] (a client that never reads its answer),
//! and at a stop the connections get [`SHUTDOWN_GRACE`] to finish before they are dropped.
//! hyper does the HTTP; what the endpoints answer is `endpoints.rs`.

use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::stop::StopSignal;

/// Connections served at once: Prometheus, the probes and a few people need a handful.
const MAX_CONNECTIONS: usize = 64;
/// How long a client has to send a request's head (and an idle connection stays open).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest a connection is served, whatever it does.
const LONGEST_CONNECTION: Duration = Duration::from_secs(60);
/// How long the connections have to finish once a stop is asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
/// How long to wait after a connection could not be accepted (no file left, say).
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// Serves `app` on `listener` until `stop`, then ends within [`SHUTDOWN_GRACE`].
pub(super) async fn serve(listener: TcpListener, app: axum::Router, stop: StopSignal) {
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = stop.stopped() => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::debug!("cannot accept a connection: {e}");
                    stop.sleep(ACCEPT_PAUSE).await;
                    continue;
                }
            },
            () = stop.stopped() => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            match tokio::time::timeout(LONGEST_CONNECTION, connection).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::debug!("an HTTP connection ended: {e}"),
                Err(_) => tracing::debug!("an HTTP connection open too long is dropped"),
            }
            drop(permit);
        });
    }
    // No new connection; those open finish what they were doing, or are dropped.
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::debug!("HTTP connections still open at the stop are dropped");
        }
    }
}
