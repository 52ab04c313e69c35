//! Why a command stops: an error of the engine (what a caller of the library can act on), or
//! what only the command line meets: arguments that do not go together, the errors of
//! several Workspaces of a folder, the question at a terminal, the runtime, its own output.
//! `commands::report` is the one place one becomes lines on standard error and an exit code.

use crate::engine::{self, FileProblems};

/// Why a command stopped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error(transparent)]
    Engine(#[from] engine::Error),
    /// Arguments that do not go together, or a value that cannot be used.
    #[error("{0}")]
    Usage(String),
    /// Several Workspaces of `-f DIR` stopped, each for its own reason.
    #[error("{summary}")]
    Several { summary: String, errors: Vec<Error> },
    /// `apply` without `--auto-approve` when no one can answer.
    #[error(
        "refusing to apply without confirmation: stdin is not a terminal; review the plan and re-run with --auto-approve"
    )]
    NoConfirmation,
    /// The answer to `apply`'s question was not `yes`.
    #[error("apply cancelled; nothing was changed")]
    Cancelled,
    #[error("cannot read the answer: {0}")]
    Prompt(#[source] std::io::Error),
    /// Ctrl-C (130) or SIGTERM (143) while apply waited for its answer.
    #[error("cancelled, nothing was applied")]
    Interrupted(u8),
    /// The runtime could not start.
    #[error("cannot start: {0}")]
    Start(#[source] std::io::Error),
    /// Writing the command's output failed (a closed standard output is not an error: see
    /// `console`).
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

impl Error {
    /// An I/O error on a file.
    pub(crate) fn io(action: &'static str, path: &std::path::Path, error: std::io::Error) -> Error {
        engine::Error::io(action, path, error).into()
    }

    /// Something that cannot happen did: a bug.
    pub(crate) fn internal(what: &'static str) -> Error {
        engine::Error::Internal(what).into()
    }

    /// The engine's error, when it is one.
    pub(crate) fn engine(&self) -> Option<&engine::Error> {
        match self {
            Error::Engine(error) => Some(error),
            _ => None,
        }
    }

    /// The problems to print with their places, when the error has them.
    pub(crate) fn file_problems(&self) -> Option<FileProblems> {
        self.engine().and_then(engine::Error::file_problems)
    }

    /// Whether running again later, unchanged, may succeed.
    pub(crate) fn retryable(&self) -> bool {
        self.engine().is_some_and(engine::Error::retryable)
    }
}

impl From<crate::engine::SavedPlanError> for Error {
    fn from(error: crate::engine::SavedPlanError) -> Error {
        engine::Error::from(error).into()
    }
}

impl From<crate::clickup::http::TokenError> for Error {
    fn from(error: crate::clickup::http::TokenError) -> Error {
        engine::Error::from(error).into()
    }
}

impl From<crate::clickup::http::SetupError> for Error {
    fn from(error: crate::clickup::http::SetupError) -> Error {
        engine::Error::from(error).into()
    }
}

impl From<crate::lock::LockError> for Error {
    fn from(error: crate::lock::LockError) -> Error {
        engine::Error::from(error).into()
    }
}

impl From<crate::state::StateError> for Error {
    fn from(error: crate::state::StateError) -> Error {
        engine::Error::from(error).into()
    }
}
