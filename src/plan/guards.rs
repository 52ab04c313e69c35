//! Guards: pure checks that refuse a dangerous plan before anything is sent. The owner, the
//! token's own user and protected people are never changed nor removed, and no plan removes more
//! than `policy.max_removals`. Each refusal is a sentence naming the person and the rule.

use crate::config::MembersFile;
use crate::diag::Loc;
use crate::live::Live;
use crate::model::Email;
use crate::plan::{Change, Plan};

/// A broken guard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    /// The line in the file that asks for the change, when there is one.
    pub(crate) loc: Option<Loc>,
    pub(crate) message: String,
}

/// Every guard the plan breaks; empty when it may be applied.
pub(crate) fn check(plan: &Plan, file: &MembersFile, live: &Live) -> Vec<Violation> {
    let mut violations = Vec::new();
    let owner = live.owner().map(|p| &p.email);
    let owner_id = live.owner().map(|p| p.id);
    for change in &plan.changes {
        let Some(email) = change.email() else {
            continue;
        };
        // By email and by id: ClickUp's answers may disagree on one person's email.
        let id = change.user_id();
        let is_owner = Some(email) == owner || (id.is_some() && id == owner_id);
        let is_me = *email == live.me.email || id == Some(live.me.id);
        let untouchable =
            is_owner || is_me || file.policy.protected.iter().any(|p| p.value == *email);
        if !untouchable {
            continue;
        }
        // Only for a refusal: finding the line is a scan of the file.
        let what = describe(change);
        let line = line_of(file, email);
        let asks = line.map_or(String::new(), |l| {
            format!(" ({} asks for it)", file.place(l))
        });
        if is_owner {
            violations.push(Violation {
                loc: line,
                message: format!(
                    "{email} is the Workspace owner, whom clickup-members never changes nor removes, but the plan would {what}{asks}; list the owner with `role: owner`"
                ),
            });
        } else if is_me {
            violations.push(Violation {
                loc: line,
                message: format!(
                    "{email} is the token's own user, whom clickup-members never changes nor removes, but the plan would {what}{asks}; make the change in ClickUp's UI or with another admin's token"
                ),
            });
        } else if let Some(p) = file.policy.protected.iter().find(|p| p.value == *email) {
            violations.push(Violation {
                loc: line.or(Some(p.loc)),
                message: format!(
                    "{email} is protected (policy.protected, {}), but the plan would {what}{asks}; protected people are never changed nor removed",
                    file.place(p.loc)
                ),
            });
        }
    }
    if let Some(bounds) = &file.policy.admins {
        let (before, after) = crate::plan::admins::counts(plan, live);
        let (was, will) = (bounds.distance(before), bounds.distance(after));
        // Out of the bounds, further from them, or across them: refused. Keeping the count or
        // moving towards the bounds is allowed (a Workspace already outside is warned of).
        if will > 0 && (was == 0 || will > was || (will == was && after != before)) {
            violations.push(Violation {
                loc: Some(bounds.loc),
                message: format!(
                    "the plan would leave {after} people with admin rights (the owner, admins and custom roles that inherit admin; now {before}), outside policy.admins ({}); change the roles in the file, or the bounds",
                    bounds.describe()
                ),
            });
        }
    }
    let removals = plan.removals();
    if removals > plan.max_removals as usize {
        let names: Vec<String> = plan
            .changes
            .iter()
            .filter(|c| c.is_removal())
            .map(|c| format!("{} {}", c.action().key(), c.subject()))
            .collect();
        violations.push(Violation {
            loc: None,
            message: format!(
                "the plan would remove, replace or delete {removals}, more than policy.max_removals ({}): {}; if this is intended, raise policy.max_removals in the file",
                plan.max_removals,
                names.join(", ")
            ),
        });
    }
    violations
}

fn describe(change: &Change) -> String {
    match change {
        Change::Invite(_) => "invite them".to_owned(),
        Change::Replace(r) => format!(
            "remove them and invite them again as a {}",
            r.seat.kind().key()
        ),
        Change::UpdateMember(u) => format!("change their role from {} to {}", u.from, u.to),
        Change::UpdateGuest(_) => "change their guest settings".to_owned(),
        Change::Remove(_) => "remove them".to_owned(),
        Change::CreateGroup(_) | Change::UpdateGroup(_) | Change::DeleteGroup(_) => {
            "change them".to_owned()
        }
    }
}

fn line_of(file: &MembersFile, email: &Email) -> Option<Loc> {
    file.members
        .iter()
        .find(|m| m.email.value == *email)
        .map(|m| m.role.loc)
        .or_else(|| {
            file.guests
                .iter()
                .find(|g| g.email.value == *email)
                .map(|g| g.email.loc)
        })
}
