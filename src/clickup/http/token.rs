//! The API token: read from `CLICKUP_TOKEN` or the file named by `CLICKUP_TOKEN_FILE`, kept in a
//! secret type, and turned into the `Authorization` header (a personal `pk_…` token as is,
//! anything else as `Bearer …`). It is never printed, logged or written anywhere.

use std::fmt;
use std::path::Path;

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

/// A ClickUp API token.
pub(crate) struct Token(SecretString);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token([redacted])")
    }
}

/// Why there is no token to use. Never holds the token itself.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TokenError {
    #[error(
        "no ClickUp token: set CLICKUP_TOKEN to a personal token (pk_…) or an OAuth token, or CLICKUP_TOKEN_FILE to a file holding one"
    )]
    Missing,
    #[error("CLICKUP_TOKEN is not valid UTF-8")]
    NotUtf8,
    #[error("cannot read the token file {} (CLICKUP_TOKEN_FILE): {error}", path.display())]
    File {
        path: std::path::PathBuf,
        #[source]
        error: std::io::Error,
    },
    /// Where it came from is empty.
    #[error("{0} is empty")]
    Empty(String),
    /// Where it came from holds characters an HTTP header cannot carry.
    #[error("{0} holds characters that cannot be sent to ClickUp")]
    Unsendable(String),
}

impl Token {
    /// The token from the environment: `CLICKUP_TOKEN`, else the file `CLICKUP_TOKEN_FILE` names.
    pub(crate) fn from_env() -> Result<Token, TokenError> {
        if let Some(value) = std::env::var_os("CLICKUP_TOKEN").filter(|v| !v.is_empty()) {
            let value = value.into_string().map_err(|_| TokenError::NotUtf8)?;
            return Token::new(value, "CLICKUP_TOKEN");
        }
        if let Some(path) = std::env::var_os("CLICKUP_TOKEN_FILE").filter(|v| !v.is_empty()) {
            return Token::from_file(Path::new(&path));
        }
        Err(TokenError::Missing)
    }

    #[cfg(test)]
    pub(crate) fn from_file_for_tests(path: &Path) -> Token {
        Token::from_file(path).expect("test token")
    }

    fn from_file(path: &Path) -> Result<Token, TokenError> {
        let text = std::fs::read_to_string(path).map_err(|error| TokenError::File {
            path: path.to_owned(),
            error,
        })?;
        Token::new(text, &format!("the token file {}", path.display()))
    }

    fn new(text: String, source: &str) -> Result<Token, TokenError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(TokenError::Empty(source.to_owned()));
        }
        let token = Token(SecretString::from(trimmed.to_owned()));
        if token.header().is_err() {
            return Err(TokenError::Unsendable(source.to_owned()));
        }
        Ok(token)
    }

    /// The `Authorization` header value, marked sensitive so that it is redacted from debug
    /// output.
    pub(crate) fn header(&self) -> Result<HeaderValue, reqwest::header::InvalidHeaderValue> {
        let secret = self.0.expose_secret();
        let mut value = if secret.starts_with("pk_") {
            HeaderValue::from_str(secret)?
        } else {
            HeaderValue::from_str(&format!("Bearer {secret}"))?
        };
        value.set_sensitive(true);
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_tokens_are_sent_as_is_and_others_as_bearer() {
        let personal = Token::new("pk_123_ABC\n".into(), "test").expect("token");
        assert_eq!(personal.header().expect("header"), "pk_123_ABC");
        let oauth = Token::new("abc.def".into(), "test").expect("token");
        assert_eq!(oauth.header().expect("header"), "Bearer abc.def");
        assert!(oauth.header().expect("header").is_sensitive());
    }

    #[test]
    fn a_token_never_shows_in_debug_output() {
        let token = Token::new("pk_secret_value".into(), "test").expect("token");
        assert!(!format!("{token:?}").contains("secret"));
        assert!(!format!("{:?}", token.header().expect("header")).contains("secret"));
    }

    #[test]
    fn an_empty_token_is_refused() {
        assert!(Token::new("  \n".into(), "CLICKUP_TOKEN").is_err());
    }
}
