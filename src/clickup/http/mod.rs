//! The live Workspace over ClickUp's REST API v2: the second implementation of [`Workspace`].
//!
//! Reading costs a fixed number of requests (SPEC §5). Every request is paced by the
//! rate-limit headers; a 429 (or `APP_002`) waits for the window to end; 5xx, timeouts and
//! broken connections are retried with exponential backoff and jitter (`backon`). A POST whose
//! outcome is unknown is not sent again blindly: the Workspace is read first, and the write
//! counts as done when its effect is there. Only this module knows ClickUp's URLs.

mod errors;
mod pace;
pub(crate) mod token;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::clickup::wire::api::{self, ErrorBody};
use crate::clickup::wire::routes::Route;
use crate::clickup::wire::{GuestDetail, SnapshotDoc, Team};
use crate::clickup::{ReadNeeds, Subscription, Workspace, WriteOp, WriteOutcome, Written, WsError};
use crate::model::{BaseRole, Email};
use crate::stop::StopSignal;

use pace::Window;
pub(crate) use pace::{LONGEST_WAIT, Pacer};
pub(crate) use token::{Token, TokenError};

/// How a failed attempt is handled.
#[derive(Debug)]
enum Fail {
    /// 429 or `APP_002`: wait for the window to end, then try again.
    RateLimited { window: Window, error: WsError },
    /// 5xx, a timeout, a broken connection or an unreadable answer: try again after a backoff.
    /// `sent` is false only when the request surely never reached ClickUp.
    Transient { sent: bool, error: WsError },
    /// Anything else: give up.
    Fatal(WsError),
}

impl Fail {
    fn error(&self) -> &WsError {
        match self {
            Fail::RateLimited { error, .. }
            | Fail::Transient { error, .. }
            | Fail::Fatal(error) => error,
        }
    }

    fn retryable(&self) -> bool {
        !matches!(self, Fail::Fatal(_))
    }
}

/// How to tell whether a write whose answer was lost took effect.
#[derive(Debug, Clone)]
enum Effect {
    /// Someone with this email is in the Workspace.
    Invited(Email),
    /// A group of this name exists.
    GroupCreated(String),
}

/// Why the client cannot be set up.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SetupError {
    #[error("the Workspace id must be digits, not \"{}\"", .0.escape_debug())]
    WorkspaceId(String),
    /// `url` is shown with any password taken out.
    #[error("--api-url {url} is not a URL: {error}")]
    NotUrl {
        url: String,
        #[source]
        error: url::ParseError,
    },
    #[error(
        "refusing to send the token over plain http:// to {0}; use https:// (plain http is allowed only to a loopback address)"
    )]
    PlainHttp(String),
    #[error("--api-url must be https://, not {0}://")]
    Scheme(String),
    #[error("cannot set up HTTPS: {0}")]
    Client(#[source] reqwest::Error),
}

