//! A fake Microsoft Entra ID: Graph's `GET /v1.0/groups/{id}/transitiveMembers/microsoft.graph.user`
//! (`group_ListTransitiveMemberAsUser`, SPEC M1) on one server (`entra.graph_url`) and the
//! identity platform's `POST /{tenant}/oauth2/v2.0/token` (DOC M5) on another
//! (`entra.login_url`), as the notes describe them (`reference/identity/identity-providers.md` §2).
//!
//! * Pages: `{"@odata.context", "@odata.count" (with `$count=true`), "@odata.nextLink"?, "value"}`,
//!   `$top` users each (100 when not given, REPORT/DOC M7, medium; at most 999), only the
//!   `$select`ed properties and `id` (without `$select`, a default set without `accountEnabled`:
//!   SPEC M1 says it is returned only when selected; the rest of the set is INFERRED). The next
//!   link is the request's own query with a `$skiptoken` the fake made; a token it did not make,
//!   or a link not followed as given, is a violation (DOC M7). The exact `@odata.context` text
//!   is INFERRED.
//! * Transitive: a group's users, then those of the groups nested in it ([`GraphFake::nest`]),
//!   each user once.
//! * "Limited information" (DOC M9; the fake's rendering INFERRED, notes §2.6): with
//!   [`GraphFake::limited_information`], members come back with `@odata.type` and `id` only
//!   set, `mail`, `userPrincipalName` and `accountEnabled` null, as when the app lacks
//!   `User.Read.All`.
//! * Credentials: the client credentials grant with a secret, for apps the test registers per
//!   tenant; the scope `https://graph.microsoft.com/.default` (or `{graph_url}/.default`, see
//!   [`GraphFake::start`]). Graph takes a `Bearer` token the fake issued and has not expired.
//! * Errors: Graph's `ODataError` with `innerError` `date`/`request-id`/`client-request-id`
//!   (REPORT, medium): 404 `Request_ResourceNotFound`, 403 `Authorization_RequestDenied`, 429
//!   `TooManyRequests` (REPORT, medium), 401 `InvalidAuthenticationToken`, 503
//!   `serviceNotAvailable`, 5xx `generalException`, 400 `Request_BadRequest` (these four
//!   INFERRED). Entra's token errors `{error, error_description, error_codes, timestamp,
//!   trace_id, correlation_id}` (DOC M5); `invalid_client` is answered 401 (RFC 6749 §5.2; the
//!   notes show 400 for their example, `invalid_scope`), the AADSTS codes are INFERRED.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Map, Value, json};
use wiremock::MockServer;

use super::contract::{self, Sent};
use super::{
    Common, Cursor, Endpoint, Issued, Logged, On, Page, Reply, epoch_secs, lock, logged, opaque,
};

/// The scope `sync` asks for (SPEC §11).
pub const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";

/// A user of the fake directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphUser {
    /// A GUID.
    pub id: String,
    pub mail: Option<String>,
    pub user_principal_name: Option<String>,
    pub account_enabled: Option<bool>,
    pub display_name: Option<String>,
}

impl GraphUser {
    /// An enabled user whose `mail` and `userPrincipalName` are `email`.
    pub fn new(email: &str) -> GraphUser {
        GraphUser {
            id: guid_of(email),
            mail: Some(email.to_owned()),
            user_principal_name: Some(email.to_owned()),
            account_enabled: Some(true),
            display_name: Some(email.split('@').next().unwrap_or(email).to_owned()),
        }
    }

    /// A guest (B2B) invited from `email`: its UPN is `{email with @ as _}#EXT#@{tenant_domain}`,
    /// its `mail` the outside address.
    pub fn guest(email: &str, tenant_domain: &str) -> GraphUser {
        let upn = format!("{}#EXT#@{tenant_domain}", email.replace('@', "_"));
        GraphUser {
            user_principal_name: Some(upn),
            ..GraphUser::new(email)
        }
    }

    /// `accountEnabled: false`.
    pub fn disabled(mut self) -> GraphUser {
        self.account_enabled = Some(false);
        self
    }

