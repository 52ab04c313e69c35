//! RSA keys for the tests of `sync`: the client signs its assertions (Okta's `private_key_jwt`,
//! Google's service-account JWT) with the private part, read from a PEM file as a user would
//! give it (PKCS#8 or PKCS#1); the fakes verify them with the public part the test registers.
//!
//! Keys are made with aws-lc-rs (already in the tree through rustls). Making a 2048-bit key
//! takes a noticeable moment in an unoptimised build, so [`RsaKey::shared`] hands out a few
//! keys made once per test process; [`RsaKey::generate`] makes a fresh one.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

/// An RSA key pair (2048 bits) in the encodings a user may hold it in.
#[derive(Clone)]
pub struct RsaKey {
    pkcs8: Vec<u8>,
    pkcs1: Vec<u8>,
    public: RsaPublicKey,
}

/// Never prints the private key.
impl std::fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsaKey")
            .field("kid", &self.public.kid)
            .finish_non_exhaustive()
    }
}

/// The public part of an [`RsaKey`]: what a test registers with a fake (Okta's JWK set of an API
/// Services app, Google's service account key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaPublicKey {
    /// Big-endian modulus and public exponent, without leading zeros.
    pub n: Vec<u8>,
    pub e: Vec<u8>,
    /// The key id: `kid` in a JWK, `private_key_id` in a Google key file.
    pub kid: String,
    /// SubjectPublicKeyInfo, DER.
    spki: Vec<u8>,
}

impl RsaKey {
    /// A fresh 2048-bit key.
    pub fn generate() -> RsaKey {
        let pair = KeyPair::generate(KeySize::Rsa2048).expect("aws-lc-rs makes an RSA key");
        let pkcs8: Pkcs8V1Der<'_> = pair.as_der().expect("the key as PKCS#8");
        let pkcs8 = pkcs8.as_ref().to_vec();
        let pkcs1 = pkcs1_of_pkcs8(&pkcs8).expect("an RSA PKCS#8 key holds a PKCS#1 key");
        let public = pair.public_key();
        let spki: PublicKeyX509Der<'_> = public.as_der().expect("the public key as SPKI");
        let n = public.modulus().big_endian_without_leading_zero().to_vec();
        let e = public.exponent().big_endian_without_leading_zero().to_vec();
        let kid = uuid::Uuid::new_v4().simple().to_string();
        RsaKey {
            pkcs8,
            pkcs1,
            public: RsaPublicKey {
                n,
                e,
                kid,
                spki: spki.as_ref().to_vec(),
            },
        }
    }

    /// One of a few keys made once per test process (`index` 0 to 3), for tests that need a
    /// key but not a new one.
    pub fn shared(index: usize) -> RsaKey {
        static KEYS: [OnceLock<RsaKey>; 4] = [const { OnceLock::new() }; 4];
        KEYS[index].get_or_init(RsaKey::generate).clone()
    }

    pub fn public(&self) -> RsaPublicKey {
        self.public.clone()
    }

    pub fn kid(&self) -> &str {
        &self.public.kid
    }

    /// `-----BEGIN PRIVATE KEY-----` (PKCS#8), as Google's key files and `openssl genpkey` hold it.
    pub fn pkcs8_pem(&self) -> String {
        pem("PRIVATE KEY", &self.pkcs8)
    }

    /// `-----BEGIN RSA PRIVATE KEY-----` (PKCS#1), as older `openssl genrsa` writes it.
    pub fn pkcs1_pem(&self) -> String {
        pem("RSA PRIVATE KEY", &self.pkcs1)
    }

    /// `-----BEGIN PUBLIC KEY-----` (SubjectPublicKeyInfo).
    pub fn public_pem(&self) -> String {
        self.public.pem()
    }

    /// Writes the private key as PKCS#8 PEM into `dir` (e.g. for `OKTA_PRIVATE_KEY_FILE`).
    pub fn write_pkcs8(&self, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, self.pkcs8_pem()).expect("write the PKCS#8 key");
        path
    }

    /// Writes the private key as PKCS#1 PEM into `dir`.
    pub fn write_pkcs1(&self, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, self.pkcs1_pem()).expect("write the PKCS#1 key");
        path
    }

    /// The key to sign with, for the fakes' self-tests only: the tests of `sync` sign nothing,
    /// the client does.
    pub fn encoding_key(&self) -> jsonwebtoken::EncodingKey {
        jsonwebtoken::EncodingKey::from_rsa_der(&self.pkcs1)
    }
}

impl RsaPublicKey {
    /// The public JWK, as registered in an Okta app's JWK set (`kty`, `kid`, `use`, `alg`, `n`,
    /// `e`; RFC 7517/7518).
    pub fn jwk(&self) -> Value {
        json!({
            "kty": "RSA",
            "kid": self.kid,
            "use": "sig",
            "alg": "RS256",
            "n": URL_SAFE_NO_PAD.encode(&self.n),
            "e": URL_SAFE_NO_PAD.encode(&self.e),
        })
    }

    pub fn pem(&self) -> String {
        pem("PUBLIC KEY", &self.spki)
    }

    pub(crate) fn decoding_key(&self) -> jsonwebtoken::DecodingKey {
        jsonwebtoken::DecodingKey::from_rsa_raw_components(&self.n, &self.e)
    }
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// One DER element at the start of `der`: (tag, contents, the rest).
fn der_element(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let len = rest[..count]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[count..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The PKCS#1 `RSAPrivateKey` inside a PKCS#8 `PrivateKeyInfo` (RFC 5208: a SEQUENCE of the
/// version, the algorithm identifier and an OCTET STRING holding the key).
fn pkcs1_of_pkcs8(pkcs8: &[u8]) -> Option<Vec<u8>> {
    let (0x30, info, _) = der_element(pkcs8)? else {
        return None;
    };
    let (0x02, _version, rest) = der_element(info)? else {
        return None;
    };
    let (0x30, _algorithm, rest) = der_element(rest)? else {
        return None;
    };
    let (0x04, key, _) = der_element(rest)? else {
        return None;
    };
    Some(key.to_vec())
}
