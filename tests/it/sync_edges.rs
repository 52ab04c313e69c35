//! `sync` at the edges of its files: the first sync with no fragment yet, a fragment broken by
//! hand, a file `into` names that sync did not write, links out of the folder, paths that are
//! not plain paths in it, rows whose role does not fit, and the dry run without a ClickUp token.
//! All offline, on the shipped example.

use std::path::{Path, PathBuf};

use crate::common::{self, cli, fails, repo, stderr, stdout};

/// The shipped example, copied.
fn example() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    common::copy_dir(&repo().join("examples/sync"), dir.path());
    dir
}

fn fragment(dir: &Path) -> PathBuf {
    dir.join("synced/people.yaml")
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    assert!(text.contains(from), "no {from:?} in {}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).expect("write");
}

#[test]
fn the_first_sync_needs_no_fragment_even_where_a_group_lists_people_only_it_brings() {
    let dir = example();
    // "Launch 2024" lists people only the synced fragment holds.
    std::fs::remove_file(fragment(dir.path())).expect("rm");
    let run = cli()
        .current_dir(dir.path())
        .args(["sync", "--write", "--max-changes", "100"])
        .assert()
        .success();
    assert!(stdout(&run).contains("Wrote synced/people.yaml."));
    cli()
        .current_dir(dir.path())
        .arg("validate")
        .assert()
        .success();
    // Broken by hand: read as empty, said so at its line, and written anew.
    std::fs::write(
        fragment(dir.path()),
        "# Written by clickup-members sync\nmembers: [\n",
    )
    .expect("write");
    let run = cli()
        .current_dir(dir.path())
        .args(["sync", "--write", "--max-changes", "100"])
        .assert()
        .success();
    let err = stderr(&run);
    assert!(
        err.contains("synced/people.yaml:2:") && err.contains("read as empty and written anew"),
        "{err}"
    );
    cli()
        .current_dir(dir.path())
        .arg("validate")
        .assert()
        .success();
    // A person of the group the fragment does not bring is still an error, at the group.
    edit(
        &dir.path().join("members.yaml"),
        "      - elif@acme.example\n",
        "      - elif@acme.example\n      - nobody@acme.example\n",
    );
    let err = fails(cli().current_dir(dir.path()).args(["sync", "--write"]));
    assert!(
        err.contains("nobody@acme.example, who is not in members or guests"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn nothing_is_read_or_written_through_a_link_out_of_the_folder() {
    let dir = example();
    let outside = tempfile::tempdir().expect("temp dir");
    std::fs::remove_dir_all(dir.path().join("synced")).expect("rm");
    std::os::unix::fs::symlink(outside.path(), dir.path().join("synced")).expect("link");
    let err =
        fails(
            cli()
                .current_dir(dir.path())
                .args(["sync", "--write", "--max-changes", "100"]),
        );
    assert!(
        err.contains(
            "members.yaml:28:9: synced/people.yaml leads out of the Workspace file's folder"
        ),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(outside.path()).expect("ls").count(), 0);

    // The csv export through a link to a folder outside.
    let dir = example();
    std::fs::rename(dir.path().join("hr"), outside.path().join("hr")).expect("mv");
    std::os::unix::fs::symlink(outside.path().join("hr"), dir.path().join("hr")).expect("link");
    let before = std::fs::read_to_string(fragment(dir.path())).expect("read");
    let err = fails(cli().current_dir(dir.path()).args(["sync", "--write"]));
    assert!(
        err.contains("members.yaml:19:11: hr/people.csv leads out of the Workspace file's folder"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(fragment(dir.path())).expect("read"),
        before
    );
}

#[test]
fn a_file_sync_did_not_write_is_not_taken_over() {
    let dir = example();
    let hand = "members:\n  - email: ada@acme.example\n";
    std::fs::write(fragment(dir.path()), hand).expect("write");
    let err = fails(cli().current_dir(dir.path()).args(["sync", "--write"]));
    assert!(
        err.contains("members.yaml:28:9: synced/people.yaml was not written by sync"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(fragment(dir.path())).expect("read"),
        hand
    );
}

#[test]
fn into_and_the_csv_path_are_plain_paths_inside_the_folder_and_a_group_has_one_rule() {
    for (from, to, said) in [
        (
            "into: synced/people.yaml",
            "into: \"synced/*.yaml\"",
            "members.yaml:28:9: sync.into \"synced/*.yaml\" is a pattern",
        ),
        (
            "into: synced/people.yaml",
            "into: synced",
            "sync.into \"synced\" must name a YAML file",
        ),
        (
            "path: hr/people.csv",
            "path: /etc/passwd",
            "members.yaml:19:11: sources.csv.path \"/etc/passwd\" must stay in the Workspace file's folder",
        ),
        (
            "path: hr/people.csv",
            "path: ../people.csv",
            "sources.csv.path \"../people.csv\" must stay in the Workspace file's folder",
        ),
        (
            "      group: \"design\"",
            "      group: \"Engineering\"",
            "members.yaml:36:14: a rule reads csv:Engineering already (line 31)",
        ),
    ] {
        let dir = example();
        edit(&dir.path().join("members.yaml"), from, to);
        for command in ["validate", "sync"] {
            let err = fails(cli().current_dir(dir.path()).arg(command));
            assert!(err.contains(said), "{command} with {to}: {err}");
        }
    }
}

#[test]
fn a_row_whose_role_does_not_fit_a_guest_is_an_error_at_its_line() {
    let dir = example();
    let csv = dir.path().join("hr/people.csv");
    let mut text = std::fs::read_to_string(&csv).expect("read");
    let line = text.lines().count() + 1;
    text.push_str("3002,Rae,rae@acme.example,,staff,admin,guest,\n");
    std::fs::write(&csv, text).expect("write");
    let before = std::fs::read_to_string(fragment(dir.path())).expect("read");
    let err = fails(cli().current_dir(dir.path()).args(["sync", "--write"]));
    assert!(
        err.contains(&format!(
            "hr/people.csv:{line}:1: this row makes rae@acme.example a guest with the role admin"
        )),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(fragment(dir.path())).expect("read"),
        before
    );
}

#[test]
fn without_a_clickup_token_the_dry_run_still_says_whether_the_fragment_changes() {
    let dir = example();
    let run = cli()
        .current_dir(dir.path())
        .args(["sync", "--detailed-exitcode"])
        .assert()
        .code(2);
    let out = stdout(&run);
    assert!(
        out.contains("Sync: 1 to add, 1 to remove, 1 to change."),
        "{out}"
    );
    assert!(out.contains("No plan: the dry run reads ClickUp"), "{out}");
    cli()
        .current_dir(dir.path())
        .args(["sync", "--detailed-exitcode", "--format", "json"])
        .assert()
        .code(2);
    // A folder: each file under its heading, the failed one too.
    edit(
        &dir.path().join("members.yaml"),
        "path: hr/people.csv",
        "path: hr/gone.csv",
    );
    let run = cli().args(["sync", "-f"]).arg(dir.path()).assert().code(1);
    let out = stdout(&run);
    assert!(out.contains("=== "), "{out}");
    assert!(out.contains("No sync: nothing was written"), "{out}");
    let run = cli()
        .args(["sync", "--format", "json", "-f"])
        .arg(dir.path())
        .assert()
        .code(1);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&run)).expect("json");
    assert!(
        doc["workspaces"][0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("gone.csv")),
        "{doc}"
    );
    assert!(
        doc["workspaces"][0]["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("members.yaml")),
        "{doc}"
    );
}
