//! `-f DIR`: a folder of Workspace files, planned and applied against two fake Workspaces
//! behind one API URL and one token's rate limit; and every way the folder itself can be wrong.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::assert::{Assert, OutputAssertExt};
use predicates::prelude::*;
use serde_json::Value;

use crate::common::{cli, copy_dir, edit, repo, stdout};
use crate::fake::many::Fakes;
use crate::live::TOKEN;

const ACME: &str = "9006054115";
const EU: &str = "9006054116";

fn example() -> PathBuf {
    repo().join("examples/teams")
}

fn snapshot(id: &str) -> Value {
    let text =
        std::fs::read_to_string(example().join(format!("snapshots/{id}.json"))).expect("snapshot");
    serde_json::from_str(&text).expect("json")
}

/// The command line run in `dir` with `args`.
fn in_dir(dir: &Path, args: &[&str]) -> Assert {
    cli().current_dir(dir).args(args).assert()
}

/// The example's folder of Workspace files, in a fresh directory.
fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("dir");
    copy_dir(&example().join("clickup"), &dir.path().join("clickup"));
    dir
}

async fn run(dir: &Path, fakes: &Fakes, args: &[&str]) -> Output {
    crate::common::run_against(dir, &fakes.api_url(), TOKEN, args).await
}

fn writes(fakes: &Fakes, id: &str) -> Vec<String> {
    fakes
        .of(id)
        .log()
        .iter()
        .filter(|l| l.is_write())
        .map(crate::fake::Logged::line)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_plans_a_section_per_workspace_and_applies_each_with_its_own_state() {
    let fakes = Fakes::start(&[snapshot(ACME), snapshot(EU)], TOKEN).await;
    let dir = folder();
    let plan = run(
        dir.path(),
        &fakes,
        &["plan", "-f", "clickup", "--detailed-exitcode"],
    )
    .await
    .assert()
    .code(2);
    let text = stdout(&plan);
    let acme = text
        .find("=== clickup/acme.yaml: Workspace \"Acme Workspace\" (9006054115) ===")
        .expect("acme's section");
    let eu = text
        .find("=== clickup/eu.yaml: Workspace \"Acme EU\" (9006054116) ===")
        .expect("eu's section");
    assert!(acme < eu);
    assert!(
        text.trim_end().ends_with(
            "Total for 2 Workspaces: 2 to invite, 3 to change, 0 to remove, 1 group to create."
        ),
        "{text}"
    );
    // A fixed set of reads per Workspace, whatever its size.
    let reads = |id: &str| fakes.of(id).log().len();
    assert!(
        reads(ACME) <= 8 && reads(EU) <= 6,
        "{} {}",
        reads(ACME),
        reads(EU)
    );

    let json = run(
        dir.path(),
        &fakes,
        &["plan", "-f", "clickup", "--format", "json"],
    )
    .await;
    let json: Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(json["format_version"], 1);
    let ids: Vec<&str> = json["workspaces"]
        .as_array()
        .expect("workspaces")
        .iter()
        .map(|p| p["workspace"]["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, [ACME, EU]);
    assert_eq!(json["workspaces"][1]["format_version"], 1);

    // Saved, then applied as saved: both converge, each with its own state file.
    run(
        dir.path(),
        &fakes,
        &["plan", "-f", "clickup", "--out", "plans.json"],
    )
    .await
    .assert()
    .success();
    run(
        dir.path(),
        &fakes,
        &["apply", "plans.json", "-f", "clickup"],
    )
    .await
    .assert()
    .success();
    assert!(writes(&fakes, ACME).iter().any(|w| w.contains("user")));
    assert!(writes(&fakes, EU).iter().any(|w| w.contains("user")));
    for (file, id) in [("acme", ACME), ("eu", EU)] {
        let state: Value = serde_json::from_slice(
            &std::fs::read(dir.path().join(format!("clickup/{file}.state.json"))).expect("state"),
        )
        .expect("json");
        assert_eq!(state["workspace_id"], id, "{file}");
    }
    run(
        dir.path(),
        &fakes,
        &["plan", "-f", "clickup", "--detailed-exitcode"],
    )
    .await
    .assert()
    .success();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_of_a_folder_is_refused_whole_when_one_workspace_changed() {
    let fakes = Fakes::start(&[snapshot(ACME), snapshot(EU)], TOKEN).await;
    let dir = folder();
    run(
        dir.path(),
        &fakes,
        &["plan", "-f", "clickup", "--out", "plans.json"],
    )
    .await
    .assert()
    .success();
    // Someone is invited by hand in the EU Workspace only.
    fakes.of(EU).invite_outside("walk-in@acme.example", 3);
    run(
        dir.path(),
        &fakes,
        &["apply", "plans.json", "-f", "clickup"],
    )
    .await
    .assert()
    .code(1)
    .stderr(predicate::str::contains("the saved plan is stale"))
    .stderr(predicate::str::contains(
        "refused whole: nothing was applied to any Workspace",
    ));
    assert!(
        writes(&fakes, ACME).is_empty(),
        "{:?}",
        writes(&fakes, ACME)
    );
    assert!(writes(&fakes, EU).is_empty(), "{:?}", writes(&fakes, EU));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_refused_workspace_does_not_stop_the_others() {
    let fakes = Fakes::start(&[snapshot(ACME), snapshot(EU)], TOKEN).await;
    let dir = folder();
    // The Acme file now makes the owner an admin: refused.
    edit(
        &dir.path().join("clickup/acme.yaml"),
        "  - email: olivia@acme.example\n    role: owner\n",
        "  - email: olivia@acme.example\n    role: admin\n",
    );
    run(
        dir.path(),
        &fakes,
        &["apply", "--auto-approve", "-f", "clickup"],
    )
    .await
    .assert()
    .code(1)
    .stderr(predicate::str::contains("is the Workspace owner"))
    .stderr(predicate::str::contains(
        "1 of 2 Workspaces was refused or failed; the other was applied",
    ));
    assert!(
        writes(&fakes, ACME).is_empty(),
        "{:?}",
        writes(&fakes, ACME)
    );
    assert!(
        !writes(&fakes, EU).is_empty(),
        "the EU Workspace was applied"
    );
    run(
        dir.path(),
        &fakes,
        &["plan", "-f", "clickup/eu.yaml", "--detailed-exitcode"],
    )
    .await
    .assert()
    .success();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspaces_applied_by_one_process_share_one_rate_limit() {
    // Seats to spare for the newcomers: the snapshots' seat counts left out.
    let roomy = |mut doc: Value| {
        doc.as_object_mut().map(|o| o.remove("seats"));
        doc
    };
    let fakes = Fakes::start(&[roomy(snapshot(ACME)), roomy(snapshot(EU))], TOKEN).await;
    let dir = folder();
    // Twelve newcomers in each Workspace.
    for (file, marker) in [
        ("clickup/acme.yaml", "members:\n"),
        ("clickup/eu.yaml", "members:\n"),
    ] {
        let path = dir.path().join(file);
        let newcomers: String = (0..12)
            .map(|i| format!("  - email: new{i:02}.{}@acme.example\n", &file[8..10]))
            .collect();
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(
            &path,
            text.replacen(marker, &format!("{marker}{newcomers}"), 1),
        )
        .expect("write");
    }
    fakes.rate_limit(15, Duration::from_secs(2));
    run(
        dir.path(),
        &fakes,
        &["apply", "--auto-approve", "-f", "clickup"],
    )
    .await
    .assert()
    .success();
    assert_eq!(
        fakes.too_many(),
        0,
        "no 429: the second Workspace knew the first's budget"
    );
    assert!(
        fakes.answered() > 30,
        "the limit bound the run: {} requests",
        fakes.answered()
    );
}

#[test]
fn a_folder_that_cannot_be_used_is_an_error_and_nothing_is_done() {
    // No Workspace file.
    let dir = tempfile::tempdir().expect("dir");
    std::fs::create_dir_all(dir.path().join("clickup/teams")).expect("mkdir");
    std::fs::write(dir.path().join("clickup/notes.txt"), "not a Workspace").expect("write");
    in_dir(dir.path(), &["validate", "-f", "clickup"])
        .code(1)
        .stderr(predicate::str::contains("clickup holds no Workspace file"));

    // Two files for one Workspace, named both.
    let dir = folder();
    std::fs::copy(
        dir.path().join("clickup/eu.yaml"),
        dir.path().join("clickup/eu-copy.yaml"),
    )
    .expect("copy");
    in_dir(dir.path(), &["validate", "-f", "clickup"])
        .code(1)
        .stderr(predicate::str::contains(
            "clickup/eu.yaml:6:7: Workspace 9006054116 already has a file, clickup/eu-copy.yaml",
        ));
    std::fs::remove_file(dir.path().join("clickup/eu-copy.yaml")).expect("rm");

    // A YAML file that is not YAML, among valid ones: its place, and nothing planned.
    std::fs::write(dir.path().join("clickup/broken.yaml"), "members: [\n").expect("write");
    cli()
        .current_dir(dir.path())
        .args(["plan", "-f", "clickup", "--snapshot"])
        .arg(example().join("snapshots"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "clickup/broken.yaml:1:10: invalid YAML",
        ))
        .stderr(predicate::str::contains(
            "1 of 3 Workspace files in clickup cannot be used; nothing was done",
        ))
        .stdout(predicate::str::is_empty());
    std::fs::remove_file(dir.path().join("clickup/broken.yaml")).expect("rm");

    // A folder where a file should be.
    std::fs::create_dir_all(dir.path().join("clickup/odd.yaml")).expect("mkdir");
    in_dir(dir.path(), &["validate", "-f", "clickup"])
        .code(1)
        .stderr(predicate::str::contains("clickup/odd.yaml is not a file"));
    std::fs::remove_dir(dir.path().join("clickup/odd.yaml")).expect("rm");

    // A link that loops.
    #[cfg(unix)]
    {
        let link = dir.path().join("clickup/loop.yaml");
        std::os::unix::fs::symlink(&link, &link).expect("symlink");
        in_dir(dir.path(), &["validate", "-f", "clickup"])
            .code(1)
            .stderr(predicate::str::contains("loop.yaml"));
        std::fs::remove_file(&link).expect("rm");
    }

    // --state with a folder; a --snapshot that is a file; a Workspace without its snapshot.
    in_dir(dir.path(), &["plan", "-f", "clickup", "--state", "x.json"])
        .code(1)
        .stderr(predicate::str::contains(
            "--state cannot be used with -f clickup",
        ));
    cli()
        .current_dir(dir.path())
        .args(["plan", "-f", "clickup", "--snapshot"])
        .arg(example().join("snapshots/9006054115.json"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--snapshot is a folder"));
    let snapshots = dir.path().join("snapshots");
    std::fs::create_dir_all(&snapshots).expect("mkdir");
    std::fs::copy(
        example().join("snapshots/9006054115.json"),
        snapshots.join("9006054115.json"),
    )
    .expect("copy");
    in_dir(
        dir.path(),
        &["plan", "-f", "clickup", "--snapshot", "snapshots"],
    )
    .code(1)
    .stderr(predicate::str::contains(
        "no snapshot of Workspace 9006054116 (clickup/eu.yaml): snapshots/9006054116.json is missing",
    ));
}

#[test]
fn the_example_folder_plans_offline_with_a_snapshot_each() {
    let output = cli()
        .current_dir(example())
        .args([
            "plan",
            "-f",
            "clickup",
            "--snapshot",
            "snapshots",
            "--format",
            "markdown",
        ])
        .assert()
        .success();
    let markdown = stdout(&output);
    assert!(markdown.contains("## `clickup/acme.yaml`"), "{markdown}");
    assert!(markdown.contains("## `clickup/eu.yaml`"), "{markdown}");
    assert!(markdown.chars().count() < 65_536);
    cli()
        .current_dir(example())
        .args([
            "report",
            "-f",
            "clickup",
            "--snapshot",
            "snapshots",
            "--format",
            "csv",
        ])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("workspace,email,name,"))
        .stdout(predicate::str::contains("\n9006054116,luca@acme.example,"));
}

#[test]
fn the_markdown_of_large_plans_stays_under_githubs_limit_in_all() {
    let dir = folder();
    // Four thousand newcomers in each Workspace: each plan alone would fill a comment.
    for file in ["clickup/acme.yaml", "clickup/eu.yaml"] {
        let path = dir.path().join(file);
        let newcomers: String = (0..4000)
            .map(|i| format!("  - email: newcomer{i:04}.{}@acme.example\n", &file[8..10]))
            .collect();
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(
            &path,
            text.replacen("members:\n", &format!("members:\n{newcomers}"), 1),
        )
        .expect("write");
    }
    let output = cli()
        .current_dir(dir.path())
        .args([
            "plan",
            "-f",
            "clickup",
            "--format",
            "markdown",
            "--snapshot",
        ])
        .arg(example().join("snapshots"))
        .assert()
        .success();
    let markdown = stdout(&output);
    assert!(
        markdown.chars().count() < 65_536,
        "{} characters",
        markdown.chars().count()
    );
    assert!(
        markdown.contains("## `clickup/acme.yaml`") && markdown.contains("## `clickup/eu.yaml`")
    );
    assert!(
        markdown.trim_end().ends_with(
            "Total for 2 Workspaces: 8002 to invite, 3 to change, 0 to remove, 1 group to create."
        ),
        "{}",
        &markdown[markdown.len() - 300..]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_into_a_folder_writes_a_file_for_each_workspace_the_token_reaches() {
    let fakes = Fakes::start(&[snapshot(ACME), snapshot(EU)], TOKEN).await;
    let dir = tempfile::tempdir().expect("dir");
    run(dir.path(), &fakes, &["import", "--out", "clickup"])
        .await
        .assert()
        .success();
    let mut files: Vec<String> = std::fs::read_dir(dir.path().join("clickup"))
        .expect("folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["acme-eu.yaml", "acme-workspace.yaml"]);
    assert!(
        fakes
            .fakes
            .iter()
            .all(|f| f.log().iter().all(|l| !l.is_write()))
    );
    run(
        dir.path(),
        &fakes,
        &["plan", "-f", "clickup", "--detailed-exitcode"],
    )
    .await
    .assert()
    .success()
    .stdout(predicate::str::contains(
        "Total for 2 Workspaces: 0 to invite, 0 to change, 0 to remove.",
    ));
    // Offline, from a folder of snapshots: the same files.
    let offline = tempfile::tempdir().expect("dir");
    cli()
        .current_dir(offline.path())
        .args(["import", "--out", "clickup", "--snapshot"])
        .arg(example().join("snapshots"))
        .assert()
        .success();
    assert!(offline.path().join("clickup/acme-eu.yaml").is_file());
    // Without --workspace, --out is required.
    cli()
        .current_dir(offline.path())
        .arg("import")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "import needs --workspace ID, or --out DIR",
        ));
}

#[test]
fn fmt_check_of_a_folder_fails_on_a_fragment_not_in_canonical_form() {
    let dir = folder();
    // The Workspace file's group names people its fragments list: valid, and canonical.
    let acme = dir.path().join("clickup/acme.yaml");
    let text = std::fs::read_to_string(&acme).expect("read");
    std::fs::write(
        &acme,
        format!("{text}\ngroups:\n  - name: Everyone\n    members:\n      - bruno@acme.example\n      - mei@acme.example\n"),
    )
    .expect("write");
    in_dir(dir.path(), &["validate", "-f", "clickup"]).success();
    in_dir(dir.path(), &["fmt", "--check", "-f", "clickup"]).success();
    // A fragment out of order.
    edit(
        &dir.path().join("clickup/teams/design.yaml"),
        "  - email: pia@acme.example\n",
        "  - email: PIA@acme.example\n  - email: aaron@acme.example\n",
    );
    in_dir(dir.path(), &["fmt", "--check", "-f", "clickup"])
        .code(1)
        .stderr(predicate::str::contains(
            "clickup/teams/design.yaml is not in canonical form",
        ))
        .stderr(predicate::str::contains("acme.yaml is not in canonical form").not());
    in_dir(dir.path(), &["fmt", "-f", "clickup"]).success();
    in_dir(dir.path(), &["fmt", "--check", "-f", "clickup"]).success();
}

#[test]
fn the_text_report_of_a_folder_names_the_folder_once() {
    let output = cli()
        .current_dir(example())
        .args(["report", "-f", "clickup", "--snapshot", "snapshots"])
        .assert()
        .success();
    let text = stdout(&output);
    let title = text.lines().next().expect("title");
    assert!(
        title.starts_with("Access review of the 2 Workspaces in clickup, "),
        "{title}"
    );
    assert!(!title.contains('"'), "{title}");
    let markdown = cli()
        .current_dir(example())
        .args([
            "report",
            "-f",
            "clickup",
            "--snapshot",
            "snapshots",
            "--format",
            "markdown",
        ])
        .output()
        .expect("run");
    assert!(
        stdout(&markdown).starts_with("### Access review of the 2 Workspaces in clickup, "),
        "{}",
        stdout(&markdown)
    );
}

#[test]
fn show_prints_a_folders_saved_plans_each_under_its_file_and_workspace() {
    let dir = tempfile::tempdir().expect("dir");
    copy_dir(&example(), dir.path());
    in_dir(
        dir.path(),
        &[
            "plan",
            "-f",
            "clickup",
            "--snapshot",
            "snapshots",
            "--out",
            "plans.json",
        ],
    )
    .success();
    let out = stdout(&in_dir(dir.path(), &["show", "plans.json"]).success());
    for heading in [
        "=== clickup/acme.yaml: Workspace \"Acme Workspace\" (9006054115) ===",
        "=== clickup/eu.yaml: Workspace \"Acme EU\" (9006054116) ===",
    ] {
        assert!(out.contains(heading), "{heading} in:\n{out}");
    }
    assert!(
        out.trim_end().ends_with(
            "Total for 2 Workspaces: 2 to invite, 3 to change, 0 to remove, 1 group to create."
        ),
        "{out}"
    );
    let output = in_dir(dir.path(), &["show", "plans.json", "--format", "json"]);
    let json: Value = serde_json::from_str(&stdout(&output)).expect("json");
    assert_eq!(json["workspaces"].as_array().map(Vec::len), Some(2));
    assert_eq!(json["folder"], "clickup");
}
