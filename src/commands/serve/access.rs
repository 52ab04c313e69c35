//! Who may read `GET /plan` (every member's email) and ask for cycles (`POST /reconcile`,
//! which spends the token's rate limit): a client that shows the secret of
//! `CLICKUP_MEMBERS_SERVE_TOKEN` as `Authorization: Bearer`, compared in constant time; when it
//! is not set, anyone who reaches a loopback listen address, and nobody on another. The metrics
//! and the probes are not guarded here. The secret is never logged nor shown, not even in part.

use std::net::SocketAddr;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::commands::Error;

/// The environment variable that holds the secret of `/plan` and `/reconcile`.
pub(crate) const SERVE_TOKEN: &str = "CLICKUP_MEMBERS_SERVE_TOKEN";

/// Who may use the guarded endpoints.
pub(super) enum Access {
    /// Those who send the secret; only its SHA-256 is kept, so that secrets of any length
    /// compare in the same time.
    Secret([u8; 32]),
    /// No secret; the address is loopback: whoever reaches it is on this host.
    Loopback,
    /// No secret, on an address others reach: nobody.
    Refused(SocketAddr),
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Access::Secret(_) => f.write_str("Secret(…)"),
            Access::Loopback => f.write_str("Loopback"),
            Access::Refused(address) => write!(f, "Refused({address})"),
        }
    }
}

impl Access {
    /// From the environment, for endpoints listening on `address`.
    pub(super) fn from_env(address: SocketAddr) -> Result<Access, Error> {
        Access::new(std::env::var_os(SERVE_TOKEN), address)
    }

    fn new(secret: Option<std::ffi::OsString>, address: SocketAddr) -> Result<Access, Error> {
        match secret {
            Some(secret) => {
                let secret = secret
                    .into_string()
                    .map_err(|_| Error::Usage(format!("{SERVE_TOKEN} is not UTF-8 text")))?;
                let secret = secret.trim();
                if secret.is_empty() {
                    return Err(Error::Usage(format!(
                        "{SERVE_TOKEN} is set but empty; set it to a long random secret (openssl rand -hex 32), or unset it"
                    )));
                }
                Ok(Access::Secret(Sha256::digest(secret.as_bytes()).into()))
            }
            None if is_loopback(address) => Ok(Access::Loopback),
            None => Ok(Access::Refused(address)),
        }
    }

    /// What the start-up log says of the guarded endpoints, when something needs saying.
    pub(super) fn warning(&self) -> Option<String> {
        match self {
            Access::Refused(address) => Some(format!(
                "{SERVE_TOKEN} is not set and {address} is not a loopback address: /plan and POST /reconcile are refused (403); set {SERVE_TOKEN} to a secret to use them"
            )),
            Access::Secret(_) | Access::Loopback => None,
        }
    }

    /// Whether a request with `headers` may use a guarded endpoint; if not, why.
    pub(super) fn check(&self, headers: &HeaderMap) -> Result<(), Denied> {
        match self {
            Access::Loopback => Ok(()),
            Access::Refused(address) => Err(Denied::NoSecret(*address)),
            Access::Secret(expected) => {
                let shown = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(bearer)
                    .map(|secret| Sha256::digest(secret.as_bytes()));
                match shown {
                    Some(digest) if bool::from(digest.as_slice().ct_eq(expected)) => Ok(()),
                    _ => Err(Denied::WrongSecret),
                }
            }
        }
    }
}

/// Why a request may not use a guarded endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Denied {
    /// No secret is set, and the endpoints listen on this address, which others reach.
    NoSecret(SocketAddr),
    /// The request does not show the secret.
    WrongSecret,
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        match self {
            Denied::NoSecret(address) => (
                StatusCode::FORBIDDEN,
                format!(
                    "refused: serve listens on {address}, which others can reach, and {SERVE_TOKEN} is not set; set {SERVE_TOKEN} to a secret and send it as Authorization: Bearer, or listen on 127.0.0.1\n"
                ),
            )
                .into_response(),
            Denied::WrongSecret => (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer realm=\"clickup-members\"")],
                format!(
                    "this endpoint needs Authorization: Bearer with the secret of {SERVE_TOKEN}\n"
                ),
            )
                .into_response(),
        }
    }
}

/// The secret of `Bearer <secret>` (the scheme in any case).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, secret) = value.trim().split_once(' ')?;
    let secret = secret.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !secret.is_empty()).then_some(secret)
}

/// `127.0.0.1`, `::1`, and `::ffff:127.0.0.1`.
fn is_loopback(address: SocketAddr) -> bool {
    match address {
        SocketAddr::V4(v4) => v4.ip().is_loopback(),
        SocketAddr::V6(v6) => {
            v6.ip().is_loopback() || v6.ip().to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(authorization: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            authorization.parse().expect("header"),
        );
        headers
    }

    fn address(text: &str) -> SocketAddr {
        text.parse().expect("address")
    }

    #[test]
    fn only_the_secret_opens_the_guarded_endpoints() {
        let access = Access::new(Some("s3cret".into()), address("0.0.0.0:1")).expect("set");
        assert!(access.check(&headers("Bearer s3cret")).is_ok());
        assert!(access.check(&headers("bearer  s3cret ")).is_ok());
        for wrong in [
            "Bearer s3cre",
            "Bearer s3cret2",
            "Basic s3cret",
            "Bearer",
            "s3cret",
        ] {
            let refused = access.check(&headers(wrong)).expect_err(wrong);
            assert_eq!(refused, Denied::WrongSecret, "{wrong}");
            assert_eq!(refused.into_response().status(), StatusCode::UNAUTHORIZED);
        }
        assert!(access.check(&HeaderMap::new()).is_err());
        assert!(!format!("{access:?}").contains("s3cret"));
    }

    #[test]
    fn without_a_secret_only_a_loopback_address_answers() {
        for open in ["127.0.0.1:9464", "[::1]:9464", "[::ffff:127.0.0.1]:9464"] {
            let access = Access::new(None, address(open)).expect("open");
            assert!(access.check(&HeaderMap::new()).is_ok(), "{open}");
        }
        for others in ["0.0.0.0:9464", "[::]:9464", "10.0.0.7:9464"] {
            let access = Access::new(None, address(others)).expect("refused");
            let refused = access.check(&HeaderMap::new()).expect_err(others);
            assert_eq!(refused.into_response().status(), StatusCode::FORBIDDEN);
            assert!(access.warning().is_some_and(|w| w.contains(SERVE_TOKEN)));
        }
        assert!(Access::new(Some(" ".into()), address("127.0.0.1:1")).is_err());
    }
}
