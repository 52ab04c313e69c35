//! The plan's summary line and the markdown size cap.

use crate::config::Mode;
use crate::model::Email;
use crate::plan::{Census, Change, Invite, Kind, Plan, Remove, RemoveReason, Seat, TargetRole};
use crate::render::json::to_json;
use crate::render::{Context, markdown, plan_line};

fn plan(changes: Vec<Change>) -> Plan {
    Plan {
        workspace_id: "1".into(),
        workspace_name: "W".into(),
        mode: Mode::Authoritative,
        max_removals: 5,
        changes,
        unmanaged: Vec::new(),
        pending: Vec::new(),
        census: Census::default(),
        live_fingerprint: String::new(),
        config_digest: String::new(),
        drift: Default::default(),
    }
}

fn invite(i: usize) -> Change {
    Change::Invite(Invite {
        email: Email::from_live(&format!("person.number.{i}@acme.example")),
        seat: Seat::Member {
            role: TargetRole::Member,
        },
    })
}

#[test]
fn the_plan_line_counts_the_three_main_actions_always() {
    let ctx = Context {
        file_name: "members.yaml".into(),
    };
    let line = |p: Plan| plan_line(&to_json(&p, None, &ctx));
    assert_eq!(
        line(plan(vec![])),
        "Plan: 0 to invite, 0 to change, 0 to remove."
    );
    let remove = Change::Remove(Remove {
        email: Email::from_live("x@acme.example"),
        user_id: 1,
        kind: Kind::Member,
        pending: false,
        reason: RemoveReason::NotListed,
    });
    assert_eq!(
        line(plan(vec![invite(1), invite(2), remove])),
        "Plan: 2 to invite, 0 to change, 1 to remove."
    );
}

#[test]
fn a_long_markdown_plan_is_cut_under_60_kb_and_says_so() {
    let big = plan((0..5000).map(invite).collect());
    let mut out = Vec::new();
    let ctx = Context {
        file_name: "members.yaml".into(),
    };
    markdown(&mut out, &to_json(&big, None, &ctx), &ctx).expect("render");
    let text = String::from_utf8(out).expect("utf8");
    assert!(text.len() < 60 * 1024, "{} bytes", text.len());
    assert!(text.contains("The details were cut"), "no note");
    assert!(text.contains("</details>"), "details closed");
    assert!(text.contains("Plan: 5000 to invite"), "verdict kept");
}
