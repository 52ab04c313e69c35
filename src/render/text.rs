//! The plan as text, in terraform's vocabulary: `+` invite or create, `~` update, `-` remove or
//! delete, `-/+` replace. Styles are always written; the caller's stream strips them when colour
//! is off (`anstream`).

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use crate::model::GuestPermissions;
use crate::plan::{Change, Plan, Seat, ShareChange};
use crate::render::{Context, no_changes_line, plan_line, remove_reason, replace_reason};

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();
const ADD: Style = AnsiColor::Green.on_default();
const CHANGE: Style = AnsiColor::Yellow.on_default();
const REMOVE: Style = AnsiColor::Red.on_default();
const REPLACE: Style = AnsiColor::Magenta.on_default();

pub(crate) fn text(out: &mut dyn Write, plan: &Plan, ctx: &Context) -> io::Result<()> {
    header(out, plan)?;
    if !plan.is_empty() {
        writeln!(out, "clickup-members will make these changes:")?;
        for change in &plan.changes {
            writeln!(out)?;
            write_change(out, change, ctx)?;
        }
        writeln!(out)?;
    }
    notes(out, plan)?;
    if plan.is_empty() {
        writeln!(out, "{BOLD}{}{BOLD:#}", no_changes_line(ctx))
    } else {
        writeln!(out, "{BOLD}{}{BOLD:#}", plan_line(plan))
    }
}

fn header(out: &mut dyn Write, plan: &Plan) -> io::Result<()> {
    let c = &plan.census;
    let groups = match c.groups {
        Some(1) => ", 1 group".to_owned(),
        Some(n) => format!(", {n} groups"),
        None => String::new(),
    };
    writeln!(
        out,
        "{BOLD}Workspace \"{}\" ({}){BOLD:#}: {} people ({} owner, {} admins, {} members, {} guests; {} pending){groups}.",
        plan.workspace_name,
        plan.workspace_id,
        c.people,
        c.owners,
        c.admins,
        c.members,
        c.guests,
        c.pending
    )?;
    writeln!(
        out,
        "Mode: {}, max_removals: {}.",
        plan.mode.name(),
        plan.max_removals
    )?;
    writeln!(out)
}

