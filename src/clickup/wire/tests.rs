//! ClickUp's shapes, parsed tolerantly, and writes applied as ClickUp applies them.

use serde_json::json;

use crate::clickup::wire::SnapshotDoc;
use crate::model::{
    BaseRole, Email, GuestPermissions, Share, ShareKind, SharePermission, ShareTarget,
};
use crate::plan::ops::{WriteOp, WriteOutcome};

/// The `GET /team` example of reference/clickup-api.md §5.4, as a snapshot.
fn reference_doc() -> SnapshotDoc {
    let doc = json!({
      "team": {
        "id": "9006054115", "name": "Acme Workspace", "color": "#40BC86", "avatar": null,
        "members": [
          {"user": {"id": 4484242, "username": "Olivia Owner", "email": "olivia@acme.example",
                    "color": "#ff897f", "profilePicture": null, "initials": "OO",
                    "role": 1, "role_subtype": 0, "role_key": "owner", "custom_role": null,
                    "last_active": "1750794096125", "date_joined": "1679495777070", "date_invited": "1679495777070"}},
          {"user": {"id": 4269250, "username": "Max Member", "email": "Max@Acme.Example",
                    "color": "#81b1ff", "profilePicture": null, "initials": "MM",
                    "role": 3, "role_subtype": 0, "role_key": "member", "custom_role": null,
                    "last_active": "1750768379405", "date_joined": "1679496177299", "date_invited": "1679495796796"},
           "invited_by": {"id": 4484242, "username": "Olivia Owner", "color": "#ff897f", "email": "olivia@acme.example",
                          "initials": "OO", "profilePicture": null, "banned_date": null, "status": "active"}},
          {"user": {"id": 57207539, "username": null, "email": "pending.person@acme.example",
                    "color": null, "profilePicture": null, "initials": "P",
                    "role": 3, "role_subtype": 0, "role_key": "member", "custom_role": null,
                    "last_active": null, "date_joined": null, "date_invited": "1679495814173"},
           "invited_by": {"id": 4484242, "status": "invited"}},
          {"user": {"id": 5100002, "username": "Cora Custom", "email": "cora@acme.example",
                    "role": 3, "custom_role": {"id": 998877, "name": "member custom"},
                    "last_active": 1750600000000_i64, "date_joined": 1690000000000_i64, "date_invited": "1689999990000",
                    "timezone": "Europe/Berlin", "something_new": {"nested": true}}},
          {"user": {"id": "5100003", "username": "Ian Int", "email": "ian@acme.example",
                    "role": 2, "custom_role": 112233,
                    "last_active": null, "date_joined": "1690000000001", "date_invited": "1689999990000"}},
          {"user": {"id": 11111111, "username": "Gus Guest", "email": "gus@partner.example",
                    "role": 4, "role_subtype": 2, "role_key": "guest", "custom_role": null,
                    "last_active": "1750500000000", "date_joined": "1700000000000", "date_invited": "1699999990000"},
           "can_see_time_spent": true, "can_see_time_estimated": true, "can_edit_tags": false,
           "can_create_views": false, "can_see_points_estimated": false}
        ]
      },
      "custom_roles": [
        {"id": 998877, "team_id": "9006054115", "name": "member custom", "inherited_role": 3, "date_created": "1651189901020", "members": [5100002]},
        {"id": 112233, "team_id": "9006054115", "name": "admin custom", "inherited_role": 2, "date_created": "1651189904868", "members": []}
      ],
      "groups": [
        {"id": "4bfdfcec-6f4f-40a7-b0d6-22660d51870d", "team_id": "9006054115", "userid": 4484242,
         "name": "Engineering", "handle": "eng", "date_created": "1640122639829", "initials": "E",
         "members": [{"id": 4269250, "username": "Max Member", "email": "max@acme.example", "color": "#81b1ff", "initials": "MM", "profilePicture": null}],
         "avatar": {"attachment_id": null, "color": null, "source": null, "icon": null}}
      ],
      "me": {"id": 4484242, "email": "olivia@acme.example"},
      "guests": [
        {"user": {"id": 11111111, "email": "gus@partner.example"},
         "shared": {"tasks": ["86a0x1q"], "lists": [{"id": "1427", "name": "List Name", "permission_level": "comment"}], "folders": null}}
      ]
    });
    SnapshotDoc::from_json(doc.to_string().as_bytes()).expect("reference shapes parse")
}

