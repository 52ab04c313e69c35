//! Several fake Workspaces behind one API URL, as one ClickUp account reaches them with one
//! token: each request goes to the Workspace its path (`/team/{id}/…`) or query
//! (`?team_id=`) names, `GET /team` lists them all, and one rate limit counts the requests of
//! all of them together, with its headers on every answer and a 429 beyond it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::{Fake, Handler, error, now_ms};

/// The token's rate limit, over every Workspace.
#[derive(Debug)]
struct Rate {
    limit: u32,
    window_ms: u64,
    index: u64,
    used: u32,
    too_many: usize,
    /// When each request came (milliseconds since the epoch).
    times: Vec<u64>,
}

/// Fake Workspaces that share an API URL and a token's rate limit.
pub struct Fakes {
    pub server: MockServer,
    pub fakes: Vec<Fake>,
    rate: Arc<Mutex<Rate>>,
}

struct Router {
    /// The Workspace id each fake answers for, with its handler.
    teams: Vec<(String, Handler)>,
    rate: Arc<Mutex<Rate>>,
}

impl Fakes {
    /// Starts one fake per snapshot; the first also answers what names no Workspace
    /// (`GET /user`, `GET /team`).
    pub async fn start(snapshots: &[Value], token: &str) -> Fakes {
        let mut fakes = Vec::new();
        for snapshot in snapshots {
            let fake = Fake::start(snapshot, token).await;
            // The token's limit is counted here, over all of them.
            fake.rate_limit(u32::MAX, Duration::from_secs(60));
            fakes.push(fake);
        }
        let peers = fakes[1..].iter().map(|f| f.state.clone()).collect();
        {
            // The token reaches exactly these Workspaces.
            let mut first = fakes[0].lock();
            first.peers = peers;
            first.other_teams.clear();
        }
        let rate = Arc::new(Mutex::new(Rate {
            limit: 1000,
            window_ms: 60_000,
            index: 0,
            used: 0,
            too_many: 0,
            times: Vec::new(),
        }));
        let router = Router {
            teams: fakes
                .iter()
                .map(|f| (f.team_id(), Handler(f.state.clone())))
                .collect(),
            rate: rate.clone(),
        };
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(router)
            .mount(&server)
            .await;
        Fakes {
            server,
            fakes,
            rate,
        }
    }

    pub fn api_url(&self) -> String {
        format!("{}/api/v2", self.server.uri())
    }

    /// At most `limit` requests per window of `window`, over every Workspace.
    pub fn rate_limit(&self, limit: u32, window: Duration) {
        let mut rate = self.rate.lock().expect("rate");
        rate.limit = limit;
        rate.window_ms = window.as_millis() as u64;
        rate.used = 0;
    }

    /// How many 429 answers were sent.
    pub fn too_many(&self) -> usize {
        self.rate.lock().expect("rate").too_many
    }

    /// How many requests were answered within the limit.
    pub fn answered(&self) -> usize {
        self.rate.lock().expect("rate").times.len()
    }

    /// The fake of Workspace `id`.
    pub fn of(&self, id: &str) -> &Fake {
        self.fakes
            .iter()
            .find(|f| f.team_id() == id)
            .unwrap_or_else(|| panic!("no fake Workspace {id}"))
    }
}

impl Router {
    /// The Workspace a request names: `/team/{id}/…` or `?team_id={id}`.
    fn named(request: &Request) -> Option<String> {
        let path = request.url.path();
        let mut parts = path.trim_start_matches("/api/v2/").split('/');
        if parts.next() == Some("team")
            && let Some(id) = parts.next()
        {
            return Some(id.to_owned());
        }
        request
            .url
            .query_pairs()
            .find(|(k, _)| k == "team_id")
            .map(|(_, v)| v.into_owned())
    }
}

impl Respond for Router {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let (limited, limit, remaining, reset) = {
            let mut rate = self.rate.lock().expect("rate");
            let now = now_ms();
            let index = now / rate.window_ms;
            if index != rate.index {
                rate.index = index;
                rate.used = 0;
            }
            let limited = rate.used >= rate.limit;
            if limited {
                rate.too_many += 1;
            } else {
                rate.used += 1;
                rate.times.push(now);
            }
            let reset = ((index + 1) * rate.window_ms) as f64 / 1000.0;
            (limited, rate.limit, rate.limit - rate.used, reset)
        };
        let headers = |t: ResponseTemplate| {
            t.insert_header("X-RateLimit-Limit", limit.to_string().as_str())
                .insert_header("X-RateLimit-Remaining", remaining.to_string().as_str())
                .insert_header("X-RateLimit-Reset", format!("{reset}").as_str())
        };
        if limited {
            let (status, body) = error(429, "APP_002", "Rate limit reached");
            return headers(ResponseTemplate::new(status).set_body_json(body));
        }
        let handler = Self::named(request)
            .and_then(|id| self.teams.iter().find(|(team, _)| *team == id))
            .unwrap_or(&self.teams[0]);
        headers(handler.1.respond(request))
    }
}
