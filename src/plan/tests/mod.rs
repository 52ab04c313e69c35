//! Table-driven tests of the pure plan and its guards: no fakes, no files.

use crate::config::{self, MembersFile};
use crate::live::{CustomRole, CustomRoleRef, Live, LiveGroup, Me, Person};
use crate::model::{
    BaseRole, Email, GuestPermissions, Share, ShareKind, SharePermission, ShareTarget,
};
use crate::plan::{Change, Managed, Plan, Seat, ShareChange, compute, guards};

const OWNER: &str = "olivia@acme.example";
const ME: &str = "ops@acme.example";

fn email(s: &str) -> Email {
    Email::from_live(s)
}

/// A desired-state file: the header plus `body`.
fn file(body: &str) -> MembersFile {
    let src = format!("version: 1\nworkspace:\n  id: \"900\"\n{body}");
    config::parse_str(&src).unwrap_or_else(|d| panic!("test file is invalid: {d:?}\n{src}"))
}

/// A live Workspace: the owner, the token's user (an admin), three custom roles, no groups.
struct W(Live);

impl W {
    fn new() -> W {
        let mut w = W(Live {
            workspace_id: "900".into(),
            workspace_name: "Acme".into(),
            me: Me {
                id: 2,
                email: email(ME),
            },
            people: Vec::new(),
            unknown_roles: Vec::new(),
            custom_roles: Some(vec![
                CustomRole {
                    id: 100,
                    name: "Project Lead".into(),
                    inherited: Some(BaseRole::Member),
                },
                CustomRole {
                    id: 101,
                    name: "Ops Admin".into(),
                    inherited: Some(BaseRole::Admin),
                },
                CustomRole {
                    id: 102,
                    name: "Client Viewer".into(),
                    inherited: Some(BaseRole::Guest),
                },
            ]),
            groups: Some(Vec::new()),
            shares: Default::default(),
            index: Default::default(),
        });
        w = w
            .with(OWNER, 1, BaseRole::Owner)
            .with(ME, 2, BaseRole::Admin);
        w
    }

    fn with(mut self, e: &str, id: i64, role: BaseRole) -> W {
        self.0.people.push(Person {
            id,
            email: email(e),
            username: Some(format!("user {id}")),
            role,
            custom_role: None,
            pending: false,
            permissions: GuestPermissions::default(),
        });
        self.0.people.sort_by(|a, b| a.email.cmp(&b.email));
        self
    }

    fn person(&mut self, e: &str) -> &mut Person {
        let e = email(e);
        self.0
            .people
            .iter_mut()
            .find(|p| p.email == e)
            .expect("person in the test Workspace")
    }

    fn pending(mut self, e: &str) -> W {
        let p = self.person(e);
        p.pending = true;
        p.username = None;
        self
    }

    fn custom(mut self, e: &str, id: i64) -> W {
        self.person(e).custom_role = Some(CustomRoleRef { id, name: None });
        self
    }

    fn flag(mut self, e: &str, key: &str, value: bool) -> W {
        let flag = crate::model::GuestFlag::from_key(key).expect("flag");
        self.person(e).permissions.set(flag, Some(value));
        self
    }

    fn share(mut self, e: &str, kind: ShareKind, id: &str, permission: SharePermission) -> W {
        let user = self.person(e).id;
        self.0.shares.entry(user).or_default().push(Share {
            target: ShareTarget {
                kind,
                id: id.into(),
            },
            permission,
        });
        self
    }

    fn group(mut self, name: &str, id: &str, members: &[&str]) -> W {
        let members = members
            .iter()
            .map(|e| {
                let p = self.person(e);
                (p.id, p.email.clone())
            })
            .collect();
        self.0.groups.get_or_insert_with(Vec::new).push(LiveGroup {
            id: id.into(),
            name: name.into(),
            handle: None,
            members,
        });
        self
    }
}

fn managed(people: &[&str], groups: &[&str]) -> Managed {
    Managed {
        people: people.iter().map(|e| email(e)).collect(),
        groups: groups.iter().map(|g| g.to_lowercase()).collect(),
    }
}

