//! The access review (`report`, SPEC §7): one row per person in the live Workspace, then the
//! people the file lists who are not there yet. Who they are, on which seat and with what role,
//! whether they joined, whether the file lists them and the tool manages them, their groups,
//! when they were last active, invited and will lose access, and what an auditor should look at
//! (the flags). [`render`] writes the rows as CSV, JSON, text or markdown.

pub(crate) mod render;

use foldhash::{HashMap, HashMapExt, HashSet};

use serde::{Serialize, Serializer};
use time::OffsetDateTime;

use crate::clickup::wire::SnapshotDoc;
use crate::clock::add_days;
use crate::config::{MembersFile, Mode};
use crate::live::{Live, Person, UnknownRole};
use crate::model::{BaseRole, Email, UserId};
use crate::plan::{Change, Managed, Plan, RemoveReason};

/// `--inactive-days` when it is not given.
pub(crate) const DEFAULT_INACTIVE_DAYS: u32 = 90;

/// An invitation not accepted after this many days is `pending-long`.
pub(crate) const PENDING_LONG_DAYS: i64 = 30;

/// The columns, in their order (SPEC §7).
pub(crate) const COLUMNS: [&str; 12] = [
    "email",
    "name",
    "kind",
    "role",
    "status",
    "in_file",
    "managed",
    "groups",
    "last_active",
    "invited",
    "expires",
    "flags",
];

/// The seat a person holds, or would hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    Member,
    Guest,
}

impl Kind {
    pub(crate) fn key(self) -> &'static str {
        match self {
            Kind::Member => "member",
            Kind::Guest => "guest",
        }
    }
}

/// Whether the person joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    Active,
    Pending,
}

impl Status {
    pub(crate) fn key(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Pending => "pending",
        }
    }
}

/// What an auditor should look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Flag {
    /// No activity for `--inactive-days` (never for a pending invitee).
    Inactive,
    /// Invited more than 30 days ago and not joined.
    PendingLong,
    /// Their `expires` has passed: the next apply removes them (or, not in the Workspace any
    /// more, they are gone as the file asks).
    Expired,
    /// Their `expires` falls within `policy.expiry_notice_days`.
    Expiring,
    /// Additive mode: neither in the file nor managed, so left alone.
    Unmanaged,
    /// Not in the file: the next apply removes them.
    NotInFile,
    /// In the file, not in the Workspace.
    Missing,
}

impl Flag {
    pub(crate) const ALL: [Flag; 7] = [
        Flag::Inactive,
        Flag::PendingLong,
        Flag::Expired,
        Flag::Expiring,
        Flag::Unmanaged,
        Flag::NotInFile,
        Flag::Missing,
    ];

    pub(crate) fn key(self) -> &'static str {
        match self {
            Flag::Inactive => "inactive",
            Flag::PendingLong => "pending-long",
            Flag::Expired => "expired",
            Flag::Expiring => "expiring",
            Flag::Unmanaged => "unmanaged",
            Flag::NotInFile => "not-in-file",
            Flag::Missing => "missing",
        }
    }
}

/// One person of the review. Dates are UTC days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Row {
    /// The Workspace's id, in the review of a folder of Workspace files (`-f DIR`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) workspace: Option<String>,
    pub(crate) email: String,
    pub(crate) name: String,
    pub(crate) kind: Kind,
    pub(crate) role: String,
    /// `None` for people the Workspace does not have.
    pub(crate) status: Option<Status>,
    #[serde(serialize_with = "yes_no")]
    pub(crate) in_file: bool,
    #[serde(serialize_with = "yes_no")]
    pub(crate) managed: bool,
    pub(crate) groups: Vec<String>,
    #[serde(serialize_with = "day")]
    pub(crate) last_active: Option<time::Date>,
    #[serde(serialize_with = "day")]
    pub(crate) invited: Option<time::Date>,
    #[serde(serialize_with = "day")]
    pub(crate) expires: Option<time::Date>,
    pub(crate) flags: Vec<Flag>,
}

fn day<S: Serializer>(date: &Option<time::Date>, s: S) -> Result<S::Ok, S::Error> {
    match date {
        Some(date) => s.serialize_str(&crate::config::day(*date)),
        None => s.serialize_none(),
    }
}

fn yes_no<S: Serializer>(value: &bool, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(if *value { "yes" } else { "no" })
}

/// What the review is made from: the file, the Workspace (as the model and as ClickUp
/// shaped it, for the dates), the plan the file makes of it, and who the state manages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sources<'a> {
    pub(crate) file: &'a MembersFile,
    pub(crate) live: &'a Live,
    pub(crate) doc: &'a SnapshotDoc,
    pub(crate) plan: &'a Plan,
    pub(crate) managed: &'a Managed,
}

/// When the review is made, and how long without activity is `inactive`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    pub(crate) now: OffsetDateTime,
    pub(crate) inactive_days: u32,
}

