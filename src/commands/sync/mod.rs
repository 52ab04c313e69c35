//! `sync`: each Workspace file's `sync` rules read from their sources into the fragment `sync`
//! owns. The dry run prints the fragment's diff, a summary and the plan the Workspace would
//! get; `--write` writes the fragment (only when every group was read whole, nothing is
//! refused, and the Workspace file stays valid with it). With `-f DIR`, each Workspace file
//! with a `sync` section is synced; one failing does not stop the others.

mod render;

use std::io::Write;

use crate::commands::Error;
use crate::commands::progress::Warnings;
use crate::commands::targets::{Connection, Refresh, WorkspaceFile, read_all_by};
use crate::commands::{Common, Exit, display_path, problems};
use crate::config::Loaded;
use crate::engine::{self, FileProblems, Outcome, Purpose};
use crate::render::count;
use crate::stop::StopSignal;
use crate::sync::{self, Synced, provider};

/// How `sync` was asked to run.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// Write the fragment (else: a dry run).
    pub(crate) write: bool,
    pub(crate) json: bool,
    pub(crate) detailed_exitcode: bool,
    pub(crate) max_changes: Option<u32>,
    pub(crate) allow_empty: Vec<String>,
    /// How the dry run's plan reads the Workspace.
    pub(crate) refresh: Refresh,
}

/// How one Workspace file's sync ended.
enum Ended {
    /// Made (and written with `--write`): whether the fragment changes.
    Synced {
        changes: bool,
    },
    Failed(Error),
}

pub(crate) async fn run(common: &Common, options: &Options) -> Result<Exit, Error> {
    let targets = read_all_by(common, &|path| {
        let (loaded, warning) = engine::load_for_sync(path)?;
        if let Some(warning) = warning {
            crate::console::warning(&warning);
        }
        Ok(loaded)
    })?;
    let folder = targets.folder;
    let stop = StopSignal::default();
    crate::stop::listen_for_signals(&stop, crate::console::warning);
    let mut documents = Vec::new();
    let mut ended = Vec::new();
    let mut synced_files = 0;
    for each in targets.files {
        let has_sync = each.loaded.as_ref().is_some_and(|l| l.file.sync.is_some());
        if folder && !has_sync {
            continue;
        }
        synced_files += 1;
        let mut out = Vec::new();
        let file = display_path(&each.options.file);
        let result = one(each, options, &stop, folder, &mut out).await;
        if let Err(e) = &result
            && folder
        {
            let summary = problems(e).summary;
            if options.json {
                // In place of what it would have shown: which file, and why not.
                out.clear();
                serde_json::to_writer_pretty(
                    &mut out,
                    &serde_json::json!({ "format_version": 1, "file": file, "error": summary }),
                )
                .map_err(std::io::Error::other)?;
            } else {
                let _ = writeln!(out, "No sync: {summary}\n");
            }
        }
        documents.push(out);
        ended.push(match result {
            Ok(changes) => Ended::Synced { changes },
            Err(e) => Ended::Failed(e),
        });
    }
    if folder && synced_files == 0 {
        return Err(Error::Usage(format!(
            "no Workspace file in {} has a sync section",
            display_path(&common.file)
        )));
    }
    print(options, folder, documents)?;
    finish(options, folder, ended)
}