/// Hears every request sent to ClickUp, for metrics.
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
    pub(crate) fn new(options: &Options, token: Token, team_id: &str) -> Result<Self, SetupError> {
        if team_id.is_empty() || !team_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SetupError::WorkspaceId(team_id.to_owned()));
        }
        let mut base = url::Url::parse(&options.api_url).map_err(|e| SetupError::NotUrl {
            url: redact_text(&options.api_url),
            error: e,
        })?;
        match base.scheme() {
            "https" => {}
            "http" if is_loopback(&base) => {}
            "http" => {
                return Err(SetupError::PlainHttp(
                    base.host_str().unwrap_or("?").to_owned(),
                ));
            }
            other => return Err(SetupError::Scheme(other.to_owned())),
        }
        // A user name or password in the URL is neither sent (the token authenticates) nor
        // shown; nor is a query or a fragment (a key someone put there).
        let _ = base.set_username("");
        let _ = base.set_password(None);
        base.set_query(None);
        base.set_fragment(None);
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let client = reqwest::Client::builder()
            .user_agent(concat!("clickup-members/", env!("CARGO_PKG_VERSION")))
            .timeout(options.timeout)
            .connect_timeout(options.timeout.min(Duration::from_secs(10)))
            // A redirect is never followed: the token goes to the API URL and nowhere else.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(SetupError::Client)?;
        Ok(HttpWorkspace {
            client,
            base,
            token,
            team_id: team_id.to_owned(),
            named_by: options.named_by,
            pacer: options.pacer.clone(),
            backoff: ExponentialBuilder::default()
                .with_jitter()
                .with_min_delay(Duration::from_millis(200))
                .with_max_delay(Duration::from_secs(10))
                .with_max_times(options.retries),
            stop: options.stop.clone(),
            listener: options.listener.clone(),
            later: options.later,
        })
    }

    fn url(&self, path: &str) -> Result<url::Url, WsError> {
        self.base
            .join(path)
            .map_err(|e| WsError::local(format!("bad request path {path}: {e}")))
    }

    /// One attempt of one request.
    async fn attempt(
        &self,
        method: &Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<(u16, Vec<u8>), Fail> {
        let mut url = self.url(path).map_err(Fail::Fatal)?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let header = self
            .token
            .header()
            .map_err(|_| Fail::Fatal(WsError::local("the token cannot be sent")))?;
        let mut request = self
            .client
            .request(method.clone(), url)
            .header(reqwest::header::AUTHORIZATION, header);
        if let Some(body) = body {
            request = request.json(body);
        }
        let permit = self
            .pacer
            .acquire(&self.stop)
            .await
            .map_err(|pace::TooFar(reset)| {
                Fail::Fatal(WsError::local(format!(
                    "{method} /{path}: {}",
                    pace::too_far(reset, self.later)
                )))
            })?;
        if let Some(reason) = self.stop.reason() {
            return Err(Fail::Fatal(WsError::local(format!(
                "not sent: {}",
                reason.message
            ))));
        }
        tracing::debug!("{method} /{path}");
        let heard = |status: Option<u16>| {
            if let Some(listener) = &self.listener {
                listener.answered(method.as_str(), Route::of(method.as_str(), path), status);
            }
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => {
                drop(permit);
                heard(None);
                return Err(transport_error(&e));
            }
        };
        let status = response.status();
        heard(Some(status.as_u16()));
        let window = Window::from_headers(response.headers());
        if let (Some(listener), Some(remaining)) = (&self.listener, window.remaining) {
            listener.rate_limit_remaining(remaining);
        }
        self.pacer.observe(window);
        if status.is_redirection() {
            let to = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| url::Url::parse(l).ok())
                .and_then(|l| l.host_str().map(str::to_owned))
                .unwrap_or_else(|| "elsewhere".to_owned());
            return Err(Fail::Fatal(WsError::local(format!(
                "{method} /{path}: ClickUp answered HTTP {} with a redirect to {to}; it is not followed, so the token is sent to the API URL only (check --api-url)",
                status.as_u16()
            ))));
        }
        let bytes = match read_body(response).await {
            Ok(bytes) => bytes,
            Err(fail) => {
                drop(permit);
                return Err(fail.at(method, path));
            }
        };
        drop(permit);
        tracing::debug!("{method} /{path} -> {}", status.as_u16());
        // A 200 may carry ClickUp's error shape; such a body is small, and a large answer
        // (a Workspace's members) is not read twice to find out.
        let error_body = if status.is_success() && bytes.len() > 4096 {
            ErrorBody::default()
        } else {
            ErrorBody::parse(&bytes)
        };
        if status.is_success() && error_body.ecode.is_none() {
            return Ok((status.as_u16(), bytes));
        }
        let error = errors::api_error(
            status.as_u16(),
            &error_body,
            &bytes,
            (&self.team_id, self.named_by),
            path,
        );
        if status == StatusCode::TOO_MANY_REQUESTS || error_body.ecode.as_deref() == Some("APP_002")
        {
            self.pacer.exhausted(window);
            if let Some(reset) = window.reset_at
                && reset > std::time::SystemTime::now() + pace::LONGEST_WAIT
            {
                return Err(Fail::Fatal(WsError {
                    message: format!("{method} /{path}: {}", pace::too_far(reset, self.later)),
                    transient: true,
                    ..error
                }));
            }
            return Err(Fail::RateLimited { window, error });
        }
        if status.is_server_error() {
            return Err(Fail::Transient { sent: true, error });
        }
        Err(Fail::Fatal(error))
    }

    /// A request with retries. For a POST whose outcome is unknown, `effect` tells how to see
    /// whether it took effect before sending it again.
    async fn request(
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
                && let Some(found) = self.find_effect(effect).await?
            {
                tracing::info!("{method} /{path} had taken effect; not sending it again");
                return Ok(Answer::AlreadyDone(found));
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
    async fn retrying<T, F, Fut>(&self, what: &str, attempt: F) -> Result<T, WsError>
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
    async fn find_effect(&self, effect: &Effect) -> Result<Option<Found>, Fail> {
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
                    .map(|m| Found::User(m.user.id)))
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
                    .map(|g| Found::Group(g.id)))
            }
        }
    }

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

    /// A write ClickUp refused, or whose retries were spent, is checked against the Workspace
    /// before it is called failed (SPEC §5): an invitation refused with a 4xx may name someone
    /// already there, and a removal or a role change that failed may have been made. Refusals every write would
    /// meet (`TEAM_110`, `OAUTH_*`) are not checked: the read would be refused too.
    async fn settle(
        &self,
        op: &WriteOp,
        effect: Option<&Effect>,
        error: WsError,
    ) -> Result<Written, WsError> {
        if error.stops_all_writes() {
            return Err(error);
        }
        let client_error = error.status.is_some_and(|s| (400..500).contains(&s));
        match op {
            WriteOp::InviteMember { email, .. } | WriteOp::InviteGuest { email, .. }
                if client_error =>
            {
                if let Some(effect) = effect
                    && let Ok(Some(Found::User(user_id))) = self.find_effect(effect).await
                {
                    tracing::info!(
                        "the invitation of {email} was refused, but they are in the Workspace ({})",
                        error.message
                    );
                    return Ok(Written {
                        outcome: WriteOutcome::Invited { user_id },
                        status: error.status,
                    });
                }
            }
            // An edit whose answer was lost may have been made (a pending invitation would
            // otherwise be sent again for nothing).
            WriteOp::EditMember {
                user_id,
                admin,
                custom_role_id,
                ..
            } => {
                let wanted = if *admin {
                    BaseRole::Admin
                } else {
                    BaseRole::Member
                };
                if let Ok(team) = self.team().await
                    && let Some(position) = team.position(*user_id)
                    && let user = &team.members[position].user
                    && user.role == Some(wanted.code())
                    && user.custom_role.as_ref().map(|c| c.id) == *custom_role_id
                {
                    tracing::info!(
                        "the role change of user {user_id} failed, but the role is already {} ({})",
                        wanted.name(),
                        error.message
                    );
                    return Ok(Written {
                        outcome: WriteOutcome::Done,
                        status: error.status,
                    });
                }
            }
            WriteOp::RemoveMember { user_id } | WriteOp::RemoveGuest { user_id } => {
                if let Ok(team) = self.team().await
                    && team.position(*user_id).is_none()
                {
                    tracing::info!(
                        "the removal of user {user_id} failed, but they are gone from the Workspace ({})",
                        error.message
                    );
                    return Ok(Written {
                        outcome: WriteOutcome::Done,
                        status: error.status,
                    });
                }
            }
            _ => {}
        }
        Err(error)
    }

    /// The Workspaces the token reaches (`GET /team`): id and name of each.
    pub(crate) async fn visible(&self) -> Result<Vec<(String, String)>, WsError> {
        let teams = self
            .get(&Route::GetTeams.path(&[]), &[], api::parse_teams)
            .await?;
        Ok(teams.into_iter().map(|t| (t.id, t.name)).collect())
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

/// What a request came back with.
#[derive(Debug)]
enum Answer {
    Body(u16, Vec<u8>),
    AlreadyDone(Found),
}

#[derive(Debug)]
enum Found {
    User(i64),
    Group(String),
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
    let wanted = if admin {
        BaseRole::Admin
    } else {
        BaseRole::Member
    };
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

/// The most an answer may hold: several times the `GET /team` of a 100,000-people Workspace.
const MAX_BODY: u64 = 256 * 1024 * 1024;

/// Reads an answer's body, refusing one larger than [`MAX_BODY`] before it fills memory.
async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, Fail> {
    let too_large = |size: String| {
        Fail::Fatal(WsError::local(format!(
            "the answer is {size}, more than the {} MiB an answer may hold; not read",
            MAX_BODY / (1024 * 1024)
        )))
    };
    if let Some(length) = response.content_length()
        && length > MAX_BODY
    {
        return Err(too_large(format!("{length} bytes")));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| transport_error(&e))? {
        if (bytes.len() + chunk.len()) as u64 > MAX_BODY {
            return Err(too_large("larger".to_owned()));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

impl Fail {
    /// The same failure; a final one names the request (retried ones are named when the
    /// retries are spent).
    fn at(self, method: &Method, path: &str) -> Fail {
        match self {
            Fail::Fatal(mut error) => {
                error.message = format!("{method} /{path}: {}", error.message);
                Fail::Fatal(error)
            }
            other => other,
        }
    }
}

fn transport_error(e: &reqwest::Error) -> Fail {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "lost the connection"
    };
    // The innermost cause says what happened ("connection closed before message completed").
    let mut cause: &dyn std::error::Error = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    Fail::Transient {
        sent: !e.is_connect(),
        error: WsError::local(format!("{what} ({cause})")),
    }
}

/// The URL as messages show it: its scheme, host, port and path; never a user name, a
/// password, a query or a fragment, which may carry a key.
fn redact(url: &url::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

/// Like [`redact`], for text that is not a URL: whatever stands between `://` and an `@`, and
/// from a `?` or `#` on.
fn redact_text(text: &str) -> String {
    let text = text.split(['?', '#']).next().unwrap_or_default();
    match text.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((_, host)) => format!("{scheme}://…@{host}"),
            None => text.to_owned(),
        },
        None => text
            .split_once('@')
            .map_or_else(|| text.to_owned(), |(_, host)| format!("…@{host}")),
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
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
            let path = Route::GetCustomRoles.path(&[&self.team_id]);
            Some(
                self.get(
                    &path,
                    &[("include_members", "false")],
                    api::parse_custom_roles,
                )
                .await?,
            )
        } else {
            None
        };
        let groups = if needs.groups {
            Some(
                self.get(
                    &Route::GetGroups.path(&[]),
                    &[("team_id", &self.team_id)],
                    api::parse_groups,
                )
                .await?,
            )
        } else {
            None
        };
        let mut guests: Vec<GuestDetail> = Vec::new();
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
        let effect = match op {
            WriteOp::InviteMember { email, .. } | WriteOp::InviteGuest { email, .. } => {
                Some(Effect::Invited(email.clone()))
            }
            WriteOp::CreateGroup { name, .. } => Some(Effect::GroupCreated(name.clone())),
            _ => None,
        };
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
                });
            }
            Err(e) => return self.settle(op, effect.as_ref(), e).await,
        };
        // An answer that does not say the new id (unreadable, or shaped otherwise) is resolved
        // by looking at the Workspace.
        let (status, found) = match answer {
            Answer::AlreadyDone(found) => (None, Some(found)),
            Answer::Body(status, bytes) => {
                let found = match op {
                    WriteOp::InviteMember { email, .. } | WriteOp::InviteGuest { email, .. } => {
                        api::invited_user_id(&bytes, email).map(Found::User)
                    }
                    WriteOp::CreateGroup { .. } => api::created_group_id(&bytes).map(Found::Group),
                    WriteOp::EditMember {
                        user_id,
                        admin,
                        custom_role_id,
                        ..
                    } => {
                        edit_took_effect(&bytes, *user_id, *admin, *custom_role_id)?;
                        return Ok(Written {
                            outcome: WriteOutcome::Done,
                            status: Some(status),
                        });
                    }
                    _ => {
                        return Ok(Written {
                            outcome: WriteOutcome::Done,
                            status: Some(status),
                        });
                    }
                };
                (Some(status), found)
            }
        };
        let found = match (found, &effect) {
            (Some(found), _) => Some(found),
            (None, Some(effect)) => self.find_effect(effect).await.ok().flatten(),
            (None, None) => None,
        };
        let written = |outcome| Ok(Written { outcome, status });
        match (op, found) {
            (_, Some(Found::User(user_id))) => written(WriteOutcome::Invited { user_id }),
            (_, Some(Found::Group(group_id))) => written(WriteOutcome::GroupCreated { group_id }),
            (WriteOp::CreateGroup { name, .. }, None) => Err(WsError::local(format!(
                "ClickUp accepted group \"{name}\" but it cannot be found; run again to pick it up"
            ))),
            (WriteOp::InviteMember { email, .. } | WriteOp::InviteGuest { email, .. }, None) => {
                Err(WsError::local(format!(
                    "ClickUp accepted the invitation of {email} but they cannot be found; run again to pick them up"
                )))
            }
            (_, None) => written(WriteOutcome::Done),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(url: &str) -> Options {
        Options {
            api_url: url.to_owned(),
            timeout: Duration::from_secs(5),
            stop: StopSignal::default(),
            listener: None,
            retries: RETRIES,
            pacer: std::sync::Arc::default(),
            named_by: "workspace.id",
            later: Later::default(),
        }
    }

    fn token() -> Token {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("token");
        std::fs::write(&path, "pk_test").expect("write");
        token::Token::from_file_for_tests(&path)
    }

    #[test]
    fn a_password_in_the_api_url_is_never_shown() {
        let workspace = HttpWorkspace::new(
            &options("https://user:s3cret@api.clickup.com/api/v2"),
            token(),
            "1",
        )
        .expect("valid");
        assert_eq!(
            workspace.describe(),
            "ClickUp (https://api.clickup.com/api/v2)"
        );
        let err = HttpWorkspace::new(&options("https://user:s3cret@[bad/api"), token(), "1")
            .expect_err("not a URL")
            .to_string();
        assert!(!err.contains("s3cret"), "{err}");
        assert!(err.contains("https://…@[bad/api"), "{err}");
    }

    #[test]
    fn a_query_or_fragment_in_the_api_url_is_never_shown() {
        let workspace = HttpWorkspace::new(
            &options("https://api.clickup.com:8443/api/v2?key=s3cret#s3cret2"),
            token(),
            "1",
        )
        .expect("valid");
        assert_eq!(
            workspace.describe(),
            "ClickUp (https://api.clickup.com:8443/api/v2)"
        );
        let err = HttpWorkspace::new(&options("https://[bad/api?key=s3cret"), token(), "1")
            .expect_err("not a URL")
            .to_string();
        assert!(!err.contains("s3cret"), "{err}");
        assert!(err.contains("https://[bad/api"), "{err}");
    }

    /// Two Workspaces of one token: what ClickUp told one about the budget holds the other's
    /// next request until the reset, when they share a pacer (and only then).
    #[tokio::test]
    async fn workspaces_sharing_a_pacer_wait_for_the_reset_another_was_told() {
        use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};
        let server = MockServer::start().await;
        let reset = std::time::SystemTime::now() + Duration::from_millis(1500);
        let reset = reset
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs_f64();
        Mock::given(any())
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"plan_name": "Enterprise", "plan_id": 4}))
                    .insert_header("X-RateLimit-Limit", "100")
                    .insert_header("X-RateLimit-Remaining", "0")
                    .insert_header("X-RateLimit-Reset", format!("{reset}").as_str()),
            )
            .mount(&server)
            .await;
        let url = format!("{}/api/v2", server.uri());
        let shared = std::sync::Arc::new(Pacer::default());
        let open = |team: &str, pacer: &std::sync::Arc<Pacer>| {
            let options = Options {
                pacer: pacer.clone(),
                ..options(&url)
            };
            HttpWorkspace::new(&options, token(), team).expect("workspace")
        };
        let (first, second) = (open("1", &shared), open("2", &shared));
        let alone = open("3", &std::sync::Arc::default());
        let plan = |team: &str| Route::GetPlan.path(&[team]);
        first
            .get(&plan("1"), &[], api::parse_plan)
            .await
            .expect("first");
        let started = std::time::Instant::now();
        alone
            .get(&plan("3"), &[], api::parse_plan)
            .await
            .expect("alone");
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "a pacer of its own knows nothing yet: {:?}",
            started.elapsed()
        );
        let started = std::time::Instant::now();
        second
            .get(&plan("2"), &[], api::parse_plan)
            .await
            .expect("second");
        assert!(
            started.elapsed() >= Duration::from_millis(900),
            "the shared budget was spent: {:?}",
            started.elapsed()
        );
    }

    #[test]
    fn plain_http_is_refused_except_to_loopback() {
        let err = HttpWorkspace::new(&options("http://api.clickup.com/api/v2"), token(), "1")
            .expect_err("refused")
            .to_string();
        assert!(
            err.starts_with("refusing to send the token over plain http://"),
            "{err}"
        );
        for ok in [
            "http://127.0.0.1:9/api/v2",
            "http://localhost:9/api/v2",
            "http://[::1]:9/",
            "https://api.clickup.com/api/v2",
        ] {
            assert!(
                HttpWorkspace::new(&options(ok), token(), "1").is_ok(),
                "{ok}"
            );
        }
    }
}
