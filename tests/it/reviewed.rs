//! What was reviewed is what is applied (SPEC §10): `apply --reviewed PLAN` against the fake
//! ClickUp makes only the changes the pull request's plan showed; what changed in ClickUp
//! since is left for a new review; a reviewed plan that cannot stand for today's is refused
//! whole. Also the order of writes in a Workspace whose seats are full, and the exit code of
//! a plan apply would refuse.

use assert_cmd::assert::OutputAssertExt;
use predicates::prelude::*;
use serde_json::Value;

use crate::common::{Acme, copy_dir, repo, stdout};
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
    run(
        acme.dir.path(),
        &fake,
        &["plan", "--allow-replace", "--out", "plan.json"],
    )
    .await
    .assert()
    .success();
    // Before the merge, a guest is invited in ClickUp's UI (the file is authoritative: a plan
    // made now removes them), and a role the plan changes is changed there already.
    let intruder = fake.invite_outside("intruder@acme.example", 4);
    fake.set_role("max@acme.example", 2);
    fake.clear_log();

    run(
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
    .await
    .assert()
    .code(1)
    .stdout(predicate::str::contains("Not reviewed, not made (1):"))
    .stdout(predicate::str::contains(
        "  - remove guest intruder@acme.example",
    ))
    .stdout(predicate::str::contains("Already done (1):"))
    .stdout(predicate::str::contains(
        "  ~ update member max@acme.example",
    ))
    .stdout(predicate::str::contains(
        "Apply complete! 3 invited, 5 changed, 2 removed, 1 replaced, 1 group created, 1 group deleted.",
    ))
    .stderr(predicate::str::contains(
        "1 change the Workspace needs is not in the reviewed plan plan.json",
    ));
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
    .await
    .assert()
    .code(2);
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
    run(
        acme.dir.path(),
        &fake,
        &["plan", "--allow-replace", "--out", "plan.json"],
    )
    .await
    .assert()
    .success();
    // Another change merged after the plan was made.
    acme.edit_members(
        "  - email: yusuf@acme.example\n",
        "  - email: yusuf@acme.example\n  - email: late@acme.example\n",
    );
    fake.clear_log();
    run(
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
    .await
    .assert()
    .code(1)
    .stderr(predicate::str::contains(
        "the reviewed plan plan.json is refused whole, and Workspace 9006054115 is left as it is: members.yaml is not the file that was reviewed",
    ));
    assert!(writes(&fake).is_empty(), "{:?}", writes(&fake));
}

#[test]
fn reviewed_needs_auto_approve_without_a_terminal_and_is_not_a_saved_plan_too() {
    let acme = Acme::new();
    acme.run(&["plan", "--allow-replace", "--out", "plan.json"])
        .assert()
        .code(0);
    acme.run(&["apply", "--allow-replace", "--reviewed", "plan.json"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--auto-approve"));
    // A usage error.
    acme.run(&["apply", "plan.json", "--reviewed", "plan.json"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot be used with"));
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
            .assert()
    };
    run(&["plan", "--out", "plans.json"]).success();
    // The EU Workspace's file changes after the review: its plan is refused whole, the other
    // Workspace is applied.
    crate::common::edit(
        &dir.path().join("clickup/eu.yaml"),
        "members:\n",
        "members:\n  - email: late@acme.example\n",
    );
    run(&["apply", "--auto-approve", "--reviewed", "plans.json"])
        .code(1)
        .stderr(predicate::str::contains(
            "is not the file that was reviewed",
        ))
        .stderr(predicate::str::contains("eu.yaml"))
        .stderr(predicate::str::contains(
            "1 of 2 Workspaces was refused or failed; the other was applied",
        ))
        // The other one.
        .stdout(predicate::str::contains("Apply complete!"));
    assert!(dir.path().join("clickup/acme.state.json").exists());
    assert!(!dir.path().join("clickup/eu.state.json").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swap_in_a_full_workspace_frees_the_seat_before_it_takes_one() {
    // 26 of 26 member seats; the fake refuses an invitation without a free seat.
    let fake = Fake::start(&acme_snapshot(), TOKEN).await;
    // The example removes victor and turns tom into a guest, and invites nina and yusuf.
    let acme = Acme::new();
    run(
        acme.dir.path(),
        &fake,
        &["plan", "--detailed-exitcode", "--allow-replace"],
    )
    .await
    .assert()
    .code(2)
    .stdout(predicate::str::contains(
        "members 26 of 26 used, 26 after the plan",
    ));
    fake.clear_log();
    run(
        acme.dir.path(),
        &fake,
        &["apply", "--auto-approve", "--allow-replace"],
    )
    .await
    .assert()
    .success();
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

    acme.run(&[
        "apply",
        "--auto-approve",
        "--allow-replace",
        "--reviewed",
        "plan.json",
    ])
    .assert()
    .code(1)
    .stdout(predicate::str::contains(
        "No reviewed change is left to make.",
    ))
    .stdout(predicate::str::contains("The workspace matches").not())
    .stdout(predicate::str::contains("Already done (14):"))
    .stderr(predicate::str::contains(
        "1 change the Workspace needs is not in the reviewed plan",
    ));
}
