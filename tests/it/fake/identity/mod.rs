//! Local fakes of the identity providers `sync` reads (SPEC §11), on loopback, for the
//! integration tests: Okta (`OktaFake`: a group's users and the org authorization server's
//! token endpoint), Microsoft Entra ID (`GraphFake`: Graph's transitive members of a group and
//! the identity platform's token endpoint) and Google Workspace (`GoogleFake`: the Directory
//! API's members of a group and the OAuth 2.0 token endpoint of a service account key).
//!
//! Written from the providers' official descriptions only (`reference/identity/`, copied under
//! `tests/contract/identity/`), never from the client: every request a fake receives and every
//! answer it gives is checked against them (`contract`), and a test whose traffic breaks them
//! fails when its fake is dropped, as with the ClickUp fake. A test populates a fake (groups of
//! people, credentials: an SSWS token, a client's public key, a client secret, a service
//! account), points the command at its URLs, and reads back what happened: every request (never
//! a secret: the `Authorization` scheme only, form fields without secrets, an assertion's header
//! and claims without its signature), the pages served, the tokens issued. Faults (5xx,
//! timeouts, dropped connections, throttling in each provider's own way, 401/403) are injected on
//! chosen requests: the token exchange, the nth page of a listing, its last page.
//!
//! What the notes mark INFERRED or of low confidence is marked so where the fakes rely on it.

pub mod contract;
pub mod google;
pub mod graph;
pub mod keys;
pub mod okta;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

// What a test uses, by its short path (`benches/apply_rate.rs` includes `fake/` too, and uses
// none of it).
#[allow(unused_imports)]
pub use contract::{Answer, Sent};
#[allow(unused_imports)]
pub use google::{GoogleFake, GoogleFault, GoogleMember};
#[allow(unused_imports)]
pub use graph::{GraphFake, GraphFault, GraphUser};
#[allow(unused_imports)]
pub use keys::RsaKey;
#[allow(unused_imports)]
pub use okta::{OktaFake, OktaFault, OktaStatus, OktaUser};

/// Which endpoint of a provider a request went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// The API that lists a group's people.
    Api,
    /// The token endpoint.
    Token,
}

/// One page of a group's listing, as a fake served it (or was about to, when a fault met it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The group as the request named it.
    pub group: String,
    /// 1 for the first page.
    pub index: usize,
    /// How many entries it holds.
    pub size: usize,
    /// No page follows it.
    pub last: bool,
}

/// One request as a fake saw it. Nothing secret is kept: the `Authorization` scheme without its
/// credential, a form without its secrets, an assertion's header and claims without its
/// signature.
#[derive(Debug, Clone)]
pub struct Logged {
    pub endpoint: Endpoint,
    pub method: String,
    /// `path?query`, as sent (percent-encoding kept).
    pub target: String,
    /// 0: the connection was dropped without an answer.
    pub status: u16,
    /// `SSWS`, `Bearer`, `Basic`…
    pub auth_scheme: Option<String>,
    pub consistency_level: Option<String>,
    pub accept: Option<String>,
    pub content_type: Option<String>,
    pub user_agent: Option<String>,
    /// A token request's form; `client_secret`, `client_assertion` and `assertion` are
    /// `<redacted>`.
    pub form: BTreeMap<String, String>,
    /// A client assertion's (or Google grant's) JOSE header and claims.
    pub assertion: Option<(Value, Value)>,
    /// The page this answer was, for a listing.
    pub page: Option<Page>,
    /// Why the fake refused it, when it did (in the fake's words).
    pub refusal: Option<String>,
    pub at: Instant,
}

impl Logged {
    /// `METHOD path?query`.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.target)
    }
}

/// Which requests a fault meets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum On {
    /// The token endpoint.
    Token,
    /// The nth page (1 for the first) of a listing.
    Page(usize),
    /// The last page of a listing (a one-page listing's only page).
    LastPage,
    /// Any page of a listing.
    AnyPage,
}

pub(crate) struct Rule<F> {
    group: Option<String>,
    on: On,
    fault: F,
    remaining: usize,
}

/// What every fake keeps besides its provider's data.
pub(crate) struct Common<F> {
    pub(crate) log: Vec<Logged>,
    pub(crate) violations: Vec<String>,
    pub(crate) expect_violations: bool,
    rules: Vec<Rule<F>>,
    pub(crate) timeout_delay: Duration,
}

impl<F: Clone> Common<F> {
    pub(crate) fn new() -> Self {
        Common {
            log: Vec::new(),
            violations: Vec::new(),
            expect_violations: false,
            rules: Vec::new(),
            timeout_delay: Duration::from_secs(5),
        }
    }

    pub(crate) fn inject(&mut self, group: Option<&str>, on: On, fault: F, times: usize) {
        self.rules.push(Rule {
            group: group.map(str::to_owned),
            on,
            fault,
            remaining: times,
        });
    }

    /// The fault the token exchange meets, if one is due.
    pub(crate) fn token_fault(&mut self) -> Option<F> {
        self.take(|rule| rule.on == On::Token)
    }

    /// The fault this page meets, if one is due.
    pub(crate) fn page_fault(&mut self, page: &Page) -> Option<F> {
        self.take(|rule| {
            rule.group.as_ref().is_none_or(|g| *g == page.group)
                && match rule.on {
                    On::Token => false,
                    On::Page(n) => n == page.index,
                    On::LastPage => page.last,
                    On::AnyPage => true,
                }
        })
    }

    fn take(&mut self, hits: impl Fn(&Rule<F>) -> bool) -> Option<F> {
        let rule = self.rules.iter_mut().find(|r| r.remaining > 0 && hits(r))?;
        rule.remaining -= 1;
        Some(rule.fault.clone())
    }

