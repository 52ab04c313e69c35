//! Making a plan, phase by phase: the file and the Workspace read side by side (`read`), the
//! state checked against the file (`state_of`), the Workspace read for what the file needs
//! (`workspace`), the changes decided with their drift and, with a reviewed plan, kept to what
//! was reviewed (`decide`), the seats and the subscription priced (`price`), and the verdict
//! (`verdict.rs`). `plan` runs them in that order. No lock is taken here: a run that writes
//! holds the state's lock before it plans (`run.rs`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::clickup::wire::{Seats, SnapshotDoc, WorkspacePlan};
use crate::clickup::{ReadNeeds, Workspace, WsError};
use crate::config::{self, Decoded, LoadError, Loaded};
use crate::engine::verdict::{self, Verdict};
use crate::engine::{
    Against, Error, FileProblems, Inputs, Model, Observer, Planned, Source, joined, load_error,
    model, read_needs, reviewed,
};
use crate::live::Live;
use crate::plan::guards::{self, Violation};
use crate::plan::{self, Plan};
use crate::render::{self, json};
use crate::state::State;

/// Makes the plan: reads the file and the Workspace side by side, computes the changes, marks
/// drift, keeps a reviewed plan's changes, checks the guards and, when there are writes, the
/// Workspace's subscription and seats, and says whether apply may make it.
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
        against,
        allow_replace,
    } = inputs;
    let started = std::time::Instant::now();
    let early = read(&file, decoded, &state_path, source, keep_doc, now).await?;
    let Early {
        loaded,
        state,
        source,
        whole,
        speculative,
    } = early;
    tracing::debug!("checked {} at {:.0?}", file.display(), started.elapsed());
    let state = state_of(state?, &state_path, &loaded, observer)?;
    let read = Reading {
        keep_doc,
        read_all,
        state_path,
    };
    let (workspace, model, live_source) = workspace(source, whole, &loaded, &state, read).await?;
    tracing::debug!("read the Workspace at {:.0?}", started.elapsed());
    let Model {
        doc,
        live,
        fingerprint,
        plan: recorded_plan,
        seats: recorded_seats,
    } = model;
    let Decided {
        mut plan,
        review,
        whole_refusal,
    } = decide(Deciding {
        loaded: &loaded,
        state: state.as_ref(),
        live: &live,
        fingerprint,
        live_source,
        speculative,
        against: against.as_ref(),
        now,
    })?;
    tracing::debug!(
        "planned {} changes at {:.0?}",
        plan.changes.len(),
        started.elapsed()
    );
    let mut violations = guards::check(&plan, &loaded.file, &live);
    let priced = price(
        &mut plan,
        Pricing {
            workspace: workspace.as_ref(),
            snapshot: (live_source == json::LiveSource::Snapshot)
                .then_some((recorded_plan, recorded_seats)),
            loaded: &loaded,
            live: &live,
        },
        observer,
    )
    .await;
    violations.extend(priced.violations);
    let mut planned = Planned {
        loaded,
        state,
        workspace,
        doc,
        live,
        plan,
        violations,
        workspace_plan: priced.workspace_plan,
        seats: priced.seats,
        seats_after: priced.seats_after,
        live_source,
        review,
        verdict: Verdict::Applicable,
    };
    planned.verdict = match whole_refusal {
        Some(refused) => refused,
        None => verdict::judge(&planned, against.as_ref(), allow_replace),
    };
    Ok(planned)
}

/// What is read before the file is known valid: the file itself, the state, and a whole
/// Workspace (a snapshot) with, when the file and the state allow, a plan made ahead.
struct Early<W> {
    loaded: Loaded,
    state: Result<Option<State>, crate::state::StateError>,
    source: Source<W>,
    /// A whole Workspace, read while the file was parsed.
    whole: Option<Result<Model, WsError>>,
    /// The plan (and the plan of the Workspace as the last apply left it), made on the thread
    /// that decoded the file while its checks ran.
    speculative: Option<Speculative>,
}

