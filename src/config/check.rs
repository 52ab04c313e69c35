//! The rules of SPEC §1 that can be checked without the live Workspace: an email at most once
//! across members and guests, group names unique, group members listed, one owner, one entry per
//! shared item. Each problem points at the second occurrence and names the first. Pure.

use std::collections::{HashMap, HashSet};

use crate::config::{At, Group, MembersFile, RoleName, include};
use crate::diag::{Diagnostic, Loc};
use crate::model::{Email, ShareTarget};

pub(super) fn check(file: &MembersFile) -> Vec<Diagnostic> {
    check_with(file, Listing::Whole)
}

/// Whether the people a file lists are all it will list: before a sync, the fragment `sync`
/// writes is not, and a group may list people only the sync brings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Listing {
    Whole,
    BeforeSync,
}

pub(super) fn check_with(file: &MembersFile, listing: Listing) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let people = listed_once(file, &mut diags);
    within_member_domains(file, &mut diags);
    one_owner(file, &mut diags);
    each_share_once(file, &mut diags);
    groups_unique_and_listed(file, &people, listing, &mut diags);
    joined_groups_defined(file, &mut diags);
    sync_rules(file, &mut diags);
    diags
}

/// The names of the file's user groups, lower-cased.
fn group_names(file: &MembersFile) -> Option<HashSet<String>> {
    file.groups
        .as_ref()
        .map(|groups| groups.iter().map(|g| g.name.value.to_lowercase()).collect())
}

/// A group named where the file defines none, or none of that name.
fn undefined_group(file: &MembersFile, name: &At<String>, who: &str) -> Diagnostic {
    let message = match &file.groups {
        None => format!(
            "{who} joins the group \"{}\", but the file defines no groups",
            name.value
        ),
        Some(_) => format!(
            "{who} joins the group \"{}\", which the file does not define",
            name.value
        ),
    };
    Diagnostic::new(name.loc, message)
        .label("no such group")
        .help("define it under `groups:` (name: …), or remove it here")
}

/// Each group a person's `groups` names is defined in the file.
fn joined_groups_defined(file: &MembersFile, diags: &mut Vec<Diagnostic>) {
    let defined = group_names(file).unwrap_or_default();
    let people = file
        .members
        .iter()
        .map(|m| (&m.email, &m.groups))
        .chain(file.guests.iter().map(|g| (&g.email, &g.groups)));
    for (email, groups) in people {
        for name in groups {
            if !defined.contains(&name.value.to_lowercase()) {
                diags.push(undefined_group(file, name, email.value.as_str()));
            }
        }
    }
}

/// Each sync rule reads a source `sources` sets and names groups the file defines; an include
/// matches the fragment `sync` writes.
fn sync_rules(file: &MembersFile, diags: &mut Vec<Diagnostic>) {
    let Some(sync) = &file.sync else {
        return;
    };
    let defined = group_names(file).unwrap_or_default();
    let sources = file.sources.clone().unwrap_or_default();
    for rule in &sync.rules {
        let from = rule.from.value;
        if !sources.has(from) {
            diags.push(
                Diagnostic::new(
                    rule.from.loc,
                    format!(
                        "this rule reads from {}, but sources has no {}",
                        from.key(),
                        from.key()
                    ),
                )
                .label("no such source")
                .help(format!("add `{}:` under `sources:`", from.key())),
            );
        }
        for name in &rule.groups {
            if !defined.contains(&name.value.to_lowercase()) {
                diags.push(undefined_group(file, name, "the rule's people"));
            }
        }
    }
    let into = &sync.into;
    if !include::matches(&file.include, &into.value) {
        diags.push(
            Diagnostic::new(
                into.loc,
                format!(
                    "sync.into \"{}\" is not matched by any include, so what sync writes would not be planned",
                    into.value
                ),
            )
            .label("not included")
            .help(format!("add it to include: include: [\"{}\"]", into.value)),
        );
    }
}

/// Everyone the file lists, by email, with where and in which section.
type Listed<'f> = foldhash::HashMap<&'f Email, (&'f At<Email>, &'static str)>;

