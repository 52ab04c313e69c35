//! Decoding the desired-state file into its types.

use crate::config::{DEFAULT_MAX_REMOVALS, Expiry, Mode, RoleName, parse_str};
use crate::model::{ShareKind, SharePermission};

#[test]
fn a_minimal_file_takes_the_defaults() {
    let file = parse_str("version: 1\nworkspace:\n  id: 9006054115\n").expect("valid");
    assert_eq!(
        file.workspace.id.value, "9006054115",
        "an integer id becomes text"
    );
    assert_eq!(file.policy.mode, Mode::Additive);
    assert_eq!(file.policy.max_removals, DEFAULT_MAX_REMOVALS);
    assert!(file.members.is_empty() && file.guests.is_empty());
    assert!(
        file.groups.is_none(),
        "groups are not managed without the key"
    );
}

#[test]
fn roles_are_read_with_their_line() {
    let file = parse_str(
        "version: 1\nworkspace: {id: \"1\"}\nmembers:\n  - email: A@X.io\n  - email: b@x.io\n    role: Admin\n  - email: c@x.io\n    role: member custom\n",
    )
    .expect("valid");
    assert_eq!(file.members[0].email.value.as_str(), "a@x.io");
    assert_eq!(file.members[0].role.value, RoleName::Member);
    assert_eq!(file.members[1].role.value, RoleName::Admin);
    assert_eq!(
        (file.members[1].role.loc.line, file.members[1].role.loc.col),
        (6, 11)
    );
    assert_eq!(
        file.members[2].role.value,
        RoleName::Custom("member custom".into())
    );
}

#[test]
fn guests_with_permissions_and_access_are_read() {
    let file = parse_str(
        "version: 1\nworkspace: {id: \"1\"}\nguests:\n  - email: g@p.io\n    permissions:\n      can_edit_tags: false\n    custom_role: guest custom\n    access:\n      - task: abc\n        permission: edit\n      - folder: 12\n        permission: create\n",
    )
    .expect("valid");
    let guest = &file.guests[0];
    assert_eq!(guest.permissions.can_edit_tags, Some(false));
    assert_eq!(guest.permissions.can_see_time_spent, None);
    assert_eq!(
        guest.custom_role.as_ref().map(|r| r.value.as_str()),
        Some("guest custom")
    );
    let shares = guest.shares().expect("managed");
    assert_eq!(shares[0].target.kind, ShareKind::Task);
    assert_eq!(shares[1].target.id, "12");
    assert_eq!(shares[1].permission, SharePermission::Create);
}

#[test]
fn an_empty_members_key_is_an_empty_list() {
    let file = parse_str("version: 1\nworkspace: {id: \"1\"}\nmembers:\nguests:\n").expect("valid");
    assert!(file.members.is_empty() && file.guests.is_empty());
}

#[test]
fn groups_with_an_explicit_empty_list_are_managed() {
    let file = parse_str("version: 1\nworkspace: {id: \"1\"}\ngroups: []\n").expect("valid");
    assert_eq!(file.groups.map(|g| g.len()), Some(0));
}

#[test]
fn a_misspelt_key_gets_a_suggestion() {
    let diags = parse_str("version: 1\nworkspace: {id: \"1\"}\npolicy:\n  max_removal: 3\n")
        .expect_err("unknown key");
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].message, "unknown key \"max_removal\" in policy");
    assert!(
        diags[0]
            .help
            .as_deref()
            .is_some_and(|h| h.starts_with("did you mean \"max_removals\"?"))
    );
}

#[test]
fn an_expiry_beyond_the_dates_the_tool_keeps_is_an_error_not_a_panic() {
    for text in ["9999-12-31T20:00:00-05:00", "9999-12-31T23:59:59-00:01"] {
        let why = Expiry::parse(text).expect_err(text).to_string();
        assert!(why.contains(text) && why.contains("9999-12-31"), "{why}");
    }
    let last = Expiry::parse("9999-12-31T23:59:59Z").expect("the last moment kept");
    assert_eq!(last.day(), "9999-12-31");
    assert!(Expiry::parse("0000-01-01T00:00:00+01:00").is_ok());
}

#[test]
fn an_unreadable_expiry_says_why_with_the_text_as_written() {
    let why = |text: &str| Expiry::parse(text).map_err(|e| e.to_string()).err();
    assert_eq!(
        why("2027-02-30").as_deref(),
        Some("\"2027-02-30\" is not a date (day was not in range)")
    );
    assert_eq!(
        why("tomorrow").as_deref(),
        Some(
            "\"tomorrow\" is neither a date (2027-03-31) nor a time with its zone (2027-03-31T17:00:00Z)"
        )
    );
    assert_eq!(
        why("9999-12-31T20:00:00-05:00").as_deref(),
        Some(
            "\"9999-12-31T20:00:00-05:00\" is past 9999-12-31 in UTC, the last day the tool keeps; write 9999-12-31 at the latest"
        )
    );
}

