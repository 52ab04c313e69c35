//! `apply` as a library call: the state refreshed and saved as the apply starts, the plan's
//! changes sent, every successful write recorded before the next (the state rewritten, or a
//! journal line for large Workspaces), the Workspace read again after failures, the state
//! saved at the end.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::clickup::{Workspace, WriteOp, Written, WsError};
use crate::clock;
use crate::engine::execute::{self, Failure, Ids, Report};
use crate::engine::{Error, Observer, Planned, Request, read_needs};
use crate::plan::{Action, Change, Plan};
use crate::state::{Journal, State, journal_path};
use crate::stop::StopSignal;

/// Above this many people, writes go to the state's journal: rewriting a state of megabytes
/// for every request would make a large apply quadratic.
pub(crate) const JOURNAL_ABOVE: usize = 1_000;

/// Where the state is kept, and when its journal is used.
#[derive(Debug, Clone)]
pub(crate) struct StateStore {
    pub(crate) path: PathBuf,
    /// Workspaces of more people than this record each write as a journal line (0: always).
    pub(crate) journal_above: usize,
}

impl StateStore {
    pub(crate) fn new(path: &Path) -> StateStore {
        StateStore {
            path: path.to_owned(),
            journal_above: JOURNAL_ABOVE,
        }
    }

    fn save(&self, state: &mut State) -> Result<(), Error> {
        state
            .save(&self.path)
            .map_err(|e| Error::io("write the state file", &self.path, e))
    }
}

/// How an apply runs.
#[derive(Debug, Clone)]
pub(crate) struct ApplyOptions {
    /// Whether replaces are accepted (`--allow-replace`).
    pub(crate) allow_replace: bool,
    /// Up to this many changes of a phase in flight.
    pub(crate) parallelism: usize,
    /// Once set, no new request is sent; those in flight finish and the state is saved.
    pub(crate) stop: StopSignal,
}

/// What an apply did.
#[derive(Debug)]
pub(crate) struct Applied {
    pub(crate) plan: Plan,
    /// What happened to each change that was started.
    pub(crate) report: Report,
}

impl Applied {
    /// Every change was made.
    pub(crate) fn complete(&self) -> bool {
        self.report.results.len() == self.plan.changes.len()
            && self.report.failures().next().is_none()
            && self.report.stopped.is_none()
    }

    /// The failed changes, with their index in the plan.
    pub(crate) fn failures(&self) -> Vec<(usize, &Failure)> {
        self.report.failures().collect()
    }

    /// Changes never started (the apply stopped first).
    pub(crate) fn not_started(&self) -> usize {
        self.plan.changes.len() - self.report.results.len()
    }

    /// Changes not sent because an earlier write met an error every write would meet.
    pub(crate) fn not_attempted(&self) -> usize {
        self.report
            .failures()
            .filter(|(_, f)| f.not_attempted)
            .count()
    }

    /// Changes made.
    pub(crate) fn made(&self) -> usize {
        self.report.results.values().filter(|r| r.is_ok()).count()
    }

    /// How many changes of `action` were made.
    pub(crate) fn made_of(&self, action: Action) -> usize {
        self.plan
            .changes
            .iter()
            .enumerate()
            .filter(|(i, c)| c.action() == action && self.report.succeeded(*i))
            .count()
    }
}

