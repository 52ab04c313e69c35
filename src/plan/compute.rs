//! The diff itself: set arithmetic between the file and the live Workspace, every rule of
//! SPEC §1–§2 (the user groups' in [`groups`](crate::plan::groups)). Pure: no file, network,
//! clock or environment.

use std::collections::{BTreeMap, BTreeSet};

use foldhash::HashSet;

use std::fmt::Write as _;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::config::{Guest, Member, MembersFile, Mode, RoleName};
use crate::live::{Live, Person};
use crate::model::{BaseRole, Email, Share, ShareTarget, UserId};
use crate::plan::groups::group_changes;
use crate::plan::{
    Census, Change, CurrentRole, CustomRoleChange, FlagChange, Invite, Kind, Managed, Plan,
    PlanError, Remove, RemoveReason, Replace, ReplaceReason, RoleRef, Seat, ShareChange,
    TargetRole, UpdateGuest, UpdateMember,
};

/// Computes the plan that makes `live` match `file`, given what the state records as managed.
pub(crate) fn compute(
    file: &MembersFile,
    live: &Live,
    managed: &Managed,
    now: OffsetDateTime,
) -> Result<Plan, Vec<PlanError>> {
    compute_with(file, live, managed, live_fingerprint(live), now)
}

/// [`compute`], with the live Workspace's fingerprint already known.
pub(crate) fn compute_with(
    file: &MembersFile,
    live: &Live,
    managed: &Managed,
    live_fingerprint: String,
    now: OffsetDateTime,
) -> Result<Plan, Vec<PlanError>> {
    // The file's digest is independent of the rest: made beside it.
    std::thread::scope(|scope| {
        let digest = scope.spawn(|| config_digest(file));
        let plan = changes(file, live, managed, live_fingerprint, now);
        let digest = digest
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        plan.map(|plan| Plan {
            config_digest: digest,
            ..plan
        })
    })
}

/// The plan, but for the file's digest.
fn changes(
    file: &MembersFile,
    live: &Live,
    managed: &Managed,
    live_fingerprint: String,
    now: OffsetDateTime,
) -> Result<Plan, Vec<PlanError>> {
    let mut draft = Draft::default();
    check_workspace(file, live, &mut draft.errors);
    let (expired, expiring) = expiries(file, now);
    let inputs = Inputs {
        file,
        live,
        managed,
        expired,
        exempt: Exempt::of(file, live),
    };
    let listed = inputs.listed_changes(&mut draft);
    inputs.unlisted_changes(&listed, &mut draft);
    inputs.unknown_roles(&mut draft);
    if file.groups.is_some() {
        match &live.groups {
            Some(live_groups) => {
                let groups =
                    group_changes(&inputs, live_groups, &draft.changes, &mut draft.warnings);
                draft.changes.extend(groups);
            }
            None => draft.errors.push(PlanError::general(
                "the file manages groups but the Workspace's groups were not read",
            )),
        }
    }
    admins_outside_bounds(file, live, &mut draft.warnings);
    draft.into_plan(file, live, expiring, live_fingerprint)
}

/// What each step of a plan reads: the file, the Workspace, whom the state manages, who has
/// expired and who is never removed.
pub(super) struct Inputs<'a> {
    pub(super) file: &'a MembersFile,
    live: &'a Live,
    pub(super) managed: &'a Managed,
    /// From their `expires` on, people are as absent from the file (and its groups).
    pub(super) expired: BTreeMap<&'a Email, time::Date>,
    pub(super) exempt: Exempt<'a>,
}

/// What the steps of a plan have found so far.
#[derive(Default)]
struct Draft {
    changes: Vec<Change>,
    errors: Vec<PlanError>,
    warnings: Vec<String>,
    unmanaged: Vec<Email>,
    unknown: Vec<String>,
}

/// Who the plan never removes nor takes out of a group: the owner, the token's user and
/// `policy.protected`. By email and by id: ClickUp's answers may disagree on one person's
/// email.
pub(super) struct Exempt<'a> {
    owner: Option<&'a Email>,
    owner_id: Option<UserId>,
    me: &'a crate::live::Me,
    protected: HashSet<&'a Email>,
}

