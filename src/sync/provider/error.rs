//! What can go wrong reading a provider, one sentence each, saying what to do. No variant
//! holds a secret; text from a provider (an error description) is kept short and shown with its
//! control and invisible characters escaped.

use std::path::PathBuf;

use crate::escape::visible;

/// Why a provider cannot be set up or a group cannot be read whole.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// No credentials in the environment; `set` names exactly the variables to set.
    #[error("no {provider} credentials: set {set}")]
    MissingCredentials { provider: &'static str, set: String },
    /// A variable is set but cannot be used.
    #[error("{variable} {why}")]
    Credentials {
        variable: &'static str,
        why: &'static str,
    },
    /// A key file that cannot be read or used; `why` never quotes its content.
    #[error("cannot use the key file {} ({variable}): {why}", .file.display())]
    Key {
        variable: &'static str,
        file: PathBuf,
        why: String,
    },
    /// A base URL or token endpoint that is not a URL, or that would carry a secret over plain
    /// http to a host that is not a loopback address. `url` shows no user name, password or
    /// query.
    #[error("{what} {url}: {why}")]
    Url {
        what: String,
        url: String,
        why: String,
    },
    /// The HTTPS client cannot be built (the text says so).
    #[error("{0}")]
    Client(String),
    /// A group name no URL path can carry (empty, `.` or `..`).
    #[error("the group \"{}\" cannot be named in a URL", visible(.group))]
    BadGroup { group: String },
    /// The token endpoint said no: a wrong tenant, `invalid_client`, `invalid_grant`,
    /// `unauthorized_client`… `description` is the endpoint's own, escaped; `hint` says what to
    /// check.
    #[error(
        "{endpoint} refused the token request (HTTP {status}{}): {description}{}",
        code(.error),
        then(.hint)
    )]
    TokenRefused {
        endpoint: String,
        status: u16,
        error: String,
        description: String,
        hint: String,
    },
    /// The group does not exist (404).
    #[error("{provider} has no group \"{}\" (HTTP 404){}", visible(.group), said(.detail))]
    NotFound {
        provider: &'static str,
        group: String,
        detail: String,
    },
    /// The credentials may not read the group (401 or 403 that is not a rate limit); `needed`
    /// says which permission or scope is missing.
    #[error(
        "{provider} refused to list group \"{}\" (HTTP {status}): {needed}{}",
        visible(.group),
        said(.detail)
    )]
    Forbidden {
        provider: &'static str,
        group: String,
        status: u16,
        detail: String,
        needed: String,
    },
    /// The members came back without the fields that tell who they are (Graph's "limited
    /// information" for an app that may list members but not read users).
    #[error(
        "{provider} listed the users of group \"{}\" without their email or whether they are enabled: {needed}",
        visible(.group)
    )]
    Hidden {
        provider: &'static str,
        group: String,
        needed: String,
    },
    /// Another 4xx: the request was refused for a reason that is not the credentials'.
    #[error("{what}: refused with HTTP {status}{}", said(.detail))]
    Refused {
        what: String,
        status: u16,
        detail: String,
    },
    /// 5xx or timeouts past the retries, or a rate-limit wait past the budget.
    #[error("{what}: {why}")]
    Unavailable { what: String, why: String },
    /// An answer that does not parse, a redirect, or a next link to another host.
    #[error("{what}: unexpected answer: {why}")]
    Answer { what: String, why: String },
    /// A stop was requested (Ctrl-C, SIGTERM) before the read was whole.
    #[error("{what} was not read whole: {reason}")]
    Stopped { what: String, reason: String },
}

fn code(error: &str) -> String {
    if error.is_empty() {
        String::new()
    } else {
        format!(", {error}")
    }
}

fn then(hint: &str) -> String {
    if hint.is_empty() {
        String::new()
    } else {
        format!("; {hint}")
    }
}

fn said(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(" ({detail})")
    }
}

