//! A fake Okta org: `GET /api/v1/groups/{groupId}/users` (`listGroupUsers`, SPEC O1) and the org
//! authorization server's `POST /oauth2/v1/token` (SPEC O2), as the notes describe them
//! (`reference/identity/identity-providers.md` §1).
//!
//! * Pages: a bare JSON array of `User`s, `limit` of them (default 1000, the description's;
//!   capped at [`OktaFake::set_max_limit`], 1000 unless told: Okta documents no maximum for this
//!   operation, INFERRED), linked by separate `link` header lines `rel="self"` and, while more
//!   remain, `rel="next"` whose `after` is the last user's id, as in O3's example (DOC O3). A
//!   cursor the fake did not issue, or a next link not followed as given, is a violation
//!   (DOC O3: "never build it yourself").
//! * Rate limits: every answer carries `X-Rate-Limit-Limit/Remaining/Reset` (epoch seconds) of
//!   a window (600 a minute unless told, opened by the first request, DOC O4/O5); beyond it, and
//!   on demand ([`OktaFault::RateLimited`]), 429 `E0000047`. No `Retry-After` (none is
//!   documented).
//! * Credentials: `Authorization: SSWS <API token>` registered by the test, or `Bearer <access
//!   token>` issued by the token endpoint to a client registered with its public key and granted
//!   scopes; the token must carry `okta.groups.read`. Client credentials with `private_key_jwt`
//!   only (DOC O6: the only method for Okta-scoped tokens); DPoP is not modelled (the app is
//!   taken to have it off, notes §1.4 step 8).
//! * Errors in Okta's `Error` shape: 404 `E0000007` (unknown group), 403 `E0000006`, 429
//!   `E0000047` (codes from the description's examples), 401 `E0000011` "Invalid token provided"
//!   (the description declares no 401 for this operation; the code is INFERRED), 5xx `E0000009`
//!   (INFERRED), 400 `E0000001` for a request outside the description (INFERRED). The token
//!   endpoint answers `OAuthError`s (`invalid_client`, `invalid_scope`, `unsupported_grant_type`,
//!   `invalid_request`, the description's examples; the texts not in them are INFERRED).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::MockServer;

use super::contract::{self, JWT_BEARER_ASSERTION, OKTA_LIST, OKTA_TOKEN, Sent};
use super::keys::RsaPublicKey;
use super::{Common, Endpoint, Issued, Logged, On, Page, Reply, epoch_secs, lock, logged, opaque};

/// The scope `sync` asks for (SPEC §11; SPEC O1: the operation's OAuth scope).
pub const GROUPS_READ: &str = "okta.groups.read";

/// A user's `status` (`UserStatus`, SPEC O1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OktaStatus {
    Active,
    PasswordExpired,
    LockedOut,
    Recovery,
    Suspended,
    Deprovisioned,
    Staged,
    Provisioned,
    /// Named in the description of `UserStatus` as transitional, though not in its enum
    /// (the contract accepts it in answers).
    Activating,
}

impl OktaStatus {
    pub const ALL: [OktaStatus; 9] = [
        OktaStatus::Active,
        OktaStatus::PasswordExpired,
        OktaStatus::LockedOut,
        OktaStatus::Recovery,
        OktaStatus::Suspended,
        OktaStatus::Deprovisioned,
        OktaStatus::Staged,
        OktaStatus::Provisioned,
        OktaStatus::Activating,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OktaStatus::Active => "ACTIVE",
            OktaStatus::PasswordExpired => "PASSWORD_EXPIRED",
            OktaStatus::LockedOut => "LOCKED_OUT",
            OktaStatus::Recovery => "RECOVERY",
            OktaStatus::Suspended => "SUSPENDED",
            OktaStatus::Deprovisioned => "DEPROVISIONED",
            OktaStatus::Staged => "STAGED",
            OktaStatus::Provisioned => "PROVISIONED",
            OktaStatus::Activating => "ACTIVATING",
        }
    }

    /// Kept by `sync` (SPEC §11): ACTIVE, and PASSWORD_EXPIRED, LOCKED_OUT, RECOVERY.
    pub fn kept_by_sync(self) -> bool {
        matches!(
            self,
            OktaStatus::Active
                | OktaStatus::PasswordExpired
                | OktaStatus::LockedOut
                | OktaStatus::Recovery
        )
    }
}

