//! Okta: a group's users (`GET {url}/api/v1/groups/{group}/users?limit=200`), following the
//! `Link: <…>; rel="next"` headers as given, kept when their `status` says they still work
//! there (ACTIVE, PASSWORD_EXPIRED, LOCKED_OUT, RECOVERY), their email `profile.email`.
//! Credentials: OAuth 2.0 client credentials with `private_key_jwt` (an access token from the
//! org authorization server, scope `okta.groups.read`), else an API token sent as `SSWS`. A 429
//! waits until `X-Rate-Limit-Reset`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue, LINK};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::error::shown;
use super::http::{Answer, Http, Limit, Pages, base_url, encode, join};
use super::jwt::{self, Signer};
use super::token::{Exchange, Fresh, Tokens};
use super::{EnvFn, Error, GroupRead, refusal, usable_email, var, var_path};

/// The statuses of people who still work there: a password that expired, a locked account
/// or a recovery under way do not end employment. Any other, known or not, is left out.
const KEPT: [&str; 4] = ["ACTIVE", "PASSWORD_EXPIRED", "LOCKED_OUT", "RECOVERY"];

/// The least scope that lists a group's users.
const SCOPE: &str = "okta.groups.read";

/// How long a client assertion is valid (Okta takes at most an hour).
const ASSERTION_LIFETIME: u64 = 300;

/// An Okta org's client.
#[derive(Debug)]
pub(super) struct Okta {
    base: Url,
    token_url: Url,
    auth: Auth,
    /// `OKTA_API_TOKEN` is set too, and not used: the client credentials win.
    api_token_unused: bool,
    tokens: Tokens,
}

#[derive(Debug)]
enum Auth {
    /// `OKTA_API_TOKEN`, sent as `Authorization: SSWS …`.
    ApiToken(SecretString),
    /// `OKTA_CLIENT_ID` and the key of `OKTA_PRIVATE_KEY_FILE`.
    Client { id: String, signer: Signer },
}

/// A user as a page lists them; only what the read needs.
#[derive(Debug, Deserialize)]
struct User {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    profile: Option<Profile>,
}

#[derive(Debug, Deserialize)]
struct Profile {
    #[serde(default)]
    email: Option<String>,
}

/// The claims of a client assertion.
#[derive(Debug, Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
    jti: String,
}

impl Okta {
    /// The org at `url`, with the credentials of the environment.
    pub(super) fn new(url: &str, env: &EnvFn) -> Result<Okta, Error> {
        let base = base_url(url, "sources.okta.url")?;
        let token_url = join(&base, "/oauth2/v1/token")?;
        let api_token = var(env, "OKTA_API_TOKEN")?;
        let auth = match var(env, "OKTA_CLIENT_ID")? {
            Some(id) => {
                let file = var_path(env, "OKTA_PRIVATE_KEY_FILE").ok_or_else(|| {
                    Error::MissingCredentials {
                        provider: "Okta",
                        set: "OKTA_PRIVATE_KEY_FILE to the PEM file of the app's RSA private key (OKTA_CLIENT_ID is set)".to_owned(),
                    }
                })?;
                let kid = var(env, "OKTA_PRIVATE_KEY_ID")?;
                let signer = Signer::from_file("OKTA_PRIVATE_KEY_FILE", &file, kid)?;
                Auth::Client { id, signer }
            }
            None => match &api_token {
                Some(token) => {
                    if HeaderValue::from_str(&format!("SSWS {token}")).is_err() {
                        return Err(Error::Credentials {
                            variable: "OKTA_API_TOKEN",
                            why: "holds characters an HTTP header cannot carry",
                        });
                    }
                    Auth::ApiToken(SecretString::from(token.clone()))
                }
                None => {
                    return Err(Error::MissingCredentials {
                        provider: "Okta",
                        set: "OKTA_CLIENT_ID and OKTA_PRIVATE_KEY_FILE (OAuth 2.0 client credentials with private_key_jwt; OKTA_PRIVATE_KEY_ID optional), or OKTA_API_TOKEN (an API token)".to_owned(),
                    });
                }
            },
        };
        let api_token_unused = api_token.is_some() && matches!(auth, Auth::Client { .. });
        Ok(Okta {
            base,
            token_url,
            auth,
            api_token_unused,
            tokens: Tokens::default(),
        })
    }

    /// Which credentials are used.
    pub(super) fn credentials(&self) -> String {
        match &self.auth {
            Auth::ApiToken(_) => "API token (OKTA_API_TOKEN)".to_owned(),
            Auth::Client { signer, .. } => format!(
                "OAuth 2.0 client credentials with private_key_jwt (OKTA_CLIENT_ID, OKTA_PRIVATE_KEY_FILE{}){}",
                if signer.has_kid() {
                    ", OKTA_PRIVATE_KEY_ID"
                } else {
                    ""
                },
                if self.api_token_unused {
                    "; OKTA_API_TOKEN is set too and not used"
                } else {
                    ""
                }
            ),
        }
    }

