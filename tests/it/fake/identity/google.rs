//! A fake Google Workspace: the Admin SDK Directory API's
//! `GET /admin/directory/v1/groups/{groupKey}/members` (`directory.members.list`, SPEC G1) on one
//! server (`google.api_url`) and the OAuth 2.0 token endpoint a service account key names in its
//! `token_uri` (`POST /token`, DOC G4) on another, as the notes describe them
//! (`reference/identity/identity-providers.md` §3).
//!
//! * Pages: `Members` (`kind`, `etag`, `members`, `nextPageToken`), `maxResults` members each
//!   (200 when not given, the maximum), `members` left out of an empty page (INFERRED, notes §4:
//!   discovery fields are optional, so a client must take it absent). A `pageToken` the fake did
//!   not issue is a violation; one sent with other parameters than the request that got it is
//!   one too (notes §3.2: "same other parameters", INFERRED, medium).
//! * `includeDerivedMembership=true` lists a group's members, then the members of the groups
//!   among them (the `GROUP` entries stay in the list), each once (the expansion's order and
//!   that `GROUP` entries remain are INFERRED, notes §3.3). `roles` filters on `role`.
//! * Members of `type` USER, GROUP, CUSTOMER (no email; its id the customer id) and `status`
//!   ACTIVE, SUSPENDED or any other string (DOC G3 lists none; INFERRED, low); a GROUP's or
//!   CUSTOMER's `status` is left out (INFERRED).
//! * Credentials: the JWT-bearer grant of a service account the test registers with its public
//!   key and the scopes delegated to it (domain-wide delegation), impersonating `sub`; its
//!   assertion verified (RS256 signature, `iss`, `aud` = `token_uri`, `iat`/`exp` within an hour,
//!   `scope` delegated, `sub` a user of the domain). The Directory API takes a `Bearer` token
//!   the fake issued, with a scope `members.list` accepts, acting as an administrator.
//! * Errors in Google's JSON error format (G5, medium): 404 `notFound` ("Resource Not Found:
//!   groupKey"), 403 `forbidden`, `insufficientPermissions`, `userRateLimitExceeded`,
//!   `rateLimitExceeded`, `quotaExceeded`, 429 `rateLimitExceeded` (DOC G2), 401 `authError`,
//!   5xx `backendError`, 400 `invalid` (the messages and the codes beyond G2's table are
//!   INFERRED). Token errors `{error, error_description}` (DOC G4): 400 `invalid_grant`, 401
//!   `unauthorized_client`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::MockServer;

use super::contract::{self, GOOGLE_MEMBER_READONLY, Sent};
use super::keys::{RsaKey, RsaPublicKey};
use super::{
    Common, Cursor, Endpoint, Issued, Logged, On, Page, Reply, epoch_secs, lock, logged, opaque,
};

/// The four scopes `members.list` accepts (SPEC G1).
pub const MEMBERS_LIST_SCOPES: [&str; 4] = [
    "https://www.googleapis.com/auth/admin.directory.group",
    "https://www.googleapis.com/auth/admin.directory.group.member",
    GOOGLE_MEMBER_READONLY,
    "https://www.googleapis.com/auth/admin.directory.group.readonly",
];

/// A member of a fake group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoogleMember {
    pub id: String,
    pub email: Option<String>,
    /// OWNER, MANAGER, MEMBER.
    pub role: String,
    /// USER, GROUP, CUSTOMER (EXTERNAL is "not currently used", DOC G3).
    pub member_type: String,
    pub status: Option<String>,
}

impl GoogleMember {
    /// An ACTIVE user, role MEMBER.
    pub fn user(email: &str) -> GoogleMember {
        GoogleMember {
            id: numeric_id(email),
            email: Some(email.to_owned()),
            role: "MEMBER".into(),
            member_type: "USER".into(),
            status: Some("ACTIVE".into()),
        }
    }

    /// A group among the members: with `includeDerivedMembership`, its own members are listed
    /// too when the fake holds a group of this email.
    pub fn group(email: &str) -> GoogleMember {
        GoogleMember {
            member_type: "GROUP".into(),
            status: None,
            ..GoogleMember::user(email)
        }
    }

