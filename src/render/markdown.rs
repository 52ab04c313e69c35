//! The plan as markdown for a pull-request comment: a one-line verdict, a table of counts,
//! removals called out first, the details in `<details>`, cut to stay under GitHub's comment
//! limit.

use std::io::{self, Write};

use crate::plan::Action;
use crate::render::json::JsonPlan;
use crate::render::{Context, no_changes_line, plan_line, text};

/// GitHub refuses comments over 65,536 characters; stay well under.
pub(crate) const MAX_BYTES: usize = 60 * 1024;

pub(crate) fn markdown(out: &mut dyn Write, plan: &JsonPlan, ctx: &Context) -> io::Result<()> {
    let mut doc = String::new();
    doc.push_str(&format!(
        "### clickup-members plan for \"{}\" ({})\n\n",
        escape(&plan.workspace.name),
        plan.workspace.id
    ));
    if plan.is_empty() {
        doc.push_str(&format!("**{}**\n", no_changes_line(ctx)));
        return out.write_all(doc.as_bytes());
    }
    doc.push_str(&format!("**{}**\n\n", plan_line(plan)));
    doc.push_str("| action | count |\n| --- | ---: |\n");
    for action in Action::ALL {
        let n = plan.count(action);
        if n > 0 {
            doc.push_str(&format!("| {} | {n} |\n", action.key()));
        }
    }
    doc.push('\n');

    let removals: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| c.is_removal())
        .map(|c| {
            let verb = match c.action() {
                Some(Action::Replace) => "replace",
                Some(Action::Delete) => "delete group",
                _ => "remove",
            };
            format!("- :warning: **{verb}** `{}`\n", escape(c.subject()))
        })
        .collect();
    if !removals.is_empty() {
        doc.push_str(&format!(
            "**Removals ({} of at most {}):**\n\n",
            removals.len(),
            plan.max_removals
        ));
        for line in &removals {
            doc.push_str(line);
        }
        doc.push('\n');
    }

    let drift: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| c.drift)
        .map(|c| format!("- {} {} `{}`\n", c.action, c.kind, escape(c.subject())))
        .collect();
    if !drift.is_empty() {
        doc.push_str(&format!(
            "**Changed in ClickUp since the last apply ({}):** these changes undo edits made outside {}.\n\n",
            drift.len(),
            ctx.file_name
        ));
        for line in &drift {
            doc.push_str(line);
        }
        doc.push('\n');
    }

    let mut details = Vec::new();
    text::text(&mut anstream::StripStream::new(&mut details), plan, ctx)?;
    let details = String::from_utf8_lossy(&details).replace("```", "'''");
    let closing = "```\n\n</details>\n";
    let opening = "<details><summary>Details</summary>\n\n```diff\n";
    let room = MAX_BYTES.saturating_sub(doc.len() + opening.len() + closing.len() + 200);
    doc.push_str(opening);
    if details.len() <= room {
        doc.push_str(&details);
    } else {
        let mut cut = room;
        while !details.is_char_boundary(cut) {
            cut -= 1;
        }
        let cut = details[..cut].rfind('\n').map_or(0, |i| i + 1);
        doc.push_str(&details[..cut]);
        doc.push_str(closing);
        doc.push_str(&format!(
            "\n_The details were cut to keep this comment under {} KB; run `clickup-members plan` to see all {} changes._\n",
            MAX_BYTES / 1024,
            plan.changes.len()
        ));
        return out.write_all(doc.as_bytes());
    }
    doc.push_str(closing);
    out.write_all(doc.as_bytes())
}

fn escape(text: &str) -> String {
    text.replace('|', "\\|").replace('`', "'")
}
