//! The canonical form: sorting, normalising, keeping comments, refusing what it cannot keep.

use crate::format::{Header, Scan, format, import};

fn comments_of(text: &str) -> Vec<Option<usize>> {
    let mut scan = Scan::default();
    text.lines().map(|l| scan.comment_start(l)).collect()
}

#[test]
fn comments_are_found_outside_quotes_and_block_scalars() {
    let text = "a: b # c\nd: \"e # f\" # g\nh: 'it''s # not' # i\nj: k#l\nm: \"n\n  # o\"\np: |\n  # q\nr: s\n";
    assert_eq!(
        comments_of(text),
        vec![
            Some(5),
            Some(11),
            Some(17),
            None,
            None,
            None,
            None,
            None,
            None
        ]
    );
}

#[test]
fn members_guests_and_groups_are_sorted_and_emails_lower_cased() {
    let src = "version: 1\nworkspace: {id: 1}\nmembers:\n  - email: Zed@X.io\n  - email: amy@x.io\n    role: admin\nguests:\n  - email: g2@p.io\n  - email: G1@p.io\ngroups:\n  - name: b\n    members: [zed@x.io, AMY@x.io]\n  - name: A\n";
    assert_eq!(
        format(src).expect("formats"),
        "version: 1\nworkspace:\n  id: \"1\"\n\nmembers:\n  - email: amy@x.io\n    role: admin\n  - email: zed@x.io\n\nguests:\n  - email: g1@p.io\n  - email: g2@p.io\n\ngroups:\n  - name: A\n  - name: b\n    members:\n      - amy@x.io\n      - zed@x.io\n"
    );
}

#[test]
fn formatting_twice_changes_nothing() {
    let src = "# top\nworkspace: {id: \"1\"}  # w\nversion: 1\nmembers: [{email: b@x.io}, {email: a@x.io}]  # all\n";
    let once = format(src).expect("formats");
    assert_eq!(format(&once).expect("formats again"), once);
}

#[test]
fn an_invalid_file_is_not_formatted() {
    let err = format("version: 2\nworkspace: {id: \"1\"}\n").expect_err("invalid");
    assert_eq!(err[0].message, "version must be 1, not 2");
}

#[test]
fn an_imported_workspace_name_cannot_add_a_line_to_the_file() {
    let doc = crate::clickup::wire::SnapshotDoc::from_json(
        br#"{"team": {"id": "9006054115", "name": "Acme\ninclude: [x]\r\ninclude: [y]\u2028z", "members": [
            {"user": {"id": 1, "username": "O", "email": "olivia@acme.example", "role": 1,
                      "date_joined": "1", "date_invited": "1"}}]},
            "me": {"id": 1, "email": "olivia@acme.example"}}"#,
    )
    .expect("snapshot");
    let header = Header {
        schema: "schema/members.schema.json".to_owned(),
        date: "2026-12-01".to_owned(),
    };
    let text = import(&doc.to_live(), &header);
    let file = crate::config::parse_str(&text).expect("the imported file is valid");
    assert!(file.include.is_empty(), "{text}");
    assert!(
        text.contains("Acme\\ninclude: [x]\\r\\ninclude: [y]\\u2028z"),
        "{text}"
    );
    assert_eq!(
        file.workspace.name.map(|n| n.value),
        Some("Acme\ninclude: [x]\r\ninclude: [y]\u{2028}z".to_owned())
    );
}