/// The problems of `text` as `LINE:COL message`.
fn problems(text: &str) -> Vec<String> {
    parse_str(text)
        .expect_err("invalid")
        .iter()
        .map(|d| format!("{}:{} {}", d.loc.line, d.loc.col, d.message))
        .collect()
}

const SYNCED: &str = "version: 1
workspace: {id: \"1\"}
include: [\"synced/*.yaml\"]
sources:
  okta: {url: \"https://acme.okta.com\"}
  csv: {path: hr.csv}
sync:
  into: synced/people.yaml
  rules:
    - {from: okta, group: \"00g1\", role: admin, groups: [Eng]}
    - {from: csv, group: contractors, as: guest, role: Viewer, expires: 2027-03-31}
members:
  - email: a@x.io
    groups: [eng]
    source: [\"okta:00g1\"]
groups:
  - name: Eng
";

#[test]
fn sources_sync_and_a_persons_groups_are_read_and_the_person_joins_the_group() {
    let file = parse_str(SYNCED).expect("valid");
    let sync = file.sync.as_ref().expect("sync");
    assert_eq!(sync.into.value, "synced/people.yaml");
    assert_eq!(sync.max_changes, crate::config::sync::DEFAULT_MAX_CHANGES);
    assert_eq!(sync.rules[0].name(), "okta:00g1");
    assert_eq!(
        sync.rules[0].role.as_ref().map(|r| &r.value),
        Some(&RoleName::Admin)
    );
    assert_eq!(sync.rules[1].joins, crate::config::Joins::Guest);
    assert_eq!((sync.rules[1].loc.line, sync.rules[1].loc.col), (11, 7));
    assert!(
        file.sources
            .as_ref()
            .is_some_and(|s| s.okta.is_some() && s.entra.is_none())
    );
    // A group's members: its own list and the people who name it, case-insensitively.
    let eng = &file.groups.as_ref().expect("groups")[0];
    assert_eq!(eng.members.len(), 1);
    assert_eq!(eng.members[0].value.as_str(), "a@x.io");
    assert_eq!(eng.members[0].loc.line, 14);
    assert_eq!(file.members[0].source[0].value, "okta:00g1");
}

#[test]
fn each_mistake_in_sources_and_sync_is_an_error_at_its_line() {
    let text = SYNCED
        .replace(
            "okta: {url: \"https://acme.okta.com\"}",
            "okta: {url: \"http://acme.okta.com\"}",
        )
        .replace(
            "{from: csv, group: contractors, as: guest, role: Viewer",
            "{from: google, group: contractors, as: guest, role: admin",
        )
        .replace("groups: [eng]", "groups: [Design]")
        .replace(
            "into: synced/people.yaml",
            "into: people.yaml\n  max_change: 3",
        );
    let found = problems(&text);
    let expected = [
        "5:15 sources.okta.url must be https:// (plain http:// only to a loopback address): credentials are sent there",
        "8:9 sync.into \"people.yaml\" is not matched by any include, so what sync writes would not be planned",
        "9:3 unknown key \"max_change\" in sync",
        "12:59 role: a guest rule's role is a custom role that inherits the guest role, or left out",
        "15:14 a@x.io joins the group \"Design\", which the file does not define",
    ];
    assert_eq!(found, expected);
    let unknown = problems(
        &SYNCED
            .replace("{from: csv,", "{from: ldap,")
            .replace("csv: {path: hr.csv}", "csv: {path: hr.csv}\n  ldap: {}"),
    );
    assert!(
        unknown
            .iter()
            .any(|f| f.starts_with("7:3 unknown key \"ldap\" in sources")),
        "{unknown:#?}"
    );
    assert!(
        unknown
            .iter()
            .any(|f| f.starts_with("12:14 unknown source \"ldap\"")),
        "{unknown:#?}"
    );
    let unset = problems(&SYNCED.replace("  csv: {path: hr.csv}\n", ""));
    assert!(
        unset
            .iter()
            .any(|f| f == "10:14 this rule reads from csv, but sources has no csv"),
        "{unset:#?}"
    );
}

#[test]
fn sources_and_sync_belong_in_the_workspace_file_not_a_fragment() {
    let found = crate::config::parse_fragment_str("sync: {into: x.yaml}\nmembers: []\n")
        .expect_err("invalid");
    assert!(
        found[0]
            .message
            .starts_with("sync: a fragment holds only members, guests and groups")
    );
}
