//! The one vocabulary of what a run tells as it goes: warnings, each change started and
//! finished, every write request with its answer, and every write made, which the apply's
//! own observer records in the state before the next starts. The command line shows progress
//! and writes the audit log from it; tests record it; a controller counts it. (The HTTP
//! client's `Listener` hears every request, reads too, one layer down.)

use std::time::Duration;

use crate::clickup::wire::routes::Route;
use crate::clickup::{WriteOp, Written, WsError};
use crate::engine::{Error, Failure};
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

    /// A write of `change` succeeded: heard before the next write starts. An error (the state
    /// cannot be saved) stops the apply.
    fn written(
        &mut self,
        change: &Change,
        op: &WriteOp,
        written: &Written,
        elapsed: Duration,
    ) -> Result<(), Error> {
        let _ = (change, op, written, elapsed);
        Ok(())
    }

    /// A write of `change` failed.
    fn write_failed(&mut self, change: &Change, op: &WriteOp, error: &WsError, elapsed: Duration) {
        let _ = (change, op, error, elapsed);
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