/// One Workspace file: its sync made, shown, checked against the file, and written or planned.
/// Returns whether the fragment changes.
async fn one(
    each: WorkspaceFile,
    options: &Options,
    stop: &StopSignal,
    folder: bool,
    out: &mut Vec<u8>,
) -> Result<bool, Error> {
    let loaded = each
        .loaded
        .as_ref()
        .ok_or(Error::internal("a Workspace file was not read"))?;
    check_allow_empty(loaded, &options.allow_empty, folder)?;
    let sync_options = sync::Options {
        max_changes: options.max_changes,
        allow_empty: options.allow_empty.clone(),
        provider: provider::Options::new(
            each.options.timeout,
            stop.clone(),
            provider::process_env(),
        ),
    };
    if folder && !options.json {
        writeln!(out, "=== {} ===\n", display_path(&loaded.path))?;
    }
    let synced = sync::sync(loaded, &sync_options)
        .await
        .map_err(|e| sync_error(loaded, e))?;
    // The file as it would be: it must stay valid (policy.member_domains, groups…).
    let with = crate::config::load_with(&loaded.path, &synced.after).map_err(|e| {
        let error = Error::from(engine::load_error(e));
        match error.file_problems() {
            Some(mut found) => {
                found.summary = format!(
                    "nothing was written: {} would be invalid with the synced fragment",
                    display_path(&loaded.path)
                );
                Error::Engine(engine::Error::Invalid(Box::new(found)))
            }
            None => error,
        }
    });
    if options.json {
        render::json(out, &synced, loaded)?;
    } else {
        let written = options.write && synced.refusals.is_empty() && with.is_ok();
        render::text(out, &synced, loaded, written)?;
    }
    let with = with?;
    if !synced.refusals.is_empty() {
        return Err(refused(loaded, &synced));
    }
    let changes = synced.changes_file();
    if options.write {
        if changes {
            write(&synced)?;
            if !options.json {
                writeln!(out, "Wrote {}.", render::shown(&synced.path))?;
            }
        }
    } else if !options.json {
        plan(each, with, options.refresh, stop, out).await?;
    }
    Ok(changes)
}

/// The dry run's plan: the Workspace file with the synced fragment, planned as `plan` does.
async fn plan(
    each: WorkspaceFile,
    with: Loaded,
    refresh: Refresh,
    stop: &StopSignal,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    writeln!(out, "\nThe plan the Workspace would get with it:\n")?;
    let target = WorkspaceFile {
        options: each.options,
        loaded: Some(with),
    }
    .target(refresh, stop, Connection::default());
    let purpose = Purpose::Plan {
        allow_replace: false,
    };
    let outcome = engine::run(target, purpose, &mut Warnings).await;
    // The sync itself was made: without a token, the plan is what is missing, not the sync.
    if let Err(engine::Error::Token(_)) = &outcome {
        writeln!(
            out,
            "No plan: the dry run reads ClickUp as `plan` does, and no ClickUp token is set. Pass --snapshot or --refresh=false to plan without a token, or --write to write the fragment and let the pull request show its plan."
        )?;
        return Ok(());
    }
    let outcome = outcome.map_err(|e| match e {
        engine::Error::Invalid(mut found) => {
            found.summary = format!(
                "{}; with the synced fragment: its lines are those it would have once written (the diff above)",
                found.summary
            );
            engine::Error::Invalid(found)
        }
        other => other,
    });
    match outcome? {
        Outcome::Planned(planned) => {
            let json_plan = planned.json(false);
            crate::render::text(out, &json_plan, &planned.context())?;
            Ok(())
        }
        Outcome::Applied { .. } => Err(Error::internal("a plan applied changes")),
    }
}

/// Writes the fragment atomically, making its folder when it is the first sync.
fn write(synced: &Synced) -> Result<(), Error> {
    if let Some(dir) = synced.path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create the folder", dir, e))?;
    }
    crate::fsutil::write_atomic(&synced.path, synced.after.as_bytes())
        .map_err(|e| Error::io("write", &synced.path, e))
}

/// Each `--allow-empty` must name one of the file's rules (`okta:00g1abcd`); in a folder, one
/// of some file's.
fn check_allow_empty(loaded: &Loaded, allow: &[String], folder: bool) -> Result<(), Error> {
    let rules: Vec<String> = loaded
        .file
        .sync
        .iter()
        .flat_map(|s| s.rules.iter().map(crate::config::Rule::name))
        .collect();
    match allow.iter().find(|a| !rules.contains(a)) {
        Some(unknown) if !folder => Err(Error::Usage(format!(
            "--allow-empty {unknown} names no rule of {}; its rules are: {}",
            display_path(&loaded.path),
            if rules.is_empty() {
                "none".to_owned()
            } else {
                rules.join(", ")
            }
        ))),
        _ => Ok(()),
    }
}