    /// `accountEnabled: null` (the schema allows it).
    pub fn enabled_unknown(mut self) -> GraphUser {
        self.account_enabled = None;
        self
    }

    /// `mail: null` (an account without a mailbox), the UPN left as it is.
    pub fn without_mail(mut self) -> GraphUser {
        self.mail = None;
        self
    }

    pub fn upn(mut self, upn: &str) -> GraphUser {
        self.user_principal_name = Some(upn.to_owned());
        self
    }

    fn property(&self, name: &str) -> Value {
        match name {
            "id" => json!(self.id),
            "mail" => json!(self.mail),
            "userPrincipalName" => json!(self.user_principal_name),
            "accountEnabled" => json!(self.account_enabled),
            "displayName" => json!(self.display_name),
            "businessPhones" => json!([]),
            _ => Value::Null,
        }
    }
}

/// `n` enabled users `user0000@domain`…
pub fn users(n: usize, domain: &str) -> Vec<GraphUser> {
    (0..n)
        .map(|i| GraphUser::new(&format!("user{i:04}@{domain}")))
        .collect()
}

/// A GUID derived from `seed`.
pub(crate) fn guid_of(seed: &str) -> String {
    use sha2::Digest as _;
    let d = sha2::Sha256::digest(seed.as_bytes());
    let hex: String = d.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// The properties Graph returns without `$select` (INFERRED: SPEC M1 says only that
/// `accountEnabled` is not among them and `mail` is).
const DEFAULT_SELECT: [&str; 11] = [
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

/// What to do to a chosen request instead of answering it normally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphFault {
    /// This status (a 5xx) in the endpoint's error shape.
    Status(u16),
    /// Answer normally, `timeout_delay` late.
    Timeout,
    /// Close the connection without an answer.
    Drop,
    /// 429 or 503, with `Retry-After` (seconds) when given (DOC M8: it may be absent).
    Throttled {
        status: u16,
        retry_after: Option<u64>,
    },
    /// 401 `InvalidAuthenticationToken` (the token endpoint: `invalid_client`).
    Unauthorized,
    /// 403 `Authorization_RequestDenied` (the token endpoint: `unauthorized_client`).
    Forbidden,
    /// This status and body as they are (checked like any answer).
    Raw(u16, String),
}

#[derive(Debug, Clone, Default)]
struct Group {
    users: Vec<GraphUser>,
    nested: Vec<String>,
}

struct State {
    common: Common<GraphFault>,
    login_base: String,
    graph_base: String,
    /// tenant -> client id -> secret.
    apps: BTreeMap<String, BTreeMap<String, String>>,
    scopes: Vec<String>,
    tokens: HashMap<String, Issued>,
    token_lifetime: u64,
    tokens_issued: usize,
    groups: BTreeMap<String, Group>,
    limited: bool,
    /// `$skiptoken` -> (group, offset, the query of the next link).
    skiptokens: HashMap<String, Cursor>,
}

/// The fake Entra ID: Graph and the token endpoint, on two servers.
pub struct GraphFake {
    login: MockServer,
    graph: MockServer,
    state: Arc<Mutex<State>>,
}

/// A test whose traffic broke Graph's or Entra's description fails, whatever it asserted.
impl Drop for GraphFake {
    fn drop(&mut self) {
        self.lock().common.fail_on_drop(
            "Entra/Graph",
            "tests/contract/identity/graph-openapi-extract.json, and notes §2.4",
        );
    }
}

impl GraphFake {
    /// Starts both servers. The token endpoint takes the scope
    /// `https://graph.microsoft.com/.default` (SPEC §11) and `{graph_url}/.default` (what a
    /// client deriving the resource from `entra.graph_url` would send; SPEC §11 does not say
    /// which a sovereign cloud's URL calls for).
    pub async fn start() -> GraphFake {
        let state = Arc::new(Mutex::new(State {
            common: Common::new(),
            login_base: String::new(),
            graph_base: String::new(),
            apps: BTreeMap::new(),
            scopes: Vec::new(),
            tokens: HashMap::new(),
            token_lifetime: 3599,
            tokens_issued: 0,
            groups: BTreeMap::new(),
            limited: false,
            skiptokens: HashMap::new(),
        }));
        let login = super::serve(&state, answer_login).await;
        let graph = super::serve(&state, answer_graph).await;
        {
            let mut s = lock(&state);
            s.login_base = login.uri();
            s.graph_base = graph.uri();
            s.scopes = vec![
                GRAPH_DEFAULT.to_owned(),
                format!("{}/.default", graph.uri()),
            ];
        }
        GraphFake {
            login,
            graph,
            state,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// `entra.login_url`.
    pub fn login_url(&self) -> String {
        self.login.uri()
    }

    /// `entra.graph_url`.
    pub fn graph_url(&self) -> String {
        self.graph.uri()
    }

    /// `{login_url}/{tenant}/oauth2/v2.0/token`.
    pub fn token_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/token", self.login_url())
    }

    /// An app registration `client_id` in `tenant` with this client secret, consented for
    /// Graph (`GroupMember.Read.All` + `User.Read.All`, notes §2.6).
    pub fn register_app(&self, tenant: &str, client_id: &str, secret: &str) {
        self.lock()
            .apps
            .entry(tenant.to_owned())
            .or_default()
            .insert(client_id.to_owned(), secret.to_owned());
    }

    /// Only these scopes are taken at the token endpoint (instead of both defaults).
    pub fn accept_scopes(&self, scopes: &[&str]) {
        self.lock().scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
    }

    /// A group (its object id, a GUID) whose direct members are `users`.
    pub fn add_group(&self, id: &str, users: Vec<GraphUser>) {
        self.lock().groups.entry(id.to_owned()).or_default().users = users;
    }

    /// Group `child` is a member of group `parent`: its users are `parent`'s transitive members.
    pub fn nest(&self, parent: &str, child: &str) {
        self.lock()
            .groups
            .entry(parent.to_owned())
            .or_default()
            .nested
            .push(child.to_owned());
    }

    /// The app lacks `User.Read.All`: members come back with `id` only (DOC M9).
    pub fn limited_information(&self, on: bool) {
        self.lock().limited = on;
    }

    /// Access tokens live this many seconds (3599 unless told).
    pub fn token_lifetime(&self, seconds: u64) {
        self.lock().token_lifetime = seconds;
    }

    /// The next `times` requests `on` chooses meet `fault`.
    pub fn inject(&self, on: On, fault: GraphFault, times: usize) {
        self.lock().common.inject(None, on, fault, times);
    }

    /// Like [`GraphFake::inject`], for the pages of `group` only.
    pub fn inject_for(&self, group: &str, on: On, fault: GraphFault, times: usize) {
        self.lock().common.inject(Some(group), on, fault, times);
    }

    /// How long [`GraphFault::Timeout`] holds an answer back (5 s unless told).
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

    pub fn tokens_issued(&self) -> usize {
        self.lock().tokens_issued
    }

    /// This test sends requests outside the descriptions on purpose.
    pub fn expect_violations(&self) {
        self.lock().common.expect_violations = true;
    }

    /// Requests and answers that broke the descriptions so far.
    pub fn violations(&self) -> Vec<String> {
        self.lock().common.violations.clone()
    }
}

fn graph_error(status: u16, code: &str, message: &str) -> Reply {
    let id = uuid::Uuid::new_v4().to_string();
    let date = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]"
        ))
        .unwrap_or_default();
    Reply::json(
        status,
        &json!({"error": {
            "code": code,
            "message": message,
            "innerError": {"date": date, "request-id": id, "client-request-id": id}
        }}),
    )
}

