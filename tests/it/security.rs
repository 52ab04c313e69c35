//! Files that hold people's emails are readable by their owner only.

use crate::common::Acme;

#[cfg(unix)]
#[test]
fn state_plan_audit_and_snapshot_files_are_created_with_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    let acme = Acme::new();
    acme.run(&["plan", "--allow-replace", "--out", "plan.json"])
        .assert()
        .success();
    acme.run(&[
        "apply",
        "plan.json",
        "--allow-replace",
        "--audit-log",
        "audit.jsonl",
    ])
    .assert()
    .success();
    for file in [
        "plan.json",
        "members.state.json",
        "audit.jsonl",
        "workspace.snapshot.json",
    ] {
        let mode = std::fs::metadata(acme.path(file))
            .expect(file)
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file} has mode {:o}", mode & 0o777);
    }
    // The member file itself keeps its mode: it is meant to be shared in git.
    let mode = std::fs::metadata(acme.members())
        .expect("members")
        .permissions()
        .mode();
    assert_ne!(mode & 0o077, 0);
}
