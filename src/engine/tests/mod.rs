//! The engine's rules, each tested in-process on the shipped example against the snapshot
//! Workspace: no binary, no terminal.

mod properties;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::*;
use crate::clickup::snapshot::SnapshotWorkspace;
use crate::clickup::wire::routes::Route;
use crate::clickup::{WriteOp, Written, WsError};
use crate::plan::Change;
use crate::state::journal_path;
use crate::stop::StopSignal;

const MEMBERS: &str = include_str!("../../../examples/acme/members.yaml");
const SNAPSHOT: &str = include_str!("../../../examples/acme/workspace.snapshot.json");

/// The time the plans of these tests are made at.
const NOW: time::OffsetDateTime = time::macros::datetime!(2026-12-01 0:00 UTC);

/// A members file, a snapshot and a state path in a fresh folder.
struct Setup {
    _dir: tempfile::TempDir,
    file: PathBuf,
    snapshot: PathBuf,
    state: PathBuf,
}

impl Setup {
    fn new(members: &str, snapshot: &str) -> Setup {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("members.yaml");
        let snapshot_path = dir.path().join("workspace.snapshot.json");
        std::fs::write(&file, members).expect("write members");
        std::fs::write(&snapshot_path, snapshot).expect("write snapshot");
        let state = dir.path().join("members.state.json");
        Setup {
            _dir: dir,
            file,
            snapshot: snapshot_path,
            state,
        }
    }

    fn acme() -> Setup {
        Setup::new(MEMBERS, SNAPSHOT)
    }

    fn inputs(&self, keep_doc: bool) -> Inputs<SnapshotWorkspace> {
        Inputs {
            file: self.file.clone(),
            state: self.state.clone(),
            source: Source::Whole(
                SnapshotWorkspace::open(&self.snapshot)
                    .map_err(|e| Error::io("read the snapshot", &self.snapshot, e)),
            ),
            keep_doc,
            read_all: false,
            decoded: None,
            against: None,
            allow_replace: true,
            now: NOW,
        }
    }

    fn recorded(&self) -> Inputs<SnapshotWorkspace> {
        Inputs {
            source: Source::Recorded,
            ..self.inputs(false)
        }
    }

    fn plan(&self) -> Result<Planned<SnapshotWorkspace>, Error> {
        run(plan(self.inputs(false), &mut Heard::default()))
    }

    /// Plans and applies, with `allow_replace`; what the observer heard comes back too.
    fn apply(&self, allow_replace: bool, store: &StateStore) -> (Result<Applied, Error>, Heard) {
        let mut heard = Heard::default();
        let applied = run(async {
            let inputs = Inputs {
                allow_replace,
                ..self.inputs(true)
            };
            let planned = plan(inputs, &mut heard).await?;
            apply(planned, store, &mut heard, &options(allow_replace)).await
        });
        (applied, heard)
    }

    fn store(&self) -> StateStore {
        StateStore::new(&self.state)
    }

    /// Edits the snapshot as a person would in ClickUp's UI.
    fn edit_snapshot(&self, edit: impl FnOnce(&mut Value)) {
        let mut doc: Value =
            serde_json::from_slice(&std::fs::read(&self.snapshot).expect("read")).expect("json");
        edit(&mut doc);
        std::fs::write(&self.snapshot, serde_json::to_vec(&doc).expect("json")).expect("write");
    }
}

fn run<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

fn options(allow_replace: bool) -> ApplyOptions {
    ApplyOptions {
        allow_replace,
        parallelism: 1,
        stop: StopSignal::default(),
    }
}

/// Everything an observer hears.
#[derive(Default)]
struct Heard {
    warnings: Vec<String>,
    started: Vec<usize>,
    /// `(route, path, succeeded)` of every write request.
    requests: Vec<(Route, String, bool)>,
    finished: Vec<(usize, bool)>,
    /// Called when a change finishes, with its index.
    on_finished: Option<Box<dyn FnMut(usize) + Send>>,
}

impl Observer for Heard {
    fn warning(&mut self, message: &str) {
        self.warnings.push(message.to_owned());
    }

    fn change_started(&mut self, index: usize, _: &Change) {
        self.started.push(index);
    }

    fn request(&mut self, request: &Request<'_>) {
        self.requests
            .push((request.route, request.path.clone(), request.outcome.is_ok()));
    }

    fn change_finished(&mut self, index: usize, _: &Change, result: &Result<(), Failure>) {
        self.finished.push((index, result.is_ok()));
        if let Some(callback) = &mut self.on_finished {
            callback(index);
        }
    }
}

fn member_mut<'a>(doc: &'a mut Value, email: &str) -> &'a mut Value {
    doc["team"]["members"]
        .as_array_mut()
        .expect("members")
        .iter_mut()
        .find(|m| m["user"]["email"] == email)
        .map(|m| &mut m["user"])
        .expect("member in the snapshot")
}

#[test]
fn a_plan_is_made_from_the_file_and_the_snapshot_read_side_by_side() {
    let setup = Setup::acme();
    let planned = setup.plan().expect("plan");
    assert_eq!(planned.live_source, json::LiveSource::Snapshot);
    assert_eq!(planned.plan.workspace_id, "9006054115");
    assert_eq!(planned.plan.changes.len(), 14);
    assert!(planned.violations.is_empty(), "{:?}", planned.violations);
    assert!(planned.doc.is_none(), "a plan keeps only the model");
    // No state yet: nothing is drift.
    assert!(planned.plan.drift.is_empty());
}