#[test]
fn clickup_shapes_are_read_tolerantly() {
    let live = reference_doc().to_live();
    assert_eq!(live.workspace_id, "9006054115");
    assert_eq!(live.people.len(), 6);
    let max = live
        .person(&Email::from_live("max@acme.example"))
        .expect("max, lower-cased");
    assert_eq!(
        (max.id, max.role, max.pending),
        (4269250, BaseRole::Member, false)
    );
    let cora = live
        .person(&Email::from_live("cora@acme.example"))
        .expect("cora");
    assert_eq!(cora.custom_role.as_ref().map(|c| c.id), Some(998877));
    assert!(!cora.pending, "numeric timestamps are read");
    let ian = live
        .person(&Email::from_live("ian@acme.example"))
        .expect("ian");
    assert_eq!(
        (ian.id, ian.custom_role.as_ref().map(|c| c.id)),
        (5100003, Some(112233))
    );
    assert_eq!(
        live.custom_role_name(ian.custom_role.as_ref().expect("role")),
        "admin custom"
    );
    let gus = live
        .person(&Email::from_live("gus@partner.example"))
        .expect("gus");
    assert_eq!(gus.permissions.can_see_time_spent, Some(true));
    assert_eq!(gus.permissions.can_edit_tags, Some(false));
    assert_eq!(
        live.shares.get(&11111111),
        Some(&vec![
            Share {
                target: ShareTarget {
                    kind: ShareKind::List,
                    id: "1427".into()
                },
                permission: SharePermission::Comment
            },
            Share {
                target: ShareTarget {
                    kind: ShareKind::Task,
                    id: "86a0x1q".into()
                },
                permission: SharePermission::Read
            },
        ])
    );
}

#[test]
fn pending_means_date_joined_is_null() {
    let live = reference_doc().to_live();
    let pending: Vec<&str> = live
        .people
        .iter()
        .filter(|p| p.pending)
        .map(|p| p.email.as_str())
        .collect();
    assert_eq!(pending, vec!["pending.person@acme.example"]);
}

#[test]
fn an_unknown_role_code_is_kept_apart() {
    let doc = json!({
        "team": {"id": 1, "name": "W", "members": [
            {"user": {"id": 7, "email": "limited@acme.example", "role": 5}}
        ]},
        "me": {"id": 7, "email": "limited@acme.example"}
    });
    let live = SnapshotDoc::from_json(doc.to_string().as_bytes())
        .expect("parses")
        .to_live();
    assert!(live.people.is_empty());
    assert_eq!(live.unknown_roles.len(), 1);
    assert_eq!(live.workspace_id, "1", "numeric ids become strings");
}

#[test]
fn a_snapshot_that_is_not_one_says_where() {
    let err = SnapshotDoc::from_json(b"{\"team\": {\"id\": \"1\", \"members\": [{\"user\": {}}]}}")
        .expect_err("no user id");
    assert!(
        err.0
            .starts_with("not a snapshot of a ClickUp Workspace (line 1, column"),
        "{err}"
    );
}

#[test]
fn an_invitee_becomes_a_pending_member_with_a_new_id() {
    let mut doc = reference_doc();
    let id = doc.next_user_id();
    assert_eq!(id, 57207540);
    let op = WriteOp::InviteMember {
        email: Email::from_live("new@acme.example"),
        admin: false,
        custom_role_id: Some(998877),
    };
    doc.apply(
        &op,
        &WriteOutcome::Invited { user_id: id },
        1_751_000_000_000,
    )
    .expect("applies");
    let live = doc.to_live();
    let new = live
        .person(&Email::from_live("new@acme.example"))
        .expect("invited");
    assert!(new.pending);
    assert_eq!((new.id, new.role), (id, BaseRole::Member));
    assert_eq!(
        new.custom_role.as_ref().and_then(|c| c.name.as_deref()),
        Some("member custom")
    );
}