    /// Every user of `group`, all pages.
    pub(super) async fn read_group(&self, http: &Http, group: &str) -> Result<GroupRead, Error> {
        let what = format!("Okta group \"{}\"", shown(group));
        let tail = format!("/api/v1/groups/{}/users?limit=200", encode(group));
        let mut url = join(&self.base, &tail)?;
        let mut pages = Pages::new(&url);
        let mut read = GroupRead::default();
        loop {
            let auth = self.authorization(http).await?;
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
                return Err(self.refusal(group, &what, &answer));
            }
            let users: Vec<User> =
                serde_json::from_slice(&answer.body).map_err(|e| Error::Answer {
                    what: what.clone(),
                    why: format!("not a list of users ({e})"),
                })?;
            read.pages += 1;
            for user in users {
                tally(&mut read, user);
            }
            let next = next_link(&answer.headers, &url).map_err(|why| Error::Answer {
                what: what.clone(),
                why,
            })?;
            match next {
                Some(next) => url = pages.follow(&what, next)?,
                None => return Ok(read),
            }
        }
    }

    /// The `Authorization` header: the API token, or an access token (fetched when needed).
    async fn authorization(&self, http: &Http) -> Result<HeaderValue, Error> {
        match &self.auth {
            Auth::ApiToken(token) => {
                let mut header = HeaderValue::from_str(&format!("SSWS {}", token.expose_secret()))
                    .map_err(|_| Error::Credentials {
                        variable: "OKTA_API_TOKEN",
                        why: "holds characters an HTTP header cannot carry",
                    })?;
                header.set_sensitive(true);
                Ok(header)
            }
            Auth::Client { id, signer } => {
                self.tokens
                    .bearer(|| self.fetch_token(http, id, signer))
                    .await
            }
        }
    }

    /// An access token of the org authorization server, for a client assertion signed now.
    async fn fetch_token(&self, http: &Http, id: &str, signer: &Signer) -> Result<Fresh, Error> {
        let assertion = || {
            let iat = jwt::now();
            let claims = Claims {
                iss: id,
                sub: id,
                aud: self.token_url.as_str(),
                iat,
                exp: iat + ASSERTION_LIFETIME,
                jti: jwt::jti(),
            };
            Ok(vec![("client_assertion", signer.sign(&claims)?)])
        };
        Exchange {
            endpoint: &self.token_url,
            plain: &[
                ("grant_type", "client_credentials"),
                ("scope", SCOPE),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
            ],
            secret: &assertion,
            hint: token_hint,
        }
        .fetch(http)
        .await
    }

    /// A page that was not answered with its users.
    fn refusal(&self, group: &str, what: &str, answer: &Answer) -> Error {
        let needed = |status: u16| match (&self.auth, status) {
            (Auth::ApiToken(_), 401) => {
                "the API token (OKTA_API_TOKEN) is not valid, has expired, or is another org's"
            }
            (Auth::ApiToken(_), _) => {
                "the API token (OKTA_API_TOKEN) acts as the admin who made it, who may not read this group's users (a Read-only Administrator may)"
            }
            (Auth::Client { .. }, 401) => {
                "Okta did not take the app's access token; check that OKTA_CLIENT_ID is an API Services app of this org"
            }
            (Auth::Client { .. }, _) => {
                "the app needs the scope okta.groups.read granted (its Okta API Scopes tab) and an admin role that covers this group, such as Read-only Administrator"
            }
        };
        refusal("Okta", group, what, answer, detail(&answer.body), needed)
    }
}

/// Counts one user, kept when their status says they still work there and they have an email.
fn tally(read: &mut GroupRead, user: User) {
    let kept = user
        .status
        .as_deref()
        .is_some_and(|status| KEPT.contains(&status));
    if !kept {
        read.drop_one();
        return;
    }
    let email = user.profile.as_ref().and_then(|p| p.email.as_deref());
    match usable_email(email) {
        Some(email) => read.keep(email),
        None => read.drop_without_email(user.id),
    }
}

/// Okta's error, as `E0000006: You do not have permission…`; empty when the body is not one.
fn detail(body: &[u8]) -> String {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let field = |name: &str| json.get(name).and_then(Value::as_str).unwrap_or_default();
    match (field("errorCode"), field("errorSummary")) {
        ("", "") => String::new(),
        (code, "") => shown(code),
        ("", summary) => shown(summary),
        (code, summary) => shown(&format!("{code}: {summary}")),
    }
}

