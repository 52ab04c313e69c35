//! The identity providers `sync` reads (SPEC §11): the users of one group in Okta, Microsoft
//! Entra ID (through Microsoft Graph) or Google Workspace (the Admin SDK Directory API), all
//! pages, kept when they are people who can work (active, enabled, users, with an email).
//! Credentials come from the environment only; access tokens are fetched, kept and renewed
//! here; waits are the ones the provider asks for, bounded in all.
//!
//! Nothing here knows rules, fragments or ClickUp, and no secret (an API token, a client
//! secret, a private key, an access token, a signed assertion) reaches an error, a log line or
//! Debug output.
//!
//! Here: the interface. Sending with retries and waits, and the URLs, are `http`; access
//! tokens `token`; signed assertions `jwt`; each provider's requests and answers its own
//! module; what goes wrong `error`.

mod entra;
mod error;
mod google;
mod http;
mod jwt;
mod okta;
mod token;

#[cfg(test)]
mod tests;

use std::ffi::OsString;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub(crate) use error::Error;

use crate::model::Email;
use crate::stop::StopSignal;

/// How many times a request that failed with a 5xx or a timeout is sent again.
pub(crate) const RETRIES: usize = 5;

/// How long all the rate-limit and retry waits of one provider may take together.
pub(crate) const WAIT_BUDGET: Duration = Duration::from_secs(5 * 60);

/// A provider as the Workspace file's `sources` names it (URLs already validated, as text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// `sources.okta`: the org's URL (`https://acme.okta.com`).
    Okta { url: String },
    /// `sources.entra`: the tenant (its id or a verified domain), the identity platform's URL
    /// (`https://login.microsoftonline.com`) and Microsoft Graph's (`https://graph.microsoft.com`).
    Entra {
        tenant: String,
        login_url: String,
        graph_url: String,
    },
    /// `sources.google`: the administrator the service account acts as, and the Admin SDK's
    /// URL (`https://admin.googleapis.com`).
    Google { subject: String, api_url: String },
}

/// Reads an environment variable.
pub(crate) type EnvFn = dyn Fn(&str) -> Option<OsString> + Send + Sync;

/// Reads an environment variable, shared.
pub(crate) type Env = Arc<EnvFn>;

/// The process's own environment, as [`Options::env`] reads it outside tests.
pub(crate) fn process_env() -> Env {
    Arc::new(|name| std::env::var_os(name))
}

/// How a provider is read.
#[derive(Clone)]
pub(crate) struct Options {
    /// The longest one request may take.
    pub(crate) timeout: Duration,
    /// Once set, nothing more is sent and waits end early.
    pub(crate) stop: StopSignal,
    /// Reads an environment variable (tests inject a map; the CLI passes [`process_env`]).
    pub(crate) env: Env,
    /// How many times a request that failed with a 5xx or a timeout is sent again
    /// ([`RETRIES`]).
    pub(crate) retries: usize,
    /// How long all the rate-limit and retry waits of one [`Provider`] may take together
    /// ([`WAIT_BUDGET`]).
    pub(crate) wait_budget: Duration,
}

impl Options {
    /// Options with the standard retries ([`RETRIES`]) and budget of waits ([`WAIT_BUDGET`]).
    pub(crate) fn new(timeout: Duration, stop: StopSignal, env: Env) -> Options {
        Options {
            timeout,
            stop,
            env,
            retries: RETRIES,
            wait_budget: WAIT_BUDGET,
        }
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("timeout", &self.timeout)
            .field("stop", &self.stop)
            .field("retries", &self.retries)
            .field("wait_budget", &self.wait_budget)
            .finish_non_exhaustive()
    }
}

/// What reading one group found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct GroupRead {
    /// The kept users' emails as the provider spells them, in the provider's order.
    pub(crate) emails: Vec<String>,
    /// Users (Google: members) the provider returned, all pages.
    pub(crate) read: usize,
    /// Pages read.
    pub(crate) pages: usize,
    /// Left out: inactive, disabled, not a user (Google `type` other than USER), or with no
    /// usable email.
    pub(crate) dropped: usize,
    /// Ids of active users left out for having no usable email (for a warning).
    pub(crate) without_email: Vec<String>,
}

impl GroupRead {
    /// A user kept, with their email.
    fn keep(&mut self, email: String) {
        self.read += 1;
        self.emails.push(email);
    }

    /// A user or member left out as inactive, disabled or not a user.
    fn drop_one(&mut self) {
        self.read += 1;
        self.dropped += 1;
    }