/// A change in one line, for comparing plans in tables.
fn line(change: &Change) -> String {
    match change {
        Change::Invite(i) => match &i.seat {
            Seat::Member { role } => format!("invite member {} as {role}", i.email),
            Seat::Guest { shares, .. } => {
                format!("invite guest {} with {} shares", i.email, shares.len())
            }
        },
        Change::Replace(r) => format!("replace {} as {}", r.email, r.seat.kind().key()),
        Change::UpdateMember(u) => format!("update {}: {} -> {}", u.email, u.from, u.to),
        Change::UpdateGuest(u) => {
            let mut parts: Vec<String> = u
                .permissions
                .iter()
                .map(|f| format!("{}={}", f.flag.key(), f.to))
                .collect();
            if let Some(r) = &u.custom_role {
                parts.push(format!("custom_role={}", r.to.name));
            }
            for s in &u.shares {
                parts.push(match s {
                    ShareChange::Add(s) => format!("+{}", s.target),
                    ShareChange::Change { target, to, .. } => format!("~{target}={}", to.key()),
                    ShareChange::Remove(s) => format!("-{}", s.target),
                });
            }
            format!("update guest {}: {}", u.email, parts.join(" "))
        }
        Change::Remove(r) => format!("remove {} {}", r.kind.key(), r.email),
        Change::CreateGroup(c) => format!("create group {} [{}]", c.name, emails(&c.members)),
        Change::UpdateGroup(u) => {
            let removed: Vec<Email> = u.remove.iter().map(|(_, e)| e.clone()).collect();
            format!(
                "update group {} +[{}] -[{}]{}",
                u.name,
                emails(&u.add),
                emails(&removed),
                u.handle
                    .as_ref()
                    .map_or(String::new(), |(_, h)| format!(" handle={h}"))
            )
        }
        Change::DeleteGroup(d) => format!("delete group {}", d.name),
    }
}

