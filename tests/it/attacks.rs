//! What an adversarial review tried, kept as tests: hostile names in the live Workspace, a
//! lock taken from a live holder, look-alike groups, hostile rate-limit headers, files that are
//! not what they seem.

use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Acme, assert_golden, cli, failed, stderr, stdout};
use crate::fake::Fake;

const TOKEN: &str = "pk_4753994_ATTACKATTACKATTACKATTACK01";

/// A Workspace whose names carry terminal escapes: a window title, cursor-up-and-erase, a
/// hidden link, CR/LF that fake a line of their own, a direction override.
fn hostile_snapshot() -> Value {
    json!({
        "team": {"id": "9006054115",
                 "name": "Acme\u{1b}]0;pwned\u{7}\u{1b}[2K",
                 "members": [
            {"user": {"id": 1, "username": "Olivia", "email": "olivia@acme.example", "role": 1,
                      "date_joined": "1", "date_invited": "1"}},
            {"user": {"id": 2, "username": "Bob", "email": "bob@acme.example", "role": 3,
                      "custom_role": {"id": 5, "name": "Lead\u{1b}[1A\u{1b}[2K"},
                      "date_joined": "1", "date_invited": "1"},
             "invited_by": {"id": 1, "status": "active"}},
            {"user": {"id": 3, "username": "Eve", "email": "eve@acme.example", "role": 3,
                      "date_joined": "1", "date_invited": "1"},
             "invited_by": {"id": 1, "status": "active"}}
        ]},
        "custom_roles": [{"id": 5, "name": "Lead\u{1b}[1A\u{1b}[2K", "inherited_role": 3}],
        "groups": [{"id": "g-1", "name": "Ops\r\n  + invite member friend@evil.example\u{202e}",
                    "members": [{"id": 2, "email": "bob@acme.example"}]},
                   {"id": "g-2", "name": "\u{1b}]8;;https://evil.example\u{1b}\\click\u{1b}]8;;\u{1b}\\",
                    "members": []}],
        "me": {"id": 1, "email": "olivia@acme.example"}
    })
}

const HOSTILE_FILE: &str = "version: 1\nworkspace:\n  id: \"9006054115\"\npolicy:\n  mode: authoritative\n  max_removals: 5\nmembers:\n  - email: olivia@acme.example\n    role: owner\n  - email: bob@acme.example\n  - email: eve@acme.example\ngroups: []\n";

fn hostile_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("members.yaml"), HOSTILE_FILE).expect("write");
    std::fs::write(
        dir.path().join("workspace.snapshot.json"),
        hostile_snapshot().to_string(),
    )
    .expect("write");
    dir
}

fn run_in(dir: &std::path::Path, args: &[&str]) -> Output {
    cli()
        .current_dir(dir)
        .args(args)
        .args(["--snapshot", "workspace.snapshot.json"])
        .output()
        .expect("run")
}

/// The hostile sequences, raw: none may reach a terminal or a document.
const RAW: &[&str] = &[
    "\u{1b}]0;pwned",
    "\u{1b}[1A",
    "\u{1b}[2K",
    "\u{1b}]8;;",
    "\r",
    "\u{7}",
    "\u{202e}",
    "\n  + invite member friend@evil.example",
];

fn assert_nothing_raw(what: &str, text: &str) {
    for raw in RAW {
        assert!(!text.contains(raw), "{what} prints {raw:?} raw:\n{text}");
    }
}

