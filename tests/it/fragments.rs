//! `include:`: team-owned fragment files merged into the Workspace file, as a user runs
//! `validate`, `plan` and `fmt` on them: the merge, and every error placed in its fragment.

use std::path::{Path, PathBuf};

use assert_cmd::assert::Assert;
use predicates::prelude::*;

use crate::common::{cli, repo, stderr, stdout};

/// A Workspace file including `teams/*.yaml`, with `fragments` (name, text) under `teams/`.
fn layout(workspace_extra: &str, fragments: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("dir");
    let clickup = dir.path().join("clickup");
    std::fs::create_dir_all(clickup.join("teams")).expect("mkdir");
    std::fs::write(
        clickup.join("members.yaml"),
        format!(
            "version: 1\nworkspace:\n  id: \"9006054115\"\ninclude:\n  - teams/*.yaml\n{workspace_extra}members:\n  - email: olivia@acme.example\n    role: owner\n"
        ),
    )
    .expect("write");
    for (name, text) in fragments {
        std::fs::write(clickup.join("teams").join(name), text).expect("write fragment");
    }
    dir
}

fn run(dir: &Path, args: &[&str]) -> Assert {
    cli()
        .current_dir(dir)
        .args(args)
        .args(["-f", "clickup/members.yaml"])
        .assert()
}

fn snapshot() -> PathBuf {
    repo().join("examples/acme/workspace.snapshot.json")
}

const ENG: &str = "members:\n  - email: ada@acme.example\n    role: admin\n  - email: dan@acme.example\ngroups:\n  - name: Engineering\n    members: [ada@acme.example, dan@acme.example]\n";
const DESIGN: &str =
    "members:\n  - email: mei@acme.example\nguests:\n  - email: lena@agency.example\n";

#[test]
fn fragments_are_merged_into_the_workspace_file_in_order() {
    let dir = layout("", &[("eng.yaml", ENG), ("design.yaml", DESIGN)]);
    let output = run(dir.path(), &["validate"]);
    assert!(
        stdout(&output).contains("4 members, 1 guest, 1 group (mode"),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    // The plan sees the fragments' people and group: as the whole file would say it.
    let whole = "version: 1\nworkspace:\n  id: \"9006054115\"\nmembers:\n  - email: olivia@acme.example\n    role: owner\n  - email: mei@acme.example\n  - email: ada@acme.example\n    role: admin\n  - email: dan@acme.example\nguests:\n  - email: lena@agency.example\ngroups:\n  - name: Engineering\n    members: [ada@acme.example, dan@acme.example]\n";
    let single = tempfile::tempdir().expect("dir");
    std::fs::create_dir_all(single.path().join("clickup")).expect("mkdir");
    std::fs::write(single.path().join("clickup/members.yaml"), whole).expect("write");
    let plan = |dir: &Path| {
        let output = cli()
            .current_dir(dir)
            .args([
                "plan",
                "--format",
                "json",
                "-f",
                "clickup/members.yaml",
                "--snapshot",
            ])
            .arg(snapshot())
            .assert()
            .success();
        let mut plan: serde_json::Value =
            serde_json::from_slice(&output.get_output().stdout).expect("json");
        // The file's digest counts its includes too: the rest is the same.
        let object = plan.as_object_mut().expect("plan");
        object.remove("config_digest");
        plan
    };
    assert_eq!(plan(dir.path()), plan(single.path()));
}

#[test]
fn a_person_in_two_fragments_is_an_error_naming_both_places() {
    let dir = layout(
        "",
        &[
            ("design.yaml", DESIGN),
            (
                "eng.yaml",
                "members:\n  - email: dan@acme.example\n  - email: Mei@acme.example\n",
            ),
        ],
    );
    run(dir.path(), &["validate"])
        .code(1)
        .stderr(predicate::str::contains(
            "clickup/teams/eng.yaml:3:12: duplicate email \"mei@acme.example\": already listed in members at clickup/teams/design.yaml:2:12",
        ));
    // A group of the same name in two fragments, too.
    let group = "groups:\n  - name: Engineering\n    members: []\n";
    let dir = layout("", &[("a.yaml", group), ("b.yaml", group)]);
    run(dir.path(), &["validate"])
        .code(1)
        .stderr(predicate::str::contains(
            "clickup/teams/b.yaml:2:11: duplicate group name \"Engineering\": already defined at clickup/teams/a.yaml:2:11",
        ));
}

#[test]
fn what_only_a_workspace_file_holds_is_an_error_in_the_fragment() {
    let dir = layout(
        "",
        &[(
            "eng.yaml",
            "policy:\n  mode: authoritative\nworkspace:\n  id: \"1\"\ninclude: [\"more/*.yaml\"]\nmembers:\n  - email: dan@acme.example\n",
        )],
    );
    run(dir.path(), &["validate"])
        .code(1)
        .stderr(predicate::str::contains(
            "clickup/teams/eng.yaml:1:1: policy: a fragment holds only members, guests and groups; this key belongs in the Workspace file",
        ))
        .stderr(predicate::str::contains(
            "clickup/teams/eng.yaml:3:1: workspace: a fragment holds only members",
        ))
        .stderr(predicate::str::contains(
            "clickup/teams/eng.yaml:5:1: include: a fragment may not include other files",
        ));
    // A problem of an entry is placed in its fragment too.
    let dir = layout("", &[("eng.yaml", "members:\n  - email: not-an-email\n")]);
    run(dir.path(), &["validate"])
        .code(1)
        .stderr(predicate::str::contains("clickup/teams/eng.yaml:2:12:"));
}

#[test]
fn an_include_that_matches_nothing_or_the_file_itself_is_an_error_at_the_include() {
    let dir = layout("", &[]);
    run(dir.path(), &["validate"])
        .code(1)
        .stderr(predicate::str::contains(
            "clickup/members.yaml:5:5: include \"teams/*.yaml\" matches no file in clickup",
        ));
    // `*.yaml` beside the Workspace file matches the file itself: an include cycle.
    let dir = layout("", &[("eng.yaml", ENG)]);
    let path = dir.path().join("clickup/members.yaml");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(
        &path,
        text.replace("  - teams/*.yaml\n", "  - \"*.yaml\"\n"),
    )
    .expect("write");
    run(dir.path(), &["validate"])
        .code(1)
        .stderr(predicate::str::contains(
            "include \"*.yaml\" matches the Workspace file itself",
        ));
    // Out of the Workspace file's folder.
    std::fs::write(&path, text.replace("  - teams/*.yaml\n", "  - ../*.yaml\n")).expect("write");
    run(dir.path(), &["validate"])
        .code(1)
        .stderr(predicate::str::contains(
            "include \"../*.yaml\" must stay in the Workspace file's folder",
        ));
}

#[test]
fn a_refusal_caused_by_a_fragment_points_into_it() {
    // The fragment makes the owner an admin.
    let dir = layout(
        "",
        &[("lead.yaml", "members:\n  - email: ada@acme.example\n")],
    );
    let path = dir.path().join("clickup/members.yaml");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(
        &path,
        text.replace("  - email: olivia@acme.example\n    role: owner\n", ""),
    )
    .expect("write");
    std::fs::write(
        dir.path().join("clickup/teams/owner.yaml"),
        "members:\n  - email: olivia@acme.example\n    role: admin\n",
    )
    .expect("write");
    cli()
        .current_dir(dir.path())
        .args(["plan", "-f", "clickup/members.yaml", "--snapshot"])
        .arg(snapshot())
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "clickup/teams/owner.yaml:3:11: refused: olivia@acme.example is the Workspace owner",
        ))
        .stderr(predicate::str::contains(
            "(clickup/teams/owner.yaml:3:11 asks for it)",
        ));
}