#[test]
fn replaces_are_refused_unless_allowed_and_nothing_is_sent() {
    let setup = Setup::acme();
    let planned = run(plan(
        Inputs {
            allow_replace: false,
            ..setup.inputs(false)
        },
        &mut Heard::default(),
    ))
    .expect("plan");
    match &planned.verdict {
        Verdict::ReplaceNotAllowed(people) => assert_eq!(people, &["tom@acme.example"]),
        other => panic!("expected the replace gate, got {other:?}"),
    }
    let allowed = setup.plan().expect("plan");
    assert!(matches!(allowed.verdict, Verdict::Applicable));
    let refused = planned.json(false).refused;
    assert!(refused.iter().any(|r| r.contains("replaces 1 person")));
    assert!(planned.json(true).refused.is_empty());

    let before = std::fs::read(&setup.snapshot).expect("read");
    let (applied, heard) = setup.apply(false, &setup.store());
    assert!(matches!(applied, Err(Error::ReplaceNotAllowed(_))));
    assert!(heard.requests.is_empty());
    assert_eq!(std::fs::read(&setup.snapshot).expect("read"), before);
    assert!(
        !setup.state.exists(),
        "no state is written for a refused apply"
    );
}

#[test]
fn a_plan_that_breaks_a_guard_is_refused_with_its_place_and_never_applied() {
    let members = MEMBERS.replace("max_removals: 6", "max_removals: 1");
    let setup = Setup::new(&members, SNAPSHOT);
    let planned = setup.plan().expect("plan");
    let Some(Error::Refused(refusal)) = planned.refusal() else {
        panic!("expected a refusal");
    };
    let problems = refusal.problems();
    let messages: Vec<&str> = problems
        .diagnostics
        .iter()
        .map(|d| d.message.as_str())
        .chain(problems.general.iter().map(String::as_str))
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("max_removals")),
        "{messages:?}"
    );
    assert!(
        problems.diagnostics.iter().all(|d| d.loc.line > 0),
        "placed in the file"
    );
    let (applied, heard) = setup.apply(true, &setup.store());
    assert!(matches!(applied, Err(Error::Refused(_))));
    assert!(heard.requests.is_empty());
}

#[test]
fn a_workspace_not_on_enterprise_is_refused_before_anything_is_sent() {
    let setup = Setup::acme();
    setup.edit_snapshot(|doc| {
        doc["plan"] = serde_json::json!({ "plan_name": "Business", "plan_id": 3 });
    });
    let planned = setup.plan().expect("plan");
    assert!(
        planned
            .violations
            .iter()
            .any(|v| v.message.contains("Business plan") && v.message.contains("TEAM_110")),
        "{:?}",
        planned.violations
    );
}

#[test]
fn apply_converges_records_the_state_and_tells_every_request() {
    let setup = Setup::acme();
    let (applied, heard) = setup.apply(true, &setup.store());
    let applied = applied.expect("apply");
    assert!(applied.complete(), "{:?}", applied.failures());
    assert_eq!(applied.made(), 14);
    assert_eq!(heard.finished.len(), 14);
    assert!(heard.finished.iter().all(|(_, ok)| *ok));
    // Every request is named by the one table of routes, with the path sent.
    assert!(heard.requests.iter().all(|(_, _, ok)| *ok));
    for (route, path, _) in &heard.requests {
        let fixed = route.template().split('{').next().unwrap_or_default();
        assert!(
            path.starts_with(fixed),
            "{path} is not {}",
            route.template()
        );
    }
    assert!(
        heard
            .requests
            .iter()
            .any(|(r, p, _)| *r == Route::InviteMember && p == "/team/9006054115/user")
    );
    let state = State::read(&setup.state).expect("state").expect("written");
    assert!(state.last_apply.is_some());
    assert!(
        state
            .members
            .contains_key(&crate::model::Email::from_live("nina@acme.example"))
    );
    // Converged: the same file plans nothing more.
    let again = setup.plan().expect("plan again");
    assert!(again.plan.changes.is_empty(), "{:?}", again.plan.changes);
}

#[test]
fn a_change_made_in_clickup_since_the_last_apply_is_drift() {
    let setup = Setup::acme();
    setup.apply(true, &setup.store()).0.expect("apply");
    // Someone makes max a member again in ClickUp's UI.
    setup.edit_snapshot(|doc| member_mut(doc, "max@acme.example")["role"] = 3.into());
    let planned = setup.plan().expect("plan");
    assert_eq!(planned.plan.changes.len(), 1);
    assert_eq!(planned.plan.changes[0].subject(), "max@acme.example");
    assert!(planned.plan.drift.contains(&0), "marked as drift");
    // A change of the file is not drift.
    let members = std::fs::read_to_string(&setup.file).expect("read").replace(
        "  - email: max@acme.example\n    role: admin",
        "  - email: max@acme.example",
    );
    std::fs::write(&setup.file, members).expect("write");
    let planned = setup.plan().expect("plan");
    assert!(
        planned.plan.changes.is_empty(),
        "{:?}",
        planned.plan.changes
    );
}

