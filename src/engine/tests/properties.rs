//! Property: for any file and any Workspace, applying the plan and planning again gives no
//! changes, nobody is invited twice, and the owner, the token's user and protected people are
//! never touched.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::clickup::snapshot::SnapshotWorkspace;
use crate::clickup::wire::SnapshotDoc;
use crate::clickup::{WriteOp, Written, WsError};
use crate::config;
use crate::engine::Observer;
use crate::engine::execute::{self, Failure, Ids};
use crate::model::Email;
use crate::plan::{Change, Managed, compute, guards};
use crate::stop::StopSignal;

const PEOPLE: usize = 8;
const TARGETS: [(&str, &str); 4] = [("list", "1"), ("list", "2"), ("folder", "3"), ("task", "4")];
const PERMISSIONS: [&str; 4] = ["read", "comment", "edit", "create"];
const FLAGS: [&str; 5] = [
    "can_see_time_spent",
    "can_see_time_estimated",
    "can_edit_tags",
    "can_create_views",
    "can_see_points_estimated",
];

fn person_email(i: usize) -> String {
    format!("p{i}@acme.example")
}

/// Someone in the live Workspace.
#[derive(Debug, Clone)]
struct LivePerson {
    /// 0 member, 1 admin, 2 member with "Project Lead", 3 admin with "Ops Admin", 4 guest,
    /// 5 guest with "Client Viewer".
    role: u8,
    pending: bool,
    flags: [Option<bool>; 5],
    shares: Vec<(usize, usize)>,
}

/// Someone in the file.
#[derive(Debug, Clone)]
enum Wanted {
    /// 0 member, 1 admin, 2 "project lead", 3 "OPS ADMIN".
    Member(u8),
    Guest {
        flags: [Option<bool>; 5],
        custom: bool,
        access: Option<Vec<(usize, usize)>>,
    },
}

#[derive(Debug, Clone)]
struct Scenario {
    live: Vec<Option<LivePerson>>,
    wanted: Vec<Option<Wanted>>,
    authoritative: bool,
    list_owner: bool,
    list_me: bool,
    /// Indexes of people protected (only among those the file does not list).
    protected: Vec<bool>,
    managed: Vec<bool>,
    live_groups: Vec<(String, Vec<usize>)>,
    wanted_groups: Option<Vec<(String, Vec<usize>)>>,
}

fn flags() -> impl Strategy<Value = [Option<bool>; 5]> {
    proptest::array::uniform5(proptest::option::of(any::<bool>()))
}

fn shares() -> impl Strategy<Value = Vec<(usize, usize)>> {
    proptest::collection::btree_map(0..TARGETS.len(), 0..PERMISSIONS.len(), 0..3)
        .prop_map(|m| m.into_iter().collect())
}

fn live_person() -> impl Strategy<Value = LivePerson> {
    (0u8..6, any::<bool>(), flags(), shares()).prop_map(|(role, pending, flags, shares)| {
        LivePerson {
            role,
            pending,
            flags,
            shares,
        }
    })
}

fn wanted() -> impl Strategy<Value = Wanted> {
    prop_oneof![
        (0u8..4).prop_map(Wanted::Member),
        (flags(), any::<bool>(), proptest::option::of(shares())).prop_map(
            |(flags, custom, access)| Wanted::Guest {
                flags,
                custom,
                access
            }
        ),
    ]
}

fn group_names() -> impl Strategy<Value = Vec<(String, Vec<usize>)>> {
    proptest::collection::btree_map(
        prop_oneof![Just("Eng"), Just("Design"), Just("Ops")],
        proptest::collection::btree_set(0..PEOPLE, 0..4),
        0..3,
    )
    .prop_map(|m| {
        m.into_iter()
            .map(|(n, s)| (n.to_owned(), s.into_iter().collect()))
            .collect()
    })
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        proptest::collection::vec(proptest::option::of(live_person()), PEOPLE),
        proptest::collection::vec(proptest::option::of(wanted()), PEOPLE),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec(any::<bool>(), PEOPLE),
        proptest::collection::vec(any::<bool>(), PEOPLE),
        group_names(),
        proptest::option::of(group_names()),
    )
        .prop_map(
            |(live, wanted, authoritative, list_owner, list_me, protected, managed, lg, wg)| {
                Scenario {
                    live,
                    wanted,
                    authoritative,
                    list_owner,
                    list_me,
                    protected,
                    managed,
                    live_groups: lg,
                    wanted_groups: wg,
                }
            },
        )
}

fn flag_fields(flags: &[Option<bool>; 5], into: &mut serde_json::Map<String, Value>) {
    for (key, value) in FLAGS.iter().zip(flags) {
        if let Some(v) = value {
            into.insert((*key).to_owned(), json!(v));
        }
    }
}