fn entra_error(status: u16, error: &str, code: u32, text: &str) -> Reply {
    let trace = uuid::Uuid::new_v4().to_string();
    let correlation = uuid::Uuid::new_v4().to_string();
    let timestamp = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]Z"
        ))
        .unwrap_or_default();
    Reply::json(
        status,
        &json!({
            "error": error,
            "error_description": format!(
                "AADSTS{code}: {text} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {timestamp}"
            ),
            "error_codes": [code],
            "timestamp": timestamp,
            "trace_id": trace,
            "correlation_id": correlation
        }),
    )
}

fn fault_reply(s: &State, fault: GraphFault, token: bool, normal: impl FnOnce() -> Reply) -> Reply {
    match fault {
        GraphFault::Status(status) if token => entra_error(
            status,
            "temporarily_unavailable",
            50_033,
            "The service is temporarily unavailable.",
        ),
        GraphFault::Status(503) => graph_error(503, "serviceNotAvailable", "Service unavailable."),
        GraphFault::Status(status) => graph_error(
            status,
            "generalException",
            "An unspecified error has occurred.",
        ),
        GraphFault::Timeout => normal().delayed(s.common.timeout_delay),
        GraphFault::Drop => Reply::dropped(),
        GraphFault::Throttled {
            status,
            retry_after,
        } => {
            let reply = if token {
                entra_error(
                    status,
                    "temporarily_unavailable",
                    50_196,
                    "The server is temporarily unavailable: too many requests.",
                )
            } else if status == 429 {
                graph_error(
                    429,
                    "TooManyRequests",
                    "Too many requests. Please try again later.",
                )
            } else {
                graph_error(status, "serviceNotAvailable", "Service unavailable.")
            };
            match retry_after {
                Some(secs) => reply.header("retry-after", &secs.to_string()),
                None => reply,
            }
        }
        GraphFault::Unauthorized if token => entra_error(
            401,
            "invalid_client",
            7_000_215,
            "Invalid client secret provided.",
        ),
        GraphFault::Unauthorized => graph_error(
            401,
            "InvalidAuthenticationToken",
            "Access token validation failure.",
        ),
        GraphFault::Forbidden if token => entra_error(
            400,
            "unauthorized_client",
            700_016,
            "Application was not found in the directory.",
        ),
        GraphFault::Forbidden => graph_error(
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ),
        GraphFault::Raw(status, body) => Reply::raw(status, "application/json", body.into_bytes()),
    }
}