#[test]
fn a_saved_plan_applies_only_while_nothing_it_was_made_from_changed() {
    let setup = Setup::acme();
    let saved = setup.file.with_file_name("plan.json");
    let planned = setup.plan().expect("plan");
    let mut bytes = Vec::new();
    json::write(&mut bytes, &planned.json(true).sealed()).expect("json");
    std::fs::write(&saved, &bytes).expect("save");
    let stale = |planned: &Planned<SnapshotWorkspace>| match planned.check_saved(&saved) {
        Err(Error::Stale { why, .. }) => why,
        other => panic!("expected a stale plan, got {other:?}"),
    };
    planned.check_saved(&saved).expect("the same plan");

    setup.edit_snapshot(|doc| member_mut(doc, "ada@acme.example")["username"] = "Ada L.".into());
    assert_eq!(stale(&setup.plan().expect("plan")), "the Workspace changed");
    std::fs::write(&setup.snapshot, SNAPSHOT).expect("write");

    // A comment is not a change of the file; a new limit is.
    std::fs::write(&setup.file, format!("{MEMBERS}\n# a comment\n")).expect("write");
    let now = setup.plan().expect("plan");
    now.check_saved(&saved).expect("the same plan");
    let members = MEMBERS.replace("max_removals: 6", "max_removals: 7");
    std::fs::write(&setup.file, members).expect("write");
    assert_eq!(stale(&setup.plan().expect("plan")), "members.yaml changed");

    // A plan edited after it was saved is refused as such.
    let text = String::from_utf8(bytes).expect("utf-8");
    std::fs::write(
        &saved,
        text.replace("nina@acme.example", "nine@acme.example"),
    )
    .expect("write");
    assert!(matches!(
        read_saved_plan(&saved),
        Err(SavedPlanError::Tampered { .. })
    ));
}

/// The snapshot Workspace, with a write whose answer is lost: ClickUp acts, the tool hears a
/// failure.
struct LostAnswer {
    inner: SnapshotWorkspace,
    lose: fn(&WriteOp) -> bool,
    reads: Arc<AtomicUsize>,
}

impl Workspace for LostAnswer {
    fn describe(&self) -> String {
        "a Workspace that loses an answer".to_owned()
    }

    async fn read(&self, needs: &ReadNeeds) -> Result<SnapshotDoc, WsError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.read(needs).await
    }

    async fn write(&self, op: &WriteOp) -> Result<Written, WsError> {
        let written = self.inner.write(op).await?;
        if (self.lose)(op) {
            return Err(WsError::local("the connection was reset"));
        }
        Ok(written)
    }

    async fn flush(&self) -> Result<(), WsError> {
        self.inner.flush().await
    }
}

#[test]
fn after_a_failed_write_the_workspace_is_read_again_and_the_state_records_what_is() {
    let setup = Setup::acme();
    let reads = Arc::new(AtomicUsize::new(0));
    let workspace = LostAnswer {
        inner: SnapshotWorkspace::open(&setup.snapshot).expect("open"),
        lose: |op| matches!(op, WriteOp::InviteMember { email, .. } if email.as_str() == "nina@acme.example"),
        reads: reads.clone(),
    };
    let inputs = Inputs {
        file: setup.file.clone(),
        state: setup.state.clone(),
        source: Source::Whole(Ok(workspace)),
        keep_doc: true,
        read_all: false,
        decoded: None,
        against: None,
        allow_replace: true,
        now: NOW,
    };
    let mut heard = Heard::default();
    let applied = run(async {
        let planned = plan(inputs, &mut heard).await?;
        apply(planned, &setup.store(), &mut heard, &options(true)).await
    })
    .expect("apply runs");
    // The invitation, and the group change that needed nina's id.
    let failed: Vec<&str> = applied
        .failures()
        .iter()
        .map(|(i, _)| applied.plan.changes[*i].subject())
        .collect();
    assert_eq!(failed[0], "nina@acme.example", "{failed:?}");
    assert!(
        heard
            .requests
            .iter()
            .any(|(r, _, ok)| *r == Route::InviteMember && !ok)
    );
    assert_eq!(
        reads.load(Ordering::SeqCst),
        2,
        "read for the plan, then again"
    );
    let state = State::read(&setup.state).expect("state").expect("written");
    let recorded = state.snapshot.expect("recorded").to_live();
    assert!(
        recorded
            .person(&crate::model::Email::from_live("nina@acme.example"))
            .is_some(),
        "the state records the invitation ClickUp made"
    );
}

#[test]
fn a_large_workspace_records_each_write_as_a_journal_line() {
    for (journal_above, journalled) in [(0, true), (usize::MAX, false)] {
        let setup = Setup::acme();
        let store = StateStore {
            journal_above,
            ..setup.store()
        };
        let journal = journal_path(&setup.state);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut heard = Heard {
            on_finished: Some(Box::new({
                let (seen, journal, state) = (seen.clone(), journal.clone(), setup.state.clone());
                move |_| {
                    let lines = std::fs::read_to_string(&journal).map(|t| t.lines().count());
                    let serial = State::read(&state).ok().flatten().map(|s| s.serial);
                    seen.lock().expect("lock").push((lines.ok(), serial));
                }
            })),
            ..Heard::default()
        };
        let applied = run(async {
            let planned = plan(setup.inputs(true), &mut heard).await?;
            apply(planned, &store, &mut heard, &options(true)).await
        })
        .expect("apply");
        assert!(applied.complete());
        let seen = seen.lock().expect("lock").clone();
        if journalled {
            let lines: Vec<usize> = seen.iter().filter_map(|(l, _)| *l).collect();
            assert_eq!(
                lines.len(),
                seen.len(),
                "the journal is there during the apply"
            );
            assert!(lines.windows(2).all(|w| w[0] <= w[1]) && lines[lines.len() - 1] > 0);
        } else {
            assert!(
                seen.iter().all(|(l, _)| l.is_none()),
                "no journal: {seen:?}"
            );
            let serials: Vec<u64> = seen.iter().filter_map(|(_, s)| *s).collect();
            assert!(
                serials.windows(2).all(|w| w[0] < w[1]),
                "rewritten: {serials:?}"
            );
        }
        assert!(!journal.exists(), "folded into the state at the end");
        let state = State::read(&setup.state).expect("state").expect("written");
        assert!(state.last_apply.is_some());
    }
}

