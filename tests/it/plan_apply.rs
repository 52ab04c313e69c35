//! The offline loop on the shipped example: plan, save, apply on a snapshot, plan again; golden
//! renderings; stale saved plans; the guards; confirmation.

use assert_cmd::assert::{Assert, OutputAssertExt};
use predicates::prelude::*;

use crate::common::{Acme, assert_golden, cli, repo, stdout};

fn acme_plan(format: &str) -> String {
    let state = tempfile::tempdir().expect("dir");
    // The example turns a member into a guest, which apply makes only with --allow-replace:
    // the plan is printed whole, and refused.
    let output = cli()
        .current_dir(repo())
        .args([
            "plan",
            "-f",
            "examples/acme/members.yaml",
            "--snapshot",
            "examples/acme/workspace.snapshot.json",
            "--format",
            format,
        ])
        .arg("--state")
        .arg(state.path().join("none.state.json"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "the plan replaces 1 person (tom@acme.example)",
        ));
    stdout(&output)
}

#[test]
fn the_acme_text_plan_matches_its_golden_file() {
    assert_golden("acme.plan.txt", &acme_plan("text"));
}

#[test]
fn the_acme_json_plan_matches_its_golden_file() {
    let text = acme_plan("json");
    let json: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(json["format_version"], 1);
    assert_eq!(json["tool_version"], env!("CARGO_PKG_VERSION"));
    for key in ["invite", "update", "remove", "replace", "create", "delete"] {
        assert!(json["summary"][key].is_u64(), "summary.{key} missing");
    }
    assert_golden("acme.plan.json", &text);
}

#[test]
fn the_acme_markdown_plan_matches_its_golden_file() {
    assert_golden("acme.plan.md", &acme_plan("markdown"));
}

#[test]
fn the_acme_plan_shows_every_kind_of_change() {
    let json: serde_json::Value = serde_json::from_str(&acme_plan("json")).expect("json");
    let kinds: std::collections::BTreeSet<String> = json["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["action"].as_str().unwrap_or(""),
                c["kind"].as_str().unwrap_or("")
            )
        })
        .collect();
    for want in [
        "invite member",
        "invite guest",
        "update member",
        "update guest",
        "remove member",
        "remove guest",
        // A guest listed as a member ("replace member") is in the plan rules table.
        "replace guest",
        "create group",
        "update group",
        "delete group",
    ] {
        assert!(kinds.contains(want), "no {want} in {kinds:?}");
    }
}

#[test]
fn a_plan_apply_would_refuse_exits_1_whatever_the_reason() {
    let acme = Acme::new();
    // A replace without --allow-replace: printed, saved, and refused (not 2 for "changes").
    acme.run(&["plan", "--detailed-exitcode", "--out", "plan.json"])
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with(
            "Apply will refuse this plan: the plan replaces 1 person",
        ))
        .stderr(predicate::str::contains(
            "the plan replaces 1 person (tom@acme.example)",
        ));
    assert!(
        acme.path("plan.json").is_file(),
        "apply --allow-replace takes it"
    );
    // A broken guard: the same exit code.
    acme.edit_members("  max_removals: 6\n", "  max_removals: 1\n");
    acme.run(&["plan", "--detailed-exitcode", "--allow-replace"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "more than policy.max_removals (1)",
        ));
}