/// A person as the file lists them.
struct Listed<'a> {
    kind: Kind,
    role: &'a str,
}

/// When a person was last active, joined and was invited, as ClickUp says.
#[derive(Default)]
struct Dates {
    last_active: Option<OffsetDateTime>,
    joined: Option<OffsetDateTime>,
    invited: Option<OffsetDateTime>,
}

/// ClickUp's milliseconds since the Unix epoch.
fn instant(ms: Option<&str>) -> Option<OffsetDateTime> {
    let ms: i64 = ms?.trim().parse().ok()?;
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}

/// The rows of the review: the Workspace's people by email, then those the file lists who are
/// not in it, by email.
pub(crate) fn rows(sources: Sources<'_>, options: Options) -> Vec<Row> {
    let live = sources.live;
    let mut review = Review::new(sources, options);
    let mut rows = Vec::with_capacity(live.people.len() + live.unknown_roles.len());
    for person in &live.people {
        rows.push(review.live_row(person));
    }
    // ClickUp lists them without an email or with a role the tool does not know: shown so
    // that no one with access is left out of the review.
    for person in &live.unknown_roles {
        rows.push(review.unknown_role_row(person));
    }
    rows.sort_by(|a, b| a.email.cmp(&b.email));
    let mut missing = review.missing_rows();
    missing.sort_by(|a, b| a.email.cmp(&b.email));
    rows.extend(missing);
    for row in &mut rows {
        row.flags.sort();
    }
    rows
}

/// What the rows are made from, looked up by person.
struct Review<'a> {
    live: &'a Live,
    managed: &'a Managed,
    /// Everyone the file lists, with the seat and role it gives them.
    listed: HashMap<&'a Email, Listed<'a>>,
    /// When each person's access ends, as the file says.
    expiries: HashMap<&'a Email, OffsetDateTime>,
    /// What ClickUp says of each person's activity.
    dates: HashMap<UserId, Dates>,
    /// The names of the groups each person is in; taken as their row is made.
    groups: HashMap<UserId, Vec<String>>,
    /// Why the plan removes whom it removes.
    removed: HashMap<&'a Email, &'a RemoveReason>,
    /// Whom the plan leaves alone in additive mode.
    unmanaged: HashSet<&'a Email>,
    now: OffsetDateTime,
    /// An `expires` before this is `expiring`.
    notice: OffsetDateTime,
    /// No activity since this is `inactive`.
    inactive_since: OffsetDateTime,
    /// Invited before this and not joined is `pending-long`.
    pending_since: OffsetDateTime,
}

