//! Signed assertions (RS256 JWTs) for the token requests that authenticate with a private key:
//! Okta's `private_key_jwt` client assertion and Google's service-account grant. The key is
//! read and tried once when the provider is set up, so a bad key file fails before anything is
//! sent; it is never shown.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::SecretString;
use serde::Serialize;

use super::Error;

/// Signs assertions with an RSA private key.
pub(super) struct Signer {
    key: EncodingKey,
    /// The `kid` header: which of the registered keys this is.
    kid: Option<String>,
    /// Where the key came from, for messages: the variable and the file.
    variable: &'static str,
    file: PathBuf,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("key", &"[redacted]")
            .field("kid", &self.kid)
            .field("file", &self.file)
            .finish()
    }
}

impl Signer {
    /// The key of the PEM file `file` names (`variable` named it).
    pub(super) fn from_file(
        variable: &'static str,
        file: &Path,
        kid: Option<String>,
    ) -> Result<Signer, Error> {
        let key_error = |why: String| Error::Key {
            variable,
            file: file.to_owned(),
            why,
        };
        let pem = std::fs::read(file).map_err(|e| key_error(format!("cannot read it ({e})")))?;
        Signer::from_pem(&pem, kid, variable, file).map_err(|why| key_error(why.to_owned()))
    }

    /// The key of `pem`, an RSA private key in PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN
    /// RSA PRIVATE KEY`), tried on a first signature. Why not, never quoting the key.
    pub(super) fn from_pem(
        pem: &[u8],
        kid: Option<String>,
        variable: &'static str,
        file: &Path,
    ) -> Result<Signer, &'static str> {
        const NOT_RSA: &str = "not a PEM RSA private key (PKCS#8 \"BEGIN PRIVATE KEY\" or PKCS#1 \"BEGIN RSA PRIVATE KEY\")";
        if pem.windows(9).any(|window| window == b"ENCRYPTED") {
            return Err(
                "an encrypted private key, which needs its passphrase: store it decrypted (`openssl pkey -in KEY -out KEY.pem`) where only this tool can read it",
            );
        }
        let key = EncodingKey::from_rsa_pem(pem).map_err(|_| NOT_RSA)?;
        let signer = Signer {
            key,
            kid,
            variable,
            file: file.to_owned(),
        };
        signer
            .sign(&serde_json::json!({"try": true}))
            .map_err(|_| NOT_RSA)?;
        Ok(signer)
    }

    /// Whether the assertions carry a `kid`.
    pub(super) fn has_kid(&self) -> bool {
        self.kid.is_some()
    }

    /// `claims`, signed with RS256, with this key's `kid` when there is one.
    pub(super) fn sign<C: Serialize>(&self, claims: &C) -> Result<SecretString, Error> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid.clone_from(&self.kid);
        jsonwebtoken::encode(&header, claims, &self.key)
            .map(SecretString::from)
            .map_err(|_| Error::Key {
                variable: self.variable,
                file: self.file.clone(),
                why: "cannot sign with it".to_owned(),
            })
    }
}

/// Now, in seconds since 1970, for `iat` and `exp`.
pub(super) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// A fresh `jti`, so that no assertion can be replayed.
pub(super) fn jti() -> String {
    uuid::Uuid::new_v4().to_string()
}
