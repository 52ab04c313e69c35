//! `apply --reviewed PLAN` (SPEC §10): what a pull request's plan showed is what merge applies.
//! The Workspace is read and planned again; only the changes the reviewed plan also holds are
//! made. A change of the new plan that the review did not see is left for a new review ("not
//! reviewed"); a change the review saw that is no longer needed is "already done". A reviewed
//! plan of another Workspace, file or state history is refused whole. No I/O here.

use std::collections::BTreeMap;

use crate::plan::Plan;
use crate::render::Context;
use crate::render::json::{self, JsonChange, JsonPlan, JsonStateRef};

/// A reviewed plan, read, and where it was read from.
#[derive(Debug, Clone)]
pub(crate) struct Reviewed {
    pub(crate) name: String,
    pub(crate) plan: JsonPlan,
}

/// How the plan made now compares with the reviewed one.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Review {
    /// Where the reviewed plan was read from, for messages.
    pub(crate) name: String,
    /// Changes the plan made now needs that the reviewed plan does not hold: not made.
    pub(crate) not_reviewed: Vec<JsonChange>,
    /// Changes the reviewed plan holds that are no longer needed.
    pub(crate) already_done: Vec<JsonChange>,
}

impl Review {
    /// Whether everything the Workspace needs was reviewed.
    pub(crate) fn is_whole(&self) -> bool {
        self.not_reviewed.is_empty()
    }
}

/// Refuses a reviewed plan made for another Workspace, from another file or against another
/// state history (why, as a sentence): none of its changes can be trusted to mean what they
/// meant then.
pub(crate) fn check_whole(
    reviewed: &Reviewed,
    plan: &Plan,
    state: Option<&JsonStateRef>,
    file_name: &str,
) -> Result<(), String> {
    let saved = &reviewed.plan;
    let refuse = |why: String| why;
    if saved.format_version != json::FORMAT_VERSION {
        return Err(refuse(format!(
            "it has plan format_version {}, and this clickup-members reads version {}",
            saved.format_version,
            json::FORMAT_VERSION
        )));
    }
    if saved.workspace.id != plan.workspace_id {
        return Err(refuse(format!(
            "it is a plan of Workspace {}, and {file_name} describes Workspace {}",
            saved.workspace.id, plan.workspace_id
        )));
    }
    if saved.config_digest != plan.config_digest {
        return Err(refuse(format!(
            "{file_name} is not the file that was reviewed (its config digest differs): a change to it was merged after the plan was made, or the pull request was not up to date with the default branch"
        )));
    }
    match (&saved.state, state) {
        (Some(then), Some(now)) if then.lineage != now.lineage => Err(refuse(format!(
            "it was planned against another state history (lineage {}, and the state now has lineage {})",
            then.lineage, now.lineage
        ))),
        (Some(then), None) => Err(refuse(format!(
            "it was planned against a state (lineage {}) that is no longer there",
            then.lineage
        ))),
        _ => Ok(()),
    }
}

/// Keeps in `plan` only the changes the reviewed plan holds, and says what was left out and
/// what no longer needs doing.
pub(crate) fn select(plan: &mut Plan, reviewed: &Reviewed, ctx: &Context) -> Review {
    let mut by_subject: BTreeMap<Key, Vec<&JsonChange>> = BTreeMap::new();
    for change in &reviewed.plan.changes {
        by_subject.entry(Key::of(change)).or_default().push(change);
    }
    let now: Vec<JsonChange> = plan
        .changes
        .iter()
        .map(|c| json::change_json(c, ctx))
        .collect();
    let keep: Vec<bool> = now
        .iter()
        .map(|change| {
            by_subject
                .get(&Key::of(change))
                .is_some_and(|seen| seen.iter().any(|r| covers(r, change)))
        })
        .collect();
    let not_reviewed = now
        .iter()
        .zip(&keep)
        .filter(|(_, kept)| !**kept)
        .map(|(c, _)| c.clone())
        .collect();
    // Done already: nothing about that person or group is left to change. (One the new plan
    // changes otherwise, an invitation now an update of whom ClickUp's UI invited, is not done:
    // the new change is listed as not reviewed.)
    let still: std::collections::BTreeSet<(bool, String)> = now.iter().map(about).collect();
    let already_done = reviewed
        .plan
        .changes
        .iter()
        .filter(|r| !still.contains(&about(r)))
        .cloned()
        .collect();
    plan.retain_changes(|i| keep[i]);
    Review {
        name: reviewed.name.clone(),
        not_reviewed,
        already_done,
    }
}

