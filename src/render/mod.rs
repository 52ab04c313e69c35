//! Renderers of a [`Plan`]: text for a terminal, JSON (the versioned contract of SPEC §3, also
//! the saved plan file), markdown for a pull-request comment. They write to a `&mut dyn Write`
//! and never print.

pub(crate) mod json;
mod markdown;
mod text;

use std::path::Path;

use crate::config::Mode;
use crate::plan::{Action, RemoveReason, ReplaceReason};
use crate::render::json::{JsonPlan, LiveSource};

pub(crate) use markdown::{MAX_CHARS, markdown, without_plan as markdown_without_plan};
pub(crate) use text::{review, text};

/// The plan as a person sees it: every string from outside (names, emails, ClickUp's text)
/// with its control characters escaped (see [`crate::escape`]). The text and markdown
/// renderers start from it; the JSON keeps the data as it is.
pub(crate) fn for_humans(plan: &JsonPlan) -> std::borrow::Cow<'_, JsonPlan> {
    let Ok(value) = serde_json::to_value(plan) else {
        return std::borrow::Cow::Borrowed(plan);
    };
    // Most plans hold nothing to escape: they are shown as they are.
    if !crate::escape::json_needs_escape(&value) {
        return std::borrow::Cow::Borrowed(plan);
    }
    serde_json::from_value(crate::escape::visible_json(value))
        .map_or(std::borrow::Cow::Borrowed(plan), std::borrow::Cow::Owned)
}

/// What a renderer needs beside the plan.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    /// The desired-state file's name as the user knows it ("members.yaml").
    pub(crate) file_name: String,
    /// Where the plan is saved (`plan --out`), for a cut markdown plan to point at.
    pub(crate) saved_plan: Option<String>,
    /// The markdown plan stays under this many characters (several Workspaces share one
    /// comment).
    pub(crate) max_chars: usize,
    /// Changes the Workspace needs were held back (`apply --reviewed`): a plan without changes
    /// does not mean the Workspace matches the file.
    pub(crate) held_back: bool,
}

impl Context {
    /// The context of plans made from the desired-state file at `path`.
    pub(crate) fn for_file(path: &Path) -> Context {
        Context {
            file_name: path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            saved_plan: None,
            max_chars: markdown::MAX_CHARS,
            held_back: false,
        }
    }
}

/// What a reader must know before the plan itself, each as one sentence: that it was made
/// without reading ClickUp, or without knowing whom the tool manages.
pub(crate) fn notices(plan: &JsonPlan, ctx: &Context) -> Vec<String> {
    let mut notices = Vec::new();
    if plan.live_source == LiveSource::State {
        let when = plan
            .recorded_at
            .as_deref()
            .map_or(String::new(), |t| format!(" at {t}"));
        notices.push(format!(
            "Planned without reading ClickUp: against the Workspace as the last apply recorded it{when}. Changes made in ClickUp since then are not shown."
        ));
    }
    notices.extend(plan.warnings.iter().cloned());
    if !plan.expiring.is_empty() {
        let soon: Vec<String> = plan
            .expiring
            .iter()
            .map(|e| format!("{} ({})", e.email, e.expires))
            .collect();
        notices.push(format!(
            "Access that expires soon (the plan removes them from that day on): {}.",
            soon.join(", ")
        ));
    }
    if plan.state.is_none() && plan.mode == Mode::Additive.name() {
        notices.push(format!(
            "No state file: this additive plan cannot see whom clickup-members manages, so people it invited that {} no longer lists are left alone instead of removed.",
            ctx.file_name
        ));
    }
    notices
}

/// `Plan: 2 to invite, 1 to change, 1 to remove.` (replaces and group creates and deletes are
/// added when there are some).
pub(crate) fn plan_line(plan: &JsonPlan) -> String {
    format!(
        "Plan: {}.",
        tally(|action| plan.count(action), Action::to_do)
    )
}

/// `1 guest`, `3 guests`: a count with its noun in the number it takes.
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// `2 to invite, 1 to change, 0 to remove, 1 group to create`, with `words` after each count:
/// invites, changes and removes always; replaces and group creates and deletes when there are
/// some.
pub(crate) fn tally(
    count: impl Fn(Action) -> usize,
    words: impl Fn(Action) -> &'static str,
) -> String {
    let parts: Vec<String> = Action::ALL
        .into_iter()
        .filter_map(|action| {
            let n = count(action);
            let noun = match action {
                Action::Invite | Action::Update | Action::Remove => "",
                _ if n == 0 => return None,
                Action::Create | Action::Delete if n == 1 => " group",
                Action::Create | Action::Delete => " groups",
                Action::Replace => "",
            };
            Some(format!("{n}{noun} {}", words(action)))
        })
        .collect();
    parts.join(", ")
}

/// `Seats (Enterprise plan): members 9 of 9 used, 11 after the plan (2 more than the
/// Workspace has); guests 2 of 50 used, 2 after.`, or that they are unknown; nothing for a plan
/// without changes whose seats were not read.
pub(crate) fn seats_line(plan: &JsonPlan) -> Option<String> {
    let named = plan
        .workspace_plan
        .as_deref()
        .map_or(String::new(), |name| format!(" ({name} plan)"));
    let Some(seats) = &plan.seats else {
        return (!plan.is_empty()).then(|| format!("Seats{named}: unknown (not read)."));
    };
    let kind = |what: &str, seat: &crate::plan::seats::SeatUse| {
        let beyond = match seat.beyond() {
            0 => String::new(),
            n => format!(" ({n} more than the Workspace has)"),
        };
        format!(
            "{what} {} of {} used, {} after the plan{beyond}",
            seat.used, seat.total, seat.after
        )
    };
    Some(format!(
        "Seats{named}: {}; {}.",
        kind("members", &seats.members),
        kind("guests", &seats.guests)
    ))
}

pub(crate) fn no_changes_line(ctx: &Context) -> String {
    if ctx.held_back {
        return "No reviewed change is left to make.".to_owned();
    }
    format!("No changes. The workspace matches {}.", ctx.file_name)
}

pub(crate) fn remove_reason(reason: RemoveReason, ctx: &Context) -> String {
    match reason {
        RemoveReason::NotListed => format!("not listed in {} (mode: authoritative)", ctx.file_name),
        RemoveReason::Duplicate => "another user group has the same name (case-insensitive) and is the one kept (mode: authoritative)".to_owned(),
        RemoveReason::Expired(date) => format!("expired {}", crate::config::day(date)),
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
    }
}

#[cfg(test)]
mod tests;

/// Problems already printed on standard error, as plain text.
#[derive(Debug, Clone, Default)]
pub(crate) struct Problems {
    /// The one sentence that sums them up (`members.yaml is invalid: 2 problems`).
    pub(crate) summary: String,
    /// Each problem, `FILE:LINE:COL: message` when it has a place.
    pub(crate) lines: Vec<String>,
}
