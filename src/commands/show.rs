//! `show`: a saved plan printed as `plan` printed it, or the state file's summary.

use std::io::Write;
use std::path::Path;

use crate::commands::Error;
use crate::commands::{Common, Exit, Format, display_path};
use crate::engine::{SavedDoc, read_saved};
use crate::render::{self, Context, count, json};
use crate::state::{ManagedPerson, PersonStatus, State};

pub(crate) fn run(common: &Common, plan: Option<&Path>, format: Format) -> Result<Exit, Error> {
    match plan {
        Some(path) => show_plan(common, path, format),
        None => show_state(common),
    }
}

fn show_plan(common: &Common, path: &Path, format: Format) -> Result<Exit, Error> {
    let mut document = Vec::new();
    match read_saved(path)? {
        SavedDoc::One(plan) => one(&mut document, common, &plan, format)?,
        SavedDoc::Folder(all) => {
            if format == Format::Json {
                serde_json::to_writer_pretty(&mut document, &all).map_err(std::io::Error::other)?;
                writeln!(document)?;
            } else {
                for plan in &all.workspaces {
                    let file = plan.file.as_deref().unwrap_or("(a Workspace file)");
                    if format == Format::Markdown {
                        writeln!(document, "## `{}`\n", file.replace('`', "'"))?;
                    } else {
                        let title = crate::commands::targets::heading(
                            Path::new(file),
                            &plan.workspace.id,
                            Some(&plan.workspace.name),
                        );
                        writeln!(document, "=== {title} ===\n")?;
                    }
                    one(&mut document, common, plan, format)?;
                    writeln!(document)?;
                }
                writeln!(
                    document,
                    "{}",
                    crate::commands::plan::total_line(&all.workspaces, all.workspaces.len())
                )?;
            }
        }
    }
    crate::console::write_styled(&document)?;
    Ok(Exit::Success)
}

/// One saved plan, as `plan` printed it: named after the file it records it was made from.
fn one(
    out: &mut dyn Write,
    common: &Common,
    plan: &json::JsonPlan,
    format: Format,
) -> Result<(), Error> {
    let ctx = match &plan.file {
        Some(file) => Context::for_file(Path::new(file)),
        None => Context::for_file(&common.file),
    };
    match format {
        Format::Text => render::text(out, plan, &ctx)?,
        Format::Json => json::write(out, plan)?,
        Format::Markdown => render::markdown(out, plan, &ctx)?,
    }
    Ok(())
}

fn show_state(common: &Common) -> Result<Exit, Error> {
    let path = &common.state;
    let Some(state) = State::read(path)? else {
        return Err(crate::engine::Error::NoState(path.clone()).into());
    };
    // Names in the state come from ClickUp: each is escaped as the plan escapes it, so that a
    // line feed in one cannot start a line of its own.
    let shown = |text: &str| crate::escape::visible(text).into_owned();
    let mut out: Vec<u8> = Vec::new();
    writeln!(
        out,
        "State {} (lineage {}, serial {})",
        display_path(path),
        state.lineage,
        state.serial
    )?;
    let workspace_name = state
        .snapshot
        .as_ref()
        .map_or(String::new(), |s| format!(" \"{}\"", shown(&s.team.name)));
    writeln!(
        out,
        "Workspace {}{workspace_name}, last apply {}",
        state.workspace_id,
        state.last_apply.as_deref().unwrap_or("never")
    )?;
    let pending = |people: &std::collections::BTreeMap<_, ManagedPerson>| {
        people
            .values()
            .filter(|p| p.status == PersonStatus::Pending)
            .count()
    };
    writeln!(
        out,
        "Managed: {} ({} pending), {} ({} pending), {}",
        count(state.members.len(), "member", "members"),
        pending(&state.members),
        count(state.guests.len(), "guest", "guests"),
        pending(&state.guests),
        count(state.groups.len(), "group", "groups")
    )?;
    for (title, people) in [("Members", &state.members), ("Guests", &state.guests)] {
        if people.is_empty() {
            continue;
        }
        writeln!(out, "\n{title}:")?;
        let rows: Vec<(String, String, &ManagedPerson)> = people
            .iter()
            .map(|(email, person)| (shown(email.as_str()), shown(&person.role), person))
            .collect();
        let width = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
        let role_width = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0);
        for (email, role, person) in &rows {
            let status = match person.status {
                PersonStatus::Pending => "pending",
                PersonStatus::Active => "active",
            };
            let invited = person
                .invited_at
                .as_deref()
                .map_or(String::new(), |t| format!("  invited {t}"));
            writeln!(
                out,
                "  {email:<width$}  {role:<role_width$}  {:>10}  {status}{invited}",
                person.user_id
            )?;
        }
    }
    if !state.groups.is_empty() {
        writeln!(out, "\nGroups:")?;
        for (name, group) in &state.groups {
            writeln!(out, "  {}  ({})", shown(name), shown(&group.group_id))?;
        }
    }
    crate::console::stdout().write_all(&out)?;
    Ok(Exit::Success)
}
