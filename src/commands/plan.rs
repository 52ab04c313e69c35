//! `plan`: each Workspace's run, planned and never applied, printed as text, JSON or markdown,
//! and saved with `--out`. Never writes the state. A folder prints a section per Workspace and
//! a total; its JSON and its saved plans hold every Workspace's plan.
//!
//! A pull request must always show something: a plan that apply would refuse is printed with
//! the reasons at its top, and when no plan can be made at all the markdown (and the GitHub
//! step summary) still says why.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::commands::Error;
use crate::commands::ci::{apply_command, step_summary};
use crate::commands::progress::Warnings;
use crate::commands::targets::{Connection, Refresh, targets};
use crate::commands::{Common, Exit, Format, display_path, problems};
use crate::console::warning;
use crate::engine::{self, Outcome, Purpose};
use crate::fsutil;
use crate::render::{self, Context, count, json};
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

/// What the plans of the command's Workspaces came to.
#[derive(Default)]
struct Made {
    /// Every plan made, with the file it was made from.
    plans: Vec<(PathBuf, json::JsonPlan)>,
    /// Workspaces with no plan, or one that breaks a guard: nothing is saved.
    failures: Vec<Error>,
    /// Plans apply refuses only for their replaces: saved (`apply --allow-replace` takes
    /// them), and the exit code still says they are refused.
    replacing: Vec<(PathBuf, Vec<String>)>,
    /// The document printed, section by section.
    document: Vec<u8>,
}

pub(crate) async fn run(common: &Common, options: &Options) -> Result<Exit, Error> {
    let saved_plan = options.out.as_deref().map(display_path);
    let targets = targets(common)?;
    let (folder, total) = (targets.folder, targets.files.len());
    // One comment holds every Workspace's markdown: each gets its share, after the room its
    // heading and the total take.
    let budget = match folder {
        true => render::MAX_CHARS.saturating_sub(1_000 + 300 * total) / total.max(1),
        false => render::MAX_CHARS,
    };
    let (connection, stop) = (Connection::default(), StopSignal::default());
    let mut made = Made::default();
    for each in targets.files {
        let file = each.options.file.clone();
        let untitled = each.heading(None);
        let target = each.target(options.refresh, &stop, connection.clone());
        let purpose = Purpose::Plan {
            allow_replace: options.allow_replace,
        };
        let planned = match engine::run(target, purpose, &mut Warnings).await {
            Ok(Outcome::Planned(planned)) => planned,
            Ok(Outcome::Applied { .. }) => return Err(Error::internal("a plan applied changes")),
            Err(stop) if !folder => return without_plan(common, options, saved_plan, stop.into()),
            Err(e) => {
                let e = Error::from(e);
                if options.format == Format::Text {
                    writeln!(made.document, "=== {untitled} ===\n")?;
                    writeln!(made.document, "No plan: {}\n", problems(&e).summary)?;
                }
                made.failures.push(e);
                continue;
            }
        };
        let ctx = Context {
            saved_plan: saved_plan.clone(),
            max_chars: budget,
            ..planned.context()
        };
        let json_plan = planned.json(options.allow_replace);
        section(
            &mut made.document,
            options.format,
            folder,
            &file,
            &json_plan,
            &ctx,
        )?;
        if let Some(refusal) = planned.refusal() {
            made.failures.push(refusal.into());
        }
        let replaces = planned.replaces();
        if !options.allow_replace && !replaces.is_empty() {
            made.replacing.push((file.clone(), replaces));
        }
        made.plans.push((file, json_plan));
        if folder {
            // Each Workspace's models are freed before the next is read.
            drop(planned);
        } else {
            // The process ends with this command: the operating system takes the models of
            // the file and the Workspace back at once, where freeing them piece by piece takes
            // a while for a large Workspace.
            std::mem::forget(planned);
        }
    }
    if folder {
        match options.format {
            Format::Json => {
                let all = json::JsonPlans {
                    format_version: json::FORMAT_VERSION,
                    folder: None,
                    workspaces: made.plans.iter().map(|(_, p)| p.clone()).collect(),
                };
                serde_json::to_writer_pretty(&mut made.document, &all)
                    .map_err(std::io::Error::other)?;
                writeln!(made.document)?;
            }
            Format::Text | Format::Markdown => {
                let plans: Vec<json::JsonPlan> =
                    made.plans.iter().map(|(_, p)| p.clone()).collect();
                writeln!(made.document, "{}", total_line(&plans, total))?;
            }
        }
    }
    crate::console::write_styled(&made.document)?;
    if !folder && let Some((_, json_plan)) = made.plans.first() {
        let ctx = Context {
            saved_plan: saved_plan.clone(),
            ..Context::for_file(&common.file)
        };
        step_summary(|out| render::markdown(out, json_plan, &ctx));
    }
    finish(common, options, made, folder, total)
}

/// One Workspace's plan in the document: alone as it is, or in a folder under its heading.
fn section(
    document: &mut Vec<u8>,
    format: Format,
    folder: bool,
    file: &Path,
    json_plan: &json::JsonPlan,
    ctx: &Context,
) -> std::io::Result<()> {
    match (format, folder) {
        (Format::Text, false) => render::text(document, json_plan, ctx),
        (Format::Markdown, false) => render::markdown(document, json_plan, ctx),
        (Format::Json, false) => json::write(document, json_plan),
        (Format::Text, true) => {
            let title = crate::commands::targets::heading(
                file,
                &json_plan.workspace.id,
                Some(&json_plan.workspace.name),
            );
            writeln!(document, "=== {title} ===\n")?;
            render::text(document, json_plan, ctx)?;
            writeln!(document)
        }
        (Format::Markdown, true) => {
            writeln!(document, "## `{}`\n", display_path(file).replace('`', "'"))?;
            render::markdown(document, json_plan, ctx)?;
            writeln!(document)
        }
        // A folder's JSON is written whole once every Workspace is planned.
        (Format::Json, true) => Ok(()),
    }
}