/// Everyone the file lists; an email listed a second time is a problem.
fn listed_once<'f>(file: &'f MembersFile, diags: &mut Vec<Diagnostic>) -> Listed<'f> {
    // Sized once for everyone: at 100,000 people, growing it would briefly hold two tables.
    let mut people = Listed::default();
    people.reserve(file.members.len() + file.guests.len());
    let listed = file
        .members
        .iter()
        .map(|m| (&m.email, "members"))
        .chain(file.guests.iter().map(|g| (&g.email, "guests")));
    for (email, section) in listed {
        if let Some((first, first_section)) = people.get(&email.value) {
            diags.push(
                Diagnostic::new(
                    email.loc,
                    format!(
                        "duplicate email \"{}\": already listed in {first_section} at {}",
                        email.value,
                        file.place(first.loc)
                    ),
                )
                .label("listed twice")
                .help("emails are compared case-insensitively; keep one entry per person"),
            );
        } else {
            people.insert(&email.value, (email, section));
        }
    }
    people
}

/// Every member's email in one of `policy.member_domains`, when it is set.
fn within_member_domains(file: &MembersFile, diags: &mut Vec<Diagnostic>) {
    let Some(domains) = &file.policy.member_domains else {
        return;
    };
    if domains.is_empty() {
        return;
    }
    let listed: Vec<&str> = domains.iter().map(|d| d.value.as_str()).collect();
    for member in &file.members {
        let email = &member.email;
        if !listed.contains(&email.value.domain()) {
            diags.push(
                Diagnostic::new(
                    email.loc,
                    format!(
                        "{} is outside policy.member_domains ({})",
                        email.value,
                        listed.join(", ")
                    ),
                )
                .label("outside the members' domains")
                .help("list the domain under policy.member_domains, or the person under guests:"),
            );
        }
    }
}

/// At most one `role: owner`.
fn one_owner(file: &MembersFile, diags: &mut Vec<Diagnostic>) {
    let mut owners = file
        .members
        .iter()
        .filter(|m| m.role.value == RoleName::Owner);
    if let Some(first) = owners.next() {
        for other in owners {
            diags.push(Diagnostic::new(
                other.role.loc,
                format!(
                    "only one person can have role: owner; {} already has it at {}",
                    first.email.value,
                    file.place(first.role.loc)
                ),
            ));
        }
    }
}

/// One access entry per folder, list or task of a guest.
fn each_share_once(file: &MembersFile, diags: &mut Vec<Diagnostic>) {
    for guest in &file.guests {
        let mut seen: HashMap<&ShareTarget, Loc> = HashMap::new();
        for access in guest.access.iter().flatten() {
            if let Some(first) = seen.get(access.target()) {
                diags.push(Diagnostic::new(
                    access.loc,
                    format!(
                        "{} is shared with {} twice (first at {}); keep one entry",
                        access.target(),
                        guest.email.value,
                        file.place(*first)
                    ),
                ));
            } else {
                seen.insert(access.target(), access.loc);
            }
        }
    }
}

/// Group names unique (case-insensitive), and each group's members listed, once.
fn groups_unique_and_listed(
    file: &MembersFile,
    people: &Listed<'_>,
    listing: Listing,
    diags: &mut Vec<Diagnostic>,
) {
    let mut groups: HashMap<String, Loc> = HashMap::new();
    for group in file.groups.iter().flatten() {
        let key = group.name.value.to_lowercase();
        if let Some(first) = groups.get(&key) {
            diags.push(
                Diagnostic::new(
                    group.name.loc,
                    format!(
                        "duplicate group name \"{}\": already defined at {}",
                        group.name.value,
                        file.place(*first)
                    ),
                )
                .label("defined twice")
                .help("group names are compared case-insensitively"),
            );
        } else {
            groups.insert(key, group.name.loc);
        }
        group_members_listed_once(file, group, people, listing, diags);
    }
}

/// A group's members each listed in `members` or `guests`, and once in the group.
fn group_members_listed_once(
    file: &MembersFile,
    group: &Group,
    people: &Listed<'_>,
    listing: Listing,
    diags: &mut Vec<Diagnostic>,
) {
    let mut in_group: HashMap<&Email, Loc> = HashMap::new();
    for member in &group.members {
        if listing == Listing::Whole && !people.contains_key(&member.value) {
            diags.push(
                Diagnostic::new(
                    member.loc,
                    format!(
                        "group \"{}\" lists {}, who is not in members or guests",
                        group.name.value, member.value
                    ),
                )
                .label("not listed")
                .help("add the person to `members:` or `guests:`, or remove them from the group"),
            );
        }
        if let Some(first) = in_group.get(&member.value) {
            diags.push(Diagnostic::new(
                member.loc,
                format!(
                    "{} is listed twice in group \"{}\" (first at {})",
                    member.value,
                    group.name.value,
                    file.place(*first)
                ),
            ));
        } else {
            in_group.insert(&member.value, member.loc);
        }
    }
}