#[test]
fn live_names_reach_the_terminal_escaped_in_text_show_and_markdown() {
    let dir = hostile_dir();
    let text = run_in(
        dir.path(),
        &["plan", "--color", "always", "--out", "plan.json"],
    );
    assert_eq!(text.status.code(), Some(0), "{}", stderr(&text));
    assert_nothing_raw("plan (colour on)", &stdout(&text));
    assert!(
        stdout(&text).contains("\\u001b]0;pwned\\u0007\\u001b[2K"),
        "{}",
        stdout(&text)
    );

    let plain = run_in(dir.path(), &["plan", "--color", "never"]);
    assert_nothing_raw("plan", &stdout(&plain));
    assert_golden("hostile.plan.txt", &stdout(&plain));

    let markdown = run_in(dir.path(), &["plan", "--format", "markdown"]);
    assert_nothing_raw("plan --format markdown", &stdout(&markdown));
    assert_golden("hostile.plan.md", &stdout(&markdown));

    let summary = dir.path().join("summary.md");
    let output = cli()
        .current_dir(dir.path())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["plan", "--snapshot", "workspace.snapshot.json"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let written = std::fs::read_to_string(&summary).expect("step summary");
    assert_nothing_raw("the step summary", &written);
    assert!(!written.contains('\u{1b}'), "{written}");

    let show = cli()
        .current_dir(dir.path())
        .args(["show", "plan.json", "--color", "never"])
        .output()
        .expect("run");
    assert_eq!(show.status.code(), Some(0), "{}", stderr(&show));
    assert_nothing_raw("show", &stdout(&show));
    assert_golden("hostile.show.txt", &stdout(&show));

    // The state of an apply keeps the names as ClickUp sent them; `show` escapes them.
    let apply = run_in(dir.path(), &["apply", "--auto-approve", "--color", "never"]);
    assert_eq!(apply.status.code(), Some(0), "{}", stderr(&apply));
    assert_nothing_raw("apply", &stdout(&apply));
    let state = cli()
        .current_dir(dir.path())
        .args(["show"])
        .output()
        .expect("run");
    assert_eq!(state.status.code(), Some(0), "{}", stderr(&state));
    assert_nothing_raw("show of the state", &stdout(&state));
    assert!(
        stdout(&state).contains("Acme\\u001b]0;pwned\\u0007\\u001b[2K"),
        "{}",
        stdout(&state)
    );

    // The JSON plan keeps the data exact: escaping is JSON's own.
    let json = run_in(dir.path(), &["plan", "--format", "json"]);
    let plan: Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(
        plan["workspace"]["name"],
        "Acme\u{1b}]0;pwned\u{7}\u{1b}[2K"
    );
}

/// A members file with the owner and `n` newcomers for the fake's small Workspace.
fn newcomers(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("dir");
    let mut text = String::from(
        "version: 1\nworkspace:\n  id: \"9006054115\"\nmembers:\n  - email: olivia@acme.example\n    role: owner\n",
    );
    for i in 0..n {
        text.push_str(&format!("  - email: new{i:02}@acme.example\n"));
    }
    std::fs::write(dir.path().join("members.yaml"), text).expect("write");
    dir
}

fn owner_only() -> Value {
    json!({
        "team": {"id": "9006054115", "name": "Acme", "members": [
            {"user": {"id": 1, "username": "Olivia", "email": "olivia@acme.example", "role": 1,
                      "date_joined": "1", "date_invited": "1"}}]},
        "me": {"id": 1, "email": "olivia@acme.example"}
    })
}

/// `force-unlock` meets a live apply: it is refused, the apply finishes alone, and nothing is
/// sent twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_unlock_refuses_the_lock_of_a_live_apply() {
    let fake = Fake::start(&owner_only(), TOKEN).await;
    fake.slow_writes(Duration::from_millis(150));
    let dir = newcomers(12);
    let mut apply = std::process::Command::new(env!("CARGO_BIN_EXE_clickup-members"))
        .current_dir(dir.path())
        .env("CLICKUP_TOKEN", TOKEN)
        .args(["apply", "--auto-approve", "--parallelism", "1", "--api-url"])
        .arg(fake.api_url())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let lock = dir.path().join("members.state.json.lock");
    let started = Instant::now();
    let id = loop {
        if let Some(id) = std::fs::read_to_string(&lock)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| v["id"].as_str().map(str::to_owned))
        {
            break id;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "no lock");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let dir_path = dir.path().to_owned();
    let unlock = tokio::task::spawn_blocking(move || {
        cli()
            .current_dir(&dir_path)
            .args(["force-unlock", &id])
            .output()
            .expect("run")
    })
    .await
    .expect("join");
    let err = failed(&unlock);
    assert!(err.contains("a live process holds it"), "{err}");
    assert!(lock.exists(), "the live holder's lock stays");
    let status = tokio::task::spawn_blocking(move || apply.wait().expect("wait"))
        .await
        .expect("join");
    assert!(status.success());
    assert_eq!(fake.duplicate_invitations(), 0);
    assert_eq!(fake.log().iter().filter(|l| l.is_write()).count(), 12);
}