impl<'a> Exempt<'a> {
    fn of(file: &'a MembersFile, live: &'a Live) -> Exempt<'a> {
        Exempt {
            owner: live.owner().map(|p| &p.email),
            owner_id: live.owner().map(|p| p.id),
            me: &live.me,
            protected: file.policy.protected.iter().map(|e| &e.value).collect(),
        }
    }

    pub(super) fn covers(&self, id: UserId, email: &Email) -> bool {
        Some(email) == self.owner
            || Some(id) == self.owner_id
            || *email == self.me.email
            || id == self.me.id
            || self.protected.contains(email)
    }
}

/// Who has expired (from their `expires` on, as absent from the file), and who expires within
/// `policy.expiry_notice_days`, with the day (the plan tells them).
fn expiries(
    file: &MembersFile,
    now: OffsetDateTime,
) -> (BTreeMap<&Email, time::Date>, Vec<(Email, String)>) {
    let notice = crate::clock::add_days(now, i64::from(file.policy.expiry_notice_days));
    let mut expired = BTreeMap::new();
    let mut expiring = Vec::new();
    for (email, expires) in file.expiries() {
        if expires.value.0 <= now {
            expired.insert(email, expires.value.0.date());
        } else if expires.value.0 <= notice {
            expiring.push((email.clone(), expires.value.day()));
        }
    }
    (expired, expiring)
}

impl Inputs<'_> {
    /// The invitations and updates of the people the file lists (but the expired). Returns who
    /// in the Workspace the file lists, by their index in `live.people`.
    fn listed_changes(&self, draft: &mut Draft) -> Vec<bool> {
        let live = self.live;
        // Marked as each is looked up once.
        let mut listed = vec![false; live.people.len()];
        let mut find = |email: &Email| {
            let at = live.position(email);
            if let Some(i) = at {
                listed[i] = true;
            }
            at.map(|i| &live.people[i])
        };
        let current = |email: &Email| !self.expired.contains_key(email);
        for member in self.file.members.iter().filter(|m| current(&m.email.value)) {
            let person = find(&member.email.value);
            match member_change(member, person, live, &mut draft.errors) {
                Ok(Some(change)) => draft.changes.push(change),
                Ok(None) => {}
                Err(e) => draft.errors.push(e),
            }
        }
        for guest in self.file.guests.iter().filter(|g| current(&g.email.value)) {
            match guest_change(guest, find(&guest.email.value), live) {
                Ok(Some(change)) => draft.changes.push(change),
                Ok(None) => {}
                Err(e) => draft.errors.extend(e),
            }
        }
        listed
    }

    /// The removals of the people in the Workspace the file does not list (or lists expired),
    /// as the mode says; the others unlisted are left alone, and told as unmanaged.
    fn unlisted_changes(&self, listed: &[bool], draft: &mut Draft) {
        let live = self.live;
        // One email held by two people in the Workspace: both count as listed.
        let is_listed = |person: &Person| live.position(&person.email).is_some_and(|i| listed[i]);
        let owner = live.owner().map(|p| &p.email);
        for (i, person) in live.people.iter().enumerate() {
            if listed[i] || is_listed(person) {
                continue;
            }
            let lapsed = self.expired.get(&person.email).copied();
            match self.removal_reason(person, lapsed, &mut draft.warnings) {
                Some(reason) => draft.changes.push(removal(person, reason)),
                None if Some(&person.email) != owner
                    && person.email != live.me.email
                    && lapsed.is_none() =>
                {
                    draft.unmanaged.push(person.email.clone());
                }
                None => {}
            }
        }
    }

    /// Why an unlisted person is removed, if they are: `lapsed` is the day they expired on.
    fn removal_reason(
        &self,
        person: &Person,
        lapsed: Option<time::Date>,
        warnings: &mut Vec<String>,
    ) -> Option<RemoveReason> {
        match self.file.policy.mode {
            _ if self.exempt.covers(person.id, &person.email) => {
                if let Some(day) = lapsed {
                    warnings.push(format!(
                        "{} expired on {day}, but is the owner, the token's user or protected: kept",
                        person.email
                    ));
                }
                None
            }
            // Expired people stay managed (the file lists them): removed in both modes.
            _ if lapsed.is_some() => lapsed.map(RemoveReason::Expired),
            Mode::Authoritative => Some(RemoveReason::NotListed),
            Mode::Additive if self.managed.people.contains(&person.email) => {
                Some(RemoveReason::NoLongerListed)
            }
            Mode::Additive => None,
        }
    }

    /// The people whose role the tool cannot tell: left alone, and an error when the file
    /// lists them.
    fn unknown_roles(&self, draft: &mut Draft) {
        let in_file = |email: &Email| {
            !self.expired.contains_key(email)
                && self.file.people().any(|listed| listed.value == *email)
        };
        for person in &self.live.unknown_roles {
            match &person.email {
                Some(email) if in_file(email) => draft.errors.push(PlanError::general(format!(
                    "{email} is in the Workspace, but the tool cannot tell their role ({}); remove them from the file, the tool leaves them alone",
                    person.why
                ))),
                _ => draft.unknown.push(person.describe()),
            }
        }
    }
}