fn snapshot(s: &Scenario) -> SnapshotDoc {
    let user = |id: i64, email: &str, role: i64, custom: Value, pending: bool| {
        json!({
            "id": id, "username": if pending { Value::Null } else { json!(format!("User {id}")) },
            "email": email, "color": null, "profilePicture": null, "initials": "U",
            "role": role, "custom_role": custom, "last_active": null,
            "date_joined": if pending { Value::Null } else { json!("1679496177299") },
            "date_invited": "1679495796796"
        })
    };
    let mut members = vec![
        json!({ "user": user(1, "olivia@acme.example", 1, Value::Null, false) }),
        json!({ "user": user(2, "ops@acme.example", 2, Value::Null, false) }),
    ];
    let mut guests = Vec::new();
    for (i, p) in s.live.iter().enumerate() {
        let Some(p) = p else { continue };
        let id = 10 + i as i64;
        let (role, custom) = match p.role {
            0 => (3, Value::Null),
            1 => (2, Value::Null),
            2 => (3, json!({"id": 100, "name": "Project Lead"})),
            3 => (2, json!(101)),
            4 => (4, Value::Null),
            _ => (4, json!({"id": 102, "name": "Client Viewer"})),
        };
        let mut entry = serde_json::Map::new();
        entry.insert(
            "user".into(),
            user(id, &person_email(i), role, custom, p.pending),
        );
        if role == 4 {
            flag_fields(&p.flags, &mut entry);
            let mut shared = json!({"tasks": [], "lists": [], "folders": []});
            for (t, perm) in &p.shares {
                let (kind, tid) = TARGETS[*t];
                shared[format!("{kind}s")]
                    .as_array_mut()
                    .expect("array")
                    .push(json!({"id": tid, "permission_level": PERMISSIONS[*perm]}));
            }
            guests.push(json!({"user": {"id": id}, "shared": shared}));
        }
        members.push(Value::Object(entry));
    }
    let groups: Vec<Value> = s
        .live_groups
        .iter()
        .enumerate()
        .map(|(g, (name, people))| {
            let members: Vec<Value> = people
                .iter()
                .filter(|i| s.live[**i].is_some())
                .map(|i| json!({"id": 10 + *i as i64, "email": person_email(*i)}))
                .collect();
            json!({"id": format!("group-{g}"), "name": name, "handle": null, "members": members})
        })
        .collect();
    let doc = json!({
        "team": {"id": "900", "name": "Acme", "members": members},
        "custom_roles": [
            {"id": 100, "name": "Project Lead", "inherited_role": 3},
            {"id": 101, "name": "Ops Admin", "inherited_role": 2},
            {"id": 102, "name": "Client Viewer", "inherited_role": 4}
        ],
        "groups": groups,
        "me": {"id": 2, "email": "ops@acme.example"},
        "guests": guests
    });
    SnapshotDoc::from_json(doc.to_string().as_bytes()).expect("generated snapshot parses")
}

fn yaml(s: &Scenario) -> String {
    let mut y = String::from("version: 1\nworkspace:\n  id: \"900\"\npolicy:\n");
    y.push_str(if s.authoritative {
        "  mode: authoritative\n"
    } else {
        "  mode: additive\n"
    });
    let protected: Vec<String> = (0..PEOPLE)
        .filter(|i| s.protected[*i] && s.wanted[*i].is_none())
        .map(person_email)
        .collect();
    y.push_str(&format!(
        "  max_removals: 1000\n  protected: [{}]\n",
        protected.join(", ")
    ));

    let mut members = Vec::new();
    if s.list_owner {
        members.push("  - email: olivia@acme.example\n    role: owner\n".to_owned());
    }
    if s.list_me {
        members.push("  - email: OPS@acme.example\n    role: admin\n".to_owned());
    }
    let mut guests = Vec::new();
    for (i, w) in s.wanted.iter().enumerate() {
        match w {
            None => {}
            Some(Wanted::Member(role)) => {
                let role = ["member", "admin", "project lead", "OPS ADMIN"][*role as usize];
                members.push(format!(
                    "  - email: {}\n    role: {role}\n",
                    person_email(i)
                ));
            }
            Some(Wanted::Guest {
                flags,
                custom,
                access,
            }) => {
                let mut g = format!("  - email: {}\n", person_email(i));
                let set: Vec<String> = FLAGS
                    .iter()
                    .zip(flags)
                    .filter_map(|(key, value)| value.map(|v| format!("{key}: {v}")))
                    .collect();
                g.push_str(&format!("    permissions: {{{}}}\n", set.join(", ")));
                if *custom {
                    g.push_str("    custom_role: client viewer\n");
                }
                if let Some(access) = access {
                    let entries: Vec<String> = access
                        .iter()
                        .map(|(t, perm)| {
                            let (kind, id) = TARGETS[*t];
                            format!("{{{kind}: \"{id}\", permission: {}}}", PERMISSIONS[*perm])
                        })
                        .collect();
                    g.push_str(&format!("    access: [{}]\n", entries.join(", ")));
                }
                guests.push(g);
            }
        }
    }
    for (key, entries) in [("members", members), ("guests", guests)] {
        if entries.is_empty() {
            y.push_str(&format!("{key}: []\n"));
        } else {
            y.push_str(&format!("{key}:\n{}", entries.concat()));
        }
    }
    if let Some(groups) = &s.wanted_groups {
        let entries: Vec<String> = groups
            .iter()
            .map(|(name, people)| {
                let listed: Vec<String> = people
                    .iter()
                    .filter(|i| s.wanted[**i].is_some())
                    .map(|i| person_email(*i))
                    .collect();
                format!("  - name: {name}\n    members: [{}]\n", listed.join(", "))
            })
            .collect();
        if entries.is_empty() {
            y.push_str("groups: []\n");
        } else {
            y.push_str(&format!("groups:\n{}", entries.concat()));
        }
    }
    y
}

