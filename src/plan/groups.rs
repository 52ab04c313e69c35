//! The user groups of a plan (SPEC §2), when the file manages them: groups created, their
//! members and handle brought to the file's, and, as the mode says, the groups the file does
//! not list deleted, with the duplicates of a name. Matched by name, case-insensitively.
//! Pure: part of [`compute`](crate::plan::compute).

use std::collections::{BTreeMap, BTreeSet};

use crate::config::{Group, Mode};
use crate::live::LiveGroup;
use crate::model::{Email, UserId};
use crate::plan::compute::Inputs;
use crate::plan::{Change, CreateGroup, DeleteGroup, RemoveReason, UpdateGroup};

/// The group changes that make the Workspace's groups the file's, after the people's changes.
pub(super) fn group_changes(
    inputs: &Inputs<'_>,
    live_groups: &[LiveGroup],
    person_changes: &[Change],
    warnings: &mut Vec<String>,
) -> Vec<Change> {
    let groups = inputs.file.groups.as_deref().unwrap_or_default();
    let moving = Moving::of(person_changes);
    let same_name = by_name(groups, live_groups);
    let kept: BTreeMap<&str, &LiveGroup> = same_name
        .iter()
        .map(|(key, found)| (key.as_str(), found[0]))
        .collect();
    let mut changes = Vec::new();
    let mut wanted_names = BTreeSet::new();
    for group in groups {
        let key = group.name.value.to_lowercase();
        let change = match kept.get(key.as_str()) {
            None => Some(create(inputs, group)),
            Some(current) => update(inputs, group, current, &moving),
        };
        changes.extend(change);
        wanted_names.insert(key);
    }
    let mode = inputs.file.policy.mode;
    for (key, found) in &same_name {
        if wanted_names.contains(key) {
            duplicates(mode, found, &mut changes, warnings);
        }
    }
    for group in live_groups {
        let key = group.name.to_lowercase();
        if wanted_names.contains(&key) {
            continue;
        }
        let reason = match mode {
            Mode::Authoritative => RemoveReason::NotListed,
            Mode::Additive if inputs.managed.groups.contains(&key) => RemoveReason::NoLongerListed,
            Mode::Additive => continue,
        };
        changes.push(delete(group, reason));
    }
    changes
}

/// People who leave the Workspace (or leave and come back with a new id) drop out of every
/// group on their own; the replaced ones must be added back.
struct Moving<'c> {
    leaving: BTreeSet<&'c Email>,
    replaced: BTreeSet<&'c Email>,
}

impl<'c> Moving<'c> {
    fn of(person_changes: &'c [Change]) -> Moving<'c> {
        let emails = |is_kind: fn(&Change) -> bool| {
            person_changes
                .iter()
                .filter(|c| is_kind(c))
                .filter_map(Change::email)
                .collect()
        };
        Moving {
            leaving: emails(|c| matches!(c, Change::Remove(_))),
            replaced: emails(|c| matches!(c, Change::Replace(_))),
        }
    }
}

/// Live groups by name, case-insensitive. Two of one name are both seen: the file's group is
/// kept as the one spelled like it (then the lowest id), first; the others are duplicates.
fn by_name<'g>(
    groups: &[Group],
    live_groups: &'g [LiveGroup],
) -> BTreeMap<String, Vec<&'g LiveGroup>> {
    let mut same_name: BTreeMap<String, Vec<&LiveGroup>> = BTreeMap::new();
    for group in live_groups {
        same_name
            .entry(group.name.to_lowercase())
            .or_default()
            .push(group);
    }
    let spelled: BTreeMap<String, &str> = groups
        .iter()
        .map(|g| (g.name.value.to_lowercase(), g.name.value.as_str()))
        .collect();
    for (key, found) in &mut same_name {
        let spelling = spelled.get(key).copied();
        found.sort_by(|a, b| {
            (Some(a.name.as_str()) != spelling, &a.id)
                .cmp(&(Some(b.name.as_str()) != spelling, &b.id))
        });
    }
    same_name
}

/// The group's members as the file wants them: the expired left out, sorted.
fn wanted_members(inputs: &Inputs<'_>, group: &Group) -> Vec<Email> {
    let mut members: Vec<Email> = group
        .members
        .iter()
        .filter(|m| !inputs.expired.contains_key(&m.value))
        .map(|m| m.value.clone())
        .collect();
    members.sort();
    members
}

/// A group of the file that the Workspace does not have.
fn create(inputs: &Inputs<'_>, group: &Group) -> Change {
    Change::CreateGroup(CreateGroup {
        name: group.name.value.clone(),
        handle: group.handle.as_ref().map(|h| h.value.clone()),
        members: wanted_members(inputs, group),
    })
}

/// What brings `current` to the file's `group`, if anything: members added and removed (the
/// exempt never), the handle.
fn update(
    inputs: &Inputs<'_>,
    group: &Group,
    current: &LiveGroup,
    moving: &Moving<'_>,
) -> Option<Change> {
    let members = wanted_members(inputs, group);
    let have: BTreeMap<&Email, UserId> = current.members.iter().map(|(id, e)| (e, *id)).collect();
    let want: BTreeSet<&Email> = members.iter().collect();
    let add: Vec<Email> = members
        .iter()
        .filter(|e| !have.contains_key(e) || moving.replaced.contains(e))
        .cloned()
        .collect();
    let remove: Vec<(UserId, Email)> = current
        .members
        .iter()
        .filter(|(id, e)| {
            !want.contains(e)
                && !moving.leaving.contains(e)
                && !moving.replaced.contains(e)
                && !inputs.exempt.covers(*id, e)
        })
        .cloned()
        .collect();
    let handle = group
        .handle
        .as_ref()
        .map(|h| h.value.clone())
        .filter(|h| current.handle.as_ref() != Some(h))
        .map(|h| (current.handle.clone(), h));
    if add.is_empty() && remove.is_empty() && handle.is_none() {
        return None;
    }
    Some(Change::UpdateGroup(UpdateGroup {
        name: current.name.clone(),
        group_id: current.id.clone(),
        handle,
        add,
        remove,
    }))
}

/// Live groups of one name the file wants, beyond the one kept (`found[0]`): deleted in
/// authoritative mode, told in additive mode.
fn duplicates(
    mode: Mode,
    found: &[&LiveGroup],
    changes: &mut Vec<Change>,
    warnings: &mut Vec<String>,
) {
    let [kept, extra @ ..] = found else {
        return;
    };
    if extra.is_empty() {
        return;
    }
    match mode {
        Mode::Authoritative => {
            changes.extend(extra.iter().map(|g| delete(g, RemoveReason::Duplicate)));
        }
        Mode::Additive => {
            let ids: Vec<&str> = extra.iter().map(|g| g.id.as_str()).collect();
            warnings.push(format!(
                "the Workspace has {} user groups named \"{}\" (case-insensitive): {} is managed as the file's group, {} left alone; rename or delete the others in ClickUp",
                found.len(),
                kept.name,
                kept.id,
                ids.join(", ")
            ));
        }
    }
}

fn delete(group: &LiveGroup, reason: RemoveReason) -> Change {
    Change::DeleteGroup(DeleteGroup {
        name: group.name.clone(),
        group_id: group.id.clone(),
        members: group.members.len(),
        reason,
    })
}