/// A user of the fake org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OktaUser {
    /// `00u…`, 20 characters.
    pub id: String,
    pub status: OktaStatus,
    /// `profile.email`.
    pub email: String,
    /// `profile.login` (the email unless told).
    pub login: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

impl OktaUser {
    /// An ACTIVE user with this email (and login), its id derived from the email.
    pub fn new(email: &str) -> OktaUser {
        let local = email.split('@').next().unwrap_or(email);
        let mut first = local
            .split(['.', '_', '-'])
            .next()
            .unwrap_or(local)
            .to_owned();
        first.truncate(50);
        OktaUser {
            id: id_of("00u", email),
            status: OktaStatus::Active,
            email: email.to_owned(),
            login: email.to_owned(),
            first_name: (!first.is_empty()).then_some(first),
            last_name: Some("Tester".to_owned()),
        }
    }

    pub fn status(mut self, status: OktaStatus) -> OktaUser {
        self.status = status;
        self
    }

    pub fn login(mut self, login: &str) -> OktaUser {
        self.login = login.to_owned();
        self
    }

    /// The user as `listGroupUsers` shows it (the notes' example, §1.1).
    pub fn to_json(&self, base: &str) -> Value {
        let staged = matches!(self.status, OktaStatus::Staged | OktaStatus::Provisioned);
        json!({
            "id": self.id,
            "status": self.status.as_str(),
            "created": "2025-11-03T09:12:40.000Z",
            "activated": if staged { Value::Null } else { json!("2025-11-03T09:12:41.000Z") },
            "statusChanged": "2026-04-01T08:00:00.000Z",
            "lastLogin": if staged { Value::Null } else { json!("2026-06-30T07:45:02.000Z") },
            "lastUpdated": "2026-05-12T14:03:19.000Z",
            "passwordChanged": if staged { Value::Null } else { json!("2025-11-03T09:20:11.000Z") },
            "type": {"id": "oty1162QAr8hJjTaq0g4"},
            "profile": {
                "firstName": self.first_name, "lastName": self.last_name,
                "mobilePhone": null, "secondEmail": null,
                "login": self.login, "email": self.email
            },
            "credentials": {"password": {}, "provider": {"type": "OKTA", "name": "OKTA"}},
            "_links": {"self": {"href": format!("{base}/api/v1/users/{}", self.id)}}
        })
    }
}

/// `n` ACTIVE users `user0000@domain`, `user0001@domain`…
pub fn users(n: usize, domain: &str) -> Vec<OktaUser> {
    (0..n)
        .map(|i| OktaUser::new(&format!("user{i:04}@{domain}")))
        .collect()
}

/// An Okta-looking id: `prefix` and 17 characters derived from `seed`.
pub(crate) fn id_of(prefix: &str, seed: &str) -> String {
    use sha2::Digest as _;
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let digest = sha2::Sha256::digest(seed.as_bytes());
    let mut out = prefix.to_owned();
    out.extend(
        digest
            .iter()
            .take(17)
            .map(|b| char::from(DIGITS[usize::from(*b) % DIGITS.len()])),
    );
    out
}

/// What to do to a chosen request instead of answering it normally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OktaFault {
    /// Answer with this status (a 5xx) in Okta's error shape.
    Status(u16),
    /// Answer normally, `timeout_delay` late.
    Timeout,
    /// Close the connection without an answer.
    Drop,
    /// 429 `E0000047` with `X-Rate-Limit-Remaining: 0` and a reset `reset_in` seconds from now.
    RateLimited { reset_in: u64 },
    /// 401 `E0000011` (the token endpoint: `invalid_client`).
    Unauthorized,
    /// 403 `E0000006` (the token endpoint: `access_denied`).
    Forbidden,
    /// Answer this status and body as they are (checked like any answer: a test of the checker).
    Raw(u16, String),
}

#[derive(Debug, Clone)]
struct Client {
    key: RsaPublicKey,
    scopes: Vec<String>,
}