fn notes(out: &mut dyn Write, plan: &Plan) -> io::Result<()> {
    let mut wrote = false;
    if !plan.unmanaged.is_empty() {
        writeln!(
            out,
            "{DIM}Unmanaged, left alone ({}): {}{DIM:#}",
            plan.unmanaged.len(),
            join(&plan.unmanaged)
        )?;
        wrote = true;
    }
    if !plan.pending.is_empty() {
        writeln!(
            out,
            "{DIM}Pending invitations ({}): {}{DIM:#}",
            plan.pending.len(),
            join(&plan.pending)
        )?;
        wrote = true;
    }
    if wrote {
        writeln!(out)?;
    }
    Ok(())
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn write_change(out: &mut dyn Write, change: &Change, ctx: &Context) -> io::Result<()> {
    match change {
        Change::Invite(invite) => {
            let kind = invite.seat.kind().key();
            writeln!(
                out,
                "  {ADD}+ invite {kind}{ADD:#} {BOLD}{}{BOLD:#}",
                invite.email
            )?;
            seat(out, &invite.seat)
        }
        Change::Replace(replace) => {
            writeln!(
                out,
                "{REPLACE}-/+ replace{REPLACE:#} {BOLD}{}{BOLD:#} ({})",
                replace.email, replace.user_id
            )?;
            comment(out, replace_reason(replace.reason))?;
            match &replace.seat {
                Seat::Member { role } => attr(
                    out,
                    "role",
                    &format!("\"{}\"", replace.from),
                    &format!("\"{role}\""),
                ),
                Seat::Guest { .. } => {
                    attr(out, "role", &format!("\"{}\"", replace.from), "guest")?;
                    seat(out, &replace.seat)
                }
            }
        }
        Change::UpdateMember(update) => {
            writeln!(
                out,
                "  {CHANGE}~ update member{CHANGE:#} {BOLD}{}{BOLD:#} ({})",
                update.email, update.user_id
            )?;
            attr(
                out,
                "role",
                &format!("\"{}\"", update.from),
                &format!("\"{}\"", update.to),
            )
        }
        Change::UpdateGuest(update) => {
            writeln!(
                out,
                "  {CHANGE}~ update guest{CHANGE:#} {BOLD}{}{BOLD:#} ({})",
                update.email, update.user_id
            )?;
            for flag in &update.permissions {
                let from = flag.from.map_or("(unset)".to_owned(), |b| b.to_string());
                attr(out, flag.flag.key(), &from, &flag.to.to_string())?;
            }
            if let Some(role) = &update.custom_role {
                let from = role
                    .from
                    .as_ref()
                    .map_or("(none)".to_owned(), |r| format!("\"{r}\""));
                attr(out, "custom_role", &from, &format!("\"{}\"", role.to.name))?;
            }
            for share in &update.shares {
                match share {
                    ShareChange::Add(s) => writeln!(
                        out,
                        "      access: {ADD}+{ADD:#} {} \"{}\"",
                        s.target,
                        s.permission.key()
                    )?,
                    ShareChange::Change { target, from, to } => writeln!(
                        out,
                        "      access: {CHANGE}~{CHANGE:#} {target} \"{}\" -> \"{}\"",
                        from.key(),
                        to.key()
                    )?,
                    ShareChange::Remove(s) => writeln!(
                        out,
                        "      access: {REMOVE}-{REMOVE:#} {} \"{}\"",
                        s.target,
                        s.permission.key()
                    )?,
                }
            }
            Ok(())
        }
        Change::Remove(remove) => {
            let pending = if remove.pending {
                ", pending invitation"
            } else {
                ""
            };
            writeln!(
                out,
                "  {REMOVE}- remove {}{REMOVE:#} {BOLD}{}{BOLD:#} ({}{pending})",
                remove.kind.key(),
                remove.email,
                remove.user_id
            )?;
            comment(out, &remove_reason(remove.reason, ctx))
        }
        Change::CreateGroup(create) => {
            writeln!(
                out,
                "  {ADD}+ create group{ADD:#} {BOLD}{}{BOLD:#}",
                create.name
            )?;
            if let Some(handle) = &create.handle {
                writeln!(out, "      handle: \"{handle}\"")?;
            }
            writeln!(out, "      members: {}", join_or_none(&create.members))
        }
        Change::UpdateGroup(update) => {
            writeln!(
                out,
                "  {CHANGE}~ update group{CHANGE:#} {BOLD}{}{BOLD:#} ({})",
                update.name, update.group_id
            )?;
            if let Some((from, to)) = &update.handle {
                let from = from
                    .as_ref()
                    .map_or("(none)".to_owned(), |h| format!("\"{h}\""));
                attr(out, "handle", &from, &format!("\"{to}\""))?;
            }
            for email in &update.add {
                writeln!(out, "      {ADD}+{ADD:#} {email}")?;
            }
            for (_, email) in &update.remove {
                writeln!(out, "      {REMOVE}-{REMOVE:#} {email}")?;
            }
            Ok(())
        }
        Change::DeleteGroup(delete) => {
            writeln!(
                out,
                "  {REMOVE}- delete group{REMOVE:#} {BOLD}{}{BOLD:#} ({})",
                delete.name, delete.group_id
            )?;
            let members = match delete.members {
                1 => "1 member".to_owned(),
                n => format!("{n} members"),
            };
            comment(
                out,
                &format!("{}; it has {members}", remove_reason(delete.reason, ctx)),
            )
        }
    }
}

fn seat(out: &mut dyn Write, seat: &Seat) -> io::Result<()> {
    match seat {
        Seat::Member { role } => {
            writeln!(out, "      role: \"{role}\"")
        }
        Seat::Guest {
            permissions,
            custom_role,
            shares,
        } => {
            guest_permissions(out, permissions)?;
            if let Some(role) = custom_role {
                writeln!(out, "      custom_role: \"{}\"", role.name)?;
            }
            for share in shares {
                writeln!(
                    out,
                    "      access: {ADD}+{ADD:#} {} \"{}\"",
                    share.target,
                    share.permission.key()
                )?;
            }
            Ok(())
        }
    }
}

fn guest_permissions(out: &mut dyn Write, permissions: &GuestPermissions) -> io::Result<()> {
    for (flag, value) in permissions.set_flags() {
        writeln!(out, "      {}: {value}", flag.key())?;
    }
    Ok(())
}

fn attr(out: &mut dyn Write, name: &str, from: &str, to: &str) -> io::Result<()> {
    writeln!(out, "      {name}: {from} {CHANGE}->{CHANGE:#} {to}")
}

fn comment(out: &mut dyn Write, text: &str) -> io::Result<()> {
    writeln!(out, "      {DIM}# {text}{DIM:#}")
}

fn join_or_none<T: std::fmt::Display>(items: &[T]) -> String {
    if items.is_empty() {
        "(none)".to_owned()
    } else {
        join(items)
    }
}
