//! The application layer: `plan` and `apply` as library calls. Every rule between the pure
//! core and the terminal lives here: the file and the Workspace read side by side, drift
//! marked against the state's recorded Workspace, the guards and the Enterprise check, the
//! saved plan's staleness, the `--allow-replace` gate, the state kept current after every
//! write (or its journal, for large Workspaces), the re-read after failures. What happens is
//! told to an [`Observer`]; the command line, the tests and a controller each bring their own.

mod apply;
mod error;
pub(crate) mod execute;
mod observe;
mod planning;
mod reviewed;
mod run;
mod saved;
mod verdict;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use crate::clickup::wire::{LiveRead, Seats, SnapshotDoc, WorkspacePlan};
use crate::clickup::{ReadNeeds, Workspace};
use crate::config::{self, LoadError, Loaded, MembersFile};
use crate::live::Live;
use crate::plan::guards::Violation;
use crate::plan::{self, Plan};
use crate::render::{self, json};
use crate::state::State;

pub(crate) use apply::{Applied, ApplyOptions, JOURNAL_ABOVE, StateStore, apply};
pub(crate) use error::{Error, FileProblems, SavedPlanError};
pub(crate) use execute::Failure;
pub(crate) use observe::{Observer, Request};
pub(crate) use planning::plan;
pub(crate) use reviewed::{Review, Reviewed};
pub(crate) use run::{Outcome, Prepared, Purpose, Target, Writing, prepare, run};
pub(crate) use saved::{SavedDoc, read_saved, read_saved_plan, recorded_file};
pub(crate) use verdict::Verdict;

/// Where the Workspace a plan compares with comes from.
pub(crate) enum Source<W> {
    /// A source that holds the whole Workspace (a snapshot): read while the file is parsed.
    /// An error opening it is reported after the file's own problems.
    Whole(Result<W, Error>),
    /// A source opened once the file names its Workspace (ClickUp), read for what the file
    /// needs (SPEC §5).
    Opened(Opener<W>),
    /// The Workspace the last apply recorded in the state (`plan --refresh=false`).
    Recorded,
}

/// Opens a Workspace by its id.
pub(crate) type Opener<W> = Box<dyn FnOnce(&str) -> Result<W, Error> + Send>;

/// What a plan is made from.
pub(crate) struct Inputs<W> {
    /// The members file.
    pub(crate) file: PathBuf,
    /// The state file (it need not exist).
    pub(crate) state: PathBuf,
    pub(crate) source: Source<W>,
    /// Keep the Workspace as read (ClickUp's shapes), as an apply records it in the state; a
    /// plan only needs the model.
    pub(crate) keep_doc: bool,
    /// Read the custom roles and the groups even when the file does not need them (the
    /// access review shows everyone's).
    pub(crate) read_all: bool,
    /// The time the plan is made at, for `expires` (the clock, or a time a test pins).
    pub(crate) now: time::OffsetDateTime,
    /// The members file, when it was read already (a folder of Workspace files is read whole
    /// first): it is not read again.
    pub(crate) decoded: Option<config::Decoded>,
    /// What the plan made now is held to: a saved plan, or a reviewed one.
    pub(crate) against: Option<Against>,
    /// Whether the apply that follows accepts replaces (`--allow-replace`).
    pub(crate) allow_replace: bool,
}

/// What the plan made now is held to.
#[derive(Debug, Clone)]
pub(crate) enum Against {
    /// `apply PLAN`: the saved plan, applied only if it is the plan made now.
    Saved {
        name: String,
        plan: Box<json::JsonPlan>,
    },
    /// `apply --reviewed PLAN`: only the changes both plans hold are made.
    Reviewed(Box<Reviewed>),
}

/// A plan and everything it was made from.
#[derive(Debug)]
pub(crate) struct Planned<W> {
    pub(crate) loaded: Loaded,
    pub(crate) state: Option<State>,
    /// The Workspace read; `None` when the plan compares with the recorded one.
    pub(crate) workspace: Option<W>,
    /// The Workspace as read, when [`Inputs::keep_doc`].
    pub(crate) doc: Option<SnapshotDoc>,
    pub(crate) live: Live,
    pub(crate) plan: Plan,
    /// The guards the plan breaks: it may be shown, never applied.
    pub(crate) violations: Vec<Violation>,
    /// The Workspace's subscription and seats, read when the plan has writes.
    pub(crate) workspace_plan: Option<WorkspacePlan>,
    pub(crate) seats: Option<Seats>,
    /// The seats now and after the plan, when they were read.
    pub(crate) seats_after: Option<plan::seats::SeatsAfter>,
    pub(crate) live_source: json::LiveSource,
    /// With a reviewed plan: what was left out of the plan, and what no longer needs doing.
    pub(crate) review: Option<Review>,
    /// Whether apply may make it, decided once with the plan.
    pub(crate) verdict: Verdict,
}

impl<W> Planned<W> {
    /// How renderers name the file and the saved plan.
    pub(crate) fn context(&self) -> render::Context {
        render::Context::for_file(&self.loaded.path)
    }

