//! The plan as text, in terraform's vocabulary: `+` invite or create, `~` update, `-` remove or
//! delete, `-/+` replace. It is drawn from the JSON plan, so that a saved plan prints exactly as
//! it did when it was made. Styles are always written; the caller's stream strips them when
//! colour is off (`anstream`).

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use serde_json::Value;

use crate::plan::Action;
use crate::render::json::{JsonChange, JsonPlan};
use crate::render::{Context, count, no_changes_line, notices, plan_line};

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();
const ADD: Style = AnsiColor::Green.on_default();
const CHANGE: Style = AnsiColor::Yellow.on_default();
const REMOVE: Style = AnsiColor::Red.on_default();
const DRIFT: Style = AnsiColor::Cyan.on_default();
const NOTE: Style = AnsiColor::Yellow.on_default().bold();
const REFUSED: Style = AnsiColor::Red.on_default().bold();

pub(crate) fn text(out: &mut dyn Write, plan: &JsonPlan, ctx: &Context) -> io::Result<()> {
    let plan = &crate::render::for_humans(plan);
    let notices = notices(plan, ctx);
    for notice in &notices {
        writeln!(out, "{NOTE}Note:{NOTE:#} {notice}")?;
    }
    for reason in &plan.refused {
        writeln!(
            out,
            "{REFUSED}Apply will refuse this plan:{REFUSED:#} {reason}"
        )?;
    }
    if !notices.is_empty() || !plan.refused.is_empty() {
        writeln!(out)?;
    }
    changes(out, plan)?;
    if plan.is_empty() {
        writeln!(out, "{BOLD}{}{BOLD:#}", no_changes_line(ctx))
    } else {
        writeln!(out, "{BOLD}{}{BOLD:#}", plan_line(plan))
    }
}

/// The Workspace's head counts, the changes and the notes on who is left alone: the body of
/// the plan, which the markdown plan shows as its details.
pub(crate) fn changes(out: &mut dyn Write, plan: &JsonPlan) -> io::Result<()> {
    header(out, plan)?;
    if !plan.is_empty() {
        writeln!(out, "clickup-members will make these changes:")?;
        for change in &plan.changes {
            writeln!(out)?;
            write_change(out, change)?;
        }
        writeln!(out)?;
    }
    notes(out, plan)
}

fn header(out: &mut dyn Write, plan: &JsonPlan) -> io::Result<()> {
    let c = &plan.counts;
    let groups = match c.groups {
        Some(1) => ", 1 group".to_owned(),
        Some(n) => format!(", {n} groups"),
        None => String::new(),
    };
    writeln!(
        out,
        "{BOLD}Workspace \"{}\" ({}){BOLD:#}: {} ({}, {}, {}, {}; {} pending){groups}.",
        plan.workspace.name,
        plan.workspace.id,
        count(c.people, "person", "people"),
        count(c.owners, "owner", "owners"),
        count(c.admins, "admin", "admins"),
        count(c.members, "member", "members"),
        count(c.guests, "guest", "guests"),
        c.pending
    )?;
    writeln!(
        out,
        "Mode: {}, max_removals: {}.",
        plan.mode, plan.max_removals
    )?;
    if let Some(seats) = crate::render::seats_line(plan) {
        writeln!(out, "{seats}")?;
    }
    writeln!(out)
}

fn notes(out: &mut dyn Write, plan: &JsonPlan) -> io::Result<()> {
    let mut wrote = false;
    if !plan.unmanaged.is_empty() {
        writeln!(
            out,
            "{DIM}Unmanaged, left alone ({}): {}{DIM:#}",
            plan.unmanaged.len(),
            plan.unmanaged.join(", ")
        )?;
        wrote = true;
    }
    if !plan.unknown.is_empty() {
        writeln!(
            out,
            "{DIM}Unknown to this tool, left alone ({}): {}{DIM:#}",
            plan.unknown.len(),
            plan.unknown.join(", ")
        )?;
        wrote = true;
    }
    if !plan.pending.is_empty() {
        writeln!(
            out,
            "{DIM}Pending invitations ({}): {}{DIM:#}",
            plan.pending.len(),
            plan.pending.join(", ")
        )?;
        wrote = true;
    }
    if wrote {
        writeln!(out)?;
    }
    Ok(())
}

