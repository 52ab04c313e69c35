//! `report`: the access review of the live Workspace (or `--snapshot`) against the file, as
//! text, CSV, JSON or markdown. Changes nothing and writes no state.

use crate::commands::progress::Warnings;
use crate::commands::source::{Client, Refresh, heard_inputs};
use crate::commands::{Common, Exit};
use crate::engine::{self, Error};
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
    let (rows, heading) = review(common, None, options, Client::default()).await?;
    print(options.format, &rows, &heading)?;
    Ok(Exit::Success)
}

/// The review of one Workspace file, and what its summary names. `decoded`: the file, when it
/// was read already.
pub(crate) async fn review(
    common: &Common,
    decoded: Option<crate::config::Decoded>,
    options: &Options,
    client: Client,
) -> Result<(Vec<core::Row>, Heading), Error> {
    let inputs = engine::Inputs {
        read_all: true,
        decoded,
        ..heard_inputs(common, Refresh::Read, true, &StopSignal::default(), client)
    };
    let now = inputs.now;
    let planned = engine::plan(inputs, &mut Warnings).await?;
    let doc = planned.doc.as_ref().ok_or(Error::Internal(
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
