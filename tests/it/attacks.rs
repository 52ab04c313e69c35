//! What an adversarial review tried, kept as tests: hostile names in the live Workspace, a
//! lock taken from a live holder, look-alike groups, hostile rate-limit headers, files that are
//! not what they seem, and `serve` attacked through its port, its clock, its files and its
//! command line.

use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::assert::{Assert, OutputAssertExt};
use predicates::prelude::*;
use serde_json::{Value, json};

use crate::common::{Acme, assert_golden, cli, stderr, stdout};
use crate::fake::Fake;
use crate::serve::{FILE as SERVE_FILE, Launch, Server, TEAM, TOKEN as SERVE_TOKEN, workspace};

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

fn run_in(dir: &std::path::Path, args: &[&str]) -> Assert {
    cli()
        .current_dir(dir)
        .args(args)
        .args(["--snapshot", "workspace.snapshot.json"])
        .assert()
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
    )
    .success();
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
    cli()
        .current_dir(dir.path())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["plan", "--snapshot", "workspace.snapshot.json"])
        .assert()
        .success();
    let written = std::fs::read_to_string(&summary).expect("step summary");
    assert_nothing_raw("the step summary", &written);
    assert!(!written.contains('\u{1b}'), "{written}");

    let show = cli()
        .current_dir(dir.path())
        .args(["show", "plan.json", "--color", "never"])
        .assert()
        .success();
    assert_nothing_raw("show", &stdout(&show));
    assert_golden("hostile.show.txt", &stdout(&show));

    // The state of an apply keeps the names as ClickUp sent them; `show` escapes them.
    let apply = run_in(dir.path(), &["apply", "--auto-approve", "--color", "never"]).success();
    assert_nothing_raw("apply", &stdout(&apply));
    let state = cli()
        .current_dir(dir.path())
        .args(["show"])
        .assert()
        .success();
    assert_nothing_raw("show of the state", &stdout(&state));
    assert!(
        stdout(&state).contains("Acme\\u001b]0;pwned\\u0007\\u001b[2K"),
        "{}",
        stdout(&state)
    );

    // The JSON plan keeps the data exact: escaping is JSON's own.
    let json = run_in(dir.path(), &["plan", "--format", "json"]);
    let plan: Value = serde_json::from_slice(&json.get_output().stdout).expect("json");
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
            .assert()
    })
    .await
    .expect("join");
    unlock
        .code(1)
        .stderr(predicate::str::contains("a live process holds it"));
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
            .assert();
        if planted.ends_with(".lock") {
            output
                .code(1)
                .stderr(predicate::str::contains("cannot open the lock"));
        } else {
            // A journal left behind is folded in and removed: the link goes, never its target.
            output.success();
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
    acme.run(&["apply", "--auto-approve", "--allow-replace"])
        .assert()
        .success();
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
        .assert();
    drop(holder);
    let _ = std::fs::remove_file(&lock);
    let refused = output
        .code(1)
        .stderr(predicate::str::contains("the state is locked by"));
    stderr(&refused)
        .rsplit("(lock file ")
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
        let mut stderr = Vec::new();
        std::io::Read::read_to_end(&mut child.stderr.take().expect("stderr"), &mut stderr)
            .expect("read");
        Output {
            status,
            stdout: Vec::new(),
            stderr,
        }
        .assert()
        .append_context("args", format!("{args:?}"))
        .code(1)
        .stderr(predicate::str::contains("not a regular file"));
    }
    cli()
        .current_dir(acme.dir.path())
        .arg("show")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not a regular file"));
}

/// Only a last line cut short is the crash the journal expects; a damaged line before it
/// would silently lose every write recorded after it, and is an error.
#[test]
fn a_damaged_journal_line_before_the_last_is_an_error() {
    let acme = Acme::new();
    acme.run(&["apply", "--auto-approve", "--allow-replace"])
        .env("CLICKUP_MEMBERS_JOURNAL_ABOVE", "0")
        .assert()
        .success();
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
    cli()
        .current_dir(acme.dir.path())
        .arg("show")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("line 2 of 3 is damaged"));

    // A last line cut short is the expected crash: ignored.
    let journal = format!("{}\n{{\"serial\": tru", entry(1));
    std::fs::write(acme.path("members.state.json.journal"), journal).expect("write");
    cli()
        .current_dir(acme.dir.path())
        .arg("show")
        .assert()
        .success();
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
            output
                .assert()
                .append_context("answer", format!("{status} {reset}"))
                .code(1)
                .stderr(predicate::str::contains(expected))
                .stderr(predicate::str::contains("run again later"));
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
            .assert();
        match (mode, max_removals) {
            ("authoritative", 1) => {
                output
                    .success()
                    .stdout(predicate::str::contains(
                        "  - delete group OPS (g-fake)\n      # another user group has the same name (case-insensitive) and is the one kept (mode: authoritative); it has 1 member",
                    ))
                    // The file's group is kept.
                    .stdout(predicate::str::contains("g-real").not());
            }
            ("authoritative", _) => {
                output.code(1).stderr(predicate::str::contains(
                    "more than policy.max_removals (0): delete OPS",
                ));
            }
            _ => {
                output.success().stdout(predicate::str::contains(
                    "the Workspace has 2 user groups named \"Ops\" (case-insensitive): g-real is managed as the file's group, g-fake left alone",
                ));
            }
        }
    }
}

