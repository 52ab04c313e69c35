//! The plan as markdown for a pull-request comment: what a reviewer must know first (apply
//! would refuse it, it was planned without ClickUp), a one-line verdict, a table of counts,
//! removals called out, the details in `<details>`; never longer than GitHub accepts.

use std::io::{self, Write};

use crate::plan::Action;
use crate::render::Problems;
use crate::render::json::JsonPlan;
use crate::render::{Context, no_changes_line, notices, plan_line, text};

/// GitHub refuses comments over 65,536 characters. The recipes put a marker line before the
/// plan (to find and edit their comment), so the plan stays under this.
pub(crate) const MAX_CHARS: usize = 65_000;

/// Room kept for the closing lines and the note that says what was cut.
const FOOTER: usize = 1_000;

/// At most this many reasons of a refusal are listed.
const MAX_REASONS: usize = 20;

pub(crate) fn markdown(out: &mut dyn Write, plan: &JsonPlan, ctx: &Context) -> io::Result<()> {
    let plan = &crate::render::for_humans(plan);
    let mut head = heading(plan, ctx);
    if plan.is_empty() {
        head.push_str(&format!("**{}**\n", no_changes_line(ctx)));
        return out.write_all(head.as_bytes());
    }
    head.push_str(&summary(plan));
    let room = ctx.max_chars.saturating_sub(chars(&head) + FOOTER);
    let mut doc = Doc {
        text: head,
        left_out: 0,
    };
    doc.removals(plan, room / 3);
    doc.drift(plan, ctx, room / 6);
    doc.details(plan, ctx)?;
    doc.cut_note(plan, ctx);
    out.write_all(doc.text.as_bytes())
}

/// What a reviewer must know first (the notices, why apply would refuse the plan), then the
/// title.
fn heading(plan: &JsonPlan, ctx: &Context) -> String {
    let mut head = String::new();
    for notice in notices(plan, ctx) {
        head.push_str(&format!("> **{}**\n\n", escape(&notice)));
    }
    if !plan.refused.is_empty() {
        head.push_str("> :no_entry: **Apply on merge will refuse this plan:**\n");
        for reason in plan.refused.iter().take(MAX_REASONS) {
            head.push_str(&format!("> - {}\n", escape(reason)));
        }
        if plan.refused.len() > MAX_REASONS {
            head.push_str(&format!(
                "> - … and {} more\n",
                plan.refused.len() - MAX_REASONS
            ));
        }
        head.push('\n');
    }
    head.push_str(&format!(
        "### clickup-members plan for \"{}\" ({})\n\n",
        escape(&plan.workspace.name),
        plan.workspace.id
    ));
    head
}

/// The verdict, the table of counts and the seats.
fn summary(plan: &JsonPlan) -> String {
    let mut text = format!("**{}**\n\n", plan_line(plan));
    text.push_str("| action | count |\n| --- | ---: |\n");
    for action in Action::ALL {
        let n = plan.count(action);
        if n > 0 {
            text.push_str(&format!("| {} | {n} |\n", action.key()));
        }
    }
    text.push('\n');
    if let Some(seats) = crate::render::seats_line(plan) {
        text.push_str(&format!("{}\n\n", escape(&seats)));
    }
    text
}

/// What a pull request shows when no plan could be made: why, and each problem found.
/// `nothing_recorded`: there is no recorded Workspace to plan against yet, which is not a
/// failure.
pub(crate) fn without_plan(
    out: &mut dyn Write,
    ctx: &Context,
    problems: &Problems,
    nothing_recorded: bool,
) -> io::Result<()> {
    let mut doc = String::new();
    if nothing_recorded {
        doc.push_str(&format!(
            "> **No plan yet:** {}\n\n",
            escape(&problems.summary)
        ));
    } else {
        doc.push_str(&format!(
            "> :no_entry: **Apply on merge will refuse this plan:** {}\n\n",
            escape(&problems.summary)
        ));
    }
    doc.push_str(&format!(
        "### clickup-members plan for {}\n\n",
        escape(&ctx.file_name)
    ));
    if !problems.lines.is_empty() {
        doc.push_str("```text\n");
        let room = ctx.max_chars.saturating_sub(chars(&doc) + FOOTER);
        let mut used = 0;
        let mut shown = 0;
        for line in &problems.lines {
            let line = format!("{}\n", crate::escape::visible(line).replace("```", "'''"));
            used += chars(&line);
            if used > room {
                break;
            }
            doc.push_str(&line);
            shown += 1;
        }
        doc.push_str("```\n");
        if shown < problems.lines.len() {
            doc.push_str(&format!(
                "\n_… and {} more; `clickup-members validate` lists them all._\n",
                problems.lines.len() - shown
            ));
        }
    }
    out.write_all(doc.as_bytes())
}