    /// Every user of a customer's domains: no email, the customer id as id (DOC G3).
    pub fn customer(customer_id: &str) -> GoogleMember {
        GoogleMember {
            id: customer_id.to_owned(),
            email: None,
            role: "MEMBER".into(),
            member_type: "CUSTOMER".into(),
            status: None,
        }
    }

    pub fn status(mut self, status: &str) -> GoogleMember {
        self.status = Some(status.to_owned());
        self
    }

    pub fn role(mut self, role: &str) -> GoogleMember {
        self.role = role.to_owned();
        self
    }

    /// The member as `members.list` shows it (the notes' example, §3.1).
    pub fn to_json(&self) -> Value {
        let mut member = json!({
            "kind": "admin#directory#member",
            "etag": format!("\"{}\"", opaque("")),
            "id": self.id,
            "role": self.role,
            "type": self.member_type,
        });
        if let Some(email) = &self.email {
            member["email"] = json!(email);
        }
        if let Some(status) = &self.status {
            member["status"] = json!(status);
        }
        member
    }
}

/// `n` ACTIVE users `user0000@domain`…
pub fn users(n: usize, domain: &str) -> Vec<GoogleMember> {
    (0..n)
        .map(|i| GoogleMember::user(&format!("user{i:04}@{domain}")))
        .collect()
}

/// A 21-digit id derived from `seed`, like Google's.
fn numeric_id(seed: &str) -> String {
    use sha2::Digest as _;
    let d = sha2::Sha256::digest(seed.as_bytes());
    let digits: String = d
        .iter()
        .take(20)
        .map(|b| char::from(b'0' + b % 10))
        .collect();
    format!("1{digits}")
}

/// What to do to a chosen request instead of answering it normally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GoogleFault {
    /// This status (a 5xx): `backendError` (the token endpoint: `internal_failure`).
    Status(u16),
    /// Answer normally, `timeout_delay` late.
    Timeout,
    /// Close the connection without an answer.
    Drop,
    /// A quota error: 403 with `userRateLimitExceeded`, `rateLimitExceeded` or `quotaExceeded`,
    /// or 429 with `rateLimitExceeded` (DOC G2, G5).
    RateLimited { status: u16, reason: &'static str },
    /// 401 `authError` (the token endpoint: 400 `invalid_grant`).
    Unauthorized,
    /// 403 `forbidden` (the token endpoint: 401 `unauthorized_client`).
    Forbidden,
    /// This status and body as they are (checked like any answer).
    Raw(u16, String),
}

#[derive(Debug, Clone)]
struct ServiceAccount {
    key: RsaPublicKey,
    delegated: Vec<String>,
}

#[derive(Debug, Clone)]
struct Group {
    email: String,
    id: String,
    aliases: Vec<String>,
    /// Shared, so that a page does not copy its group.
    members: Arc<Vec<GoogleMember>>,
}

struct State {
    common: Common<GoogleFault>,
    api_base: String,
    token_uri: String,
    accounts: BTreeMap<String, ServiceAccount>,
    /// The domain's users an assertion may name as `sub`: email -> administrator.
    people: BTreeMap<String, bool>,
    tokens: HashMap<String, Issued>,
    token_lifetime: u64,
    tokens_issued: usize,
    groups: Vec<Group>,
    /// `pageToken` -> (group id, offset, the request's other parameters).
    page_tokens: HashMap<String, Cursor>,
}

/// The fake Google Workspace: the Directory API and the token endpoint, on two servers.
pub struct GoogleFake {
    api: MockServer,
    oauth: MockServer,
    state: Arc<Mutex<State>>,
}

/// A test whose traffic broke Google's descriptions fails, whatever it asserted.
impl Drop for GoogleFake {
    fn drop(&mut self) {
        self.lock().common.fail_on_drop(
            "Google",
            "tests/contract/identity/google-directory-extract.json, and notes §3.4",
        );
    }
}

