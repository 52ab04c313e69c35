//! `snapshot`: save the live Workspace in the snapshot format (SPEC §4).

use std::io::Write;
use std::path::PathBuf;

use crate::clickup::Workspace;
use crate::commands::Error;
use crate::commands::targets::{Connection, check_workspace_id, open_http};
use crate::commands::{Common, Exit, display_path};
use crate::engine::{self, read_whole};
use crate::fsutil;
use crate::render::count;
use crate::stop::StopSignal;

/// How `snapshot` was asked to run.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) workspace: String,
    pub(crate) out: PathBuf,
    /// Also read what is shared with each guest (one request per guest).
    pub(crate) with_guest_shares: bool,
}

pub(crate) async fn run(common: &Common, options: &Options) -> Result<Exit, Error> {
    let (workspace_id, out) = (&options.workspace, &options.out);
    check_workspace_id(workspace_id)?;
    let workspace = open_http(
        common,
        workspace_id,
        &StopSignal::default(),
        Connection::for_option(),
    )?;
    let mut doc = read_whole(&workspace, options.with_guest_shares)
        .await
        .map_err(|error| engine::Error::Read {
            what: format!("Workspace {workspace_id}"),
            from: None,
            error: Box::new(error),
        })?;
    // The subscription and seats, so that a rehearsal on the snapshot plans as ClickUp would.
    let subscription = workspace.subscription().await;
    match subscription.plan {
        Ok(plan) => doc.plan = plan,
        Err(e) => crate::console::warning(&format!(
            "the snapshot has no plan: cannot read the Workspace's plan ({e})"
        )),
    }
    match subscription.seats {
        Ok(seats) => doc.seats = seats,
        Err(e) => crate::console::warning(&format!(
            "the snapshot has no seats: cannot read the Workspace's seats ({e})"
        )),
    }
    fsutil::write_private(out, &doc.to_json()).map_err(|e| Error::io("write", out, e))?;
    if !common.quiet {
        let live = doc.to_live();
        let mut stdout = crate::console::stdout();
        writeln!(
            stdout,
            "Saved Workspace \"{}\" ({}) to {}: {}, {}, {}.",
            crate::escape::visible(&live.workspace_name),
            live.workspace_id,
            display_path(out),
            count(
                live.people.len() + live.unknown_roles.len(),
                "person",
                "people"
            ),
            count(live.groups.as_ref().map_or(0, Vec::len), "group", "groups"),
            count(
                live.custom_roles.as_ref().map_or(0, Vec::len),
                "custom role",
                "custom roles"
            )
        )?;
    }
    Ok(Exit::Success)
}
