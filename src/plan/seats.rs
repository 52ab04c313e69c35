//! Seats: how many member and guest seats the Workspace uses now and after a plan, and
//! `policy.seats` (SPEC §7). Seats after = used + invites − removals of that kind; a replace
//! across kinds moves one seat from one kind to the other.

use serde::{Deserialize, Serialize};

use crate::config::SeatBounds;
use crate::live::Live;
use crate::model::BaseRole;
use crate::plan::guards::Violation;
use crate::plan::{Change, Kind, Plan};

/// One kind of seat: used now, bought, and used once the plan is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SeatUse {
    pub(crate) used: i64,
    pub(crate) total: i64,
    pub(crate) after: i64,
}

impl SeatUse {
    /// How many seats the plan needs beyond those the Workspace has (0 when it fits).
    pub(crate) fn beyond(&self) -> i64 {
        (self.after - self.total).max(0)
    }
}

/// Member and guest seats, now and after the plan (the JSON plan's `seats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SeatsAfter {
    pub(crate) members: SeatUse,
    pub(crate) guests: SeatUse,
}

/// How many seats of each kind the plan takes (positive) or gives back (negative):
/// `(members, guests)`.
pub(crate) fn moves(plan: &Plan) -> (i64, i64) {
    let mut moved = (0, 0);
    let mut add = |kind: Kind, by: i64| match kind {
        Kind::Member => moved.0 += by,
        Kind::Guest => moved.1 += by,
        Kind::Group => {}
    };
    for change in &plan.changes {
        match change {
            Change::Invite(invite) => add(invite.seat.kind(), 1),
            Change::Remove(remove) => add(remove.kind, -1),
            Change::Replace(replace) => {
                add(replace.from_kind, -1);
                add(replace.seat.kind(), 1);
            }
            Change::UpdateMember(_)
            | Change::UpdateGuest(_)
            | Change::CreateGroup(_)
            | Change::UpdateGroup(_)
            | Change::DeleteGroup(_) => {}
        }
    }
    moved
}

/// The seats ClickUp reports, `(used, total)` of each kind, and those the plan leaves used.
pub(crate) fn after(plan: &Plan, members: (i64, i64), guests: (i64, i64)) -> SeatsAfter {
    let (to_members, to_guests) = moves(plan);
    let kind = |(used, total): (i64, i64), moved: i64| SeatUse {
        used,
        total,
        after: used + moved,
    };
    SeatsAfter {
        members: kind(members, to_members),
        guests: kind(guests, to_guests),
    }
}

/// The kinds of seat whose invitations would not all find a free seat before the plan's
/// removals of that kind (a full Workspace swapping people, or one with fewer free seats than
/// it invites): those removals must be made first, or the plan needs seats the Workspace does
/// not have while it runs (SPEC §10). A member <-> guest replace gives back a seat of the kind
/// it leaves and takes one of the kind it joins.
pub(crate) fn squeezed(plan: &Plan, seats: &SeatsAfter) -> Vec<Kind> {
    // Seats given back and taken, by kind: members, guests.
    let mut frees = [0_i64; 2];
    let mut takes = [0_i64; 2];
    let slot = |kind: Kind| match kind {
        Kind::Member => Some(0),
        Kind::Guest => Some(1),
        Kind::Group => None,
    };
    let count = |counts: &mut [i64; 2], kind: Kind| {
        if let Some(i) = slot(kind) {
            counts[i] += 1;
        }
    };
    for change in &plan.changes {
        match change {
            Change::Invite(invite) => count(&mut takes, invite.seat.kind()),
            Change::Remove(remove) => count(&mut frees, remove.kind),
            Change::Replace(replace) => {
                count(&mut frees, replace.from_kind);
                count(&mut takes, replace.seat.kind());
            }
            Change::UpdateMember(_)
            | Change::UpdateGuest(_)
            | Change::CreateGroup(_)
            | Change::UpdateGroup(_)
            | Change::DeleteGroup(_) => {}
        }
    }
    [
        (Kind::Member, seats.members, 0),
        (Kind::Guest, seats.guests, 1),
    ]
    .into_iter()
    .filter(|(_, seat, i)| frees[*i] > 0 && seat.used + takes[*i] > seat.total)
    .map(|(kind, _, _)| kind)
    .collect()
}