impl GoogleFake {
    pub async fn start() -> GoogleFake {
        let state = Arc::new(Mutex::new(State {
            common: Common::new(),
            api_base: String::new(),
            token_uri: String::new(),
            accounts: BTreeMap::new(),
            people: BTreeMap::new(),
            tokens: HashMap::new(),
            token_lifetime: 3599,
            tokens_issued: 0,
            groups: Vec::new(),
            page_tokens: HashMap::new(),
        }));
        let api = super::serve(&state, answer_api).await;
        let oauth = super::serve(&state, answer_token).await;
        {
            let mut s = lock(&state);
            s.api_base = api.uri();
            s.token_uri = format!("{}/token", oauth.uri());
        }
        GoogleFake { api, oauth, state }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// `google.api_url`.
    pub fn api_url(&self) -> String {
        self.api.uri()
    }

    /// The `token_uri` of the key files this fake makes: the `aud` of an assertion.
    pub fn token_uri(&self) -> String {
        format!("{}/token", self.oauth.uri())
    }

    /// A service account `client_email` with this public key, domain-wide delegation granted
    /// for `scopes`.
    pub fn register_service_account(
        &self,
        client_email: &str,
        key: &RsaPublicKey,
        scopes: &[&str],
    ) {
        self.lock().accounts.insert(
            client_email.to_owned(),
            ServiceAccount {
                key: key.clone(),
                delegated: scopes.iter().map(|s| (*s).to_owned()).collect(),
            },
        );
    }

    /// Registers a service account `client_email` for `key`, delegated the one scope `sync`
    /// needs, and returns its key file (the JSON Google hands out: `type`, `project_id`,
    /// `private_key_id`, `private_key` in PKCS#8 PEM, `client_email`, `client_id`, `auth_uri`,
    /// `token_uri` pointing at this fake…).
    pub fn service_account(&self, client_email: &str, key: &RsaKey) -> Value {
        self.register_service_account(client_email, &key.public(), &[GOOGLE_MEMBER_READONLY]);
        self.key_file(client_email, key)
    }

    /// The key file of `client_email` for `key`, registering nothing.
    pub fn key_file(&self, client_email: &str, key: &RsaKey) -> Value {
        json!({
            "type": "service_account",
            "project_id": "clickup-members-test",
            "private_key_id": key.kid(),
            "private_key": key.pkcs8_pem(),
            "client_email": client_email,
            "client_id": numeric_id(client_email),
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_uri(),
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": format!(
                "https://www.googleapis.com/robot/v1/metadata/x509/{}",
                client_email.replace('@', "%40")
            ),
            "universe_domain": "googleapis.com"
        })
    }

    /// Writes [`GoogleFake::service_account`]'s key file into `dir` (for
    /// `GOOGLE_APPLICATION_CREDENTIALS`).
    pub fn write_service_account(&self, dir: &Path, client_email: &str, key: &RsaKey) -> PathBuf {
        let path = dir.join("service-account.json");
        let file = self.service_account(client_email, key);
        std::fs::write(&path, serde_json::to_vec_pretty(&file).expect("JSON"))
            .expect("write the key file");
        path
    }

    /// A user of the domain an assertion may impersonate (`sub`): an administrator who may
    /// read groups, or not.
    pub fn add_user(&self, email: &str, admin: bool) {
        self.lock().people.insert(email.to_lowercase(), admin);
    }

    /// A group `email` holding `members`; returns its id.
    pub fn add_group(&self, email: &str, members: Vec<GoogleMember>) -> String {
        let id = format!("0{}", &opaque("")[..14]);
        self.lock().groups.push(Group {
            email: email.to_owned(),
            id: id.clone(),
            aliases: Vec::new(),
            members: Arc::new(members),
        });
        id
    }

    /// Another address of group `email`.
    pub fn add_alias(&self, email: &str, alias: &str) {
        let mut s = self.lock();
        if let Some(group) = s.groups.iter_mut().find(|g| g.email == email) {
            group.aliases.push(alias.to_owned());
        }
    }

    /// Access tokens live this many seconds (3599 unless told).
    pub fn token_lifetime(&self, seconds: u64) {
        self.lock().token_lifetime = seconds;
    }

    /// The next `times` requests `on` chooses meet `fault`.
    pub fn inject(&self, on: On, fault: GoogleFault, times: usize) {
        self.lock().common.inject(None, on, fault, times);
    }

    /// Like [`GoogleFake::inject`], for the pages of `group` (as the request names it) only.
    pub fn inject_for(&self, group: &str, on: On, fault: GoogleFault, times: usize) {
        self.lock().common.inject(Some(group), on, fault, times);
    }