    /// An active user left out for having no usable email.
    fn drop_without_email(&mut self, id: Option<String>) {
        self.drop_one();
        self.without_email
            .push(id.unwrap_or_else(|| "(no id)".to_owned()));
    }
}

/// `text` when it is an email a person could be invited with (spaces around it taken off),
/// as the provider spells it.
fn usable_email(text: Option<&str>) -> Option<String> {
    let text = text?.trim();
    Email::parse(text).ok().map(|_| text.to_owned())
}

/// One provider's client: its credentials, its access token once fetched, and what its waits
/// have spent of the budget.
#[derive(Debug)]
pub(crate) struct Provider {
    http: http::Http,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Okta(okta::Okta),
    Entra(entra::Entra),
    Google(google::Google),
}

impl Provider {
    /// Reads the credentials from the environment now (no network): a missing variable is an
    /// error naming exactly the variables to set; a key file that cannot be read or parsed is
    /// an error naming the file (never its content). The URLs must be https, or plain http to
    /// a loopback address.
    pub(crate) fn new(source: &Source, options: Options) -> Result<Provider, Error> {
        let env = &*options.env;
        let kind = match source {
            Source::Okta { url } => Kind::Okta(okta::Okta::new(url, env)?),
            Source::Entra {
                tenant,
                login_url,
                graph_url,
            } => Kind::Entra(entra::Entra::new(tenant, login_url, graph_url, env)?),
            Source::Google { subject, api_url } => {
                Kind::Google(google::Google::new(subject, api_url, env)?)
            }
        };
        let (name, limit): (&'static str, http::LimitFn) = match &kind {
            Kind::Okta(_) => ("Okta", okta::limit),
            Kind::Entra(_) => ("Microsoft Graph", entra::limit),
            Kind::Google(_) => ("Google", google::limit),
        };
        let http = http::Http::new(name, limit, &options)?;
        Ok(Provider { http, kind })
    }

    /// Which credentials are used, for the dry run: `OAuth 2.0 client credentials with
    /// private_key_jwt (OKTA_CLIENT_ID, OKTA_PRIVATE_KEY_FILE)`, `API token (OKTA_API_TOKEN)`…
    pub(crate) fn credentials(&self) -> String {
        match &self.kind {
            Kind::Okta(okta) => okta.credentials(),
            Kind::Entra(entra) => entra.credentials(),
            Kind::Google(google) => google.credentials(),
        }
    }

    /// Every user of `group`, all pages. The access token is fetched on first use and reused,
    /// and fetched again shortly before it expires.
    pub(crate) async fn read_group(&self, group: &str) -> Result<GroupRead, Error> {
        if group.is_empty() || group == "." || group == ".." {
            return Err(Error::BadGroup {
                group: group.to_owned(),
            });
        }
        match &self.kind {
            Kind::Okta(okta) => okta.read_group(&self.http, group).await,
            Kind::Entra(entra) => entra.read_group(&self.http, group).await,
            Kind::Google(google) => google.read_group(&self.http, group).await,
        }
    }
}

/// A page answered with an error: a 404 is a group that does not exist, a 401 or 403 (not a
/// rate limit: those were waited out) credentials that may not read it (`needed` says what
/// they lack), any other a refusal. `detail` is the provider's own error, shown.
fn refusal<S: Into<String>>(
    provider: &'static str,
    group: &str,
    what: &str,
    answer: &http::Answer,
    detail: String,
    needed: impl FnOnce(u16) -> S,
) -> Error {
    match answer.status.as_u16() {
        404 => Error::NotFound {
            provider,
            group: group.to_owned(),
            detail,
        },
        status @ (401 | 403) => Error::Forbidden {
            provider,
            group: group.to_owned(),
            status,
            detail,
            needed: needed(status).into(),
        },
        status => Error::Refused {
            what: what.to_owned(),
            status,
            detail,
        },
    }
}

/// The value of `name`, spaces around it taken off; `None` when it is not set or empty.
fn var(env: &EnvFn, name: &'static str) -> Result<Option<String>, Error> {
    match env(name) {
        None => Ok(None),
        Some(value) => {
            let value = value.into_string().map_err(|_| Error::Credentials {
                variable: name,
                why: "is not valid UTF-8",
            })?;
            let value = value.trim();
            Ok((!value.is_empty()).then(|| value.to_owned()))
        }
    }
}

/// The path `name` holds; `None` when it is not set or empty.
fn var_path(env: &EnvFn, name: &str) -> Option<std::path::PathBuf> {
    env(name)
        .filter(|value| !value.is_empty())
        .map(std::path::PathBuf::from)
}
