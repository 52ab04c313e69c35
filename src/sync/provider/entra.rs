//! Microsoft Entra ID through Microsoft Graph: a group's users, nested groups' included
//! (`GET {graph_url}/v1.0/groups/{group}/transitiveMembers/microsoft.graph.user` selecting
//! `id,mail,userPrincipalName,accountEnabled`, 999 a page, with `$count=true` and
//! `ConsistencyLevel: eventual`), following `@odata.nextLink` as given. Users whose
//! `accountEnabled` is not true are left out; the email is `mail`, else the
//! `userPrincipalName` when it is an email and not a guest's (`#EXT#`). Credentials: OAuth 2.0
//! client credentials with a client secret at `{login_url}/{tenant}/oauth2/v2.0/token`. A 429
//! or 503 waits for `Retry-After`.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, RETRY_AFTER};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::error::shown;
use super::http::{Answer, Http, Limit, Pages, base_url, encode, join};
use super::token::{Exchange, Fresh, Tokens};
use super::{EnvFn, Error, GroupRead, refusal, usable_email, var};

/// Every application permission already consented for Microsoft Graph.
const SCOPE: &str = "https://graph.microsoft.com/.default";

/// What the app needs to list a group's users with the fields the read uses.
const PERMISSIONS: &str = "the app needs the Application permissions GroupMember.Read.All and User.Read.All, with admin consent (and Member.Read.Hidden for a group whose membership is hidden)";

/// A tenant's client.
#[derive(Debug)]
pub(super) struct Entra {
    graph: Url,
    token_url: Url,
    client_id: String,
    secret: SecretString,
    tokens: Tokens,
}

/// One page of users.
#[derive(Debug, Deserialize)]
struct Page {
    #[serde(default)]
    value: Option<Vec<User>>,
    #[serde(rename = "@odata.nextLink", default)]
    next: Option<String>,
}

/// A user as a page lists them: the selected fields.
#[derive(Debug, Deserialize)]
struct User {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    mail: Option<String>,
    #[serde(rename = "userPrincipalName", default)]
    upn: Option<String>,
    #[serde(rename = "accountEnabled", default)]
    enabled: Option<bool>,
}

impl Entra {
    /// The tenant `tenant`, at the identity platform `login_url` and Graph `graph_url`, with
    /// the credentials of the environment.
    pub(super) fn new(
        tenant: &str,
        login_url: &str,
        graph_url: &str,
        env: &EnvFn,
    ) -> Result<Entra, Error> {
        let login = base_url(login_url, "sources.entra.login_url")?;
        let graph = base_url(graph_url, "sources.entra.graph_url")?;
        if tenant.trim().is_empty() {
            return Err(Error::Url {
                what: "sources.entra.tenant".to_owned(),
                url: "\"\"".to_owned(),
                why: "must be the tenant's id or one of its verified domains".to_owned(),
            });
        }
        let token_url = join(&login, &format!("/{}/oauth2/v2.0/token", encode(tenant)))?;
        let client_id = var(env, "ENTRA_CLIENT_ID")?;
        let secret = var(env, "ENTRA_CLIENT_SECRET")?;
        let (Some(client_id), Some(secret)) = (client_id.clone(), secret.clone()) else {
            let missing: Vec<&str> = [
                ("ENTRA_CLIENT_ID", client_id.is_none()),
                ("ENTRA_CLIENT_SECRET", secret.is_none()),
            ]
            .into_iter()
            .filter_map(|(name, missing)| missing.then_some(name))
            .collect();
            return Err(Error::MissingCredentials {
                provider: "Microsoft Entra ID",
                set: format!(
                    "{} (the client credentials of an app registration)",
                    missing.join(" and ")
                ),
            });
        };
        Ok(Entra {
            graph,
            token_url,
            client_id,
            secret: SecretString::from(secret),
            tokens: Tokens::default(),
        })
    }

    /// Which credentials are used.
    pub(super) fn credentials(&self) -> String {
        "OAuth 2.0 client credentials with a client secret (ENTRA_CLIENT_ID, ENTRA_CLIENT_SECRET)"
            .to_owned()
    }

