//! The Workspaces a command works on, built once from the command line: one target per
//! Workspace file, each run through the engine's one run ([`crate::engine::run`]). A file is
//! a folder of one. A folder (`-f DIR`, SPEC §8) is read whole first: every `*.yaml` and
//! `*.yml` directly in it (`EU.YAML` too) is one Workspace's file with its state beside it
//! (fragments live in subfolders, other files are left alone); a file that cannot be read or
//! is invalid, two files for one Workspace, or two that would share one state file
//! (`acme.yaml` and `acme.yml`) stop the command before any Workspace is planned.
//!
//! Also where each target's Workspace is read: `--snapshot` (a file, or a folder holding
//! `<workspace id>.json`), ClickUp with the token from the environment, or with
//! `--refresh=false` the Workspace the last apply recorded.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::clickup::Backend;
use crate::clickup::http::{self, HttpWorkspace, Listener, Token};
use crate::clickup::snapshot::SnapshotWorkspace;
use crate::commands::Error;
use crate::commands::{Common, default_state_path, display_path};
use crate::config::Loaded;
use crate::diag::Diagnostic;
use crate::engine::{self, FileProblems, Source, StateStore};
use crate::render::count;
use crate::stop::StopSignal;

/// How the Workspace a plan compares with is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refresh {
    /// Read it now (`--snapshot`, or ClickUp).
    Read,
    /// Use the one the last apply recorded in the state (`--refresh=false`).
    Recorded,
}

/// How ClickUp is reached, beyond the command line's options: the rate limit's pacer every
/// Workspace of the process shares, how often a failing request is sent again, and who hears
/// every request.
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    /// Told of every request and its answer.
    pub(crate) listener: Option<Arc<dyn Listener>>,
    /// How often a request failing for a passing reason is sent again.
    pub(crate) retries: usize,
    /// Shared by every Workspace this process reaches with the token.
    pub(crate) pacer: Arc<http::Pacer>,
    /// Where the user named the Workspace, for messages (`workspace.id`, `--workspace`).
    pub(crate) named_by: &'static str,
    /// What a message of a request that kept failing tells a person to do.
    pub(crate) later: http::Later,
}

impl Connection {
    /// For a command that names its Workspace with `--workspace`.
    pub(crate) fn for_option() -> Connection {
        Connection {
            named_by: "--workspace",
            ..Connection::default()
        }
    }
}

impl Default for Connection {
    fn default() -> Connection {
        Connection {
            listener: None,
            retries: http::RETRIES,
            pacer: Arc::default(),
            named_by: "workspace.id",
            later: http::Later::RunAgain,
        }
    }
}

/// The Workspace files of a command.
#[derive(Debug)]
pub(crate) struct Targets {
    /// `-f` names a folder: the output has a section per Workspace and a total.
    pub(crate) folder: bool,
    pub(crate) files: Vec<WorkspaceFile>,
}

/// One Workspace's file, and the options that point at its own state and snapshot.
#[derive(Debug)]
pub(crate) struct WorkspaceFile {
    pub(crate) options: Common,
    /// The file as read, for a folder (read whole first); a single file is read by its run,
    /// beside its Workspace.
    pub(crate) loaded: Option<Loaded>,
}

impl WorkspaceFile {
    /// Its Workspace id, once the file is read.
    pub(crate) fn workspace_id(&self) -> Option<&str> {
        self.loaded
            .as_ref()
            .map(|l| l.file.workspace.id.value.as_str())
    }

    /// The heading of its part of a folder's output: its file, its Workspace, and its name
    /// once it is known.
    pub(crate) fn heading(&self, name: Option<&str>) -> String {
        heading(&self.options.file, self.workspace_id().unwrap_or("?"), name)
    }

    /// What its run needs: its file, its state, and where its Workspace is read.
    pub(crate) fn target(
        self,
        refresh: Refresh,
        stop: &StopSignal,
        connection: Connection,
    ) -> engine::Target<Backend> {
        let options = self.options;
        let source = match (&options.snapshot, refresh) {
            (_, Refresh::Recorded) => Source::Recorded,
            (Some(path), Refresh::Read) => Source::Whole(open_snapshot(path)),
            (None, Refresh::Read) => {
                let options = options.clone();
                let stop = stop.clone();
                Source::Opened(Box::new(move |workspace_id: &str| {
                    open_http(&options, workspace_id, &stop, connection).map(Backend::Http)
                }))
            }
        };
        engine::Target {
            file: options.file.clone(),
            decoded: self.loaded.map(Loaded::into_decoded),
            store: StateStore {
                journal_above: journal_above(),
                ..StateStore::new(&options.state)
            },
            source,
            now: crate::clock::now(),
        }
    }
}