#[test]
fn fmt_formats_each_fragment_in_place_and_check_fails_on_any() {
    let unsorted = "members:\n  - email: Zed@acme.example\n  - email: amy@acme.example  # new\n";
    let dir = layout("", &[("eng.yaml", unsorted), ("design.yaml", DESIGN)]);
    run(dir.path(), &["fmt", "--check"])
        .code(1)
        .stderr(predicate::str::contains(
            "clickup/teams/eng.yaml is not in canonical form",
        ));
    run(dir.path(), &["fmt"])
        .success()
        .stdout(predicate::str::contains(
            "Formatted clickup/teams/eng.yaml.",
        ));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("clickup/teams/eng.yaml")).expect("read"),
        "members:\n  - email: amy@acme.example  # new\n  - email: zed@acme.example\n"
    );
    run(dir.path(), &["fmt", "--check"]).success();
    // The Workspace file keeps its include, as written.
    let workspace = std::fs::read_to_string(dir.path().join("clickup/members.yaml")).expect("read");
    assert!(
        workspace.contains("\ninclude:\n  - teams/*.yaml\n"),
        "{workspace}"
    );
}

#[test]
fn the_fragment_schema_is_committed_and_accepts_a_fragment_but_not_a_policy() {
    let output = cli().args(["schema", "--fragment"]).output().expect("run");
    assert_eq!(
        stdout(&output),
        std::fs::read_to_string(repo().join("schema/fragment.schema.json")).expect("committed"),
        "schema/fragment.schema.json is out of date: run `clickup-members schema --fragment > schema/fragment.schema.json`"
    );
    let schema: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("json");
    let validator = jsonschema::validator_for(&schema).expect("schema");
    let eng: serde_json::Value = serde_json::json!({
        "members": [{"email": "ada@acme.example", "role": "admin"}],
        "groups": [{"name": "Engineering", "members": ["ada@acme.example"]}]
    });
    assert!(validator.is_valid(&eng));
    assert!(!validator.is_valid(&serde_json::json!({"policy": {"mode": "additive"}})));
}

#[test]
fn a_saved_plan_is_stale_once_a_fragment_changes() {
    let dir = layout("", &[("design.yaml", DESIGN)]);
    std::fs::copy(snapshot(), dir.path().join("workspace.json")).expect("copy");
    cli()
        .current_dir(dir.path())
        .args(["plan", "--out", "plan.json", "--snapshot", "workspace.json"])
        .args(["-f", "clickup/members.yaml"])
        .assert()
        .success();
    std::fs::write(
        dir.path().join("clickup/teams/design.yaml"),
        DESIGN.replace("mei@", "meike@"),
    )
    .expect("write");
    cli()
        .current_dir(dir.path())
        .args(["apply", "plan.json", "--snapshot", "workspace.json"])
        .args(["-f", "clickup/members.yaml"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("the saved plan is stale"));
}