#[test]
fn an_apply_with_nothing_to_do_still_records_who_is_managed() {
    let setup = Setup::acme();
    setup.apply(true, &setup.store()).0.expect("apply");
    std::fs::remove_file(&setup.state).expect("remove the state");
    let (applied, heard) = setup.apply(true, &setup.store());
    let applied = applied.expect("apply");
    assert!(applied.plan.changes.is_empty() && applied.complete());
    assert!(heard.requests.is_empty());
    let state = State::read(&setup.state)
        .expect("state")
        .expect("written again");
    assert!(state.members.len() > 20, "{}", state.members.len());
}

#[test]
fn without_a_recorded_workspace_a_plan_against_the_state_is_nothing_recorded() {
    let setup = Setup::acme();
    match run(plan(setup.recorded(), &mut Heard::default())) {
        Err(Error::NothingRecorded { state_exists, .. }) => assert!(!state_exists),
        other => panic!("expected nothing recorded, got {other:?}"),
    }
    setup.apply(true, &setup.store()).0.expect("apply");
    let planned = run(plan(setup.recorded(), &mut Heard::default())).expect("plan");
    assert_eq!(planned.live_source, json::LiveSource::State);
    assert!(planned.workspace.is_none());
    assert!(planned.plan.changes.is_empty());
}

#[test]
fn an_invalid_file_is_an_error_with_each_problem_at_its_line() {
    let members = MEMBERS.replace("email: elif@acme.example", "email: elif@");
    let setup = Setup::new(&members, SNAPSHOT);
    let Err(Error::Invalid(problems)) = setup.plan() else {
        panic!("expected an invalid file");
    };
    let line = 1 + members
        .lines()
        .position(|l| l.contains("elif@"))
        .expect("line") as u32;
    assert_eq!(problems.diagnostics.len(), 1);
    assert_eq!(problems.diagnostics[0].loc.line, line);
    assert_eq!(
        problems.summary,
        format!("{} is invalid: 1 problem", setup.file.display())
    );
}

/// A Workspace whose reads fail as ClickUp does when it is down past the retries.
#[derive(Debug)]
struct Down;

impl Workspace for Down {
    fn describe(&self) -> String {
        "ClickUp (down)".to_owned()
    }

    async fn read(&self, _: &ReadNeeds) -> Result<SnapshotDoc, WsError> {
        Err(WsError {
            status: Some(503),
            transient: true,
            ..WsError::local("GET /team: ClickUp failed with 503; it kept failing after retries")
        })
    }

    async fn write(&self, _: &WriteOp) -> Result<Written, WsError> {
        Err(WsError::local("not reached"))
    }
}

#[test]
fn a_failed_read_says_where_and_whether_trying_again_may_help() {
    let setup = Setup::acme();
    let opened = Arc::new(Mutex::new(None));
    let inputs = Inputs {
        file: setup.file.clone(),
        state: setup.state.clone(),
        source: Source::Opened(Box::new({
            let opened = opened.clone();
            move |id: &str| {
                *opened.lock().expect("lock") = Some(id.to_owned());
                Ok(Down)
            }
        })),
        keep_doc: false,
        read_all: false,
        decoded: None,
        against: None,
        allow_replace: true,
        now: NOW,
    };
    let error = run(plan(inputs, &mut Heard::default())).expect_err("down");
    assert!(error.retryable());
    assert!(matches!(&error, Error::Read { error, .. } if error.status == Some(503)));
    assert!(
        error
            .to_string()
            .starts_with("cannot read the Workspace from ClickUp (down): GET /team"),
        "{error}"
    );
    // Opened for the Workspace the file names.
    assert_eq!(opened.lock().expect("lock").as_deref(), Some("9006054115"));
    assert!(!Error::Internal("a bug").retryable());
}

#[test]
fn an_unreadable_snapshot_is_reported_after_the_files_own_problems() {
    let setup = Setup::new("version: 1\nworkspace: {}\n", SNAPSHOT);
    std::fs::remove_file(&setup.snapshot).expect("remove");
    let inputs = Inputs {
        source: Source::Whole(
            SnapshotWorkspace::open(&setup.snapshot)
                .map_err(|e| Error::io("read the snapshot", &setup.snapshot, e)),
        ),
        ..setup.recorded()
    };
    assert!(matches!(
        run(plan(inputs, &mut Heard::default())),
        Err(Error::Invalid(_))
    ));
    let setup = Setup::acme();
    std::fs::remove_file(&setup.snapshot).expect("remove");
    let error = setup.plan().expect_err("no snapshot");
    assert!(
        matches!(&error, Error::Io { action: "read the snapshot", path, .. } if path == Path::new(&setup.snapshot)),
        "{error:?}"
    );
}

#[test]
fn a_file_the_checks_refuse_is_invalid_though_a_plan_was_made_beside_the_checks() {
    // Decodes fine; only the checks see the same person twice.
    let members = MEMBERS.replace(
        "  - email: elif@acme.example\n",
        "  - email: elif@acme.example\n  - email: Elif@acme.example\n",
    );
    let setup = Setup::new(&members, SNAPSHOT);
    let Err(Error::Invalid(problems)) = setup.plan() else {
        panic!("expected an invalid file");
    };
    assert!(
        problems.summary.ends_with("is invalid: 1 problem"),
        "{}",
        problems.summary
    );
    assert!(
        problems.diagnostics[0]
            .message
            .contains("elif@acme.example")
    );
}