    /// Every user of `group`, nested groups' included, all pages.
    pub(super) async fn read_group(&self, http: &Http, group: &str) -> Result<GroupRead, Error> {
        let what = format!("Microsoft Graph group \"{}\"", shown(group));
        let tail = format!(
            "/v1.0/groups/{}/transitiveMembers/microsoft.graph.user?$select=id,mail,userPrincipalName,accountEnabled&$top=999&$count=true",
            encode(group)
        );
        let mut url = join(&self.graph, &tail)?;
        let mut pages = Pages::new(&url);
        let mut read = GroupRead::default();
        let mut unknown = 0_usize;
        loop {
            let auth = self.tokens.bearer(|| self.fetch_token(http)).await?;
            let answer = http
                .send(&what, || {
                    Ok(http
                        .client()
                        .get(url.clone())
                        .header(AUTHORIZATION, auth.clone())
                        .header("ConsistencyLevel", "eventual")
                        .header(ACCEPT, "application/json"))
                })
                .await?;
            if !answer.status.is_success() {
                return Err(refusal(
                    "Microsoft Graph",
                    group,
                    &what,
                    &answer,
                    detail(&answer.body),
                    needed,
                ));
            }
            let page: Page = serde_json::from_slice(&answer.body).map_err(|e| Error::Answer {
                what: what.clone(),
                why: format!("not a page of users ({e})"),
            })?;
            read.pages += 1;
            for user in page.value.unwrap_or_default() {
                unknown += usize::from(tally(&mut read, user, group)?);
            }
            match page.next {
                Some(next) => {
                    let next = url.join(&next).map_err(|e| Error::Answer {
                        what: what.clone(),
                        why: format!("@odata.nextLink is not a URL ({e})"),
                    })?;
                    url = pages.follow(&what, next)?;
                }
                None => break,
            }
        }
        if unknown > 0 {
            tracing::warn!(
                "{what}: {unknown} users came without accountEnabled and are left out as disabled; the app may lack User.Read.All"
            );
        }
        Ok(read)
    }

    /// An access token for the client credentials.
    async fn fetch_token(&self, http: &Http) -> Result<Fresh, Error> {
        let secret = || Ok(vec![("client_secret", self.secret.clone())]);
        Exchange {
            endpoint: &self.token_url,
            plain: &[
                ("client_id", &self.client_id),
                ("scope", SCOPE),
                ("grant_type", "client_credentials"),
            ],
            secret: &secret,
            hint: token_hint,
        }
        .fetch(http)
        .await
    }
}

/// Counts one user: kept when enabled and with an email. `Ok(true)` when the user's
/// `accountEnabled` was missing (left out as disabled). A user with none of the selected fields
/// means the app may not read users: an error, not a group of disabled people.
fn tally(read: &mut GroupRead, user: User, group: &str) -> Result<bool, Error> {
    if user.mail.is_none() && user.upn.is_none() && user.enabled.is_none() {
        return Err(Error::Hidden {
            provider: "Microsoft Graph",
            group: group.to_owned(),
            needed: "the app may list members but not read users; grant it User.Read.All (Application, with admin consent)".to_owned(),
        });
    }
    match user.enabled {
        Some(true) => {}
        Some(false) => {
            read.drop_one();
            return Ok(false);
        }
        None => {
            read.drop_one();
            return Ok(true);
        }
    }
    let upn = user
        .upn
        .as_deref()
        .filter(|upn| !upn.to_ascii_uppercase().contains("#EXT#"));
    match usable_email(user.mail.as_deref()).or_else(|| usable_email(upn)) {
        Some(email) => read.keep(email),
        None => read.drop_without_email(user.id),
    }
    Ok(false)
}

fn needed(status: u16) -> &'static str {
    if status == 401 {
        "Microsoft Graph did not take the app's access token; check sources.entra.tenant and ENTRA_CLIENT_ID"
    } else {
        PERMISSIONS
    }
}

/// Graph's error, as `Authorization_RequestDenied: Insufficient privileges…`; empty when the
/// body is not one.
fn detail(body: &[u8]) -> String {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let field = |name: &str| {
        json.pointer(&format!("/error/{name}"))
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    match (field("code"), field("message")) {
        ("", "") => String::new(),
        (code, "") => shown(code),
        ("", message) => shown(message),
        (code, message) => shown(&format!("{code}: {message}")),
    }
}

/// What to check when the token endpoint refuses: the identity platform's `AADSTS` codes say
/// which of the tenant, the app and the secret is wrong.
fn token_hint(error: &str, description: &str) -> String {
    let has = |code: &str| {
        description
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|word| word == code)
    };
    if has("AADSTS90002") || has("AADSTS900023") {
        "check sources.entra.tenant: it must be the tenant's id or one of its verified domains"
    } else if has("AADSTS700016") {
        "check ENTRA_CLIENT_ID: no app has that id in this tenant"
    } else if has("AADSTS7000215") || has("AADSTS7000222") {
        "check ENTRA_CLIENT_SECRET: it is not the app's, or it has expired"
    } else if error == "invalid_client" {
        "check ENTRA_CLIENT_ID and ENTRA_CLIENT_SECRET"
    } else if error == "unauthorized_client" {
        "the app may not use the client credentials grant in this tenant"
    } else {
        ""
    }
    .to_owned()
}

/// A 429, or a 503 with `Retry-After`, waits that many seconds; a 429 without it backs off.
/// A 503 without it is a server error, retried as such.
pub(super) fn limit(answer: &Answer) -> Option<Limit> {
    match answer.status {
        StatusCode::TOO_MANY_REQUESTS => {
            Some(retry_after(&answer.headers).map_or(Limit::Backoff, Limit::After))
        }
        StatusCode::SERVICE_UNAVAILABLE => retry_after(&answer.headers).map(Limit::After),
        _ => None,
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}