/// The removal of `person` from the Workspace.
fn removal(person: &Person, reason: RemoveReason) -> Change {
    Change::Remove(Remove {
        email: person.email.clone(),
        user_id: person.id,
        kind: if person.role == BaseRole::Guest {
            Kind::Guest
        } else {
            Kind::Member
        },
        pending: person.pending,
        reason,
    })
}

/// A warning when the Workspace already holds more or fewer admins than `policy.admins`
/// allows: plans that do not make it worse are still allowed.
fn admins_outside_bounds(file: &MembersFile, live: &Live, warnings: &mut Vec<String>) {
    let Some(bounds) = &file.policy.admins else {
        return;
    };
    let before = crate::plan::admins::held(live);
    if bounds.distance(before) > 0 {
        warnings.push(format!(
            "the Workspace has {before} people with admin rights (the owner, admins and custom roles that inherit admin), outside policy.admins ({}); plans that keep the count or move it towards the bounds are allowed",
            bounds.describe()
        ));
    }
}

impl Draft {
    /// The plan, once every step has run: the errors if there are any, else the changes in
    /// the order they are applied.
    fn into_plan(
        self,
        file: &MembersFile,
        live: &Live,
        expiring: Vec<(Email, String)>,
        live_fingerprint: String,
    ) -> Result<Plan, Vec<PlanError>> {
        let Draft {
            mut changes,
            mut errors,
            warnings,
            mut unmanaged,
            unknown,
        } = self;
        if !errors.is_empty() {
            errors.sort_by(|a, b| a.loc.cmp(&b.loc).then(a.message.cmp(&b.message)));
            errors.dedup();
            return Err(errors);
        }
        changes.sort_by_cached_key(|c| (c.rank(), c.kind(), c.subject().to_lowercase()));
        let leaving: BTreeSet<&Email> = changes
            .iter()
            .filter(|c| matches!(c, Change::Remove(_) | Change::Replace(_)))
            .filter_map(Change::email)
            .collect();
        let pending = live
            .people
            .iter()
            .filter(|p| p.pending && !leaving.contains(&p.email))
            .map(|p| p.email.clone())
            .collect();
        unmanaged.sort();
        Ok(Plan {
            workspace_id: live.workspace_id.clone(),
            workspace_name: live.workspace_name.clone(),
            mode: file.policy.mode,
            max_removals: file.policy.max_removals,
            changes,
            unmanaged,
            unknown,
            warnings,
            expiring,
            pending,
            census: census(live),
            live_fingerprint,
            config_digest: String::new(),
            drift: BTreeSet::new(),
        })
    }
}

/// `sha256:<hex>` of the live Workspace as the plan saw it (only what plans depend on).
pub(crate) fn live_fingerprint(live: &Live) -> String {
    let mut hasher = Hasher(Sha256::new());
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, &mut hasher);
    let _ = serde_json::to_writer(&mut buffered, live);
    drop(buffered);
    hasher.hex()
}

/// `sha256:<hex>` of the file's meaning: comments, layout and order do not count.
pub(crate) fn config_digest(file: &MembersFile) -> String {
    let mut hasher = Hasher(Sha256::new());
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, &mut hasher);
    let _ = file.write_meaning(&mut buffered);
    drop(buffered);
    hasher.hex()
}

/// SHA-256 over what is written into it, so that nothing large is built first.
struct Hasher(Sha256);

