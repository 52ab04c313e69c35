//! `-f DIR`: a folder of Workspace files, one Workspace each (SPEC §8). Every `*.yaml` and
//! `*.yml` directly in the folder (`EU.YAML` too) is one Workspace's file, with its state file
//! beside it; fragments live in subfolders, and other files are left alone. The set is read
//! whole first: a file that cannot be read or is invalid, two files for one Workspace, or two
//! files that would share one state file (`acme.yaml` and `acme.yml`), stop the command
//! before any Workspace is planned or touched. Then each command goes Workspace by Workspace,
//! and every Workspace's requests go through one pacer of the token's rate limit.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::commands::apply::{self, Against, Saved};
use crate::commands::progress::Warnings;
use crate::commands::source::{Client, heard_inputs};
use crate::commands::{Common, Exit, Format, default_state_path, display_path, plan, review};
use crate::config::Loaded;
use crate::diag::Diagnostic;
use crate::engine::{self, Error, FileProblems};
use crate::render::{self, Context, count, json};
use crate::stop::StopSignal;

/// One Workspace of the folder: its file, read and valid, and the options that point at its
/// own state (and snapshot).
pub(crate) struct Member {
    pub(crate) common: Common,
    pub(crate) loaded: Loaded,
}

impl Member {
    fn workspace_id(&self) -> &str {
        &self.loaded.file.workspace.id.value
    }
}

/// Whether `-f` names a folder of Workspace files.
pub(crate) fn is_folder(common: &Common) -> bool {
    common.file.is_dir()
}

/// The Workspace files directly in the folder, by name.
pub(crate) fn files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("read the folder", dir, e))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("read the folder", dir, e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let lower = name.to_ascii_lowercase();
        let yaml = lower.ends_with(".yaml") || lower.ends_with(".yml");
        if !yaml || name.starts_with('.') {
            continue;
        }
        // A link is followed; one that loops or leads nowhere is an error, not a skip.
        let meta = std::fs::metadata(&path).map_err(|e| Error::io("read", &path, e))?;
        if !meta.is_file() {
            return Err(Error::Usage(format!(
                "{} is not a file: the YAML files directly in {} are Workspace files (fragments go in subfolders)",
                path.display(),
                dir.display()
            )));
        }
        files.push(path);
    }
    files.sort();
    if files.is_empty() {
        return Err(Error::Usage(format!(
            "{} holds no Workspace file: a folder given to -f holds one *.yaml file per Workspace (fragments go in subfolders)",
            dir.display()
        )));
    }
    Ok(files)
}

