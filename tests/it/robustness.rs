//! An apply a team can trust when things go wrong halfway: killed with SIGKILL, interrupted,
//! run twice at once, partly refused; with its audit log and the state it leaves.

use std::process::{Child, Command as StdCommand, Output, Stdio};
use std::time::Duration;

use assert_cmd::assert::OutputAssertExt;
use predicates::prelude::*;
use serde_json::{Value, json};

use crate::common::{Acme, stderr, stdout, workdir};
use crate::fake::{Fake, Fault};

const TOKEN: &str = "pk_4753994_ROBUSTROBUSTROBUSTROBUST0001";
const TEAM: &str = "9006054115";

/// A Workspace with the owner and ten members, and a file that wants twenty changes: 14
/// invitations, 3 promotions to admin (m00..m02, ids 100..102) and 3 removals (m07..m09).
fn mixed() -> (Value, String) {
    let mut members = vec![json!({"user": {
        "id": 1, "username": "Olivia Owner", "email": "olivia@acme.example", "color": null,
        "profilePicture": null, "initials": "OO", "role": 1, "custom_role": null,
        "last_active": "1750794096125", "date_joined": "1679495777070", "date_invited": "1679495777070"}})];
    for i in 0..10 {
        members.push(json!({"user": {
            "id": 100 + i, "username": format!("Member {i}"), "email": format!("m{i:02}@acme.example"),
            "color": null, "profilePicture": null, "initials": "M", "role": 3, "custom_role": null,
            "last_active": "1750794096125", "date_joined": "1679495777070", "date_invited": "1679495777070"},
            "invited_by": {"id": 1, "status": "active"}}));
    }
    let snapshot = json!({
        "team": {"id": TEAM, "name": "Acme Workspace", "color": null, "avatar": null, "members": members},
        "me": {"id": 1, "email": "olivia@acme.example", "username": "Olivia Owner"}
    });
    let mut file = format!(
        "version: 1\nworkspace:\n  id: \"{TEAM}\"\npolicy:\n  mode: authoritative\n  max_removals: 3\nmembers:\n  - email: olivia@acme.example\n    role: owner\n"
    );
    for i in 0..7 {
        let role = if i < 3 { "admin" } else { "member" };
        file.push_str(&format!(
            "  - email: m{i:02}@acme.example\n    role: {role}\n"
        ));
    }
    for i in 0..14 {
        file.push_str(&format!("  - email: new{i:02}@acme.example\n"));
    }
    (snapshot, file)
}

fn binary() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("clickup-members")
}

/// Starts `apply --auto-approve` in the background.
fn spawn_apply(
    dir: &std::path::Path,
    fake: &Fake,
    extra: &[&str],
    journal_above: Option<&str>,
) -> Child {
    let mut command = StdCommand::new(binary());
    if let Some(above) = journal_above {
        command.env("CLICKUP_MEMBERS_JOURNAL_ABOVE", above);
    }
    command
        .current_dir(dir)
        .env("CLICKUP_TOKEN", TOKEN)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .args(["apply", "--auto-approve", "--api-url", &fake.api_url()])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn apply")
}

async fn wait(child: Child) -> Output {
    tokio::task::spawn_blocking(move || child.wait_with_output().expect("wait"))
        .await
        .expect("join")
}

async fn run(dir: &std::path::Path, fake: &Fake, args: &[&str]) -> Output {
    crate::common::run_against(dir, &fake.api_url(), TOKEN, args).await
}

