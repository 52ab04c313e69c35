//! The live Workspace over ClickUp's REST API v2: the second implementation of [`Workspace`].
//!
//! Reading costs a fixed number of requests (SPEC §5). Every request is paced by the
//! rate-limit headers; a 429 (or `APP_002`) waits for the window to end; 5xx, timeouts and
//! broken connections are retried with exponential backoff and jitter (`backon`). A POST whose
//! outcome is unknown is not sent again blindly: the Workspace is read first, and the write
//! counts as done when its effect is there. Only this module knows ClickUp's URLs.
//!
//! Here: the client's options, its listener, and the Workspace's reads and writes. Setting the
//! client up is `setup`, sending one request `send`, retries and what follows a lost answer
//! `retry`, pacing by the rate limit `pace`, ClickUp's error codes `errors`, the token `token`.

mod errors;
mod pace;
mod retry;
mod send;
mod setup;
pub(crate) mod token;

use std::time::Duration;

use backon::ExponentialBuilder;
use reqwest::Method;

use crate::clickup::wire::api;
use crate::clickup::wire::routes::Route;
use crate::clickup::wire::{CustomRole, Group, GuestDetail, SnapshotDoc, Team};
use crate::clickup::{ReadNeeds, Subscription, Workspace, WriteOp, WriteOutcome, Written, WsError};
use crate::model::BaseRole;
use crate::stop::StopSignal;

use retry::{Answer, Created, Effect};
use send::Fail;

pub(crate) use pace::{LONGEST_WAIT, Pacer};
pub(crate) use setup::SetupError;
pub(crate) use setup::{https_client, is_loopback, redact, redact_text};
pub(crate) use token::{Token, TokenError};

/// Hears every request sent to ClickUp and what ClickUp said of its rate limit, for metrics.
/// It is told on the request's own task, as the answer comes: it must not block.
pub(crate) trait Listener: Send + Sync + std::fmt::Debug {
    /// A request was answered with `status`, or got no answer (`None`). `route` is `None` for
    /// a request outside the table of routes (none is made).
    fn answered(&self, method: &str, route: Option<Route>, status: Option<u16>);

    /// ClickUp said how many requests are left in the current window.
    fn rate_limit_remaining(&self, remaining: u64);
}

/// What a message says to do when ClickUp keeps failing or its rate limit is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Later {
    /// A command run once: run it again later.
    #[default]
    RunAgain,
    /// The controller, which says itself when its next try comes.
    NextCycle,
}

/// Options of the HTTP client.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) api_url: String,
    pub(crate) timeout: Duration,
    /// Once set, no request is sent and waits end early.
    pub(crate) stop: StopSignal,
    /// Told of every request and its answer.
    pub(crate) listener: Option<std::sync::Arc<dyn Listener>>,
    /// How many times a request that failed for a passing reason (5xx, a timeout, a broken
    /// connection) is sent again, backing off from 200 ms.
    pub(crate) retries: usize,
    /// The rate limit's pacer: one token's limit is shared by every Workspace it reaches, so
    /// Workspaces read or written by one process share one.
    pub(crate) pacer: std::sync::Arc<Pacer>,
    /// Where the user named the Workspace, for the sentence that says to check it:
    /// `workspace.id` (the file) or `--workspace` (import, snapshot).
    pub(crate) named_by: &'static str,
    /// What a message of a request that kept failing tells a person to do.
    pub(crate) later: Later,
}

/// What a one-shot command retries a request: six times, backing off up to about 13 s.
pub(crate) const RETRIES: usize = 6;

/// A ClickUp Workspace reached over HTTPS.
#[derive(Debug)]
pub(crate) struct HttpWorkspace {
    client: reqwest::Client,
    base: url::Url,
    token: Token,
    team_id: String,
    named_by: &'static str,
    pacer: std::sync::Arc<Pacer>,
    backoff: ExponentialBuilder,
    stop: StopSignal,
    listener: Option<std::sync::Arc<dyn Listener>>,
    later: Later,
}