#[cfg(unix)]
#[test]
fn links_planted_for_the_lock_or_the_journal_never_touch_their_targets() {
    for planted in ["members.state.json.lock", "members.state.json.journal"] {
        let acme = Acme::new();
        let victim = acme.path("victim.txt");
        std::fs::write(&victim, "precious\n").expect("write");
        std::os::unix::fs::symlink(&victim, acme.path(planted)).expect("link");
        let output = acme
            .run(&["apply", "--auto-approve", "--allow-replace"])
            .env("CLICKUP_MEMBERS_JOURNAL_ABOVE", "0")
            .output()
            .expect("run");
        if planted.ends_with(".lock") {
            let err = failed(&output);
            assert!(err.contains("cannot open the lock"), "{err}");
        } else {
            // A journal left behind is folded in and removed: the link goes, never its target.
            assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        }
        assert_eq!(
            std::fs::read_to_string(&victim).expect("read"),
            "precious\n",
            "{planted}"
        );
    }
}

/// Two spellings of one state (a link to it) share one lock; a symlinked state is written
/// through to its target, which stays the file the link names.
#[cfg(unix)]
#[test]
fn a_state_reached_through_a_link_shares_its_lock_and_is_written_through() {
    let acme = Acme::new();
    std::fs::create_dir(acme.path("real")).expect("dir");
    std::os::unix::fs::symlink("real/state.json", acme.path("members.state.json")).expect("link");
    std::os::unix::fs::symlink("members.state.json", acme.path("alias.json")).expect("link");
    assert_eq!(
        lock_of(&acme, "members.state.json"),
        lock_of(&acme, "alias.json"),
        "one state, one lock"
    );
    let output = acme
        .run(&["apply", "--auto-approve", "--allow-replace"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let link = std::fs::symlink_metadata(acme.path("members.state.json")).expect("meta");
    assert!(link.file_type().is_symlink(), "the link is kept");
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(acme.path("real/state.json")).expect("read"))
            .expect("json");
    assert!(state["serial"].as_u64().is_some_and(|s| s > 0));
}

/// The lock file a blocked apply names, with the state spelled `state`.
fn lock_of(acme: &Acme, state: &str) -> String {
    // Hold the lock through `members.state.json` by a stand-in holder, and ask through `state`.
    let lock = std::fs::canonicalize(acme.dir.path())
        .expect("dir")
        .join("real/state.json.lock");
    let holder = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&lock)
        .expect("lock");
    holder.try_lock().expect("lock");
    let output = acme
        .run(&["apply", "--auto-approve", "--state", state])
        .output()
        .expect("run");
    drop(holder);
    let _ = std::fs::remove_file(&lock);
    let err = failed(&output);
    assert!(err.contains("the state is locked by"), "{state}: {err}");
    err.rsplit("(lock file ")
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[cfg(unix)]
#[test]
fn a_fifo_in_place_of_the_state_is_refused_at_once() {
    let acme = Acme::new();
    let made = std::process::Command::new("mkfifo")
        .arg(acme.state())
        .status()
        .expect("mkfifo");
    assert!(made.success());
    for args in [
        &["plan"][..],
        &["apply", "--auto-approve", "--allow-replace"][..],
    ] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_clickup-members"))
            .current_dir(acme.dir.path())
            .args(args)
            .args([
                "-f",
                "members.yaml",
                "--snapshot",
                "workspace.snapshot.json",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if started.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                panic!("{args:?} hangs on a FIFO");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut err)
            .expect("read");
        assert_eq!(status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("not a regular file"), "{args:?}: {err}");
    }
    let show = cli()
        .current_dir(acme.dir.path())
        .arg("show")
        .output()
        .expect("run");
    assert!(failed(&show).contains("not a regular file"));
}

/// Only a last line cut short is the crash the journal expects; a damaged line before it
/// would silently lose every write recorded after it, and is an error.
#[test]
fn a_damaged_journal_line_before_the_last_is_an_error() {
    let acme = Acme::new();
    let output = acme
        .run(&["apply", "--auto-approve", "--allow-replace"])
        .env("CLICKUP_MEMBERS_JOURNAL_ABOVE", "0")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(acme.state()).expect("read")).expect("json");
    let serial = state["serial"].as_u64().expect("serial");
    // A journal of three writes after the state's serial, the middle one damaged.
    let entry = |n: u64| {
        json!({"serial": serial + n, "time_ms": 1, "op": {"op": "remove_member", "user_id": 5100004},
               "outcome": {"outcome": "done"}})
        .to_string()
    };
    let journal = format!("{}\n{{\"serial\": tru\n{}\n", entry(1), entry(3));
    std::fs::write(acme.path("members.state.json.journal"), journal).expect("write");
    let output = cli()
        .current_dir(acme.dir.path())
        .arg("show")
        .output()
        .expect("run");
    let err = failed(&output);
    assert!(err.contains("line 2 of 3 is damaged"), "{err}");

    // A last line cut short is the expected crash: ignored.
    let journal = format!("{}\n{{\"serial\": tru", entry(1));
    std::fs::write(acme.path("members.state.json.journal"), journal).expect("write");
    let output = cli()
        .current_dir(acme.dir.path())
        .arg("show")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

/// Hostile rate-limit headers: a reset an hour or years ahead, a value no clock holds. The
/// run ends at once with a sentence, never waits for ever, never panics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_reset_far_ahead_ends_the_run_with_a_sentence() {
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    for (reset, expected) in [
        ((now + 3600).to_string(), "s from now (X-RateLimit-Reset)"),
        ("1e30".to_owned(), "until more than a day from now"),
        (
            (now + 86_400 * 365 * 20).to_string(),
            "until more than a day from now",
        ),
    ] {
        for status in [429, 200] {
            let server = MockServer::start().await;
            let body = if status == 429 {
                json!({"err": "Rate limit reached", "ECODE": "APP_002"})
            } else {
                json!({"user": {"id": 1, "email": "olivia@acme.example"}})
            };
            Mock::given(wiremock::matchers::any())
                .respond_with(
                    ResponseTemplate::new(status)
                        .insert_header("X-RateLimit-Remaining", "0")
                        .insert_header("X-RateLimit-Reset", reset.as_str())
                        .set_body_json(body),
                )
                .mount(&server)
                .await;
            let dir = newcomers(1);
            let started = Instant::now();
            let output = crate::common::run_against(
                dir.path(),
                &format!("{}/api/v2", server.uri()),
                TOKEN,
                ["plan"],
            )
            .await;
            let err = failed(&output);
            assert!(err.contains(expected), "{status} {reset}: {err}");
            assert!(err.contains("run again later"), "{err}");
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{status} {reset}"
            );
        }
    }
}