/// The login server: `POST /{tenant}/oauth2/v2.0/token`.
fn answer_login(s: &mut State, sent: &Sent) -> Reply {
    let verdict = contract::entra_token_request(sent);
    let mut entry = logged(sent, Endpoint::Token, 0);
    let reply = if verdict.violations.is_empty() {
        let reply = match exchange(s, sent) {
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
    } else {
        let text = verdict.violations.join("; ");
        entry.refusal = Some(text.clone());
        s.common.violate(sent, verdict.violations);
        if text.contains("scope") {
            entra_error(
                400,
                "invalid_scope",
                70_011,
                "The provided value for the input parameter 'scope' is not valid.",
            )
        } else {
            entra_error(400, "invalid_request", 900_144, &text)
        }
    };
    if !reply.drop {
        let violations = contract::entra_token_answer(&reply.answer());
        s.common.violate(sent, violations);
    }
    entry.status = reply.status;
    s.common.record(entry);
    reply
}

fn exchange(s: &mut State, sent: &Sent) -> Result<Reply, (String, Reply)> {
    let form: BTreeMap<String, String> = sent.form_pairs().into_iter().collect();
    let tenant = sent
        .path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let refuse = |why: String, reply: Reply| Err((why, reply));
    let Some(apps) = s.apps.get(&tenant) else {
        return refuse(
            format!("no tenant {tenant}"),
            entra_error(
                400,
                "invalid_request",
                90_002,
                &format!("Tenant '{tenant}' not found."),
            ),
        );
    };
    let client_id = form.get("client_id").cloned().unwrap_or_default();
    let Some(secret) = apps.get(&client_id) else {
        return refuse(
            format!("no app {client_id} in {tenant}"),
            entra_error(
                400,
                "unauthorized_client",
                700_016,
                &format!(
                    "Application with identifier '{client_id}' was not found in the directory '{tenant}'."
                ),
            ),
        );
    };
    match form.get("client_secret") {
        Some(given) if given == secret => {}
        Some(_) => {
            return refuse(
                "wrong client secret".into(),
                entra_error(
                    401,
                    "invalid_client",
                    7_000_215,
                    "Invalid client secret provided.",
                ),
            );
        }
        None => {
            // The certificate route is documented (DOC M6) but the fake's apps hold secrets.
            return refuse(
                "a client assertion: this app has a secret".into(),
                entra_error(
                    401,
                    "invalid_client",
                    700_027,
                    "Client assertion failed signature validation.",
                ),
            );
        }
    }
    let scope = form.get("scope").cloned().unwrap_or_default();
    if !s.scopes.contains(&scope) {
        return refuse(
            format!("scope {scope}"),
            entra_error(
                400,
                "invalid_scope",
                70_011,
                "The provided value for the input parameter 'scope' is not valid.",
            ),
        );
    }
    let access_token = opaque("eyJ0eXAiOiJKV1Qi.fake-graph-");
    s.tokens.insert(
        access_token.clone(),
        Issued {
            client: client_id,
            scopes: vec![scope],
            subject: None,
            expires: epoch_secs() + s.token_lifetime,
        },
    );
    s.tokens_issued += 1;
    Ok(Reply::json(
        200,
        &json!({"token_type": "Bearer", "expires_in": s.token_lifetime, "access_token": access_token}),
    ))
}

/// The Graph server.
fn answer_graph(s: &mut State, sent: &Sent) -> Reply {
    let verdict = contract::graph_request(sent);
    let mut entry = logged(sent, Endpoint::Api, 0);
    let reply = if verdict.violations.is_empty() {
        list(s, sent, &mut entry)
    } else {
        let text = verdict.violations.join("; ");
        entry.refusal = Some(text.clone());
        s.common.violate(sent, verdict.violations);
        graph_error(400, "Request_BadRequest", &text)
    };
    if !reply.drop {
        let violations = contract::graph_answer(&reply.answer());
        s.common.violate(sent, violations);
    }
    entry.status = reply.status;
    s.common.record(entry);
    reply
}

/// A group's users, then those of the groups nested in it, each once (`listed` holds the ids
/// of `out`, so that a group of 10,000 is not searched 10,000 times a page).
fn transitive<'a>(
    s: &'a State,
    id: &str,
    seen: &mut Vec<String>,
    listed: &mut HashSet<&'a str>,
    out: &mut Vec<&'a GraphUser>,
) {
    if seen.iter().any(|g| g == id) {
        return;
    }
    seen.push(id.to_owned());
    let Some(group) = s.groups.get(id) else {
        return;
    };
    for user in &group.users {
        if listed.insert(user.id.as_str()) {
            out.push(user);
        }
    }
    for child in &group.nested {
        transitive(s, child, seen, listed, out);
    }
}