/// A sync's refusals, each at its rule's line.
fn refused(loaded: &Loaded, synced: &Synced) -> Error {
    let mut diagnostics = Vec::new();
    let mut general = Vec::new();
    for (loc, why) in &synced.refusals {
        match loc {
            Some(loc) => diagnostics.push(crate::diag::Diagnostic::new(*loc, why.clone())),
            None => general.push(why.clone()),
        }
    }
    let n = synced.refusals.len();
    let found = FileProblems {
        file: display_path(&loaded.path),
        source: loaded.source.clone(),
        diagnostics,
        general,
        summary: format!(
            "the sync is refused ({}): nothing was written",
            count(n, "reason", "reasons")
        ),
        fragments: loaded.fragments.clone(),
    };
    Error::Engine(engine::Error::Invalid(Box::new(found)))
}

/// A sync that could not be made, its problems at their places: a rule's line in the
/// Workspace file, a row's in the csv export.
fn sync_error(loaded: &Loaded, error: sync::Error) -> Error {
    let summary = error.to_string();
    let found = match error {
        sync::Error::Read(problems) => FileProblems {
            file: display_path(&loaded.path),
            source: loaded.source.clone(),
            diagnostics: problems
                .into_iter()
                .map(|(loc, why)| crate::diag::Diagnostic::new(loc, why))
                .collect(),
            general: Vec::new(),
            summary,
            fragments: loaded.fragments.clone(),
        },
        sync::Error::Csv(sync::csv::CsvError::Invalid {
            path,
            text,
            diagnostics,
        }) => FileProblems {
            file: display_path(&path),
            source: text,
            diagnostics,
            general: Vec::new(),
            summary: format!("nothing was written: {summary}"),
            fragments: Vec::new(),
        },
        sync::Error::Outside { loc, .. } | sync::Error::NotWrittenBySync { loc, .. } => {
            FileProblems {
                file: display_path(&loaded.path),
                source: loaded.source.clone(),
                diagnostics: vec![crate::diag::Diagnostic::new(loc, summary)],
                general: Vec::new(),
                summary: "nothing was written".to_owned(),
                fragments: loaded.fragments.clone(),
            }
        }
        other => return Error::Usage(format!("nothing was written: {other}")),
    };
    Error::Engine(engine::Error::Invalid(Box::new(found)))
}

/// Prints what each file's sync showed; a folder's JSON as one document.
fn print(options: &Options, folder: bool, documents: Vec<Vec<u8>>) -> Result<(), Error> {
    let mut all = Vec::new();
    if options.json && folder {
        let workspaces: Vec<serde_json::Value> = documents
            .iter()
            .filter_map(|d| serde_json::from_slice(d).ok())
            .collect();
        let value = serde_json::json!({ "format_version": 1, "workspaces": workspaces });
        serde_json::to_writer_pretty(&mut all, &value).map_err(std::io::Error::other)?;
        all.push(b'\n');
    } else {
        // The first as it is: a fragment of 50,000 people shows a diff of megabytes.
        let mut documents = documents.into_iter();
        all = documents.next().unwrap_or_default();
        for document in documents {
            all.extend(document);
        }
    }
    crate::console::write_styled(&all)?;
    Ok(())
}

/// The exit: 1 when any file's sync failed or was refused; with `--detailed-exitcode` 2 when
/// a fragment changes (or, written, changed).
fn finish(options: &Options, folder: bool, ended: Vec<Ended>) -> Result<Exit, Error> {
    let total = ended.len();
    let mut changes = false;
    let mut errors = Vec::new();
    for each in ended {
        match each {
            Ended::Synced { changes: c } => changes |= c,
            Ended::Failed(e) => errors.push(e),
        }
    }
    match errors.len() {
        0 if options.detailed_exitcode && changes => Ok(Exit::Changes),
        0 => Ok(Exit::Success),
        1 if !folder => Err(errors.remove(0)),
        n => Err(Error::Several {
            summary: format!(
                "{n} of {} could not be synced",
                count(total, "Workspace file", "Workspace files")
            ),
            errors,
        }),
    }
}