/// Two live groups whose names differ only in case: both are seen. Authoritative: the extra
/// one is deleted, counted against max_removals. Additive: a warning names both ids.
#[test]
fn look_alike_groups_are_seen_and_handled() {
    let snapshot = json!({
        "team": {"id": "9006054115", "name": "Acme", "members": [
            {"user": {"id": 1, "email": "olivia@acme.example", "role": 1, "date_joined": "1"}},
            {"user": {"id": 2, "email": "bob@acme.example", "role": 3, "date_joined": "1"},
             "invited_by": {"id": 1, "status": "active"}}]},
        "groups": [
            {"id": "g-real", "name": "Ops", "members": [{"id": 2, "email": "bob@acme.example"}]},
            {"id": "g-fake", "name": "OPS", "members": [{"id": 1, "email": "olivia@acme.example"}]}],
        "me": {"id": 1, "email": "olivia@acme.example"}
    });
    for (mode, max_removals) in [("authoritative", 1), ("authoritative", 0), ("additive", 0)] {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(
            dir.path().join("members.yaml"),
            format!("version: 1\nworkspace:\n  id: \"9006054115\"\npolicy:\n  mode: {mode}\n  max_removals: {max_removals}\nmembers:\n  - email: olivia@acme.example\n    role: owner\n  - email: bob@acme.example\ngroups:\n  - name: Ops\n    members: [bob@acme.example]\n"),
        )
        .expect("write");
        std::fs::write(dir.path().join("w.json"), snapshot.to_string()).expect("write");
        let output = cli()
            .current_dir(dir.path())
            .args(["plan", "--snapshot", "w.json"])
            .output()
            .expect("run");
        let out = stdout(&output);
        match (mode, max_removals) {
            ("authoritative", 1) => {
                assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
                assert!(
                    out.contains("  - delete group OPS (g-fake)\n      # another user group has the same name (case-insensitive) and is the one kept (mode: authoritative); it has 1 member"),
                    "{out}"
                );
                assert!(!out.contains("g-real"), "the file's group is kept: {out}");
            }
            ("authoritative", _) => {
                let err = failed(&output);
                assert!(
                    err.contains("more than policy.max_removals (0): delete OPS"),
                    "{err}"
                );
            }
            _ => {
                assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
                assert!(
                    out.contains("the Workspace has 2 user groups named \"Ops\" (case-insensitive): g-real is managed as the file's group, g-fake left alone"),
                    "{out}"
                );
            }
        }
    }
}