/// Whom a change is about: a group or a person, by name or email.
fn about(change: &JsonChange) -> (bool, String) {
    (
        change.kind == crate::plan::Kind::Group,
        change.subject().to_lowercase(),
    )
}

/// What a change is: its action, kind and person or group.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    action: crate::plan::Action,
    kind: crate::plan::Kind,
    subject: String,
}

impl Key {
    fn of(change: &JsonChange) -> Key {
        Key {
            action: change.action,
            kind: change.kind,
            subject: change.subject().to_lowercase(),
        }
    }
}

/// Whether the reviewed change `reviewed` covers the change `now` of the same subject: the
/// same target values, and nothing the review did not see. What the Workspace holds today (an
/// update's `from`, a removal's reason, ids, whether an invitation is still pending) does not
/// count; an update or group change that now does only part of what was reviewed (the rest was
/// done in ClickUp meanwhile) is covered.
fn covers(reviewed: &JsonChange, now: &JsonChange) -> bool {
    let attributes = match (&reviewed.attributes, &now.attributes) {
        (_, None) => true,
        (None, Some(now)) => now.is_empty(),
        (Some(seen), Some(now)) => now
            .iter()
            .all(|(key, value)| seen.get(key).is_some_and(|s| s.to == value.to)),
    };
    let within = |seen: &Option<Vec<String>>, now: &Option<Vec<String>>| match (seen, now) {
        (_, None) => true,
        (None, Some(now)) => now.is_empty(),
        (Some(seen), Some(now)) => now.iter().all(|e| seen.contains(e)),
    };
    attributes
        && within(&reviewed.add, &now.add)
        && within(&reviewed.remove, &now.remove)
        && reviewed.role == now.role
        && reviewed.permissions == now.permissions
        && reviewed.custom_role == now.custom_role
        && reviewed.access == now.access
        && reviewed.handle == now.handle
        && reviewed.members == now.members
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(value: serde_json::Value) -> JsonChange {
        serde_json::from_value(value).expect("a change")
    }

    #[test]
    fn a_role_change_from_another_role_is_the_same_change() {
        let reviewed = change(serde_json::json!({"action": "update", "kind": "member",
            "email": "max@x.io", "user_id": 1,
            "attributes": {"role": {"from": "member", "to": "admin"}}}));
        let now = change(serde_json::json!({"action": "update", "kind": "member",
            "email": "max@x.io", "user_id": 1,
            "attributes": {"role": {"from": "Project Lead", "to": "admin"}}}));
        assert!(covers(&reviewed, &now));
    }

    #[test]
    fn a_role_change_to_another_role_is_not_the_same_change() {
        let reviewed = change(serde_json::json!({"action": "update", "kind": "member",
            "email": "max@x.io", "attributes": {"role": {"from": "member", "to": "admin"}}}));
        let now = change(serde_json::json!({"action": "update", "kind": "member",
            "email": "max@x.io", "attributes": {"role": {"from": "member", "to": "Ops Admin"}}}));
        assert!(!covers(&reviewed, &now));
    }

    #[test]
    fn a_group_change_that_does_part_of_the_reviewed_one_is_covered_and_no_more() {
        let reviewed = change(serde_json::json!({"action": "update", "kind": "group",
            "name": "Eng", "group_id": "g", "add": ["a@x.io", "b@x.io"], "remove": []}));
        let part = change(serde_json::json!({"action": "update", "kind": "group",
            "name": "Eng", "group_id": "g", "add": ["a@x.io"], "remove": []}));
        let more = change(serde_json::json!({"action": "update", "kind": "group",
            "name": "Eng", "group_id": "g", "add": ["a@x.io"], "remove": ["c@x.io"]}));
        assert!(covers(&reviewed, &part));
        assert!(!covers(&reviewed, &more));
    }

    #[test]
    fn an_invitation_with_another_role_is_not_covered() {
        let reviewed = change(serde_json::json!({"action": "invite", "kind": "member",
            "email": "n@x.io", "role": "member"}));
        let now = change(serde_json::json!({"action": "invite", "kind": "member",
            "email": "n@x.io", "role": "admin"}));
        assert!(!covers(&reviewed, &now));
        assert!(covers(&reviewed, &reviewed.clone()));
    }

    #[test]
    fn a_removal_for_another_reason_is_the_same_removal() {
        let reviewed = change(serde_json::json!({"action": "remove", "kind": "member",
            "email": "v@x.io", "user_id": 5, "reason": "not listed"}));
        let now = change(serde_json::json!({"action": "remove", "kind": "member",
            "email": "v@x.io", "user_id": 5, "reason": "expired 2026-01-01", "pending": true}));
        assert!(covers(&reviewed, &now));
    }
}
