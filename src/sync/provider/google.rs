//! Google Workspace through the Admin SDK Directory API: a group's members, nested groups'
//! included (`GET {api_url}/admin/directory/v1/groups/{group}/members?includeDerivedMembership=true&maxResults=200`),
//! following `nextPageToken`. Members of `type` USER with `status` ACTIVE are kept, their
//! email `email`. Credentials: a service account key (`GOOGLE_APPLICATION_CREDENTIALS`) with
//! domain-wide delegation, exchanged with a JWT-bearer grant at the key's `token_uri` for a
//! token acting as the source's `subject`. A 429, and a 403 whose reason is a rate limit, back
//! off exponentially.

use std::path::{Path, PathBuf};

use reqwest::header::{ACCEPT, AUTHORIZATION};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::error::shown;
use super::http::{Answer, Http, Limit, Pages, base_url, encode, endpoint_url, join};
use super::jwt::{self, Signer};
use super::token::{Exchange, Fresh, Tokens};
use super::{EnvFn, Error, GroupRead, refusal, usable_email, var_path};

/// The least scope that lists a group's members.
const SCOPE: &str = "https://www.googleapis.com/auth/admin.directory.group.member.readonly";

/// Where a key without `token_uri` gets its tokens.
const TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// The reasons of a 403 or 429 that is a rate limit, not a refusal: the per-user rate, the
/// project's rate, and the limit of concurrent requests (which Google also says to retry).
const RATE_LIMITS: [&str; 3] = [
    "rateLimitExceeded",
    "userRateLimitExceeded",
    "quotaExceeded",
];

/// How long an assertion asks its token to be valid (the most Google allows).
const ASSERTION_LIFETIME: u64 = 3600;

/// A Workspace's client.
#[derive(Debug)]
pub(super) struct Google {
    api: Url,
    subject: String,
    key: Key,
    tokens: Tokens,
}

/// A service account's key, from its JSON file.
#[derive(Debug)]
struct Key {
    file: PathBuf,
    client_email: String,
    /// `token_uri` as the key writes it (the assertion's audience), and as a URL.
    token_uri: String,
    token_url: Url,
    signer: Signer,
}

/// One page of members.
#[derive(Debug, Deserialize)]
struct Members {
    #[serde(default)]
    members: Option<Vec<Member>>,
    #[serde(rename = "nextPageToken", default)]
    next: Option<String>,
}

/// A member as a page lists them; only what the read needs.
#[derive(Debug, Deserialize)]
struct Member {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

/// The claims of the JWT-bearer grant.
#[derive(Debug, Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    scope: &'a str,
    iat: u64,
    exp: u64,
}

impl Google {
    /// The Workspace at `api_url`, read as the administrator `subject`, with the key the
    /// environment names.
    pub(super) fn new(subject: &str, api_url: &str, env: &EnvFn) -> Result<Google, Error> {
        let api = base_url(api_url, "sources.google.api_url")?;
        let file = var_path(env, "GOOGLE_APPLICATION_CREDENTIALS").ok_or_else(|| {
            Error::MissingCredentials {
                provider: "Google Workspace",
                set: "GOOGLE_APPLICATION_CREDENTIALS to the JSON key file of a service account with domain-wide delegation".to_owned(),
            }
        })?;
        Ok(Google {
            api,
            subject: subject.to_owned(),
            key: Key::read(&file)?,
            tokens: Tokens::default(),
        })
    }

    /// Which credentials are used.
    pub(super) fn credentials(&self) -> String {
        format!(
            "service account {} with domain-wide delegation, acting as {} (GOOGLE_APPLICATION_CREDENTIALS={})",
            shown(&self.key.client_email),
            shown(&self.subject),
            self.key.file.display()
        )
    }

    /// Every member of `group` (its email, an alias or its id), nested groups' included, all
    /// pages.
    pub(super) async fn read_group(&self, http: &Http, group: &str) -> Result<GroupRead, Error> {
        let what = format!("Google group \"{}\"", shown(group));
        let mut url = self.page(group, None)?;
        let mut pages = Pages::new(&url);
        let mut read = GroupRead::default();
        loop {
            let auth = self.tokens.bearer(|| self.fetch_token(http)).await?;
            let answer = http
                .send(&what, || {
                    Ok(http
                        .client()
                        .get(url.clone())
                        .header(AUTHORIZATION, auth.clone())
                        .header(ACCEPT, "application/json"))
                })
                .await?;
            if !answer.status.is_success() {
                let needed = |_| {
                    format!(
                        "the service account's client id needs domain-wide delegation of {SCOPE} (Admin console: Security, API controls), and {} must be an administrator who may read this group",
                        shown(&self.subject)
                    )
                };
                let detail = detail(&answer.body);
                return Err(refusal("Google", group, &what, &answer, detail, needed));
            }
            let page: Members =
                serde_json::from_slice(&answer.body).map_err(|e| Error::Answer {
                    what: what.clone(),
                    why: format!("not a page of members ({e})"),
                })?;
            read.pages += 1;
            for member in page.members.unwrap_or_default() {
                tally(&mut read, member);
            }
            match page.next.filter(|token| !token.is_empty()) {
                Some(token) => url = pages.follow(&what, self.page(group, Some(&token))?)?,
                None => return Ok(read),
            }
        }
    }

