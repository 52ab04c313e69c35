//! Whether apply may make a plan, decided once, with the plan (as terraform's
//! `Plan.Applyable`): a broken guard, a reviewed plan that cannot stand for it, a saved plan
//! that is not it, or a replace the run was not told it may make. Every caller (the command
//! line, a folder, a controller's cycle) reads the same verdict. No I/O here.

use crate::engine::error::Refusal;
use crate::engine::{Against, Error, Planned};
use crate::plan::{Action, Plan};
use crate::render::json::JsonPlan;

/// Whether apply may make the plan, and if not, why.
#[derive(Debug, Clone)]
pub(crate) enum Verdict {
    /// Apply may make it (with a reviewed plan: the changes both plans hold).
    Applicable,
    /// It breaks guards: it may be shown, never applied.
    Refused(Box<Refusal>),
    /// The reviewed plan given (`apply --reviewed`) cannot stand for it at all.
    NotReviewed {
        plan: String,
        workspace: String,
        why: String,
    },
    /// The saved plan given (`apply PLAN`) is not the plan made now.
    Stale { plan: String, why: String },
    /// It replaces these people, and the run was not told it may.
    ReplaceNotAllowed(Vec<String>),
}

impl Verdict {
    /// The error that says why apply refuses the plan; `None` when it may apply it.
    /// `applying`: said by `apply` (nothing was applied), not only by `plan`.
    pub(crate) fn error(&self, applying: bool) -> Option<Error> {
        match self {
            Verdict::Applicable => None,
            Verdict::Refused(refusal) => Some(Error::Refused(Box::new(Refusal {
                applying,
                ..(**refusal).clone()
            }))),
            Verdict::NotReviewed {
                plan,
                workspace,
                why,
            } => Some(Error::NotReviewed {
                plan: plan.clone(),
                workspace: workspace.clone(),
                why: why.clone(),
            }),
            Verdict::Stale { plan, why } => Some(Error::Stale {
                plan: plan.clone(),
                why: why.clone(),
            }),
            Verdict::ReplaceNotAllowed(people) => Some(Error::ReplaceNotAllowed(people.clone())),
        }
    }
}

/// The verdict on `planned`: its guards first, then the saved plan it must be, then its
/// replaces.
pub(crate) fn judge<W>(
    planned: &Planned<W>,
    against: Option<&Against>,
    allow_replace: bool,
) -> Verdict {
    if let Some(refusal) = planned.refusal_data() {
        return Verdict::Refused(Box::new(refusal));
    }
    if let Some(Against::Saved { name, plan }) = against
        && let Some(why) = stale(planned, plan)
    {
        return Verdict::Stale {
            plan: name.clone(),
            why,
        };
    }
    let replaces = replaces(&planned.plan);
    if !replaces.is_empty() && !allow_replace {
        return Verdict::ReplaceNotAllowed(replaces);
    }
    Verdict::Applicable
}

/// Why the saved plan `saved` is not the plan made now: another Workspace, file, Workspace
/// contents, state or changes. `None` when it is the same plan.
pub(crate) fn stale<W>(planned: &Planned<W>, saved: &JsonPlan) -> Option<String> {
    let plan = &planned.plan;
    let now = planned.json(true);
    if saved.workspace.id != plan.workspace_id {
        return Some("the file now describes another Workspace".to_owned());
    }
    if saved.config_digest != plan.config_digest {
        return Some(format!("{} changed", planned.context().file_name));
    }
    if saved.live_fingerprint != plan.live_fingerprint {
        return Some("the Workspace changed".to_owned());
    }
    if let (Some(then), Some(current)) = (&saved.state, &now.state)
        && then.lineage != current.lineage
    {
        return Some(format!(
            "the state file was replaced by another history (lineage {}, not {})",
            current.lineage, then.lineage
        ));
    }
    if saved.state != now.state {
        return Some("the state file changed".to_owned());
    }
    if saved.changes != now.changes {
        return Some("the changes differ".to_owned());
    }
    None
}

/// Who the plan replaces.
pub(crate) fn replaces(plan: &Plan) -> Vec<String> {
    plan.changes
        .iter()
        .filter(|c| c.action() == Action::Replace)
        .map(|c| c.subject().to_owned())
        .collect()
}
