//! `report`, the access review, as a user runs it: offline on a snapshot and against the fake
//! of ClickUp, in every format, with a CSV read back by a CSV reader.

use assert_cmd::assert::OutputAssertExt;
use predicates::prelude::*;
use serde_json::Value;

use crate::common::{cli, repo};
use crate::fake::Fake;
use crate::live::{TOKEN, run};

fn fixture() -> std::path::PathBuf {
    repo().join("tests/fixtures/review")
}

fn snapshot() -> Value {
    let text =
        std::fs::read_to_string(fixture().join("workspace.snapshot.json")).expect("snapshot");
    serde_json::from_str(&text).expect("json")
}

/// A folder holding the fixture's members file.
fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::copy(
        fixture().join("members.yaml"),
        dir.path().join("members.yaml"),
    )
    .expect("copy");
    dir
}

#[test]
fn offline_on_a_snapshot_the_csv_has_a_row_per_person_and_reads_back() {
    let output = cli()
        .current_dir(fixture())
        .args([
            "report",
            "--format",
            "csv",
            "--snapshot",
            "workspace.snapshot.json",
        ])
        .assert()
        .success();
    let mut reader = csv::Reader::from_reader(output.get_output().stdout.as_slice());
    assert_eq!(
        reader.headers().expect("header").iter().collect::<Vec<_>>(),
        [
            "email",
            "name",
            "kind",
            "role",
            "status",
            "in_file",
            "managed",
            "groups",
            "last_active",
            "invited",
            "expires",
            "flags"
        ]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a record")).collect();
    // 9 people in the Workspace, then hana, whom the file lists.
    assert_eq!(records.len(), 10);
    assert_eq!(&records[9][0], "hana@acme.example");
    assert!(records[9][11].contains("missing"));
    let bob = records
        .iter()
        .find(|r| &r[0] == "bob@acme.example")
        .expect("bob");
    assert_eq!(&bob[1], "Zed, \"the\" Builder\nJr.");
    let frank = records
        .iter()
        .find(|r| &r[0] == "frank@acme.example")
        .expect("frank");
    assert_eq!(
        (&frank[1], &frank[5], &frank[11]),
        ("Frank | Free", "no", "unmanaged")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_clickup_it_only_reads_and_gives_the_same_rows_as_offline() {
    let fake = Fake::start(&snapshot(), TOKEN).await;
    let dir = folder();
    let live = run(dir.path(), &fake, &["report", "--format", "json"])
        .await
        .assert()
        .success();
    assert!(fake.log().iter().all(|l| !l.is_write()), "{:?}", fake.log());
    let offline = cli()
        .current_dir(fixture())
        .args([
            "report",
            "--format",
            "json",
            "--snapshot",
            "workspace.snapshot.json",
        ])
        .output()
        .expect("run");
    let live: Value = serde_json::from_slice(&live.get_output().stdout).expect("json");
    let offline: Value = serde_json::from_slice(&offline.stdout).expect("json");
    assert_eq!(live.as_array().map(Vec::len), Some(10));
    assert_eq!(live, offline);
    assert!(!String::from_utf8_lossy(&serde_json::to_vec(&live).expect("json")).contains(TOKEN));
}

#[test]
fn an_invalid_file_is_an_error_with_its_line_and_no_review() {
    let dir = folder();
    let path = dir.path().join("members.yaml");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(
        &path,
        text.replace("expires: \"2026-12-10\"", "expires: 2027-02-30"),
    )
    .expect("write");
    cli()
        .current_dir(dir.path())
        .args(["report", "--snapshot"])
        .arg(fixture().join("workspace.snapshot.json"))
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("members.yaml:17:14:"));
}
