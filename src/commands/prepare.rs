//! What `plan` and `apply` share: load the file and the state, read the Workspace, compute the
//! plan and check its guards, reporting every problem found on the way.

use crate::clickup::http::{self, HttpWorkspace, Token};
use crate::clickup::snapshot::SnapshotWorkspace;
use crate::clickup::wire::{Seats, SnapshotDoc, WorkspacePlan};
use crate::clickup::{ReadNeeds, Workspace, WriteOp, Written, WsError};
use crate::commands::Common;
use crate::commands::{Stop, display_path, load_config, report_problems};
use crate::config::{Loaded, MembersFile};
use crate::diag::Diagnostic;
use crate::live::Live;
use crate::model::Email;
use crate::plan::{self, Plan, guards};
use crate::render;
use crate::state::State;
use crate::stop::StopSignal;

/// Where the live Workspace comes from. One lives per command, so its size does not matter.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Backend {
    Snapshot(SnapshotWorkspace),
    Http(HttpWorkspace),
}

impl Workspace for Backend {
    fn describe(&self) -> String {
        match self {
            Backend::Snapshot(s) => s.describe(),
            Backend::Http(h) => h.describe(),
        }
    }

    async fn read(&self, needs: &ReadNeeds) -> Result<SnapshotDoc, WsError> {
        match self {
            Backend::Snapshot(s) => s.read(needs).await,
            Backend::Http(h) => h.read(needs).await,
        }
    }

    async fn write(&self, op: &WriteOp) -> Result<Written, WsError> {
        match self {
            Backend::Snapshot(s) => s.write(op).await,
            Backend::Http(h) => h.write(op).await,
        }
    }

    async fn subscription(&self) -> Result<(Option<WorkspacePlan>, Option<Seats>), WsError> {
        match self {
            Backend::Snapshot(s) => s.subscription().await,
            Backend::Http(h) => h.subscription().await,
        }
    }

    async fn flush(&self) -> Result<(), WsError> {
        match self {
            Backend::Snapshot(s) => s.flush().await,
            Backend::Http(h) => h.flush().await,
        }
    }
}

/// Everything a plan was made from.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub(crate) loaded: Loaded,
    pub(crate) state: Option<State>,
    /// `None` with `--refresh=false`.
    pub(crate) backend: Option<Backend>,
    /// The Workspace as read, when the caller asked to keep it.
    pub(crate) doc: Option<SnapshotDoc>,
    pub(crate) live: Live,
    pub(crate) plan: Plan,
    pub(crate) ctx: render::Context,
    /// The guards the plan breaks: it may be shown, never applied.
    pub(crate) violations: Vec<guards::Violation>,
    /// The Workspace's subscription and seats, read when the plan has writes.
    pub(crate) workspace_plan: Option<WorkspacePlan>,
    pub(crate) seats: Option<Seats>,
}

impl Prepared {
    /// Where the Workspace the plan compares with was read.
    pub(crate) fn source(&self) -> render::json::LiveSource {
        match &self.backend {
            Some(Backend::Http(_)) => render::json::LiveSource::Clickup,
            Some(Backend::Snapshot(_)) => render::json::LiveSource::Snapshot,
            None => render::json::LiveSource::State,
        }
    }

    /// The JSON plan (SPEC §3) of what was prepared: what every renderer and the saved plan
    /// are made from. `allow_replace`: whether the apply that follows will accept replaces.
    pub(crate) fn json(&self, allow_replace: bool) -> render::json::JsonPlan {
        let state = self.state.as_ref().map(|s| render::json::JsonStateRef {
            lineage: s.lineage.clone(),
            serial: s.serial,
        });
        let mut json = render::json::to_json(&self.plan, state, &self.ctx);
        json.live_source = self.source();
        if json.live_source == render::json::LiveSource::State {
            json.recorded_at = self.state.as_ref().and_then(|s| s.last_apply.clone());
        }
        json.workspace_plan = self.workspace_plan.clone();
        json.seats = self.seats.clone();
        json.refused = self.refusals();
        if !allow_replace {
            json.refused.extend(replace_refusal(&self.plan));
        }
        json
    }

    /// The broken guards, as the sentences the plan is refused with.
    pub(crate) fn refusals(&self) -> Vec<String> {
        self.violations.iter().map(|v| v.message.clone()).collect()
    }

    /// Prints why the plan is refused and returns the [`Stop`] that ends the command.
    pub(crate) fn refuse(&self) -> Result<Stop, Stop> {
        let (located, general): (Vec<_>, Vec<_>) =
            self.violations.iter().partition(|v| v.loc.is_some());
        let diagnostics: Vec<Diagnostic> = located
            .iter()
            .filter_map(|v| {
                v.loc
                    .map(|loc| Diagnostic::new(loc, format!("refused: {}", v.message)))
            })
            .collect();
        let general: Vec<String> = general
            .iter()
            .map(|v| format!("refused: {}", v.message))
            .collect();
        report_problems(
            &display_path(&self.loaded.path),
            &self.loaded.source,
            &diagnostics,
            &general,
            "the plan is refused; nothing was applied".to_owned(),
        )
    }
}