    /// The URL of a page: the first, or the one `token` names (the same query, and the token).
    fn page(&self, group: &str, token: Option<&str>) -> Result<Url, Error> {
        let mut tail = format!(
            "/admin/directory/v1/groups/{}/members?includeDerivedMembership=true&maxResults=200",
            encode(group)
        );
        if let Some(token) = token {
            tail.push_str("&pageToken=");
            tail.push_str(&encode(token));
        }
        join(&self.api, &tail)
    }

    /// An access token acting as the subject, for an assertion signed now.
    async fn fetch_token(&self, http: &Http) -> Result<Fresh, Error> {
        let key = &self.key;
        let assertion = || {
            let iat = jwt::now();
            let claims = Claims {
                iss: &key.client_email,
                sub: &self.subject,
                aud: &key.token_uri,
                scope: SCOPE,
                iat,
                exp: iat + ASSERTION_LIFETIME,
            };
            Ok(vec![("assertion", key.signer.sign(&claims)?)])
        };
        Exchange {
            endpoint: &key.token_url,
            plain: &[("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")],
            secret: &assertion,
            hint: token_hint,
        }
        .fetch(http)
        .await
    }
}

impl Key {
    /// The key in the JSON file `file`. Its fields are taken one by one, so that no message
    /// quotes the file.
    fn read(file: &Path) -> Result<Key, Error> {
        const VARIABLE: &str = "GOOGLE_APPLICATION_CREDENTIALS";
        let key_error = |why: String| Error::Key {
            variable: VARIABLE,
            file: file.to_owned(),
            why,
        };
        let text = std::fs::read(file).map_err(|e| key_error(format!("cannot read it ({e})")))?;
        let json: Value = serde_json::from_slice(&text).map_err(|e| {
            key_error(format!(
                "not a JSON key file (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        let field = |name: &str| {
            json.get(name)
                .and_then(Value::as_str)
                .filter(|value| !value.trim().is_empty())
        };
        if let Some(kind) = field("type")
            && kind != "service_account"
        {
            return Err(key_error(format!(
                "it holds \"{}\" credentials, not a service account's key",
                shown(kind)
            )));
        }
        let needed = |name: &str| field(name).ok_or_else(|| key_error(format!("it has no {name}")));
        let client_email = needed("client_email")?.to_owned();
        let pem = needed("private_key")?;
        let kid = field("private_key_id").map(str::to_owned);
        let token_uri = field("token_uri").unwrap_or(TOKEN_URI).to_owned();
        let token_url = endpoint_url(&token_uri, &format!("the token_uri of {}", file.display()))?;
        let signer = Signer::from_pem(pem.as_bytes(), kid, VARIABLE, file)
            .map_err(|why| key_error(format!("its private_key is {why}")))?;
        Ok(Key {
            file: file.to_owned(),
            client_email,
            token_uri,
            token_url,
            signer,
        })
    }
}

/// Counts one member: kept when a user, active, with an email.
fn tally(read: &mut GroupRead, member: Member) {
    if member.kind.as_deref() != Some("USER") || member.status.as_deref() != Some("ACTIVE") {
        read.drop_one();
        return;
    }
    match usable_email(member.email.as_deref()) {
        Some(email) => read.keep(email),
        None => read.drop_without_email(member.id),
    }
}

/// The reasons of Google's error (`error.errors[].reason`).
fn reasons(body: &[u8]) -> Vec<String> {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    json.pointer("/error/errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|error| error.get("reason").and_then(Value::as_str))
        .map(str::to_owned)
        .collect()
}

/// Google's error, as `forbidden: Not Authorized to access this resource/api`; empty when the
/// body is not one.
fn detail(body: &[u8]) -> String {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let message = json
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let reason = reasons(body).into_iter().next().unwrap_or_default();
    match (reason.as_str(), message) {
        ("", "") => String::new(),
        (reason, "") => shown(reason),
        ("", message) => shown(message),
        (reason, message) => shown(&format!("{reason}: {message}")),
    }
}

/// What to check when the token endpoint refuses.
fn token_hint(error: &str, _description: &str) -> String {
    match error {
        "unauthorized_client" => format!(
            "authorize the service account's client id for {SCOPE} under Domain-wide delegation in the Admin console"
        ),
        "invalid_grant" => "check that sources.google.subject is an administrator of the Workspace, that this machine's clock is right, and that the key is not deleted or disabled".to_owned(),
        "invalid_client" => "the key is not (or no longer) the service account's".to_owned(),
        _ => String::new(),
    }
}

/// A 429, and a 403 whose reason is a rate limit, back off exponentially: Google gives no
/// time to wait.
pub(super) fn limit(answer: &Answer) -> Option<Limit> {
    match answer.status.as_u16() {
        429 => Some(Limit::Backoff),
        403 if reasons(&answer.body)
            .iter()
            .any(|reason| RATE_LIMITS.contains(&reason.as_str())) =>
        {
            Some(Limit::Backoff)
        }
        _ => None,
    }
}