impl HttpWorkspace {
    /// A read whose answer must parse. An answer that cannot be decoded is not tried again:
    /// ClickUp would send the same (SPEC §5).
    async fn get<T>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        parse: fn(&[u8]) -> Result<T, crate::clickup::wire::WireError>,
    ) -> Result<T, WsError> {
        let attempt = || async {
            let (_, bytes) = self.attempt(&Method::GET, path, query, None).await?;
            parse(&bytes).map_err(|e| Fail::Fatal(WsError::local(e.0)))
        };
        self.retrying(&format!("GET /{path}"), attempt).await
    }

    /// The Workspaces the token reaches (`GET /team`): id and name of each.
    pub(crate) async fn visible(&self) -> Result<Vec<(String, String)>, WsError> {
        let teams = self
            .get(&Route::GetTeams.path(&[]), &[], api::parse_teams)
            .await?;
        Ok(teams.into_iter().map(|t| (t.id, t.name)).collect())
    }

    /// `GET /team/{id}/customroles`.
    async fn custom_roles(&self) -> Result<Vec<CustomRole>, WsError> {
        let path = Route::GetCustomRoles.path(&[&self.team_id]);
        self.get(
            &path,
            &[("include_members", "false")],
            api::parse_custom_roles,
        )
        .await
    }

    /// `GET /group?team_id=`: the Workspace's user groups.
    async fn groups(&self) -> Result<Vec<Group>, WsError> {
        self.get(
            &Route::GetGroups.path(&[]),
            &[("team_id", &self.team_id)],
            api::parse_groups,
        )
        .await
    }

    /// `GET /team/{id}/guest/{id}` of each guest of `team` whose shares a plan needs.
    async fn guest_details(
        &self,
        team: &Team,
        needs: &ReadNeeds,
    ) -> Result<Vec<GuestDetail>, WsError> {
        let mut guests = Vec::new();
        for member in &team.members {
            if !member.user.is_guest()
                || !needs
                    .guest_shares
                    .iter()
                    .any(|email| member.user.has_email(email))
            {
                continue;
            }
            let path = Route::GetGuest.path(&[&self.team_id, &member.user.id.to_string()]);
            let mut detail = self.get(&path, &[], api::parse_guest).await?;
            detail.user.id = member.user.id;
            guests.push(detail);
        }
        Ok(guests)
    }

    /// `GET /team`, and this Workspace in it.
    async fn team(&self) -> Result<Team, WsError> {
        let teams = self
            .get(&Route::GetTeams.path(&[]), &[], api::parse_teams)
            .await?;
        let names: Vec<String> = teams
            .iter()
            .map(|t| {
                format!(
                    "{} \"{}\"",
                    crate::escape::visible(&t.id),
                    crate::escape::visible(&t.name)
                )
            })
            .collect();
        teams
            .into_iter()
            .find(|t| t.id == self.team_id)
            .ok_or_else(|| {
                let seen = if names.is_empty() {
                    "it sees no Workspace".to_owned()
                } else {
                    format!("it sees {}", names.join(", "))
                };
                WsError::local(format!(
                    "Workspace {} is not visible to this token ({seen}); check {}, or use a token of a member of that Workspace",
                    self.team_id,
                    self.named_by
                ))
            })
    }
}

/// Whether ClickUp's answer to Edit User shows the role asked for (SPEC §5): a custom role it
/// kept, or a role it did not change, is a failed change.
fn edit_took_effect(
    bytes: &[u8],
    user_id: i64,
    admin: bool,
    custom_role_id: Option<i64>,
) -> Result<(), WsError> {
    let (role, custom_role) = api::edited_member(bytes).map_err(|e| {
        WsError::local(format!(
            "{e}; run `clickup-members plan` to see whether the role of user {user_id} changed"
        ))
    })?;
    let wanted = member_role(admin);
    match (custom_role, custom_role_id) {
        (Some(kept), None) => {
            let name = kept.name.map_or_else(
                || format!("id {}", kept.id),
                |n| format!("\"{n}\" (id {})", kept.id),
            );
            return Err(WsError::local(format!(
                "ClickUp kept custom role {name} for user {user_id}, which the file no longer names: the API cannot clear a custom role; remove it in ClickUp (Settings → People) or name the role in the file, then run again"
            )));
        }
        (got, Some(id)) if got.as_ref().map(|c| c.id) != Some(id) => {
            return Err(WsError::local(format!(
                "ClickUp answered the role change of user {user_id} without custom role {id}; run `clickup-members plan` to see the role it kept"
            )));
        }
        _ => {}
    }
    if BaseRole::from_code(role) != Some(wanted) {
        let now = BaseRole::from_code(role)
            .map_or_else(|| format!("role {role}"), |r| r.name().to_owned());
        return Err(WsError::local(format!(
            "ClickUp answered the role change of user {user_id}, but they are still {now}, not {}; run again, or change the role in ClickUp",
            wanted.name()
        )));
    }
    Ok(())
}

impl Workspace for HttpWorkspace {
    fn describe(&self) -> String {
        format!("ClickUp ({})", redact(&self.base).trim_end_matches('/'))
    }

