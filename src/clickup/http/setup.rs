//! Setting up the HTTP client: the Workspace id checked, the API URL checked (https, or plain
//! http to a loopback address only) and cleaned of anything that is not where to send (a user
//! name, a password, a query, a fragment), the client built (timeouts, no redirects), and the
//! URL as messages show it. Nothing is sent here.

use std::time::Duration;

use backon::ExponentialBuilder;

use super::{HttpWorkspace, Options, Token};

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

impl HttpWorkspace {
    /// A client of Workspace `team_id` at `options.api_url`, sending `token`.
    pub(crate) fn new(options: &Options, token: Token, team_id: &str) -> Result<Self, SetupError> {
        if team_id.is_empty() || !team_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SetupError::WorkspaceId(team_id.to_owned()));
        }
        let base = api_base(&options.api_url)?;
        let client = https_client(options.timeout)?;
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
}

/// The URL every request path is joined to: https (plain http only to a loopback address),
/// with nothing but where to send, ending in `/`.
fn api_base(api_url: &str) -> Result<url::Url, SetupError> {
    let mut base = url::Url::parse(api_url).map_err(|e| SetupError::NotUrl {
        url: redact_text(api_url),
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
    Ok(base)
}

/// A client with timeouts that follows no redirect (also `sync`'s identity providers').
pub(crate) fn https_client(timeout: Duration) -> Result<reqwest::Client, SetupError> {
    reqwest::Client::builder()
        .user_agent(concat!("clickup-members/", env!("CARGO_PKG_VERSION")))
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        // A redirect is never followed: the token goes to the API URL and nowhere else.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(SetupError::Client)
}

/// The URL as messages show it: its scheme, host, port and path; never a user name, a
/// password, a query or a fragment, which may carry a key.
pub(crate) fn redact(url: &url::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

/// Like [`redact`], for text that is not a URL: whatever stands between `://` and an `@`, and
/// from a `?` or `#` on.
pub(crate) fn redact_text(text: &str) -> String {
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

/// Whether `url` names a loopback address, the only place plain http may carry a secret.
pub(crate) fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}