/// The example folder of Workspace files (`examples/teams`), with its snapshots, in a fresh
/// directory: `clickup/` and `snapshots/`.
fn teams() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("dir");
    for folder in ["clickup", "snapshots"] {
        crate::common::copy_dir(
            &crate::common::repo().join("examples/teams").join(folder),
            &dir.path().join(folder),
        );
    }
    dir
}

fn in_dir(dir: &std::path::Path, args: &[&str]) -> Assert {
    cli().current_dir(dir).args(args).assert()
}

/// A Workspace that cannot be read does not take the access review of the others with it:
/// their rows are written, the failure is said in place (text) or on standard error
/// (CSV), and the exit is 1.
#[test]
fn a_folder_report_writes_every_workspace_it_can_read() {
    let dir = teams();
    std::fs::write(dir.path().join("snapshots/9006054116.json"), "{\"team\": ").expect("write");
    let csv = in_dir(
        dir.path(),
        &[
            "report",
            "-f",
            "clickup",
            "--snapshot",
            "snapshots",
            "--format",
            "csv",
        ],
    )
    .code(1)
    .stderr(predicate::str::contains("9006054116"))
    .stderr(predicate::str::contains(
        "1 of 2 Workspaces could not be reviewed; the rows of the other were written",
    ));
    let mut reader = csv::Reader::from_reader(csv.get_output().stdout.as_slice());
    let workspaces: Vec<String> = reader
        .records()
        .map(|r| r.expect("record")[0].to_owned())
        .collect();
    assert!(!workspaces.is_empty(), "{}", stdout(&csv));
    assert!(
        workspaces.iter().all(|w| w == "9006054115"),
        "{workspaces:?}"
    );

    in_dir(
        dir.path(),
        &["report", "-f", "clickup", "--snapshot", "snapshots"],
    )
    .code(1)
    .stdout(predicate::str::contains(
        "Workspace 9006054116 (clickup/eu.yaml) was not reviewed: cannot read",
    ))
    .stdout(predicate::str::contains("9006054115  "));
}

/// Cells a spreadsheet would still run as a formula once it trims what comes first: a
/// space, a no-break space, a tab or carriage return, a byte order mark, the full-width
/// `＝＋－＠`. Each starts with `'`, and reads back as the name with that quote.
#[test]
fn report_csv_cells_are_inert_whatever_comes_before_the_formula() {
    let names = [
        " =1+1",
        "\u{a0}=1+1",
        "\u{ff1d}HYPERLINK(\"http://x.example\",\"click\")",
        "\u{ff0b}1",
        "\u{ff0d}1",
        "\u{ff20}SUM(A1)",
        "\t=1",
        "\r=1",
        "\u{feff}=1",
    ];
    let mut members = vec![json!({"user": {"id": 1, "username": "Olivia",
        "email": "olivia@acme.example", "role": 1, "date_joined": "1", "date_invited": "1"}})];
    for (i, name) in names.iter().enumerate() {
        members.push(json!({"user": {"id": 10 + i, "username": name,
            "email": format!("p{i}@acme.example"), "role": 3,
            "date_joined": "1", "date_invited": "1"}}));
    }
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("w.json"),
        json!({"team": {"id": "9006054115", "name": "Acme", "members": members},
               "me": {"id": 1, "email": "olivia@acme.example"}})
        .to_string(),
    )
    .expect("write");
    std::fs::write(
        dir.path().join("members.yaml"),
        "version: 1\nworkspace:\n  id: \"9006054115\"\nmembers:\n  - email: olivia@acme.example\n    role: owner\n",
    )
    .expect("write");
    let output = in_dir(
        dir.path(),
        &["report", "--format", "csv", "--snapshot", "w.json"],
    )
    .success();
    let mut reader = csv::Reader::from_reader(output.get_output().stdout.as_slice());
    let read: Vec<(String, String)> = reader
        .records()
        .map(|r| r.expect("record"))
        .map(|r| (r[0].to_owned(), r[1].to_owned()))
        .collect();
    for (i, name) in names.iter().enumerate() {
        let email = format!("p{i}@acme.example");
        let (_, cell) = read.iter().find(|(e, _)| *e == email).expect("row");
        assert_eq!(*cell, format!("'{name}"), "{name:?}");
    }
}

/// A members file with `include: ["teams/*.yaml"]` in `repo/clickup/`, and a file outside the
/// repository that holds a secret.
#[cfg(unix)]
fn including_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("dir");
    let clickup = dir.path().join("repo/clickup");
    std::fs::create_dir_all(clickup.join("teams")).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("outside")).expect("mkdir");
    std::fs::write(
        dir.path().join("outside/secret.yaml"),
        "first_line: SECRET-ABOVE\ndeploy_key: SECRET-VALUE-42\nlast_line: SECRET-BELOW\n",
    )
    .expect("write");
    std::fs::write(
        clickup.join("members.yaml"),
        "version: 1\nworkspace:\n  id: \"9006054115\"\ninclude: [\"teams/*.yaml\"]\nmembers:\n  - email: olivia@acme.example\n    role: owner\n",
    )
    .expect("write");
    std::fs::write(
        clickup.join("teams/eng.yaml"),
        "members:\n  - email: ada@acme.example\n",
    )
    .expect("write");
    dir
}