/// The people the Workspace lists on each kind of seat, pending invitations included: what
/// `policy.seats` is held to when ClickUp's count could not be read.
pub(crate) fn listed(live: &Live) -> (i64, i64) {
    let guests = live
        .people
        .iter()
        .filter(|p| p.role == BaseRole::Guest)
        .count();
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    (count(live.people.len() - guests), count(guests))
}

/// What `policy.seats` says of a plan that takes `(used, after)` member and guest seats: the
/// refusals, for a plan that takes seats and ends above a bound, and the warnings, for a
/// Workspace already above one that the plan does not take further.
pub(crate) fn check(
    bounds: &SeatBounds,
    members: (i64, i64),
    guests: (i64, i64),
) -> (Vec<Violation>, Vec<String>) {
    let mut violations = Vec::new();
    let mut warnings = Vec::new();
    for (what, key, max, (used, after)) in [
        ("member", "max_members", bounds.max_members, members),
        ("guest", "max_guests", bounds.max_guests, guests),
    ] {
        let Some(max) = max.map(i64::from) else {
            continue;
        };
        if after > max && after > used {
            violations.push(Violation {
                loc: Some(bounds.loc),
                message: format!(
                    "the plan would use {after} {what} seats (now {used}), above policy.seats.{key} ({max}); remove people from the file, or raise the bound"
                ),
            });
        } else if used > max {
            warnings.push(format!(
                "the Workspace uses {used} {what} seats, above policy.seats.{key} ({max}); plans that do not add {what} seats are allowed"
            ));
        }
    }
    (violations, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Loc;

    fn bounds(max_members: Option<u32>, max_guests: Option<u32>) -> SeatBounds {
        SeatBounds {
            max_members,
            max_guests,
            loc: Loc::new(7, 3),
        }
    }

    #[test]
    fn a_plan_that_takes_seats_above_the_bound_is_refused_at_the_line_of_seats() {
        let (refused, warned) = check(&bounds(Some(10), None), (9, 11), (0, 0));
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert_eq!(refused[0].loc, Some(Loc::new(7, 3)));
        assert!(
            refused[0].message.contains("11 member seats (now 9)")
                && refused[0].message.contains("policy.seats.max_members (10)"),
            "{}",
            refused[0].message
        );
        assert!(warned.is_empty());
    }

    #[test]
    fn ending_at_the_bound_is_allowed_and_guests_have_their_own() {
        let (refused, warned) = check(&bounds(Some(10), Some(2)), (9, 10), (2, 3));
        assert_eq!(refused.len(), 1);
        assert!(refused[0].message.contains("3 guest seats"));
        assert!(warned.is_empty());
    }

    #[test]
    fn a_workspace_already_above_is_warned_of_and_plans_that_do_not_add_pass() {
        for after in [12, 11] {
            let (refused, warned) = check(&bounds(Some(10), None), (12, after), (0, 0));
            assert!(refused.is_empty(), "{after}: {refused:?}");
            assert_eq!(warned.len(), 1, "{after}");
            assert!(warned[0].contains("uses 12 member seats"), "{}", warned[0]);
        }
        let (refused, _) = check(&bounds(Some(10), None), (12, 13), (0, 0));
        assert_eq!(refused.len(), 1, "further above is refused");
    }

    #[test]
    fn what_is_needed_beyond_the_workspace_is_what_it_ends_above_its_total() {
        let seat = |used, total, after| SeatUse { used, total, after };
        assert_eq!(seat(9, 9, 11).beyond(), 2);
        assert_eq!(seat(2, 50, 3).beyond(), 0);
        assert_eq!(seat(9, 9, 8).beyond(), 0);
        assert_eq!(seat(12, 10, 13).beyond(), 3);
    }
}