/// What to check when the token endpoint refuses.
fn token_hint(error: &str, _description: &str) -> String {
    match error {
        "invalid_client" => "check OKTA_CLIENT_ID, and that the app's registered public key is the one of OKTA_PRIVATE_KEY_FILE (and OKTA_PRIVATE_KEY_ID names it)",
        "invalid_scope" => "grant the scope okta.groups.read to the app (its Okta API Scopes tab)",
        "unauthorized_client" => "the app must be an API Services app allowed the client credentials grant",
        "invalid_dpop_proof" | "use_dpop_nonce" => {
            "the app requires DPoP-bound tokens, which are not sent: turn off \"Require Demonstrating Proof of Possession (DPoP)\" for this app"
        }
        "access_denied" => "the app's network zone or policy does not allow this request",
        _ => "",
    }
    .to_owned()
}

/// A 429 waits until `X-Rate-Limit-Reset` (UTC epoch seconds); without it, backs off.
pub(super) fn limit(answer: &Answer) -> Option<Limit> {
    if answer.status != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    let reset = answer
        .headers
        .get("x-rate-limit-reset")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<f64>().ok())
        .filter(|reset| reset.is_finite() && *reset >= 0.0);
    Some(reset.map_or(Limit::Backoff, |reset| Limit::After(until(reset))))
}

/// How long until `epoch` seconds; nothing when it is past.
fn until(epoch: f64) -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    Duration::try_from_secs_f64((epoch - now).max(0.0)).unwrap_or(Duration::MAX)
}

/// The `rel="next"` target of an answer's `Link` headers: every header line, and each of the
/// comma-separated links within one (RFC 8288), resolved against the page's URL. `None` when
/// there is none: the last page.
fn next_link(headers: &HeaderMap, page: &Url) -> Result<Option<Url>, String> {
    for value in headers.get_all(LINK) {
        // Not skipped when it is not ASCII: a next link missed would end the read early.
        let text = String::from_utf8_lossy(value.as_bytes());
        for (target, params) in links(&text) {
            if is_next(params) {
                return page
                    .join(target)
                    .map(Some)
                    .map_err(|e| format!("the next link is not a URL ({e})"));
            }
        }
    }
    Ok(None)
}

/// The links of one `Link` header value: each `<target>` and the parameters after it, up to
/// the next comma outside `<…>` and quotes.
fn links(text: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    for link in split_outside(text, ',') {
        let link = link.trim();
        let Some(rest) = link.strip_prefix('<') else {
            continue;
        };
        if let Some((target, params)) = rest.split_once('>') {
            out.push((target.trim(), params));
        }
    }
    out
}

/// Whether a link's parameters (`; rel="next"`) have the relation type `next`.
fn is_next(params: &str) -> bool {
    split_outside(params, ';').into_iter().any(|param| {
        param.split_once('=').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("rel")
                && value
                    .trim()
                    .trim_matches('"')
                    .split_ascii_whitespace()
                    .any(|rel| rel.eq_ignore_ascii_case("next"))
        })
    })
}

/// `text` split at each `separator` that is neither inside `<…>` nor inside a quoted string.
fn split_outside(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut angle, mut quoted, mut escaped) = (0, false, false, false);
    for (at, c) in text.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => escaped = true,
            '"' if !angle => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            c if c == separator && !angle && !quoted => {
                parts.push(&text[start..at]);
                start = at + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod link_tests {
    use super::*;

    fn next_of(values: &[&str]) -> Option<String> {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(LINK, HeaderValue::from_str(value).expect("header"));
        }
        let page =
            Url::parse("https://acme.okta.com/api/v1/groups/g/users?limit=200").expect("url");
        next_link(&headers, &page)
            .expect("parsed")
            .map(String::from)
    }

    #[test]
    fn the_next_link_is_found_on_its_own_line_or_among_others() {
        let next = "https://acme.okta.com/api/v1/groups/g/users?after=x&limit=200";
        assert_eq!(
            next_of(&[
                "<https://acme.okta.com/api/v1/groups/g/users?limit=200>; rel=\"self\"",
                &format!("<{next}>; rel=\"next\""),
            ]),
            Some(next.to_owned())
        );
        assert_eq!(
            next_of(&[&format!(
                "<https://acme.okta.com/a,b;c>; rel=\"self\", <{next}>; title=\"a, b; rel=next\"; REL=next"
            )]),
            Some(next.to_owned())
        );
        assert_eq!(
            next_of(&[&format!("<{next}>; rel=\"prev next\"")]),
            Some(next.to_owned())
        );
    }

    #[test]
    fn without_a_next_link_the_page_is_the_last() {
        assert_eq!(next_of(&[]), None);
        assert_eq!(
            next_of(&[
                "<https://acme.okta.com/x>; rel=\"self\", <https://acme.okta.com/y>; rel=\"nextish\""
            ]),
            None
        );
        assert_eq!(
            next_of(&["<https://acme.okta.com/x>; title=\"rel=next\""]),
            None
        );
    }

    #[test]
    fn a_relative_next_link_is_resolved_against_the_page() {
        assert_eq!(
            next_of(&["</api/v1/groups/g/users?after=x>; rel=next"]),
            Some("https://acme.okta.com/api/v1/groups/g/users?after=x".to_owned())
        );
    }
}