    /// How long [`GoogleFault::Timeout`] holds an answer back (5 s unless told).
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

    /// Pages of `group` (as the requests named it) answered 200.
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

fn google_error(code: u16, reason: &str, domain: &str, message: &str) -> Reply {
    let status = match code {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        _ => "INTERNAL",
    };
    Reply::json(
        code,
        &json!({"error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
            "status": status
        }}),
    )
    .content_type("application/json; charset=UTF-8")
}

fn token_error(status: u16, error: &str, description: &str) -> Reply {
    Reply::json(
        status,
        &json!({"error": error, "error_description": description}),
    )
}

fn fault_reply(
    s: &State,
    fault: GoogleFault,
    token: bool,
    normal: impl FnOnce() -> Reply,
) -> Reply {
    match fault {
        GoogleFault::Status(status) if token => {
            token_error(status, "internal_failure", "Backend Error")
        }
        GoogleFault::Status(status) => {
            google_error(status, "backendError", "global", "Backend Error")
        }
        GoogleFault::Timeout => normal().delayed(s.common.timeout_delay),
        GoogleFault::Drop => Reply::dropped(),
        GoogleFault::RateLimited { status, reason } if token => token_error(
            status,
            "rate_limit_exceeded",
            &format!("Rate limit exceeded ({reason})."),
        ),
        GoogleFault::RateLimited { status, reason } => google_error(
            status,
            reason,
            "usageLimits",
            "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user'.",
        ),
        GoogleFault::Unauthorized if token => {
            token_error(400, "invalid_grant", "Invalid JWT Signature.")
        }
        GoogleFault::Unauthorized => google_error(
            401,
            "authError",
            "global",
            "Request had invalid authentication credentials.",
        ),
        GoogleFault::Forbidden if token => token_error(
            401,
            "unauthorized_client",
            "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
        ),
        GoogleFault::Forbidden => google_error(
            403,
            "forbidden",
            "global",
            "Not Authorized to access this resource/api",
        ),
        GoogleFault::Raw(status, body) => Reply::raw(status, "application/json", body.into_bytes()),
    }
}

/// The token server: `POST /token`.
fn answer_token(s: &mut State, sent: &Sent) -> Reply {
    let verdict = contract::google_token_request(sent);
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
        if text.contains("grant_type") {
            token_error(400, "unsupported_grant_type", "Invalid grant_type.")
        } else {
            token_error(400, "invalid_grant", &format!("Invalid JWT: {text}"))
        }
    };
    if !reply.drop {
        let violations = contract::google_token_answer(&reply.answer());
        s.common.violate(sent, violations);
    }
    entry.status = reply.status;
    s.common.record(entry);
    reply
}

fn exchange(s: &mut State, sent: &Sent) -> Result<Reply, (String, Reply)> {
    let form: BTreeMap<String, String> = sent.form_pairs().into_iter().collect();
    let refuse = |why: String, reply: Reply| Err((why, reply));
    let assertion = form.get("assertion").cloned().unwrap_or_default();
    let Ok((header, claims)) = contract::jwt_parts(&assertion) else {
        return refuse(
            "not a JWT".into(),
            token_error(400, "invalid_grant", "Invalid JWT."),
        );
    };
    let issuer = claims["iss"].as_str().unwrap_or_default().to_owned();
    let Some(account) = s.accounts.get(&issuer).cloned() else {
        return refuse(
            format!("no service account {issuer}"),
            token_error(400, "invalid_grant", "Invalid grant: account not found"),
        );
    };
    // INFERRED (notes §3.4 step 3, medium): a `kid` names the key file's `private_key_id`.
    if let Some(kid) = header["kid"].as_str()
        && kid != account.key.kid
    {
        return refuse(
            format!("kid {kid:?} is not the account's key"),
            token_error(400, "invalid_grant", "Invalid JWT Signature."),
        );
    }
    if let Err(e) = super::okta::verify(&assertion, &header, &account.key) {
        return refuse(
            format!("signature: {e}"),
            token_error(400, "invalid_grant", "Invalid JWT Signature."),
        );
    }
    // DOC G4: `aud` is the token URI (the key file's `token_uri`). A client's mistake: a
    // violation as well as a refusal.
    if claims["aud"] != json!(s.token_uri) {
        let v = format!(
            "the assertion's aud is {}, not the key's token_uri {} (DOC G4)",
            claims["aud"], s.token_uri
        );
        s.common.violate(sent, vec![v.clone()]);
        return refuse(
            v,
            token_error(400, "invalid_grant", "Invalid JWT: Failed audience check."),
        );
    }
    let requested: Vec<String> = claims["scope"]
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if requested.iter().any(|r| !account.delegated.contains(r)) {
        return refuse(
            format!("scopes not delegated: {requested:?}"),
            token_error(
                401,
                "unauthorized_client",
                "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
            ),
        );
    }
    let subject = claims["sub"].as_str().map(str::to_lowercase);
    if let Some(sub) = &subject
        && !s.people.contains_key(sub)
    {
        return refuse(
            format!("no user {sub} to impersonate"),
            token_error(400, "invalid_grant", "Invalid email or User ID"),
        );
    }
    let access_token = opaque("ya29.c.fake-");
    s.tokens.insert(
        access_token.clone(),
        Issued {
            client: issuer,
            scopes: requested,
            subject,
            expires: epoch_secs() + s.token_lifetime,
        },
    );
    s.tokens_issued += 1;
    Ok(Reply::json(
        200,
        &json!({"access_token": access_token, "expires_in": s.token_lifetime, "token_type": "Bearer"}),
    ))
}