struct State {
    common: Common<OktaFault>,
    base: String,
    api_tokens: Vec<String>,
    clients: BTreeMap<String, Client>,
    tokens: HashMap<String, Issued>,
    seen_jti: HashSet<String>,
    token_lifetime: u64,
    /// Shared, so that a page does not copy its group.
    groups: BTreeMap<String, Arc<Vec<OktaUser>>>,
    /// `(group, after)` -> the query of the next link issued with that cursor.
    cursors: HashMap<(String, String), Vec<(String, String)>>,
    max_limit: usize,
    rate_limit: u64,
    rate_window: u64,
    window_reset: u64,
    used: u64,
    tokens_issued: usize,
}

/// The fake Okta org.
pub struct OktaFake {
    server: MockServer,
    state: Arc<Mutex<State>>,
}

/// A test whose traffic broke Okta's description fails, whatever it asserted.
impl Drop for OktaFake {
    fn drop(&mut self) {
        self.lock()
            .common
            .fail_on_drop("Okta", "tests/contract/identity/okta-openapi-extract.json");
    }
}

impl OktaFake {
    pub async fn start() -> OktaFake {
        let state = Arc::new(Mutex::new(State {
            common: Common::new(),
            base: String::new(),
            api_tokens: Vec::new(),
            clients: BTreeMap::new(),
            tokens: HashMap::new(),
            seen_jti: HashSet::new(),
            token_lifetime: 3600,
            groups: BTreeMap::new(),
            cursors: HashMap::new(),
            max_limit: 1000,
            rate_limit: 600,
            rate_window: 60,
            window_reset: 0,
            used: 0,
            tokens_issued: 0,
        }));
        let server = super::serve(&state, answer).await;
        lock(&state).base = server.uri();
        OktaFake { server, state }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// The org's URL (`sources.okta.url`), e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        self.server.uri()
    }

    /// `{url}/oauth2/v1/token`: the `aud` of a client assertion.
    pub fn token_url(&self) -> String {
        format!("{}/oauth2/v1/token", self.url())
    }

    /// Accepts `Authorization: SSWS <token>`.
    pub fn api_token(&self, token: &str) {
        self.lock().api_tokens.push(token.to_owned());
    }

    /// An API Services app `client_id` with this public key in its JWK set, granted `scopes`.
    pub fn register_client(&self, client_id: &str, key: &RsaPublicKey, scopes: &[&str]) {
        self.lock().clients.insert(
            client_id.to_owned(),
            Client {
                key: key.clone(),
                scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            },
        );
    }

    /// A group `id` (`00g…`) holding `users`, in this order.
    pub fn add_group(&self, id: &str, users: Vec<OktaUser>) {
        self.lock().groups.insert(id.to_owned(), Arc::new(users));
    }

    /// The largest page served whatever `limit` asks (1000 unless told).
    pub fn set_max_limit(&self, max: usize) {
        self.lock().max_limit = max.max(1);
    }

    /// At most `limit` requests a window of `window` seconds (600 a minute unless told).
    pub fn rate_limit(&self, limit: u64, window: u64) {
        let mut s = self.lock();
        s.rate_limit = limit;
        s.rate_window = window.max(1);
        s.window_reset = 0;
        s.used = 0;
    }

    /// Access tokens live this many seconds (3600 unless told, DOC O6).
    pub fn token_lifetime(&self, seconds: u64) {
        self.lock().token_lifetime = seconds;
    }

    /// The next `times` requests `on` chooses meet `fault`.
    pub fn inject(&self, on: On, fault: OktaFault, times: usize) {
        self.lock().common.inject(None, on, fault, times);
    }

    /// Like [`OktaFake::inject`], for the pages of `group` only.
    pub fn inject_for(&self, group: &str, on: On, fault: OktaFault, times: usize) {
        self.lock().common.inject(Some(group), on, fault, times);
    }

    /// How long [`OktaFault::Timeout`] holds an answer back (5 s unless told).
    pub fn timeout_delay(&self, delay: Duration) {
        self.lock().common.timeout_delay = delay;
    }

    pub fn log(&self) -> Vec<Logged> {
        self.lock().common.log.clone()
    }