/// A comment being written, and how many of its lines did not fit.
struct Doc {
    text: String,
    left_out: usize,
}

impl Doc {
    /// The removals, called out.
    fn removals(&mut self, plan: &JsonPlan, room: usize) {
        let removals: Vec<String> = plan
            .changes
            .iter()
            .filter(|c| c.is_removal())
            .map(|c| {
                let verb = match c.action {
                    Action::Replace => "replace",
                    Action::Delete => "delete group",
                    _ => "remove",
                };
                format!("- :warning: **{verb}** {}\n", escape(c.subject()))
            })
            .collect();
        if removals.is_empty() {
            return;
        }
        self.text.push_str(&format!(
            "**Removals ({} of at most {}):**\n\n",
            removals.len(),
            plan.max_removals
        ));
        self.list(&removals, room);
        self.text.push('\n');
    }

    /// The changes that undo edits made in ClickUp since the last apply.
    fn drift(&mut self, plan: &JsonPlan, ctx: &Context, room: usize) {
        let drift: Vec<String> = plan
            .changes
            .iter()
            .filter(|c| c.drift)
            .map(|c| format!("- {} {} {}\n", c.action, c.kind, escape(c.subject())))
            .collect();
        if drift.is_empty() {
            return;
        }
        self.text.push_str(&format!(
            "**Changed in ClickUp since the last apply ({}):** these changes undo edits made outside {}.\n\n",
            drift.len(),
            ctx.file_name
        ));
        self.list(&drift, room);
        self.text.push('\n');
    }

    /// Every change as the text plan shows it, folded away, in the room that is left.
    fn details(&mut self, plan: &JsonPlan, ctx: &Context) -> io::Result<()> {
        let mut details = Vec::new();
        text::changes(&mut anstream::StripStream::new(&mut details), plan)?;
        let details = String::from_utf8_lossy(&details).replace("```", "'''");
        let details: Vec<String> = details.lines().map(|l| format!("{l}\n")).collect();
        self.text
            .push_str("<details><summary>Details</summary>\n\n```diff\n");
        let used = chars(&self.text);
        self.list(&details, ctx.max_chars.saturating_sub(used + FOOTER));
        self.text.push_str("```\n\n</details>\n");
        Ok(())
    }

    /// When lines were left out, how many, and where the whole plan is.
    fn cut_note(&mut self, plan: &JsonPlan, ctx: &Context) {
        if self.left_out == 0 {
            return;
        }
        let whole = match &ctx.saved_plan {
            Some(path) => format!(
                "in the saved plan `{path}` (the plan artifact in CI): `clickup-members show {path}` prints it"
            ),
            None => "printed by `clickup-members plan`".to_owned(),
        };
        self.text.push_str(&format!(
            "\n_This comment was cut to stay under GitHub's limit of 65,536 characters: {} left out. The whole plan of {} is {whole}._\n",
            crate::render::count(self.left_out, "line was", "lines were"),
            crate::render::count(plan.changes.len(), "change", "changes")
        ));
    }

    /// Adds `lines` while they fit in `room` characters; counts the others as left out and
    /// says how many at the end of the list.
    fn list(&mut self, lines: &[String], room: usize) {
        let mut used = 0;
        for (i, line) in lines.iter().enumerate() {
            used += chars(line);
            if used > room {
                let rest = lines.len() - i;
                self.left_out += rest;
                self.text
                    .push_str(&format!("… and {rest} more (left out here)\n"));
                return;
            }
            self.text.push_str(line);
        }
    }
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

fn escape(text: &str) -> String {
    crate::escape::markdown(text)
}
