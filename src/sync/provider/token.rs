//! Access tokens: fetched from a token endpoint with a form post (client credentials, or a JWT
//! bearer grant), kept, and fetched again shortly before they expire. The form's secrets, the
//! answer and the token are never shown; a refusal shows the endpoint's own error and
//! description, escaped, with any secret it echoes taken out.

use std::future::Future;
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::time::Instant;
use url::Url;

use super::Error;
use super::error::{scrubbed, shown};
use super::http::Http;
use crate::clickup::http::redact;

/// How long a token is taken to live when its answer does not say (Okta's and Google's live an
/// hour).
const LIFETIME: Duration = Duration::from_secs(3600);

/// How long before it expires a token is fetched again, at most.
const RENEW_BEFORE: Duration = Duration::from_secs(60);

/// A freshly fetched access token.
#[derive(Debug)]
pub(super) struct Fresh {
    token: SecretString,
    lifetime: Duration,
}

/// One provider's access token, once fetched.
#[derive(Debug, Default)]
pub(super) struct Tokens {
    held: tokio::sync::Mutex<Option<Held>>,
}

#[derive(Debug)]
struct Held {
    /// `Bearer …`, marked sensitive.
    header: HeaderValue,
    renew_at: Instant,
}

impl Tokens {
    /// The `Authorization` header: the token held, or one `fetch` gets when there is none or
    /// it is about to expire. Reads that need it at once wait for one fetch.
    pub(super) async fn bearer<F, Fut>(&self, fetch: F) -> Result<HeaderValue, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Fresh, Error>>,
    {
        let mut held = self.held.lock().await;
        if let Some(current) = held.as_ref()
            && Instant::now() < current.renew_at
        {
            return Ok(current.header.clone());
        }
        let fresh = fetch().await?;
        let header = bearer_header(&fresh.token).ok_or_else(|| Error::Answer {
            what: "the access token".to_owned(),
            why: "it holds characters an HTTP header cannot carry".to_owned(),
        })?;
        let early = RENEW_BEFORE.min(fresh.lifetime / 2);
        *held = Some(Held {
            header: header.clone(),
            renew_at: Instant::now() + fresh.lifetime - early,
        });
        Ok(header)
    }
}

fn bearer_header(token: &SecretString) -> Option<HeaderValue> {
    let mut header = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret())).ok()?;
    header.set_sensitive(true);
    Some(header)
}

/// The secret fields of a token request's form, made again for each attempt (a signed
/// assertion is fresh each time).
pub(super) type SecretFields<'a> =
    &'a (dyn Fn() -> Result<Vec<(&'static str, SecretString)>, Error> + Sync);

/// A token request: where it goes, and its form's fields.
pub(super) struct Exchange<'a> {
    /// The token endpoint.
    pub(super) endpoint: &'a Url,
    /// Fields that are not secret, first in the form.
    pub(super) plain: &'a [(&'a str, &'a str)],
    /// Fields that are (a client secret, a signed assertion), after them.
    pub(super) secret: SecretFields<'a>,
    /// What to check for a refusal, from its `error` and `error_description`.
    pub(super) hint: fn(&str, &str) -> String,
}

impl Exchange<'_> {
    /// Posts the form and reads the token from the answer.
    pub(super) async fn fetch(&self, http: &Http) -> Result<Fresh, Error> {
        let endpoint = redact(self.endpoint);
        let what = format!("the {} token endpoint {endpoint}", http.provider);
        // Every secret sent, to take out of a refusal that echoes one.
        let sent = std::sync::Mutex::new(Vec::new());
        tracing::debug!("{what}: asking for an access token");
        let answer = http
            .send(&what, || {
                let secret = (self.secret)()?;
                let body = self.body(&secret);
                let mut sent = sent
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                for (_, value) in secret {
                    // As sent, too: an endpoint may echo the form as it came.
                    let encoded: String =
                        url::form_urlencoded::byte_serialize(value.expose_secret().as_bytes())
                            .collect();
                    sent.push(SecretString::from(encoded));
                    sent.push(value);
                }
                Ok(http
                    .client()
                    .post(self.endpoint.clone())
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(ACCEPT, "application/json")
                    .body(body.expose_secret().to_owned()))
            })
            .await?;
        if !answer.status.is_success() {
            let sent = sent
                .into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            return Err(self.refusal(endpoint, answer.status.as_u16(), &answer.body, &sent));
        }
        token(&answer.body).map_err(|why| Error::Answer { what, why })
    }

    /// The form, `application/x-www-form-urlencoded`.
    fn body(&self, secret: &[(&str, SecretString)]) -> SecretString {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in self.plain {
            form.append_pair(name, value);
        }
        for (name, value) in secret {
            form.append_pair(name, value.expose_secret());
        }
        SecretString::from(form.finish())
    }

    /// The endpoint's refusal, as an error: its `error` and `error_description` (RFC 6749
    /// §5.2), escaped, with any secret the form held taken out.
    fn refusal(&self, endpoint: String, status: u16, body: &[u8], sent: &[SecretString]) -> Error {
        let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let field = |name: &str| json.get(name).and_then(Value::as_str).unwrap_or_default();
        let (error, description) = (field("error"), field("error_description"));
        let secrets: Vec<&str> = sent.iter().map(ExposeSecret::expose_secret).collect();
        let description = if description.is_empty() {
            "no description".to_owned()
        } else {
            shown(&scrubbed(description, &secrets))
        };
        Error::TokenRefused {
            endpoint,
            status,
            error: shown(&scrubbed(error, &secrets)),
            hint: (self.hint)(error, &description),
            description,
        }
    }
}

/// The token of a token endpoint's answer: `access_token`, of `token_type` Bearer when said,
/// living `expires_in` seconds. Read without quoting the answer in any message.
fn token(body: &[u8]) -> Result<Fresh, String> {
    let json: Value = serde_json::from_slice(body)
        .map_err(|e| format!("not JSON (line {}, column {})", e.line(), e.column()))?;
    let token = json
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|token| !token.is_empty())
        .ok_or("no access_token")?;
    if let Some(kind) = json.get("token_type").and_then(Value::as_str)
        && !kind.eq_ignore_ascii_case("bearer")
    {
        return Err(format!("a token of type {}, not Bearer", shown(kind)));
    }
    // Some endpoints give the lifetime as a string.
    let seconds = match json.get("expires_in") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    Ok(Fresh {
        token: SecretString::from(token.to_owned()),
        lifetime: seconds.map_or(LIFETIME, Duration::from_secs),
    })
}