/// Saves the plans (all or none), says how to apply them, and gives the exit code: 1 when any
/// plan is refused, whatever the reason; with `--detailed-exitcode` 2 when any has changes.
fn finish(
    common: &Common,
    options: &Options,
    made: Made,
    folder: bool,
    total: usize,
) -> Result<Exit, Error> {
    let Made {
        plans,
        mut failures,
        replacing,
        ..
    } = made;
    if !failures.is_empty() {
        if let Some(path) = &options.out {
            let what = if folder {
                "the plans were not saved to {}: not every Workspace has a plan apply accepts"
            } else {
                "the plan was not saved to {}: apply refuses it"
            };
            warning(&what.replace("{}", &display_path(path)));
        }
        return Err(match (folder, failures.len()) {
            (false, 1) => failures.remove(0),
            (_, n) => Error::Several {
                summary: format!(
                    "{n} of {} {} no plan apply accepts",
                    count(total, "Workspace", "Workspaces"),
                    if n == 1 { "has" } else { "have" }
                ),
                errors: failures,
            },
        });
    }
    if let Some(path) = &options.out {
        save(common, options, path, &plans, folder)?;
    }
    if !replacing.is_empty() {
        return Err(if folder {
            Error::Several {
                summary: format!(
                    "{} of {} {} a plan apply refuses without --allow-replace",
                    replacing.len(),
                    count(total, "Workspace", "Workspaces"),
                    if replacing.len() == 1 { "has" } else { "have" }
                ),
                errors: replacing
                    .into_iter()
                    .map(|(file, people)| {
                        Error::Usage(format!(
                            "{}: {}",
                            display_path(&file),
                            engine::Error::ReplaceNotAllowed(people)
                        ))
                    })
                    .collect(),
            }
        } else {
            let (_, people) = replacing.into_iter().next().unwrap_or_default();
            engine::Error::ReplaceNotAllowed(people).into()
        });
    }
    let changes = plans.iter().any(|(_, p)| !p.is_empty());
    Ok(if options.detailed_exitcode && changes {
        Exit::Changes
    } else {
        Exit::Success
    })
}

/// Writes the saved plan (a folder's: every Workspace's), each recording the file it was made
/// from, relative to the saved plan; then, as text, the command that applies it.
fn save(
    common: &Common,
    options: &Options,
    path: &Path,
    plans: &[(PathBuf, json::JsonPlan)],
    folder: bool,
) -> Result<(), Error> {
    let here = fsutil::folder_of(path);
    let sealed = |(file, plan): &(PathBuf, json::JsonPlan)| {
        json::JsonPlan {
            file: fsutil::relative(file, here),
            ..plan.clone()
        }
        .sealed()
    };
    let mut bytes = Vec::new();
    if folder {
        let all = json::JsonPlans {
            format_version: json::FORMAT_VERSION,
            folder: fsutil::relative(&common.file, here),
            workspaces: plans.iter().map(sealed).collect(),
        };
        serde_json::to_writer_pretty(&mut bytes, &all).map_err(std::io::Error::other)?;
    } else if let Some(one) = plans.first() {
        json::write(&mut bytes, &sealed(one))?;
    }
    fsutil::write_private(path, &bytes).map_err(|e| Error::io("save the plan to", path, e))?;
    if common.quiet || options.format != Format::Text {
        return Ok(());
    }
    let replaces = plans
        .iter()
        .any(|(_, p)| p.count(crate::plan::Action::Replace) > 0);
    let command = apply_command(common, path, options.allow_replace && replaces);
    let mut stdout = crate::console::stdout();
    if folder {
        writeln!(
            stdout,
            "\nSaved the plans of {} to {}. Apply exactly these plans with:\n    {command}",
            count(plans.len(), "Workspace", "Workspaces"),
            display_path(path),
        )?;
    } else {
        writeln!(
            stdout,
            "\nSaved the plan to {}. Apply exactly this plan with:\n    {command}",
            display_path(path),
        )?;
        if plans.iter().any(|(_, p)| !p.refused.is_empty()) {
            writeln!(
                stdout,
                "(add --allow-replace once you accept that it replaces people)"
            )?;
        }
    }
    Ok(())
}

/// `Total for 2 Workspaces: 3 to invite, 1 to change, 0 to remove.`
pub(crate) fn total_line(plans: &[json::JsonPlan], workspaces: usize) -> String {
    let mut summary = std::collections::BTreeMap::<String, usize>::new();
    for plan in plans {
        for (action, n) in &plan.summary {
            *summary.entry(action.clone()).or_default() += n;
        }
    }
    let tally = render::tally(
        |action| summary.get(action.key()).copied().unwrap_or(0),
        crate::plan::Action::to_do,
    );
    format!(
        "Total for {}: {tally}.",
        count(workspaces, "Workspace", "Workspaces")
    )
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
    let nothing_recorded = matches!(stop, Error::Engine(engine::Error::NothingRecorded { .. }));
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