fn list(s: &mut State, sent: &Sent, entry: &mut Logged) -> Reply {
    let (group, offset) = match authorize(s, sent).and_then(|group| {
        let offset = start(s, sent, &group)?;
        Ok((group, offset))
    }) {
        Ok(found) => found,
        Err((why, reply)) => {
            entry.refusal = Some(why);
            return reply;
        }
    };
    let pairs = sent.query_pairs();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let mut members = Vec::new();
    transitive(
        s,
        &group,
        &mut Vec::new(),
        &mut HashSet::new(),
        &mut members,
    );
    let size = get("$top")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(100)
        .clamp(1, 999);
    let end = (offset + size).min(members.len());
    let last = end >= members.len();
    let page = Page {
        group: group.clone(),
        index: offset / size + 1,
        size: end.saturating_sub(offset),
        last,
    };
    entry.page = Some(page.clone());
    let select_list = get("$select").unwrap_or_default();
    let selected: Vec<&str> = if select_list.is_empty() {
        DEFAULT_SELECT.to_vec()
    } else {
        select_list.split(',').collect()
    };
    let mut body = json!({
        "@odata.context": if select_list.is_empty() {
            format!("{}/v1.0/$metadata#users", s.graph_base)
        } else {
            format!("{}/v1.0/$metadata#users({select_list})", s.graph_base)
        },
        "value": render(s.limited, &members[offset.min(end)..end], &selected)
    });
    if get("$count").as_deref() == Some("true") {
        body["@odata.count"] = json!(members.len());
    }
    if !last {
        body["@odata.nextLink"] = json!(next_link(s, sent, group, end));
    }
    let reply = Reply::json(200, &body);
    match s.common.page_fault(&page) {
        Some(fault) => fault_reply(s, fault, false, || reply),
        None => reply,
    }
}

