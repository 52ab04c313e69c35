//! `validate` on invalid files: every problem reported at once as FILE:LINE:COL: message, exit 1.
//! Each fixture under tests/fixtures/invalid lists the problems it must produce in
//! `# expect: LINE:COL: message` comments.

use std::io::Write;
use std::path::Path;

use crate::common::{cli, fails, repo, stderr};

/// Runs `validate` in `dir`, which must fail with exit 1; gives its standard error.
fn validate_fails_in(dir: &Path) -> String {
    fails(cli().current_dir(dir).arg("validate"))
}

fn expectations(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# expect: "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_invalid_fixture_reports_exactly_its_problems() {
    let dir = repo().join("tests/fixtures/invalid");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 15, "only {} invalid fixtures", files.len());
    let mut failures = Vec::new();
    for path in &files {
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let want = expectations(&std::fs::read_to_string(path).expect("read"));
        assert!(!want.is_empty(), "{name} has no `# expect:` line");
        let output = cli()
            .current_dir(&dir)
            .args(["validate", "-f", &name])
            .output()
            .expect("run");
        let err = stderr(&output);
        let got: Vec<String> = err
            .lines()
            .filter_map(|l| l.strip_prefix(&format!("{name}:")))
            .map(str::to_owned)
            .collect();
        if output.status.code() != Some(1) || got != want {
            failures.push(format!(
                "{name}: exit {:?}\n  want {want:#?}\n  got  {got:#?}\n  stderr: {err}",
                output.status.code()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_valid_file_gives_a_one_line_summary_and_exit_0() {
    cli()
        .current_dir(repo())
        .args(["validate", "-f", "examples/acme/members.yaml"])
        .assert()
        .success()
        .stdout(
            "examples/acme/members.yaml is valid: Workspace 9006054115, 26 members, 4 guests, 2 groups (mode: authoritative).\n",
        );
}

#[test]
fn a_zero_byte_file_is_empty() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("members.yaml"), "").expect("write");
    let err = validate_fails_in(dir.path());
    assert!(
        err.starts_with("members.yaml:1:1: the file is empty\n"),
        "{err}"
    );
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("dir");
    let err = validate_fails_in(dir.path());
    assert!(
        err.starts_with("Error: cannot read members.yaml: No such file or directory"),
        "{err}"
    );
}

#[test]
fn a_file_that_is_not_utf8_points_at_the_bad_byte() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("members.yaml"),
        b"version: 1\nworkspace: {id: \"9\xff\"}\n",
    )
    .expect("write");
    let err = validate_fails_in(dir.path());
    assert!(
        err.starts_with("members.yaml:2:19: the file is not UTF-8 text"),
        "{err}"
    );
}

#[test]
fn an_alias_bomb_fails_fast_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("dir");
    let mut src = String::from(
        "version: 1\nworkspace: {id: \"1\"}\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for i in 1..12 {
        let p = i - 1;
        src.push_str(&format!(
            "x{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    std::fs::write(dir.path().join("members.yaml"), src).expect("write");
    let err = validate_fails_in(dir.path());
    assert!(err.starts_with("members.yaml:"), "{err}");
    assert!(err.contains("too many YAML aliases"), "{err}");
}

#[test]
fn deeply_nested_input_fails_fast_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("dir");
    let src = format!(
        "version: 1\nworkspace: {}1{}\n",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    std::fs::write(dir.path().join("members.yaml"), src).expect("write");
    let err = validate_fails_in(dir.path());
    assert!(err.starts_with("members.yaml:2:"), "{err}");
    assert!(err.contains("levels deep"), "{err}");
}

#[test]
fn a_50_mb_file_is_refused_before_it_is_parsed() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("members.yaml");
    let mut file = std::fs::File::create(&path).expect("create");
    file.write_all(b"version: 1\nworkspace: {id: \"1\"}\nmembers:\n")
        .expect("write");
    let line = b"  - email: someone.with.a.long.address@acme.example\n";
    for _ in 0..(50 * 1024 * 1024 / line.len()) {
        file.write_all(line).expect("write");
    }
    drop(file);
    let err = validate_fails_in(dir.path());
    assert_eq!(
        err,
        "Error: members.yaml is 50 MB; a members file is refused above 32 MB\n"
    );
}

#[test]
fn a_misspelt_value_gets_a_did_you_mean() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("members.yaml"),
        "version: 1\nworkspace: {id: \"1\"}\npolicy: {mode: authorative}\nguests:\n  - email: g@partner.example\n    access: [{list: \"9\", permission: coment}]\n",
    )
    .expect("write");
    let err = validate_fails_in(dir.path());
    assert!(
        err.contains("help: did you mean \"authoritative\"?"),
        "{err}"
    );
    assert!(err.contains("help: did you mean \"comment\"?"), "{err}");
}