    /// Pages answered 200.
    pub fn pages_served(&self) -> usize {
        self.pages_of(None)
    }

    /// Pages of `group` answered 200.
    pub fn pages_served_for(&self, group: &str) -> usize {
        self.pages_of(Some(group))
    }

    fn pages_of(&self, group: Option<&str>) -> usize {
        self.lock()
            .common
            .log
            .iter()
            .filter(|l| l.status == 200)
            .filter_map(|l| l.page.as_ref())
            .filter(|p| group.is_none_or(|g| p.group == g))
            .count()
    }

    /// Access tokens issued.
    pub fn tokens_issued(&self) -> usize {
        self.lock().tokens_issued
    }

    /// This test sends requests outside Okta's description on purpose.
    pub fn expect_violations(&self) {
        self.lock().common.expect_violations = true;
    }

    /// Requests and answers that broke Okta's description so far.
    pub fn violations(&self) -> Vec<String> {
        self.lock().common.violations.clone()
    }
}

fn okta_error(status: u16, code: &str, summary: &str) -> Reply {
    Reply::json(
        status,
        &json!({
            "errorCode": code,
            "errorSummary": summary,
            "errorLink": code,
            "errorId": opaque("oae")[..25].to_owned(),
            "errorCauses": []
        }),
    )
}

fn oauth_error(status: u16, error: &str, description: &str) -> Reply {
    Reply::json(
        status,
        &json!({"error": error, "error_description": description}),
    )
}

fn answer(s: &mut State, sent: &Sent) -> Reply {
    let verdict = contract::okta_request(sent);
    let operation = verdict.operation.unwrap_or(OKTA_LIST);
    let endpoint = if operation == OKTA_TOKEN {
        Endpoint::Token
    } else {
        Endpoint::Api
    };
    let mut entry = logged(sent, endpoint, 0);
    let rate_limited = rate(s);
    let reply = if !verdict.violations.is_empty() {
        let summary = format!("Api validation failed: {}", verdict.violations.join("; "));
        entry.refusal = Some(summary.clone());
        s.common.violate(sent, verdict.violations);
        if endpoint == Endpoint::Api {
            okta_error(400, "E0000001", &summary)
        } else if !entry.form.contains_key("scope") {
            // The description's example OAuthError400InvalidScope_MissingScopes.
            oauth_error(400, "invalid_scope", "No scopes were requested.")
        } else if summary.contains("client_assertion") {
            oauth_error(401, "invalid_client", &summary)
        } else {
            oauth_error(400, "invalid_request", &summary)
        }
    } else if rate_limited {
        entry.refusal = Some("rate limit".into());
        okta_error(
            429,
            "E0000047",
            "API call exceeded rate limit due to too many requests.",
        )
    } else if endpoint == Endpoint::Token {
        token(s, sent, &mut entry)
    } else {
        list(s, sent, &mut entry)
    };
    let reply = with_rate_headers(s, reply);
    if !reply.drop {
        let violations = contract::okta_answer(operation, &reply.answer());
        s.common.violate(sent, violations);
    }
    entry.status = reply.status;
    s.common.record(entry);
    reply
}

/// Counts the request in the window: whether the window's budget was already spent.
fn rate(s: &mut State) -> bool {
    let now = epoch_secs();
    if now >= s.window_reset {
        s.window_reset = now + s.rate_window;
        s.used = 0;
    }
    if s.used >= s.rate_limit {
        return true;
    }
    s.used += 1;
    false
}

fn with_rate_headers(s: &State, reply: Reply) -> Reply {
    if reply.drop || reply.headers.iter().any(|(n, _)| n == "x-rate-limit-limit") {
        return reply;
    }
    reply
        .header("x-rate-limit-limit", &s.rate_limit.to_string())
        .header(
            "x-rate-limit-remaining",
            &s.rate_limit.saturating_sub(s.used).to_string(),
        )
        .header("x-rate-limit-reset", &s.window_reset.to_string())
}