/// A fragment that is a link out of the repository, or behind a linked folder, is not read:
/// an error at the include's line, and nothing of the file it leads to in `validate`, the
/// pull request's markdown or serve's log.
#[cfg(unix)]
#[test]
fn an_include_never_follows_a_link_out_of_the_workspace_files_folder() {
    const SECRETS: [&str; 4] = ["SECRET", "deploy_key", "first_line", "last_line"];
    let snapshot = crate::common::repo().join("examples/acme/workspace.snapshot.json");
    let check = |dir: &std::path::Path, expected: &str| {
        let repo = dir.join("repo");
        let validate = in_dir(&repo, &["validate", "-f", "clickup/members.yaml"])
            .code(1)
            .stderr(predicate::str::contains(expected));
        let err = stderr(&validate);
        let markdown = cli()
            .current_dir(&repo)
            .args([
                "plan",
                "--format",
                "markdown",
                "-f",
                "clickup/members.yaml",
                "--snapshot",
            ])
            .arg(&snapshot)
            .assert()
            .code(1)
            .stdout(predicate::str::contains(expected));
        for secret in SECRETS {
            for (what, text) in [("validate", &err), ("markdown", &stdout(&markdown))] {
                assert!(!text.contains(secret), "{what} shows {secret}:\n{text}");
            }
        }
    };

    // The fragment is a link to a file outside.
    let dir = including_repo();
    std::os::unix::fs::symlink(
        "../../../outside/secret.yaml",
        dir.path().join("repo/clickup/teams/secret.yaml"),
    )
    .expect("link");
    check(
        dir.path(),
        "clickup/members.yaml:4:11: include \"teams/*.yaml\": teams/secret.yaml leads out of",
    );
    // serve's log says the same, and nothing more.
    let log = serve_log(
        &dir.path().join("repo"),
        &["-f", "clickup/members.yaml", "--snapshot"],
        &snapshot,
        "leads out of",
    );
    for secret in SECRETS {
        assert!(!log.contains(secret), "serve logs {secret}:\n{log}");
    }

    // The fragments are behind a linked folder.
    let dir = including_repo();
    let teams = dir.path().join("repo/clickup/teams");
    std::fs::remove_dir_all(&teams).expect("rm");
    std::os::unix::fs::symlink("../../outside", &teams).expect("link");
    check(
        dir.path(),
        "clickup/members.yaml:4:11: include \"teams/*.yaml\": teams is a symbolic link",
    );
}

/// Runs `serve` with `args` and `--snapshot snapshot` in `dir` until its log holds `wanted`,
/// and gives the log.
fn serve_log(
    dir: &std::path::Path,
    args: &[&str],
    snapshot: &std::path::Path,
    wanted: &str,
) -> String {
    let log = dir.join("serve.log");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_clickup-members"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .args(["serve", "--listen", "127.0.0.1:0", "--interval", "1s"])
        .args(args)
        .arg(snapshot)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("spawn serve");
    let started = Instant::now();
    let text = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains(wanted) || started.elapsed() > Duration::from_secs(20) {
            break text;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        text.contains(wanted),
        "serve never logged {wanted:?}:\n{text}"
    );
    text
}

/// `acme.yaml` and `acme.yml` in one folder would share `acme.state.json`: the second
/// Workspace could never be applied, and its apply would record into the first's state. Both
/// are named, and nothing is planned.
#[test]
fn two_workspace_files_of_one_stem_in_a_folder_are_refused_before_anything_is_done() {
    let dir = teams();
    std::fs::rename(
        dir.path().join("clickup/eu.yaml"),
        dir.path().join("clickup/acme.yml"),
    )
    .expect("rename");
    for args in [
        &["validate", "-f", "clickup"][..],
        &["plan", "-f", "clickup", "--snapshot", "snapshots"][..],
        &[
            "apply",
            "--auto-approve",
            "-f",
            "clickup",
            "--snapshot",
            "snapshots",
        ][..],
    ] {
        in_dir(dir.path(), args)
            .code(1)
            .stderr(predicate::str::contains(
                "clickup/acme.yaml and clickup/acme.yml would share one state file, clickup/acme.state.json",
            ))
            .stdout(predicate::str::is_empty());
    }
    assert!(!dir.path().join("clickup/acme.state.json").exists());
}

/// `EU.YAML` is a Workspace file like `eu.yaml`: not skipped without a word.
#[test]
fn a_workspace_file_with_an_upper_case_extension_is_one_of_the_folder() {
    let dir = teams();
    std::fs::rename(
        dir.path().join("clickup/eu.yaml"),
        dir.path().join("clickup/EU.YAML"),
    )
    .expect("rename");
    in_dir(dir.path(), &["validate", "-f", "clickup"])
        .success()
        .stdout(predicate::str::contains("clickup/EU.YAML is valid"))
        .stdout(predicate::str::contains(
            "2 Workspace files in clickup are valid.",
        ));
    in_dir(
        dir.path(),
        &[
            "apply",
            "--auto-approve",
            "-f",
            "clickup",
            "--snapshot",
            "snapshots",
        ],
    )
    .success();
    assert!(dir.path().join("clickup/EU.state.json").is_file());
}