    /// The JSON plan (SPEC §3): what every renderer and the saved plan are made from.
    /// `allow_replace`: whether the apply that follows will accept replaces.
    pub(crate) fn json(&self, allow_replace: bool) -> json::JsonPlan {
        let state = self.state.as_ref().map(State::reference);
        let mut json = json::to_json(&self.plan, state, &self.context());
        json.live_source = self.live_source;
        if json.live_source == json::LiveSource::State {
            json.recorded_at = self.state.as_ref().and_then(|s| s.last_apply.clone());
        }
        json.workspace_plan = self
            .workspace_plan
            .as_ref()
            .and_then(|p| p.plan_name.clone());
        json.seats = self.seats_after;
        json.refused = self.violations.iter().map(|v| v.message.clone()).collect();
        if !allow_replace {
            let replaces = verdict::replaces(&self.plan);
            if !replaces.is_empty() {
                json.refused.push(error::replace_sentence(&replaces));
            }
        }
        json
    }

    /// The guards the plan breaks, with the file they point into.
    fn refusal_data(&self) -> Option<error::Refusal> {
        (!self.violations.is_empty()).then(|| error::Refusal {
            file: self.loaded.path.display().to_string(),
            source: self.loaded.source.clone(),
            fragments: self.loaded.fragments.clone(),
            violations: self.violations.clone(),
            applying: false,
        })
    }

    /// The refusal of a plan that breaks guards.
    pub(crate) fn refusal(&self) -> Option<Error> {
        self.refusal_data()
            .map(|refusal| Error::Refused(Box::new(refusal)))
    }

    /// Who the plan replaces (apply makes replaces only with `--allow-replace`).
    pub(crate) fn replaces(&self) -> Vec<String> {
        verdict::replaces(&self.plan)
    }
}

/// What a task on another thread returned; its panic goes on here.
pub(crate) fn joined<T>(result: Result<T, tokio::task::JoinError>) -> T {
    result.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

/// A Workspace as read: the document when kept, its model and fingerprint, and the
/// subscription and seats it recorded (a snapshot's).
pub(crate) struct Model {
    pub(crate) doc: Option<SnapshotDoc>,
    pub(crate) live: Live,
    /// `None` until it is made (a plan made beside the file's checks makes it then).
    pub(crate) fingerprint: Option<String>,
    pub(crate) plan: Option<WorkspacePlan>,
    pub(crate) seats: Option<Seats>,
}

/// The model of a Workspace; the document itself only when `keep_doc` (the model then copies
/// only the texts it holds from it: the Workspace is not copied whole).
pub(crate) fn model(doc: SnapshotDoc, keep_doc: bool) -> Model {
    let (plan, seats) = (doc.plan.clone(), doc.seats.clone());
    let (doc, live) = if keep_doc {
        let live = doc.to_live();
        (Some(doc), live)
    } else {
        (None, doc.into_live())
    };
    let fingerprint = Some(plan::live_fingerprint(&live));
    live.index_people();
    Model {
        doc,
        live,
        fingerprint,
        plan,
        seats,
    }
}

impl From<LiveRead> for Model {
    fn from(read: LiveRead) -> Model {
        read.live.index_people();
        Model {
            doc: None,
            live: read.live,
            fingerprint: None,
            plan: read.plan,
            seats: read.seats,
        }
    }
}

/// What the file needs read beyond members (SPEC §5).
pub(crate) fn read_needs(file: &MembersFile) -> ReadNeeds {
    ReadNeeds {
        custom_roles: file.names_custom_roles(),
        groups: file.groups.is_some(),
        guest_shares: file
            .guests_with_access()
            .map(|g| g.email.value.clone())
            .collect(),
    }
}

/// Loads the members file: its problems, with their places, are an [`Error::Invalid`].
pub(crate) fn load(path: &Path) -> Result<Loaded, Error> {
    config::load(path).map_err(load_error)
}

/// Reads a Workspace file as `sync` reads it before it syncs ([`config::load_for_sync`]):
/// the file, and a warning when its fragment is read as empty.
pub(crate) fn load_for_sync(path: &Path) -> Result<(Loaded, Option<String>), Error> {
    config::load_for_sync(path).map_err(load_error)
}

pub(crate) fn load_error(e: LoadError) -> Error {
    match e {
        LoadError::Io { path, error } => Error::Io {
            action: "read",
            path,
            error,
        },
        LoadError::TooLarge { path, bytes } => Error::TooLarge { path, bytes },
        LoadError::Invalid {
            path,
            source,
            diagnostics,
            fragments,
        } => Error::Invalid(Box::new(
            FileProblems::counted(
                path.display().to_string(),
                source,
                diagnostics,
                Vec::new(),
                |name| format!("{name} is invalid"),
            )
            .with_fragments(fragments),
        )),
    }
}

/// The whole Workspace, for `snapshot` and `import`: custom roles and groups, and with
/// `guest_shares` what is shared with each guest (read once the guests are known).
pub(crate) async fn read_whole<W: Workspace>(
    workspace: &W,
    guest_shares: bool,
) -> Result<SnapshotDoc, crate::clickup::WsError> {
    let mut needs = ReadNeeds {
        custom_roles: true,
        groups: true,
        ..ReadNeeds::default()
    };
    if guest_shares {
        needs.guest_shares = workspace
            .read(&ReadNeeds::default())
            .await?
            .team
            .members
            .iter()
            .filter(|m| m.user.is_guest())
            .filter_map(|m| m.user.email.as_deref().map(crate::model::Email::from_live))
            .collect();
    }
    workspace.read(&needs).await
}
