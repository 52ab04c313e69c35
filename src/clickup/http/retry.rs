//! Retries and recovery. A request that failed for a passing reason is sent again after a
//! backoff (a 429 after its window); one whose answer was lost is not sent again blindly when
//! it may have taken effect: the Workspace is read first (the member list for an invitation,
//! the user groups for a new group). A write that failed for good is checked against the
//! Workspace before it is called failed (SPEC §5). Sending one request is `send`'s.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use backon::Retryable;
use reqwest::Method;
use serde_json::Value;

use super::send::Fail;
use super::{HttpWorkspace, Later, member_role};
use crate::clickup::wire::api;
use crate::clickup::wire::routes::Route;
use crate::clickup::{WriteOp, WriteOutcome, Written, WsError};
use crate::model::Email;

/// How to tell whether a write whose answer was lost took effect.
#[derive(Debug, Clone)]
pub(super) enum Effect {
    /// Someone with this email is in the Workspace.
    Invited(Email),
    /// A group of this name exists.
    GroupCreated(String),
}

impl Effect {
    /// The effect of a write that creates something, which a second send would create again;
    /// `None` for the others, which are sent again as they are.
    pub(super) fn of(op: &WriteOp) -> Option<Effect> {
        match op {
            WriteOp::InviteMember { email, .. } | WriteOp::InviteGuest { email, .. } => {
                Some(Effect::Invited(email.clone()))
            }
            WriteOp::CreateGroup { name, .. } => Some(Effect::GroupCreated(name.clone())),
            _ => None,
        }
    }
}

/// What a request came back with.
#[derive(Debug)]
pub(super) enum Answer {
    /// ClickUp's status and answer.
    Body(u16, Vec<u8>),
    /// Not sent again: an earlier send whose answer was lost had made this.
    AlreadyDone(Created),
}

/// What a write created, as found in its answer or in the Workspace.
#[derive(Debug)]
pub(super) enum Created {
    /// The invited user's id.
    User(i64),
    /// The new user group's id.
    Group(String),
}