/// What `apply --reviewed` left out of the plan it made: changes the Workspace needs that the
/// reviewed plan (at `reviewed`) does not hold, and changes it holds that are done already.
pub(crate) fn review(
    out: &mut dyn Write,
    reviewed: &str,
    not_reviewed: &[JsonChange],
    already_done: &[JsonChange],
) -> io::Result<()> {
    let escaped = |changes: &[JsonChange]| -> Vec<JsonChange> {
        changes
            .iter()
            .map(|c| {
                serde_json::to_value(c)
                    .ok()
                    .and_then(|v| serde_json::from_value(crate::escape::visible_json(v)).ok())
                    .unwrap_or_else(|| c.clone())
            })
            .collect()
    };
    if !not_reviewed.is_empty() {
        writeln!(
            out,
            "{REFUSED}Not reviewed, not made ({}):{REFUSED:#} the Workspace needs {} now, and the reviewed plan {reviewed} does not hold {}:",
            not_reviewed.len(),
            if not_reviewed.len() == 1 {
                "this change"
            } else {
                "these changes"
            },
            if not_reviewed.len() == 1 {
                "it"
            } else {
                "them"
            },
        )?;
        for change in &escaped(not_reviewed) {
            writeln!(out)?;
            write_change(out, change)?;
        }
        writeln!(out)?;
    }
    if !already_done.is_empty() {
        writeln!(
            out,
            "{DIM}Already done ({}): in the reviewed plan, and no longer needed:{DIM:#}",
            already_done.len()
        )?;
        for change in &escaped(already_done) {
            writeln!(out)?;
            write_change(out, change)?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// A value of an attribute as the plan shows it: text quoted, null as `(none)`.
fn shown(value: &Value) -> String {
    match value {
        Value::Null => "(none)".to_owned(),
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

fn id_suffix(change: &JsonChange) -> String {
    let pending = if change.pending == Some(true) {
        ", pending invitation"
    } else {
        ""
    };
    match (&change.user_id, &change.group_id) {
        (Some(id), _) => format!(" ({id}{pending})"),
        (None, Some(id)) => format!(" ({id})"),
        (None, None) => String::new(),
    }
}

/// The colour of an action in a terminal.
fn style(action: Action) -> Style {
    action.colour().on_default()
}

fn write_change(out: &mut dyn Write, change: &JsonChange) -> io::Result<()> {
    let action = change.action;
    let replace = action == Action::Replace;
    let (style, sign, verb) = (style(action), action.sign(), action.key());
    let (indent, kind) = if replace {
        ("", String::new())
    } else {
        ("  ", format!(" {}", change.kind))
    };
    writeln!(
        out,
        "{indent}{style}{sign} {verb}{kind}{style:#} {BOLD}{}{BOLD:#}{}",
        change.subject(),
        id_suffix(change)
    )?;
    if let Some(reason) = &change.reason {
        writeln!(out, "      {DIM}# {reason}{DIM:#}")?;
    }
    if change.drift {
        writeln!(
            out,
            "      {DRIFT}# (changed in ClickUp since the last apply){DRIFT:#}"
        )?;
    }
    if replace {
        // What changes first; the new seat's role is already in it.
        attributes(out, change)?;
    } else if let Some(role) = &change.role {
        writeln!(out, "      role: \"{role}\"")?;
    }
    if let Some(permissions) = &change.permissions {
        for (flag, value) in permissions.set_flags() {
            writeln!(out, "      {}: {value}", flag.key())?;
        }
    }
    if let Some(role) = &change.custom_role {
        writeln!(out, "      custom_role: \"{role}\"")?;
    }
    for share in change.access.iter().flatten() {
        writeln!(
            out,
            "      access: {ADD}+{ADD:#} {} {} \"{}\"",
            share.kind, share.id, share.permission
        )?;
    }
    if let Some(handle) = &change.handle {
        writeln!(out, "      handle: \"{handle}\"")?;
    }
    if let Some(members) = &change.members {
        let members = if members.is_empty() {
            "(none)".to_owned()
        } else {
            members.join(", ")
        };
        writeln!(out, "      members: {members}")?;
    }
    if !replace {
        attributes(out, change)?;
    }
    for email in change.add.iter().flatten() {
        writeln!(out, "      {ADD}+{ADD:#} {email}")?;
    }
    for email in change.remove.iter().flatten() {
        writeln!(out, "      {REMOVE}-{REMOVE:#} {email}")?;
    }
    Ok(())
}

/// Changed attributes: the role and switches first, then the custom role, then the shares.
fn attributes(out: &mut dyn Write, change: &JsonChange) -> io::Result<()> {
    let Some(attributes) = &change.attributes else {
        return Ok(());
    };
    let order = |key: &str| match key {
        "kind" => 0,
        "role" => 1,
        k if k.starts_with("can_") => 2,
        "custom_role" | "handle" => 3,
        _ => 4,
    };
    let mut keys: Vec<&String> = attributes.keys().filter(|k| k.as_str() != "kind").collect();
    keys.sort_by_key(|k| (order(k), *k));
    for key in keys {
        let FromTo { from, to } = &attributes[key];
        if let Some(target) = key.strip_prefix("access.") {
            let target = target.replacen('.', " ", 1);
            match (from, to) {
                (Value::Null, to) => {
                    writeln!(out, "      access: {ADD}+{ADD:#} {target} {}", shown(to))?
                }
                (from, Value::Null) => writeln!(
                    out,
                    "      access: {REMOVE}-{REMOVE:#} {target} {}",
                    shown(from)
                )?,
                (from, to) => writeln!(
                    out,
                    "      access: {CHANGE}~{CHANGE:#} {target} {} -> {}",
                    shown(from),
                    shown(to)
                )?,
            }
        } else {
            let from = match (key.starts_with("can_"), from) {
                (true, Value::Null) => "(unset)".to_owned(),
                _ => shown(from),
            };
            writeln!(
                out,
                "      {key}: {from} {CHANGE}->{CHANGE:#} {}",
                shown(to)
            )?;
        }
    }
    Ok(())
}

use crate::render::json::FromTo;
