//! What `apply` shows at its end: the closing line, the table of failed changes, what to do,
//! and the exit code.

use std::io::Write;

use crate::commands::Error;
use crate::commands::Exit;
use crate::console::error;
use crate::engine::{Applied, Failure};
use crate::plan::{Action, Plan};
use crate::render;

/// The closing line, the failed changes, and the exit code.
pub(crate) fn summary(applied: &Applied) -> Result<Exit, Error> {
    let mut stdout = crate::console::stdout();
    if applied.complete() {
        let planned = |action| {
            let changes = applied.plan.changes.iter();
            changes.filter(|c| c.action() == action).count()
        };
        writeln!(
            stdout,
            "\nApply complete! {}.",
            render::tally(planned, Action::done)
        )?;
        return Ok(Exit::Success);
    }
    let failures = applied.failures();
    let not_attempted = applied.not_attempted();
    let not_attempted_note = if not_attempted > 0 {
        format!(", {not_attempted} not attempted")
    } else {
        String::new()
    };
    writeln!(
        stdout,
        "\nApply incomplete: {} of {} applied ({}), {} failed{not_attempted_note}, {} not started.",
        applied.made(),
        render::count(applied.plan.changes.len(), "change", "changes"),
        render::tally(|action| applied.made_of(action), Action::done),
        failures.len() - not_attempted,
        applied.not_started()
    )?;
    drop(stdout);
    failure_table(&applied.plan, &failures)?;
    match &applied.report.stopped {
        Some(reason) => error(&format!(
            "the apply stopped early: {}; what was applied is recorded in the state, and running apply again does only what is left",
            reason.message
        )),
        None if not_attempted > 0 => error(
            "ClickUp refused a write in a way every write would meet (see above), so the others were not sent; what succeeded is recorded in the state, and running apply again once that is fixed does only what is left",
        ),
        None => error(
            "some changes failed; what succeeded is recorded in the state, and running apply again does only what is left",
        ),
    }
    Ok(
        match applied.report.stopped.as_ref().and_then(|r| r.exit_code) {
            Some(code) => Exit::Signal(code),
            None => Exit::Failure,
        },
    )
}

/// The failed changes as a table on standard error: who, what, and what ClickUp said.
fn failure_table(plan: &Plan, failures: &[(usize, &Failure)]) -> std::io::Result<()> {
    if failures.is_empty() {
        return Ok(());
    }
    let shown = |text: &str| crate::escape::visible(text).into_owned();
    let or_dash = |text: Option<&str>| text.map_or_else(|| "-".to_owned(), shown);
    let rows: Vec<[String; 6]> = failures
        .iter()
        .map(|(i, f)| {
            let change = &plan.changes[*i];
            [
                shown(change.subject()),
                format!("{} {}", change.action().key(), change.kind().key()),
                f.error.status.map_or("-".to_owned(), |s| s.to_string()),
                or_dash(f.error.ecode.as_deref()),
                or_dash(f.error.err.as_deref()),
                shown(&f.error.message),
            ]
        })
        .collect();
    let header = [
        "person / group",
        "action",
        "HTTP",
        "ECODE",
        "err",
        "what to do",
    ]
    .map(String::from);
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut err = anstream::stderr().lock();
    writeln!(err, "\nFailed changes:")?;
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        writeln!(err, "  {}", cells.join("  ").trim_end())?;
    }
    Ok(())
}
