//! Why a plan or an apply stops: one type a caller of the library can match on and act on.
//! Each variant's sentence is its `Display`; what only the command line meets (arguments, the
//! question at a terminal, several Workspaces at once) is `commands::Error`.

use std::path::PathBuf;

use crate::clickup::WsError;
use crate::clickup::http::{SetupError, TokenError};
use crate::diag::Diagnostic;
use crate::lock::LockError;
use crate::plan::guards::Violation;
use crate::state::StateError;

/// Why a command stopped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// The members file (or another file the command reads) has problems, each with its
    /// place when it has one: it is invalid, or no plan can be made from it.
    #[error("{}", .0.summary)]
    Invalid(Box<FileProblems>),
    /// The plan breaks a guard: it may be shown, never applied.
    #[error("{}", .0.summary())]
    Refused(Box<Refusal>),
    /// The plan replaces people, and apply was not told it may (`--allow-replace`).
    #[error("{}", replace_sentence(.0))]
    ReplaceNotAllowed(Vec<String>),
    /// A saved plan is not the plan made now.
    #[error("the saved plan is stale: re-run plan ({why} since {plan} was made)")]
    Stale { plan: String, why: String },
    /// `apply --reviewed`: the reviewed plan cannot stand for the plan made now at all.
    #[error(
        "the reviewed plan {plan} is refused whole, and Workspace {workspace} is left as it is: {why}"
    )]
    NotReviewed {
        plan: String,
        workspace: String,
        why: String,
    },
    /// A saved plan that cannot be used at all.
    #[error(transparent)]
    SavedPlan(#[from] SavedPlanError),
    /// Reading the Workspace failed (ClickUp, or a snapshot). `error` tells whether trying
    /// again may help ([`WsError::retryable`]) and carries ClickUp's status and `ECODE`.
    #[error("cannot read {what}{}: {error}", .from.as_ref().map_or_else(String::new, |f| format!(" from {f}")))]
    Read {
        /// `the Workspace`, `Workspace 123`.
        what: String,
        /// Where it was read from (`ClickUp (https://…)`, `snapshot x.json`).
        from: Option<String>,
        error: Box<WsError>,
    },
    /// What was read is another Workspace than the one asked for.
    #[error("{from} holds Workspace {found}, not {wanted}")]
    OtherWorkspace {
        from: String,
        found: String,
        wanted: String,
    },
    #[error(transparent)]
    State(#[from] StateError),
    /// `plan --refresh=false` has no Workspace recorded by an apply to compare with yet: a
    /// pull request without a token is told so, not failed.
    #[error(
        "--refresh=false plans against the Workspace recorded by the last apply, but {} {}: there is nothing to compare {} with yet. Once apply has run (in CI, on merge), plans without a token show the changes; with a token, plan without --refresh=false",
        .state.display(),
        if *.state_exists { "records no Workspace yet" } else { "does not exist" },
        .file.display()
    )]
    NothingRecorded {
        state: PathBuf,
        state_exists: bool,
        file: PathBuf,
    },
    /// `show` without a state file.
    #[error(
        "there is no state file at {}: it is written by the first apply (or use --state)",
        .0.display()
    )]
    NoState(PathBuf),
    #[error(transparent)]
    Lock(Box<LockError>),
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// A members file larger than any real one.
    #[error(
        "{} is {} MB; a members file is refused above {} MB",
        .path.display(),
        .bytes / (1024 * 1024),
        crate::yaml::MAX_FILE_BYTES / (1024 * 1024)
    )]
    TooLarge { path: PathBuf, bytes: u64 },
    /// A file could not be read or written.
    #[error("cannot {action} {}: {error}", .path.display())]
    Io {
        /// `read`, `write the state file`, `open the audit log`, …
        action: &'static str,
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    /// A saved plan records the members file it was made from, and that file is gone.
    #[error(
        "{} was made from {} ({relative} from the plan's folder), which is not there: pass -f with the members file (or folder) the plan was made from",
        .plan.display(),
        .expected.display()
    )]
    PlannedFileGone {
        plan: PathBuf,
        expected: PathBuf,
        relative: String,
    },
    /// Something that cannot happen did: a bug.
    #[error("internal error: {0}; please report it")]
    Internal(&'static str),
}

impl From<LockError> for Error {
    fn from(error: LockError) -> Error {
        Error::Lock(Box::new(error))
    }
}

/// Problems found in a file, each with its place when it has one.
#[derive(Debug, Clone)]
pub(crate) struct FileProblems {
    /// The file's name as given.
    pub(crate) file: String,
    /// Its text, for the snippets under each problem.
    pub(crate) source: String,
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// Problems without a place.
    pub(crate) general: Vec<String>,
    /// The sentence that sums them up (`members.yaml is invalid: 2 problems`).
    pub(crate) summary: String,
    /// The fragments the file includes, name and text, for problems placed in them.
    pub(crate) fragments: Vec<(String, String)>,
}