#[test]
fn plan_apply_plan_again_converges() {
    let acme = Acme::new();
    acme.run(&["plan", "--detailed-exitcode", "--allow-replace"])
        .assert()
        .code(2);

    acme.run(&["apply", "--auto-approve", "--allow-replace"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Apply complete! 3 invited, 6 changed, 2 removed, 1 replaced, 1 group created, 1 group deleted.",
        ));

    acme.run(&["plan", "--detailed-exitcode"])
        .assert()
        .success()
        .stdout(predicate::str::ends_with(
            "No changes. The workspace matches members.yaml.\n",
        ));

    // The snapshot now holds the invitees as pending members, as ClickUp would.
    let snapshot: serde_json::Value =
        serde_json::from_slice(&std::fs::read(acme.snapshot()).expect("read")).expect("json");
    let nina = snapshot["team"]["members"]
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["user"]["email"] == "nina@acme.example")
        .expect("nina invited");
    assert!(nina["user"]["date_joined"].is_null());
    assert_eq!(nina["user"]["role"], 3);

    // A second apply makes no change.
    acme.run(&["apply", "--auto-approve"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Apply complete").not());
}

#[test]
fn the_state_records_what_is_managed_and_plans_without_refresh() {
    let acme = Acme::new();
    // Nothing recorded yet is not a failure (a pull request without a token): it says so.
    cli()
        .current_dir(acme.dir.path())
        .args(["plan", "--refresh=false", "--format", "markdown"])
        .assert()
        .success()
        .stderr(predicate::str::contains("members.state.json does not exist"))
        .stdout(predicate::str::starts_with(
            "> **No plan yet:** --refresh=false plans against the Workspace recorded by the last apply",
        ));

    acme.run(&["apply", "--auto-approve", "--allow-replace"])
        .assert()
        .code(0);
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(acme.state()).expect("state")).expect("json");
    assert_eq!(state["format_version"], 1);
    assert_eq!(state["workspace_id"], "9006054115");
    assert!(state["lineage"].as_str().is_some_and(|l| l.len() == 36));
    assert!(
        state["serial"].as_u64().is_some_and(|s| s >= 14),
        "{}",
        state["serial"]
    );
    assert_eq!(state["members"]["nina@acme.example"]["status"], "pending");
    assert_eq!(state["guests"]["tom@acme.example"]["status"], "pending");
    assert!(state["members"].get("victor.leroy@acme.example").is_none());
    assert!(state["last_apply"].is_string());

    cli()
        .current_dir(acme.dir.path())
        .args(["plan", "--refresh=false", "--detailed-exitcode"])
        .assert()
        .success();
}