impl<'a> Review<'a> {
    fn new(sources: Sources<'a>, options: Options) -> Review<'a> {
        let Sources {
            file,
            live,
            doc,
            plan,
            managed,
        } = sources;
        let now = options.now;
        Review {
            live,
            managed,
            listed: listed(file),
            expiries: file
                .expiries()
                .map(|(email, expires)| (email, expires.value.0))
                .collect(),
            dates: dates(doc),
            groups: groups(live),
            removed: plan
                .changes
                .iter()
                .filter_map(|c| match c {
                    Change::Remove(remove) => Some((&remove.email, &remove.reason)),
                    _ => None,
                })
                .collect(),
            unmanaged: match plan.mode {
                Mode::Additive => plan.unmanaged.iter().collect(),
                Mode::Authoritative => HashSet::default(),
            },
            now,
            notice: add_days(now, i64::from(file.policy.expiry_notice_days)),
            inactive_since: add_days(now, -i64::from(options.inactive_days)),
            pending_since: add_days(now, -PENDING_LONG_DAYS),
        }
    }

    /// A person of the Workspace.
    fn live_row(&mut self, person: &Person) -> Row {
        let email = &person.email;
        let status = if person.pending {
            Status::Pending
        } else {
            Status::Active
        };
        let known = self.dates.get(&person.id);
        let mut flags = Vec::new();
        if let Some(known) = known {
            self.activity_flags(known, status, &mut flags);
        }
        self.expiry_flags(email, &mut flags);
        if self.unmanaged.contains(email) {
            flags.push(Flag::Unmanaged);
        }
        if matches!(
            self.removed.get(email),
            Some(RemoveReason::NotListed | RemoveReason::NoLongerListed)
        ) {
            flags.push(Flag::NotInFile);
        }
        let last_active = known.and_then(|d| d.last_active).map(|t| t.date());
        let invited = known.and_then(|d| d.invited).map(|t| t.date());
        let mut in_groups = self.groups.remove(&person.id).unwrap_or_default();
        in_groups.sort_by_key(|g| g.to_lowercase());
        let role = match &person.custom_role {
            Some(custom) if person.role != BaseRole::Owner => self.live.custom_role_name(custom),
            _ => person.role.name().to_owned(),
        };
        Row {
            workspace: None,
            email: email.to_string(),
            name: person.username.clone().unwrap_or_default(),
            kind: if person.role == BaseRole::Guest {
                Kind::Guest
            } else {
                Kind::Member
            },
            role,
            status: Some(status),
            in_file: self.listed.contains_key(email),
            // SPEC §1: the tool manages whom the file lists and whom the state records.
            managed: self.listed.contains_key(email) || self.managed.people.contains(email),
            groups: in_groups,
            last_active,
            invited,
            expires: self.expiries.get(email).map(|t| t.date()),
            flags,
        }
    }

    /// Someone ClickUp lists without an email or with a role the tool does not know.
    fn unknown_role_row(&mut self, person: &UnknownRole) -> Row {
        let email = person.email.as_ref();
        let listed = |e: &Email| self.listed.contains_key(e);
        Row {
            workspace: None,
            email: email.map(Email::to_string).unwrap_or_default(),
            name: String::new(),
            kind: Kind::Member,
            role: format!("unknown ({})", person.why),
            status: Some(Status::Active),
            in_file: email.is_some_and(listed),
            managed: email.is_some_and(|e| listed(e) || self.managed.people.contains(e)),
            groups: self.groups.remove(&person.id).unwrap_or_default(),
            last_active: None,
            invited: None,
            expires: None,
            flags: Vec::new(),
        }
    }

    /// The people the file lists whom the Workspace does not have.
    fn missing_rows(&self) -> Vec<Row> {
        let mut missing = Vec::new();
        for (email, wanted) in &self.listed {
            if self.live.position(email).is_some() {
                continue;
            }
            let mut flags = Vec::new();
            self.expiry_flags(email, &mut flags);
            // One whose access has ended is not missing: being gone is what the file asks.
            if !flags.contains(&Flag::Expired) {
                flags.push(Flag::Missing);
            }
            missing.push(Row {
                workspace: None,
                email: email.to_string(),
                name: String::new(),
                kind: wanted.kind,
                role: wanted.role.to_owned(),
                status: None,
                in_file: true,
                // Managed as SPEC §1 says: the file lists them (the next apply invites them).
                managed: true,
                groups: Vec::new(),
                last_active: None,
                invited: None,
                expires: self.expiries.get(email).map(|t| t.date()),
                flags,
            });
        }
        missing
    }

    /// `inactive` for one who joined and was not seen since (or never since joining),
    /// `pending-long` for an invitation left too long.
    fn activity_flags(&self, known: &Dates, status: Status, flags: &mut Vec<Flag>) {
        match status {
            Status::Active => {
                if known
                    .last_active
                    .or(known.joined)
                    .is_some_and(|at| at < self.inactive_since)
                {
                    flags.push(Flag::Inactive);
                }
            }
            Status::Pending => {
                if known.invited.is_some_and(|at| at < self.pending_since) {
                    flags.push(Flag::PendingLong);
                }
            }
        }
    }

    /// `expired` or `expiring`, as the file's `expires` says.
    fn expiry_flags(&self, email: &Email, flags: &mut Vec<Flag>) {
        if let Some(at) = self.expiries.get(email) {
            if *at <= self.now {
                flags.push(Flag::Expired);
            } else if *at <= self.notice {
                flags.push(Flag::Expiring);
            }
        }
    }
}

/// Everyone the file lists, with the seat and the role it gives them.
fn listed(file: &MembersFile) -> HashMap<&Email, Listed<'_>> {
    let mut listed = HashMap::with_capacity(file.members.len() + file.guests.len());
    for member in &file.members {
        let role = member.role.value.as_str();
        listed.insert(
            &member.email.value,
            Listed {
                kind: Kind::Member,
                role,
            },
        );
    }
    for guest in &file.guests {
        let role = guest
            .custom_role
            .as_ref()
            .map_or(BaseRole::Guest.name(), |r| r.value.as_str());
        listed.insert(
            &guest.email.value,
            Listed {
                kind: Kind::Guest,
                role,
            },
        );
    }
    listed
}

/// When each person was last active, joined and was invited, as ClickUp's document says.
fn dates(doc: &SnapshotDoc) -> HashMap<UserId, Dates> {
    doc.team
        .members
        .iter()
        .map(|m| {
            let user = &m.user;
            let dates = Dates {
                last_active: instant(user.last_active.as_deref()),
                joined: instant(user.date_joined.as_deref()),
                invited: instant(user.date_invited.as_deref()),
            };
            (user.id, dates)
        })
        .collect()
}

/// The names of the groups each person is in.
fn groups(live: &Live) -> HashMap<UserId, Vec<String>> {
    let mut groups: HashMap<UserId, Vec<String>> = HashMap::new();
    for group in live.groups.iter().flatten() {
        for (id, _) in &group.members {
            groups.entry(*id).or_default().push(group.name.clone());
        }
    }
    groups
}

#[cfg(test)]
mod tests;