/// Why apply refuses a plan with replaces unless `--allow-replace` is given; `None` without
/// replaces.
pub(crate) fn replace_refusal(plan: &Plan) -> Option<String> {
    let replaces: Vec<&str> = plan
        .changes
        .iter()
        .filter(|c| c.action() == crate::plan::Action::Replace)
        .map(crate::plan::Change::subject)
        .collect();
    let n = replaces.len();
    (n > 0).then(|| {
        format!(
            "the plan replaces {n} {} ({}): they are removed and invited again, which loses their history and shares; apply makes replaces only with --allow-replace",
            if n == 1 { "person" } else { "people" },
            replaces.join(", ")
        )
    })
}

/// The model of a Workspace and its fingerprint; the document itself only when `keep_doc`.
fn model(mut doc: SnapshotDoc, keep_doc: bool) -> Model {
    let subscription = (doc.plan.take(), doc.seats.take());
    if keep_doc {
        (doc.plan, doc.seats) = subscription.clone();
    }
    let (doc, live) = if keep_doc {
        (Some(doc.clone()), doc.into_live())
    } else {
        (None, doc.into_live())
    };
    let fingerprint = plan::live_fingerprint(&live);
    (doc, live, fingerprint, subscription)
}

/// A Workspace as read: the document when kept, its model and fingerprint, and the
/// subscription and seats it recorded (a snapshot's).
type Model = (
    Option<SnapshotDoc>,
    Live,
    String,
    (Option<WorkspacePlan>, Option<Seats>),
);

/// Checks `--workspace ID` of `snapshot` and `import`.
pub(crate) fn check_workspace_id(id: &str) -> Result<(), Stop> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(Stop::Error(format!(
            "--workspace must be the Workspace's numeric id, not \"{id}\""
        )));
    }
    Ok(())
}

/// The whole Workspace, for `snapshot` and `import`: custom roles and groups, and with
/// `guest_shares` what is shared with each guest (read once the guests are known).
pub(crate) async fn read_whole<W: Workspace>(
    workspace: &W,
    guest_shares: bool,
) -> Result<SnapshotDoc, WsError> {
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
            .filter_map(|m| m.user.email.as_deref().map(Email::from_live))
            .collect();
    }
    workspace.read(&needs).await
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

/// The snapshot file when `--snapshot` is given, else ClickUp itself.
pub(crate) fn open_backend(
    common: &Common,
    workspace_id: &str,
    stop: &StopSignal,
) -> Result<Backend, Stop> {
    match &common.snapshot {
        Some(path) => SnapshotWorkspace::open(path)
            .map(Backend::Snapshot)
            .map_err(Stop::Error),
        None => open_http(common, workspace_id, stop).map(Backend::Http),
    }
}

pub(crate) fn open_http(
    common: &Common,
    workspace_id: &str,
    stop: &StopSignal,
) -> Result<HttpWorkspace, Stop> {
    let token = Token::from_env().map_err(Stop::Error)?;
    let options = http::Options {
        api_url: common.api_url.clone(),
        timeout: common.timeout,
        stop: stop.clone(),
    };
    HttpWorkspace::new(&options, token, workspace_id).map_err(Stop::Error)
}

