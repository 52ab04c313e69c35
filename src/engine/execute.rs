//! Sending a plan: turns each change into the write requests it needs and sends them through
//! a [`Workspace`]. A failed change is recorded and the others go on; every successful write
//! is told to the [`Observer`] (whose apply keeps the state file current) before the next one
//! starts.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use futures_util::stream::{self, StreamExt};

use crate::clickup::{Workspace, WriteOp, WriteOutcome, WsError};
use crate::engine::Observer;
use crate::model::{Email, Share, UserId};
use crate::plan::{Change, Kind, Plan, Replace, Seat, ShareChange, UpdateGuest, UpdateMember};
use crate::stop::{StopReason, StopSignal};

/// Why a change failed: the write that failed and what ClickUp said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The request, e.g. `POST /team/{id}/user`.
    pub(crate) request: String,
    pub(crate) error: WsError,
    /// Not sent, because an earlier write was refused in a way every write would be.
    pub(crate) not_attempted: bool,
    /// Not sent, because the apply is stopping.
    pub(crate) stopped: bool,
}

/// What happened to each change, by its index in the plan.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub(crate) results: BTreeMap<usize, Result<(), Failure>>,
    /// Set when the apply stopped early (a signal, or the state could not be saved).
    pub(crate) stopped: Option<StopReason>,
}

impl Report {
    pub(crate) fn failures(&self) -> impl Iterator<Item = (usize, &Failure)> {
        self.results
            .iter()
            .filter_map(|(i, r)| r.as_ref().err().map(|f| (*i, f)))
    }

    pub(crate) fn succeeded(&self, index: usize) -> bool {
        matches!(self.results.get(&index), Some(Ok(())))
    }
}

/// Where people's ids come from: the live Workspace, then the invitations of this run; and
/// the user groups each person is in, for a pending invitation that has to be sent again.
#[derive(Debug, Default)]
pub(crate) struct Ids(BTreeMap<Email, UserId>, BTreeMap<Email, Vec<String>>);

impl Ids {
    pub(crate) fn new(people: impl IntoIterator<Item = (Email, UserId)>) -> Ids {
        Ids(people.into_iter().collect(), BTreeMap::new())
    }

    /// The groups each person is in (`(group id, member emails)`).
    pub(crate) fn with_groups<'a>(
        mut self,
        groups: impl IntoIterator<Item = (&'a str, Vec<&'a Email>)>,
    ) -> Ids {
        for (group_id, members) in groups {
            for email in members {
                self.1
                    .entry(email.clone())
                    .or_default()
                    .push(group_id.to_owned());
            }
        }
        self
    }

    fn get(&self, email: &Email, request: &str) -> Result<UserId, Failure> {
        self.0.get(email).copied().ok_or_else(|| Failure {
            request: request.to_owned(),
            error: WsError::local(format!(
                "{email} has no ClickUp user id yet (their invitation did not go through)"
            )),
            not_attempted: false,
            stopped: false,
        })
    }
}

