//! From what the rules read to the fragment's entries, and how they differ from the fragment
//! as it is (SPEC §11). A person several rules match is a member when any member rule matches,
//! gets the highest role (admin, then a custom role, then member; among custom roles the first
//! rule's), joins the union of the rules' groups, and expires only when every rule that
//! matched them gives a date (the latest). A person listed by hand anywhere else wins: they are
//! not written, and are reported as kept as written. Then the refusals: too many changes, or a
//! group read as empty while the fragment holds its people. Pure.

use std::collections::{BTreeMap, HashMap};

use crate::config::{Expiry, Joins, MembersFile, RoleName, Rule};
use crate::model::Email;
use crate::sync::csv::Row;

/// A person as the fragment lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) email: Email,
    pub(crate) joins: Joins,
    /// A member's role (`None`: member); a guest's custom role.
    pub(crate) role: Option<String>,
    /// User groups, as the file names them, sorted.
    pub(crate) groups: Vec<String>,
    pub(crate) expires: Option<Expiry>,
    /// The rules that brought them (`okta:00g1abcd`), sorted.
    pub(crate) source: Vec<String>,
}

/// One person a rule's group holds, with what a csv row says of them.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub(crate) email: Email,
    pub(crate) row: Option<Row>,
}

/// What each rule read, in the order of the rules.
#[derive(Debug, Clone, Default)]
pub(crate) struct RuleRead {
    pub(crate) found: Vec<Found>,
    /// Users (or rows) the source returned.
    pub(crate) read: usize,
    pub(crate) pages: usize,
    /// Left out: inactive, disabled, not a user, or without a usable email.
    pub(crate) dropped: usize,
}

/// What the fragment should hold, and how that differs from what it holds.
#[derive(Debug, Default)]
pub(crate) struct Merged {
    /// Every entry the fragment should hold, members then guests, each sorted by email.
    pub(crate) entries: Vec<Entry>,
    pub(crate) added: Vec<Decided>,
    pub(crate) removed: Vec<Entry>,
    pub(crate) changed: Vec<Changed>,
    /// People the rules match whom a file lists by hand: email, file and line.
    pub(crate) kept: Vec<(Email, String, u64)>,
    /// How many of the fragment's entries (before this sync) each rule brought, by name.
    pub(crate) held: HashMap<String, usize>,
}

/// An entry, and the rule that decided it (its kind and role).
#[derive(Debug, Clone)]
pub(crate) struct Decided {
    pub(crate) entry: Entry,
    pub(crate) by: String,
}

/// An entry that changes.
#[derive(Debug, Clone)]
pub(crate) struct Changed {
    pub(crate) from: Entry,
    pub(crate) to: Entry,
    pub(crate) by: String,
}

impl Merged {
    /// How many people are added, removed or changed.
    pub(crate) fn changes(&self) -> usize {
        self.added.len() + self.removed.len() + self.changed.len()
    }
}

/// A person as the rules that matched them so far make them.
#[derive(Debug)]
struct Making {
    joins: Joins,
    /// The role's rank (admin 3, custom 2, member 1; for a guest: custom 2, none 0), the role,
    /// and the rule that gave it.
    role: (u8, Option<String>, usize),
    expires: Expiring,
    /// The rules that matched them, by index, each once: their groups and names are the
    /// entry's `groups` and `source` (made once a rule, not once a person).
    matched: Vec<usize>,
}

/// When a person expires, as the rules of their kind that matched them say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expiring {
    /// No rule of their kind has matched them yet.
    Unset,
    /// Every rule that matched gives a date: the latest.
    Until(Expiry),
    /// A rule without a date matched them.
    Never,
}

impl Expiring {
    fn and(self, date: Option<Expiry>) -> Expiring {
        match (self, date) {
            (Expiring::Never, _) | (_, None) => Expiring::Never,
            (Expiring::Unset, Some(date)) => Expiring::Until(date),
            (Expiring::Until(mine), Some(date)) => Expiring::Until(mine.max(date)),
        }
    }
}

/// The fragment's entries from what the rules read; `into` is the fragment's number among the
/// file's ([`crate::diag::Loc::file`]), `None` when it is not written yet.
pub(crate) fn merge(
    file: &MembersFile,
    rules: &[Rule],
    reads: &[RuleRead],
    into: Option<u16>,
) -> Merged {
    let group_names: HashMap<String, &str> = file
        .groups
        .iter()
        .flatten()
        .map(|g| (g.name.value.to_lowercase(), g.name.value.as_str()))
        .collect();
    // Each rule's name and user groups (as the file names them), made once.
    let names: Vec<String> = rules.iter().map(Rule::name).collect();
    let joins: Vec<Vec<String>> = rules
        .iter()
        .map(|rule| {
            rule.groups
                .iter()
                .map(|g| {
                    group_names
                        .get(&g.value.to_lowercase())
                        .map_or_else(|| g.value.clone(), |name| (*name).to_owned())
                })
                .collect()
        })
        .collect();
    let mut people: BTreeMap<Email, Making> = BTreeMap::new();
    for (index, (rule, read)) in rules.iter().zip(reads).enumerate() {
        for found in &read.found {
            let making = people.entry(found.email.clone()).or_insert_with(|| Making {
                joins: Joins::Guest,
                role: (0, None, index),
                expires: Expiring::Unset,
                matched: Vec::new(),
            });
            add(making, rule, index, found.row.as_ref());
        }
    }
    let hand_written = listed_by_hand(file, into);
    let mut merged = Merged::default();
    // Sorted by email, as `people` is.
    let mut wanted: Vec<(Entry, usize)> = Vec::with_capacity(people.len());
    for (email, making) in people {
        if let Some((file_name, line)) = hand_written.get(&email) {
            merged.kept.push((email, file_name.clone(), *line));
            continue;
        }
        let by = making.role.2;
        wanted.push((entry(email, making, &names, &joins), by));
    }
    let mut current = in_fragment(file, into);
    for entry in current.values() {
        for name in &entry.source {
            *merged.held.entry(name.clone()).or_default() += 1;
        }
    }
    for (entry, by) in &wanted {
        let by = names[*by].clone();
        match current.remove(&entry.email) {
            None => merged.added.push(Decided {
                entry: entry.clone(),
                by,
            }),
            Some(before) if before != *entry => merged.changed.push(Changed {
                from: before,
                to: entry.clone(),
                by,
            }),
            Some(_) => {}
        }
    }
    // Whom no rule holds now: those left of the fragment's entries.
    merged.removed = current.into_values().collect();
    let (mut members, guests): (Vec<Entry>, Vec<Entry>) = wanted
        .into_iter()
        .map(|(entry, _)| entry)
        .partition(|e| e.joins == Joins::Member);
    members.extend(guests);
    merged.entries = members;
    merged
}

