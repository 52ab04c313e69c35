//! Renderers of a [`Plan`]: text for a terminal, JSON (the versioned contract of SPEC §3, also
//! the saved plan file), markdown for a pull-request comment. They write to a `&mut dyn Write`
//! and never print.

pub(crate) mod json;
mod markdown;
mod text;

use crate::plan::{Action, RemoveReason, ReplaceReason};
use crate::render::json::JsonPlan;

pub(crate) use markdown::markdown;
pub(crate) use text::text;

/// What a renderer needs beside the plan.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    /// The desired-state file's name as the user knows it ("members.yaml").
    pub(crate) file_name: String,
}

/// `Plan: 2 to invite, 1 to change, 1 to remove.` (replaces and group creates and deletes are
/// added when there are some).
pub(crate) fn plan_line(plan: &JsonPlan) -> String {
    let mut line = format!(
        "Plan: {} to invite, {} to change, {} to remove",
        plan.count(Action::Invite),
        plan.count(Action::Update),
        plan.count(Action::Remove)
    );
    let replace = plan.count(Action::Replace);
    if replace > 0 {
        line.push_str(&format!(", {replace} to replace"));
    }
    for (action, verb) in [(Action::Create, "create"), (Action::Delete, "delete")] {
        let n = plan.count(action);
        if n > 0 {
            let noun = if n == 1 { "group" } else { "groups" };
            line.push_str(&format!(", {n} {noun} to {verb}"));
        }
    }
    line.push('.');
    line
}

pub(crate) fn no_changes_line(ctx: &Context) -> String {
    format!("No changes. The workspace matches {}.", ctx.file_name)
}

pub(crate) fn remove_reason(reason: RemoveReason, ctx: &Context) -> String {
    match reason {
        RemoveReason::NotListed => format!("not listed in {} (mode: authoritative)", ctx.file_name),
        RemoveReason::NoLongerListed => format!(
            "no longer listed in {}, and managed by clickup-members (state file)",
            ctx.file_name
        ),
    }
}

pub(crate) fn replace_reason(reason: ReplaceReason) -> &'static str {
    match reason {
        ReplaceReason::KindChange => {
            "ClickUp cannot turn a member into a guest or back: removed, then invited again (history and shares are lost)"
        }
        ReplaceReason::PendingRoleChange => {
            "a pending invitation cannot be edited: it is cancelled and sent again with the new role"
        }
    }
}

#[cfg(test)]
mod tests;