impl FileProblems {
    /// `{file} {verb}: N problem(s)`.
    pub(crate) fn counted(
        file: String,
        source: String,
        diagnostics: Vec<Diagnostic>,
        general: Vec<String>,
        verb: impl FnOnce(&str) -> String,
    ) -> FileProblems {
        let n = diagnostics.len() + general.len();
        let summary = format!(
            "{}: {n} {}",
            verb(&file),
            if n == 1 { "problem" } else { "problems" }
        );
        FileProblems {
            file,
            source,
            diagnostics,
            general,
            summary,
            fragments: Vec::new(),
        }
    }

    /// The same problems, some of which are placed in these fragments.
    pub(crate) fn with_fragments(self, fragments: Vec<(String, String)>) -> FileProblems {
        FileProblems { fragments, ..self }
    }

    /// The texts the problems point into.
    pub(crate) fn texts(&self) -> crate::diag::Texts<'_> {
        crate::diag::Texts {
            file: &self.file,
            source: &self.source,
            fragments: &self.fragments,
        }
    }
}

/// A plan that breaks guards, with the file they point into.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    pub(crate) file: String,
    pub(crate) source: String,
    pub(crate) fragments: Vec<(String, String)>,
    pub(crate) violations: Vec<Violation>,
    /// Refused by `apply` (nothing was applied), not only shown by `plan`.
    pub(crate) applying: bool,
}

impl Refusal {
    /// The sentence that sums the refusal up.
    pub(crate) fn summary(&self) -> &'static str {
        if self.applying {
            "the plan is refused; nothing was applied"
        } else {
            "apply would refuse this plan"
        }
    }

    /// The broken guards as problems of the file.
    pub(crate) fn problems(&self) -> FileProblems {
        let (located, general): (Vec<_>, Vec<_>) =
            self.violations.iter().partition(|v| v.loc.is_some());
        FileProblems {
            file: self.file.clone(),
            source: self.source.clone(),
            diagnostics: located
                .iter()
                .filter_map(|v| {
                    v.loc
                        .map(|loc| Diagnostic::new(loc, format!("refused: {}", v.message)))
                })
                .collect(),
            general: general
                .iter()
                .map(|v| format!("refused: {}", v.message))
                .collect(),
            summary: self.summary().to_owned(),
            fragments: self.fragments.clone(),
        }
    }
}

/// A saved plan (`plan --out`) that cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SavedPlanError {
    #[error("cannot read {name}: {error}")]
    Unreadable {
        name: String,
        #[source]
        error: std::io::Error,
    },
    #[error("{name} is not a plan written by `clickup-members plan --out` ({error})")]
    NotAPlan {
        name: String,
        #[source]
        error: serde_json::Error,
    },
    #[error(
        "{name} was changed after `clickup-members plan --out` wrote it (its plan_digest does not match what it holds); make the plan again"
    )]
    Tampered { name: String },
    #[error(
        "{name} has no plan_digest: it is what `plan --format json` prints, not a plan saved by `plan --out`; save the plan with `clickup-members plan --out {name}`"
    )]
    NotSaved { name: String },
    #[error(
        "{name} holds the plans of a folder of Workspace files (`plan -f DIR --out`): give that folder, -f {folder}"
    )]
    OfAFolder { name: String, folder: String },
    #[error(
        "{name} has plan format_version {found}; this clickup-members reads version {}",
        crate::render::json::FORMAT_VERSION
    )]
    FormatVersion { name: String, found: u32 },
    #[error("{name} was made by clickup-members {found}, this is {}: re-run plan", env!("CARGO_PKG_VERSION"))]
    ToolVersion { name: String, found: String },
}

/// Why apply refuses replaces without `--allow-replace`, naming who would be replaced.
pub(crate) fn replace_sentence(people: &[String]) -> String {
    let n = people.len();
    format!(
        "the plan replaces {n} {} ({}): they are removed and invited again, which loses their history and shares; apply makes replaces only with --allow-replace",
        if n == 1 { "person" } else { "people" },
        people.join(", ")
    )
}

impl Error {
    /// The problems to print with their places, when the error has them.
    pub(crate) fn file_problems(&self) -> Option<FileProblems> {
        match self {
            Error::Invalid(problems) => Some((**problems).clone()),
            Error::Refused(refusal) => Some(refusal.problems()),
            _ => None,
        }
    }

    /// Whether running again later, unchanged, may succeed: ClickUp was unavailable, slow or
    /// rate limited past the retries.
    pub(crate) fn retryable(&self) -> bool {
        matches!(self, Error::Read { error, .. } if error.retryable())
    }

    /// An I/O error on a file.
    pub(crate) fn io(action: &'static str, path: &std::path::Path, error: std::io::Error) -> Error {
        Error::Io {
            action,
            path: path.to_owned(),
            error,
        }
    }
}