impl std::io::Write for Hasher {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Hasher {
    fn hex(self) -> String {
        let mut out = String::with_capacity(7 + 64);
        out.push_str("sha256:");
        for byte in self.0.finalize() {
            let _ = write!(out, "{byte:02x}");
        }
        out
    }
}

fn census(live: &Live) -> Census {
    let count = |role| live.people.iter().filter(|p| p.role == role).count();
    Census {
        people: live.people.len() + live.unknown_roles.len(),
        owners: count(BaseRole::Owner),
        admins: count(BaseRole::Admin),
        members: count(BaseRole::Member),
        guests: count(BaseRole::Guest),
        pending: live.people.iter().filter(|p| p.pending).count(),
        groups: live.groups.as_ref().map(Vec::len),
    }
}

fn check_workspace(file: &MembersFile, live: &Live, errors: &mut Vec<PlanError>) {
    let id = &file.workspace.id;
    if id.value != live.workspace_id {
        errors.push(PlanError::at(
            id.loc,
            format!(
                "the file describes Workspace {}, but Workspace {} (\"{}\") was read",
                id.value, live.workspace_id, live.workspace_name
            ),
        ));
    }
    if let Some(name) = &file.workspace.name
        && name.value != live.workspace_name
    {
        errors.push(PlanError::at(
            name.loc,
            format!(
                "workspace.name is \"{}\" but Workspace {} is called \"{}\"; fix the name or the id",
                name.value, live.workspace_id, live.workspace_name
            ),
        ));
    }
}

fn current_role(person: &Person, live: &Live) -> CurrentRole {
    match (&person.custom_role, person.role) {
        (Some(custom), BaseRole::Admin | BaseRole::Member | BaseRole::Guest) => {
            CurrentRole::Custom {
                id: custom.id,
                name: live.custom_role_name(custom),
            }
        }
        (_, role) => CurrentRole::Builtin(role),
    }
}

/// A custom role named in the file, which must exist and extend one of `bases`.
fn resolve_custom(
    name: &str,
    loc: crate::diag::Loc,
    live: &Live,
    bases: &[BaseRole],
    who: &Email,
) -> Result<RoleRef, PlanError> {
    let Some(roles) = &live.custom_roles else {
        return Err(PlanError::at(
            loc,
            format!(
                "custom role \"{name}\" cannot be checked: the Workspace's custom roles were not read"
            ),
        ));
    };
    let Some(role) = live.custom_role_named(name) else {
        let mut known: Vec<&str> = roles.iter().map(|r| r.name.as_str()).collect();
        known.sort_by_key(|n| n.to_lowercase());
        let known = if known.is_empty() {
            "the Workspace has no custom roles".to_owned()
        } else {
            format!("the Workspace has: {}", known.join(", "))
        };
        return Err(PlanError::at(
            loc,
            format!(
                "{who}: unknown role \"{name}\"; roles are admin, member, owner or a custom role, and {known}"
            ),
        ));
    };
    match role.inherited {
        Some(base) if bases.contains(&base) => Ok(RoleRef {
            id: role.id,
            name: role.name.clone(),
            base,
        }),
        inherited => {
            let wanted: Vec<&str> = bases.iter().map(|b| b.name()).collect();
            let actual = inherited.map_or("an unknown role", |b| b.name());
            Err(PlanError::at(
                loc,
                format!(
                    "{who}: custom role \"{}\" extends {actual}, but here it must extend {}",
                    role.name,
                    wanted.join(" or ")
                ),
            ))
        }
    }
}

fn member_change(
    member: &Member,
    person: Option<&Person>,
    live: &Live,
    errors: &mut Vec<PlanError>,
) -> Result<Option<Change>, PlanError> {
    let email = &member.email.value;
    let target = match &member.role.value {
        RoleName::Owner => {
            return match person {
                Some(p) if p.role == BaseRole::Owner => Ok(None),
                _ => {
                    let owner = live
                        .owner()
                        .map_or("nobody".to_owned(), |o| o.email.to_string());
                    Err(PlanError::at(
                        member.role.loc,
                        format!(
                            "{email} has role: owner, but the Workspace owner is {owner}; ownership cannot be given, taken or transferred through ClickUp's API"
                        ),
                    ))
                }
            };
        }
        RoleName::Admin => TargetRole::Admin,
        RoleName::Member => TargetRole::Member,
        RoleName::Custom(name) => {
            match resolve_custom(
                name,
                member.role.loc,
                live,
                &[BaseRole::Admin, BaseRole::Member],
                email,
            ) {
                Ok(role) => TargetRole::Custom(role),
                Err(e) => {
                    errors.push(e);
                    return Ok(None);
                }
            }
        }
    };
    let Some(person) = person else {
        return Ok(Some(Change::Invite(Invite {
            email: email.clone(),
            seat: Seat::Member { role: target },
        })));
    };
    let from = current_role(person, live);
    if person.role == BaseRole::Guest {
        return Ok(Some(Change::Replace(Replace {
            email: email.clone(),
            user_id: person.id,
            from_kind: Kind::Guest,
            from,
            reason: ReplaceReason::KindChange,
            seat: Seat::Member { role: target },
        })));
    }
    let same = match (&target, &from) {
        (TargetRole::Admin, CurrentRole::Builtin(BaseRole::Admin))
        | (TargetRole::Member, CurrentRole::Builtin(BaseRole::Member)) => true,
        (TargetRole::Custom(want), CurrentRole::Custom { id, .. }) => want.id == *id,
        _ => false,
    };
    if same {
        return Ok(None);
    }
    // A pending invitation is edited like a member: apply falls back to inviting again only
    // when ClickUp refuses the edit and `--allow-replace` is given.
    Ok(Some(Change::UpdateMember(UpdateMember {
        email: email.clone(),
        user_id: person.id,
        username: person.username.clone(),
        pending: person.pending,
        from,
        to: target,
    })))
}

fn guest_change(
    guest: &Guest,
    person: Option<&Person>,
    live: &Live,
) -> Result<Option<Change>, Vec<PlanError>> {
    let email = &guest.email.value;
    let custom_role = match &guest.custom_role {
        None => None,
        Some(name) => Some(
            resolve_custom(&name.value, name.loc, live, &[BaseRole::Guest], email)
                .map_err(|e| vec![e])?,
        ),
    };
    let wanted_shares = guest.shares();
    let Some(person) = person else {
        return Ok(Some(Change::Invite(Invite {
            email: email.clone(),
            seat: Seat::Guest {
                permissions: guest.permissions,
                custom_role,
                shares: wanted_shares.map(sorted_shares).unwrap_or_default(),
            },
        })));
    };
    if person.role != BaseRole::Guest {
        return Ok(Some(Change::Replace(Replace {
            email: email.clone(),
            user_id: person.id,
            from_kind: Kind::Member,
            from: current_role(person, live),
            reason: ReplaceReason::KindChange,
            seat: Seat::Guest {
                permissions: guest.permissions,
                custom_role,
                shares: wanted_shares.map(sorted_shares).unwrap_or_default(),
            },
        })));
    }
    let permissions: Vec<FlagChange> = guest
        .permissions
        .set_flags()
        .filter_map(|(flag, to)| {
            let from = person.permissions.get(flag);
            (from != Some(to)).then_some(FlagChange { flag, from, to })
        })
        .collect();
    let custom_role = custom_role.and_then(|to| match &person.custom_role {
        Some(current) if current.id == to.id => None,
        current => Some(CustomRoleChange {
            from: current.as_ref().map(|c| live.custom_role_name(c)),
            to,
        }),
    });
    let shares = match wanted_shares {
        None => Vec::new(),
        Some(wanted) => share_changes(
            live.shares.get(&person.id).map_or(&[][..], Vec::as_slice),
            &wanted,
        ),
    };
    if permissions.is_empty() && custom_role.is_none() && shares.is_empty() {
        return Ok(None);
    }
    Ok(Some(Change::UpdateGuest(UpdateGuest {
        email: email.clone(),
        user_id: person.id,
        permissions,
        custom_role,
        shares,
    })))
}

fn sorted_shares(mut shares: Vec<Share>) -> Vec<Share> {
    shares.sort();
    shares
}

fn share_changes(current: &[Share], wanted: &[Share]) -> Vec<ShareChange> {
    let current: BTreeMap<&ShareTarget, &Share> = current.iter().map(|s| (&s.target, s)).collect();
    let wanted: BTreeMap<&ShareTarget, &Share> = wanted.iter().map(|s| (&s.target, s)).collect();
    let mut changes = Vec::new();
    for (target, want) in &wanted {
        match current.get(target) {
            None => changes.push(ShareChange::Add((*want).clone())),
            Some(have) if have.permission != want.permission => {
                changes.push(ShareChange::Change {
                    target: (*target).clone(),
                    from: have.permission,
                    to: want.permission,
                });
            }
            Some(_) => {}
        }
    }
    for (target, have) in &current {
        if !wanted.contains_key(target) {
            changes.push(ShareChange::Remove((*have).clone()));
        }
    }
    changes
}
