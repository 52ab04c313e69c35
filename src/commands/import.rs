//! `import`: write a members file from the live Workspace (or a snapshot).

use std::io::Write;
use std::path::PathBuf;

use crate::clickup::Workspace;
use crate::clock;
use crate::commands::source::{check_workspace_id, open_backend};
use crate::commands::{Common, Exit, display_path};
use crate::engine::{Error, read_whole};
use crate::format::{self, Header};
use crate::fsutil;
use crate::model::BaseRole;
use crate::stop::StopSignal;

#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) workspace: String,
    pub(crate) out: Option<PathBuf>,
    pub(crate) force: bool,
    pub(crate) with_guest_shares: bool,
    pub(crate) schema: String,
}

pub(crate) async fn run(common: &Common, options: &Options) -> Result<Exit, Error> {
    let id = &options.workspace;
    check_workspace_id(id)?;
    if let Some(out) = &options.out
        && out.exists()
        && !options.force
    {
        return Err(Error::Usage(format!(
            "{} exists; import does not overwrite it without --force",
            display_path(out)
        )));
    }
    let backend = open_backend(common, id, &StopSignal::default())?;
    let doc = read_whole(&backend, options.with_guest_shares)
        .await
        .map_err(|error| Error::Read {
            what: format!("Workspace {id}"),
            from: Some(backend.describe()),
            error: Box::new(error),
        })?;
    if doc.team.id != *id {
        return Err(Error::OtherWorkspace {
            from: backend.describe(),
            found: doc.team.id,
            wanted: id.clone(),
        });
    }
    let live = doc.to_live();
    let header = Header {
        schema: options.schema.clone(),
        date: clock::now_rfc3339().chars().take(10).collect(),
    };
    let text = format::import(&live, &header);
    match &options.out {
        None => {
            let mut out = crate::console::stdout();
            out.write_all(text.as_bytes())?;
        }
        Some(path) => {
            // `--out clickup/members.yaml` in a new repository: the folder is made too.
            let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
            parent
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| fsutil::write_atomic(path, text.as_bytes()))
                .map_err(|e| Error::io("write", path, e))?;
            if !common.quiet {
                let guests = live
                    .people
                    .iter()
                    .filter(|p| p.role == BaseRole::Guest)
                    .count();
                let mut out = crate::console::stdout();
                writeln!(
                    out,
                    "Wrote {}: {} members, {guests} guests, {} groups of Workspace \"{}\".\nCheck it with `clickup-members plan -f {}`: it shows no changes.",
                    display_path(path),
                    live.people.len() - guests,
                    live.groups.as_ref().map_or(0, Vec::len),
                    live.workspace_name,
                    display_path(path)
                )?;
            }
        }
    }
    Ok(Exit::Success)
}
