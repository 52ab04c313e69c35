//! What every command shares: the options of the command line they all take, how they print
//! a plan, and the exit codes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// How a run ended, as an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: done, or no changes.
    Success,
    /// 1: an error, a refused plan, or a change that failed.
    Failure,
    /// 2: `plan --detailed-exitcode` found changes.
    Changes,
    /// 130 or 143: `apply` was stopped by SIGINT or SIGTERM (what was applied is recorded).
    Signal(u8),
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        match exit {
            Exit::Success => ExitCode::SUCCESS,
            Exit::Failure => ExitCode::from(1),
            Exit::Changes => ExitCode::from(2),
            Exit::Signal(code) => ExitCode::from(code),
        }
    }
}

/// How `plan` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
    Markdown,
}

/// Options every command shares, resolved.
#[derive(Debug, Clone)]
pub(crate) struct Common {
    pub(crate) file: PathBuf,
    pub(crate) state: PathBuf,
    pub(crate) api_url: String,
    pub(crate) snapshot: Option<PathBuf>,
    pub(crate) timeout: std::time::Duration,
    pub(crate) verbose: u8,
    pub(crate) quiet: bool,
    /// Log lines as JSON objects (`serve --log-format json`).
    pub(crate) log_json: bool,
}

/// `members.yaml` → `members.state.json`, in the same directory.
pub(crate) fn default_state_path(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map_or_else(|| "members".into(), |s| s.to_string_lossy().into_owned());
    file.with_file_name(format!("{stem}.state.json"))
}