/// A Workspace file renamed after its first apply starts a fresh state, under which a person
/// deleted from the file is no longer managed and never removed. The state left beside it
/// that records the same Workspace is named, with what to do, by plan, apply and serve.
#[test]
fn a_renamed_workspace_file_is_told_where_its_state_is() {
    let acme = Acme::new();
    acme.run(&["apply", "--auto-approve", "--allow-replace"])
        .assert()
        .success();
    std::fs::rename(acme.members(), acme.path("acme.yaml")).expect("rename");
    let expected = "there is no state file at acme.state.json, but members.state.json records Workspace 9006054115";
    for args in [
        &["plan"][..],
        &["apply", "--auto-approve", "--allow-replace"][..],
    ] {
        let output = cli()
            .current_dir(acme.dir.path())
            .args(args)
            .args(["-f", "acme.yaml", "--snapshot", "workspace.snapshot.json"])
            .output()
            .expect("run");
        let err = stderr(&output);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(
            err.contains("git mv members.state.json acme.state.json"),
            "{args:?}: {err}"
        );
    }
    // The apply made acme.state.json: from then on, nothing to say.
    std::fs::remove_file(acme.path("acme.state.json")).expect("rm");
    let log = serve_log(
        acme.dir.path(),
        &["-f", "acme.yaml", "--snapshot"],
        &acme.snapshot(),
        "members.state.json",
    );
    let line = log
        .lines()
        .find(|l| l.contains(expected))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(line.contains("WARN"), "{line}");
}

/// `expires:` a valid RFC 3339 time past the last day the tool keeps (10000-01-01 in UTC)
/// is an error at its place, not a panic; serve would crash-loop on it. Nor does a huge
/// `--inactive-days`, or the longest `expiry_notice_days`, take a date out of range.
#[test]
fn dates_beyond_the_calendar_are_errors_or_bounds_never_panics() {
    let acme = Acme::new();
    acme.edit_members(
        "  - email: elif@acme.example\n",
        "  - email: elif@acme.example\n    expires: \"9999-12-31T20:00:00-05:00\"\n",
    );
    for args in [&["validate"][..], &["plan"][..], &["report"][..]] {
        acme.run(args)
            .assert()
            .code(1)
            .stderr(predicate::str::contains("panicked").not())
            .stderr(predicate::str::contains(
                "members.yaml:29:14: expires: \"9999-12-31T20:00:00-05:00\" is past 9999-12-31",
            ));
    }
    // The notice is bounded by the file's rules; the longest one plans.
    let acme = Acme::new();
    acme.edit_members(
        "  max_removals: 6\n",
        "  max_removals: 6\n  expiry_notice_days: 4294967295\n",
    );
    acme.run(&["validate"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "members.yaml:13:23: policy.expiry_notice_days must be a whole number of days, 0 to 36500, not 4294967295",
        ));
    acme.edit_members("4294967295", "36500");
    acme.edit_members(
        "  - email: elif@acme.example\n",
        "  - email: elif@acme.example\n    expires: \"9999-12-31T23:59:59Z\"\n",
    );
    for args in [
        &["plan", "--allow-replace"][..],
        &["report"][..],
        &["report", "--inactive-days", "4294967295"][..],
    ] {
        acme.run(args).assert().success();
    }
}

/// Live names with invisible characters (the Arabic letter mark, line and paragraph
/// separators, zero-width and tag characters that spell hidden text), a team mention and
/// bare links: the markdown plan and the text and markdown access review show the invisible
/// ones escaped, and in markdown no mention or link is live.
#[test]
fn invisible_characters_mentions_and_links_in_live_names_stay_inert() {
    let hidden = "\u{e0049}\u{e0067}\u{e006e}";
    let snapshot = json!({
        "team": {"id": "9006054115", "name": "Acme\u{061c}\u{2028}Ops", "members": [
            {"user": {"id": 1, "username": "Olivia", "email": "olivia@acme.example", "role": 1,
                      "date_joined": "1", "date_invited": "1"}},
            {"user": {"id": 2, "username": "Bob @acme/admins see https://evil.example\u{2029}",
                      "email": "bob@acme.example", "role": 3,
                      "date_joined": "1", "date_invited": "1"},
             "invited_by": {"id": 1, "status": "active"}}]},
        "groups": [{"id": "g-1", "name": format!("Ops @acme/admins www.evil.example\u{200b}\u{200d}{hidden}"),
                    "members": [{"id": 2, "email": "bob@acme.example"}]}],
        "me": {"id": 1, "email": "olivia@acme.example"}
    });
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("members.yaml"),
        "version: 1\nworkspace:\n  id: \"9006054115\"\npolicy:\n  mode: authoritative\nmembers:\n  - email: olivia@acme.example\n    role: owner\n  - email: bob@acme.example\ngroups: []\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("workspace.snapshot.json"),
        snapshot.to_string(),
    )
    .expect("write");
    const INVISIBLE: [char; 8] = [
        '\u{061c}',
        '\u{2028}',
        '\u{2029}',
        '\u{200b}',
        '\u{200d}',
        '\u{e0049}',
        '\u{e0067}',
        '\u{e006e}',
    ];
    let outputs = [
        run_in(dir.path(), &["plan", "--format", "markdown"]).success(),
        run_in(dir.path(), &["plan"]).success(),
        run_in(dir.path(), &["report", "--format", "markdown"]).success(),
        run_in(dir.path(), &["report"]).success(),
    ];
    for (i, output) in outputs.iter().enumerate() {
        let text = stdout(output);
        for c in INVISIBLE {
            assert!(
                !text.contains(c),
                "output {i} holds U+{:04X} raw:\n{text}",
                u32::from(c)
            );
        }
        assert!(text.contains("u061c") && text.contains("u2028"), "{text}");
    }
    for markdown in [stdout(&outputs[0]), stdout(&outputs[2])] {
        // What GitHub renders as text: outside code blocks and code spans.
        let mut prose = String::new();
        let mut fenced = false;
        for line in markdown.lines() {
            if line.starts_with("```") {
                fenced = !fenced;
            } else if !fenced {
                prose.push_str(line);
                prose.push('\n');
            }
        }
        assert!(prose.contains("acme/admins"), "{markdown}");
        for live in ["@acme/admins", "https://", "www.evil"] {
            assert!(!prose.contains(live), "{live} is live:\n{prose}");
        }
    }
}

