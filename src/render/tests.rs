//! The plan's summary line, the notices at its top and the markdown size cap.

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
        unknown: Vec::new(),
        warnings: Vec::new(),
        expiring: Vec::new(),
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
    let ctx = ctx();
    let line = |p: Plan| plan_line(&to_json(&p, None, &ctx));
    assert_eq!(
        line(plan(vec![])),
        "Plan: 0 to invite, 0 to change, 0 to remove."
    );
    assert_eq!(
        line(plan(vec![invite(1), invite(2), remove(1)])),
        "Plan: 2 to invite, 0 to change, 1 to remove."
    );
}

fn remove(i: usize) -> Change {
    Change::Remove(Remove {
        email: Email::from_live(&format!("leaver.number.{i}@acme.example")),
        user_id: i as i64,
        kind: Kind::Member,
        pending: false,
        reason: RemoveReason::NotListed,
    })
}

fn ctx() -> Context {
    Context {
        file_name: "members.yaml".into(),
        saved_plan: Some("plan.json".into()),
        max_chars: crate::render::MAX_CHARS,
        held_back: false,
    }
}

fn markdown_of(json: &crate::render::json::JsonPlan) -> String {
    let mut out = Vec::new();
    markdown(&mut out, json, &ctx()).expect("render");
    String::from_utf8(out).expect("utf8")
}

#[test]
fn a_plan_of_twenty_thousand_people_fits_in_one_github_comment_and_says_what_was_cut() {
    let mut changes: Vec<Change> = (0..10_000).map(invite).collect();
    changes.extend((0..10_000).map(remove));
    let mut big = plan(changes);
    big.drift = (10_000..20_000).collect();
    let text = markdown_of(&to_json(&big, None, &ctx()));
    let chars = text.chars().count();
    assert!(chars <= super::markdown::MAX_CHARS, "{chars} characters");
    assert!(text.contains("Plan: 10000 to invite, 0 to change, 10000 to remove."));
    assert!(text.contains("</details>"), "details closed");
    let note = text
        .lines()
        .find(|l| l.contains("This comment was cut"))
        .expect("a note says what was cut");
    assert!(
        note.contains("lines were left out") && note.contains("`clickup-members show plan.json`"),
        "{note}"
    );
    // Every list that was cut says by how much, and the counts add up to the note's.
    let left_out: usize = text
        .lines()
        .filter_map(|l| l.strip_prefix("… and "))
        .filter_map(|l| l.split(' ').next()?.parse::<usize>().ok())
        .sum();
    assert!(
        note.contains(&format!("{left_out} lines were left out")),
        "{note}"
    );
}

#[test]
fn a_short_plan_is_not_cut() {
    let text = markdown_of(&to_json(&plan(vec![invite(1), remove(2)]), None, &ctx()));
    assert!(!text.contains("This comment was cut"), "{text}");
    assert!(text.contains("person.number.1@acme.example"));
}

#[test]
fn a_plan_apply_would_refuse_says_so_before_anything_else() {
    let mut json = to_json(&plan(vec![remove(1)]), None, &ctx());
    json.refused = vec!["the plan replaces 1 person (x@acme.example): …".into()];
    let text = markdown_of(&json);
    assert!(
        text.starts_with(
            "> :no_entry: **Apply on merge will refuse this plan:**\n> - the plan replaces 1 person"
        ),
        "{text}"
    );
}

#[test]
fn a_plan_made_from_the_recorded_workspace_says_so_on_its_first_line() {
    let mut json = to_json(&plan(vec![invite(1)]), None, &ctx());
    json.live_source = crate::render::json::LiveSource::State;
    json.recorded_at = Some("2026-11-30T10:00:00Z".into());
    let text = markdown_of(&json);
    let first = text.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("> **Planned without reading ClickUp")
            && first.contains("2026-11-30T10:00:00Z"),
        "{first}"
    );
}

#[test]
fn an_additive_plan_without_state_says_it_cannot_see_whom_it_manages() {
    let mut additive = plan(vec![invite(1)]);
    additive.mode = Mode::Additive;
    let json = to_json(&additive, None, &ctx());
    let mut out = Vec::new();
    crate::render::text(&mut anstream::StripStream::new(&mut out), &json, &ctx()).expect("render");
    let text = String::from_utf8(out).expect("utf8");
    let first = text.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("Note: No state file: this additive plan cannot see whom"),
        "{first}"
    );
    let with_state = to_json(
        &additive,
        Some(crate::render::json::JsonStateRef {
            lineage: "l".into(),
            serial: 1,
        }),
        &ctx(),
    );
    assert!(!markdown_of(&with_state).contains("No state file"));
}
