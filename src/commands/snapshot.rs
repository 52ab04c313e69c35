//! `snapshot`: save the live Workspace in the snapshot format (SPEC §4).

use std::io::Write;
use std::path::Path;

use crate::clickup::Workspace;
use crate::commands::Common;
use crate::commands::prepare::{check_workspace_id, open_http, read_whole};
use crate::commands::{Exit, Stop, display_path};
use crate::fsutil;
use crate::stop::StopSignal;

pub(crate) async fn run(
    common: &Common,
    workspace_id: &str,
    out: &Path,
    with_guest_shares: bool,
) -> Result<Exit, Stop> {
    check_workspace_id(workspace_id)?;
    let workspace = open_http(common, workspace_id, &StopSignal::default())?;
    let mut doc = read_whole(&workspace, with_guest_shares)
        .await
        .map_err(|e| Stop::Error(format!("cannot read Workspace {workspace_id}: {e}")))?;
    // The subscription and seats, so that a rehearsal on the snapshot plans as ClickUp would.
    match workspace.subscription().await {
        Ok((plan, seats)) => (doc.plan, doc.seats) = (plan, seats),
        Err(e) => crate::console::warning(&format!(
            "the snapshot has no plan and seats: cannot read them ({e})"
        )),
    }
    fsutil::write_private(out, &doc.to_json())
        .map_err(|e| Stop::Error(format!("cannot write {}: {e}", display_path(out))))?;
    if !common.quiet {
        let live = doc.to_live();
        let mut stdout = crate::console::stdout();
        writeln!(
            stdout,
            "Saved Workspace \"{}\" ({}) to {}: {} people, {} groups, {} custom roles.",
            live.workspace_name,
            live.workspace_id,
            display_path(out),
            live.people.len() + live.unknown_roles.len(),
            live.groups.as_ref().map_or(0, Vec::len),
            live.custom_roles.as_ref().map_or(0, Vec::len)
        )?;
    }
    Ok(Exit::Success)
}