/// A Workspace's name with a line break would write a line of YAML into the header comment of
/// an imported file (an `include:` the tool then honours). It stays in the comment, escaped.
#[test]
fn an_imported_workspace_name_cannot_write_yaml() {
    let dir = tempfile::tempdir().expect("dir");
    let mut snapshot = owner_only();
    snapshot["team"]["name"] = json!("Acme\ninclude: [\"x\"]\r\npolicy: {mode: authoritative}");
    std::fs::write(dir.path().join("w.json"), snapshot.to_string()).expect("write");
    in_dir(
        dir.path(),
        &[
            "import",
            "--workspace",
            "9006054115",
            "--out",
            "members.yaml",
            "--snapshot",
            "w.json",
        ],
    )
    .success()
    .stdout(predicate::str::contains("\ninclude").not());
    let text = std::fs::read_to_string(dir.path().join("members.yaml")).expect("read");
    assert!(
        text.lines()
            .all(|l| !l.starts_with("include") && !l.starts_with("policy: {")),
        "{text}"
    );
    in_dir(dir.path(), &["validate"])
        .success()
        .stdout(predicate::str::contains("0 guests (mode: authoritative)"));
}

/// `import --out` never writes through a symbolic link, dangling or not: a link planted in
/// the folder (or given as the file) would have it write wherever the link leads.
#[cfg(unix)]
#[test]
fn import_refuses_to_write_through_a_link() {
    let dir = tempfile::tempdir().expect("dir");
    let snapshots = dir.path().join("snapshots");
    std::fs::create_dir_all(&snapshots).expect("mkdir");
    std::fs::write(snapshots.join("9006054115.json"), owner_only().to_string()).expect("write");
    std::fs::create_dir_all(dir.path().join("clickup")).expect("mkdir");
    let victim = dir.path().join("victim.yaml");
    std::os::unix::fs::symlink(&victim, dir.path().join("clickup/acme.yaml")).expect("link");
    in_dir(
        dir.path(),
        &["import", "--out", "clickup", "--snapshot", "snapshots"],
    )
    .code(1)
    .stderr(predicate::str::contains(
        "clickup/acme.yaml is a symbolic link; import does not write through links",
    ));
    assert!(!victim.exists(), "written through the link");

    std::os::unix::fs::symlink(&victim, dir.path().join("one.yaml")).expect("link");
    for force in [false, true] {
        let mut args = vec![
            "import",
            "--workspace",
            "9006054115",
            "--out",
            "one.yaml",
            "--snapshot",
            "snapshots/9006054115.json",
        ];
        if force {
            args.push("--force");
        }
        in_dir(dir.path(), &args)
            .code(1)
            .stderr(predicate::str::contains("one.yaml is a symbolic link"));
        assert!(!victim.exists(), "written through the link");
    }
}

/// ClickUp answering negative seat counts: not shown as "-50 of -50", and no bound of
/// `policy.seats` passes on them. The answer cannot be read (the field is named), so the
/// seats are unknown and the bound is held to the people the Workspace lists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negative_seat_counts_are_not_believed() {
    let mut snapshot = owner_only();
    snapshot["seats"] = json!({
        "members": {"filled_members_seats": -50, "total_member_seats": -50, "empty_member_seats": 0},
        "guests": {"filled_guest_seats": -5, "total_guest_seats": -5, "empty_guest_seats": 0}
    });
    let fake = Fake::start(&snapshot, TOKEN).await;
    let dir = newcomers(2);
    crate::common::edit(
        &dir.path().join("members.yaml"),
        "members:\n",
        "policy:\n  seats:\n    max_members: 2\nmembers:\n",
    );
    crate::common::run_against(dir.path(), &fake.api_url(), TOKEN, ["plan"])
        .await
        .assert()
        .code(1)
        .stdout(predicate::str::contains("-50").not())
        .stderr(predicate::str::contains("cannot read the Workspace's seats"))
        .stderr(predicate::str::contains(
            "filled_guest_seats: a seat count is 0 or more, not -5",
        ))
        .stderr(predicate::str::contains(
            "refused: the plan would use 3 member seats (now 1), above policy.seats.max_members (2)",
        ));
}
// `serve`, attacked through its port, its clock, its files and its command line.