/// `CLICKUP_MEMBERS_JOURNAL_ABOVE` sets the number of people above which writes go to the
/// state's journal (0: always).
fn journal_above() -> usize {
    std::env::var("CLICKUP_MEMBERS_JOURNAL_ABOVE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(engine::JOURNAL_ABOVE)
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

/// The Workspace files the command line names: the file, or every file of the folder, read
/// and checked first.
pub(crate) fn targets(common: &Common) -> Result<Targets, Error> {
    targets_read_by(common, &engine::load)
}

/// How a Workspace file is read: checked whole ([`engine::load`]), or as `sync` reads it.
pub(crate) type Reader = dyn Fn(&Path) -> Result<Loaded, engine::Error>;

/// [`targets`], each file read by `load`.
fn targets_read_by(common: &Common, load: &Reader) -> Result<Targets, Error> {
    if !common.file.is_dir() {
        return Ok(Targets {
            folder: false,
            files: vec![WorkspaceFile {
                options: common.clone(),
                loaded: None,
            }],
        });
    }
    Ok(Targets {
        folder: true,
        files: read_folder(common, load)?,
    })
}

/// [`targets`], with a single file read too: every file is read now (a controller's cycle
/// reads its whole file set before it plans, to know it stood still).
pub(crate) fn read_all(common: &Common) -> Result<Targets, Error> {
    read_all_by(common, &engine::load)
}

/// [`read_all`], each file read by `load`.
pub(crate) fn read_all_by(common: &Common, load: &Reader) -> Result<Targets, Error> {
    let mut targets = targets_read_by(common, load)?;
    for each in &mut targets.files {
        if each.loaded.is_none() {
            each.loaded = Some(load(&each.options.file)?);
        }
    }
    Ok(targets)
}

/// The Workspace files directly in the folder, by name.
pub(crate) fn folder_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
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
fn read_folder(common: &Common, load: &Reader) -> Result<Vec<WorkspaceFile>, Error> {
    let dir = &common.file;
    let paths = folder_files(dir)?;
    let total = paths.len();
    let mut files: Vec<WorkspaceFile> = Vec::with_capacity(total);
    let mut errors = one_state_each(&paths);
    for path in &paths {
        let loaded = match load(path) {
            Ok(loaded) => loaded,
            Err(e) => {
                errors.push(e.into());
                continue;
            }
        };
        let id = &loaded.file.workspace.id.value;
        if let Some(first) = files.iter().find(|f| f.workspace_id() == Some(id)) {
            errors.push(two_files(&first.options.file, &loaded));
            continue;
        }
        match options_of(common, &loaded) {
            Ok(options) => files.push(WorkspaceFile {
                options,
                loaded: Some(loaded),
            }),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        return Ok(files);
    }
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

/// Each file's state is named after its stem: two files of one stem would share one. Compared
/// as a case-insensitive file system (macOS, Windows) would.
fn one_state_each(paths: &[PathBuf]) -> Vec<Error> {
    let mut errors = Vec::new();
    let mut states: Vec<(String, &PathBuf)> = Vec::with_capacity(paths.len());
    for path in paths {
        let state = default_state_path(path);
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
    errors
}

/// The error of a second file for a Workspace, at its `workspace.id`.
fn two_files(first: &Path, second: &Loaded) -> Error {
    let id = &second.file.workspace.id;
    let problems = Box::new(
        FileProblems::counted(
            second.path.display().to_string(),
            second.source.clone(),
            vec![
                Diagnostic::new(
                    id.loc,
                    format!(
                        "Workspace {} already has a file, {}; keep one file per Workspace (split a large one with include:)",
                        id.value,
                        first.display()
                    ),
                )
                .label("a second file for this Workspace"),
            ],
            Vec::new(),
            |name| format!("{name} cannot be used"),
        )
        .with_fragments(second.fragments.clone()),
    );
    engine::Error::Invalid(problems).into()
}

/// The options of one Workspace of a folder: its file, its own state beside it, and with
/// `--snapshot DIR` its snapshot `<workspace id>.json`.
fn options_of(common: &Common, loaded: &Loaded) -> Result<Common, Error> {
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

/// The snapshot file when `--snapshot` is given, else ClickUp itself.
pub(crate) fn open_backend(
    common: &Common,
    workspace_id: &str,
    stop: &StopSignal,
) -> Result<Backend, engine::Error> {
    match &common.snapshot {
        Some(path) => open_snapshot(path),
        None => open_http(common, workspace_id, stop, Connection::for_option()).map(Backend::Http),
    }
}

fn open_snapshot(path: &Path) -> Result<Backend, engine::Error> {
    SnapshotWorkspace::open(path)
        .map(Backend::Snapshot)
        .map_err(|e| engine::Error::io("read the snapshot", path, e))
}

/// ClickUp, with the token from the environment.
pub(crate) fn open_http(
    common: &Common,
    workspace_id: &str,
    stop: &StopSignal,
    connection: Connection,
) -> Result<HttpWorkspace, engine::Error> {
    let token = Token::from_env()?;
    let options = http::Options {
        api_url: common.api_url.clone(),
        timeout: common.timeout,
        stop: stop.clone(),
        listener: connection.listener,
        retries: connection.retries,
        pacer: connection.pacer,
        named_by: connection.named_by,
        later: connection.later,
    };
    Ok(HttpWorkspace::new(&options, token, workspace_id)?)
}

/// Checks `--workspace ID` of `snapshot` and `import`.
pub(crate) fn check_workspace_id(id: &str) -> Result<(), Error> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::Usage(format!(
            "--workspace must be the Workspace's numeric id, not \"{id}\""
        )));
    }
    Ok(())
}