/// `policy.admins` on the example, which has 4 people with admin rights (the owner, ada, bruno,
/// ops-bot) and a plan that brings it to 7 (max, priya, and yusuf's Ops Admin role).
fn with_admin_bounds(bounds: &str, members: &str) -> Planned<SnapshotWorkspace> {
    let members = members.replace(
        "  max_removals: 6\n",
        &format!("  max_removals: 6\n  admins: {bounds}\n"),
    );
    Setup::new(&members, SNAPSHOT).plan().expect("plan")
}

fn refused_for_admins(planned: &Planned<SnapshotWorkspace>) -> bool {
    planned
        .violations
        .iter()
        .any(|v| v.message.contains("people with admin rights"))
}

fn warned_for_admins(planned: &Planned<SnapshotWorkspace>) -> bool {
    planned
        .plan
        .warnings
        .iter()
        .any(|w| w.contains("outside policy.admins"))
}

#[test]
fn admin_bounds_refuse_a_plan_that_leaves_them_and_allow_one_that_stays_within() {
    let out = with_admin_bounds("{min: 2, max: 5}", MEMBERS);
    assert!(refused_for_admins(&out), "{:?}", out.violations);
    assert!(!warned_for_admins(&out));
    let refusal = out
        .violations
        .iter()
        .find(|v| v.message.contains("admin rights"));
    assert!(
        refusal.is_some_and(|v| v.loc.is_some()),
        "refused at the line of admins"
    );
    let within = with_admin_bounds("{min: 2, max: 7}", MEMBERS);
    assert!(!refused_for_admins(&within));
    let at_least = with_admin_bounds("{min: 8}", MEMBERS);
    // Already outside (4 < 8) and moving towards the bounds (7): allowed, with a warning.
    assert!(!refused_for_admins(&at_least));
    assert!(warned_for_admins(&at_least));
}

#[test]
fn a_workspace_already_outside_may_keep_its_count_or_move_back_but_not_go_further() {
    // At most 2, with 4 now: the example's plan (to 7) goes further away.
    let further = with_admin_bounds("{max: 2}", MEMBERS);
    assert!(refused_for_admins(&further) && warned_for_admins(&further));
    // The same file without the promotions and the Ops Admin: the count stays at 4.
    let keeping = MEMBERS
        .replace(
            "  - email: max@acme.example\n    role: admin  # promoted: runs the platform team now\n",
            "  - email: max@acme.example\n",
        )
        .replace(
            "  - email: priya@acme.example  # still pending; she will lead QA\n    role: admin\n",
            "  - email: priya@acme.example\n",
        )
        .replace("  - email: yusuf@acme.example\n    role: Ops Admin\n", "");
    let kept = with_admin_bounds("{max: 2}", &keeping);
    assert!(!refused_for_admins(&kept), "{:?}", kept.violations);
    assert!(warned_for_admins(&kept));
    // ada no longer an admin: 3, towards the bound.
    let towards = with_admin_bounds(
        "{max: 2}",
        &keeping.replace(
            "  - email: ada@acme.example\n    role: admin\n",
            "  - email: ada@acme.example\n",
        ),
    );
    assert!(!refused_for_admins(&towards), "{:?}", towards.violations);
}

/// The example with `expires` on dan (in the Engineering group), planned at `now`.
fn dan_expires(
    expires: &str,
    now: time::OffsetDateTime,
    edit: impl Fn(String) -> String,
) -> Planned<SnapshotWorkspace> {
    let members = edit(MEMBERS.replace(
        "  - email: dan@acme.example\n    role: project lead  # names are case-insensitive\n",
        &format!("  - email: dan@acme.example\n    role: project lead\n    expires: {expires}\n"),
    ));
    let setup = Setup::new(&members, SNAPSHOT);
    run(plan(
        Inputs {
            now,
            ..setup.inputs(false)
        },
        &mut Heard::default(),
    ))
    .expect("plan")
}

fn change_of<'a>(planned: &'a Planned<SnapshotWorkspace>, email: &str) -> Option<&'a Change> {
    planned.plan.changes.iter().find(|c| c.subject() == email)
}

#[test]
fn access_ends_at_the_second_it_expires() {
    let second = time::Duration::seconds(1);
    let before = dan_expires("2026-12-01", NOW - second, |m| m);
    // Not yet: his role change is planned, and he is listed as expiring soon.
    assert!(matches!(
        change_of(&before, "dan@acme.example"),
        Some(Change::UpdateMember(_))
    ));
    assert_eq!(
        before.plan.expiring,
        [(
            crate::model::Email::from_live("dan@acme.example"),
            "2026-12-01".to_owned()
        )]
    );
    let json = before.json(true);
    assert_eq!(json.expiring.len(), 1);
    assert_eq!(json.expiring[0].expires, "2026-12-01");
    for now in [NOW, NOW + second] {
        let after = dan_expires("2026-12-01", now, |m| m);
        let Some(Change::Remove(remove)) = change_of(&after, "dan@acme.example") else {
            panic!("dan is not removed at {now}");
        };
        assert_eq!(
            remove.reason,
            crate::plan::RemoveReason::Expired(NOW.date())
        );
        assert!(after.plan.expiring.is_empty());
        let json = after.json(true);
        let dan = json
            .changes
            .iter()
            .find(|c| c.subject() == "dan@acme.example")
            .expect("dan");
        assert_eq!(dan.reason.as_deref(), Some("expired 2026-12-01"));
        // Out of his group too: no group change adds him.
        for change in &after.plan.changes {
            if let Change::UpdateGroup(update) = change {
                assert!(update.add.iter().all(|e| e.as_str() != "dan@acme.example"));
            }
        }
    }
    // A time with its zone: 2026-12-01T01:00:00+02:00 is 2026-11-30 23:00 UTC.
    let zoned = dan_expires("\"2026-12-01T01:00:00+02:00\"", NOW, |m| m);
    assert!(matches!(
        change_of(&zoned, "dan@acme.example"),
        Some(Change::Remove(_))
    ));
}