/// The Directory API server.
fn answer_api(s: &mut State, sent: &Sent) -> Reply {
    let verdict = contract::google_request(sent);
    let mut entry = logged(sent, Endpoint::Api, 0);
    let reply = if verdict.violations.is_empty() {
        list(s, sent, &mut entry)
    } else {
        let text = verdict.violations.join("; ");
        entry.refusal = Some(text.clone());
        s.common.violate(sent, verdict.violations);
        google_error(400, "invalid", "global", &text)
    };
    if !reply.drop {
        let violations = contract::google_answer(&reply.answer());
        s.common.violate(sent, violations);
    }
    entry.status = reply.status;
    s.common.record(entry);
    reply
}

/// Whether the request's token may list members; else why not, and the answer.
fn authorize(s: &State, sent: &Sent) -> Result<(), (String, Reply)> {
    let issued = sent
        .credential("Bearer")
        .and_then(|t| s.tokens.get(t))
        .filter(|t| t.expires > epoch_secs());
    let Some(issued) = issued else {
        return Err((
            "no valid access token".into(),
            google_error(
                401,
                "authError",
                "global",
                "Request had invalid authentication credentials.",
            ),
        ));
    };
    if !issued
        .scopes
        .iter()
        .any(|scope| MEMBERS_LIST_SCOPES.contains(&scope.as_str()))
    {
        return Err((
            "no scope members.list accepts".into(),
            google_error(
                403,
                "insufficientPermissions",
                "global",
                "Request had insufficient authentication scopes.",
            ),
        ));
    }
    let admin = issued
        .subject
        .as_ref()
        .is_some_and(|sub| s.people.get(sub) == Some(&true));
    if !admin {
        // DOC G4 (medium): Admin SDK calls act as an administrator.
        return Err((
            format!("{:?} is not an administrator", issued.subject),
            google_error(
                403,
                "forbidden",
                "global",
                "Not Authorized to access this resource/api",
            ),
        ));
    }
    Ok(())
}

/// A group's members, then with `derived` those of the groups among them, each once (`listed`
/// holds the ids of `out`, so that a group of 10,000 is not searched 10,000 times a page).
fn expand<'a>(
    s: &'a State,
    group: &'a Group,
    derived: bool,
    seen: &mut Vec<String>,
    listed: &mut HashSet<&'a str>,
    out: &mut Vec<&'a GoogleMember>,
) {
    if seen.contains(&group.id) {
        return;
    }
    seen.push(group.id.clone());
    for member in group.members.iter() {
        if listed.insert(member.id.as_str()) {
            out.push(member);
        }
    }
    if !derived {
        return;
    }
    for member in group.members.iter().filter(|m| m.member_type == "GROUP") {
        if let Some(inner) = s
            .groups
            .iter()
            .find(|g| Some(g.email.as_str()) == member.email.as_deref())
        {
            expand(s, inner, derived, seen, listed, out);
        }
    }
}

