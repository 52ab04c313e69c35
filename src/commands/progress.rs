//! What the command line shows of a plan or an apply as it goes: warnings, a progress bar on a
//! terminal, one line per change, and the audit log.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::audit::{self, AuditLog};
use crate::clock;
use crate::engine::{Failure, Observer, Request};
use crate::plan::{Change, Plan};

/// Warnings on standard error, and nothing else: what `plan` shows as it goes.
#[derive(Debug, Default)]
pub(crate) struct Warnings;

impl Observer for Warnings {
    fn warning(&mut self, message: &str) {
        crate::console::warning(message);
    }
}

/// An apply on the command line: a line per change, a progress bar on a terminal, and with
/// `--audit-log` a JSON line per request.
pub(crate) struct Terminal {
    total: usize,
    done: usize,
    quiet: bool,
    audit: Option<AuditLog>,
    /// The plan's `live_fingerprint`, which each audit line names.
    fingerprint: String,
    progress: Option<ProgressBar>,
    /// The changes in flight, by index, for the progress line.
    in_hand: BTreeMap<usize, String>,
}

impl Terminal {
    pub(crate) fn new(plan: &Plan, quiet: bool, audit: Option<AuditLog>) -> Terminal {
        Terminal {
            total: plan.changes.len(),
            done: 0,
            quiet,
            audit,
            fingerprint: plan.live_fingerprint.clone(),
            progress: progress_bar(plan.changes.len(), quiet),
            in_hand: BTreeMap::new(),
        }
    }

    /// Takes the progress bar off the terminal.
    pub(crate) fn finish(&self) {
        if let Some(progress) = &self.progress {
            progress.finish_and_clear();
        }
    }

    fn show_in_hand(&self) {
        if let Some(progress) = &self.progress {
            let names: Vec<&str> = self.in_hand.values().map(String::as_str).collect();
            progress.set_message(names.join(", "));
        }
    }
}

impl Observer for Terminal {
    fn warning(&mut self, message: &str) {
        crate::console::warning(message);
    }

    fn change_started(&mut self, index: usize, change: &Change) {
        tracing::info!(
            "{} {} {}",
            change.action().key(),
            change.kind().key(),
            change.subject()
        );
        self.in_hand.insert(index, change.subject().to_owned());
        self.show_in_hand();
    }

    fn request(&mut self, request: &Request<'_>) {
        let Some(log) = &mut self.audit else {
            return;
        };
        let (ok, status, ecode, err) = match request.outcome {
            Ok(status) => (true, status, None, None),
            Err(e) => (false, e.status, e.ecode.as_deref(), e.err.as_deref()),
        };
        let entry = audit::Entry {
            time: clock::now_rfc3339(),
            action: request.change.action().key(),
            kind: request.change.kind().key(),
            subject: request.change.subject(),
            method: request.route.method_name(),
            path: &request.path,
            ok,
            status,
            ecode,
            err,
            duration_ms: u64::try_from(request.elapsed.as_millis()).unwrap_or(u64::MAX),
            plan: &self.fingerprint,
        };
        if let Err(e) = log.record(&entry) {
            crate::console::warning(&format!("cannot write the audit log: {e}"));
        }
    }

    fn change_finished(&mut self, index: usize, change: &Change, result: &Result<(), Failure>) {
        self.done += 1;
        self.in_hand.remove(&index);
        if let Some(progress) = &self.progress {
            progress.inc(1);
        }
        self.show_in_hand();
        if self.quiet && result.is_ok() {
            return;
        }
        let (kind, subject) = (change.kind().key(), change.subject());
        let line = match result {
            Ok(()) => format!(
                "[{}/{}] {kind} {subject}: {}",
                self.done,
                self.total,
                change.action().done()
            ),
            Err(f) => format!(
                "[{}/{}] {kind} {subject}: FAILED ({}: {})",
                self.done, self.total, f.request, f.error
            ),
        };
        let line = crate::escape::visible(&line);
        let print = || {
            let mut out = crate::console::stdout();
            let _ = writeln!(out, "{line}");
        };
        match &self.progress {
            Some(progress) => progress.suspend(print),
            None => print(),
        }
    }
}

fn progress_bar(total: usize, quiet: bool) -> Option<ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{spinner} [{pos}/{len}] {wide_bar} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(120));
    Some(bar)
}
