//! `plan`: print the plan as text, JSON or markdown, and save it with `--out`. Never writes the
//! state.
//!
//! A pull request must always show something: a plan that apply would refuse is printed with
//! the reasons at its top, and when no plan can be made at all the markdown (and the GitHub
//! step summary) still says why.

use std::io::Write;
use std::path::PathBuf;

use crate::commands::ci::{apply_command, step_summary};
use crate::commands::progress::Warnings;
use crate::commands::source::{Refresh, inputs};
use crate::commands::{Common, Exit, Format, display_path, problems};
use crate::console::warning;
use crate::engine::{self, Error};
use crate::fsutil;
use crate::render::{self, Context, json};
use crate::stop::StopSignal;

/// How `plan` was asked to run.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) out: Option<PathBuf>,
    pub(crate) format: Format,
    pub(crate) detailed_exitcode: bool,
    pub(crate) refresh: Refresh,
    /// The apply that follows will accept replaces: the plan does not warn that it refuses them.
    pub(crate) allow_replace: bool,
}

pub(crate) async fn run(common: &Common, options: &Options) -> Result<Exit, Error> {
    let saved_plan = options.out.as_deref().map(display_path);
    let inputs = inputs(common, options.refresh, false, &StopSignal::default());
    let planned = match engine::plan(inputs, &mut Warnings).await {
        Ok(planned) => planned,
        Err(stop) => return without_plan(common, options, saved_plan, stop),
    };
    let ctx = Context {
        saved_plan,
        ..planned.context()
    };
    let json_plan = planned.json(options.allow_replace);
    let mut document = Vec::with_capacity(1 << 16);
    match options.format {
        Format::Text => render::text(&mut document, &json_plan, &ctx)?,
        Format::Json => json::write(&mut document, &json_plan)?,
        Format::Markdown => render::markdown(&mut document, &json_plan, &ctx)?,
    }
    crate::console::write_styled(&document)?;
    step_summary(|out| render::markdown(out, &json_plan, &ctx));
    if let Some(refusal) = planned.refusal() {
        if let Some(path) = &options.out {
            warning(&format!(
                "the plan was not saved to {}: apply refuses it",
                display_path(path)
            ));
        }
        return Err(refusal);
    }
    if let Some(path) = &options.out {
        let mut bytes = Vec::new();
        let saved = json::JsonPlan {
            file: fsutil::relative(&common.file, fsutil::folder_of(path)),
            ..json_plan.clone()
        };
        json::write(&mut bytes, &saved.sealed())?;
        fsutil::write_private(path, &bytes).map_err(|e| Error::io("save the plan to", path, e))?;
        if !common.quiet && options.format == Format::Text {
            let mut stdout = crate::console::stdout();
            writeln!(
                stdout,
                "\nSaved the plan to {}. Apply exactly this plan with:\n    {}",
                display_path(path),
                apply_command(
                    common,
                    path,
                    options.allow_replace && !planned.replaces().is_empty()
                )
            )?;
            if !json_plan.refused.is_empty() {
                writeln!(
                    stdout,
                    "(add --allow-replace once you accept that it replaces people)"
                )?;
            }
        }
    }
    // A plan apply would refuse is a failed plan, whatever the reason: a CI gate on the exit
    // code must not let it through. (It is saved all the same: `apply --allow-replace` takes
    // it.)
    let replaces = planned.replaces();
    if !options.allow_replace && !replaces.is_empty() {
        return Err(Error::ReplaceNotAllowed(replaces));
    }
    // The process ends with this command: the operating system takes the models of the file
    // and the Workspace back at once, where freeing them piece by piece takes a while for a
    // large Workspace.
    std::mem::forget(planned);
    Ok(if options.detailed_exitcode && !json_plan.is_empty() {
        Exit::Changes
    } else {
        Exit::Success
    })
}

/// No plan could be made: the markdown of a pull request says why. With `--refresh=false`
/// and no Workspace recorded yet, that is not a failure.
fn without_plan(
    common: &Common,
    options: &Options,
    saved_plan: Option<String>,
    stop: Error,
) -> Result<Exit, Error> {
    let ctx = Context {
        saved_plan,
        ..Context::for_file(&common.file)
    };
    let problems = problems(&stop);
    let nothing_recorded = matches!(stop, Error::NothingRecorded { .. });
    let render =
        |out: &mut dyn Write| render::markdown_without_plan(out, &ctx, &problems, nothing_recorded);
    if options.format == Format::Markdown {
        let mut stdout = crate::console::stdout();
        render(&mut stdout)?;
        stdout.flush()?;
    }
    step_summary(render);
    if nothing_recorded {
        crate::console::note(&problems.summary);
        return Ok(Exit::Success);
    }
    Err(stop)
}
