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
mod reviewed;
mod saved;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use crate::clickup::wire::{LiveRead, Seats, SnapshotDoc, WorkspacePlan};
use crate::clickup::{ReadNeeds, Workspace, WsError};
use crate::config::{self, LoadError, Loaded, MembersFile};
use crate::live::Live;
use crate::plan::guards::{self, Violation};
use crate::plan::{self, Action, Plan};
use crate::render::{self, json};
use crate::state::State;

pub(crate) use apply::{Applied, ApplyOptions, JOURNAL_ABOVE, StateStore, apply};
pub(crate) use error::{Error, FileProblems, SavedPlanError};
pub(crate) use execute::Failure;
pub(crate) use observe::{Observer, Request};
pub(crate) use reviewed::{Review, Reviewed};
pub(crate) use saved::{SavedDoc, read_saved, read_saved_plan, recorded_file};

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
    /// `apply --reviewed`: the plan a pull request showed; only its changes are kept.
    pub(crate) reviewed: Option<Reviewed>,
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
    /// With [`Inputs::reviewed`]: what was left out of the plan, and what no longer needs
    /// doing.
    pub(crate) review: Option<Review>,
}

/// Makes the plan: reads the file and the Workspace side by side, computes the changes, marks
/// drift, checks the guards and, when there are writes, the Workspace's subscription.
pub(crate) async fn plan<W: Workspace>(
    inputs: Inputs<W>,
    observer: &mut dyn Observer,
) -> Result<Planned<W>, Error> {
    let Inputs {
        file,
        state: state_path,
        source,
        keep_doc,
        read_all,
        now,
        decoded,
        reviewed,
    } = inputs;
    let started = std::time::Instant::now();
    // The file is parsed on another thread while the state and a whole Workspace are read
    // here: they are independent.
    let parsing = {
        let file = file.clone();
        tokio::task::spawn_blocking(move || match decoded {
            Some(decoded) => Ok(decoded),
            None => config::decode_file(&file),
        })
    };
    let state = State::read(&state_path);
    let (source, early) = match source {
        Source::Whole(Ok(workspace)) => {
            let read = if keep_doc {
                workspace
                    .read(&ReadNeeds::default())
                    .await
                    .map(|doc| model(doc, true))
            } else {
                workspace.read_model().await.map(Model::from)
            };
            // While the file is still being parsed, this thread is free for the fingerprint.
            let read = read.map(|mut model| {
                if !parsing.is_finished() {
                    model.fingerprint = Some(plan::live_fingerprint(&model.live));
                }
                model
            });
            tracing::debug!("read the whole Workspace in {:.0?}", started.elapsed());
            (Source::Whole(Ok(workspace)), Some(read))
        }
        other => (other, None),
    };
    let decoded = joined(parsing.await).map_err(load_error)?;
    tracing::debug!("read {} in {:.0?}", file.display(), started.elapsed());
    // The file is checked on another thread while the plan is made from it here; the plan is
    // kept only if the file is valid.
    let decoded = std::sync::Arc::new(decoded);
    let (early, speculative, problems) = match (early, &state) {
        (Some(Ok(model)), Ok(state)) if decoded.diagnostics.is_empty() => {
            let managed = state.as_ref().map(State::managed).unwrap_or_default();
            let recorded = state
                .as_ref()
                .and_then(|s| s.snapshot.as_ref())
                .map(SnapshotDoc::to_live);
            // On the thread that decoded the file, whose memory it takes over; the checks and
            // the Workspace's fingerprint are made here meanwhile.
            let model = std::sync::Arc::new(model);
            let computing = {
                let (decoded, model) = (decoded.clone(), model.clone());
                tokio::task::spawn_blocking(move || {
                    let plan = plan::compute_with(
                        &decoded.file,
                        &model.live,
                        &managed,
                        String::new(),
                        now,
                    );
                    let baseline = recorded
                        .map(|recorded| plan::compute(&decoded.file, &recorded, &managed, now));
                    (plan, baseline)
                })
            };
            let problems = decoded.problems();
            let fingerprint = model
                .fingerprint
                .clone()
                .unwrap_or_else(|| plan::live_fingerprint(&model.live));
            let (mut plan, baseline) = joined(computing.await);
            if let Ok(plan) = &mut plan {
                plan.live_fingerprint.clone_from(&fingerprint);
            }
            let mut model = std::sync::Arc::into_inner(model).ok_or(Error::Internal(
                "the Workspace is still shared after planning",
            ))?;
            model.fingerprint = Some(fingerprint);
            (Some(Ok(model)), Some((plan, baseline)), problems)
        }
        (early, _) => (early, None, decoded.problems()),
    };
    // The thread that planned has given its share back.
    let decoded = std::sync::Arc::into_inner(decoded).ok_or(Error::Internal(
        "the members file is still shared after planning",
    ))?;
    if !problems.is_empty() {
        return Err(load_error(LoadError::Invalid {
            path: decoded.path,
            source: decoded.source,
            diagnostics: problems,
            fragments: decoded.fragments,
        }));
    }
    let loaded = decoded.into_loaded();
    tracing::debug!("checked {} at {:.0?}", file.display(), started.elapsed());
    let workspace_id = loaded.file.workspace.id.value.clone();
    let state = state?;
    match &state {
        Some(state) => state.ensure_workspace(&state_path, &workspace_id)?,
        // A Workspace file renamed after an apply leaves its state under the old name.
        None => {
            for stray in State::strays(&state_path, &workspace_id) {
                observer.warning(&stray.to_string());
            }
        }
    }
    let read_error = |workspace: &W, error| Error::Read {
        what: "the Workspace".to_owned(),
        from: Some(workspace.describe()),
        error: Box::new(error),
    };
    let (workspace, model, live_source) = match (source, early) {
        (Source::Whole(opened), early) => {
            // An opened whole source was read while the file was parsed; one that could not be
            // opened says why here, after the file's own problems.
            let workspace = opened?;
            let read = early.ok_or(Error::Internal("a whole Workspace was not read early"))?;
            let model = read.map_err(|e| read_error(&workspace, e))?;
            (Some(workspace), model, json::LiveSource::Snapshot)
        }
        (Source::Opened(open), _) => {
            let workspace = open(&workspace_id)?;
            let mut needs = read_needs(&loaded.file);
            needs.custom_roles |= read_all;
            needs.groups |= read_all;
            let doc = workspace
                .read(&needs)
                .await
                .map_err(|e| read_error(&workspace, e))?;
            (
                Some(workspace),
                model(doc, keep_doc),
                json::LiveSource::Clickup,
            )
        }
        (Source::Recorded, _) => {
            let Some(doc) = state.as_ref().and_then(|s| s.snapshot.clone()) else {
                return Err(Error::NothingRecorded {
                    state: state_path,
                    state_exists: state.is_some(),
                    file: loaded.path.clone(),
                });
            };
            (None, model(doc, keep_doc), json::LiveSource::State)
        }
    };
    tracing::debug!("read the Workspace at {:.0?}", started.elapsed());
    let Model {
        doc,
        live,
        fingerprint,
        plan: recorded_plan,
        seats: recorded_seats,
    } = model;
    let managed = state.as_ref().map(State::managed).unwrap_or_default();
    let (planned, baseline) = match speculative {
        Some(made) => made,
        None => (
            plan::compute_with(
                &loaded.file,
                &live,
                &managed,
                fingerprint.unwrap_or_else(|| plan::live_fingerprint(&live)),
                now,
            ),
            state
                .as_ref()
                .and_then(|s| s.snapshot.as_ref())
                .filter(|_| live_source != json::LiveSource::State)
                .map(|recorded| plan::compute(&loaded.file, &recorded.to_live(), &managed, now)),
        ),
    };
    let mut plan = planned.map_err(|errors| {
        let (located, general): (Vec<_>, Vec<_>) =
            errors.into_iter().partition(|e| e.loc.is_some());
        Error::Invalid(Box::new(
            FileProblems::counted(
                loaded.path.display().to_string(),
                loaded.source.clone(),
                located
                    .iter()
                    .filter_map(|e| {
                        e.loc
                            .map(|loc| crate::diag::Diagnostic::new(loc, e.message.clone()))
                    })
                    .collect(),
                general.into_iter().map(|e| e.message).collect(),
                |name| format!("no plan could be made for {name}"),
            )
            .with_fragments(loaded.fragments.clone()),
        ))
    })?;
    // What the same file would change in the Workspace as the last apply left it: the rest
    // was changed in ClickUp since.
    if live_source != json::LiveSource::State
        && let Some(Ok(baseline)) = baseline
    {
        plan::mark_drift(&mut plan, &baseline);
    }
    // The guards, the seats and the gate judge only what will be made.
    let review = match &reviewed {
        Some(reviewed) => {
            let state_ref = state.as_ref().map(State::reference);
            let ctx = render::Context::for_file(&loaded.path);
            reviewed::check_whole(reviewed, &plan, state_ref.as_ref(), &ctx.file_name)?;
            Some(reviewed::select(&mut plan, reviewed, &ctx))
        }
        None => None,
    };
    tracing::debug!(
        "planned {} changes at {:.0?}",
        plan.changes.len(),
        started.elapsed()
    );
    let mut violations = guards::check(&plan, &loaded.file, &live);
    // Writes need the Enterprise plan: say so before anything is sent (SPEC §5).
    // Seats are priced when the plan has writes or the file bounds them (SPEC §7).
    let wanted = !plan.changes.is_empty() || loaded.file.policy.seats.is_some();
    let (workspace_plan, seats) = match &workspace {
        _ if !wanted => (None, None),
        // A snapshot holds them already: it is not read twice.
        Some(_) if live_source == json::LiveSource::Snapshot => (recorded_plan, recorded_seats),
        Some(workspace) => {
            let read = workspace.subscription().await;
            let mut unread = |what: &str, e: WsError| {
                observer.warning(&format!(
                    "cannot read the Workspace's {what} from {}: {e}",
                    workspace.describe()
                ));
            };
            let plan = read.plan.unwrap_or_else(|e| {
                unread("plan", e);
                None
            });
            let seats = read.seats.unwrap_or_else(|e| {
                unread("seats", e);
                None
            });
            (plan, seats)
        }
        None => (None, None),
    };
    let seats_after = seats.as_ref().map(|s| {
        plan::seats::after(
            &plan,
            (s.members.filled_members_seats, s.members.total_member_seats),
            (s.guests.filled_guest_seats, s.guests.total_guest_seats),
        )
    });
    if let Some(bounds) = &loaded.file.policy.seats {
        let (members, guests) = match &seats_after {
            Some(s) => (
                (s.members.used, s.members.after),
                (s.guests.used, s.guests.after),
            ),
            // ClickUp's count is unknown: the people the Workspace lists stand for it.
            None => {
                let (members, guests) = plan::seats::listed(&live);
                let (to_members, to_guests) = plan::seats::moves(&plan);
                plan.warnings.push(format!(
                    "the Workspace's seats are unknown: policy.seats is held to the people it lists ({members} on member seats, {guests} guests, pending invitations included)"
                ));
                (
                    (members, members + to_members),
                    (guests, guests + to_guests),
                )
            }
        };
        let (refused, warned) = plan::seats::check(bounds, members, guests);
        violations.extend(refused);
        plan.warnings.extend(warned);
    }
    if let Some(subscription) = workspace_plan.as_ref().filter(|p| !p.is_enterprise()) {
        violations.push(Violation {
            loc: None,
            message: format!(
                "Workspace {} is on the {} plan: ClickUp makes member, guest and sharing changes only on the Enterprise plan, so every write would be refused with TEAM_110",
                plan.workspace_id,
                subscription.plan_name.as_deref().unwrap_or("(unnamed)")
            ),
        });
    }
    Ok(Planned {
        loaded,
        state,
        workspace,
        doc,
        live,
        plan,
        violations,
        workspace_plan,
        seats,
        seats_after,
        live_source,
        review,
    })
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
            let replaces = replaces(&self.plan);
            if !replaces.is_empty() {
                json.refused.push(error::replace_sentence(&replaces));
            }
        }
        json
    }

    /// The refusal of a plan that breaks guards.
    pub(crate) fn refusal(&self) -> Option<Error> {
        (!self.violations.is_empty()).then(|| {
            Error::Refused(Box::new(error::Refusal {
                file: self.loaded.path.display().to_string(),
                source: self.loaded.source.clone(),
                fragments: self.loaded.fragments.clone(),
                violations: self.violations.clone(),
                applying: false,
            }))
        })
    }

    /// Who the plan replaces (apply makes replaces only with `--allow-replace`).
    pub(crate) fn replaces(&self) -> Vec<String> {
        replaces(&self.plan)
    }

    /// Whether apply may make this plan: no broken guard, and replaces only when allowed.
    pub(crate) fn check_applicable(&self, allow_replace: bool) -> Result<(), Error> {
        if let Some(refusal) = self.refusal() {
            return Err(refusal.when_applying());
        }
        let replaces = replaces(&self.plan);
        if !replaces.is_empty() && !allow_replace {
            return Err(Error::ReplaceNotAllowed(replaces));
        }
        Ok(())
    }
}

/// What a task on another thread returned; its panic goes on here.
fn joined<T>(result: Result<T, tokio::task::JoinError>) -> T {
    result.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

/// Who the plan replaces.
fn replaces(plan: &Plan) -> Vec<String> {
    plan.changes
        .iter()
        .filter(|c| c.action() == Action::Replace)
        .map(|c| c.subject().to_owned())
        .collect()
}

/// A Workspace as read: the document when kept, its model and fingerprint, and the
/// subscription and seats it recorded (a snapshot's).
struct Model {
    doc: Option<SnapshotDoc>,
    live: Live,
    /// `None` until it is made (a plan made beside the file's checks makes it then).
    fingerprint: Option<String>,
    plan: Option<WorkspacePlan>,
    seats: Option<Seats>,
}

/// The model of a Workspace; the document itself only when `keep_doc`.
fn model(mut doc: SnapshotDoc, keep_doc: bool) -> Model {
    let (plan, seats) = (doc.plan.take(), doc.seats.take());
    let (doc, live) = if keep_doc {
        (doc.plan, doc.seats) = (plan.clone(), seats.clone());
        (Some(doc.clone()), doc.into_live())
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

fn load_error(e: LoadError) -> Error {
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