#[test]
fn a_removed_member_leaves_every_group() {
    let mut doc = reference_doc();
    doc.apply(
        &WriteOp::RemoveMember { user_id: 4269250 },
        &WriteOutcome::Done,
        0,
    )
    .expect("applies");
    let live = doc.to_live();
    assert!(live.person(&Email::from_live("max@acme.example")).is_none());
    assert!(live.groups.expect("groups")[0].members.is_empty());
}

#[test]
fn guest_edits_and_shares_follow_writes() {
    let mut doc = reference_doc();
    let permissions = GuestPermissions {
        can_edit_tags: Some(true),
        ..GuestPermissions::default()
    };
    doc.apply(
        &WriteOp::EditGuest {
            user_id: 11111111,
            permissions,
            custom_role_id: None,
        },
        &WriteOutcome::Done,
        0,
    )
    .expect("edit");
    let target = ShareTarget {
        kind: ShareKind::Folder,
        id: "9".into(),
    };
    doc.apply(
        &WriteOp::AddShare {
            guest_id: 11111111,
            share: Share {
                target: target.clone(),
                permission: SharePermission::Edit,
            },
        },
        &WriteOutcome::Done,
        0,
    )
    .expect("share");
    doc.apply(
        &WriteOp::RemoveShare {
            guest_id: 11111111,
            target: ShareTarget {
                kind: ShareKind::List,
                id: "1427".into(),
            },
        },
        &WriteOutcome::Done,
        0,
    )
    .expect("unshare");
    let live = doc.to_live();
    let gus = live
        .person(&Email::from_live("gus@partner.example"))
        .expect("gus");
    assert_eq!(gus.permissions.can_edit_tags, Some(true));
    assert_eq!(
        gus.permissions.can_see_time_spent,
        Some(true),
        "other flags kept"
    );
    let shares = &live.shares[&11111111];
    assert_eq!(shares.len(), 2);
    assert!(
        shares
            .iter()
            .any(|s| s.target == target && s.permission == SharePermission::Edit)
    );
}

#[test]
fn sharing_with_a_member_is_refused() {
    let mut doc = reference_doc();
    let result = doc.apply(
        &WriteOp::AddShare {
            guest_id: 4269250,
            share: Share {
                target: ShareTarget {
                    kind: ShareKind::List,
                    id: "1".into(),
                },
                permission: SharePermission::Read,
            },
        },
        &WriteOutcome::Done,
        0,
    );
    assert!(result.is_err());
}

#[test]
fn a_snapshot_round_trips_through_its_json() {
    let doc = reference_doc();
    let again = SnapshotDoc::from_json(&doc.to_json()).expect("parses");
    assert_eq!(doc, again);
    assert_eq!(doc.to_live(), again.to_live());
}

#[test]
fn ids_in_paths_are_checked_and_encoded() {
    use crate::clickup::wire::api::{check_ids, request, segment};
    assert_eq!(segment("DEV-42"), "DEV-42");
    assert_eq!(segment("a/../b?x=1 #"), "a%2F%2E%2E%2Fb%3Fx%3D1%20%23");
    assert_eq!(
        segment("9.1"),
        "9%2E1",
        "no dot survives, so no segment is `..`"
    );
    let share = |kind, id: &str| WriteOp::AddShare {
        guest_id: 7,
        share: Share {
            target: ShareTarget {
                kind,
                id: id.to_owned(),
            },
            permission: SharePermission::Read,
        },
    };
    assert!(check_ids(&share(ShareKind::List, "901")).is_ok());
    assert_eq!(
        check_ids(&share(ShareKind::Folder, "9/../1"))
            .expect_err("not digits")
            .0,
        "folder id \"9/../1\" is not a ClickUp folder id"
    );
    assert!(check_ids(&share(ShareKind::Task, "DEV-42")).is_ok());
    assert!(check_ids(&WriteOp::RemoveMember { user_id: -1 }).is_err());
    let (_, path, _) = request(&share(ShareKind::Task, "a b/c"), "9006054115");
    assert_eq!(path, "task/a%20b%2Fc/guest/7");
}