fn state(dir: &std::path::Path) -> Option<Value> {
    let bytes = std::fs::read(dir.join("members.state.json")).ok()?;
    Some(serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "the state file is not valid JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    }))
}

/// Checks that no change reached ClickUp twice: each invitation, edit and removal succeeded
/// at most once over all runs.
fn assert_nothing_twice(fake: &Fake) {
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for entry in fake
        .log()
        .iter()
        .filter(|l| l.is_write() && l.status == 200)
    {
        let key = match (&entry.method[..], &entry.body) {
            ("POST", Some(body)) => format!("invite {}", body["email"]),
            _ => entry.line(),
        };
        *seen.entry(key).or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "applied twice: {twice:?}");
    for i in 0..14 {
        assert_eq!(fake.count(&format!("new{i:02}@acme.example")), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_apply_leaves_a_valid_state_and_a_rerun_converges() {
    killed_applies(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_apply_that_journals_its_writes_leaves_a_valid_state_and_a_rerun_converges() {
    killed_applies(Some("0")).await;
}

/// Kills apply three times at different points; `journal_above` sets
/// CLICKUP_MEMBERS_JOURNAL_ABOVE (the state is rewritten per write, or journaled).
async fn killed_applies(journal_above: Option<&str>) {
    let (snapshot, file) = mixed();
    let fake = Fake::start(&snapshot, TOKEN).await;
    // Twenty writes of a quarter of a second each: none of the killed runs can finish.
    fake.slow_writes(Duration::from_millis(250));
    let dir = workdir(&file);
    let mut serials = Vec::new();
    let mut journaled = false;
    for (run, kill_after) in [400, 900, 1400].into_iter().enumerate() {
        let mut child = spawn_apply(dir.path(), &fake, &["--parallelism", "1"], journal_above);
        tokio::time::sleep(Duration::from_millis(kill_after)).await;
        child.kill().expect("SIGKILL");
        let output = wait(child).await;
        if run > 0 {
            let err = String::from_utf8_lossy(&output.stderr);
            assert!(
                err.contains("took over the lock left by a run that ended without releasing it"),
                "{err}"
            );
        }
        if let Some(state) = state(dir.path()) {
            serials.push(state["serial"].as_u64().expect("serial"));
        }
        journaled |= dir.path().join("members.state.json.journal").exists();
    }
    assert_eq!(
        journaled,
        journal_above.is_some(),
        "journal or not, as asked"
    );
    assert!(
        serials.windows(2).all(|w| w[0] <= w[1]),
        "serials went back: {serials:?}"
    );
    assert!(!serials.is_empty(), "no kill happened after a write");

    run(dir.path(), &fake, &["apply", "--auto-approve"])
        .await
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "took over the lock left by a run that ended without releasing it",
        ));
    run(dir.path(), &fake, &["plan", "--detailed-exitcode"])
        .await
        .assert()
        .success();
    assert_nothing_twice(&fake);
    assert!(
        !dir.path().join("members.state.json.lock").exists(),
        "the lock is left behind"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_applies_at_once_one_runs_and_the_other_is_refused_naming_the_holder() {
    let (snapshot, file) = mixed();
    let fake = Fake::start(&snapshot, TOKEN).await;
    fake.slow_writes(Duration::from_millis(100));
    let dir = workdir(&file);
    let first = spawn_apply(dir.path(), &fake, &["--parallelism", "1"], None);
    let pid = first.id();
    let lock = dir.path().join("members.state.json.lock");
    for _ in 0..100 {
        if std::fs::read_to_string(&lock).is_ok_and(|t| t.contains("\"pid\"")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    run(dir.path(), &fake, &["apply", "--auto-approve"])
        .await
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "Error: the state is locked by `",
        ))
        .stderr(predicate::str::contains(format!("(pid {pid}) since ")))
        .stderr(predicate::str::contains("lock id "))
        .stderr(predicate::str::contains(
            "clickup-members force-unlock LOCK_ID",
        ));
    wait(first).await.assert().success();
    assert_nothing_twice(&fake);
}

#[test]
fn force_unlock_frees_a_stale_lock() {
    let acme = Acme::new();
    let lock_path = acme.path("members.state.json.lock");
    // A lock still held (by this test) for a run that is gone.
    let held = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&lock_path)
        .expect("lock file");
    held.try_lock().expect("lock");
    std::fs::write(
        &lock_path,
        r#"{"id":"3f6c1d2e-dead-4bad-8f00-000000000001","host":"ci-runner-7","pid":999999,"started":"2026-11-27T03:00:00Z","command":"clickup-members apply --auto-approve"}"#,
    )
    .expect("write");

    acme.run(&["apply", "--auto-approve", "--allow-replace"])
        .assert()
        .code(1)
        .stderr(format!(
            "Error: the state is locked by `clickup-members apply --auto-approve` on ci-runner-7 (pid 999999) since 2026-11-27T03:00:00Z, lock id 3f6c1d2e-dead-4bad-8f00-000000000001; wait for that run to end, or if it died, run `clickup-members force-unlock LOCK_ID` (lock file {})\n",
            std::fs::canonicalize(acme.dir.path())
                .expect("dir")
                .join("members.state.json.lock")
                .display()
        ));

    acme.run(&["force-unlock", "not-this-one"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("nothing was removed"));

    // The operating system's lock is still held (by this test, as by an orphaned child of the
    // dead run): refused unless --force says so.
    acme.run(&["force-unlock", "3f6c1d2e-dead-4bad-8f00-000000000001"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "a live process holds it: removing it would let a second apply run beside the first",
        ));
    assert!(lock_path.exists());
    acme.run(&[
        "force-unlock",
        "3f6c1d2e-dead-4bad-8f00-000000000001",
        "--force",
    ])
    .assert()
    .success()
    .stderr(predicate::str::contains(
        "Warning: --force: removing the lock although a live process holds it",
    ))
    .stdout(predicate::str::starts_with(
        "Removed the lock held by `clickup-members apply --auto-approve` on ci-runner-7 (pid 999999)",
    ));

    acme.run(&["apply", "--auto-approve", "--allow-replace"])
        .assert()
        .success();
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_failures_among_twenty_changes_are_tabled_and_a_rerun_does_only_them() {
    let (snapshot, file) = mixed();
    let fake = Fake::start(&snapshot, TOKEN).await;
    let invite = format!("team/{TEAM}/user");
    fake.inject_for(
        "POST",
        &invite,
        "new05@acme.example",
        Fault::Refuse(400, "INPUT_005", "Invalid email"),
        1,
    );
    fake.inject(
        "PUT",
        &format!("team/{TEAM}/user/101"),
        Fault::Refuse(400, "INPUT_002", "Invalid user id"),
        1,
    );
    fake.inject(
        "DELETE",
        &format!("team/{TEAM}/user/108"),
        Fault::Refuse(403, "ACCESS_083", "No access"),
        1,
    );
    let dir = workdir(&file);
    let output = run(
        dir.path(),
        &fake,
        &["apply", "--auto-approve", "--audit-log", "audit.jsonl"],
    )
    .await
    .assert()
    .code(1)
    .stdout(predicate::str::contains(
        "Apply incomplete: 17 of 20 changes applied (13 invited, 2 changed, 2 removed), 3 failed, 0 not started.",
    ));
    let err = stderr(&output);
    let table: Vec<&str> = err
        .lines()
        .skip_while(|l| *l != "Failed changes:")
        .skip(2)
        .take_while(|l| l.starts_with("  "))
        .collect();
    assert_eq!(table.len(), 3, "{err}");
    assert!(
        table[0]
            .starts_with("  new05@acme.example  invite member  400   INPUT_005   Invalid email"),
        "{err}"
    );
    assert!(
        table[1]
            .starts_with("  m01@acme.example    update member  400   INPUT_002   Invalid user id"),
        "{err}"
    );
    assert!(
        table[2].starts_with("  m08@acme.example    remove member  403   ACCESS_083  No access"),
        "{err}"
    );

    // The state saved as the apply starts, seventeen writes recorded one by one, the final save.
    let state = state(dir.path()).expect("state");
    assert_eq!(state["serial"], 19);
    assert!(
        !dir.path().join("members.state.json.journal").exists(),
        "the journal is folded in"
    );
    assert!(state["members"]["new04@acme.example"]["user_id"].is_i64());
    assert!(state["members"].get("new05@acme.example").is_none());
    assert_eq!(state["members"]["m00@acme.example"]["role"], "admin");
    assert_eq!(state["members"]["m01@acme.example"]["role"], "member");

    // The audit log: one line per write, failures included.
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).expect("audit log");
    let lines: Vec<Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 20);
    assert_eq!(lines.iter().filter(|l| l["ok"] == false).count(), 3);
    let refused = lines
        .iter()
        .find(|l| l["subject"] == "new05@acme.example")
        .expect("line");
    assert_eq!(refused["ECODE"], "INPUT_005");
    assert_eq!(refused["status"], 400);
    assert_eq!(refused["method"], "POST");
    assert_eq!(refused["path"], format!("/team/{TEAM}/user"));
    for line in &lines {
        for key in [
            "time",
            "action",
            "kind",
            "subject",
            "method",
            "path",
            "ok",
            "status",
            "ECODE",
            "err",
            "duration_ms",
            "plan",
        ] {
            assert!(line.get(key).is_some(), "{key} missing in {line}");
        }
        assert!(
            line["plan"]
                .as_str()
                .is_some_and(|p| p.starts_with("sha256:"))
        );
    }
    assert!(
        !audit.contains(TOKEN.trim_start_matches("pk_")),
        "the token is in the audit log"
    );

    fake.clear_log();
    run(
        dir.path(),
        &fake,
        &["apply", "--auto-approve", "--audit-log", "audit.jsonl"],
    )
    .await
    .assert()
    .success();
    let mut writes: Vec<String> = fake
        .log()
        .iter()
        .filter(|l| l.is_write())
        .map(crate::fake::Logged::line)
        .collect();
    writes.sort();
    assert_eq!(
        writes,
        vec![
            format!("DELETE team/{TEAM}/user/108"),
            format!("POST team/{TEAM}/user"),
            format!("PUT team/{TEAM}/user/101"),
        ]
    );
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).expect("audit log");
    assert_eq!(audit.lines().count(), 23, "the log is appended to");
}

async fn interrupt(signal: &str, code: i32) {
    let (snapshot, file) = mixed();
    let fake = Fake::start(&snapshot, TOKEN).await;
    fake.slow_writes(Duration::from_millis(250));
    let dir = workdir(&file);
    let child = spawn_apply(dir.path(), &fake, &["--parallelism", "2"], None);
    tokio::time::sleep(Duration::from_millis(900)).await;
    let status = StdCommand::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let output = wait(child)
        .await
        .assert()
        .append_context("signal", signal.to_owned())
        .code(code)
        .stderr(predicate::str::contains(format!(
            "SIG{signal} received: no new change is started"
        )))
        .stdout(predicate::str::contains("Apply incomplete:"));
    let err = stderr(&output);
    let out = stdout(&output);
    // What the stop kept from being sent is "not started", never "failed"; the changes in
    // flight finished.
    let summary = out
        .lines()
        .find(|l| l.starts_with("Apply incomplete:"))
        .expect("summary");
    let number = |before: &str| -> usize {
        summary
            .split(before)
            .next()
            .and_then(|s| s.rsplit(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{summary}"))
    };
    assert_eq!(number(" failed"), 0, "{summary}");
    assert!(number(" not started") > 0, "{summary}");
    assert_eq!(
        number(" of 20 changes") + number(" not started"),
        20,
        "{summary}"
    );
    assert!(!out.contains("FAILED (not sent"), "{out}");
    assert!(
        err.contains(&format!(
            "the apply stopped early: interrupted by SIG{signal}"
        )),
        "{err}"
    );
    let state = state(dir.path()).expect("the state is written");
    let serial = state["serial"].as_u64().expect("serial");
    assert!(serial >= 2, "{signal}: serial {serial}");
    assert!(!dir.path().join("members.state.json.lock").exists());

    run(dir.path(), &fake, &["apply", "--auto-approve"])
        .await
        .assert()
        .success();
    run(dir.path(), &fake, &["plan", "--detailed-exitcode"])
        .await
        .assert()
        .success();
    assert_nothing_twice(&fake);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_stops_cleanly_with_exit_130() {
    interrupt("INT", 130).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_cleanly_with_exit_143() {
    interrupt("TERM", 143).await;
}

#[test]
fn a_damaged_state_file_is_an_error_never_an_empty_state() {
    let acme = Acme::new();
    std::fs::write(acme.state(), "{\"format_version\": 1, \"lineage\": \"ab").expect("write");
    acme.run(&["plan"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "Error: the state file members.state.json is damaged (EOF while parsing a string at line 1 column 36); restore it from git or a backup, it is never read as empty",
        ));
}

#[test]
fn a_state_file_of_another_workspace_is_refused() {
    let acme = Acme::new();
    acme.run(&["apply", "--auto-approve", "--allow-replace"])
        .assert()
        .code(0);
    crate::common::edit(
        &acme.state(),
        "\"workspace_id\": \"9006054115\"",
        "\"workspace_id\": \"42\"",
    );
    acme.run(&["plan"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "Error: the state file members.state.json belongs to Workspace 42, not 9006054115",
        ));
}

#[test]
fn a_saved_plan_from_another_state_lineage_is_refused() {
    let acme = Acme::new();
    acme.run(&["apply", "--auto-approve", "--allow-replace"])
        .assert()
        .code(0);
    acme.run(&["plan", "--out", "plan.json"]).assert().code(0);
    let state: Value =
        serde_json::from_slice(&std::fs::read(acme.state()).expect("state")).expect("json");
    let lineage = state["lineage"].as_str().expect("lineage").to_owned();
    crate::common::edit(
        &acme.state(),
        &lineage,
        "00000000-0000-4000-8000-000000000000",
    );
    acme.run(&["apply", "plan.json"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "the state file was replaced by another history (lineage 00000000-0000-4000-8000-000000000000",
        ));
}

#[test]
fn show_prints_a_saved_plan_as_plan_did_and_the_state_summary() {
    let acme = Acme::new();
    let planned = acme
        .run(&["plan", "--out", "plan.json"])
        .output()
        .expect("run");
    let shown = acme.run(&["show", "plan.json"]).assert().success();
    assert!(
        stdout(&planned).starts_with(&stdout(&shown)),
        "show differs from plan"
    );
    assert!(stdout(&shown).ends_with("1 group to delete.\n"));

    acme.run(&["show"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "there is no state file at members.state.json",
        ));

    acme.run(&["apply", "plan.json", "--allow-replace"])
        .assert()
        .code(0);
    let text = stdout(&acme.run(&["show"]).assert().success());
    assert!(
        text.starts_with("State members.state.json (lineage "),
        "{text}"
    );
    assert!(
        text.contains("Workspace 9006054115 \"Acme Workspace\", last apply 20"),
        "{text}"
    );
    assert!(
        text.contains("Managed: 25 members (4 pending), 4 guests (2 pending), 2 groups"),
        "{text}"
    );
    assert!(text.contains("  nina@acme.example "), "{text}");
}
