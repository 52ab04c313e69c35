//! `plan`: print the plan as text, JSON or markdown, and save it with `--out`. Never writes the
//! state.

use std::io::Write;
use std::path::PathBuf;

use crate::cli::{Common, Format};
use crate::commands::prepare::prepare;
use crate::commands::{Exit, Stop, display_path, warning};
use crate::fsutil;
use crate::render::{self, json};
use crate::state::State;
use crate::stop::StopSignal;

pub(crate) async fn run(
    common: &Common,
    out: Option<PathBuf>,
    format: Format,
    detailed_exitcode: bool,
    refresh: bool,
) -> Result<Exit, Stop> {
    let prepared = prepare(common, refresh, false, &StopSignal::default()).await?;
    let plan = &prepared.plan;
    let ctx = &prepared.ctx;
    let json_plan = json::to_json(plan, state_ref(prepared.state.as_ref()), ctx);
    {
        let mut stdout = anstream::stdout().lock();
        match format {
            Format::Text => render::text(&mut stdout, &json_plan, ctx)?,
            Format::Json => json::write(&mut stdout, &json_plan)?,
            Format::Markdown => render::markdown(&mut stdout, &json_plan, ctx)?,
        }
        stdout.flush()?;
    }
    // In a GitHub Actions job, the plan also goes to the job's summary page.
    if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        let mut text = Vec::new();
        render::markdown(&mut text, &json_plan, ctx)?;
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&summary)
            .and_then(|mut file| file.write_all(&text));
        if let Err(e) = appended {
            warning(&format!(
                "cannot append the plan to GITHUB_STEP_SUMMARY ({}): {e}",
                std::path::Path::new(&summary).display()
            ));
        }
    }
    if let Some(path) = out {
        let mut bytes = Vec::new();
        json::write(&mut bytes, &json_plan)?;
        fsutil::write_private(&path, &bytes).map_err(|e| {
            Stop::Error(format!(
                "cannot save the plan to {}: {e}",
                display_path(&path)
            ))
        })?;
        if !common.quiet && format == Format::Text {
            let mut stdout = anstream::stdout().lock();
            writeln!(
                stdout,
                "\nSaved the plan to {}. Apply exactly this plan with:\n    clickup-members apply {}",
                display_path(&path),
                display_path(&path)
            )?;
        }
    }
    Ok(if detailed_exitcode && !plan.is_empty() {
        Exit::Changes
    } else {
        Exit::Success
    })
}

pub(crate) fn state_ref(state: Option<&State>) -> Option<json::JsonStateRef> {
    state.map(|s| json::JsonStateRef {
        lineage: s.lineage.clone(),
        serial: s.serial,
    })
}