/// Applies the plan's changes, phase by phase in plan order (invites, replaces, updates, group
/// changes, removals, group deletes), with up to `parallelism` changes of a phase in flight.
/// Once `stop` is set, no new write is sent; those in flight finish.
pub(crate) async fn send<W: Workspace>(
    plan: &Plan,
    workspace: &W,
    ids: &mut Ids,
    observer: &mut dyn Observer,
    options: Options,
    stop: &StopSignal,
) -> Report {
    let Options {
        parallelism,
        allow_replace,
        ref free_first,
    } = options;
    // The groups a re-sent invitation must join again: those it is in, less those the plan
    // takes it out of or deletes.
    let leaving: Vec<(&str, &Email)> = plan
        .changes
        .iter()
        .flat_map(|c| match c {
            Change::UpdateGroup(u) => u
                .remove
                .iter()
                .map(|(_, e)| (u.group_id.as_str(), e))
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        })
        .collect();
    let deleted: Vec<&str> = plan
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::DeleteGroup(d) => Some(d.group_id.as_str()),
            _ => None,
        })
        .collect();
    for (email, groups) in &mut ids.1 {
        groups
            .retain(|g| !deleted.contains(&g.as_str()) && !leaving.contains(&(g.as_str(), email)));
    }
    let shared = InFlight {
        allow_replace,
        workspace,
        observer: Mutex::new(observer),
        ids: Mutex::new(std::mem::take(ids)),
        stop,
        halted: Mutex::new(None),
        written: Mutex::default(),
    };
    let mut report = Report::default();
    for phase in phases(plan, free_first) {
        if stop.is_set() {
            break;
        }
        // A change a stop kept from sending anything is not started, not failed.
        let results: Vec<(usize, Option<Result<(), Failure>>)> = stream::iter(phase)
            .map(|index| {
                let shared = &shared;
                async move {
                    let change = &plan.changes[index];
                    if stop.is_set() {
                        return (index, None);
                    }
                    shared.lock_observer().change_started(index, change);
                    let result = shared.change(change).await;
                    if matches!(&result, Err(f) if f.stopped) && !shared.wrote(change) {
                        return (index, None);
                    }
                    shared
                        .lock_observer()
                        .change_finished(index, change, &result);
                    (index, Some(result))
                }
            })
            .buffer_unordered(parallelism.max(1))
            .collect()
            .await;
        report
            .results
            .extend(results.into_iter().filter_map(|(i, r)| r.map(|r| (i, r))));
    }
    report.stopped = stop.reason();
    *ids = shared
        .ids
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    report
}

/// How an apply runs.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// Up to this many changes of a phase in flight.
    pub(crate) parallelism: usize,
    /// Whether a pending invitation whose edit ClickUp refuses may be invited again.
    pub(crate) allow_replace: bool,
    /// Kinds of seat that are full and that the plan both frees and takes
    /// ([`crate::plan::seats::squeezed`]): their removals, then the replaces that leave them,
    /// go first.
    pub(crate) free_first: Vec<Kind>,
}

/// The changes' indexes in the order they are sent, phase by phase: a phase's changes may be
/// in flight together, and a phase starts once the one before it has finished. The plan's
/// order (invites, replaces, updates, group changes, removals, group deletes), except that the
/// removals and replaces giving back a seat of a kind in `free_first` come first.
fn phases(plan: &Plan, free_first: &[Kind]) -> Vec<Vec<usize>> {
    let phase = |change: &Change| match change {
        Change::Remove(remove) if free_first.contains(&remove.kind) => 0,
        Change::Replace(replace) if free_first.contains(&replace.from_kind) => 1,
        other => 2 + other.rank(),
    };
    let mut keyed: Vec<(u8, usize)> = plan
        .changes
        .iter()
        .enumerate()
        .map(|(i, c)| (phase(c), i))
        .collect();
    keyed.sort_unstable();
    let mut phases: Vec<Vec<usize>> = Vec::new();
    let mut last = None;
    for (key, index) in keyed {
        if last != Some(key) {
            phases.push(Vec::new());
            last = Some(key);
        }
        if let Some(current) = phases.last_mut() {
            current.push(index);
        }
    }
    phases
}

/// What the changes in flight share.
struct InFlight<'a, W> {
    allow_replace: bool,
    workspace: &'a W,
    observer: Mutex<&'a mut dyn Observer>,
    ids: Mutex<Ids>,
    /// Once set, no new request is sent.
    stop: &'a StopSignal,
    /// A write answered `TEAM_110` or `OAUTH_*`: every other write would fail the same way,
    /// so none is sent (SPEC §5).
    halted: Mutex<Option<WsError>>,
    /// The changes that made at least one write (by their address in the plan).
    written: Mutex<std::collections::BTreeSet<usize>>,
}

impl<'a, W: Workspace> InFlight<'a, W> {
    fn lock_observer(&self) -> MutexGuard<'_, &'a mut dyn Observer> {
        self.observer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `change` made a write.
    fn wrote(&self, change: &Change) -> bool {
        self.written
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&(std::ptr::from_ref(change) as usize))
    }

