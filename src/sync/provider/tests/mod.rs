//! The providers against local fakes (wiremock): pages, filters and counts, token exchanges
//! (the form's fields and the assertion's claims, checked against the public key), waits for
//! rate limits, retries, refusals, URLs that may not carry credentials, and secrets kept out
//! of every message.
//!
//! The RSA keys in `testdata/` were made once with `openssl genpkey` for these tests (the
//! PKCS#1 file is the same key, `openssl rsa -traditional`); they sign nothing else.

mod entra;
mod google;
mod okta;

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::*;
use crate::stop::StopReason;

pub(super) const PKCS8: &str = include_str!("../testdata/rsa-pkcs8.pem");
pub(super) const PKCS1: &str = include_str!("../testdata/rsa-pkcs1.pem");
const PUBLIC: &str = include_str!("../testdata/rsa-public.pem");

/// An environment holding only `pairs`.
pub(super) fn env(pairs: &[(&str, &str)]) -> Env {
    let map: HashMap<String, OsString> = pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), OsString::from(value)))
        .collect();
    Arc::new(move |name| map.get(name).cloned())
}

/// Options for a test: short timeouts, two retries, a budget of 30 s.
pub(super) fn options(pairs: &[(&str, &str)]) -> Options {
    Options {
        retries: 2,
        wait_budget: Duration::from_secs(30),
        ..Options::new(Duration::from_secs(5), StopSignal::default(), env(pairs))
    }
}

/// A folder for key files, removed with it.
pub(super) struct Files(tempfile::TempDir);

impl Files {
    pub(super) fn new() -> Files {
        Files(tempfile::tempdir().expect("temporary folder"))
    }

    /// Writes `content` to the file `name`, and gives its path as text.
    pub(super) fn write(&self, name: &str, content: &str) -> String {
        let path: PathBuf = self.0.path().join(name);
        std::fs::write(&path, content).expect("write");
        path.to_str().expect("UTF-8 path").to_owned()
    }
}

/// The fields of a form a fake received.
pub(super) fn form(request: &Request) -> HashMap<String, String> {
    url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect()
}

/// A signed assertion's header and claims, its signature checked with the test key's public
/// half and its audience with `audience`.
pub(super) fn decode(assertion: &str, audience: &str) -> (Header, Value) {
    let key = DecodingKey::from_rsa_pem(PUBLIC.as_bytes()).expect("public key");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iat", "aud", "iss", "sub"]);
    let data =
        jsonwebtoken::decode::<Value>(assertion, &key, &validation).expect("valid assertion");
    (data.header, data.claims)
}

/// The requests a fake received at `path`.
pub(super) async fn received(server: &MockServer, at: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .expect("recording")
        .into_iter()
        .filter(|request| request.url.path() == at)
        .collect()
}

/// What a request asked for: its path and query as sent (a fake's requests all say
/// `localhost`).
pub(super) fn sent(request: &Request) -> String {
    match request.url.query() {
        Some(query) => format!("{}?{query}", request.url.path()),
        None => request.url.path().to_owned(),
    }
}

/// Now plus `seconds`, in epoch seconds, as Okta's `X-Rate-Limit-Reset` says it.
pub(super) fn epoch_in(seconds: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970");
    (now.as_secs() + seconds).to_string()
}

fn okta(url: &str) -> Source {
    Source::Okta {
        url: url.to_owned(),
    }
}

#[test]
fn the_standard_options_retry_five_times_and_wait_five_minutes_in_all() {
    let options = Options::new(
        Duration::from_secs(30),
        StopSignal::default(),
        process_env(),
    );
    assert_eq!(
        (options.retries, options.wait_budget),
        (5, Duration::from_secs(300))
    );
    assert_eq!((options.env)("CLICKUP_MEMBERS_SURELY_UNSET"), None);
}

#[test]
fn a_provider_and_its_reads_can_go_to_other_tasks() {
    fn shared<T: Send + Sync>(_: &T) {}
    fn sent<T: Send>(_: T) {}
    let provider = Provider::new(
        &okta("https://acme.okta.com"),
        options(&[("OKTA_API_TOKEN", "t")]),
    )
    .expect("provider");
    shared(&provider);
    sent(provider.read_group("00g1"));
}

#[test]
fn plain_http_carries_credentials_only_to_a_loopback_address() {
    let token = [("OKTA_API_TOKEN", "t0ken")];
    for url in [
        "http://127.0.0.1:9",
        "http://localhost:9",
        "http://[::1]:9",
        "https://acme.okta.com",
    ] {
        assert!(Provider::new(&okta(url), options(&token)).is_ok(), "{url}");
    }
    let err = Provider::new(&okta("http://acme.okta.com"), options(&token)).expect_err("plain");
    assert!(matches!(err, Error::Url { .. }), "{err:?}");
    assert!(err.to_string().contains("https://"), "{err}");
    let entra = Source::Entra {
        tenant: "t".into(),
        login_url: "http://login.example".into(),
        graph_url: "https://graph.example".into(),
    };
    let both = [("ENTRA_CLIENT_ID", "id"), ("ENTRA_CLIENT_SECRET", "s")];
    let err = Provider::new(&entra, options(&both)).expect_err("plain login");
    assert!(err.to_string().contains("sources.entra.login_url"), "{err}");
    let google = Source::Google {
        subject: "admin@acme.example".into(),
        api_url: "ftp://admin.example".into(),
    };
    let err = Provider::new(&google, options(&[])).expect_err("ftp");
    assert!(err.to_string().contains("https://, not ftp://"), "{err}");
}