/// A fault's answer; `normal` makes the answer the request would have had (for a timeout).
fn fault_reply(s: &State, fault: OktaFault, token: bool, normal: impl FnOnce() -> Reply) -> Reply {
    match fault {
        OktaFault::Status(status) => okta_error(status, "E0000009", "Internal Server Error"),
        OktaFault::Timeout => normal().delayed(s.common.timeout_delay),
        OktaFault::Drop => Reply::dropped(),
        OktaFault::RateLimited { reset_in } => {
            let body = if token {
                "You exceeded the maximum number of requests. Try again in a while."
            } else {
                "API call exceeded rate limit due to too many requests."
            };
            okta_error(429, "E0000047", body)
                .header("x-rate-limit-limit", &s.rate_limit.to_string())
                .header("x-rate-limit-remaining", "0")
                .header("x-rate-limit-reset", &(epoch_secs() + reset_in).to_string())
        }
        OktaFault::Unauthorized if token => {
            oauth_error(401, "invalid_client", "No client credentials found")
        }
        OktaFault::Unauthorized => okta_error(401, "E0000011", "Invalid token provided"),
        OktaFault::Forbidden if token => oauth_error(
            403,
            "access_denied",
            "The request is made from outside the client's permitted network zones.",
        ),
        OktaFault::Forbidden => okta_error(
            403,
            "E0000006",
            "You do not have permission to perform the requested action",
        ),
        OktaFault::Raw(status, body) => Reply::raw(status, "application/json", body.into_bytes()),
    }
}

/// `listGroupUsers`.
fn list(s: &mut State, sent: &Sent, entry: &mut Logged) -> Reply {
    if let Some(refusal) = authorize(s, sent) {
        entry.refusal = Some(refusal.0);
        return refusal.1;
    }
    let group = percent_decoded_group(sent);
    let Some(users) = s.groups.get(&group).cloned() else {
        entry.refusal = Some(format!("no group {group}"));
        return okta_error(
            404,
            "E0000007",
            &format!("Not found: Resource not found: {group} (UserGroup)"),
        );
    };
    let pairs = sent.query_pairs();
    let limit_given = pairs
        .iter()
        .find(|(n, _)| n == "limit")
        .map(|(_, v)| v.clone());
    let limit: i64 = limit_given
        .as_deref()
        .map_or(1000, |l| l.parse().unwrap_or(0));
    if limit < 1 {
        // INFERRED: what Okta answers to a limit below 1 is not documented.
        entry.refusal = Some("limit below 1".into());
        return okta_error(400, "E0000001", "Api validation failed: limit");
    }
    let size = (limit as usize).min(s.max_limit);
    let offset = match pairs.iter().find(|(n, _)| n == "after") {
        None => 0,
        Some((_, after)) => {
            let key = (group.clone(), after.clone());
            let Some(issued) = s.cursors.get(&key) else {
                let v = format!(
                    "after={after:?} is not a cursor this fake issued in a next link (DOC O3: follow the link, never build it)"
                );
                entry.refusal = Some(v.clone());
                s.common.violate(sent, vec![v.clone()]);
                return okta_error(400, "E0000001", &format!("Api validation failed: {v}"));
            };
            if !super::same_query(sent, issued) {
                s.common.violate(
                    sent,
                    vec![format!(
                        "the next link was not followed as given (DOC O3): it was ?{}",
                        url::form_urlencoded::Serializer::new(String::new())
                            .extend_pairs(issued)
                            .finish()
                    )],
                );
            }
            users
                .iter()
                .position(|u| u.id == *after)
                .map_or(users.len(), |i| i + 1)
        }
    };
    let end = (offset + size).min(users.len());
    let last = end >= users.len();
    let page = Page {
        group: group.clone(),
        index: offset / size + 1,
        size: end - offset,
        last,
    };
    entry.page = Some(page.clone());
    let base = s.base.clone();
    let body: Vec<Value> = users[offset..end]
        .iter()
        .map(|u| u.to_json(&base))
        .collect();
    let mut reply = Reply::json(200, &Value::Array(body))
        .header("link", &format!("<{base}{}>; rel=\"self\"", sent.target()));
    if !last && end > 0 {
        let after = users[end - 1].id.clone();
        let mut query = vec![("after".to_owned(), after.clone())];
        if let Some(limit) = limit_given {
            query.push(("limit".to_owned(), limit));
        }
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&query)
            .finish();
        reply = reply.header(
            "link",
            &format!("<{base}{}?{encoded}>; rel=\"next\"", sent.path),
        );
        s.cursors.insert((group, after), query);
    }
    match s.common.page_fault(&page) {
        Some(fault) => fault_reply(s, fault, false, || reply),
        None => reply,
    }
}