/// The group the request names, when its token is good and the group exists.
fn authorize(s: &State, sent: &Sent) -> Result<String, (String, Reply)> {
    let authorized = sent
        .credential("Bearer")
        .and_then(|t| s.tokens.get(t))
        .is_some_and(|t| t.expires > epoch_secs());
    if !authorized {
        return Err((
            "no valid access token".into(),
            graph_error(
                401,
                "InvalidAuthenticationToken",
                "Access token validation failure. Invalid audience.",
            ),
        ));
    }
    let raw_id = sent
        .path
        .trim_start_matches("/v1.0/groups/")
        .split('/')
        .next()
        .unwrap_or_default();
    let group = contract::percent_decode(raw_id).unwrap_or_else(|| raw_id.to_owned());
    if !s.groups.contains_key(&group) {
        return Err((
            format!("no group {group}"),
            graph_error(
                404,
                "Request_ResourceNotFound",
                &format!(
                    "Resource '{group}' does not exist or one of its queried reference-property objects are not present."
                ),
            ),
        ));
    }
    Ok(group)
}

/// Where the page starts: 0, or where the `$skiptoken` the fake issued says.
fn start(s: &mut State, sent: &Sent, group: &str) -> Result<usize, (String, Reply)> {
    let Some((_, token)) = sent
        .query_pairs()
        .into_iter()
        .find(|(n, _)| n == "$skiptoken")
    else {
        return Ok(0);
    };
    match s.skiptokens.get(&token) {
        Some((g, offset, issued)) if g == group => {
            if !super::same_query(sent, issued) {
                s.common.violate(
                    sent,
                    vec!["the @odata.nextLink was not followed as given (DOC M7)".into()],
                );
            }
            Ok(*offset)
        }
        _ => {
            let v = format!(
                "$skiptoken={token:?} is not one this fake issued (DOC M7: follow @odata.nextLink as given)"
            );
            s.common.violate(sent, vec![v.clone()]);
            let reply = graph_error(400, "Request_BadRequest", &v);
            Err((v, reply))
        }
    }
}

/// The users as a page shows them: the selected properties and `id`; with limited
/// information, `@odata.type` and `id` only (DOC M9).
fn render(limited: bool, users: &[&GraphUser], selected: &[&str]) -> Vec<Value> {
    users
        .iter()
        .map(|user| {
            let mut item = Map::new();
            if limited {
                item.insert("@odata.type".into(), json!("#microsoft.graph.user"));
            }
            item.insert("id".into(), json!(user.id));
            for property in selected {
                let value = if limited && *property != "id" {
                    Value::Null
                } else {
                    user.property(property)
                };
                item.insert((*property).to_owned(), value);
            }
            Value::Object(item)
        })
        .collect()
}

/// The request's own query with a new `$skiptoken` for the page from `end` (DOC M7).
fn next_link(s: &mut State, sent: &Sent, group: String, end: usize) -> String {
    let token = opaque("RFNwdAIAAQAAAC");
    let mut query: Vec<&str> = sent
        .query
        .split('&')
        .filter(|part| {
            let name = part.split('=').next().unwrap_or("");
            contract::percent_decode(name).as_deref() != Some("$skiptoken") && !part.is_empty()
        })
        .collect();
    let skip = format!("$skiptoken={token}");
    query.push(&skip);
    let query = query.join("&");
    let issued = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    s.skiptokens.insert(token, (group, end, issued));
    format!("{}{}?{query}", s.graph_base, sent.path)
}
