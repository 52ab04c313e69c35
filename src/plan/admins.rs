//! `policy.admins`: how many people hold admin rights, the owner, the admins and the holders of
//! custom roles that inherit admin (pending invitations included), before a plan and after it.

use std::collections::BTreeSet;

use crate::live::{Live, Person};
use crate::model::{BaseRole, Email};
use crate::plan::{Change, Plan, Seat, TargetRole};

/// The people of `live` who hold admin rights.
fn holders(live: &Live) -> impl Iterator<Item = &Email> {
    live.people
        .iter()
        .filter(|p| holds_admin(p, live))
        .map(|p| &p.email)
}

/// The count in the Workspace as it is.
pub(crate) fn held(live: &Live) -> usize {
    holders(live).count()
}

/// The count before the plan and after it.
pub(crate) fn counts(plan: &Plan, live: &Live) -> (usize, usize) {
    let mut admins: BTreeSet<&Email> = holders(live).collect();
    let before = admins.len();
    for change in &plan.changes {
        match change {
            Change::Invite(invite) => {
                if let Seat::Member { role } = &invite.seat
                    && gives_admin(role)
                {
                    admins.insert(&invite.email);
                }
            }
            Change::UpdateMember(update) => {
                admins.remove(&update.email);
                if gives_admin(&update.to) {
                    admins.insert(&update.email);
                }
            }
            Change::Replace(replace) => {
                admins.remove(&replace.email);
                if let Seat::Member { role } = &replace.seat
                    && gives_admin(role)
                {
                    admins.insert(&replace.email);
                }
            }
            Change::Remove(remove) => {
                admins.remove(&remove.email);
            }
            Change::UpdateGuest(_)
            | Change::CreateGroup(_)
            | Change::UpdateGroup(_)
            | Change::DeleteGroup(_) => {}
        }
    }
    (before, admins.len())
}

/// Whether `person` holds admin rights.
fn holds_admin(person: &Person, live: &Live) -> bool {
    match (&person.custom_role, person.role) {
        (_, BaseRole::Owner) => true,
        (Some(custom), _) => live
            .custom_roles
            .iter()
            .flatten()
            .find(|r| r.id == custom.id)
            .map_or(person.role == BaseRole::Admin, |r| {
                r.inherited == Some(BaseRole::Admin)
            }),
        (None, role) => role == BaseRole::Admin,
    }
}

fn gives_admin(role: &TargetRole) -> bool {
    match role {
        TargetRole::Admin => true,
        TargetRole::Member => false,
        TargetRole::Custom(custom) => custom.base == BaseRole::Admin,
    }
}