#[test]
fn expiry_counts_against_max_removals_works_in_additive_mode_and_spares_the_protected() {
    // The example's plan removes, replaces or deletes 4; dan's expiry makes 5.
    let limited = dan_expires("2026-11-01", NOW, |m| {
        m.replace("max_removals: 6", "max_removals: 4")
    });
    assert!(
        limited
            .violations
            .iter()
            .any(|v| v.message.contains("more than policy.max_removals")),
        "{:?}",
        limited.violations
    );
    let additive = dan_expires("2026-11-01", NOW, |m| {
        m.replace("mode: authoritative", "mode: additive")
    });
    assert!(matches!(
        change_of(&additive, "dan@acme.example"),
        Some(Change::Remove(_))
    ));
    // bruno is protected: kept, with a warning, and the plan is not refused for it.
    let protected = dan_expires("2027-06-01", NOW, |m| {
        m.replace(
            "  - email: bruno@acme.example\n    role: admin\n",
            "  - email: bruno@acme.example\n    role: admin\n    expires: 2026-01-01\n",
        )
    });
    assert!(change_of(&protected, "bruno@acme.example").is_none());
    assert!(
        protected
            .plan
            .warnings
            .iter()
            .any(|w| w.contains("bruno@acme.example expired on 2026-01-01")),
        "{:?}",
        protected.plan.warnings
    );
    assert!(
        protected.violations.is_empty(),
        "{:?}",
        protected.violations
    );
}

/// The example with `policy.seats` set to `bounds`, planned against its snapshot (26 of 26
/// member seats and 3 of 10 guest seats used).
fn with_seat_bounds(bounds: &str, snapshot: &str) -> Planned<SnapshotWorkspace> {
    let members = MEMBERS.replace(
        "  seats:  # what the subscription pays for; a plan that needs more is refused\n    max_members: 30\n    max_guests: 10\n",
        &format!("  seats: {bounds}\n"),
    );
    assert_ne!(members, MEMBERS, "the example's policy.seats moved");
    Setup::new(&members, snapshot).plan().expect("plan")
}

fn seat_refusals(planned: &Planned<SnapshotWorkspace>) -> Vec<&str> {
    planned
        .violations
        .iter()
        .filter(|v| v.message.contains("policy.seats"))
        .map(|v| v.message.as_str())
        .collect()
}

#[test]
fn seats_after_count_invites_removals_pending_invitations_and_a_replace_across_kinds() {
    // Members: nina and yusuf invited, tom replaced by a guest, victor removed. Guests: zoe
    // invited, tom arrives, walt removed.
    let planned = with_seat_bounds("{}", SNAPSHOT);
    let seats = planned.seats_after.expect("the snapshot records seats");
    let kind = |used, total, after| crate::plan::seats::SeatUse { used, total, after };
    assert_eq!(seats.members, kind(26, 26, 26));
    assert_eq!(seats.guests, kind(3, 10, 4));
    let json = planned.json(true);
    assert_eq!(json.workspace_plan.as_deref(), Some("Enterprise"));
    assert_eq!(json.seats, Some(seats));

    // priya's invitation, still pending, holds a seat: leaving the file gives it back.
    let members = MEMBERS.replace(
        "  - email: priya@acme.example  # still pending; she will lead QA\n    role: admin\n",
        "",
    );
    let planned = Setup::new(&members, SNAPSHOT).plan().expect("plan");
    let seats = planned.seats_after.expect("seats");
    assert_eq!(seats.members, kind(26, 26, 25));
    assert_eq!(seats.members.beyond(), 0);

    // Three more members on a Workspace whose 26 seats are all taken: 3 beyond.
    let members = MEMBERS.replacen(
        "\nmembers:\n",
        "\nmembers:\n  - email: new1@acme.example\n  - email: new2@acme.example\n  - email: new3@acme.example\n",
        1,
    );
    let planned = Setup::new(&members, SNAPSHOT).plan().expect("plan");
    let seats = planned.seats_after.expect("seats");
    assert_eq!((seats.members.after, seats.members.beyond()), (29, 3));
    let text = crate::render::seats_line(&planned.json(true)).expect("a seats line");
    assert_eq!(
        text,
        "Seats (Enterprise plan): members 26 of 26 used, 29 after the plan (3 more than the Workspace has); guests 3 of 10 used, 4 after the plan."
    );
}

