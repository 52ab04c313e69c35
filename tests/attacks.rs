//! What an adversarial review tried, kept as tests: hostile names in the live Workspace, a
//! lock taken from a live holder, look-alike groups, hostile rate-limit headers, files that are
//! not what they seem.

mod common;

use std::process::Output;

use serde_json::{Value, json};

use common::{assert_golden, cli, stderr, stdout};

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
