//! `fmt` (golden before/after files, --check, --diff, refusals) and `import` (its first plan
//! shows no changes).

use assert_cmd::assert::{Assert, OutputAssertExt};
use predicates::prelude::*;

use crate::common::{Acme, assert_golden, cli, repo};
use crate::fake::Fake;

fn fixtures() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(repo().join("tests/fixtures/fmt"))
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
}

/// Runs `clickup-members fmt <args>` on a copy of `source` named members.yaml.
fn fmt(source: &str, args: &[&str]) -> (Assert, String) {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("members.yaml");
    std::fs::write(&path, source).expect("write");
    let output = cli().current_dir(dir.path()).arg("fmt").args(args).assert();
    let after = std::fs::read_to_string(&path).expect("read");
    (output, after)
}

#[test]
fn fmt_rewrites_each_fixture_into_its_golden_form_keeping_comments() {
    for path in fixtures() {
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let source = std::fs::read_to_string(&path).expect("read");
        if source.contains("# expect:") {
            continue;
        }
        let (output, formatted) = fmt(&source, &[]);
        output
            .append_context("fixture", name.clone())
            .success()
            .stdout("Formatted members.yaml.\n");
        assert_golden(&format!("fmt/{name}"), &formatted);

        // Every comment of the original is still there.
        for line in source.lines() {
            if let Some((_, comment)) = line.split_once("# ") {
                assert!(
                    formatted.contains(comment.trim()),
                    "{name}: lost {comment:?}"
                );
            }
        }
        // Formatting a formatted file changes nothing.
        let (output, again) = fmt(&formatted, &[]);
        output.stdout("members.yaml is already formatted.\n");
        assert_eq!(again, formatted, "{name}: fmt is not idempotent");
    }
}

#[test]
fn fmt_check_fails_on_an_unsorted_file_and_passes_on_its_formatted_version() {
    let source =
        std::fs::read_to_string(repo().join("tests/fixtures/fmt/commented.yaml")).expect("read");
    let (output, after) = fmt(&source, &["--check"]);
    output.code(1).stderr(predicate::str::contains(
        "members.yaml is not in canonical form; run `clickup-members fmt -f members.yaml`",
    ));
    assert_eq!(after, source, "--check changed the file");
    let (_, formatted) = fmt(&source, &[]);
    let (output, _) = fmt(&formatted, &["--check"]);
    output.success().stdout("");
}

#[test]
fn fmt_diff_shows_a_unified_diff_and_changes_nothing() {
    let source =
        "version: 1\nworkspace: {id: \"1\"}\nmembers:\n  - email: b@x.io\n  - email: a@x.io\n";
    let (output, after) = fmt(source, &["--diff"]);
    output
        .success()
        .stdout(predicate::str::starts_with(
            "--- members.yaml\n+++ members.yaml (formatted)\n@@",
        ))
        .stdout(predicate::str::contains("\n-  - email: b@x.io\n"))
        .stdout(predicate::str::contains("\n+  - email: b@x.io\n"));
    assert_eq!(after, source);
}

#[test]
fn a_file_fmt_cannot_rewrite_is_reported_and_left_alone() {
    let source =
        std::fs::read_to_string(repo().join("tests/fixtures/fmt/refused.yaml")).expect("read");
    let want = source
        .lines()
        .find_map(|l| l.strip_prefix("# expect: "))
        .expect("expectation");
    let (output, after) = fmt(&source, &[]);
    output
        .code(1)
        .stderr(predicate::str::starts_with(format!(
            "members.yaml:{want}\n"
        )))
        .stderr(predicate::str::ends_with(
            "Error: members.yaml was not changed\n",
        ));
    assert_eq!(after, source, "the file was changed");
}

#[test]
fn the_shipped_example_is_in_canonical_form() {
    cli()
        .current_dir(repo())
        .args(["fmt", "--check", "-f", "examples/acme/members.yaml"])
        .assert()
        .success();
}