/// Adds what rule `index` (and the person's csv row) says to a person.
fn add(making: &mut Making, rule: &Rule, index: usize, row: Option<&Row>) {
    let joins = row.and_then(|r| r.joins).unwrap_or(rule.joins);
    let role = row
        .and_then(|r| r.role.clone())
        .or_else(|| rule.role.as_ref().map(|r| r.value.clone()));
    let expires = row
        .and_then(|r| r.expires)
        .or_else(|| rule.expires.as_ref().map(|e| e.value));
    // A member rule outranks every guest rule: what the guest rules said of the role goes.
    if joins == Joins::Member && making.joins == Joins::Guest {
        making.joins = Joins::Member;
        making.role = (0, None, index);
        making.expires = Expiring::Unset;
    }
    if joins == making.joins {
        let rank = rank(role.as_ref(), joins);
        if rank > making.role.0 {
            let name = match role {
                Some(RoleName::Admin) => Some("admin".to_owned()),
                Some(RoleName::Custom(name)) => Some(name),
                _ => None,
            };
            making.role = (rank, name, index);
        }
        making.expires = making.expires.and(expires);
    }
    // The rules are read in order: a rule that matched already is the last one.
    if making.matched.last() != Some(&index) {
        making.matched.push(index);
    }
}

/// admin 3, a custom role 2, member 1; for a guest a custom role 2, none 1.
fn rank(role: Option<&RoleName>, joins: Joins) -> u8 {
    match (joins, role) {
        (Joins::Member, Some(RoleName::Admin)) => 3,
        (_, Some(RoleName::Custom(_))) => 2,
        _ => 1,
    }
}

/// The entry of a person the rules made: `names` and `joins` are each rule's name and user
/// groups.
fn entry(email: Email, making: Making, names: &[String], joins: &[Vec<String>]) -> Entry {
    let mut groups: Vec<String> = making
        .matched
        .iter()
        .flat_map(|i| joins[*i].iter().cloned())
        .collect();
    groups.sort_unstable();
    groups.dedup();
    let mut source: Vec<String> = making.matched.iter().map(|i| names[*i].clone()).collect();
    source.sort_unstable();
    source.dedup();
    Entry {
        email,
        joins: making.joins,
        role: making.role.1,
        groups,
        expires: match making.expires {
            Expiring::Until(date) => Some(date),
            Expiring::Unset | Expiring::Never => None,
        },
        source,
    }
}

/// Everyone listed outside the fragment, with their file and line.
fn listed_by_hand(file: &MembersFile, into: Option<u16>) -> HashMap<Email, (String, u64)> {
    let place = |loc: crate::diag::Loc| {
        let name = file
            .files
            .get(usize::from(loc.file))
            .cloned()
            .unwrap_or_default();
        (name, u64::from(loc.line))
    };
    file.people()
        .filter(|email| Some(email.loc.file) != into)
        .map(|email| (email.value.clone(), place(email.loc)))
        .collect()
}

/// The entries the fragment holds now.
fn in_fragment(file: &MembersFile, into: Option<u16>) -> BTreeMap<Email, Entry> {
    let Some(into) = into else {
        return BTreeMap::new();
    };
    let sorted = |list: &[crate::config::At<String>]| {
        let mut names: Vec<String> = list.iter().map(|g| g.value.clone()).collect();
        names.sort();
        names
    };
    let members = file
        .members
        .iter()
        .filter(|m| m.email.loc.file == into)
        .map(|m| Entry {
            email: m.email.value.clone(),
            joins: Joins::Member,
            role: match &m.role.value {
                RoleName::Member => None,
                other => Some(other.as_str().to_owned()),
            },
            groups: sorted(&m.groups),
            expires: m.expires.as_ref().map(|e| e.value),
            source: sorted(&m.source),
        });
    let guests = file
        .guests
        .iter()
        .filter(|g| g.email.loc.file == into)
        .map(|g| Entry {
            email: g.email.value.clone(),
            joins: Joins::Guest,
            role: g.custom_role.as_ref().map(|r| r.value.clone()),
            groups: sorted(&g.groups),
            expires: g.expires.as_ref().map(|e| e.value),
            source: sorted(&g.source),
        });
    members
        .chain(guests)
        .map(|e| (e.email.clone(), e))
        .collect()
}
