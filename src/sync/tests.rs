//! The merge of what the rules read, the fragment's text and the refusals, on files read from
//! disk as `sync` reads them.

use std::path::Path;

use crate::config::{self, Expiry, Joins, Loaded};
use crate::model::Email;
use crate::sync::merge::{self, Entry, Found, RuleRead};
use crate::sync::{fragment, into_index, refusals};

const FILE: &str = "\
version: 1
workspace: {id: \"9006054115\"}
include: [\"synced/*.yaml\"]
sources:
  okta: {url: \"https://acme.okta.com\"}
  csv: {path: hr.csv}
sync:
  into: synced/people.yaml
  max_changes: 3
  rules:
    - {from: okta, group: \"00gadmins\", role: admin, groups: [Ops]}
    - {from: okta, group: \"00geng\", groups: [engineering], expires: 2027-06-30}
    - {from: csv, group: contractors, as: guest, role: Viewer}
    - {from: okta, group: \"00gviewers\", role: Viewer}
members:
  - email: ann@acme.example
    role: owner
  - email: hand@acme.example
    role: admin
groups:
  - name: Engineering
  - name: Ops
";

fn load(fragment_text: Option<&str>) -> (tempfile::TempDir, Loaded) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("members.yaml"), FILE).expect("write");
    std::fs::create_dir(dir.path().join("synced")).expect("mkdir");
    if let Some(text) = fragment_text {
        std::fs::write(dir.path().join("synced/people.yaml"), text).expect("write");
    }
    let loaded = config::load(&dir.path().join("members.yaml")).expect("valid");
    (dir, loaded)
}

fn email(text: &str) -> Email {
    Email::parse(text).expect("email")
}

fn read(emails: &[&str]) -> RuleRead {
    RuleRead {
        found: emails
            .iter()
            .map(|e| Found {
                email: email(e),
                row: None,
            })
            .collect(),
        read: emails.len(),
        pages: 1,
        dropped: 0,
    }
}

fn merged(loaded: &Loaded, reads: &[RuleRead]) -> merge::Merged {
    let rules = &loaded.file.sync.as_ref().expect("sync").rules;
    let into = into_index(
        loaded,
        &crate::fsutil::folder_of(&loaded.path).join("synced/people.yaml"),
    );
    merge::merge(&loaded.file, rules, reads, into)
}

fn entry<'a>(merged: &'a merge::Merged, who: &str) -> &'a Entry {
    merged
        .entries
        .iter()
        .find(|e| e.email.as_str() == who)
        .unwrap_or_else(|| panic!("{who} not in {:?}", merged.entries))
}

#[test]
fn a_person_in_several_rules_gets_the_highest_role_the_union_of_groups_and_every_source() {
    let (_dir, loaded) = load(None);
    let reads = [
        read(&["bo@acme.example"]),
        read(&["bo@acme.example", "cy@acme.example"]),
        read(&["cy@acme.example", "gus@partner.example"]),
        read(&["cy@acme.example"]),
    ];
    let merged = merged(&loaded, &reads);
    let bo = entry(&merged, "bo@acme.example");
    assert_eq!(bo.role.as_deref(), Some("admin"));
    // Named as the file defines them, whatever the rule's spelling.
    assert_eq!(bo.groups, ["Engineering", "Ops"]);
    assert_eq!(bo.source, ["okta:00gadmins", "okta:00geng"]);
    // A rule without a date matched bo: bo does not expire.
    assert_eq!(bo.expires, None);
    // A member rule and a guest rule: a member, with the custom role of the member rule.
    let cy = entry(&merged, "cy@acme.example");
    assert_eq!(cy.joins, Joins::Member);
    assert_eq!(cy.role.as_deref(), Some("Viewer"));
    assert_eq!(
        cy.source,
        ["csv:contractors", "okta:00geng", "okta:00gviewers"]
    );
    let gus = entry(&merged, "gus@partner.example");
    assert_eq!(gus.joins, Joins::Guest);
    assert_eq!(gus.role.as_deref(), Some("Viewer"));
    // Members first, then guests, each sorted.
    let order: Vec<&str> = merged.entries.iter().map(|e| e.email.as_str()).collect();
    assert_eq!(
        order,
        ["bo@acme.example", "cy@acme.example", "gus@partner.example"]
    );
    assert_eq!(merged.added.len(), 3);
    assert_eq!(
        merged
            .added
            .iter()
            .find(|a| a.entry.email.as_str() == "bo@acme.example")
            .map(|a| a.by.as_str()),
        Some("okta:00gadmins")
    );
}

#[test]
fn a_date_is_kept_only_when_every_rule_that_matched_gives_one() {
    let (_dir, loaded) = load(None);
    let reads = [read(&[]), read(&["dee@acme.example"]), read(&[]), read(&[])];
    let merged = merged(&loaded, &reads);
    let dee = entry(&merged, "dee@acme.example");
    assert_eq!(dee.expires.map(Expiry::day).as_deref(), Some("2027-06-30"));
}

#[test]
fn a_person_listed_by_hand_is_kept_as_written_and_not_synced() {
    let (_dir, loaded) = load(None);
    let reads = [
        read(&["HAND@acme.example", "ann@acme.example"]),
        read(&[]),
        read(&[]),
        read(&[]),
    ];
    let merged = merged(&loaded, &reads);
    assert!(merged.entries.is_empty(), "{:?}", merged.entries);
    let kept: Vec<(&str, u64)> = merged
        .kept
        .iter()
        .map(|(e, _, line)| (e.as_str(), *line))
        .collect();
    assert_eq!(kept, [("ann@acme.example", 16), ("hand@acme.example", 18)]);
    assert!(
        merged.kept[0].1.ends_with("members.yaml"),
        "{:?}",
        merged.kept
    );
}

#[test]
fn the_fragment_as_it_is_gives_the_removed_and_the_changed() {
    let before = "\
# Written by clickup-members sync
members:
  - email: bo@acme.example
    source:
      - okta:00geng
  - email: old@acme.example
    source:
      - okta:00geng
";
    let (_dir, loaded) = load(Some(before));
    let reads = [read(&["bo@acme.example"]), read(&[]), read(&[]), read(&[])];
    let merged = merged(&loaded, &reads);
    assert_eq!(merged.removed.len(), 1);
    assert_eq!(merged.removed[0].email.as_str(), "old@acme.example");
    assert_eq!(merged.changed.len(), 1);
    assert_eq!(merged.changed[0].from.role, None);
    assert_eq!(merged.changed[0].to.role.as_deref(), Some("admin"));
    assert_eq!(merged.held.get("okta:00geng"), Some(&2));
    // okta:00geng reads as empty while the fragment holds two people from it.
    let rules = &loaded.file.sync.as_ref().expect("sync").rules;
    let found = refusals(&merged, rules, &reads, 25, &[]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, Some(rules[1].loc));
    assert!(
        found[0].1.contains("--allow-empty okta:00geng"),
        "{found:?}"
    );
    let allowed = refusals(&merged, rules, &reads, 25, &["okta:00geng".to_owned()]);
    assert!(allowed.is_empty(), "{allowed:?}");
    // Two changes against a limit of one.
    let too_many = refusals(&merged, rules, &reads, 1, &["okta:00geng".to_owned()]);
    assert_eq!(too_many.len(), 1);
    assert!(
        too_many[0].1.starts_with("2 people would change"),
        "{too_many:?}"
    );
}

#[test]
fn the_fragment_is_written_in_the_canonical_form_fmt_keeps() {
    let expires = Expiry::parse("2027-03-31").expect("date");
    let later = Expiry::parse("2027-03-31T17:00:00+02:00").expect("time");
    let entries = vec![
        Entry {
            email: email("amy@acme.example"),
            joins: Joins::Member,
            role: None,
            groups: vec![],
            expires: None,
            source: vec!["okta:00g1".to_owned()],
        },
        Entry {
            email: email("bo@münchen.example"),
            joins: Joins::Member,
            role: Some("member: custom #1".to_owned()),
            groups: vec!["Data & ML".to_owned(), "Engineering".to_owned()],
            expires: Some(expires),
            source: vec!["entra:6f1c".to_owned(), "okta:00g1".to_owned()],
        },
        Entry {
            email: email("gus@partner.example"),
            joins: Joins::Guest,
            role: Some("Viewer".to_owned()),
            groups: vec![],
            expires: Some(later),
            source: vec!["csv:contractors".to_owned()],
        },
    ];
    let text = fragment::text(&entries, "Written by clickup-members sync from okta.");
    assert_eq!(
        crate::format::format_fragment(&text).expect("formats"),
        text,
        "not canonical:\n{text}"
    );
    assert!(text.starts_with("# Written by clickup-members sync from okta.\nmembers:\n"));
    assert!(text.contains("    expires: \"2027-03-31\"\n"), "{text}");
    assert!(
        text.contains("    expires: \"2027-03-31T15:00:00Z\"\n"),
        "{text}"
    );
    let empty = fragment::text(&[], "Written by clickup-members sync.");
    assert_eq!(
        crate::format::format_fragment(&empty).expect("formats"),
        empty
    );
    // What it means reads back.
    let read = config::parse_fragment_str(&text).expect("valid");
    assert_eq!(read.members.len(), 2);
    assert_eq!(
        read.guests[0]
            .custom_role
            .as_ref()
            .map(|r| r.value.as_str()),
        Some("Viewer")
    );
    assert_eq!(read.members[1].source.len(), 2);
}

#[test]
fn an_into_not_yet_written_counts_as_empty_and_a_written_text_is_planned_in_its_place() {
    let (dir, loaded) = load(None);
    assert!(loaded.file.members.len() == 2);
    let text = "members:\n  - email: new@acme.example\n    groups:\n      - Engineering\n";
    let with = config::load_with(&dir.path().join("members.yaml"), text).expect("valid");
    assert_eq!(with.file.members.len(), 3);
    let engineering = with
        .file
        .groups
        .iter()
        .flatten()
        .find(|g| g.name.value == "Engineering")
        .expect("group");
    // The person joins the group they name.
    assert_eq!(engineering.members.len(), 1);
    assert_eq!(engineering.members[0].value.as_str(), "new@acme.example");
    assert!(!Path::new(&dir.path().join("synced/people.yaml")).exists());
}
