//! `report`: the access review of each Workspace's run (live, or `--snapshot`) against its
//! file, as text, CSV, JSON or markdown; a folder's rows each start with their Workspace, and
//! one Workspace that cannot be read does not cost the others their rows (it is named in
//! place and on standard error, exit 1). Changes nothing and writes no state.

use crate::commands::Error;
use crate::commands::progress::Warnings;
use crate::commands::targets::{Connection, Refresh, targets};
use crate::commands::{Common, Exit, display_path, problems};
use crate::engine::{self, Outcome, Purpose};
use crate::render::count;
use crate::review::render::{self, Heading, Subject};
use crate::review::{self as core, Sources};
use crate::stop::StopSignal;

/// How `report` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    Text,
    Csv,
    Json,
    Markdown,
}

/// How `report` was asked to run.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) format: Format,
    pub(crate) inactive_days: u32,
}

pub(crate) async fn run(common: &Common, options: &Options) -> Result<Exit, Error> {
    let targets = targets(common)?;
    let (folder, total) = (targets.folder, targets.files.len());
    let (connection, stop) = (Connection::default(), StopSignal::default());
    let mut all = Vec::new();
    let mut day = None;
    let mut unreviewed = Vec::new();
    let mut failures = Vec::new();
    let mut subject = None;
    for each in targets.files {
        let id = each.workspace_id().unwrap_or_default().to_owned();
        let file = display_path(&each.options.file);
        let target = each.target(Refresh::Read, &stop, connection.clone());
        let reviewed = review(target, options).await;
        let (rows, heading) = match reviewed {
            Ok(made) => made,
            // One Workspace that cannot be read does not cost the others their rows.
            Err(e) if folder => {
                unreviewed.push(format!(
                    "Workspace {id} ({file}) was not reviewed: {}",
                    problems(&e).summary
                ));
                failures.push(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        day = Some(heading.day);
        subject = Some(heading.subject);
        all.extend(rows.into_iter().map(|row| core::Row {
            workspace: folder.then(|| id.clone()),
            ..row
        }));
    }
    let subject = match (folder, subject) {
        (false, Some(subject)) => subject,
        _ => Subject::Folder {
            path: display_path(&common.file),
            workspaces: total,
        },
    };
    let heading = Heading {
        subject,
        day: day.unwrap_or_else(|| crate::clock::now().date()),
        inactive_days: options.inactive_days,
        unreviewed,
    };
    print(options.format, &all, &heading)?;
    if failures.is_empty() {
        return Ok(Exit::Success);
    }
    Err(Error::Several {
        summary: format!(
            "{} of {} could not be reviewed; {}",
            failures.len(),
            count(total, "Workspace", "Workspaces"),
            match total - failures.len() {
                0 => "no row was written",
                1 => "the rows of the other were written",
                _ => "the rows of the others were written",
            }
        ),
        errors: failures,
    })
}

/// The review of one Workspace, and what its summary names.
async fn review(
    target: engine::Target<crate::clickup::Backend>,
    options: &Options,
) -> Result<(Vec<core::Row>, Heading), Error> {
    let now = target.now;
    let Outcome::Planned(planned) = engine::run(target, Purpose::Review, &mut Warnings).await?
    else {
        return Err(Error::internal("a review applied changes"));
    };
    let doc = planned.doc.as_ref().ok_or(Error::internal(
        "the Workspace was read without its document",
    ))?;
    let managed = planned
        .state
        .as_ref()
        .map(crate::state::State::managed)
        .unwrap_or_default();
    let rows = core::rows(
        Sources {
            file: &planned.loaded.file,
            live: &planned.live,
            doc,
            plan: &planned.plan,
            managed: &managed,
        },
        core::Options {
            now,
            inactive_days: options.inactive_days,
        },
    );
    let heading = Heading {
        subject: Subject::Workspace {
            name: planned.live.workspace_name.clone(),
            id: planned.live.workspace_id.clone(),
        },
        day: now.date(),
        inactive_days: options.inactive_days,
        unreviewed: Vec::new(),
    };
    Ok((rows, heading))
}

/// Writes the review in `format` to standard output at once.
pub(crate) fn print(format: Format, rows: &[core::Row], heading: &Heading) -> Result<(), Error> {
    let mut document = Vec::with_capacity(1 << 20);
    match format {
        Format::Text => render::text(&mut document, rows, heading)?,
        Format::Csv => render::csv(&mut document, rows)?,
        Format::Json => render::json(&mut document, rows)?,
        Format::Markdown => render::markdown(&mut document, rows, heading)?,
    }
    crate::console::write_styled(&document)?;
    Ok(())
}