fn list(s: &mut State, sent: &Sent, entry: &mut Logged) -> Reply {
    let found = authorize(s, sent).and_then(|()| {
        let (key, group) = find_group(s, sent)?;
        let offset = start(s, sent, &key, &group)?;
        Ok((key, group, offset))
    });
    let (key, group, offset) = match found {
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
    let derived = get("includeDerivedMembership").as_deref() == Some("true");
    let mut members = Vec::new();
    expand(
        s,
        &group,
        derived,
        &mut Vec::new(),
        &mut HashSet::new(),
        &mut members,
    );
    if let Some(roles) = get("roles") {
        let roles: Vec<&str> = roles.split(',').map(str::trim).collect();
        members.retain(|m| roles.contains(&m.role.as_str()));
    }
    let size = get("maxResults")
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(200)
        .clamp(1, 200);
    let end = (offset + size).min(members.len());
    let last = end >= members.len();
    let page = Page {
        group: key.clone(),
        index: offset / size + 1,
        size: end.saturating_sub(offset),
        last,
    };
    entry.page = Some(page.clone());
    let listed: Vec<Value> = members[offset.min(end)..end]
        .iter()
        .map(|m| m.to_json())
        .collect();
    let mut body = json!({
        "kind": "admin#directory#members",
        "etag": format!("\"{}\"", opaque("")),
    });
    if !listed.is_empty() {
        body["members"] = Value::Array(listed);
    }
    if !last {
        let token = opaque("Cj");
        body["nextPageToken"] = json!(token);
        s.page_tokens
            .insert(token, (group.id.clone(), end, bound_parameters(sent, &key)));
    }
    let reply = Reply::json(200, &body).content_type("application/json; charset=UTF-8");
    match s.common.page_fault(&page) {
        Some(fault) => fault_reply(s, fault, false, || reply),
        None => reply,
    }
}

/// The group the request names (its id, email or an alias), as the request names it.
fn find_group(s: &State, sent: &Sent) -> Result<(String, Group), (String, Reply)> {
    let raw_key = sent
        .path
        .trim_start_matches("/admin/directory/v1/groups/")
        .trim_end_matches("/members");
    let key = contract::percent_decode(raw_key).unwrap_or_else(|| raw_key.to_owned());
    // INFERRED: an email or alias is matched without regard to case.
    s.groups
        .iter()
        .find(|g| {
            g.id == key
                || g.email.eq_ignore_ascii_case(&key)
                || g.aliases.iter().any(|a| a.eq_ignore_ascii_case(&key))
        })
        .cloned()
        .map(|group| (key.clone(), group))
        .ok_or_else(|| {
            (
                format!("no group {key}"),
                google_error(404, "notFound", "global", "Resource Not Found: groupKey"),
            )
        })
}

/// The parameters a page token is bound to: the group and every query parameter but the token.
fn bound_parameters(sent: &Sent, key: &str) -> Vec<(String, String)> {
    let mut bound: Vec<(String, String)> = sent
        .query_pairs()
        .into_iter()
        .filter(|(n, _)| n != "pageToken")
        .collect();
    bound.push(("groupKey".into(), key.to_owned()));
    bound.sort();
    bound
}

/// Where the page starts: 0, or where the `pageToken` the fake issued says.
fn start(s: &mut State, sent: &Sent, key: &str, group: &Group) -> Result<usize, (String, Reply)> {
    let Some((_, token)) = sent
        .query_pairs()
        .into_iter()
        .find(|(n, _)| n == "pageToken")
    else {
        return Ok(0);
    };
    match s.page_tokens.get(&token) {
        Some((id, offset, issued)) if *id == group.id => {
            if bound_parameters(sent, key) != *issued {
                s.common.violate(
                    sent,
                    vec![
                        "pageToken sent with other parameters than the request that got it (notes §3.2, INFERRED)".into(),
                    ],
                );
            }
            Ok(*offset)
        }
        _ => {
            let v = format!("pageToken={token:?} is not one this fake issued");
            s.common.violate(sent, vec![v.clone()]);
            let reply = google_error(400, "invalid", "global", &format!("Invalid Input: {v}"));
            Err((v, reply))
        }
    }
}