impl HttpWorkspace {
    /// A request with retries. For a POST whose outcome is unknown, `effect` tells how to see
    /// whether it took effect before sending it again.
    pub(super) async fn request(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
        effect: Option<&Effect>,
    ) -> Result<Answer, WsError> {
        let uncertain = AtomicBool::new(false);
        let attempt = || async {
            if uncertain.load(Ordering::SeqCst)
                && let Some(effect) = effect
                && let Some(created) = self.look_for_effect(effect).await?
            {
                tracing::info!("{method} /{path} had taken effect; not sending it again");
                return Ok(Answer::AlreadyDone(created));
            }
            match self.attempt(&method, path, query, body).await {
                Ok((status, bytes)) => Ok(Answer::Body(status, bytes)),
                Err(Fail::Transient { sent: true, error }) if method == Method::POST => {
                    uncertain.store(true, Ordering::SeqCst);
                    Err(Fail::Transient { sent: true, error })
                }
                Err(fail) => Err(fail),
            }
        };
        self.retrying(&format!("{method} /{path}"), attempt).await
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retries are spent: 429s wait
    /// for the window to end, transient failures back off exponentially with jitter.
    pub(super) async fn retrying<T, F, Fut>(&self, what: &str, attempt: F) -> Result<T, WsError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Fail>>,
    {
        let stop = self.stop.clone();
        let later = match self.later {
            Later::RunAgain => ", run again later",
            Later::NextCycle => "",
        };
        attempt
            .retry(self.backoff)
            .sleep(move |delay| {
                let stop = stop.clone();
                async move { stop.sleep(delay).await }
            })
            .when(Fail::retryable)
            .adjust(|fail, delay| match fail {
                Fail::RateLimited { window, .. } => delay.map(|_| window.wait()),
                _ => delay,
            })
            .notify(|fail, delay| {
                tracing::warn!(
                    "{what}: {}; trying again in {delay:.1?}",
                    fail.error().message
                );
            })
            .await
            .map_err(|fail| match fail {
                Fail::Transient { mut error, .. } | Fail::RateLimited { mut error, .. } => {
                    error.message = format!(
                        "{what}: {}; it kept failing after retries{later}",
                        error.message
                    );
                    error.transient = true;
                    error
                }
                Fail::Fatal(error) => error,
            })
    }

    /// Looks for the effect of a write whose answer was lost.
    pub(super) async fn look_for_effect(&self, effect: &Effect) -> Result<Option<Created>, Fail> {
        match effect {
            Effect::Invited(email) => {
                let (_, bytes) = self
                    .attempt(&Method::GET, &Route::GetTeams.path(&[]), &[], None)
                    .await?;
                let teams =
                    api::parse_teams(&bytes).map_err(|e| Fail::Fatal(WsError::local(e.0)))?;
                Ok(teams
                    .iter()
                    .find(|t| t.id == self.team_id)
                    .and_then(|t| t.members.iter().find(|m| m.user.has_email(email)))
                    .map(|m| Created::User(m.user.id)))
            }
            Effect::GroupCreated(name) => {
                let (_, bytes) = self
                    .attempt(
                        &Method::GET,
                        &Route::GetGroups.path(&[]),
                        &[("team_id", &self.team_id)],
                        None,
                    )
                    .await?;
                let groups =
                    api::parse_groups(&bytes).map_err(|e| Fail::Fatal(WsError::local(e.0)))?;
                Ok(groups
                    .into_iter()
                    .find(|g| g.name.eq_ignore_ascii_case(name))
                    .map(|g| Created::Group(g.id)))
            }
        }
    }

    /// A write ClickUp refused, or whose retries were spent, is checked against the Workspace
    /// before it is called failed (SPEC §5): an invitation refused with a 4xx may name someone
    /// already there, and a removal or a role change that failed may have been made. Refusals
    /// every write would meet (`TEAM_110`, `OAUTH_*`) are not checked: the read would be
    /// refused too.
    pub(super) async fn check_failed_write(
        &self,
        op: &WriteOp,
        effect: Option<&Effect>,
        error: WsError,
    ) -> Result<Written, WsError> {
        if error.stops_all_writes() {
            return Err(error);
        }
        let client_error = error.status.is_some_and(|s| (400..500).contains(&s));
        let made = match op {
            WriteOp::InviteMember { email, .. } | WriteOp::InviteGuest { email, .. }
                if client_error =>
            {
                self.invitee_already_there(email, effect, &error).await
            }
            // An edit whose answer was lost may have been made (a pending invitation would
            // otherwise be sent again for nothing).
            WriteOp::EditMember {
                user_id,
                admin,
                custom_role_id,
                ..
            } => {
                self.role_already_set(*user_id, *admin, *custom_role_id, &error)
                    .await
            }
            WriteOp::RemoveMember { user_id } | WriteOp::RemoveGuest { user_id } => {
                self.already_gone(*user_id, &error).await
            }
            _ => None,
        };
        match made {
            Some(outcome) => Ok(Written {
                outcome,
                status: error.status,
                durable: true,
            }),
            None => Err(error),
        }
    }

    /// The invitation of `email` was refused, but they are in the Workspace: their id.
    async fn invitee_already_there(
        &self,
        email: &Email,
        effect: Option<&Effect>,
        error: &WsError,
    ) -> Option<WriteOutcome> {
        let Ok(Some(Created::User(user_id))) = self.look_for_effect(effect?).await else {
            return None;
        };
        tracing::info!(
            "the invitation of {email} was refused, but they are in the Workspace ({})",
            error.message
        );
        Some(WriteOutcome::Invited { user_id })
    }

    /// The role change of `user_id` failed, but the Workspace has them with the role and
    /// custom role asked for.
    async fn role_already_set(
        &self,
        user_id: i64,
        admin: bool,
        custom_role_id: Option<i64>,
        error: &WsError,
    ) -> Option<WriteOutcome> {
        let wanted = member_role(admin);
        let team = self.team().await.ok()?;
        let user = &team.members[team.position(user_id)?].user;
        if user.role != Some(wanted.code())
            || user.custom_role.as_ref().map(|c| c.id) != custom_role_id
        {
            return None;
        }
        tracing::info!(
            "the role change of user {user_id} failed, but the role is already {} ({})",
            wanted.name(),
            error.message
        );
        Some(WriteOutcome::Done)
    }

    /// The removal of `user_id` failed, but they are gone from the Workspace.
    async fn already_gone(&self, user_id: i64, error: &WsError) -> Option<WriteOutcome> {
        let team = self.team().await.ok()?;
        if team.position(user_id).is_some() {
            return None;
        }
        tracing::info!(
            "the removal of user {user_id} failed, but they are gone from the Workspace ({})",
            error.message
        );
        Some(WriteOutcome::Done)
    }
}