type Speculative = (
    Result<Plan, Vec<plan::PlanError>>,
    Option<Result<Plan, Vec<plan::PlanError>>>,
);

/// Reads the file on another thread while the state and a whole Workspace are read here (they
/// are independent), then checks the file while a plan is made from it: the plan is kept only
/// if the file is valid.
async fn read<W: Workspace>(
    file: &Path,
    decoded: Option<Decoded>,
    state_path: &Path,
    source: Source<W>,
    keep_doc: bool,
    now: time::OffsetDateTime,
) -> Result<Early<W>, Error> {
    let started = std::time::Instant::now();
    let parsing = {
        let file = file.to_owned();
        tokio::task::spawn_blocking(move || match decoded {
            Some(decoded) => Ok(decoded),
            None => config::decode_file(&file),
        })
    };
    // The state (60 MB of JSON at 100,000 people) is read on a thread of its own, beside the
    // Workspace: a file decoded already (a folder's, a controller's) leaves nothing else to
    // overlap them with.
    let reading_state = {
        let path = state_path.to_owned();
        tokio::task::spawn_blocking(move || State::read(&path))
    };
    let (source, whole) = match source {
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
    let state = joined(reading_state.await);
    let decoded = joined(parsing.await).map_err(load_error)?;
    tracing::debug!("read {} in {:.0?}", file.display(), started.elapsed());
    let decoded = Arc::new(decoded);
    let (whole, speculative, problems) = match (whole, &state) {
        (Some(Ok(model)), Ok(state)) if decoded.diagnostics.is_empty() => {
            let (model, speculative, problems) =
                ahead(&decoded, model, state.as_ref(), now).await?;
            (Some(Ok(model)), Some(speculative), problems)
        }
        (whole, _) => (whole, None, decoded.problems()),
    };
    // The thread that planned has given its share back.
    let decoded = Arc::into_inner(decoded).ok_or(Error::Internal(
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
    Ok(Early {
        loaded: decoded.into_loaded(),
        state,
        source,
        whole,
        speculative,
    })
}

/// A plan made ahead, on the thread that decoded the file (whose memory it takes over), while
/// the file's checks and the Workspace's fingerprint are made here.
async fn ahead(
    decoded: &Arc<Decoded>,
    model: Model,
    state: Option<&State>,
    now: time::OffsetDateTime,
) -> Result<(Model, Speculative, Vec<crate::diag::Diagnostic>), Error> {
    let managed = state.map(State::managed).unwrap_or_default();
    let recorded = state
        .and_then(|s| s.snapshot.as_ref())
        .map(SnapshotDoc::to_live);
    let model = Arc::new(model);
    let computing = {
        let (decoded, model) = (decoded.clone(), model.clone());
        tokio::task::spawn_blocking(move || {
            let plan = plan::compute_with(&decoded.file, &model.live, &managed, String::new(), now);
            let baseline =
                recorded.map(|recorded| plan::compute(&decoded.file, &recorded, &managed, now));
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
    let mut model = Arc::into_inner(model).ok_or(Error::Internal(
        "the Workspace is still shared after planning",
    ))?;
    model.fingerprint = Some(fingerprint);
    Ok((model, (plan, baseline), problems))
}

/// The state, once the file says which Workspace it is for: a state of another Workspace is
/// refused; a missing one whose Workspace file was renamed is found beside it and named.
fn state_of(
    state: Option<State>,
    state_path: &Path,
    loaded: &Loaded,
    observer: &mut dyn Observer,
) -> Result<Option<State>, Error> {
    let workspace_id = &loaded.file.workspace.id.value;
    match &state {
        Some(state) => state.ensure_workspace(state_path, workspace_id)?,
        // A Workspace file renamed after an apply leaves its state under the old name.
        None => {
            for stray in State::strays(state_path, workspace_id) {
                observer.warning(&stray.to_string());
            }
        }
    }
    Ok(state)
}

/// How the Workspace is read.
struct Reading {
    keep_doc: bool,
    read_all: bool,
    state_path: PathBuf,
}

/// The Workspace the plan compares with: the whole one read early, ClickUp read for what the
/// file needs, or the one the state recorded.
async fn workspace<W: Workspace>(
    source: Source<W>,
    whole: Option<Result<Model, WsError>>,
    loaded: &Loaded,
    state: &Option<State>,
    reading: Reading,
) -> Result<(Option<W>, Model, json::LiveSource), Error> {
    let read_error = |workspace: &W, error| Error::Read {
        what: "the Workspace".to_owned(),
        from: Some(workspace.describe()),
        error: Box::new(error),
    };
    match source {
        Source::Whole(opened) => {
            // An opened whole source was read while the file was parsed; one that could not be
            // opened says why here, after the file's own problems.
            let workspace = opened?;
            let read = whole.ok_or(Error::Internal("a whole Workspace was not read early"))?;
            let model = read.map_err(|e| read_error(&workspace, e))?;
            Ok((Some(workspace), model, json::LiveSource::Snapshot))
        }
        Source::Opened(open) => {
            let workspace = open(&loaded.file.workspace.id.value)?;
            let mut needs = read_needs(&loaded.file);
            needs.custom_roles |= reading.read_all;
            needs.groups |= reading.read_all;
            let doc = workspace
                .read(&needs)
                .await
                .map_err(|e| read_error(&workspace, e))?;
            let model = model(doc, reading.keep_doc);
            Ok((Some(workspace), model, json::LiveSource::Clickup))
        }
        Source::Recorded => {
            let Some(doc) = state.as_ref().and_then(|s| s.snapshot.clone()) else {
                return Err(Error::NothingRecorded {
                    state: reading.state_path,
                    state_exists: state.is_some(),
                    file: loaded.path.clone(),
                });
            };
            Ok((None, model(doc, reading.keep_doc), json::LiveSource::State))
        }
    }
}

/// What deciding the changes needs.
struct Deciding<'a> {
    loaded: &'a Loaded,
    state: Option<&'a State>,
    live: &'a Live,
    fingerprint: Option<String>,
    live_source: json::LiveSource,
    speculative: Option<Speculative>,
    against: Option<&'a Against>,
    now: time::OffsetDateTime,
}

/// The changes decided.
struct Decided {
    plan: Plan,
    /// With a reviewed plan: what was left out, and what no longer needs doing.
    review: Option<crate::engine::Review>,
    /// A reviewed plan that cannot stand for this one at all.
    whole_refusal: Option<Verdict>,
}

/// The changes that make the Workspace match the file (made ahead, or now), those due to
/// changes in ClickUp since the last apply marked as drift, and with a reviewed plan, only
/// the changes it holds kept: the guards, the seats and the verdict judge only what will be
/// made.
fn decide(deciding: Deciding<'_>) -> Result<Decided, Error> {
    let Deciding {
        loaded,
        state,
        live,
        fingerprint,
        live_source,
        speculative,
        against,
        now,
    } = deciding;
    let (planned, baseline) = match speculative {
        Some(made) => made,
        None => {
            let managed = state.map(State::managed).unwrap_or_default();
            (
                plan::compute_with(
                    &loaded.file,
                    live,
                    &managed,
                    fingerprint.unwrap_or_else(|| plan::live_fingerprint(live)),
                    now,
                ),
                state
                    .and_then(|s| s.snapshot.as_ref())
                    .filter(|_| live_source != json::LiveSource::State)
                    .map(|recorded| {
                        plan::compute(&loaded.file, &recorded.to_live(), &managed, now)
                    }),
            )
        }
    };
    let mut plan = planned.map_err(|errors| unplannable(loaded, errors))?;
    // What the same file would change in the Workspace as the last apply left it: the rest
    // was changed in ClickUp since.
    if live_source != json::LiveSource::State
        && let Some(Ok(baseline)) = baseline
    {
        plan::mark_drift(&mut plan, &baseline);
    }
    let Some(Against::Reviewed(reviewed)) = against else {
        return Ok(Decided {
            plan,
            review: None,
            whole_refusal: None,
        });
    };
    let state_ref = state.map(State::reference);
    let ctx = render::Context::for_file(&loaded.path);
    if let Err(why) = reviewed::check_whole(reviewed, &plan, state_ref.as_ref(), &ctx.file_name) {
        let refused = Verdict::NotReviewed {
            plan: reviewed.name.clone(),
            workspace: plan.workspace_id.clone(),
            why,
        };
        return Ok(Decided {
            plan,
            review: None,
            whole_refusal: Some(refused),
        });
    }
    let review = reviewed::select(&mut plan, reviewed, &ctx);
    Ok(Decided {
        plan,
        review: Some(review),
        whole_refusal: None,
    })
}

/// The file's rules that only the Workspace can check (a role that does not exist, the owner
/// named wrongly): no plan can be made, each problem at its place.
fn unplannable(loaded: &Loaded, errors: Vec<plan::PlanError>) -> Error {
    let (located, general): (Vec<_>, Vec<_>) = errors.into_iter().partition(|e| e.loc.is_some());
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
}

/// What pricing the plan needs.
struct Pricing<'a, W> {
    workspace: Option<&'a W>,
    /// A snapshot's own subscription and seats, which it holds already.
    snapshot: Option<(Option<WorkspacePlan>, Option<Seats>)>,
    loaded: &'a Loaded,
    live: &'a Live,
}

/// The Workspace's subscription and seats, now and after the plan.
struct Priced {
    workspace_plan: Option<WorkspacePlan>,
    seats: Option<Seats>,
    seats_after: Option<plan::seats::SeatsAfter>,
    /// `policy.seats` broken, or writes to a Workspace not on the Enterprise plan.
    violations: Vec<Violation>,
}

/// Reads the Workspace's subscription and seats when the plan has writes or the file bounds
/// the seats (SPEC §5, §7), then holds the plan to `policy.seats` and to the Enterprise plan
/// the writes need: said before anything is sent.
async fn price<W: Workspace>(
    plan: &mut Plan,
    pricing: Pricing<'_, W>,
    observer: &mut dyn Observer,
) -> Priced {
    let Pricing {
        workspace,
        snapshot,
        loaded,
        live,
    } = pricing;
    let wanted = !plan.changes.is_empty() || loaded.file.policy.seats.is_some();
    let (workspace_plan, seats) = match (workspace, snapshot) {
        _ if !wanted => (None, None),
        // A snapshot holds them already: it is not read twice.
        (Some(_), Some(recorded)) => recorded,
        (Some(workspace), None) => subscription(workspace, observer).await,
        (None, _) => (None, None),
    };
    let seats_after = seats.as_ref().map(|s| {
        plan::seats::after(
            plan,
            (s.members.filled_members_seats, s.members.total_member_seats),
            (s.guests.filled_guest_seats, s.guests.total_guest_seats),
        )
    });
    let mut violations = Vec::new();
    if let Some(bounds) = &loaded.file.policy.seats {
        let (members, guests) = match &seats_after {
            Some(s) => (
                (s.members.used, s.members.after),
                (s.guests.used, s.guests.after),
            ),
            // ClickUp's count is unknown: the people the Workspace lists stand for it.
            None => {
                let (members, guests) = plan::seats::listed(live);
                let (to_members, to_guests) = plan::seats::moves(plan);
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
    Priced {
        workspace_plan,
        seats,
        seats_after,
        violations,
    }
}

/// The Workspace's plan name and seats from ClickUp; one that cannot be read is a warning and
/// stays unknown.
async fn subscription<W: Workspace>(
    workspace: &W,
    observer: &mut dyn Observer,
) -> (Option<WorkspacePlan>, Option<Seats>) {
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