fn percent_decoded_group(sent: &Sent) -> String {
    let raw = sent
        .path
        .trim_start_matches("/api/v1/groups/")
        .trim_end_matches("/users");
    contract::percent_decode(raw).unwrap_or_else(|| raw.to_owned())
}

/// `None` when the request's credentials may list a group's users; else why not, and the
/// answer.
fn authorize(s: &State, sent: &Sent) -> Option<(String, Reply)> {
    let unauthorized = |why: &str| {
        Some((
            why.to_owned(),
            okta_error(401, "E0000011", "Invalid token provided"),
        ))
    };
    if let Some(token) = sent.credential("SSWS") {
        if s.api_tokens.iter().any(|t| t == token) {
            return None;
        }
        return unauthorized("an SSWS token the org does not know");
    }
    let Some(token) = sent.credential("Bearer") else {
        return unauthorized("no credentials");
    };
    let Some(issued) = s.tokens.get(token) else {
        return unauthorized("an access token the org did not issue");
    };
    if issued.expires <= epoch_secs() {
        return unauthorized("an expired access token");
    }
    if !issued.scopes.iter().any(|scope| scope == GROUPS_READ) {
        // INFERRED: a token without the operation's scope is refused with 403 E0000006.
        return Some((
            format!("the access token lacks {GROUPS_READ}"),
            okta_error(
                403,
                "E0000006",
                "You do not have permission to perform the requested action",
            ),
        ));
    }
    None
}

/// `POST /oauth2/v1/token`: client credentials, the client authenticated by a JWT signed with
/// its registered key (`private_key_jwt`).
fn token(s: &mut State, sent: &Sent, entry: &mut Logged) -> Reply {
    let reply = exchange(s, sent);
    let reply = match reply {
        Ok(reply) => reply,
        Err((why, reply)) => {
            entry.refusal = Some(why);
            reply
        }
    };
    match s.common.token_fault() {
        Some(fault) => fault_reply(s, fault, true, || reply),
        None => reply,
    }
}

type Refusal = (String, Reply);

fn refuse<T>(
    why: impl Into<String>,
    status: u16,
    error: &str,
    description: &str,
) -> Result<T, Refusal> {
    Err((why.into(), oauth_error(status, error, description)))
}

fn exchange(s: &mut State, sent: &Sent) -> Result<Reply, Refusal> {
    let form: BTreeMap<String, String> = sent.form_pairs().into_iter().collect();
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return refuse(
            format!("grant_type {:?}", form.get("grant_type")),
            400,
            "unsupported_grant_type",
            "The grant type in the request isn't supported.",
        );
    }
    let (client_id, client) = authenticate(s, sent, &form)?;
    grant(s, client_id, &client, &form)
}