#[test]
fn a_saved_plan_applies_when_nothing_changed() {
    let acme = Acme::new();
    acme.run(&["plan", "--allow-replace", "--out", "plan.json"])
        .assert()
        .code(0);
    acme.run(&["apply", "plan.json", "--allow-replace"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Apply complete!"));
}

#[test]
fn a_saved_plan_is_refused_when_the_file_changed() {
    let acme = Acme::new();
    acme.run(&["plan", "--allow-replace", "--out", "plan.json"])
        .assert()
        .code(0);
    acme.edit_members(
        "  - email: yusuf@acme.example\n",
        "  - email: yusuf@acme.example\n  - email: late@acme.example\n",
    );
    let before = std::fs::read(acme.snapshot()).expect("read");
    acme.run(&["apply", "plan.json", "--allow-replace"])
        .assert()
        .code(1)
        .stderr(
            "Error: the saved plan is stale: re-run plan (members.yaml changed since plan.json was made)\n",
        );
    assert_eq!(
        std::fs::read(acme.snapshot()).expect("read"),
        before,
        "nothing applied"
    );
}

#[test]
fn a_saved_plan_is_refused_when_the_workspace_changed() {
    let acme = Acme::new();
    acme.run(&["plan", "--allow-replace", "--out", "plan.json"])
        .assert()
        .code(0);
    // Someone changed an email in ClickUp since the plan was made.
    crate::common::edit(
        &acme.snapshot(),
        "\"gita@acme.example\"",
        "\"gita.rao@acme.example\"",
    );
    acme.run(&["apply", "plan.json", "--allow-replace"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "the saved plan is stale: re-run plan (the Workspace changed since plan.json was made)",
        ));
}

#[test]
fn apply_without_a_terminal_and_without_auto_approve_refuses_and_changes_nothing() {
    let acme = Acme::new();
    acme.edit_members(
        "    role: Project Lead  # a custom role, matched by name\n",
        "    role: Project Lead\n",
    );
    let before = std::fs::read(acme.snapshot()).expect("read");
    acme.run(&["apply", "--allow-replace"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "refusing to apply without confirmation: stdin is not a terminal",
        ));
    assert_eq!(std::fs::read(acme.snapshot()).expect("read"), before);
    assert!(!acme.state().exists());
}

#[test]
fn replaces_need_allow_replace() {
    let acme = Acme::new();
    let before = std::fs::read(acme.snapshot()).expect("read");
    acme.run(&["apply", "--auto-approve"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "the plan replaces 1 person (tom@acme.example)",
        ))
        .stderr(predicate::str::contains("--allow-replace"));
    assert_eq!(std::fs::read(acme.snapshot()).expect("read"), before);
}

/// Runs `plan` on the example after an edit, for the test to say how it ends.
fn plan_after(from: &str, to: &str) -> Assert {
    let acme = Acme::new();
    acme.edit_members(from, to);
    acme.run(&["plan"]).assert()
}

#[test]
fn the_removal_cap_refuses_with_the_people_named() {
    plan_after("  max_removals: 6\n", "  max_removals: 2\n")
        .code(1)
        .stderr(predicate::str::contains(
            "Error: refused: the plan would remove, replace or delete 4, more than policy.max_removals (2): replace tom@acme.example, remove victor.leroy@acme.example, remove walt@oldclient.example, delete Launch 2024",
        ))
        // Nothing was applied, and the plan does not say so: only apply applies.
        .stderr(predicate::str::ends_with(
            "Error: apply would refuse this plan\n",
        ))
        .stderr(predicate::str::contains("nothing was applied").not());
}

#[test]
fn the_owner_guard_refuses_with_the_person_and_the_rule() {
    plan_after(
        "  - email: olivia@acme.example\n    role: owner\n",
        "  - email: olivia@acme.example\n    role: admin\n",
    )
    .code(1)
    .stderr(predicate::str::starts_with(
        "members.yaml:42:11: refused: olivia@acme.example is the Workspace owner, whom clickup-members never changes nor removes, but the plan would change their role from owner to admin (line 42 asks for it)",
    ));
}

#[test]
fn the_self_guard_refuses_with_the_person_and_the_rule() {
    plan_after(
        "  - email: ops-bot@acme.example\n    role: admin",
        "  - email: ops-bot@acme.example\n    role: member",
    )
    .code(1)
    .stderr(predicate::str::starts_with(
        "members.yaml:45:11: refused: ops-bot@acme.example is the token's own user",
    ));
}

#[test]
fn the_protected_guard_refuses_with_the_person_and_the_rule() {
    plan_after(
        "  - email: bruno@acme.example\n    role: admin\n",
        "  - email: bruno@acme.example\n    role: member\n",
    )
    .code(1)
    .stderr(predicate::str::starts_with(
        "members.yaml:23:11: refused: bruno@acme.example is protected (policy.protected, line 14)",
    ));
}

#[test]
fn role_owner_for_someone_else_is_refused_at_its_line() {
    let acme = Acme::new();
    acme.edit_members("  - email: olivia@acme.example\n    role: owner\n", "");
    acme.edit_members(
        "  - email: ada@acme.example\n    role: admin\n",
        "  - email: ada@acme.example\n    role: owner\n",
    );
    acme.run(&["plan"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "members.yaml:21:11: ada@acme.example has role: owner, but the Workspace owner is olivia@acme.example; ownership cannot be given, taken or transferred through ClickUp's API",
        ));
}

#[test]
fn colour_follows_the_color_flag() {
    let acme = Acme::new();
    let plain = acme.run(&["plan"]).output().expect("run");
    assert!(
        !stdout(&plain).contains('\x1b'),
        "NO_COLOR output has escape codes"
    );
    let coloured = acme
        .run(&["plan", "--color", "always"])
        .env_remove("NO_COLOR")
        .output()
        .expect("run");
    assert!(
        stdout(&coloured).contains("\x1b[32m+ invite member"),
        "{}",
        stdout(&coloured)
    );
}

#[test]
fn an_unknown_custom_role_is_an_error_at_its_line() {
    plan_after("    role: Ops Admin\n", "    role: Ops Wizard\n")
        .code(1)
        .stderr(predicate::str::starts_with(
            "members.yaml:54:11: yusuf@acme.example: unknown role \"Ops Wizard\"; roles are admin, member, owner or a custom role, and the Workspace has: Client Viewer, Ops Admin, Project Lead",
        ));
}

#[test]
fn a_wrong_workspace_name_is_an_error_at_its_line() {
    plan_after("  name: Acme Workspace\n", "  name: Acme Corp\n")
        .code(1)
        .stderr(predicate::str::starts_with(
            "members.yaml:8:9: workspace.name is \"Acme Corp\" but Workspace 9006054115 is called \"Acme Workspace\"",
        ));
}

#[test]
fn the_plan_can_be_saved_and_prints_the_same_json() {
    let acme = Acme::new();
    let output = acme
        .run(&[
            "plan",
            "--format",
            "json",
            "--allow-replace",
            "--out",
            "saved.json",
        ])
        .assert()
        .success();
    let saved = std::fs::read_to_string(acme.path("saved.json")).expect("saved");
    // The saved plan is the printed one, sealed with its digest.
    let mut saved: serde_json::Value = serde_json::from_str(&saved).expect("json");
    let digest = saved
        .as_object_mut()
        .and_then(|o| o.remove("plan_digest"))
        .expect("a plan_digest");
    assert!(digest.as_str().is_some_and(|d| d.starts_with("sha256:")));
    // The saved plan also records the file it was made from, relative to itself.
    let file = saved
        .as_object_mut()
        .and_then(|o| o.remove("file"))
        .expect("the file it was made from");
    assert_eq!(file, "members.yaml");
    let printed: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("json");
    assert_eq!(saved, printed);

    // A field only shown (the mode, the cap, the summary) edited afterwards is caught.
    let text = std::fs::read_to_string(acme.path("saved.json")).expect("saved");
    for (from, to) in [
        ("\"max_removals\": 6", "\"max_removals\": 60"),
        ("\"mode\": \"authoritative\"", "\"mode\": \"additive\""),
        ("\"remove\": 2,", "\"remove\": 0,"),
    ] {
        assert!(text.contains(from), "{from}");
        std::fs::write(acme.path("edited.json"), text.replacen(from, to, 1)).expect("write");
        acme.run(&["show", "edited.json"])
            .assert()
            .append_context("edited", from)
            .code(1)
            .stderr(predicate::str::contains(
                "edited.json was changed after `clickup-members plan --out` wrote it",
            ));
    }
    acme.run(&["show", "saved.json"]).assert().code(0);
}

#[test]
fn changes_made_in_clickup_since_the_last_apply_are_marked_as_drift() {
    let acme = Acme::new();
    acme.run(&["apply", "--auto-approve", "--allow-replace"])
        .assert()
        .code(0);
    // Behind the tool's back: max is demoted in ClickUp; and the file gains a newcomer.
    let mut snapshot: serde_json::Value =
        serde_json::from_slice(&std::fs::read(acme.snapshot()).expect("read")).expect("json");
    for member in snapshot["team"]["members"].as_array_mut().expect("members") {
        if member["user"]["email"] == "max@acme.example" {
            member["user"]["role"] = serde_json::json!(3);
        }
    }
    std::fs::write(acme.snapshot(), snapshot.to_string()).expect("write");
    acme.edit_members(
        "  - email: nina@acme.example  # new hire, starts Monday\n",
        "  - email: nina@acme.example  # new hire, starts Monday\n  - email: late@acme.example\n",
    );

    acme.run(&["plan"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "  ~ update member max@acme.example (4269250)\n      # (changed in ClickUp since the last apply)\n      role: \"member\" -> \"admin\"\n",
        ))
        .stdout(predicate::str::contains(
            "  + invite member late@acme.example\n      role: \"member\"\n",
        ));

    let output = acme
        .run(&["plan", "--format", "json"])
        .output()
        .expect("run");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let drift: Vec<&str> = json["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["drift"] == true)
        .map(|c| c["email"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(drift, vec!["max@acme.example"]);

    let output = acme
        .run(&["plan", "--format", "markdown"])
        .output()
        .expect("run");
    assert!(
        stdout(&output).contains("**Changed in ClickUp since the last apply (1):** these changes undo edits made outside members.yaml.\n\n- update member max@acme.example\n"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn a_saved_plan_applied_from_another_folder_finds_the_file_it_was_made_from() {
    let acme = Acme::new();
    std::fs::create_dir(acme.path("plans")).expect("mkdir");
    acme.run(&["plan", "--allow-replace", "--out", "plans/plan.json"])
        .assert()
        .code(0);
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(acme.path("plans/plan.json")).expect("read"))
            .expect("json");
    assert_eq!(saved["file"], "../members.yaml");
    // From the plan's folder, without -f: the file and its state beside it are found.
    cli()
        .current_dir(acme.path("plans"))
        .args(["apply", "plan.json", "--allow-replace"])
        .args(["--snapshot", "../workspace.snapshot.json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Apply complete!"));
    assert!(acme.state().is_file(), "the state beside the members file");

    // The file gone: it says which -f to pass.
    std::fs::rename(acme.members(), acme.path("moved.yaml")).expect("move");
    cli()
        .current_dir(acme.path("plans"))
        .args(["apply", "plan.json", "--allow-replace"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "plan.json was made from ../members.yaml (../members.yaml from the plan's folder), which is not there",
        ))
        .stderr(predicate::str::contains("pass -f"));
}

#[test]
fn show_of_the_state_gives_clickups_invitation_dates_and_escapes_live_names() {
    let acme = Acme::new();
    // A live name with a line feed in it, as ClickUp may send it.
    let text = std::fs::read_to_string(acme.snapshot()).expect("read");
    std::fs::write(
        acme.snapshot(),
        text.replacen("\"Acme Workspace\"", "\"Acme\\nWorkspace: forged line\"", 1),
    )
    .expect("write");
    acme.edit_members("  name: Acme Workspace\n", "");
    acme.run(&["apply", "--auto-approve", "--allow-replace"])
        .assert()
        .code(0);
    let out = stdout(&acme.run(&["show"]).assert().success());
    assert!(
        !out.lines().any(|l| l.starts_with("Workspace: forged line")),
        "{out}"
    );
    assert!(out.contains(r#""Acme\nWorkspace: forged line""#), "{out}");
    // quinn was pending before the tool ran: ClickUp's own date, not the apply's.
    let quinn = out
        .lines()
        .find(|l| l.trim_start().starts_with("quinn@acme.example"))
        .expect("quinn");
    let snapshot: serde_json::Value = serde_json::from_str(&text).expect("json");
    let invited_ms: i64 = snapshot["team"]["members"]
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["user"]["email"] == "quinn@acme.example")
        .and_then(|m| m["user"]["date_invited"].as_str())
        .and_then(|t| t.parse().ok())
        .expect("quinn's invitation date");
    let day = time::OffsetDateTime::from_unix_timestamp(invited_ms / 1000)
        .expect("date")
        .date()
        .to_string();
    assert!(quinn.contains(&format!("invited {day}T")), "{quinn}");
}

/// What a person at a terminal sees when `apply` asks its question and they answer `answer`
/// (see `tests/terminal/answer.py`).
fn at_a_terminal(acme: &Acme, answer: &str) -> Option<serde_json::Value> {
    let python = crate::common::tool("python3")?;
    let output = std::process::Command::new(python)
        .arg(crate::common::repo().join("tests/terminal/answer.py"))
        .args(["Only 'yes' will be accepted", "1500", answer, "--"])
        .arg(env!("CARGO_BIN_EXE_clickup-members"))
        .args(["apply", "--allow-replace", "-f", "members.yaml"])
        .args(["--snapshot", "workspace.snapshot.json"])
        .current_dir(acme.dir.path())
        .env("TERM", "xterm")
        .env_remove("NO_COLOR")
        .env_remove("CLICKUP_TOKEN")
        .assert()
        .success();
    Some(serde_json::from_slice(&output.get_output().stdout).expect("what the terminal saw"))
}

#[test]
fn nothing_draws_over_the_question_and_ctrl_c_there_cancels_cleanly() {
    let acme = Acme::new();
    let before = std::fs::read(acme.snapshot()).expect("read");
    let Some(seen) = at_a_terminal(&acme, "\\x03") else {
        return;
    };
    assert!(
        seen["before"]
            .as_str()
            .is_some_and(|b| b.contains("Do you want to apply these changes?")),
        "{seen}"
    );
    assert_eq!(
        seen["waiting"], "",
        "nothing is drawn while the question waits"
    );
    let after = seen["after"].as_str().unwrap_or_default();
    assert!(after.contains("cancelled, nothing was applied"), "{after}");
    assert_eq!(seen["code"], 130);
    assert_eq!(
        seen["canonical"], true,
        "the terminal is given back as it was"
    );
    assert_eq!(seen["echo"], true);
    assert!(
        !acme.path("members.state.json.lock").exists(),
        "the lock is released"
    );
    assert_eq!(std::fs::read(acme.snapshot()).expect("read"), before);
}

#[test]
fn yes_at_the_question_applies() {
    let acme = Acme::new();
    let Some(seen) = at_a_terminal(&acme, "yes\\r") else {
        return;
    };
    let after = seen["after"].as_str().unwrap_or_default();
    assert_eq!(seen["code"], 0, "{after}");
    assert!(after.contains("Apply complete!"), "{after}");
}

#[test]
fn the_json_plan_printed_is_not_taken_for_a_saved_one() {
    let acme = Acme::new();
    let output = acme
        .run(&["plan", "--allow-replace", "--format", "json"])
        .output()
        .expect("run");
    std::fs::write(acme.path("printed.json"), &output.stdout).expect("write");
    for args in [
        &["apply", "printed.json", "--allow-replace"][..],
        &["apply", "--auto-approve", "--reviewed", "printed.json"][..],
        &["show", "printed.json"][..],
    ] {
        acme.run(args)
            .assert()
            .code(1)
            .stderr(predicate::str::contains(
                "printed.json has no plan_digest: it is what `plan --format json` prints, not a plan saved by `plan --out`",
            ));
    }
}