    /// Records violations of the descriptions, with the request that made (or met) them.
    pub(crate) fn violate(&mut self, sent: &Sent, violations: Vec<String>) {
        let line = format!("{} {}", sent.method, sent.target());
        self.violations
            .extend(violations.into_iter().map(|v| format!("{line}: {v}")));
    }

    pub(crate) fn record(&mut self, entry: Logged) {
        self.log.push(entry);
    }

    /// A test whose traffic broke the descriptions fails, whatever it asserted.
    pub(crate) fn fail_on_drop(&self, provider: &str, contract: &str) {
        if std::thread::panicking() || self.expect_violations || self.violations.is_empty() {
            return;
        }
        panic!(
            "{} request(s) or answer(s) of the {provider} fake broke the official description ({contract}):\n{}",
            self.violations.len(),
            self.violations.join("\n")
        );
    }
}

/// A log entry for `sent`, without secrets.
pub(crate) fn logged(sent: &Sent, endpoint: Endpoint, status: u16) -> Logged {
    const SECRET: [&str; 3] = ["client_secret", "client_assertion", "assertion"];
    let token_request = endpoint == Endpoint::Token;
    let pairs = if token_request {
        sent.form_pairs()
    } else {
        Vec::new()
    };
    let assertion = pairs
        .iter()
        .find(|(k, _)| k == "client_assertion" || k == "assertion")
        .and_then(|(_, jwt)| contract::jwt_parts(jwt).ok());
    Logged {
        endpoint,
        method: sent.method.clone(),
        target: sent.target(),
        status,
        auth_scheme: sent.auth_scheme(),
        consistency_level: sent.header_value("consistencylevel").map(str::to_owned),
        accept: sent.header_value("accept").map(str::to_owned),
        content_type: sent.header_value("content-type").map(str::to_owned),
        user_agent: sent.header_value("user-agent").map(str::to_owned),
        form: pairs
            .into_iter()
            .map(|(k, v)| {
                let v = if SECRET.contains(&k.as_str()) {
                    "<redacted>".to_owned()
                } else {
                    v
                };
                (k, v)
            })
            .collect(),
        assertion,
        page: None,
        refusal: None,
        at: Instant::now(),
    }
}

/// An answer a fake is about to give.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    pub(crate) delay: Duration,
    pub(crate) drop: bool,
}

impl Reply {
    pub(crate) fn json(status: u16, body: &Value) -> Reply {
        Reply::raw(
            status,
            "application/json",
            serde_json::to_vec(body).expect("JSON"),
        )
    }

    pub(crate) fn raw(status: u16, content_type: &str, body: Vec<u8>) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body,
            delay: Duration::ZERO,
            drop: false,
        }
    }

    pub(crate) fn dropped() -> Reply {
        Reply {
            status: 0,
            headers: Vec::new(),
            body: Vec::new(),
            delay: Duration::ZERO,
            drop: true,
        }
    }

    pub(crate) fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    /// Replaces the `Content-Type`.
    pub(crate) fn content_type(mut self, value: &str) -> Reply {
        self.headers.retain(|(n, _)| n != "content-type");
        self.header("content-type", value)
    }

    pub(crate) fn delayed(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }

    /// The answer as the contract checks see it.
    pub(crate) fn answer(&self) -> Answer {
        Answer {
            status: self.status,
            headers: self.headers.clone(),
            body: self.body.clone(),
        }
    }

    fn template(self) -> ResponseTemplate {
        let mut template = ResponseTemplate::new(self.status);
        let mut content_type = "application/json".to_owned();
        for (name, value) in self.headers {
            if name == "content-type" {
                content_type = value;
            } else {
                template = template.append_header(name.as_str(), value.as_str());
            }
        }
        template
            .set_body_raw(self.body, &content_type)
            .set_delay(self.delay)
    }
}

pub(crate) type AnswerFn<S> = fn(&mut S, &Sent) -> Reply;

struct Handler<S> {
    state: Arc<Mutex<S>>,
    answer: AnswerFn<S>,
}

impl<S: Send + 'static> Respond for Handler<S> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let sent = Sent::of(request);
        let reply = (self.answer)(&mut lock(&self.state), &sent);
        if reply.drop {
            // wiremock closes the connection of a handler that panics; the hook installed by
            // `quiet_drops` keeps this one out of the test's output.
            std::panic::panic_any(super::DROP);
        }
        reply.template()
    }
}

/// A server on loopback whose every request `answer` answers.
pub(crate) async fn serve<S: Send + 'static>(
    state: &Arc<Mutex<S>>,
    answer: AnswerFn<S>,
) -> MockServer {
    super::quiet_drops();
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(Handler {
            state: state.clone(),
            answer,
        })
        .mount(&server)
        .await;
    server
}

pub(crate) fn lock<S>(state: &Mutex<S>) -> MutexGuard<'_, S> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(crate) fn epoch_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// An opaque value (tokens, cursors, request ids): `prefix` and 32 hex digits.
pub(crate) fn opaque(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

/// An issued access token.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    /// Who it was issued to (client id, service account email).
    pub(crate) client: String,
    pub(crate) scopes: Vec<String>,
    /// The user it acts as (Google's `sub`).
    pub(crate) subject: Option<String>,
    /// Epoch seconds.
    pub(crate) expires: u64,
}

/// A page token or cursor a fake issued: the group, where its page starts, the query it came
/// with.
pub(crate) type Cursor = (String, usize, Vec<(String, String)>);

/// The query of a link a fake issued, to tell a link followed as given from one rebuilt.
pub(crate) fn same_query(sent: &Sent, issued: &[(String, String)]) -> bool {
    let mut got = sent.query_pairs();
    let mut want = issued.to_vec();
    got.sort();
    want.sort();
    got == want
}
