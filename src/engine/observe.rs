//! What a plan or an apply tells as it goes: warnings, each change started and finished, and
//! every write request with its answer. The command line shows progress and writes the audit
//! log from it; tests record it; a controller counts it.

use std::time::Duration;

use crate::clickup::WsError;
use crate::clickup::wire::routes::Route;
use crate::engine::Failure;
use crate::plan::Change;

/// Hears what a plan or an apply does. Every method does nothing unless implemented.
pub(crate) trait Observer: Send {
    /// Something the person running it should know; the run goes on.
    fn warning(&mut self, message: &str) {
        let _ = message;
    }

    /// The change at `index` of the plan is being made.
    fn change_started(&mut self, index: usize, change: &Change) {
        let _ = (index, change);
    }

    /// A write request was answered, or failed.
    fn request(&mut self, request: &Request<'_>) {
        let _ = request;
    }

    /// The change at `index` is done: made, or failed with why.
    fn change_finished(&mut self, index: usize, change: &Change, result: &Result<(), Failure>) {
        let _ = (index, change, result);
    }
}

/// One write request of an apply, as it was answered.
#[derive(Debug)]
pub(crate) struct Request<'a> {
    pub(crate) change: &'a Change,
    /// The row of ClickUp's table of requests (method, route template, what it does).
    pub(crate) route: Route,
    /// The path sent, `/team/123/user`.
    pub(crate) path: String,
    /// ClickUp's status when it answered; the error when the request failed.
    pub(crate) outcome: Result<Option<u16>, &'a WsError>,
    pub(crate) elapsed: Duration,
}

/// Hears nothing.
impl Observer for () {}