/// Makes `planned`'s changes in its Workspace and keeps the state at `store` current. The
/// plan must be applicable (its [`crate::engine::Verdict`]): a refused plan or a replace not
/// allowed is an error before anything is sent. A change that fails is reported in
/// [`Applied`], not as an error; an error means the apply could not run or record what it did.
pub(crate) async fn apply<W: Workspace>(
    planned: Planned<W>,
    store: &StateStore,
    observer: &mut dyn Observer,
    options: &ApplyOptions,
) -> Result<Applied, Error> {
    if let Some(refused) = planned.verdict.error(true) {
        return Err(refused);
    }
    let free_first = planned
        .seats_after
        .as_ref()
        .map(|seats| crate::plan::seats::squeezed(&planned.plan, seats))
        .unwrap_or_default();
    let Planned {
        loaded,
        state,
        workspace,
        doc,
        live,
        plan,
        ..
    } = planned;
    let (Some(workspace), Some(doc)) = (workspace, doc) else {
        return Err(Error::Internal(
            "an apply planned against the Workspace the state recorded, not one it read",
        ));
    };
    // The file's text was for showing its problems, which are behind us now.
    let file = loaded.file;
    let existed = state.is_some();
    let mut state = state.unwrap_or_else(|| State::new(&plan.workspace_id));
    // The Workspace first: it holds ClickUp's own dates for those already invited.
    let recorded = state.snapshot.replace(doc);
    let managed_changed = state.refresh_managed(&file, &live, &clock::now_rfc3339());
    if plan.is_empty() {
        // The first apply, or one with nothing to do, still records who is managed (and the
        // Workspace, when it changed).
        let changed = !existed || managed_changed || recorded != state.snapshot;
        if changed || journal_path(&store.path).exists() {
            state.last_apply = Some(clock::now_rfc3339());
            store.save(&mut state)?;
        }
        return Ok(Applied {
            plan,
            report: Report::default(),
        });
    }
    // The Workspace as the last apply left it is not needed any more.
    drop(recorded);
    // The state as the apply starts, then one record per write.
    store.save(&mut state)?;
    let journal = if live.people.len() > store.journal_above {
        let path = journal_path(&store.path);
        Some(Journal::create(&store.path).map_err(|e| Error::io("start the journal", &path, e))?)
    } else {
        None
    };
    let mut ids = Ids::new(live.people.iter().map(|p| (p.email.clone(), p.id))).with_groups(
        live.groups
            .iter()
            .flatten()
            .map(|g| (g.id.as_str(), g.members.iter().map(|(_, e)| e).collect())),
    );
    // The model has given what the sending needs; the state's own is made afresh at the end.
    drop(live);
    let mut recorder = Recorder {
        state,
        journal,
        store,
        team_id: plan.workspace_id.clone(),
        observer,
    };
    let report = execute::send(
        &plan,
        &workspace,
        &mut ids,
        &mut recorder,
        execute::Options {
            parallelism: options.parallelism,
            allow_replace: options.allow_replace,
            free_first,
        },
        &options.stop,
    )
    .await;
    drop(ids);
    let Recorder {
        mut state,
        journal,
        observer,
        ..
    } = recorder;
    settle(&mut state, &workspace, &file, &report, observer).await;
    // The Workspace has kept every write now (a snapshot file is saved): so does the journal,
    // until the state holds them.
    if let Some(journal) = &journal {
        let path = journal_path(&store.path);
        journal
            .sync()
            .map_err(|e| Error::io("sync the journal", &path, e))?;
    }
    state.last_apply = Some(clock::now_rfc3339());
    store.save(&mut state)?;
    // The state and the file hold everyone (the Workspace's members, 100,000 of them): freed on
    // a thread nobody waits for, where freeing them piece by piece would hold up the result.
    let _ = std::thread::Builder::new().spawn(move || drop((state, file)));
    Ok(Applied { plan, report })
}

/// What the state records once the writes are sent: the Workspace as it now is (read again
/// after failures: a failed request may still have taken effect, an answer lost after ClickUp
/// acted), and who is managed in it.
async fn settle<W: Workspace>(
    state: &mut State,
    workspace: &W,
    file: &crate::config::MembersFile,
    report: &Report,
    observer: &mut dyn Observer,
) {
    if let Err(e) = workspace.flush().await {
        observer.warning(&e.message);
    }
    if report.failures().next().is_some() && report.stopped.is_none() {
        match workspace.read(&read_needs(file)).await {
            Ok(doc) => state.snapshot = Some(doc),
            Err(e) => observer.warning(&format!(
                "cannot read the Workspace again after the failures ({e}); the state records what was applied as ClickUp answered it"
            )),
        }
    }
    if let Some(doc) = &state.snapshot {
        let live = doc.to_live();
        state.refresh_managed(file, &live, &clock::now_rfc3339());
    }
}

/// Records every successful write in the state (or its journal) and tells the observer.
struct Recorder<'a> {
    state: State,
    /// For a large Workspace: each write is a journal line rather than a state rewrite.
    journal: Option<Journal>,
    store: &'a StateStore,
    team_id: String,
    observer: &'a mut dyn Observer,
}

impl Recorder<'_> {
    fn tell(
        &mut self,
        change: &Change,
        op: &WriteOp,
        outcome: Result<Option<u16>, &WsError>,
        elapsed: Duration,
    ) {
        let (route, _) = op.route();
        self.observer.request(&Request {
            change,
            route,
            path: format!("/{}", op.path(&self.team_id)),
            outcome,
            elapsed,
        });
    }
}

/// The apply's own observer: every write recorded in the state, and told on to the caller's.
impl Observer for Recorder<'_> {
    fn warning(&mut self, message: &str) {
        self.observer.warning(message);
    }

    fn change_started(&mut self, index: usize, change: &Change) {
        self.observer.change_started(index, change);
    }

    fn written(
        &mut self,
        change: &Change,
        op: &WriteOp,
        written: &Written,
        elapsed: Duration,
    ) -> Result<(), Error> {
        self.tell(change, op, Ok(written.status), elapsed);
        let path = &self.store.path;
        let journal = self.journal.as_mut();
        self.state
            .record(path, journal, op, &written.outcome, written.durable)
            .map_err(|e| Error::io("write the state file", path, e))
    }

    fn write_failed(&mut self, change: &Change, op: &WriteOp, error: &WsError, elapsed: Duration) {
        self.tell(change, op, Err(error), elapsed);
    }

    fn change_finished(&mut self, index: usize, change: &Change, result: &Result<(), Failure>) {
        self.observer.change_finished(index, change, result);
    }
}