#[test]
fn import_from_a_snapshot_then_plan_shows_no_changes() {
    const IMPORT: [&str; 5] = [
        "import",
        "--workspace",
        "9006054115",
        "--out",
        "imported.yaml",
    ];
    let acme = Acme::new();
    cli()
        .current_dir(acme.dir.path())
        .args(IMPORT)
        .args(["--snapshot", "workspace.snapshot.json"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "Wrote imported.yaml: 26 members, 3 guests, 2 groups of Workspace \"Acme Workspace\".\nCheck it with `clickup-members plan -f imported.yaml --snapshot workspace.snapshot.json`: it shows no changes.",
        ));
    let text = std::fs::read_to_string(acme.path("imported.yaml")).expect("read");
    assert!(text.starts_with("# yaml-language-server: $schema=members.schema.json\n"));
    assert!(text.contains("\npolicy:\n  mode: authoritative\n"));
    assert!(text.contains("  - email: olivia@acme.example\n    role: owner\n"));
    assert!(text.contains("  - email: cora@acme.example\n    role: Project Lead\n"));
    assert!(text.contains("    custom_role: Client Viewer\n"));

    cli()
        .current_dir(acme.dir.path())
        .args([
            "plan",
            "--detailed-exitcode",
            "-f",
            "imported.yaml",
            "--snapshot",
            "workspace.snapshot.json",
        ])
        .assert()
        .success()
        .stdout(predicate::str::ends_with(
            "No changes. The workspace matches imported.yaml.\n",
        ));

    // An imported file is canonical.
    cli()
        .current_dir(acme.dir.path())
        .args(["fmt", "--check", "-f", "imported.yaml"])
        .assert()
        .success();

    // The same import again does not overwrite without --force.
    cli()
        .current_dir(acme.dir.path())
        .args(IMPORT)
        .args(["--snapshot", "workspace.snapshot.json"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "imported.yaml exists; import does not overwrite it without --force",
        ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_from_clickup_with_guests_custom_roles_groups_and_shares_plans_no_changes() {
    const TOKEN: &str = "pk_1_IMPORTIMPORTIMPORT";
    let snapshot: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("examples/acme/workspace.snapshot.json"))
            .expect("read"),
    )
    .expect("json");
    let fake = Fake::start(&snapshot, TOKEN).await;
    let dir = tempfile::tempdir().expect("dir");
    let api = fake.api_url();
    let path = dir.path().to_owned();
    let run = move |args: Vec<&'static str>| {
        let mut cmd = cli();
        cmd.current_dir(&path)
            .env("CLICKUP_TOKEN", TOKEN)
            .args(args)
            .args(["--api-url", &api]);
        cmd.output().expect("run")
    };
    tokio::task::spawn_blocking({
        let run = run.clone();
        move || {
            run(vec![
                "import",
                "--workspace",
                "9006054115",
                "--with-guest-shares",
                "--out",
                "members.yaml",
            ])
        }
    })
    .await
    .expect("join")
    .assert()
    .success();
    let text = std::fs::read_to_string(dir.path().join("members.yaml")).expect("read");
    assert!(
        text.contains("    access:\n      - list: \"901234567\"\n        permission: read\n"),
        "{text}"
    );
    assert!(
        text.contains("\ngroups:\n  - name: Engineering\n    handle: eng\n"),
        "{text}"
    );

    fake.clear_log();
    tokio::task::spawn_blocking(move || run(vec!["plan", "--detailed-exitcode"]))
        .await
        .expect("join")
        .assert()
        .success();
    assert!(fake.log().iter().all(|l| !l.is_write()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_of_a_workspace_the_token_does_not_see_names_the_workspace_option() {
    let snapshot: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("examples/acme/workspace.snapshot.json"))
            .expect("read"),
    )
    .expect("json");
    let fake = Fake::start(&snapshot, crate::live::TOKEN).await;
    let dir = tempfile::tempdir().expect("dir");
    crate::common::run_against(
        dir.path(),
        &fake.api_url(),
        crate::live::TOKEN,
        ["import", "--workspace", "1111111", "--out", "members.yaml"],
    )
    .await
    .assert()
    .code(1)
    .stderr(predicate::str::contains(
        "Workspace 1111111 is not visible to this token",
    ))
    .stderr(predicate::str::contains("check --workspace"))
    // Import has no file yet.
    .stderr(predicate::str::contains("workspace.id").not());
}
