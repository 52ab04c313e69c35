use super::*;
use crate::plan::ops::{WriteOp, WriteOutcome};

fn doc() -> SnapshotDoc {
    SnapshotDoc::from_json(
        br#"{"team": {"id": "1", "name": "W", "members": [
            {"user": {"id": 7, "email": "ada@x.io", "role": 1, "date_joined": "1"}},
            {"user": {"id": 8, "email": "bob@x.io", "role": 3, "date_joined": "1"}}]},
            "me": {"id": 7, "email": "ada@x.io"}}"#,
    )
    .expect("doc")
}

fn invite(email: &str) -> WriteOp {
    WriteOp::InviteMember {
        email: Email::from_live(email),
        admin: true,
        custom_role_id: None,
    }
}

#[test]
fn reading_the_state_replays_its_journal_and_ignores_a_torn_last_line() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("members.state.json");
    let mut state = State::new("1");
    state.snapshot = Some(doc());
    state.save(&path).expect("save");
    let mut journal = Journal::create(&path).expect("journal");
    state
        .record(
            &path,
            Some(&mut journal),
            &invite("cy@x.io"),
            &WriteOutcome::Invited { user_id: 9 },
            true,
        )
        .expect("record");
    state
        .record(
            &path,
            Some(&mut journal),
            &WriteOp::RemoveMember { user_id: 8 },
            &WriteOutcome::Done,
            true,
        )
        .expect("record");
    // A crash in the middle of the next line.
    std::fs::OpenOptions::new()
        .append(true)
        .open(journal_path(&path))
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"{\"serial\": 4, \"ti"))
        .expect("torn line");

    let read = State::read(&path).expect("read").expect("state");
    assert_eq!(read.serial, 3);
    assert_eq!(read.members[&Email::from_live("cy@x.io")].role, "admin");
    assert_eq!(
        read.members[&Email::from_live("cy@x.io")].status,
        PersonStatus::Pending
    );
    let live = read.snapshot.as_ref().expect("snapshot").to_live();
    assert!(
        live.person(&Email::from_live("cy@x.io"))
            .is_some_and(|p| p.pending)
    );
    assert!(live.person(&Email::from_live("bob@x.io")).is_none());

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in [path.clone(), journal_path(&path)] {
            let mode = std::fs::metadata(&file).expect("file").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", file.display());
        }
    }
    // Saving folds the journal in; lines it already holds are not applied twice.
    let mut folded = read.clone();
    folded.save(&path).expect("save");
    assert!(!journal_path(&path).exists());
    assert_eq!(State::read(&path).expect("read"), Some(folded));
}

#[test]
fn without_a_journal_every_write_rewrites_the_state_file() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("members.state.json");
    let mut state = State::new("1");
    state.snapshot = Some(doc());
    state.save(&path).expect("save");
    state
        .record(
            &path,
            None,
            &invite("cy@x.io"),
            &WriteOutcome::Invited { user_id: 9 },
            true,
        )
        .expect("record");
    assert!(!journal_path(&path).exists());
    let read = State::read(&path).expect("read").expect("state");
    assert_eq!(read.serial, 2);
    assert_eq!(read, state);
}

#[test]
fn a_state_replaced_by_another_history_is_not_overwritten() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("members.state.json");
    let mut ours = State::new("900");
    ours.save(&path).expect("first save");
    let theirs = State::new("900");
    std::fs::write(&path, serde_json::to_vec(&theirs).expect("json")).expect("replaced");
    let err = ours.save(&path).expect_err("another lineage");
    assert!(
        err.to_string().contains(&format!(
            "the state file was replaced during this run by another history (lineage {}",
            theirs.lineage
        )),
        "{err}"
    );
    let on_disk = State::read(&path).expect("read").expect("state");
    assert_eq!(on_disk.lineage, theirs.lineage);
}

#[test]
fn a_save_never_takes_the_state_back_to_an_older_serial() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("members.state.json");
    let mut first = State::new("900");
    first.save(&path).expect("first save");
    // Two runs read serial 1; one records two writes, then the other tries to save.
    let mut late = State::read(&path).expect("read").expect("state");
    let mut other = State::read(&path).expect("read").expect("state");
    other
        .record(
            &path,
            None,
            &invite("a@x.io"),
            &WriteOutcome::Invited { user_id: 8 },
            true,
        )
        .expect("a write");
    other
        .record(
            &path,
            None,
            &invite("b@x.io"),
            &WriteOutcome::Invited { user_id: 9 },
            true,
        )
        .expect("a write");
    let err = late.save(&path).expect_err("older than on disk");
    assert!(
        err.to_string()
            .contains("the state on disk is at serial 3, and this run would write serial 2"),
        "{err}"
    );
    let on_disk = State::read(&path).expect("read").expect("state");
    assert_eq!(on_disk.serial, 3);
    assert_eq!(on_disk.members.len(), 2, "the other run's writes are kept");

    // The same through the other run's journal, whose lines are further than its file.
    let mut journal = Journal::create(&path).expect("journal");
    let mut journaled = State::read(&path).expect("read").expect("state");
    let mut stale = State::read(&path).expect("read").expect("state");
    journaled
        .record(
            &path,
            Some(&mut journal),
            &invite("c@x.io"),
            &WriteOutcome::Invited { user_id: 10 },
            true,
        )
        .expect("a journal line");
    assert!(stale.save(&path).is_err(), "the journal's serial counts");
}

#[test]
fn the_serial_never_wraps() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("members.state.json");
    let mut state = State::new("900");
    state.serial = u64::MAX;
    let err = state.save(&path).expect_err("no serial after the last");
    assert!(
        err.to_string().contains("serial is at its largest value"),
        "{err}"
    );
    assert_eq!(state.serial, u64::MAX);
}

#[test]
fn a_damaged_state_file_is_an_error() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.json");
    std::fs::write(&path, "{\"format_version\": 1").expect("write");
    assert!(matches!(
        State::read(&path),
        Err(StateError::Corrupt { .. })
    ));
    std::fs::write(&path, "{\"format_version\": 7}").expect("write");
    assert!(matches!(
        State::read(&path),
        Err(StateError::Version { found: 7, .. })
    ));
}