#[test]
fn policy_seats_refuses_a_plan_that_ends_above_a_bound_at_its_line() {
    // The plan takes guests from 3 to 4.
    let planned = with_seat_bounds("{max_guests: 3}", SNAPSHOT);
    let refusals = seat_refusals(&planned);
    assert_eq!(refusals.len(), 1, "{:?}", planned.violations);
    assert!(
        refusals[0].contains("4 guest seats (now 3), above policy.seats.max_guests (3)"),
        "{}",
        refusals[0]
    );
    let at = planned
        .violations
        .iter()
        .find(|v| v.message.contains("policy.seats"))
        .and_then(|v| v.loc)
        .expect("a line");
    let seats_line = MEMBERS
        .lines()
        .position(|l| l.starts_with("  seats:"))
        .expect("the example bounds seats")
        + 1;
    assert_eq!(at.line as usize, seats_line, "refused at the line of seats");
    assert!(planned.refusal().is_some());
    // Ending at the bound is allowed; so is a Workspace already above that the plan does not
    // take further (26 members, at most 20), with a warning.
    let planned = with_seat_bounds("{max_members: 20, max_guests: 4}", SNAPSHOT);
    assert!(
        seat_refusals(&planned).is_empty(),
        "{:?}",
        planned.violations
    );
    assert!(
        planned
            .plan
            .warnings
            .iter()
            .any(|w| w.contains("uses 26 member seats, above policy.seats.max_members (20)")),
        "{:?}",
        planned.plan.warnings
    );
}

#[test]
fn without_seats_recorded_they_are_unknown_and_policy_seats_counts_the_people_listed() {
    let mut snapshot: Value = serde_json::from_str(SNAPSHOT).expect("json");
    snapshot.as_object_mut().expect("object").remove("seats");
    let snapshot = snapshot.to_string();
    let planned = with_seat_bounds("{max_guests: 3}", &snapshot);
    assert_eq!(planned.seats_after, None);
    let json = planned.json(true);
    assert_eq!(json.seats, None);
    assert_eq!(
        crate::render::seats_line(&json).as_deref(),
        Some("Seats (Enterprise plan): unknown (not read).")
    );
    // 3 guests listed in the Workspace, 4 after the plan: still refused.
    assert_eq!(seat_refusals(&planned).len(), 1, "{:?}", planned.violations);
    assert!(
        planned
            .plan
            .warnings
            .iter()
            .any(|w| w.contains("seats are unknown") && w.contains("3 guests")),
        "{:?}",
        planned.plan.warnings
    );
}

/// The plan a pull request showed, as `plan --out` saves it.
fn reviewed_plan(setup: &Setup) -> Reviewed {
    let planned = setup.plan().expect("the reviewed plan");
    Reviewed {
        name: "plan.json".to_owned(),
        plan: planned.json(true).sealed(),
    }
}

/// Plans against what the pull request reviewed, and applies what may be applied.
fn apply_reviewed(setup: &Setup, reviewed: Reviewed) -> (Result<(Applied, Review), Error>, Heard) {
    let mut heard = Heard::default();
    let applied = run(async {
        let inputs = Inputs {
            against: Some(Against::Reviewed(Box::new(reviewed))),
            ..setup.inputs(true)
        };
        let planned = plan(inputs, &mut heard).await?;
        let review = planned.review.clone();
        let applied = apply(planned, &setup.store(), &mut heard, &options(true)).await?;
        Ok((applied, review.expect("a review")))
    });
    (applied, heard)
}

/// Adds someone to the snapshot as an admin would in ClickUp's UI.
fn added_in_clickup(doc: &mut Value, id: i64, email: &str) {
    let members = doc["team"]["members"].as_array_mut().expect("members");
    let mut person = members
        .iter()
        .find(|m| m["user"]["role"] == 3)
        .expect("a member")
        .clone();
    person["user"]["id"] = serde_json::json!(id);
    person["user"]["email"] = serde_json::json!(email);
    person["user"]["username"] = serde_json::json!(email);
    members.push(person);
}