pub(crate) async fn prepare(
    common: &Common,
    refresh: bool,
    keep_doc: bool,
    stop: &StopSignal,
) -> Result<Prepared, Stop> {
    let started = std::time::Instant::now();
    // The file is parsed on another thread while the state and a snapshot are read here.
    let parsing = {
        let common = common.clone();
        tokio::task::spawn_blocking(move || load_config(&common))
    };
    let state = State::read(&common.state);
    // A snapshot needs nothing from the file: it is read, modelled and fingerprinted now.
    let early = match (&common.snapshot, refresh) {
        (Some(path), true) => {
            let backend = SnapshotWorkspace::open(path).map_err(Stop::Error);
            let model = match &backend {
                // Only the model is needed: the snapshot is read straight into it.
                Ok(b) if !keep_doc => Some(b.read_live().map(|read| {
                    let fingerprint = plan::live_fingerprint(&read.live);
                    (None, read.live, fingerprint, (read.plan, read.seats))
                })),
                Ok(b) => Some(
                    b.read(&ReadNeeds::default())
                        .await
                        .map(|doc| model(doc, keep_doc)),
                ),
                Err(_) => None,
            };
            Some((backend, model))
        }
        _ => None,
    };
    let loaded = parsing
        .await
        .map_err(|e| Stop::Error(format!("reading the file failed: {e}")))??;
    tracing::debug!(
        "read {} in {:.0?}",
        display_path(&loaded.path),
        started.elapsed()
    );
    let workspace_id = loaded.file.workspace.id.value.clone();
    let state = state.map_err(|e| Stop::Error(e.to_string()))?;
    if let Some(state) = &state {
        state
            .ensure_workspace(&common.state, &workspace_id)
            .map_err(|e| Stop::Error(e.to_string()))?;
    }
    let read_error = |backend: &Backend, e: WsError| {
        Stop::Error(format!(
            "cannot read the Workspace from {}: {e}",
            backend.describe()
        ))
    };
    let (backend, (doc, live, fingerprint, recorded)) = match early {
        Some((backend, model)) => {
            let backend = Backend::Snapshot(backend?);
            match model {
                Some(Ok(model)) => (Some(backend), model),
                Some(Err(e)) => return Err(read_error(&backend, e)),
                None => return Err(Stop::Error("the snapshot could not be opened".to_owned())),
            }
        }
        None if refresh => {
            let backend = open_backend(common, &workspace_id, stop)?;
            let doc = match backend.read(&read_needs(&loaded.file)).await {
                Ok(doc) => doc,
                Err(e) => return Err(read_error(&backend, e)),
            };
            (Some(backend), model(doc, keep_doc))
        }
        None => {
            let Some(doc) = state.as_ref().and_then(|s| s.snapshot.clone()) else {
                return Err(Stop::NothingRecorded(format!(
                    "--refresh=false plans against the Workspace recorded by the last apply, but {} {}: there is nothing to compare {} with yet. Once apply has run (in CI, on merge), plans without a token show the changes; with a token, plan without --refresh=false",
                    display_path(&common.state),
                    if state.is_some() {
                        "records no Workspace yet"
                    } else {
                        "does not exist"
                    },
                    display_path(&loaded.path)
                )));
            };
            (None, model(doc, keep_doc))
        }
    };
    tracing::debug!("read the Workspace at {:.0?}", started.elapsed());
    let managed = state.as_ref().map(State::managed).unwrap_or_default();
    let name = display_path(&loaded.path);
    let mut plan = match plan::compute_with(&loaded.file, &live, &managed, fingerprint) {
        Ok(plan) => plan,
        Err(errors) => {
            let (located, general): (Vec<_>, Vec<_>) =
                errors.into_iter().partition(|e| e.loc.is_some());
            let diagnostics: Vec<Diagnostic> = located
                .iter()
                .filter_map(|e| e.loc.map(|loc| Diagnostic::new(loc, e.message.clone())))
                .collect();
            let general: Vec<String> = general.into_iter().map(|e| e.message).collect();
            let n = diagnostics.len() + general.len();
            let summary = format!(
                "no plan could be made for {name}: {n} {}",
                if n == 1 { "problem" } else { "problems" }
            );
            return Err(report_problems(
                &name,
                &loaded.source,
                &diagnostics,
                &general,
                summary,
            )?);
        }
    };
    // What the same file would change in the Workspace as the last apply left it: the rest
    // was changed in ClickUp since.
    if refresh
        && let Some(recorded) = state.as_ref().and_then(|s| s.snapshot.as_ref())
        && let Ok(baseline) = plan::compute(&loaded.file, &recorded.to_live(), &managed)
    {
        plan::mark_drift(&mut plan, &baseline);
    }
    tracing::debug!(
        "planned {} changes at {:.0?}",
        plan.changes.len(),
        started.elapsed()
    );
    let mut violations = guards::check(&plan, &loaded.file, &live);
    let ctx = render::Context::for_file(&loaded.path);
    // Writes need the Enterprise plan: say so before anything is sent (SPEC §5).
    let (workspace_plan, seats) = match &backend {
        // A snapshot holds them already: it is not read twice.
        Some(Backend::Snapshot(_)) if !plan.changes.is_empty() => recorded,
        Some(backend) if !plan.changes.is_empty() => {
            backend.subscription().await.unwrap_or_else(|e| {
                crate::console::warning(&format!(
                    "cannot read the Workspace's plan and seats from {}: {e}",
                    backend.describe()
                ));
                (None, None)
            })
        }
        _ => (None, None),
    };
    if let Some(subscription) = workspace_plan.as_ref().filter(|p| !p.is_enterprise()) {
        violations.push(guards::Violation {
            loc: None,
            message: format!(
                "Workspace {} is on the {} plan: ClickUp makes member, guest and sharing changes only on the Enterprise plan, so every write would be refused with TEAM_110",
                plan.workspace_id,
                subscription.plan_name.as_deref().unwrap_or("(unnamed)")
            ),
        });
    }
    Ok(Prepared {
        workspace_plan,
        seats,
        loaded,
        state,
        backend,
        doc,
        live,
        plan,
        ctx,
        violations,
    })
}