    fn lock_ids(&self) -> MutexGuard<'_, Ids> {
        self.ids.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn write(&self, change: &Change, op: WriteOp) -> Result<WriteOutcome, Failure> {
        if let Some(reason) = self.stop.reason() {
            return Err(Failure {
                request: op.request_name(),
                error: WsError::local(format!("not sent: {}", reason.message)),
                not_attempted: false,
                stopped: true,
            });
        }
        if let Some(cause) = self
            .halted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            return Err(Failure {
                request: op.request_name(),
                error: WsError::local(format!(
                    "not attempted: an earlier write was refused with {}, which every write would meet",
                    cause.ecode.as_deref().unwrap_or("the same error")
                )),
                not_attempted: true,
                stopped: false,
            });
        }
        let started = Instant::now();
        let result = self.workspace.write(&op).await;
        let elapsed = started.elapsed();
        let written = match result {
            Ok(written) => written,
            Err(error) => {
                if error.stops_all_writes() {
                    self.halted
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .get_or_insert_with(|| error.clone());
                }
                self.lock_observer()
                    .write_failed(change, &op, &error, elapsed);
                return Err(Failure {
                    request: op.request_name(),
                    error,
                    not_attempted: false,
                    stopped: false,
                });
            }
        };
        self.written
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(std::ptr::from_ref(change) as usize);
        let recorded = self.lock_observer().written(change, &op, &written, elapsed);
        if let Err(error) = recorded {
            self.stop.request(StopReason {
                message: error.to_string(),
                exit_code: None,
            });
        }
        Ok(written.outcome)
    }

    /// Makes one change: the write requests it needs, in order.
    async fn change(&self, change: &Change) -> Result<(), Failure> {
        match change {
            Change::Invite(invite) => self.invite(change, &invite.email, &invite.seat).await,
            Change::Replace(replace) => self.replace(change, replace).await,
            Change::UpdateMember(update) => self.update_member(change, update).await,
            Change::UpdateGuest(update) => self.update_guest(change, update).await,
            Change::Remove(remove) => {
                self.write(change, removal(remove.kind, remove.user_id))
                    .await?;
                self.lock_ids().0.remove(&remove.email);
                Ok(())
            }
            Change::CreateGroup(create) => {
                let request = "POST /team/{id}/group";
                let member_ids = self.ids_of(&create.members, request)?;
                let op = WriteOp::CreateGroup {
                    name: create.name.clone(),
                    handle: create.handle.clone(),
                    member_ids,
                };
                self.write(change, op).await.map(drop)
            }
            Change::UpdateGroup(update) => {
                let add = self.ids_of(&update.add, &format!("PUT /group/{}", update.group_id))?;
                let op = WriteOp::UpdateGroup {
                    group_id: update.group_id.clone(),
                    handle: update.handle.as_ref().map(|(_, to)| to.clone()),
                    add,
                    remove: update.remove.iter().map(|(id, _)| *id).collect(),
                };
                self.write(change, op).await.map(drop)
            }
            Change::DeleteGroup(delete) => {
                let op = WriteOp::DeleteGroup {
                    group_id: delete.group_id.clone(),
                };
                self.write(change, op).await.map(drop)
            }
        }
    }

    /// The ClickUp ids of these people (invited earlier in the run, or there already).
    fn ids_of(&self, people: &[Email], request: &str) -> Result<Vec<UserId>, Failure> {
        let ids = self.lock_ids();
        people.iter().map(|e| ids.get(e, request)).collect()
    }

    /// A member who becomes a guest, or back: removed, then invited again. The removal's
    /// answer is awaited before the invitation is sent.
    async fn replace(&self, change: &Change, replace: &Replace) -> Result<(), Failure> {
        // The old id must not serve the groups that wait for the new one, even if the removal
        // fails.
        self.lock_ids().0.remove(&replace.email);
        self.write(change, removal(replace.from_kind, replace.user_id))
            .await?;
        self.invite(change, &replace.email, &replace.seat).await
    }

    /// A member's role edited; a pending invitation ClickUp will not edit is sent again with
    /// the new role when the run allows replaces.
    async fn update_member(&self, change: &Change, update: &UpdateMember) -> Result<(), Failure> {
        let op = WriteOp::EditMember {
            user_id: update.user_id,
            // An invitee who has not joined has no username; ClickUp shows them by their
            // email, which is sent in its place.
            username: Some(
                update
                    .username
                    .clone()
                    .unwrap_or_else(|| update.email.to_string()),
            ),
            admin: update.to.admin(),
            custom_role_id: update.to.custom_role_id(),
        };
        match self.write(change, op).await {
            Ok(_) => Ok(()),
            Err(failure)
                if !update.pending || failure.not_attempted || failure.error.stops_all_writes() =>
            {
                Err(failure)
            }
            Err(failure) if self.allow_replace => {
                tracing::info!(
                    "{}: {}; inviting them again with the new role",
                    update.email,
                    failure.error.message
                );
                self.invite_again(change, update).await
            }
            Err(mut failure) => {
                failure.error.message = format!(
                    "{}; ClickUp did not edit this pending invitation: run apply with --allow-replace to cancel it and invite {} again with the new role",
                    failure.error.message, update.email
                );
                Err(failure)
            }
        }
    }

    /// A pending invitation cancelled and sent again with the new role, then put back in the
    /// groups the removal took it out of, with its new id.
    async fn invite_again(&self, change: &Change, update: &UpdateMember) -> Result<(), Failure> {
        self.lock_ids().0.remove(&update.email);
        self.write(change, removal(Kind::Member, update.user_id))
            .await?;
        let seat = Seat::Member {
            role: update.to.clone(),
        };
        self.invite(change, &update.email, &seat).await?;
        let (user_id, groups) = {
            let ids = self.lock_ids();
            (
                ids.0.get(&update.email).copied(),
                ids.1.get(&update.email).cloned().unwrap_or_default(),
            )
        };
        let Some(user_id) = user_id else {
            return Ok(());
        };
        for group_id in groups {
            let op = WriteOp::UpdateGroup {
                group_id,
                handle: None,
                add: vec![user_id],
                remove: Vec::new(),
            };
            self.write(change, op).await?;
        }
        Ok(())
    }

    /// A guest's switches and custom role edited, then one request per share added, changed
    /// or removed.
    async fn update_guest(&self, change: &Change, update: &UpdateGuest) -> Result<(), Failure> {
        if update.edits_guest() {
            let op = WriteOp::EditGuest {
                user_id: update.user_id,
                permissions: update.new_permissions(),
                custom_role_id: update.custom_role.as_ref().map(|c| c.to.id),
            };
            self.write(change, op).await?;
        }
        for share in &update.shares {
            let op = match share {
                ShareChange::Add(share) => WriteOp::AddShare {
                    guest_id: update.user_id,
                    share: share.clone(),
                },
                ShareChange::Change { target, to, .. } => WriteOp::AddShare {
                    guest_id: update.user_id,
                    share: Share {
                        target: target.clone(),
                        permission: *to,
                    },
                },
                ShareChange::Remove(share) => WriteOp::RemoveShare {
                    guest_id: update.user_id,
                    target: share.target.clone(),
                },
            };
            self.write(change, op).await?;
        }
        Ok(())
    }

    async fn invite(&self, change: &Change, email: &Email, seat: &Seat) -> Result<(), Failure> {
        let op = match seat {
            Seat::Member { role } => WriteOp::InviteMember {
                email: email.clone(),
                admin: role.admin(),
                custom_role_id: role.custom_role_id(),
            },
            Seat::Guest {
                permissions,
                custom_role,
                ..
            } => WriteOp::InviteGuest {
                email: email.clone(),
                permissions: *permissions,
                custom_role_id: custom_role.as_ref().map(|r| r.id),
            },
        };
        let request = op.request_name();
        let outcome = self.write(change, op).await?;
        let WriteOutcome::Invited { user_id } = outcome else {
            return Err(Failure {
                request,
                error: WsError::local("the invitation did not return the new user's id"),
                not_attempted: false,
                stopped: false,
            });
        };
        self.lock_ids().0.insert(email.clone(), user_id);
        if let Seat::Guest { shares, .. } = seat {
            for share in shares {
                self.write(
                    change,
                    WriteOp::AddShare {
                        guest_id: user_id,
                        share: share.clone(),
                    },
                )
                .await?;
            }
        }
        Ok(())
    }
}

/// The request that removes a person of this kind from the Workspace.
fn removal(kind: Kind, user_id: UserId) -> WriteOp {
    match kind {
        Kind::Guest => WriteOp::RemoveGuest { user_id },
        Kind::Member | Kind::Group => WriteOp::RemoveMember { user_id },
    }
}