/// Text from a provider as an error shows it: escaped, on one line, at most 300 characters,
/// with anything that reads as a credential taken out ([`without_credentials`]).
pub(super) fn shown(text: &str) -> String {
    const MOST: usize = 300;
    let text = without_credentials(text);
    let text = visible(text.trim());
    match text.char_indices().nth(MOST) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}

/// `text` with what reads as a credential replaced by `[redacted]`: the word after `Bearer`,
/// `SSWS` or `Basic` (an Authorization header echoed back), the value of a `token=`,
/// `secret=`, `assertion=`, `key=` or `password=`, and a JWT (`eyJ…`). A provider, or a proxy
/// before it, may echo what it was sent; the values this tool knows are scrubbed where they
/// are sent ([`scrubbed`]), and this catches the ones it obtained on the way.
pub(super) fn without_credentials(text: &str) -> String {
    const KEYS: [&str; 5] = ["token", "secret", "assertion", "key", "password"];
    let mut out = String::with_capacity(text.len());
    let mut after_scheme = false;
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let bare = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        if after_scheme && !bare.is_empty() {
            out.push_str("[redacted]");
            after_scheme = false;
            continue;
        }
        let lower_bare = bare.to_ascii_lowercase();
        let scheme = ["bearer", "ssws", "basic"].iter().any(|scheme| {
            lower_bare.strip_suffix(scheme).is_some_and(|before| {
                before.is_empty() || before.ends_with(|c: char| !c.is_ascii_alphanumeric())
            })
        });
        if scheme {
            after_scheme = true;
            out.push_str(word);
            continue;
        }
        if bare.starts_with("eyJ") && bare.len() > 20 {
            out.push_str("[redacted]");
            continue;
        }
        let lower = word.to_ascii_lowercase();
        let keyed = KEYS.iter().find_map(|key| {
            let plain = format!("{key}=");
            let json = format!("{key}\":\"");
            lower
                .find(&plain)
                .map(|at| at + plain.len())
                .or_else(|| lower.find(&json).map(|at| at + json.len()))
        });
        match keyed {
            Some(at) => {
                out.push_str(&word[..at]);
                out.push_str("[redacted]");
            }
            None => out.push_str(word),
        }
    }
    out
}

/// `text` with every secret in `secrets` replaced: a provider may echo what it was sent.
pub(super) fn scrubbed(text: &str, secrets: &[&str]) -> String {
    secrets
        .iter()
        .filter(|secret| secret.len() >= 4)
        .fold(text.to_owned(), |text, secret| {
            text.replace(secret, "[redacted]")
        })
}

impl Error {
    /// Whether the error is about one group (it does not exist, or may not be read), so that
    /// the provider's other groups can still be read.
    pub(crate) fn about_the_group(&self) -> bool {
        matches!(
            self,
            Error::NotFound { .. }
                | Error::Forbidden { .. }
                | Error::Hidden { .. }
                | Error::BadGroup { .. }
                | Error::Refused { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_reads_as_a_credential_is_taken_out_of_a_providers_text() {
        for (said, shown_as) in [
            (
                "Invalid token provided: SSWS 00aBcD_secret",
                "Invalid token provided: SSWS [redacted]",
            ),
            (
                "denied for Authorization=Bearer eyJhbGciOi.x.y, see logs",
                "denied for Authorization=Bearer [redacted] see logs",
            ),
            ("bad access_token=abc123&x=1", "bad access_token=[redacted]"),
            (
                "{\"client_secret\":\"s3cr3t\"}",
                "{\"client_secret\":\"[redacted]",
            ),
            (
                "jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig was rejected",
                "jwt [redacted] was rejected",
            ),
            (
                "E0000007: Not found: Resource not found: 00g1 (UserGroup)",
                "E0000007: Not found: Resource not found: 00g1 (UserGroup)",
            ),
        ] {
            assert_eq!(without_credentials(said), shown_as, "{said}");
        }
    }
}