#[test]
fn a_password_or_query_in_a_url_is_never_shown() {
    let err = Provider::new(
        &okta("http://user:pa55@acme.example/x?key=k3y"),
        options(&[("OKTA_API_TOKEN", "t")]),
    )
    .expect_err("plain http");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("pa55") && !shown.contains("k3y"), "{shown}");
}

#[tokio::test]
async fn a_group_is_one_percent_encoded_path_segment() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    let provider =
        Provider::new(&okta(&server.uri()), options(&[("OKTA_API_TOKEN", "t")])).expect("provider");
    provider.read_group("a/b c?d#e@f.g").await.expect("read");
    let requests = server.received_requests().await.expect("recording");
    assert_eq!(
        sent(&requests[0]),
        "/api/v1/groups/a%2Fb%20c%3Fd%23e%40f.g/users?limit=200"
    );
    for group in ["", ".", ".."] {
        let err = provider.read_group(group).await.expect_err("no segment");
        assert!(matches!(err, Error::BadGroup { .. }), "{err:?}");
    }
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("location", "https://elsewhere.example/"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let provider =
        Provider::new(&okta(&server.uri()), options(&[("OKTA_API_TOKEN", "t")])).expect("provider");
    let err = provider.read_group("00g1").await.expect_err("redirect");
    assert!(matches!(err, Error::Answer { .. }), "{err:?}");
    assert!(err.to_string().contains("redirect"), "{err}");
}

#[tokio::test]
async fn a_wait_that_would_pass_the_budget_ends_the_read_at_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("X-Rate-Limit-Reset", epoch_in(120)))
        .expect(1)
        .mount(&server)
        .await;
    let mut options = options(&[("OKTA_API_TOKEN", "t")]);
    options.wait_budget = Duration::from_secs(10);
    let provider = Provider::new(&okta(&server.uri()), options).expect("provider");
    let started = Instant::now();
    let err = provider.read_group("00g1").await.expect_err("limited");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("HTTP 429") && text.contains("10s"), "{text}");
}

#[tokio::test]
async fn a_stop_cuts_a_wait_short() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("X-Rate-Limit-Reset", epoch_in(20)))
        .mount(&server)
        .await;
    let options = options(&[("OKTA_API_TOKEN", "t")]);
    let stop = options.stop.clone();
    let provider = Provider::new(&okta(&server.uri()), options).expect("provider");
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.request(StopReason {
            message: "interrupted by SIGINT".into(),
            exit_code: Some(130),
        });
    });
    let started = Instant::now();
    let err = provider.read_group("00g1").await.expect_err("stopped");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(matches!(err, Error::Stopped { .. }), "{err:?}");
    assert!(err.to_string().contains("SIGINT"), "{err}");
}

#[tokio::test]
async fn a_timeout_is_retried_then_the_provider_is_unavailable() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let mut options = options(&[("OKTA_API_TOKEN", "t")]);
    options.timeout = Duration::from_millis(300);
    options.retries = 1;
    let provider = Provider::new(&okta(&server.uri()), options).expect("provider");
    let err = provider.read_group("00g1").await.expect_err("timeouts");
    assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
    assert!(err.to_string().contains("2 tries"), "{err}");
    assert_eq!(
        server.received_requests().await.expect("recording").len(),
        2
    );
}

/// Every secret the providers hold or are sent, and every error and Debug output they can
/// make around them: none shows one.
#[tokio::test]
async fn no_secret_appears_in_any_error_or_debug_output() {
    let server = MockServer::start().await;
    // Token endpoints that echo the form they were sent (client secret, assertion) back.
    let echo = |request: &Request| {
        ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_client",
            "error_description": String::from_utf8_lossy(&request.body),
        }))
    };
    Mock::given(method("POST"))
        .respond_with(echo)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"errorCode": "E0000006"})))
        .mount(&server)
        .await;
    let files = Files::new();
    let key = files.write("okta.pem", PKCS8);
    let google_key = json!({
        "type": "service_account", "client_email": "sync@p.iam.gserviceaccount.com",
        "private_key": PKCS8, "private_key_id": "k1", "token_uri": format!("{}/token", server.uri()),
    });
    let google_key = files.write("google.json", &google_key.to_string());
    let cases = [
        (okta(&server.uri()), vec![("OKTA_API_TOKEN", "s3cr3t-ssws")]),
        (
            okta(&server.uri()),
            vec![
                ("OKTA_CLIENT_ID", "0oa1"),
                ("OKTA_PRIVATE_KEY_FILE", key.as_str()),
            ],
        ),
        (
            Source::Entra {
                tenant: "t".into(),
                login_url: server.uri(),
                graph_url: server.uri(),
            },
            vec![
                ("ENTRA_CLIENT_ID", "app"),
                ("ENTRA_CLIENT_SECRET", "s3cr3t-entra"),
            ],
        ),
        (
            Source::Google {
                subject: "admin@acme.example".into(),
                api_url: server.uri(),
            },
            vec![("GOOGLE_APPLICATION_CREDENTIALS", google_key.as_str())],
        ),
    ];
    let key_line = PKCS8.lines().nth(1).expect("a line of the key");
    for (source, pairs) in cases {
        let options = options(&pairs);
        let provider = Provider::new(&source, options.clone()).expect("provider");
        let err = provider.read_group("00g1").await.expect_err("refused");
        let shown = format!("{err}\n{err:?}\n{provider:?}\n{options:?}\n{source:?}");
        for secret in ["s3cr3t", "eyJ", key_line, "BEGIN"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
    let requests = server.received_requests().await.expect("recording");
    let sent: Vec<String> = requests
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert!(
        sent.iter().any(|body| body.contains("s3cr3t-entra")),
        "the secret was sent"
    );
    assert!(
        sent.iter()
            .any(|body| body.contains("client_assertion=eyJ")),
        "an assertion was sent"
    );
}
