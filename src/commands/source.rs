//! Where a command reads the Workspace from: `--snapshot FILE`, ClickUp with the token from the
//! environment, or (`plan --refresh=false`) the Workspace the last apply recorded.

use std::path::Path;
use std::sync::Arc;

use crate::clickup::Backend;
use crate::clickup::http::{self, HttpWorkspace, Listener, Token};
use crate::clickup::snapshot::SnapshotWorkspace;
use crate::commands::Common;
use crate::engine::{Error, Inputs, Source};
use crate::stop::StopSignal;

/// How the Workspace a plan compares with is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refresh {
    /// Read it now (`--snapshot`, or ClickUp).
    Read,
    /// Use the one the last apply recorded in the state (`--refresh=false`).
    Recorded,
}

/// What a plan is made from, for `common`'s file, state and Workspace.
pub(crate) fn inputs(
    common: &Common,
    refresh: Refresh,
    keep_doc: bool,
    stop: &StopSignal,
) -> Inputs<Backend> {
    heard_inputs(common, refresh, keep_doc, stop, Client::default())
}

/// How the HTTP client is set up beyond the command line's options.
#[derive(Debug, Clone)]
pub(crate) struct Client {
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

impl Client {
    /// A client for a command that names its Workspace with `--workspace`.
    pub(crate) fn for_option() -> Client {
        Client {
            named_by: "--workspace",
            ..Client::default()
        }
    }
}

impl Default for Client {
    fn default() -> Client {
        Client {
            listener: None,
            retries: http::RETRIES,
            pacer: Arc::default(),
            named_by: "workspace.id",
            later: http::Later::RunAgain,
        }
    }
}

/// [`inputs`], with the HTTP client set up as `client` says.
pub(crate) fn heard_inputs(
    common: &Common,
    refresh: Refresh,
    keep_doc: bool,
    stop: &StopSignal,
    client: Client,
) -> Inputs<Backend> {
    let source = match (&common.snapshot, refresh) {
        (_, Refresh::Recorded) => Source::Recorded,
        (Some(path), Refresh::Read) => Source::Whole(open_snapshot(path)),
        (None, Refresh::Read) => {
            let common = common.clone();
            let stop = stop.clone();
            Source::Opened(Box::new(move |workspace_id: &str| {
                open_http(&common, workspace_id, &stop, client).map(Backend::Http)
            }))
        }
    };
    Inputs {
        file: common.file.clone(),
        state: common.state.clone(),
        source,
        keep_doc,
        read_all: false,
        now: crate::clock::now(),
        decoded: None,
        reviewed: None,
    }
}

/// The snapshot file when `--snapshot` is given, else ClickUp itself.
pub(crate) fn open_backend(
    common: &Common,
    workspace_id: &str,
    stop: &StopSignal,
) -> Result<Backend, Error> {
    match &common.snapshot {
        Some(path) => open_snapshot(path),
        None => open_http(common, workspace_id, stop, Client::for_option()).map(Backend::Http),
    }
}

fn open_snapshot(path: &Path) -> Result<Backend, Error> {
    SnapshotWorkspace::open(path)
        .map(Backend::Snapshot)
        .map_err(|e| Error::io("read the snapshot", path, e))
}

/// ClickUp, with the token from the environment.
pub(crate) fn open_http(
    common: &Common,
    workspace_id: &str,
    stop: &StopSignal,
    client: Client,
) -> Result<HttpWorkspace, Error> {
    let token = Token::from_env()?;
    let options = http::Options {
        api_url: common.api_url.clone(),
        timeout: common.timeout,
        stop: stop.clone(),
        listener: client.listener,
        retries: client.retries,
        pacer: client.pacer,
        named_by: client.named_by,
        later: client.later,
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