fn emails(list: &[Email]) -> String {
    list.iter()
        .map(Email::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

fn lines(plan: &Plan) -> Vec<String> {
    plan.changes.iter().map(line).collect()
}

fn plan_of(body: &str, w: W, m: &Managed) -> Plan {
    compute(
        &file(body),
        &w.0,
        m,
        time::macros::datetime!(2026-12-01 0:00 UTC),
    )
    .unwrap_or_else(|e| panic!("plan failed: {e:?}"))
}

const OWNER_AND_ME: &str = "members:\n  - email: olivia@acme.example\n    role: owner\n  - email: ops@acme.example\n    role: admin\n";

#[test]
fn plan_rules_table() {
    struct Case {
        name: &'static str,
        body: String,
        live: W,
        managed: Managed,
        want: Vec<&'static str>,
    }
    let m = |rest: &str| format!("{OWNER_AND_ME}{rest}");
    let none = || managed(&[], &[]);
    let cases = vec![
        Case {
            name: "a matching workspace gives an empty plan",
            body: m(""),
            live: W::new(),
            managed: none(),
            want: vec![],
        },
        Case {
            name: "a newcomer is invited with the default member role",
            body: m("  - email: new@acme.example\n"),
            live: W::new(),
            managed: none(),
            want: vec!["invite member new@acme.example as member"],
        },
        Case {
            name: "admins and custom roles are invited with their role",
            body: m(
                "  - email: a@acme.example\n    role: admin\n  - email: b@acme.example\n    role: project lead\n",
            ),
            live: W::new(),
            managed: none(),
            want: vec![
                "invite member a@acme.example as admin",
                "invite member b@acme.example as Project Lead",
            ],
        },
        Case {
            name: "emails are compared case-insensitively",
            body: m("  - email: Max@Acme.Example\n"),
            live: W::new().with("max@acme.example", 10, BaseRole::Member),
            managed: none(),
            want: vec![],
        },
        Case {
            name: "a role change between member and admin is an update",
            body: m("  - email: max@acme.example\n    role: admin\n"),
            live: W::new().with("max@acme.example", 10, BaseRole::Member),
            managed: none(),
            want: vec!["update max@acme.example: member -> admin"],
        },
        Case {
            name: "a custom role is matched by name case-insensitively",
            body: m("  - email: cora@acme.example\n    role: PROJECT LEAD\n"),
            live: W::new()
                .with("cora@acme.example", 11, BaseRole::Member)
                .custom("cora@acme.example", 100),
            managed: none(),
            want: vec![],
        },
        Case {
            name: "a member moves to a custom role",
            body: m("  - email: dan@acme.example\n    role: Ops Admin\n"),
            live: W::new().with("dan@acme.example", 12, BaseRole::Member),
            managed: none(),
            want: vec!["update dan@acme.example: member -> Ops Admin"],
        },
        Case {
            name: "a custom role is dropped back to plain member",
            body: m("  - email: cora@acme.example\n"),
            live: W::new()
                .with("cora@acme.example", 11, BaseRole::Member)
                .custom("cora@acme.example", 100),
            managed: none(),
            want: vec!["update cora@acme.example: Project Lead -> member"],
        },
        Case {
            name: "a pending invitee is not invited again",
            body: m("  - email: p@acme.example\n"),
            live: W::new()
                .with("p@acme.example", 13, BaseRole::Member)
                .pending("p@acme.example"),
            managed: none(),
            want: vec![],
        },
        Case {
            name: "a pending invitee whose role changes is edited, like a member",
            body: m("  - email: p@acme.example\n    role: admin\n"),
            live: W::new()
                .with("p@acme.example", 13, BaseRole::Member)
                .pending("p@acme.example"),
            managed: none(),
            want: vec!["update p@acme.example: member -> admin"],
        },
        Case {
            name: "a member listed as a guest is replaced",
            body: m("guests:\n  - email: tom@acme.example\n"),
            live: W::new().with("tom@acme.example", 14, BaseRole::Member),
            managed: none(),
            want: vec!["replace tom@acme.example as guest"],
        },
        Case {
            name: "a guest listed as a member is replaced",
            body: m("  - email: gus@partner.example\n"),
            live: W::new().with("gus@partner.example", 15, BaseRole::Guest),
            managed: none(),
            want: vec!["replace gus@partner.example as member"],
        },
        Case {
            name: "a new guest is invited with its shares",
            body: m(
                "guests:\n  - email: zoe@partner.example\n    access:\n      - list: \"1\"\n        permission: read\n",
            ),
            live: W::new(),
            managed: none(),
            want: vec!["invite guest zoe@partner.example with 1 shares"],
        },
        Case {
            name: "guest permission changes touch only the listed flags",
            body: m(
                "guests:\n  - email: gus@partner.example\n    permissions:\n      can_edit_tags: true\n      can_see_time_spent: true\n",
            ),
            live: W::new()
                .with("gus@partner.example", 15, BaseRole::Guest)
                .flag("gus@partner.example", "can_edit_tags", false)
                .flag("gus@partner.example", "can_see_time_spent", true)
                .flag("gus@partner.example", "can_create_views", true),
            managed: none(),
            want: vec!["update guest gus@partner.example: can_edit_tags=true"],
        },
        Case {
            name: "a guest custom role change is an update",
            body: m("guests:\n  - email: gus@partner.example\n    custom_role: client viewer\n"),
            live: W::new().with("gus@partner.example", 15, BaseRole::Guest),
            managed: none(),
            want: vec!["update guest gus@partner.example: custom_role=Client Viewer"],
        },
        Case {
            name: "guest access adds, changes and removes shares",
            body: m(
                "guests:\n  - email: lena@agency.example\n    access:\n      - list: \"1\"\n        permission: comment\n      - folder: \"2\"\n        permission: read\n",
            ),
            live: W::new()
                .with("lena@agency.example", 16, BaseRole::Guest)
                .share(
                    "lena@agency.example",
                    ShareKind::List,
                    "1",
                    SharePermission::Read,
                )
                .share(
                    "lena@agency.example",
                    ShareKind::Task,
                    "3",
                    SharePermission::Edit,
                ),
            managed: none(),
            want: vec!["update guest lena@agency.example: +folder 2 ~list 1=comment -task 3"],
        },
        Case {
            name: "access left out is not managed",
            body: m("guests:\n  - email: lena@agency.example\n"),
            live: W::new()
                .with("lena@agency.example", 16, BaseRole::Guest)
                .share(
                    "lena@agency.example",
                    ShareKind::Task,
                    "3",
                    SharePermission::Edit,
                ),
            managed: none(),
            want: vec![],
        },
        Case {
            name: "additive mode leaves unlisted people alone",
            body: m(""),
            live: W::new().with("x@acme.example", 20, BaseRole::Member),
            managed: none(),
            want: vec![],
        },
        Case {
            name: "additive mode removes managed people dropped from the file",
            body: m(""),
            live: W::new().with("x@acme.example", 20, BaseRole::Member).with(
                "g@partner.example",
                21,
                BaseRole::Guest,
            ),
            managed: managed(&["x@acme.example", "g@partner.example"], &[]),
            want: vec![
                "remove member x@acme.example",
                "remove guest g@partner.example",
            ],
        },
        Case {
            name: "authoritative mode removes everyone unlisted",
            body: format!("policy:\n  mode: authoritative\n{}", m("")),
            live: W::new()
                .with("x@acme.example", 20, BaseRole::Member)
                .with("p@acme.example", 22, BaseRole::Member)
                .pending("p@acme.example"),
            managed: none(),
            want: vec![
                "remove member p@acme.example",
                "remove member x@acme.example",
            ],
        },
        Case {
            name: "authoritative mode never removes the owner, the token's user or protected people",
            body: "policy:\n  mode: authoritative\n  protected: [it@acme.example]\nmembers: []\n"
                .to_owned(),
            live: W::new().with("it@acme.example", 23, BaseRole::Admin),
            managed: none(),
            want: vec![],
        },
        Case {
            name: "groups are not managed without a groups key",
            body: format!("policy:\n  mode: authoritative\n{}", m("")),
            live: W::new().group("Old", "g1", &[]),
            managed: none(),
            want: vec![],
        },
        Case {
            name: "a missing group is created with its members",
            body: m(
                "  - email: ada@acme.example\n    role: admin\ngroups:\n  - name: Design\n    members: [ada@acme.example]\n",
            ),
            live: W::new().with("ada@acme.example", 30, BaseRole::Admin),
            managed: none(),
            want: vec!["create group Design [ada@acme.example]"],
        },
        Case {
            name: "group membership differences are added and removed",
            body: m(
                "  - email: ada@acme.example\n  - email: max@acme.example\n  - email: sam@acme.example\ngroups:\n  - name: engineering\n    members: [ada@acme.example, sam@acme.example]\n",
            ),
            live: W::new()
                .with("ada@acme.example", 30, BaseRole::Member)
                .with("max@acme.example", 31, BaseRole::Member)
                .with("sam@acme.example", 32, BaseRole::Member)
                .group(
                    "Engineering",
                    "g1",
                    &["ada@acme.example", "max@acme.example"],
                ),
            managed: none(),
            want: vec!["update group Engineering +[sam@acme.example] -[max@acme.example]"],
        },
        Case {
            name: "a group handle change is an update",
            body: m("groups:\n  - name: Engineering\n    handle: eng\n"),
            live: W::new().group("Engineering", "g1", &[]),
            managed: none(),
            want: vec!["update group Engineering +[] -[] handle=eng"],
        },
        Case {
            name: "people leaving the Workspace are not removed from their groups separately",
            body: format!(
                "policy:\n  mode: authoritative\n{}groups:\n  - name: Eng\n",
                m("")
            ),
            live: W::new().with("x@acme.example", 20, BaseRole::Member).group(
                "Eng",
                "g1",
                &["x@acme.example"],
            ),
            managed: none(),
            want: vec!["remove member x@acme.example"],
        },
        Case {
            name: "replaced people are added back to their groups",
            body: m(
                "guests:\n  - email: tom@acme.example\ngroups:\n  - name: Eng\n    members: [tom@acme.example]\n",
            ),
            live: W::new()
                .with("tom@acme.example", 14, BaseRole::Member)
                .group("Eng", "g1", &["tom@acme.example"]),
            managed: none(),
            want: vec![
                "replace tom@acme.example as guest",
                "update group Eng +[tom@acme.example] -[]",
            ],
        },
        Case {
            name: "authoritative mode deletes unlisted groups",
            body: format!("policy:\n  mode: authoritative\n{}groups: []\n", m("")),
            live: W::new().group("Old", "g1", &[]),
            managed: none(),
            want: vec!["delete group Old"],
        },
        Case {
            name: "additive mode deletes only the groups it manages",
            body: format!("{}groups: []\n", m("")),
            live: W::new().group("Ours", "g1", &[]).group("Theirs", "g2", &[]),
            managed: managed(&[], &["Ours"]),
            want: vec!["delete group Ours"],
        },
        Case {
            name: "changes come out in apply order, each kind sorted",
            body: format!(
                "policy:\n  mode: authoritative\n{}groups:\n  - name: B\n  - name: A\n",
                m(
                    "  - email: zed@acme.example\n  - email: amy@acme.example\n  - email: max@acme.example\n    role: admin\n"
                )
            ),
            live: W::new()
                .with("max@acme.example", 10, BaseRole::Member)
                .with("old@acme.example", 40, BaseRole::Member)
                .group("Gone", "g9", &[]),
            managed: none(),
            want: vec![
                "invite member amy@acme.example as member",
                "invite member zed@acme.example as member",
                "update max@acme.example: member -> admin",
                "create group A []",
                "create group B []",
                "remove member old@acme.example",
                "delete group Gone",
            ],
        },
    ];
    let mut failures = Vec::new();
    for case in cases {
        let plan = plan_of(&case.body, case.live, &case.managed);
        let got = lines(&plan);
        if got != case.want {
            failures.push(format!(
                "{}:\n  want {:?}\n  got  {:?}",
                case.name, case.want, got
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn additive_mode_reports_unlisted_people_as_unmanaged() {
    let w = W::new().with("x@acme.example", 20, BaseRole::Member);
    let plan = plan_of(OWNER_AND_ME, w, &managed(&[], &[]));
    assert_eq!(plan.unmanaged, vec![email("x@acme.example")]);
}

#[test]
fn pending_invitees_that_stay_are_listed() {
    let body = format!("{OWNER_AND_ME}  - email: p@acme.example\n");
    let w = W::new()
        .with("p@acme.example", 13, BaseRole::Member)
        .pending("p@acme.example");
    let plan = plan_of(&body, w, &managed(&[], &[]));
    assert_eq!(plan.pending, vec![email("p@acme.example")]);
}

fn errors_of(body: &str, w: W) -> Vec<String> {
    match compute(
        &file(body),
        &w.0,
        &Managed::default(),
        time::macros::datetime!(2026-12-01 0:00 UTC),
    ) {
        Ok(plan) => panic!("expected errors, got {:?}", lines(&plan)),
        Err(errors) => errors
            .iter()
            .map(|e| match e.loc {
                Some(loc) => format!("{loc}: {}", e.message),
                None => e.message.clone(),
            })
            .collect(),
    }
}

#[test]
fn an_unknown_custom_role_is_an_error_pointing_at_its_line() {
    let errors = errors_of(
        &format!("{OWNER_AND_ME}  - email: x@acme.example\n    role: Wizard\n"),
        W::new(),
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("10:11: x@acme.example: unknown role \"Wizard\""),
        "{errors:?}"
    );
    assert!(
        errors[0].contains("has: Client Viewer, Ops Admin, Project Lead"),
        "{errors:?}"
    );
}

#[test]
fn a_guest_custom_role_must_extend_the_guest_role() {
    let errors = errors_of(
        &format!(
            "{OWNER_AND_ME}guests:\n  - email: g@partner.example\n    custom_role: Project Lead\n"
        ),
        W::new(),
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("extends member, but here it must extend guest"),
        "{errors:?}"
    );
}

#[test]
fn a_member_custom_role_must_not_extend_the_guest_role() {
    let errors = errors_of(
        &format!("{OWNER_AND_ME}  - email: x@acme.example\n    role: client viewer\n"),
        W::new(),
    );
    assert!(
        errors[0].contains("must extend admin or member"),
        "{errors:?}"
    );
}

#[test]
fn role_owner_for_anyone_but_the_owner_is_an_error() {
    let errors = errors_of(
        "members:\n  - email: max@acme.example\n    role: owner\n",
        W::new().with("max@acme.example", 10, BaseRole::Member),
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with(
            "6:11: max@acme.example has role: owner, but the Workspace owner is olivia@acme.example"
        ),
        "{errors:?}"
    );
}

#[test]
fn a_file_for_another_workspace_is_an_error() {
    let mut w = W::new();
    w.0.workspace_id = "901".into();
    let errors = errors_of(OWNER_AND_ME, w);
    assert!(
        errors[0].starts_with("3:7: the file describes Workspace 900, but Workspace 901"),
        "{errors:?}"
    );
}

#[test]
fn a_workspace_name_mismatch_is_an_error() {
    let src = "version: 1\nworkspace:\n  id: \"900\"\n  name: Acme Corp\nmembers: []\n";
    let file = config::parse_str(src).expect("valid");
    let errors = compute(
        &file,
        &W::new().0,
        &Managed::default(),
        time::macros::datetime!(2026-12-01 0:00 UTC),
    )
    .expect_err("name mismatch");
    assert_eq!(errors[0].loc.map(|l| (l.line, l.col)), Some((4, 9)));
    assert!(
        errors[0].message.contains("is called \"Acme\""),
        "{errors:?}"
    );
}

#[test]
fn the_fingerprint_follows_the_live_workspace() {
    let a = plan_of(OWNER_AND_ME, W::new(), &Managed::default());
    let b = plan_of(OWNER_AND_ME, W::new(), &Managed::default());
    let c = plan_of(
        OWNER_AND_ME,
        W::new().with("x@acme.example", 9, BaseRole::Member),
        &Managed::default(),
    );
    assert_eq!(a.live_fingerprint, b.live_fingerprint);
    assert_ne!(a.live_fingerprint, c.live_fingerprint);
    assert!(a.live_fingerprint.starts_with("sha256:") && a.live_fingerprint.len() == 71);
}

#[test]
fn the_config_digest_ignores_comments_but_not_content() {
    let a = file("members: []\n");
    let b = file("# a comment\nmembers: [] # another\n");
    let c = file("members:\n  - email: a@acme.example\n");
    let d = file("members:\n  - email: b@acme.example\n  - email: a@acme.example\n");
    let e = file("members:\n  - email: A@acme.example\n  - email: b@acme.example\n");
    use crate::plan::compute::config_digest;
    assert_eq!(config_digest(&a), config_digest(&b));
    assert_ne!(config_digest(&a), config_digest(&c));
    assert_eq!(
        config_digest(&d),
        config_digest(&e),
        "order and case do not count"
    );
}

// ---- guards ------------------------------------------------------------------------------

fn violations(body: &str, w: W, m: &Managed) -> Vec<String> {
    let file = file(body);
    let plan = compute(&file, &w.0, m, time::macros::datetime!(2026-12-01 0:00 UTC)).expect("plan");
    guards::check(&plan, &file, &w.0)
        .into_iter()
        .map(|v| v.message)
        .collect()
}

#[test]
fn removal_cap_blocks_mass_delete() {
    let mut w = W::new();
    for i in 0..7 {
        w = w.with(&format!("p{i}@acme.example"), 100 + i, BaseRole::Member);
    }
    let v = violations(
        &format!("policy:\n  mode: authoritative\n{OWNER_AND_ME}"),
        w,
        &Managed::default(),
    );
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(
        v[0].starts_with("the plan would remove, replace or delete 7, more than policy.max_removals (5): remove p0@acme.example"),
        "{v:?}"
    );
}

#[test]
fn removal_cap_counts_replaces_and_group_deletes() {
    let w = W::new()
        .with("tom@acme.example", 14, BaseRole::Member)
        .with("x@acme.example", 20, BaseRole::Member)
        .group("Old", "g1", &[]);
    let body = format!(
        "policy:\n  mode: authoritative\n  max_removals: 2\n{OWNER_AND_ME}guests:\n  - email: tom@acme.example\ngroups: []\n"
    );
    let v = violations(&body, w, &Managed::default());
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(
        v[0].contains("delete 3, more than policy.max_removals (2)"),
        "{v:?}"
    );
}

#[test]
fn max_removals_zero_refuses_any_removal() {
    let w = W::new().with("x@acme.example", 20, BaseRole::Member);
    let v = violations(
        &format!("policy:\n  mode: authoritative\n  max_removals: 0\n{OWNER_AND_ME}"),
        w,
        &Managed::default(),
    );
    assert!(
        v[0].contains("more than policy.max_removals (0): remove x@acme.example"),
        "{v:?}"
    );
}

#[test]
fn the_owner_is_never_changed() {
    let v = violations(
        "members:\n  - email: olivia@acme.example\n    role: admin\n",
        W::new(),
        &Managed::default(),
    );
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(
        v[0].starts_with("olivia@acme.example is the Workspace owner"),
        "{v:?}"
    );
    assert!(
        v[0].contains("change their role from owner to admin (line 6 asks for it)"),
        "{v:?}"
    );
}

#[test]
fn the_owner_listed_as_a_guest_is_refused() {
    let v = violations(
        "guests:\n  - email: olivia@acme.example\n",
        W::new(),
        &Managed::default(),
    );
    assert!(
        v[0].starts_with("olivia@acme.example is the Workspace owner"),
        "{v:?}"
    );
}

#[test]
fn the_tokens_own_user_is_never_changed() {
    let v = violations(
        "members:\n  - email: olivia@acme.example\n    role: owner\n  - email: ops@acme.example\n",
        W::new(),
        &Managed::default(),
    );
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(
        v[0].starts_with("ops@acme.example is the token's own user"),
        "{v:?}"
    );
}

#[test]
fn protected_people_are_never_changed() {
    let w = W::new().with("it@acme.example", 23, BaseRole::Admin);
    let v = violations(
        &format!(
            "policy:\n  protected: [it@acme.example]\n{OWNER_AND_ME}  - email: it@acme.example\n"
        ),
        w,
        &Managed::default(),
    );
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(
        v[0].starts_with("it@acme.example is protected (policy.protected, line 5)"),
        "{v:?}"
    );
}

#[test]
fn protected_people_dropped_from_the_file_are_kept_in_additive_mode() {
    let w = W::new().with("it@acme.example", 23, BaseRole::Admin);
    let body = format!("policy:\n  protected: [it@acme.example]\n{OWNER_AND_ME}");
    let plan = plan_of(&body, w, &managed(&["it@acme.example"], &[]));
    assert!(plan.changes.is_empty(), "{:?}", lines(&plan));
}

#[test]
fn a_plan_within_the_guards_passes() {
    let w = W::new().with("x@acme.example", 20, BaseRole::Member);
    let v = violations(
        &format!("policy:\n  mode: authoritative\n{OWNER_AND_ME}  - email: new@acme.example\n"),
        w,
        &Managed::default(),
    );
    assert!(v.is_empty(), "{v:?}");
}

/// `GET /user` and the member list may disagree on the token user's email: the guard and the
/// removals go by id as well.
#[test]
fn the_tokens_user_and_the_owner_are_known_by_id_too() {
    // The member list shows the token's user (id 2) under another email.
    let mut w = W::new();
    w.person(ME).email = email("renamed@acme.example");
    w.0.people.sort_by(|a, b| a.email.cmp(&b.email));
    let body = "policy:\n  mode: authoritative\nmembers:\n  - email: olivia@acme.example\n    role: owner\n";
    let plan = plan_of(body, w, &Managed::default());
    assert!(plan.changes.is_empty(), "{:?}", lines(&plan));

    // A second entry that carries the owner's id under another email is never removed.
    let w = W::new().with("ghost@acme.example", 1, BaseRole::Member);
    let body = format!("policy:\n  mode: authoritative\n{OWNER_AND_ME}");
    let plan = plan_of(&body, w, &Managed::default());
    assert!(plan.changes.is_empty(), "{:?}", lines(&plan));

    // … nor changed: the guard refuses a change of it, by id.
    let w = W::new().with("ghost@acme.example", 1, BaseRole::Member);
    let v = violations(
        &format!("{OWNER_AND_ME}  - email: ghost@acme.example\n    role: admin\n"),
        w,
        &Managed::default(),
    );
    assert!(
        v.iter()
            .any(|m| m.starts_with("ghost@acme.example is the Workspace owner")),
        "{v:?}"
    );
}

/// The owner, the token's user and protected people are not taken out of user groups.
#[test]
fn untouchable_people_stay_in_their_groups() {
    let w = W::new()
        .with("it@acme.example", 23, BaseRole::Admin)
        .with("bob@acme.example", 24, BaseRole::Member)
        .group(
            "Ops",
            "g1",
            &[OWNER, ME, "it@acme.example", "bob@acme.example"],
        );
    let body = format!(
        "policy:\n  protected: [it@acme.example]\n{OWNER_AND_ME}  - email: it@acme.example\n    role: admin\n  - email: bob@acme.example\ngroups:\n  - name: Ops\n    members: []\n"
    );
    let plan = plan_of(&body, w, &Managed::default());
    assert_eq!(
        lines(&plan),
        vec!["update group Ops +[] -[bob@acme.example]".to_owned()]
    );
}