/// Records every write, to check that nobody is invited twice.
#[derive(Default)]
struct Log {
    writes: Vec<WriteOp>,
    failures: Vec<String>,
}

impl Observer for Log {
    fn change_started(&mut self, _: usize, _: &Change) {}

    fn written(
        &mut self,
        _: &Change,
        op: &WriteOp,
        _: &Written,
        _: std::time::Duration,
    ) -> Result<(), crate::engine::Error> {
        self.writes.push(op.clone());
        Ok(())
    }

    fn write_failed(&mut self, _: &Change, _: &WriteOp, _: &WsError, _: std::time::Duration) {}

    fn change_finished(&mut self, _: usize, change: &Change, result: &Result<(), Failure>) {
        if let Err(f) = result {
            self.failures.push(format!(
                "{} {}: {}",
                change.action().key(),
                change.subject(),
                f.error
            ));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn applying_the_plan_converges_and_spares_the_owner_me_and_protected(s in scenario()) {
        let src = yaml(&s);
        let file = config::parse_str(&src).map_err(|d| TestCaseError::fail(format!("{d:?}\n{src}")))?;
        let doc = snapshot(&s);
        let live = doc.to_live();
        let managed = Managed {
            people: (0..PEOPLE)
                .filter(|i| s.managed[*i])
                .map(|i| Email::from_live(&person_email(i)))
                .collect(),
            groups: Default::default(),
        };
        let plan = compute(&file, &live, &managed, time::macros::datetime!(2026-12-01 0:00 UTC))
            .map_err(|e| TestCaseError::fail(format!("{e:?}\n{src}")))?;
        let violations = guards::check(&plan, &file, &live);
        prop_assert!(violations.is_empty(), "{violations:?}\n{src}");

        let workspace = SnapshotWorkspace::in_memory(doc);
        let mut ids = Ids::new(live.people.iter().map(|p| (p.email.clone(), p.id)));
        let mut log = Log::default();
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let report = runtime.block_on(execute::send(&plan, &workspace, &mut ids, &mut log, execute::Options { parallelism: 3, allow_replace: true, free_first: Vec::new() }, &StopSignal::default()));
        prop_assert!(log.failures.is_empty(), "{:?}\n{src}", log.failures);
        prop_assert!(report.stopped.is_none());

        let mut invited: BTreeMap<&Email, usize> = BTreeMap::new();
        for op in &log.writes {
            if let WriteOp::InviteMember { email, .. } | WriteOp::InviteGuest { email, .. } = op {
                *invited.entry(email).or_default() += 1;
            }
        }
        prop_assert!(invited.values().all(|n| *n == 1), "invited twice: {invited:?}");
        for p in live.people.iter().filter(|p| p.pending) {
            let replaced = plan.changes.iter().any(|c| matches!(c, Change::Replace(r) if r.email == p.email));
            prop_assert!(replaced || !invited.contains_key(&p.email), "pending {} invited again", p.email);
        }

        let after = workspace.doc().to_live();
        let again = compute(&file, &after, &managed, time::macros::datetime!(2026-12-01 0:00 UTC))
            .map_err(|e| TestCaseError::fail(format!("{e:?}\n{src}")))?;
        prop_assert!(again.changes.is_empty(), "second plan not empty: {:?}\n{src}", again.changes);

        let untouchable: Vec<Email> = std::iter::once(Email::from_live("olivia@acme.example"))
            .chain(std::iter::once(Email::from_live("ops@acme.example")))
            .chain(file.policy.protected.iter().map(|p| p.value.clone()))
            .collect();
        for email in &untouchable {
            prop_assert_eq!(live.person(email), after.person(email), "{} was touched", email);
        }
    }
}