/// Waits until `path` answers `status`; the last body.
async fn until_status(server: &Server, path: &str, status: u16, within: Duration) -> String {
    let started = Instant::now();
    loop {
        let (code, body) = server.get(path).await;
        if code == status {
            return body;
        }
        assert!(
            started.elapsed() < within,
            "{path} still answers {code} ({body}):\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How many times the fake was asked `GET /user` (once per cycle that reached it).
fn user_reads(fake: &Fake) -> usize {
    fake.log()
        .iter()
        .filter(|l| l.method == "GET" && l.path.trim_start_matches('/') == "user")
        .count()
}

/// `GET /plan` (every member's email) and `POST /reconcile` (a cycle that spends the token's
/// rate limit) answer only with the secret of `CLICKUP_MEMBERS_SERVE_TOKEN`; without it they
/// answer on a loopback address only. The metrics and probes stay open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_s_plan_and_reconcile_need_the_serve_token_or_a_loopback_address() {
    use reqwest::Method;
    const SECRET: &str = "s3cr3t-of-the-endpoints-4242";
    let fake = Fake::start(&workspace(), SERVE_TOKEN).await;
    let dir = crate::common::workdir(SERVE_FILE);
    let server = Server::launch(
        dir.path(),
        &fake.api_url(),
        &["--interval", "1h"],
        &Launch {
            env: &[("CLICKUP_MEMBERS_SERVE_TOKEN", SECRET)],
            ..Launch::default()
        },
    );
    until_status(&server, "/readyz", 200, Duration::from_secs(20)).await;
    let almost = &SECRET[..SECRET.len() - 1];
    for bearer in [None, Some("wrong"), Some(almost), Some("")] {
        let (code, body) = server.request(Method::GET, "/plan", bearer).await;
        assert_eq!(code, 401, "{bearer:?}: {body}");
        assert!(!body.contains("@acme.example"), "{body}");
        let (code, _) = server.request(Method::POST, "/reconcile", bearer).await;
        assert_eq!(code, 401, "{bearer:?}");
    }
    let (code, plan) = server.request(Method::GET, "/plan", Some(SECRET)).await;
    assert_eq!(code, 200, "{plan}");
    assert!(plan.contains("dee@acme.example"), "{plan}");
    let (code, _) = server
        .request(Method::POST, "/reconcile", Some(SECRET))
        .await;
    assert_eq!(code, 202);
    for open in ["/metrics", "/healthz", "/readyz"] {
        assert_eq!(server.get(open).await.0, 200, "{open}");
    }
    assert!(!server.log().contains(SECRET), "{}", server.log());

    // No secret, on an address others reach: refused, with what to do.
    let dir = crate::common::workdir(SERVE_FILE);
    let open = Server::start(dir.path(), &fake, &["--listen", "0.0.0.0:0"]);
    until_status(&open, "/readyz", 200, Duration::from_secs(20)).await;
    for (method, path) in [(Method::GET, "/plan"), (Method::POST, "/reconcile")] {
        let (code, body) = open.request(method, path, None).await;
        assert_eq!(code, 403, "{path}: {body}");
        assert!(body.contains("CLICKUP_MEMBERS_SERVE_TOKEN"), "{body}");
        assert!(!body.contains("@acme.example"), "{body}");
    }
    assert_eq!(open.get("/metrics").await.0, 200);
    assert!(
        open.log().contains("CLICKUP_MEMBERS_SERVE_TOKEN"),
        "the start-up does not say /plan and /reconcile are refused:\n{}",
        open.log()
    );
}

/// A flood of `POST /reconcile` starts one cycle, not one per request; during a backoff after
/// a failed cycle it starts none (the backoff is what spares ClickUp's rate limit).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_s_reconcile_is_coalesced_and_never_cuts_a_backoff_short() {
    let fake = Fake::start(&workspace(), SERVE_TOKEN).await;
    let dir = crate::common::workdir(SERVE_FILE);
    let server = Server::start(dir.path(), &fake, &["--interval", "1h"]);
    server.until_total("success", 1.0).await;
    let before = user_reads(&fake);
    for _ in 0..20 {
        assert_eq!(server.post("/reconcile").await, 202);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        user_reads(&fake),
        before + 1,
        "20 requests within a second started more than one cycle:\n{}",
        server.log()
    );

    // Every read of the Workspace fails: after the first cycle, a backoff of 10 s.
    let failing = Fake::start(&workspace(), SERVE_TOKEN).await;
    failing.inject("GET", "team", crate::fake::Fault::Status(503), 1000);
    let dir = crate::common::workdir(SERVE_FILE);
    let server = Server::start(dir.path(), &failing, &["--interval", "1h"]);
    server.until_total("failure", 1.0).await;
    let before = user_reads(&failing);
    for _ in 0..10 {
        let (code, body) = server
            .request(reqwest::Method::POST, "/reconcile", None)
            .await;
        assert!(code == 202 || code == 429, "{code} {body}");
        assert!(body.contains("backoff"), "{body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        user_reads(&failing),
        before,
        "POST /reconcile cut the backoff short:\n{}",
        server.log()
    );
}

/// Opens `n` connections to `address`, each sending the start of a request and no more.
fn half_requests(address: &str, n: usize) -> Vec<std::net::TcpStream> {
    use std::io::Write;
    let address: std::net::SocketAddr = address.parse().expect("address");
    (0..n)
        .filter_map(|_| {
            let mut stream =
                std::net::TcpStream::connect_timeout(&address, Duration::from_secs(1)).ok()?;
            stream
                .write_all(b"GET /metrics HTTP/1.1\r\nHost: serve\r\nX-Slow: ")
                .ok()?;
            Some(stream)
        })
        .collect()
}

/// Idle half-requests are cut off after a while, and only so many connections are served at
/// once: they do not use up serve's files, and its cycles go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_requests_neither_use_up_serve_s_files_nor_stop_its_cycles() {
    let fake = Fake::start(&workspace(), SERVE_TOKEN).await;
    let dir = crate::common::workdir(SERVE_FILE);
    let server = Server::launch(
        dir.path(),
        &fake.api_url(),
        &[],
        &Launch {
            open_files: Some(100),
            ..Launch::default()
        },
    );
    server.wait_cycles("success", 1.0, false).await;
    let held = half_requests(&server.address, 150);
    assert!(held.len() > 100, "{}", held.len());
    let cycles = || server.log().matches("cycle success").count();
    let before = cycles();
    let started = Instant::now();
    while cycles() < before + 3 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no cycle succeeded while the connections were held:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = server.log();
    assert!(
        !log.contains("Too many open files") && !log.contains("os error 24"),
        "{log}"
    );
    drop(held);
}

/// SIGTERM ends `serve` within 10 s whatever its clients do: half-requests, a request sent a
/// byte at a time, an idle kept-alive connection, a body that never comes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_serve_within_10s_whatever_its_clients_do() {
    use std::io::Write;
    let fake = Fake::start(&workspace(), SERVE_TOKEN).await;
    let dir = crate::common::workdir(SERVE_FILE);
    let server = Server::start(dir.path(), &fake, &[]);
    server.wait_cycles("success", 1.0, false).await;
    let address: std::net::SocketAddr = server.address.parse().expect("address");
    let mut held = half_requests(&server.address, 5);
    let mut kept = std::net::TcpStream::connect(address).expect("connect");
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: serve\r\n\r\n")
        .expect("write");
    held.push(kept);
    let mut body = std::net::TcpStream::connect(address).expect("connect");
    body.write_all(b"POST /reconcile HTTP/1.1\r\nHost: serve\r\nContent-Length: 1000\r\n\r\nab")
        .expect("write");
    held.push(body);
    let slow = std::net::TcpStream::connect(address).expect("connect");
    let dripping = std::thread::spawn(move || {
        let mut slow = slow;
        for byte in b"GET /metrics HTTP/1.1\r\nHost: serve\r\nX-Slow: "
            .iter()
            .cycle()
            .take(300)
        {
            if slow.write_all(&[*byte]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (code, elapsed, log) = server.terminate();
    assert_eq!(code, Some(0), "not ended by SIGTERM in 20 s:\n{log}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}\n{log}");
    drop(held);
    let _ = dripping.join();
}

/// One 429 whose `X-RateLimit-Reset` is an hour ahead: `serve` holds back (its pacer is not
/// dark for the hour, see `http::pace::tests`), and a controller that has not reached ClickUp
/// for three intervals says so on `/healthz` instead of passing for alive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_reset_far_ahead_makes_serve_unhealthy_not_silently_dark() {
    use wiremock::{Mock, ResponseTemplate, matchers};
    let fake = Fake::start(&workspace(), SERVE_TOKEN).await;
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        + 3600;
    Mock::given(matchers::method("GET"))
        .and(matchers::path("/api/v2/user"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("X-RateLimit-Remaining", "0")
                .insert_header("X-RateLimit-Reset", reset.to_string().as_str())
                .set_body_json(json!({"err": "Rate limit reached", "ECODE": "APP_002"})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&fake.server)
        .await;
    let dir = crate::common::workdir(SERVE_FILE);
    let server = Server::start(dir.path(), &fake, &[]);
    let why = until_status(&server, "/healthz", 503, Duration::from_secs(20)).await;
    assert!(
        why.contains("three intervals") && why.contains("rate limit"),
        "{why}"
    );
    assert!(fake.log().is_empty(), "{:?}", fake.log());
    assert!(server.log().contains("next try in"), "{}", server.log());
}

/// A Workspace that no file names any more is forgotten: its plan and its series go, so the
/// shipped alerts do not fire for a Workspace nobody manages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_forgets_a_workspace_its_files_no_longer_name() {
    let read = |id: &str| -> Value {
        serde_json::from_str(
            &std::fs::read_to_string(
                crate::common::repo().join(format!("examples/teams/snapshots/{id}.json")),
            )
            .expect("snapshot"),
        )
        .expect("json")
    };
    const EU: &str = "9006054116";
    let fakes = crate::fake::many::Fakes::start(&[read("9006054115"), read(EU)], SERVE_TOKEN).await;
    let mentions_eu = |text: &str| text.contains(&format!("workspace=\"{EU}\""));
    // A folder: the EU file is deleted.
    let dir = tempfile::tempdir().expect("dir");
    crate::common::copy_dir(
        &crate::common::repo().join("examples/teams/clickup"),
        &dir.path().join("clickup"),
    );
    let server = Server::start_at(dir.path(), &fakes.api_url(), &["-f", "clickup"]);
    let started = Instant::now();
    while !mentions_eu(&server.get("/metrics").await.1) || server.get("/plan").await.0 != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    std::fs::remove_file(dir.path().join("clickup/eu.yaml")).expect("remove");
    let started = Instant::now();
    loop {
        let (_, metrics) = server.get("/metrics").await;
        let (_, plan) = server.get("/plan").await;
        let plan: Value = serde_json::from_str(&plan).expect("json");
        let ids: Vec<&str> = plan["workspaces"]
            .as_array()
            .expect("workspaces")
            .iter()
            .filter_map(|p| p["workspace"]["id"].as_str())
            .collect();
        if !mentions_eu(&metrics) && ids == [TEAM] {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "Workspace {EU} is still served ({ids:?}):\n{metrics}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(server);

    // One file, pointed at another Workspace.
    let dir = tempfile::tempdir().expect("dir");
    let acme = format!(
        "version: 1\nworkspace:\n  id: \"{TEAM}\"\nmembers:\n  - email: olivia@acme.example\n    role: owner\n"
    );
    std::fs::write(dir.path().join("members.yaml"), &acme).expect("write");
    let server = Server::start_at(dir.path(), &fakes.api_url(), &[]);
    until_status(&server, "/plan", 200, Duration::from_secs(20)).await;
    std::fs::write(dir.path().join("members.yaml"), acme.replace(TEAM, EU)).expect("write");
    let started = Instant::now();
    loop {
        let (_, metrics) = server.get("/metrics").await;
        let (status, plan) = server.get("/plan").await;
        // Between the old Workspace forgotten and the new one's first plan, there is none.
        let plan: Value = if status == 200 {
            serde_json::from_str(&plan).expect("json")
        } else {
            Value::Null
        };
        if plan["workspace"]["id"] == EU && !metrics.contains(&format!("workspace=\"{TEAM}\"")) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "/plan answers {} for a file of {EU}:\n{metrics}",
            plan["workspace"]["id"]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An interval no clock can add (`300000000000y`) is a usage error at start-up, not a panic
/// of `/readyz`; so is one longer than a week, or a settle time longer than a minute.
#[test]
fn serve_s_interval_and_settle_time_are_bounded() {
    for args in [
        ["--interval", "300000000000y"],
        ["--interval", "8d"],
        ["--settle", "2h"],
    ] {
        // A usage error.
        cli()
            .env("CLICKUP_TOKEN", SERVE_TOKEN)
            .arg("serve")
            .args(args)
            .args(["--listen", "not-an-address"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("at most"));
    }
}

/// A query string (`?key=…`), a fragment or a user and password in `--api-url` never show in
/// `/readyz` or the log: only the scheme, host, port and path do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_or_password_in_the_api_url_never_shows_in_serve_s_answers_or_log() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("address")
        .port();
    let dir = crate::common::workdir(SERVE_FILE);
    let url = format!("http://ops:hunter2@127.0.0.1:{port}/api/v2?key=QUERYSECRET#FRAGSECRET");
    let server = Server::start_at(dir.path(), &url, &[]);
    let started = Instant::now();
    let why = loop {
        let (code, why) = server.get("/readyz").await;
        if code == 503 && why.contains("failure") {
            break why;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{why}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let log = server.log();
    for text in [&why, &log] {
        for secret in ["QUERYSECRET", "FRAGSECRET", "hunter2", "ops:"] {
            assert!(!text.contains(secret), "{secret} shown:\n{text}");
        }
    }
    assert!(
        why.contains(&format!("http://127.0.0.1:{port}/api/v2")),
        "{why}"
    );
}

const SETTLE_FILE: &str = "version: 1\nworkspace:\n  id: \"9006054115\"\npolicy:\n  mode: authoritative\ninclude: [\"teams/*.yaml\"]\nmembers:\n  - email: olivia@acme.example\n    role: owner\n";
const TEAM_FRAGMENT: &str = "members:\n  - email: ada@acme.example\n  - email: bo@acme.example\n  - email: cy@acme.example\n";

fn settle_dir() -> tempfile::TempDir {
    let dir = crate::common::workdir(SETTLE_FILE);
    std::fs::create_dir(dir.path().join("teams")).expect("mkdir");
    std::fs::write(dir.path().join("teams/eng.yaml"), TEAM_FRAGMENT).expect("write");
    dir
}

/// A fragment caught half-written (as `git pull` rewrites it in place) is not planned: the
/// cycle waits until no file has changed for the settle time and reads the same twice; in
/// apply mode nobody is removed and invited again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fragment_read_while_it_is_rewritten_is_not_planned() {
    let fake = Fake::start(&workspace(), SERVE_TOKEN).await;
    let dir = settle_dir();
    let server = Server::start(dir.path(), &fake, &["--mode", "apply", "--settle", "2s"]);
    server.wait_cycles("success", 1.0, false).await;
    let fragment = dir.path().join("teams/eng.yaml");
    // Half-written for a second and a half: at least one cycle comes meanwhile.
    std::fs::write(&fragment, "members:\n  - email: ada@acme.example\n").expect("write");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    std::fs::write(&fragment, TEAM_FRAGMENT).expect("write");
    server.wait_cycles("success", 2.0, false).await;
    assert_eq!(
        crate::serve::writes(&fake),
        0,
        "a half-written fragment was applied:\n{}",
        server.log()
    );
    drop(server);

    // Files that never stand still: the cycle is invalid, with the reason, and writes nothing.
    let dir = settle_dir();
    let server = Server::start(dir.path(), &fake, &["--mode", "apply", "--settle", "300ms"]);
    server.wait_cycles("success", 1.0, false).await;
    let fragment = dir.path().join("teams/eng.yaml");
    let touching = {
        let fragment = fragment.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(6) {
                std::fs::write(&fragment, TEAM_FRAGMENT).expect("write");
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    server.wait_cycles("invalid", 1.0, false).await;
    let (code, why) = server.get("/readyz").await;
    assert_eq!(code, 503);
    assert!(
        why.contains("stand still") && why.contains("eng.yaml"),
        "{why}"
    );
    let _ = touching.join();
    server.wait_cycles("success", 1.0, false).await;
    assert_eq!(crate::serve::writes(&fake), 0, "{}", server.log());
}