#[test]
fn a_reviewed_apply_makes_only_what_was_reviewed_and_says_what_was_not() {
    let setup = Setup::acme();
    let reviewed = reviewed_plan(&setup);
    // Between review and merge: someone is added in ClickUp's UI (authoritative mode would
    // remove them), and a role the plan changes is changed there already.
    setup.edit_snapshot(|doc| {
        added_in_clickup(doc, 990_001, "intruder@acme.example");
        member_mut(doc, "max@acme.example")["role"] = serde_json::json!(2);
    });
    let (applied, _) = apply_reviewed(&setup, reviewed);
    let (applied, review) = applied.expect("applied");
    assert!(applied.complete(), "{:?}", applied.failures());
    assert_eq!(
        applied.made(),
        13,
        "the 14 reviewed changes but the one done"
    );
    let not_reviewed: Vec<(String, String)> = review
        .not_reviewed
        .iter()
        .map(|c| (c.action.to_string(), c.subject().to_owned()))
        .collect();
    assert_eq!(
        not_reviewed,
        [("remove".to_owned(), "intruder@acme.example".to_owned())]
    );
    let done: Vec<&str> = review.already_done.iter().map(|c| c.subject()).collect();
    assert_eq!(done, ["max@acme.example"]);
    let doc: Value =
        serde_json::from_slice(&std::fs::read(&setup.snapshot).expect("read")).expect("json");
    let emails: Vec<&str> = doc["team"]["members"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(|m| m["user"]["email"].as_str())
        .collect();
    assert!(emails.contains(&"intruder@acme.example"), "not removed");
    assert!(emails.contains(&"nina@acme.example"), "invited");
    assert!(!emails.contains(&"victor.leroy@acme.example"), "removed");
}

#[test]
fn a_reviewed_apply_checks_the_guards_on_the_changes_it_makes() {
    let setup = Setup::acme();
    let reviewed = reviewed_plan(&setup);
    // Three people added in ClickUp: planned afresh, seven removals, above max_removals (6).
    setup.edit_snapshot(|doc| {
        for (i, who) in ["a", "b", "c"].iter().enumerate() {
            added_in_clickup(doc, 990_010 + i as i64, &format!("{who}@acme.example"));
        }
    });
    assert!(setup.plan().expect("plan").refusal().is_some());
    // The reviewed changes alone are within it.
    let (applied, _) = apply_reviewed(&setup, reviewed);
    let (applied, review) = applied.expect("the reviewed changes are applied");
    assert_eq!(applied.made(), 14);
    assert_eq!(review.not_reviewed.len(), 3);
}

#[test]
fn a_reviewed_plan_of_another_file_or_state_history_is_refused_whole() {
    let setup = Setup::acme();
    let reviewed = reviewed_plan(&setup);
    let other_file = Setup::new(
        &MEMBERS.replace(
            "  - email: yusuf@acme.example\n",
            "  - email: yusuf@acme.example\n  - email: late@acme.example\n",
        ),
        SNAPSHOT,
    );
    let before = std::fs::read(&other_file.snapshot).expect("read");
    let (applied, heard) = apply_reviewed(&other_file, reviewed.clone());
    match applied {
        Err(Error::NotReviewed { why, .. }) => {
            assert!(why.contains("not the file that was reviewed"), "{why}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(heard.requests.is_empty());
    assert_eq!(std::fs::read(&other_file.snapshot).expect("read"), before);

    // Reviewed against a state that another history has replaced since.
    let mut with_state = reviewed;
    with_state.plan.state = Some(json::JsonStateRef {
        lineage: "00000000-0000-4000-8000-000000000000".to_owned(),
        serial: 3,
    });
    let (applied, heard) = apply_reviewed(&setup, with_state);
    match applied {
        Err(Error::NotReviewed { why, .. }) => assert!(why.contains("no longer there"), "{why}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(heard.requests.is_empty());
}

#[test]
fn a_swap_in_a_full_workspace_removes_before_it_invites() {
    // 26 of 26 member seats: the example removes victor and turns tom into a guest, and
    // invites nina and yusuf. A snapshot refuses an invitation with no free seat, as
    // ClickUp does.
    let setup = Setup::acme();
    let (applied, heard) = setup.apply(true, &setup.store());
    let applied = applied.expect("apply");
    assert!(applied.complete(), "{:?}", applied.failures());
    let order: Vec<String> = heard
        .requests
        .iter()
        .map(|(route, path, _)| format!("{} {path}", route.method_name()))
        .collect();
    let first_invite = order
        .iter()
        .position(|r| r.starts_with("POST") && r.ends_with("/user"))
        .expect("an invitation");
    let victor = order
        .iter()
        .position(|r| r.starts_with("DELETE") && r.ends_with("/user/5100021"))
        .expect("victor's removal");
    assert!(victor < first_invite, "{order:#?}");
    let doc: Value =
        serde_json::from_slice(&std::fs::read(&setup.snapshot).expect("read")).expect("json");
    assert_eq!(doc["seats"]["members"]["filled_members_seats"], 26);
    assert_eq!(doc["seats"]["guests"]["filled_guest_seats"], 4);
}

#[test]
fn with_seats_to_spare_invitations_still_go_first() {
    let setup = Setup::acme();
    setup.edit_snapshot(|doc| {
        doc["seats"]["members"]["total_member_seats"] = serde_json::json!(40);
    });
    let (applied, heard) = setup.apply(true, &setup.store());
    assert!(applied.expect("apply").complete());
    let first = heard.requests.first().expect("a request");
    assert_eq!(first.0.method_name(), "POST", "{:?}", heard.requests);
}

#[test]
fn with_fewer_free_seats_than_invitations_the_removals_still_go_first() {
    // One seat free, two invitations: the plan fits (two leave), but only if they leave first.
    let setup = Setup::acme();
    setup.edit_snapshot(|doc| {
        doc["seats"]["members"]["total_member_seats"] = serde_json::json!(27);
        doc["seats"]["members"]["empty_member_seats"] = serde_json::json!(1);
    });
    let (applied, heard) = setup.apply(true, &setup.store());
    let applied = applied.expect("apply");
    assert!(applied.complete(), "{:?}", applied.failures());
    let first = heard.requests.first().expect("a request");
    assert_eq!(first.0.method_name(), "DELETE", "{:?}", heard.requests);
}

#[test]
fn a_reviewed_change_that_clickup_made_otherwise_is_not_already_done() {
    let setup = Setup::acme();
    let reviewed = reviewed_plan(&setup);
    // ClickUp's UI invites nina, whom the plan invites as a member, as an admin.
    setup.edit_snapshot(|doc| {
        added_in_clickup(doc, 990_020, "nina@acme.example");
        member_mut(doc, "nina@acme.example")["role"] = serde_json::json!(2);
    });
    let (applied, _) = apply_reviewed(&setup, reviewed);
    let (_, review) = applied.expect("applied");
    let not_reviewed: Vec<String> = review
        .not_reviewed
        .iter()
        .map(|c| format!("{} {}", c.action, c.subject()))
        .collect();
    assert_eq!(not_reviewed, ["update nina@acme.example"]);
    assert!(
        review
            .already_done
            .iter()
            .all(|c| c.subject() != "nina@acme.example"),
        "nina's invitation was not done as reviewed: {:?}",
        review.already_done
    );
}
