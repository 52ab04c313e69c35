//! One run of a Workspace, whatever starts it (SPEC §10): a run that writes takes the state's
//! lock before it reads the state and the Workspace, so a `serve --mode apply` cycle and a CI
//! `apply` on one state take turns; neither invites someone the other already did, and the
//! state's serial only goes up. `apply --lock-timeout` waits for the lock instead of failing.

use std::time::{Duration, Instant};

use assert_cmd::assert::OutputAssertExt;
use predicates::prelude::*;

use crate::common::workdir;
use crate::fake::Fake;
use crate::serve::{FILE, Server, TOKEN, workspace};

/// The serials the state file at `path` goes through, read every few milliseconds until
/// `done`.
fn watch_serials(
    path: std::path::PathBuf,
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<Vec<u64>> {
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        while !done.load(std::sync::atomic::Ordering::Relaxed) {
            if let Ok(text) = std::fs::read_to_string(&path)
                && let Ok(state) = serde_json::from_str::<serde_json::Value>(&text)
                && let Some(serial) = state["serial"].as_u64()
                && seen.last() != Some(&serial)
            {
                seen.push(serial);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        seen
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_serve_cycle_and_a_cli_apply_on_one_state_take_turns_and_never_invite_twice() {
    let fake = Fake::start(&workspace(), TOKEN).await;
    let dir = workdir(&format!("{FILE}  - email: nina@acme.example\n"));
    let state = dir.path().join("members.state.json");
    let lock = dir.path().join("members.state.json.lock");
    // The controller's read of the Workspace takes a while.
    fake.slow_reads("team", Duration::from_millis(1500));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let serials = watch_serials(state.clone(), done.clone());
    let server = Server::start(dir.path(), &fake, &["--mode", "apply", "--interval", "1h"]);
    // The cycle holds the lock while it reads.
    let started = Instant::now();
    while !std::fs::read_to_string(&lock).is_ok_and(|t| t.contains("clickup-members serve")) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "serve never took the lock:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Meanwhile the file gains omar, and CI applies it.
    std::fs::write(
        dir.path().join("members.yaml"),
        format!("{FILE}  - email: nina@acme.example\n  - email: omar@acme.example\n"),
    )
    .expect("write");
    crate::common::run_against(
        dir.path(),
        &fake.api_url(),
        TOKEN,
        ["apply", "--auto-approve", "--lock-timeout", "60s"],
    )
    .await
    .assert()
    .append_context("serve's log", server.log())
    .success()
    .stderr(predicate::str::contains(
        "the state is locked by `clickup-members serve`",
    ))
    .stderr(predicate::str::contains("waiting up to 1m for it"));
    drop(server);
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let serials = serials.join().expect("watcher");
    // Each person invited once, by whichever run came first.
    for who in ["nina@acme.example", "omar@acme.example", "dee@acme.example"] {
        assert_eq!(fake.count(who), 1, "{who}");
    }
    assert_eq!(fake.duplicate_invitations(), 0);
    // Both runs' writes are recorded, and the state never went back.
    let recorded: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&state).expect("state")).expect("json");
    for who in ["nina@acme.example", "omar@acme.example", "dee@acme.example"] {
        assert!(recorded["members"].get(who).is_some(), "{who}: {recorded}");
    }
    assert!(
        serials.windows(2).all(|w| w[0] < w[1]),
        "the serial went back: {serials:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_told_to_wait_for_the_lock_does_only_what_the_first_left() {
    let fake = Fake::start(&workspace(), TOKEN).await;
    fake.slow_writes(Duration::from_millis(300));
    let dir = workdir(FILE);
    let lock = dir.path().join("members.state.json.lock");
    let first = {
        let (dir, api) = (dir.path().to_owned(), fake.api_url());
        tokio::spawn(async move {
            crate::common::run_against(&dir, &api, TOKEN, ["apply", "--auto-approve"]).await
        })
    };
    let started = Instant::now();
    while !std::fs::read_to_string(&lock).is_ok_and(|t| t.contains("\"pid\"")) {
        assert!(started.elapsed() < Duration::from_secs(20), "no lock");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let second = crate::common::run_against(
        dir.path(),
        &fake.api_url(),
        TOKEN,
        ["apply", "--auto-approve", "--lock-timeout", "30s"],
    )
    .await;
    first.await.expect("join").assert().success();
    second
        .assert()
        .success()
        // The first run made every change.
        .stdout(predicate::str::contains("No changes."));
    assert_eq!(fake.count("dee@acme.example"), 1);
    assert_eq!(fake.duplicate_invitations(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_serve_cycle_that_cannot_get_the_lock_within_its_interval_fails_naming_the_holder() {
    let fake = Fake::start(&workspace(), TOKEN).await;
    let dir = workdir(FILE);
    // Another run holds the state's lock, and does not let go.
    let lock = dir.path().join("members.state.json.lock");
    let held = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&lock)
        .expect("lock file");
    held.try_lock().expect("lock");
    std::fs::write(
        &lock,
        r#"{"id":"3f6c1d2e-dead-4bad-8f00-000000000002","host":"ci-runner-7","pid":4242,"started":"2026-12-07T03:00:00Z","command":"clickup-members apply --auto-approve"}"#,
    )
    .expect("write");
    let server = Server::start(dir.path(), &fake, &["--mode", "apply", "--interval", "1s"]);
    server.until_total("failure", 1.0).await;
    let log = server.log();
    assert!(
        log.lines().any(|l| l.contains("WARN")
            && l.contains("cycle failure")
            && l.contains("the state is locked by `clickup-members apply --auto-approve` on ci-runner-7 (pid 4242)")),
        "{log}"
    );
    // The lock comes first: without it, nothing is read from ClickUp, let alone written.
    assert!(fake.log().is_empty(), "{:?}", fake.log());
    drop(held);
}
