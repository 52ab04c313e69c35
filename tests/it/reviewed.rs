//! What was reviewed is what is applied (SPEC §10): `apply --reviewed PLAN` against the fake
//! ClickUp makes only the changes the pull request's plan showed; what changed in ClickUp
//! since is left for a new review; a reviewed plan that cannot stand for today's is refused
//! whole. Also the order of writes in a Workspace whose seats are full, and the exit code of
//! a plan apply would refuse.

use serde_json::Value;

use crate::common::{Acme, copy_dir, failed, repo, stderr, stdout};
use crate::fake::Fake;
use crate::live::{TOKEN, run};

fn acme_snapshot() -> Value {
    let text = std::fs::read_to_string(repo().join("examples/acme/workspace.snapshot.json"))
        .expect("snapshot");
    serde_json::from_str(&text).expect("json")
}

fn writes(fake: &Fake) -> Vec<String> {
    fake.log()
        .iter()
        .filter(|l| l.is_write())
        .map(crate::fake::Logged::line)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_added_in_clickup_after_the_review_is_not_removed_on_merge() {
    let fake = Fake::start(&acme_snapshot(), TOKEN).await;
    let acme = Acme::new();
    // The pull request's plan, reviewed.
    let output = run(
        acme.dir.path(),
        &fake,
        &["plan", "--allow-replace", "--out", "plan.json"],
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // Before the merge, a guest is invited in ClickUp's UI (the file is authoritative: a plan
    // made now removes them), and a role the plan changes is changed there already.
    let intruder = fake.invite_outside("intruder@acme.example", 4);
    fake.set_role("max@acme.example", 2);
    fake.clear_log();

    let output = run(
        acme.dir.path(),
        &fake,
        &[
            "apply",
            "--auto-approve",
            "--allow-replace",
            "--reviewed",
            "plan.json",
        ],
    )
    .await;
    let err = failed(&output);
    let out = stdout(&output);
    assert!(
        out.contains("Not reviewed, not made (1):")
            && out.contains("  - remove guest intruder@acme.example"),
        "{out}"
    );
    assert!(
        out.contains("Already done (1):") && out.contains("  ~ update member max@acme.example"),
        "{out}"
    );
    assert!(
        out.contains(
            "Apply complete! 3 invited, 5 changed, 2 removed, 1 replaced, 1 group created, 1 group deleted."
        ),
        "{out}"
    );
    assert!(
        err.contains("1 change the Workspace needs is not in the reviewed plan plan.json"),
        "{err}"
    );
    assert_eq!(fake.count("intruder@acme.example"), 1, "still there");
    assert!(
        !writes(&fake)
            .iter()
            .any(|w| w.ends_with(&intruder.to_string())),
        "{:?}",
        writes(&fake)
    );
    assert_eq!(
        fake.count("nina@acme.example"),
        1,
        "the reviewed invitation"
    );
    assert!(fake.member("victor.leroy@acme.example").is_none());

    // What is left is the change nobody reviewed: a new plan shows it, and only it.
    let output = run(
        acme.dir.path(),
        &fake,
        &["plan", "--detailed-exitcode", "--format", "json"],
    )
    .await;
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let plan: Value = serde_json::from_str(&stdout(&output)).expect("json");
    let changes: Vec<String> = plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| format!("{} {}", c["action"], c["email"]))
        .collect();
    assert_eq!(changes, [r#""remove" "intruder@acme.example""#]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewed_plan_of_another_file_is_refused_whole_and_nothing_is_sent() {
    let fake = Fake::start(&acme_snapshot(), TOKEN).await;
    let acme = Acme::new();
    let output = run(
        acme.dir.path(),
        &fake,
        &["plan", "--allow-replace", "--out", "plan.json"],
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // Another change merged after the plan was made.
    acme.edit_members(
        "  - email: yusuf@acme.example\n",
        "  - email: yusuf@acme.example\n  - email: late@acme.example\n",
    );
    fake.clear_log();
    let output = run(
        acme.dir.path(),
        &fake,
        &[
            "apply",
            "--auto-approve",
            "--allow-replace",
            "--reviewed",
            "plan.json",
        ],
    )
    .await;
    let err = failed(&output);
    assert!(
        err.contains("the reviewed plan plan.json is refused whole, and Workspace 9006054115 is left as it is: members.yaml is not the file that was reviewed"),
        "{err}"
    );
    assert!(writes(&fake).is_empty(), "{:?}", writes(&fake));
}

#[test]
fn reviewed_needs_auto_approve_without_a_terminal_and_is_not_a_saved_plan_too() {
    let acme = Acme::new();
    acme.run(&["plan", "--allow-replace", "--out", "plan.json"])
        .assert()
        .code(0);
    let output = acme
        .run(&["apply", "--allow-replace", "--reviewed", "plan.json"])
        .output()
        .expect("run");
    let err = failed(&output);
    assert!(err.contains("--auto-approve"), "{err}");
    let output = acme
        .run(&["apply", "plan.json", "--reviewed", "plan.json"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1), "a usage error");
    assert!(stderr(&output).contains("cannot be used with"));
}

#[test]
fn a_folder_applies_each_workspace_what_its_own_reviewed_plan_holds() {
    let dir = tempfile::tempdir().expect("dir");
    copy_dir(&repo().join("examples/teams"), dir.path());
    let run = |args: &[&str]| {
        crate::common::cli()
            .current_dir(dir.path())
            .args(args)
            .args(["-f", "clickup", "--snapshot", "snapshots"])
            .output()
            .expect("run")
    };
    let output = run(&["plan", "--out", "plans.json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // The EU Workspace's file changes after the review: its plan is refused whole, the other
    // Workspace is applied.
    crate::common::edit(
        &dir.path().join("clickup/eu.yaml"),
        "members:\n",
        "members:\n  - email: late@acme.example\n",
    );
    let output = run(&["apply", "--auto-approve", "--reviewed", "plans.json"]);
    let err = failed(&output);
    assert!(
        err.contains("is not the file that was reviewed") && err.contains("eu.yaml"),
        "{err}"
    );
    assert!(
        err.contains("1 of 2 Workspaces was refused or failed; the other was applied"),
        "{err}"
    );
    assert!(stdout(&output).contains("Apply complete!"), "the other one");
    assert!(dir.path().join("clickup/acme.state.json").exists());
    assert!(!dir.path().join("clickup/eu.state.json").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swap_in_a_full_workspace_frees_the_seat_before_it_takes_one() {
    // 26 of 26 member seats; the fake refuses an invitation without a free seat.
    let fake = Fake::start(&acme_snapshot(), TOKEN).await;
    // The example removes victor and turns tom into a guest, and invites nina and yusuf.
    let acme = Acme::new();
    let output = run(
        acme.dir.path(),
        &fake,
        &["plan", "--detailed-exitcode", "--allow-replace"],
    )
    .await;
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("members 26 of 26 used, 26 after the plan"),
        "{}",
        stdout(&output)
    );
    fake.clear_log();
    let output = run(
        acme.dir.path(),
        &fake,
        &["apply", "--auto-approve", "--allow-replace"],
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let writes = writes(&fake);
    let removal = writes
        .iter()
        .position(|w| w == "DELETE team/9006054115/user/5100021")
        .expect("victor removed");
    let invite = writes
        .iter()
        .position(|w| w == "POST team/9006054115/user")
        .expect("nina invited");
    assert!(removal < invite, "{writes:#?}");
}

#[test]
fn when_every_change_left_was_held_back_it_never_says_the_workspace_matches() {
    let acme = Acme::new();
    acme.run(&["plan", "--allow-replace", "--out", "plan.json"])
        .assert()
        .code(0);
    // Everything reviewed gets done (another apply), then a guest is invited in ClickUp's UI.
    acme.run(&["apply", "--auto-approve", "--allow-replace"])
        .assert()
        .code(0);
    let path = acme.snapshot();
    let mut doc: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    let members = doc["team"]["members"].as_array_mut().expect("members");
    let mut guest = members
        .iter()
        .find(|m| m["user"]["role"] == 4)
        .expect("a guest")
        .clone();
    guest["user"]["id"] = serde_json::json!(990_030);
    guest["user"]["email"] = serde_json::json!("late.guest@acme.example");
    members.push(guest);
    std::fs::write(&path, serde_json::to_vec(&doc).expect("json")).expect("write");

    let output = acme
        .run(&[
            "apply",
            "--auto-approve",
            "--allow-replace",
            "--reviewed",
            "plan.json",
        ])
        .output()
        .expect("run");
    let err = failed(&output);
    let out = stdout(&output);
    assert!(out.contains("No reviewed change is left to make."), "{out}");
    assert!(!out.contains("The workspace matches"), "{out}");
    assert!(out.contains("Already done (14):"), "{out}");
    assert!(
        err.contains("1 change the Workspace needs is not in the reviewed plan"),
        "{err}"
    );
}
