//! `show`: a saved plan printed as `plan` printed it, or the state file's summary.

use std::io::Write;
use std::path::Path;

use crate::commands::{Common, Exit, Format, display_path};
use crate::engine::{Error, read_saved_plan};
use crate::render::{self, Context, json};
use crate::state::{ManagedPerson, PersonStatus, State};

pub(crate) fn run(common: &Common, plan: Option<&Path>, format: Format) -> Result<Exit, Error> {
    match plan {
        Some(path) => show_plan(common, path, format),
        None => show_state(common),
    }
}

fn show_plan(common: &Common, path: &Path, format: Format) -> Result<Exit, Error> {
    let plan = read_saved_plan(path)?;
    let ctx = Context::for_file(&common.file);
    let mut out = crate::console::stdout();
    match format {
        Format::Text => render::text(&mut out, &plan, &ctx)?,
        Format::Json => json::write(&mut out, &plan)?,
        Format::Markdown => render::markdown(&mut out, &plan, &ctx)?,
    }
    Ok(Exit::Success)
}

fn show_state(common: &Common) -> Result<Exit, Error> {
    let path = &common.state;
    let Some(state) = State::read(path)? else {
        return Err(Error::NoState(path.clone()));
    };
    // Names in the state come from ClickUp: written here, then shown with their control
    // characters escaped.
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
        .map_or(String::new(), |s| format!(" \"{}\"", s.team.name));
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
        "Managed: {} members ({} pending), {} guests ({} pending), {} groups",
        state.members.len(),
        pending(&state.members),
        state.guests.len(),
        pending(&state.guests),
        state.groups.len()
    )?;
    for (title, people) in [("Members", &state.members), ("Guests", &state.guests)] {
        if people.is_empty() {
            continue;
        }
        writeln!(out, "\n{title}:")?;
        let width = people.keys().map(|e| e.as_str().len()).max().unwrap_or(0);
        let role_width = people.values().map(|p| p.role.len()).max().unwrap_or(0);
        for (email, person) in people {
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
                "  {:<width$}  {:<role_width$}  {:>10}  {status}{invited}",
                email.as_str(),
                person.role,
                person.user_id
            )?;
        }
    }
    if !state.groups.is_empty() {
        writeln!(out, "\nGroups:")?;
        for (name, group) in &state.groups {
            writeln!(out, "  {name}  ({})", group.group_id)?;
        }
    }
    let text = String::from_utf8_lossy(&out);
    crate::console::stdout().write_all(crate::escape::visible_lines(&text).as_bytes())?;
    Ok(Exit::Success)
}
