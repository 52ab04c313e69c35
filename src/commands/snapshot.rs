//! `snapshot`: save the live Workspace in the snapshot format (SPEC §4).

use std::io::Write;
use std::path::Path;

use crate::cli::Common;
use crate::commands::prepare::open_http;
use crate::commands::{Exit, Stop, display_path};
use crate::fsutil;
use crate::model::{BaseRole, Email};
use crate::stop::StopSignal;
use crate::workspace::{ReadNeeds, Workspace};

pub(crate) async fn run(
    common: &Common,
    workspace_id: &str,
    out: &Path,
    with_guest_shares: bool,
) -> Result<Exit, Stop> {
    if workspace_id.is_empty() || !workspace_id.chars().all(|c| c.is_ascii_digit()) {
        return Err(Stop::Error(format!(
            "--workspace must be the Workspace's numeric id, not \"{workspace_id}\""
        )));
    }
    let workspace = open_http(common, workspace_id, &StopSignal::default())?;
    let mut needs = ReadNeeds {
        custom_roles: true,
        groups: true,
        ..ReadNeeds::default()
    };
    if with_guest_shares {
        // The guests are known only after the first read.
        let first = workspace
            .read(&ReadNeeds::default())
            .await
            .map_err(|e| Stop::Error(format!("cannot read Workspace {workspace_id}: {e}")))?;
        needs.guest_shares = first
            .team
            .members
            .iter()
            .filter(|m| m.user.role == BaseRole::Guest.code())
            .map(|m| Email::from_live(&m.user.email))
            .collect();
    }
    let doc = workspace
        .read(&needs)
        .await
        .map_err(|e| Stop::Error(format!("cannot read Workspace {workspace_id}: {e}")))?;
    fsutil::write_private(out, &doc.to_json())
        .map_err(|e| Stop::Error(format!("cannot write {}: {e}", display_path(out))))?;
    if !common.quiet {
        let live = doc.to_live();
        let mut stdout = anstream::stdout().lock();
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
