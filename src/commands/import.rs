//! `import`: write a members file from the live Workspace (or a snapshot).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::clickup::Workspace;
use crate::clock;
use crate::commands::Error;
use crate::commands::targets::{Connection, check_workspace_id, open_backend, open_http};
use crate::commands::{Common, Exit, display_path};
use crate::engine::{self, read_whole};
use crate::format::{self, Header};
use crate::fsutil;
use crate::model::BaseRole;
use crate::render::count;
use crate::stop::StopSignal;

#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// `None`: every Workspace the token reaches, one file each in the folder `out`.
    pub(crate) workspace: Option<String>,
    pub(crate) out: Option<PathBuf>,
    pub(crate) force: bool,
    pub(crate) with_guest_shares: bool,
    pub(crate) schema: String,
}

pub(crate) async fn run(common: &Common, options: &Options) -> Result<Exit, Error> {
    match (&options.workspace, &options.out) {
        (Some(id), out) => one(common, options, id, out.as_deref()).await,
        (None, Some(dir)) => every(common, options, dir).await,
        (None, None) => Err(Error::Usage(
            "import needs --workspace ID, or --out DIR".to_owned(),
        )),
    }
}

/// `import --out DIR`: a file for each Workspace the token reaches (or each snapshot
/// `<id>.json` of `--snapshot DIR`), named after the Workspace, ready for `-f DIR`.
async fn every(common: &Common, options: &Options, dir: &Path) -> Result<Exit, Error> {
    let workspaces: Vec<(String, String)> = match &common.snapshot {
        Some(snapshots) => {
            let entries = std::fs::read_dir(snapshots)
                .map_err(|e| Error::io("read the snapshot folder", snapshots, e))?;
            let mut ids: Vec<(String, String)> = entries
                .flatten()
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let id = name.strip_suffix(".json")?;
                    id.chars()
                        .all(|c| c.is_ascii_digit())
                        .then(|| (id.to_owned(), snapshot_name(&e.path())))
                })
                .collect();
            ids.sort();
            ids
        }
        None => {
            // Only `GET /team` is sent: any id opens the client.
            let client = open_http(
                common,
                "0",
                &StopSignal::default(),
                Connection::for_option(),
            )?;
            client
                .visible()
                .await
                .map_err(|error| engine::Error::Read {
                    what: "the Workspaces the token reaches".to_owned(),
                    from: Some(client.describe()),
                    error: Box::new(error),
                })?
        }
    };
    if workspaces.is_empty() {
        return Err(Error::Usage(
            "there is no Workspace to import: the token reaches none".to_owned(),
        ));
    }
    refuse_links(dir)?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io("make the folder", dir, e))?;
    let mut used: Vec<String> = Vec::new();
    let mut failed = Vec::new();
    for (id, name) in &workspaces {
        let mut stem = slug(name);
        if stem.is_empty() || used.contains(&stem) {
            stem = if stem.is_empty() {
                id.clone()
            } else {
                format!("{stem}-{id}")
            };
        }
        used.push(stem.clone());
        let path = dir.join(format!("{stem}.yaml"));
        let each = Common {
            snapshot: common
                .snapshot
                .as_ref()
                .map(|snapshots| snapshots.join(format!("{id}.json"))),
            ..common.clone()
        };
        // One that cannot be read does not stop the others.
        if let Err(e) = one(&each, options, id, Some(&path)).await {
            failed.push(e);
        }
    }
    if !failed.is_empty() {
        return Err(Error::Several {
            summary: format!(
                "{} of the {} Workspaces could not be imported; the others were written to {}",
                failed.len(),
                workspaces.len(),
                display_path(dir)
            ),
            errors: failed,
        });
    }
    if !common.quiet {
        let mut out = crate::console::stdout();
        writeln!(
            out,
            "Check them all with `clickup-members plan -f {}`.",
            display_path(dir)
        )?;
    }
    Ok(Exit::Success)
}

/// Refuses a path `import` would write through a symbolic link: the file itself (a dangling
/// link too), or a folder on the way to it that the path names relative to here. A link
/// planted in a repository would have the import write wherever it leads.
fn refuse_links(path: &Path) -> Result<(), Error> {
    let on_the_way: Vec<&Path> = if path.is_absolute() {
        path.parent().into_iter().chain([path]).collect()
    } else {
        path.ancestors()
            .filter(|p| !p.as_os_str().is_empty())
            .collect()
    };
    for each in on_the_way {
        let link = std::fs::symlink_metadata(each).is_ok_and(|m| m.file_type().is_symlink());
        if link {
            return Err(Error::Usage(format!(
                "{} is a symbolic link; import does not write through links (one may lead anywhere): remove it, or give --out a path without links",
                display_path(each)
            )));
        }
    }
    Ok(())
}

/// The Workspace's name in a snapshot file, or nothing when it cannot be read.
fn snapshot_name(path: &Path) -> String {
    #[derive(serde::Deserialize)]
    struct Doc {
        team: Team,
    }
    #[derive(serde::Deserialize)]
    struct Team {
        #[serde(default)]
        name: String,
    }
    fsutil::open_regular(path)
        .ok()
        .and_then(|f| serde_json::from_reader::<_, Doc>(std::io::BufReader::new(f)).ok())
        .map(|doc| doc.team.name)
        .unwrap_or_default()
}

/// `Acme EU` → `acme-eu`: a file name from a Workspace's name.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

/// Imports Workspace `id` into `out`, or to standard output.
async fn one(
    common: &Common,
    options: &Options,
    id: &str,
    out: Option<&Path>,
) -> Result<Exit, Error> {
    let id = &id.to_owned();
    check_workspace_id(id)?;
    if let Some(out) = out {
        refuse_links(out)?;
    }
    if let Some(out) = out
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
        .map_err(|error| engine::Error::Read {
            what: format!("Workspace {id}"),
            from: Some(backend.describe()),
            error: Box::new(error),
        })?;
    if doc.team.id != *id {
        return Err(engine::Error::OtherWorkspace {
            from: backend.describe(),
            found: doc.team.id,
            wanted: id.clone(),
        }
        .into());
    }
    let live = doc.to_live();
    let header = Header {
        schema: options.schema.clone(),
        date: clock::now_rfc3339().chars().take(10).collect(),
    };
    let text = format::import(&live, &header);
    match out {
        None => {
            let mut out = crate::console::stdout();
            out.write_all(text.as_bytes())?;
        }
        Some(path) => {
            // `--out clickup/members.yaml` in a new repository: the folder is made too.
            let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
            parent
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| fsutil::write_atomic_unfollowed(path, text.as_bytes()))
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
                    "Wrote {}: {}, {}, {} of Workspace \"{}\".\nCheck it with `clickup-members plan -f {}{}`: it shows no changes.",
                    display_path(path),
                    count(live.people.len() - guests, "member", "members"),
                    count(guests, "guest", "guests"),
                    count(live.groups.as_ref().map_or(0, Vec::len), "group", "groups"),
                    crate::escape::visible(&live.workspace_name),
                    display_path(path),
                    // Offline, the plan that shows no changes is against the same snapshot.
                    common
                        .snapshot
                        .as_deref()
                        .map_or(String::new(), |s| format!(
                            " --snapshot {}",
                            display_path(s)
                        ))
                )?;
            }
        }
    }
    Ok(Exit::Success)
}