    async fn read(&self, needs: &ReadNeeds) -> Result<SnapshotDoc, WsError> {
        let me = self
            .get(&Route::GetUser.path(&[]), &[], api::parse_user)
            .await?;
        let team = self.team().await?;
        let custom_roles = if needs.custom_roles {
            Some(self.custom_roles().await?)
        } else {
            None
        };
        let groups = if needs.groups {
            Some(self.groups().await?)
        } else {
            None
        };
        let guests = self.guest_details(&team, needs).await?;
        Ok(SnapshotDoc {
            team,
            custom_roles,
            groups,
            me,
            guests,
            plan: None,
            seats: None,
        })
    }

    async fn subscription(&self) -> Subscription {
        let plan = self
            .get(&Route::GetPlan.path(&[&self.team_id]), &[], api::parse_plan)
            .await;
        let seats = self
            .get(
                &Route::GetSeats.path(&[&self.team_id]),
                &[],
                api::parse_seats,
            )
            .await;
        Subscription {
            plan: plan.map(Some),
            seats: seats.map(Some),
        }
    }

    async fn write(&self, op: &WriteOp) -> Result<Written, WsError> {
        api::check_ids(op).map_err(|e| WsError::local(format!("not sent: {e}")))?;
        let (method, path, body) = api::request(op, &self.team_id);
        tracing::debug!("{} ({})", op.request_name(), op.route().0.what());
        let effect = Effect::of(op);
        let is_delete = method == Method::DELETE;
        let answer = match self
            .request(method, &path, &[], body.as_ref(), effect.as_ref())
            .await
        {
            Ok(answer) => answer,
            // Gone already: what a DELETE wants.
            Err(e) if is_delete && e.status == Some(404) => {
                tracing::info!("DELETE /{path}: already gone");
                return Ok(Written {
                    outcome: WriteOutcome::Done,
                    status: Some(404),
                    durable: true,
                });
            }
            Err(e) => return self.check_failed_write(op, effect.as_ref(), e).await,
        };
        self.written(op, effect.as_ref(), answer).await
    }
}

impl HttpWorkspace {
    /// What a write ClickUp answered (or had made before) did. An answer that does not say the
    /// new id (unreadable, or shaped otherwise) is resolved by looking at the Workspace.
    async fn written(
        &self,
        op: &WriteOp,
        effect: Option<&Effect>,
        answer: Answer,
    ) -> Result<Written, WsError> {
        let done = |status| Written {
            outcome: WriteOutcome::Done,
            status: Some(status),
            durable: true,
        };
        let (status, created) = match answer {
            Answer::AlreadyDone(created) => (None, Some(created)),
            Answer::Body(status, bytes) => {
                let created = match op {
                    WriteOp::InviteMember { email, .. } | WriteOp::InviteGuest { email, .. } => {
                        api::invited_user_id(&bytes, email).map(Created::User)
                    }
                    WriteOp::CreateGroup { .. } => {
                        api::created_group_id(&bytes).map(Created::Group)
                    }
                    WriteOp::EditMember {
                        user_id,
                        admin,
                        custom_role_id,
                        ..
                    } => {
                        edit_took_effect(&bytes, *user_id, *admin, *custom_role_id)?;
                        return Ok(done(status));
                    }
                    _ => return Ok(done(status)),
                };
                (Some(status), created)
            }
        };
        let created = match (created, effect) {
            (Some(created), _) => Some(created),
            (None, Some(effect)) => self.look_for_effect(effect).await.ok().flatten(),
            (None, None) => None,
        };
        outcome(op, created).map(|outcome| Written {
            outcome,
            status,
            durable: true,
        })
    }
}

/// What a write created; a creation ClickUp accepted but that cannot be found is an error that
/// says to run again.
fn outcome(op: &WriteOp, created: Option<Created>) -> Result<WriteOutcome, WsError> {
    match (op, created) {
        (_, Some(Created::User(user_id))) => Ok(WriteOutcome::Invited { user_id }),
        (_, Some(Created::Group(group_id))) => Ok(WriteOutcome::GroupCreated { group_id }),
        (WriteOp::CreateGroup { name, .. }, None) => Err(WsError::local(format!(
            "ClickUp accepted group \"{name}\" but it cannot be found; run again to pick it up"
        ))),
        (WriteOp::InviteMember { email, .. } | WriteOp::InviteGuest { email, .. }, None) => {
            Err(WsError::local(format!(
                "ClickUp accepted the invitation of {email} but they cannot be found; run again to pick them up"
            )))
        }
        (_, None) => Ok(WriteOutcome::Done),
    }
}

/// The base role of a member (not a guest) who is an admin or not.
fn member_role(admin: bool) -> BaseRole {
    if admin {
        BaseRole::Admin
    } else {
        BaseRole::Member
    }
}

#[cfg(test)]
mod tests;