/// Reads and checks every Workspace file of the folder: every problem of every file, and two
/// files for one Workspace, are reported together, and then nothing is done.
pub(crate) fn load_all(common: &Common) -> Result<Vec<Member>, Error> {
    let dir = &common.file;
    let files = files(dir)?;
    let total = files.len();
    let mut members: Vec<Member> = Vec::with_capacity(total);
    let mut errors = Vec::new();
    // Each file's state is named after its stem: two files of one stem would share one.
    let mut states: Vec<(String, &PathBuf)> = Vec::with_capacity(total);
    for path in &files {
        let state = default_state_path(path);
        // Compared as a case-insensitive file system (macOS, Windows) would.
        let key = state.to_string_lossy().to_lowercase();
        match states.iter().find(|(k, _)| *k == key) {
            Some((_, first)) => errors.push(Error::Usage(format!(
                "{} and {} would share one state file, {}: a Workspace's state is named after its file; rename one of them",
                display_path(first),
                display_path(path),
                display_path(&state)
            ))),
            None => states.push((key, path)),
        }
    }
    for path in &files {
        match engine::load(path) {
            Ok(loaded) => {
                let same = members
                    .iter()
                    .find(|m| m.workspace_id() == loaded.file.workspace.id.value);
                if let Some(first) = same {
                    errors.push(two_files(first, &loaded));
                    continue;
                }
                match member_common(common, &loaded) {
                    Ok(each) => members.push(Member {
                        common: each,
                        loaded,
                    }),
                    Err(e) => errors.push(e),
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(members)
    } else {
        Err(Error::Several {
            summary: format!(
                "{} of {} in {} cannot be used; nothing was done",
                errors.len(),
                count(total, "Workspace file", "Workspace files"),
                dir.display()
            ),
            errors,
        })
    }
}

/// The error of a second file for a Workspace, at its `workspace.id`.
fn two_files(first: &Member, second: &Loaded) -> Error {
    let id = &second.file.workspace.id;
    Error::Invalid(Box::new(
        FileProblems::counted(
            second.path.display().to_string(),
            second.source.clone(),
            vec![
                Diagnostic::new(
                    id.loc,
                    format!(
                        "Workspace {} already has a file, {}; keep one file per Workspace (split a large one with include:)",
                        id.value,
                        first.loaded.path.display()
                    ),
                )
                .label("a second file for this Workspace"),
            ],
            Vec::new(),
            |name| format!("{name} cannot be used"),
        )
        .with_fragments(second.fragments.clone()),
    ))
}

/// The options of one Workspace: its file, its own state beside it, and with `--snapshot
/// DIR` its snapshot `<workspace id>.json`.
fn member_common(common: &Common, loaded: &Loaded) -> Result<Common, Error> {
    let id = &loaded.file.workspace.id.value;
    let snapshot = match &common.snapshot {
        None => None,
        Some(dir) if dir.is_dir() => {
            let path = dir.join(format!("{id}.json"));
            if !path.is_file() {
                return Err(Error::Usage(format!(
                    "no snapshot of Workspace {id} ({}): {} is missing",
                    loaded.path.display(),
                    path.display()
                )));
            }
            Some(path)
        }
        Some(other) => {
            return Err(Error::Usage(format!(
                "with -f DIR, --snapshot is a folder holding <workspace id>.json for each Workspace; {} is not a folder",
                other.display()
            )));
        }
    };
    Ok(Common {
        file: loaded.path.clone(),
        state: default_state_path(&loaded.path),
        snapshot,
        ..common.clone()
    })
}

/// `validate DIR`: every file's problems at once, and a line for each valid Workspace.
pub(crate) fn validate(common: &Common) -> Result<Exit, Error> {
    let members = load_all(common)?;
    if !common.quiet {
        for member in &members {
            crate::commands::say_valid(&member.loaded, false)?;
        }
        let mut out = crate::console::stdout();
        writeln!(
            out,
            "{} in {} {} valid.",
            count(members.len(), "Workspace file", "Workspace files"),
            display_path(&common.file),
            if members.len() == 1 { "is" } else { "are" }
        )?;
    }
    Ok(Exit::Success)
}

/// `fmt DIR`: each Workspace file (and its fragments) in turn.
pub(crate) fn fmt(common: &Common, options: crate::commands::fmt::Options) -> Result<Exit, Error> {
    let mut exit = Exit::Success;
    let mut errors = Vec::new();
    for path in files(&common.file)? {
        let each = Common {
            file: path,
            ..common.clone()
        };
        match crate::commands::fmt::run(&each, options) {
            Ok(Exit::Success) => {}
            Ok(other) => exit = other,
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(exit)
    } else {
        Err(Error::Several {
            summary: format!(
                "{} not be formatted",
                crate::render::count(errors.len(), "file could", "files could")
            ),
            errors,
        })
    }
}

/// The heading of one Workspace's part of the output: its file, its id, and its name once it
/// is known.
pub(crate) fn heading(file: &Path, id: &str, name: Option<&str>) -> String {
    let workspace = match name {
        Some(name) => format!("Workspace \"{}\" ({id})", crate::escape::visible(name)),
        None => format!("Workspace {id}"),
    };
    format!("{}: {workspace}", display_path(file))
}

/// `plan DIR`: each Workspace planned in turn, one section each and a total; JSON
/// `{"format_version": 1, "workspaces": […]}`; `--out` saves them all or none.
pub(crate) async fn plan(common: &Common, options: &plan::Options) -> Result<Exit, Error> {
    let members = load_all(common)?;
    let client = Client::default();
    let stop = StopSignal::default();
    // One comment holds every Workspace's markdown: each gets its share, after the room its
    // heading and the total take.
    let budget =
        crate::render::MAX_CHARS.saturating_sub(1_000 + 300 * members.len()) / members.len().max(1);
    let total = members.len();
    let mut plans = Vec::with_capacity(total);
    let mut failures = Vec::new();
    // Plans apply refuses only for their replaces: saved (apply --allow-replace takes them),
    // and the exit code still says they are refused.
    let mut replacing = Vec::new();
    // Each plan's file, for the saved plans to record.
    let mut files = Vec::with_capacity(total);
    let mut document = Vec::new();
    let mut any_changes = false;
    for member in members {
        let id = member.workspace_id().to_owned();
        let common = member.common;
        let untitled = heading(&common.file, &id, None);
        // The file was read with the folder: the plan does not read it again.
        let inputs = engine::Inputs {
            decoded: Some(member.loaded.into_decoded()),
            ..heard_inputs(&common, options.refresh, false, &stop, client.clone())
        };
        let planned = match engine::plan(inputs, &mut Warnings).await {
            Ok(planned) => planned,
            Err(e) => {
                if options.format == Format::Text {
                    writeln!(document, "=== {untitled} ===\n")?;
                    writeln!(document, "No plan: {}\n", problems_line(&e))?;
                }
                failures.push(e);
                continue;
            }
        };
        let ctx = Context {
            max_chars: budget,
            ..planned.context()
        };
        let json_plan = planned.json(options.allow_replace);
        any_changes |= !json_plan.is_empty();
        files.push(common.file.clone());
        match options.format {
            Format::Text => {
                let title = heading(&common.file, &id, Some(&json_plan.workspace.name));
                writeln!(document, "=== {title} ===\n")?;
                render::text(&mut document, &json_plan, &ctx)?;
                writeln!(document)?;
            }
            Format::Markdown => {
                writeln!(
                    document,
                    "## `{}`\n",
                    display_path(&common.file).replace('`', "'")
                )?;
                render::markdown(&mut document, &json_plan, &ctx)?;
                writeln!(document)?;
            }
            Format::Json => {}
        }
        if let Some(refusal) = planned.refusal() {
            failures.push(refusal);
        }
        let replaces = planned.replaces();
        if !options.allow_replace && !replaces.is_empty() {
            replacing.push(Error::Usage(format!(
                "{}: {}",
                display_path(&common.file),
                Error::ReplaceNotAllowed(replaces)
            )));
        }
        plans.push(json_plan);
    }
    match options.format {
        Format::Json => {
            let all = json::JsonPlans {
                format_version: json::FORMAT_VERSION,
                folder: None,
                workspaces: plans.clone(),
            };
            serde_json::to_writer_pretty(&mut document, &all).map_err(std::io::Error::other)?;
            writeln!(document)?;
        }
        Format::Text | Format::Markdown => {
            writeln!(document, "{}", total_line(&plans, total))?;
        }
    }
    crate::console::write_styled(&document)?;
    if !failures.is_empty() {
        if let Some(path) = &options.out {
            crate::console::warning(&format!(
                "the plans were not saved to {}: not every Workspace has a plan apply accepts",
                display_path(path)
            ));
        }
        return Err(Error::Several {
            summary: format!(
                "{} of {} {} no plan apply accepts",
                failures.len(),
                count(total, "Workspace", "Workspaces"),
                if failures.len() == 1 { "has" } else { "have" }
            ),
            errors: failures,
        });
    }
    if let Some(path) = &options.out {
        let here = crate::fsutil::folder_of(path);
        let all = json::JsonPlans {
            format_version: json::FORMAT_VERSION,
            folder: crate::fsutil::relative(&common.file, here),
            workspaces: plans
                .iter()
                .zip(&files)
                .map(|(plan, file)| {
                    json::JsonPlan {
                        file: crate::fsutil::relative(file, here),
                        ..plan.clone()
                    }
                    .sealed()
                })
                .collect(),
        };
        let bytes = serde_json::to_vec_pretty(&all).map_err(std::io::Error::other)?;
        crate::fsutil::write_private(path, &bytes)
            .map_err(|e| Error::io("save the plan to", path, e))?;
        if !common.quiet && options.format == Format::Text {
            let mut stdout = crate::console::stdout();
            writeln!(
                stdout,
                "\nSaved the plans of {} to {}. Apply exactly these plans with:\n    {}",
                crate::render::count(plans.len(), "Workspace", "Workspaces"),
                display_path(path),
                crate::commands::ci::apply_command(
                    common,
                    path,
                    options.allow_replace
                        && plans
                            .iter()
                            .any(|p| p.count(crate::plan::Action::Replace) > 0)
                )
            )?;
        }
    }
    if !replacing.is_empty() {
        return Err(Error::Several {
            summary: format!(
                "{} of {} {} a plan apply refuses without --allow-replace",
                replacing.len(),
                count(total, "Workspace", "Workspaces"),
                if replacing.len() == 1 { "has" } else { "have" }
            ),
            errors: replacing,
        });
    }
    Ok(if options.detailed_exitcode && any_changes {
        Exit::Changes
    } else {
        Exit::Success
    })
}

/// One line for a Workspace that could not be planned.
fn problems_line(error: &Error) -> String {
    crate::commands::problems(error).summary
}

/// `Total for 2 Workspaces: 3 to invite, 1 to change, 0 to remove.`
pub(crate) fn total_line(plans: &[json::JsonPlan], workspaces: usize) -> String {
    let mut summary = std::collections::BTreeMap::<String, usize>::new();
    for plan in plans {
        for (action, n) in &plan.summary {
            *summary.entry(action.clone()).or_default() += n;
        }
    }
    let count = |key: &str| summary.get(key).copied().unwrap_or(0);
    let mut parts = vec![
        format!("{} to invite", count("invite")),
        format!("{} to change", count("update")),
        format!("{} to remove", count("remove")),
    ];
    for (key, one, many) in [
        ("replace", "to replace", "to replace"),
        ("create", "group to create", "groups to create"),
        ("delete", "group to delete", "groups to delete"),
    ] {
        match count(key) {
            0 => {}
            1 => parts.push(format!("1 {one}")),
            n => parts.push(format!("{n} {many}")),
        }
    }
    format!(
        "Total for {workspaces} Workspace{}: {}.",
        if workspaces == 1 { "" } else { "s" },
        parts.join(", ")
    )
}

/// `apply DIR` (and `apply PLANS -f DIR`): Workspace by Workspace; one refused or failed does
/// not stop the others. A saved plan of the folder is checked whole first: stale for one
/// Workspace, it is applied to none.
pub(crate) async fn apply(common: &Common, options: apply::Options) -> Result<Exit, Error> {
    let members = load_all(common)?;
    let client = Client::default();
    let against: Vec<Result<Option<Against>, String>> = match (&options.saved, &options.reviewed) {
        (Some(path), _) => saved_plans(path, &members, &client)
            .await?
            .into_iter()
            .map(|saved| Ok(Some(Against::Saved(saved))))
            .collect(),
        (None, Some(path)) => reviewed_plans(path, &members)?,
        (None, None) => members.iter().map(|_| Ok(None)).collect(),
    };
    let mut failures = Vec::new();
    for (member, against) in members.iter().zip(against) {
        {
            let mut out = crate::console::stdout();
            writeln!(
                out,
                "=== {} ===\n",
                heading(&member.common.file, member.workspace_id(), None)
            )?;
        }
        let outcome = match against {
            Ok(against) => {
                apply::run_with(&member.common, options.clone(), client.clone(), against).await
            }
            Err(why) => Err(Error::Usage(why)),
        };
        match outcome {
            Ok(Exit::Success | Exit::Changes) => {}
            Ok(Exit::Failure) => failures.push(Error::Usage(format!(
                "Workspace {}: some changes failed or were not reviewed (above)",
                member.workspace_id()
            ))),
            Ok(Exit::Signal(code)) => return Ok(Exit::Signal(code)),
            Err(e) => {
                if let Error::Interrupted(code) = e {
                    return Err(Error::Interrupted(code));
                }
                crate::commands::report(e);
                failures.push(Error::Usage(format!(
                    "Workspace {} ({}) was not applied",
                    member.workspace_id(),
                    display_path(&member.common.file)
                )));
            }
        }
        let mut out = crate::console::stdout();
        writeln!(out)?;
    }
    if failures.is_empty() {
        Ok(Exit::Success)
    } else {
        Err(Error::Several {
            summary: format!(
                "{} of {} {} refused or failed; {}",
                failures.len(),
                count(members.len(), "Workspace", "Workspaces"),
                if failures.len() == 1 { "was" } else { "were" },
                match members.len() - failures.len() {
                    0 => "none was applied",
                    1 => "the other was applied",
                    _ => "the others were applied",
                }
            ),
            errors: failures,
        })
    }
}

/// The reviewed plans of the folder's Workspaces, in the order of `members`: each Workspace is
/// held to its own, and one the reviewed plans do not hold is not applied.
fn reviewed_plans(
    path: &Path,
    members: &[Member],
) -> Result<Vec<Result<Option<Against>, String>>, Error> {
    let name = display_path(path);
    let plans = match engine::read_saved(path)? {
        engine::SavedDoc::Folder(all) => all.workspaces,
        engine::SavedDoc::One(plan) => vec![*plan],
    };
    Ok(members
        .iter()
        .map(|member| {
            plans
                .iter()
                .find(|p| p.workspace.id == member.workspace_id())
                .map(|plan| {
                    Some(Against::Reviewed(engine::Reviewed {
                        name: name.clone(),
                        plan: plan.clone(),
                    }))
                })
                .ok_or_else(|| {
                    format!(
                        "the reviewed plan {name} holds no plan of Workspace {} ({}): nothing was applied to it; plan it and have the plan reviewed",
                        member.workspace_id(),
                        display_path(&member.common.file)
                    )
                })
        })
        .collect())
}

/// The saved plans of the folder, one per Workspace in the order of `members`, each checked
/// against the plan made now: any stale, missing or extra one refuses them all.
async fn saved_plans(
    path: &Path,
    members: &[Member],
    client: &Client,
) -> Result<Vec<Saved>, Error> {
    let name = display_path(path);
    let engine::SavedDoc::Folder(all) = engine::read_saved(path)? else {
        return Err(Error::Usage(format!(
            "{name} is the saved plan of one Workspace file, not of a folder: apply it with -f and that file"
        )));
    };
    let stop = StopSignal::default();
    let mut found = Vec::with_capacity(members.len());
    let mut stale = Vec::new();
    for member in members {
        let Some(plan) = all
            .workspaces
            .iter()
            .find(|p| p.workspace.id == member.workspace_id())
        else {
            stale.push(Error::Stale {
                plan: name.clone(),
                why: format!(
                    "{} was added for Workspace {}",
                    display_path(&member.common.file),
                    member.workspace_id()
                ),
            });
            continue;
        };
        let saved = Saved {
            name: name.clone(),
            plan: plan.clone(),
        };
        let inputs = heard_inputs(
            &member.common,
            crate::commands::Refresh::Read,
            false,
            &stop,
            client.clone(),
        );
        match engine::plan(inputs, &mut Warnings).await {
            Ok(planned) => {
                let now = planned.json(true);
                if let Err(e) = planned.check_saved_plan(&name, &saved.plan, &now) {
                    stale.push(e);
                }
            }
            Err(e) => stale.push(e),
        }
        found.push(saved);
    }
    for plan in &all.workspaces {
        if !members
            .iter()
            .any(|m| m.workspace_id() == plan.workspace.id)
        {
            stale.push(Error::Stale {
                plan: name.clone(),
                why: format!("the file of Workspace {} was removed", plan.workspace.id),
            });
        }
    }
    if stale.is_empty() {
        Ok(found)
    } else {
        Err(Error::Several {
            summary: format!(
                "the saved plans in {name} are refused whole: nothing was applied to any Workspace"
            ),
            errors: stale,
        })
    }
}

/// `report DIR`: the access review of every Workspace, each row starting with its Workspace.
/// A Workspace that cannot be read does not cost the others their rows: it is named in place
/// (text, markdown) and on standard error, and the exit is 1.
pub(crate) async fn access_review(
    common: &Common,
    options: &review::Options,
) -> Result<Exit, Error> {
    let members = load_all(common)?;
    let total = members.len();
    let client = Client::default();
    let mut all = Vec::new();
    let mut day = None;
    let mut unreviewed = Vec::new();
    let mut failures = Vec::new();
    for member in members {
        let id = member.workspace_id().to_owned();
        let file = display_path(&member.common.file);
        // The file was read with the folder: the review does not read it again.
        let decoded = Some(member.loaded.into_decoded());
        match review::review(&member.common, decoded, options, client.clone()).await {
            Ok((rows, heading)) => {
                day = Some(heading.day);
                all.extend(rows.into_iter().map(|row| crate::review::Row {
                    workspace: Some(id.clone()),
                    ..row
                }));
            }
            Err(e) => {
                unreviewed.push(format!(
                    "Workspace {id} ({file}) was not reviewed: {}",
                    problems_line(&e)
                ));
                failures.push(e);
            }
        }
    }
    let heading = crate::review::render::Heading {
        subject: crate::review::render::Subject::Folder {
            path: display_path(&common.file),
            workspaces: total,
        },
        day: day.unwrap_or_else(|| crate::clock::now().date()),
        inactive_days: options.inactive_days,
        unreviewed,
    };
    review::print(options.format, &all, &heading)?;
    if failures.is_empty() {
        Ok(Exit::Success)
    } else {
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
}