#[test]
fn a_numeric_permission_level_is_read_as_its_name() {
    let answer = br#"{"guest": {"user": {"id": 5}, "shared": {"tasks": [], "lists": [{"id": 9, "permission_level": 4}], "folders": [{"id": "8", "permission_level": "comment"}]}}}"#;
    let detail = crate::clickup::wire::api::parse_guest(answer).expect("decodes");
    let levels: Vec<SharePermission> = detail
        .shared
        .shares()
        .iter()
        .map(|s| s.permission)
        .collect();
    assert_eq!(
        levels,
        vec![SharePermission::Comment, SharePermission::Edit]
    );
    let unknown = br#"{"guest": {"user": {"id": 5}, "shared": {"lists": [{"id": 9, "permission_level": 2}]}}}"#;
    let err = crate::clickup::wire::api::parse_guest(unknown).expect_err("2 is no level");
    assert!(
        err.0
            .contains("permission_level 2 is none of 1 (read), 3 (comment), 4 (edit), 5 (create)"),
        "{}",
        err.0
    );
}

/// Read straight into the model, a snapshot gives the very model its document gives, and the
/// same subscription and seats.
#[test]
fn a_snapshot_read_into_the_model_equals_its_document_s_model() {
    let text = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/acme/workspace.snapshot.json"
    ))
    .expect("example");
    let mut doc = SnapshotDoc::from_json(&text).expect("doc");
    doc.plan = Some(crate::clickup::wire::WorkspacePlan {
        plan_name: Some("Enterprise".into()),
        plan_id: Some(4),
    });
    let text = doc.to_json();
    let read = SnapshotDoc::live_from_reader(&text[..]).expect("read");
    let doc = SnapshotDoc::from_json(&text).expect("doc");
    assert_eq!(read.plan, doc.plan);
    assert_eq!(read.seats, doc.seats);
    assert_eq!(
        crate::plan::live_fingerprint(&read.live),
        crate::plan::live_fingerprint(&doc.into_live())
    );
    let err = SnapshotDoc::live_from_reader(
        &b"{\"team\": {\"id\": \"1\", \"members\": [{\"user\": {}}]}}"[..],
    )
    .expect_err("no user id");
    assert!(
        err.0
            .starts_with("not a snapshot of a ClickUp Workspace (line 1"),
        "{}",
        err.0
    );
}

#[test]
fn a_negative_seat_count_is_an_answer_that_cannot_be_read_and_names_its_field() {
    let answer = json!({
        "members": {"filled_members_seats": -50, "total_member_seats": -50, "empty_member_seats": 0},
        "guests": {"filled_guest_seats": 2, "total_guest_seats": 50, "empty_guest_seats": 48}
    });
    let err = crate::clickup::wire::api::parse_seats(answer.to_string().as_bytes())
        .expect_err("negative seats");
    assert!(
        err.0.contains("GET /team/{id}/seats")
            && err.0.contains("members.filled_members_seats")
            && err.0.contains("0 or more"),
        "{}",
        err.0
    );
    let fine = json!({
        "members": {"filled_members_seats": "9", "total_member_seats": 9},
        "guests": {"filled_guest_seats": 0, "total_guest_seats": 50}
    });
    let seats = crate::clickup::wire::api::parse_seats(fine.to_string().as_bytes()).expect("seats");
    assert_eq!(seats.members.filled_members_seats, 9);
}