/// The client a `private_key_jwt` assertion authenticates.
fn authenticate(
    s: &mut State,
    sent: &Sent,
    form: &BTreeMap<String, String>,
) -> Result<(String, Client), Refusal> {
    const BAD_SIGNATURE: &str = "The client_assertion signature is invalid.";
    let Some(assertion) = form.get("client_assertion") else {
        // DOC O6: private_key_jwt is the only method for tokens with Okta scopes; a secret
        // (Basic or in the form) is not one this app takes.
        let why = if sent.credential("Basic").is_some() || form.contains_key("client_secret") {
            "a client secret: this app authenticates with private_key_jwt only"
        } else {
            "no client credentials"
        };
        return refuse(why, 401, "invalid_client", "No client credentials found");
    };
    if form.get("client_assertion_type").map(String::as_str) != Some(JWT_BEARER_ASSERTION) {
        return refuse(
            "client_assertion_type",
            400,
            "invalid_request",
            "The client_assertion_type is invalid.",
        );
    }
    let Ok((header, claims)) = contract::jwt_parts(assertion) else {
        return refuse(
            "a client_assertion that is not a JWT",
            400,
            "invalid_client",
            "The client_assertion token is invalid.",
        );
    };
    let client_id = claims["sub"].as_str().unwrap_or_default().to_owned();
    let Some(client) = s.clients.get(&client_id).cloned() else {
        return refuse(
            format!("no client {client_id:?}"),
            401,
            "invalid_client",
            "The client_assertion token is invalid.",
        );
    };
    // INFERRED (notes §1.4 step 5, medium): a `kid` names the registered key.
    if let Some(kid) = header["kid"].as_str()
        && kid != client.key.kid
    {
        return refuse(
            format!("kid {kid:?} is not the client's key"),
            401,
            "invalid_client",
            BAD_SIGNATURE,
        );
    }
    if let Err(e) = verify(assertion, &header, &client.key) {
        return refuse(
            format!("signature: {e}"),
            401,
            "invalid_client",
            BAD_SIGNATURE,
        );
    }
    // DOC O6: `aud` is the token endpoint's full URL. A client's mistake, not an outside event:
    // a violation as well as a refusal.
    let token_url = format!("{}/oauth2/v1/token", s.base);
    let aud_ok = match &claims["aud"] {
        Value::String(a) => *a == token_url,
        Value::Array(list) => list.iter().any(|a| *a == json!(token_url)),
        _ => false,
    };
    if !aud_ok {
        let v = format!(
            "the client_assertion's aud is {}, not the token URL {token_url} (DOC O6)",
            claims["aud"]
        );
        s.common.violate(sent, vec![v.clone()]);
        return refuse(
            v,
            401,
            "invalid_client",
            "The audience of the client_assertion is invalid.",
        );
    }
    // DOC O6: a unique `jti` prevents replay (INFERRED: a replay is refused as invalid_client).
    if let Some(jti) = claims["jti"].as_str()
        && !s.seen_jti.insert(format!("{client_id}/{jti}"))
    {
        return refuse(
            format!("jti {jti:?} replayed"),
            401,
            "invalid_client",
            "The client_assertion token has already been used.",
        );
    }
    Ok((client_id, client))
}

/// A token for the scopes asked, when the client was granted them all.
fn grant(
    s: &mut State,
    client_id: String,
    client: &Client,
    form: &BTreeMap<String, String>,
) -> Result<Reply, Refusal> {
    let requested: Vec<String> = form
        .get("scope")
        .map(|s| s.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    if requested.is_empty() {
        return refuse(
            "no scope",
            400,
            "invalid_scope",
            "No scopes were requested.",
        );
    }
    let missing: Vec<&String> = requested
        .iter()
        .filter(|r| !client.scopes.contains(r))
        .collect();
    if !missing.is_empty() {
        return refuse(
            format!("scopes not granted: {missing:?}"),
            400,
            "invalid_scope",
            "The following scopes are not allowed: the app was not granted them.",
        );
    }
    let access_token = opaque("okta-at-");
    s.tokens.insert(
        access_token.clone(),
        Issued {
            client: client_id,
            scopes: requested.clone(),
            subject: None,
            expires: epoch_secs() + s.token_lifetime,
        },
    );
    s.tokens_issued += 1;
    Ok(Reply::json(
        200,
        &json!({
            "token_type": "Bearer",
            "expires_in": s.token_lifetime,
            "access_token": access_token,
            "scope": requested.join(" ")
        }),
    ))
}

/// The assertion's signature, with the registered key (RS256/384/512; an EC alg cannot verify
/// with an RSA key).
pub(crate) fn verify(jwt: &str, header: &Value, key: &RsaPublicKey) -> Result<(), String> {
    use jsonwebtoken::{Algorithm, Validation};
    let alg = match header["alg"].as_str() {
        Some("RS256") => Algorithm::RS256,
        Some("RS384") => Algorithm::RS384,
        Some("RS512") => Algorithm::RS512,
        other => return Err(format!("alg {other:?} does not verify with an RSA key")),
    };
    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims = HashSet::new();
    jsonwebtoken::decode::<Value>(jwt, &key.decoding_key(), &validation)
        .map(|_| ())
        .map_err(|e| e.to_string())
}
