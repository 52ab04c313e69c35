//! A stateful fake of ClickUp's API v2 for the tests, built on wiremock.
//!
//! It keeps a Workspace in memory in ClickUp's own shapes (`reference/clickup-api.md`) and
//! answers every endpoint clickup-members uses the way ClickUp does: an invitation becomes a
//! pending member with a new id, a removed member leaves every group, guests' shares follow
//! the share endpoints. It checks the token, sends rate-limit headers on every answer and a 429
//! (`APP_002`) beyond a budget per window, records every request, and injects faults on chosen
//! requests: 5xx, 429, timeouts, dropped connections, malformed JSON, `TEAM_110`, `OAUTH_025`,
//! `OAUTH_192`, and writes that are applied but answered with 500.
#![allow(dead_code, unreachable_pub)]

pub mod contract;
pub mod identity;
pub mod many;

use std::sync::{Arc, Mutex, MutexGuard, Once};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// What to do to a matching request instead of (or besides) answering it normally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this 5xx status, without applying the request.
    Status(u16),
    /// Answer 429 `APP_002`, whatever the budget.
    RateLimited,
    /// Apply the request, then answer too late for the client.
    Timeout,
    /// Close the connection without an answer; the request is not applied.
    Drop,
    /// Apply the request, then answer 200 with a body that is not JSON.
    Malformed,
    /// 403 `TEAM_110`: the Workspace is not on the Enterprise plan.
    Team110,
    /// 401 `OAUTH_025`: the token is invalid.
    Oauth025,
    /// 401 `OAUTH_192`: the Workspace is not authorized.
    Oauth192,
    /// Apply the request, then answer 500.
    AppliedThen500,
    /// Refuse with this status, `ECODE` and `err`, without applying the request.
    Refuse(u16, &'static str, &'static str),
    /// Apply the request, then answer with this status, `ECODE` and `err`.
    AppliedThenRefused(u16, &'static str, &'static str),
}

/// Where rate-limit windows begin, when the reset is told in whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Windows {
    /// Back to back, `offset` past a round time: the end falls that far into a second.
    Fixed { offset: Duration },
    /// A window opens at the first request after the last one closed.
    FromFirstRequest,
}

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    /// The path below `/api/v2`, with the query.
    pub path: String,
    pub status: u16,
    pub body: Option<Value>,
    pub authorization: Option<String>,
    pub user_agent: Option<String>,
    /// When the request arrived.
    pub at: std::time::Instant,
    /// The same, in milliseconds since the Unix epoch (the rate-limit windows are aligned on it).
    pub epoch_ms: u64,
    /// This request opened a new rate-limit window.
    pub opens_window: bool,
}

impl Logged {
    pub fn is_write(&self) -> bool {
        self.method != "GET"
    }

    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

struct Rule {
    method: String,
    path_prefix: String,
    /// Only requests whose body has this `email`.
    email: Option<String>,
    fault: Fault,
    remaining: usize,
}

struct State {
    token: String,
    team: Value,
    other_teams: Vec<Value>,
    custom_roles: Vec<Value>,
    groups: Vec<Value>,
    /// `guest id -> {"tasks": [...], "lists": [...], "folders": [...]}`.
    shares: std::collections::BTreeMap<i64, Value>,
    me: Value,
    next_id: i64,
    next_group: u64,
    enterprise: bool,
    limit: u32,
    window_ms: u64,
    window_index: u64,
    used: u32,
    /// How windows are laid out when the reset is told in whole seconds; `None`: windows on
    /// round times, the reset exact.
    whole_seconds: Option<Windows>,
    window_start_ms: Option<u64>,
    rules: Vec<Rule>,
    log: Vec<Logged>,
    too_many: usize,
    /// Invitations of someone already in the Workspace, refused.
    duplicates: usize,
    write_delay: Duration,
    /// Reads whose path starts with this are answered this much later.
    read_delay: Option<(String, Duration)>,
    timeout_delay: Duration,
    /// Requests that broke ClickUp's official contract (answered 400, and a failed test).
    violations: Vec<String>,
    /// Requests that made the one documented deviation.
    deviations: Vec<String>,
    /// A test that sends broken requests on purpose says so.
    expect_violations: bool,
    /// Whether Edit User without `custom_role_id` keeps a member's custom role.
    keeps_custom_role: bool,
    /// `GET /team/{id}/plan`.
    plan: Value,
    /// `GET /team/{id}/seats` as the snapshot gave it: the seats bought, and how many more
    /// are used than the members listed count (its used seats follow invitations and
    /// removals, and an invitation beyond the seats bought is refused).
    seats: Value,
    /// Seats used beyond the members and guests listed, by the snapshot's count.
    seat_offsets: (i64, i64),
    /// Other fake Workspaces the same token reaches: `GET /team` lists them too.
    peers: Vec<Arc<Mutex<State>>>,
}

/// The fake ClickUp.
pub struct Fake {
    pub server: MockServer,
    state: Arc<Mutex<State>>,
}

/// A test whose traffic broke ClickUp's official contract fails, whatever it asserted.
impl Drop for Fake {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let s = self.lock();
        if !s.expect_violations && !s.violations.is_empty() {
            panic!(
                "{} request(s) broke ClickUp's official contract (tests/contract/clickup-openapi-membership.json):\n{}",
                s.violations.len(),
                s.violations.join("\n")
            );
        }
    }
}

const DROP: &str = "fake ClickUp drops the connection";

fn quiet_drops() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let dropping = info
                .payload()
                .downcast_ref::<&str>()
                .is_some_and(|m| *m == DROP);
            if !dropping {
                default(info);
            }
        }));
    });
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn error(status: u16, code: &str, err: &str) -> (u16, Value) {
    (status, json!({ "err": err, "ECODE": code }))
}

impl Fake {
    /// Starts a fake serving `snapshot` (the SPEC §4 snapshot format) to `token`.
    pub async fn start(snapshot: &Value, token: &str) -> Fake {
        quiet_drops();
        let team = snapshot["team"].clone();
        let max_id = team["members"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["user"]["id"].as_i64())
            .chain(snapshot["me"]["id"].as_i64())
            .max()
            .unwrap_or(0);
        let shares = snapshot["guests"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|g| Some((g["user"]["id"].as_i64()?, g["shared"].clone())))
            .collect();
        let state = State {
            token: token.to_owned(),
            team,
            other_teams: vec![
                json!({"id": "1234567", "name": "Side Project", "color": "#000000", "avatar": null, "members": []}),
            ],
            custom_roles: snapshot["custom_roles"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
            groups: snapshot["groups"].as_array().cloned().unwrap_or_default(),
            shares,
            me: snapshot["me"].clone(),
            next_id: max_id + 1,
            next_group: 1,
            enterprise: true,
            limit: 1000,
            window_ms: 60_000,
            window_index: 0,
            used: 0,
            whole_seconds: None,
            window_start_ms: None,
            rules: Vec::new(),
            log: Vec::new(),
            too_many: 0,
            duplicates: 0,
            write_delay: Duration::ZERO,
            read_delay: None,
            timeout_delay: Duration::from_secs(5),
            violations: Vec::new(),
            deviations: Vec::new(),
            expect_violations: false,
            keeps_custom_role: false,
            plan: snapshot
                .get("plan")
                .cloned()
                .unwrap_or_else(|| json!({"plan_name": "Enterprise", "plan_id": 4})),
            seats: snapshot.get("seats").cloned().unwrap_or(Value::Null),
            seat_offsets: (0, 0),
            peers: Vec::new(),
        };
        let mut state = state;
        if !state.seats.is_null() {
            let (members, guests) = state.seated();
            let n = |v: &Value| v.as_i64().or_else(|| v.as_str()?.parse().ok()).unwrap_or(0);
            state.seat_offsets = (
                n(&state.seats["members"]["filled_members_seats"]) - members,
                n(&state.seats["guests"]["filled_guest_seats"]) - guests,
            );
        }
        let state = Arc::new(Mutex::new(state));
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(Handler(state.clone()))
            .mount(&server)
            .await;
        Fake { server, state }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn api_url(&self) -> String {
        format!("{}/api/v2", self.server.uri())
    }

    /// The id of the Workspace it holds.
    pub fn team_id(&self) -> String {
        self.lock().team_id()
    }

    /// At most `limit` requests per window of `window` (a whole number of seconds).
    pub fn rate_limit(&self, limit: u32, window: Duration) {
        let mut s = self.lock();
        s.limit = limit;
        s.window_ms = window.as_millis() as u64;
        s.used = 0;
    }

    /// At most `limit` requests per window of `window`, laid out as `windows` says, with
    /// `X-RateLimit-Reset` in whole seconds rounded up, as ClickUp sends it.
    pub fn rate_limit_whole_seconds(&self, limit: u32, window: Duration, windows: Windows) {
        let mut s = self.lock();
        s.limit = limit;
        s.window_ms = window.as_millis() as u64;
        s.used = 0;
        s.whole_seconds = Some(windows);
        s.window_start_ms = None;
    }

    /// The next `times` requests of `method` whose path starts with `path_prefix` (below
    /// `/api/v2`, e.g. `team/9006054115/user`) meet `fault`.
    pub fn inject(&self, method: &str, path_prefix: &str, fault: Fault, times: usize) {
        self.lock().rules.push(Rule {
            method: method.to_owned(),
            path_prefix: path_prefix.trim_start_matches('/').to_owned(),
            email: None,
            fault,
            remaining: times,
        });
    }

    /// Like [`Fake::inject`], for requests whose body names `email` only.
    pub fn inject_for(
        &self,
        method: &str,
        path_prefix: &str,
        email: &str,
        fault: Fault,
        times: usize,
    ) {
        self.lock().rules.push(Rule {
            method: method.to_owned(),
            path_prefix: path_prefix.trim_start_matches('/').to_owned(),
            email: Some(email.to_owned()),
            fault,
            remaining: times,
        });
    }

    /// Puts the Workspace on the Enterprise plan, or on Business (where every membership write
    /// is answered `TEAM_110`).
    pub fn set_enterprise(&self, enterprise: bool) {
        let mut s = self.lock();
        s.enterprise = enterprise;
        s.plan = if enterprise {
            json!({"plan_name": "Enterprise", "plan_id": 4})
        } else {
            json!({"plan_name": "Business", "plan_id": 3})
        };
    }

    /// Edit User without `custom_role_id` keeps (true) or clears (false, the default) the
    /// member's custom role: ClickUp does not document which.
    pub fn keep_custom_role_without_id(&self, keep: bool) {
        self.lock().keeps_custom_role = keep;
    }

    /// This test sends requests outside ClickUp's contract on purpose.
    pub fn expect_violations(&self) {
        self.lock().expect_violations = true;
    }

    /// Requests that broke ClickUp's official contract so far.
    pub fn violations(&self) -> Vec<String> {
        self.lock().violations.clone()
    }

    /// Requests that made the documented deviation (Edit User without `custom_role_id`).
    pub fn deviations(&self) -> Vec<String> {
        self.lock().deviations.clone()
    }

    /// Every write is answered after this delay (it is applied first).
    /// Answers the reads whose path (below `/api/v2`) starts with `path_prefix` `delay` late.
    pub fn slow_reads(&self, path_prefix: &str, delay: Duration) {
        self.lock().read_delay = Some((path_prefix.to_owned(), delay));
    }

    pub fn slow_writes(&self, delay: Duration) {
        self.lock().write_delay = delay;
    }

    /// How long an answer is held back for `Fault::Timeout`.
    pub fn timeout_delay(&self, delay: Duration) {
        self.lock().timeout_delay = delay;
    }

    pub fn log(&self) -> Vec<Logged> {
        self.lock().log.clone()
    }

    pub fn clear_log(&self) {
        self.lock().log.clear();
    }

    /// How many invitations named someone already in the Workspace.
    pub fn duplicate_invitations(&self) -> usize {
        self.lock().duplicates
    }

    /// How many 429 answers were sent.
    pub fn too_many(&self) -> usize {
        self.lock().too_many
    }

    /// The Workspace now, in the snapshot format.
    pub fn snapshot(&self) -> Value {
        let s = self.lock();
        let guests: Vec<Value> = s
            .shares
            .iter()
            .map(|(id, shared)| json!({"user": {"id": id}, "shared": shared}))
            .collect();
        json!({
            "team": s.team,
            "custom_roles": s.custom_roles,
            "groups": s.groups,
            "me": s.me,
            "guests": guests
        })
    }

    /// The member entry of `email`, if they are in the Workspace.
    pub fn member(&self, email: &str) -> Option<Value> {
        let s = self.lock();
        s.by_email(email).map(|i| s.members()[i].clone())
    }

    /// How many entries have this email (more than one would be a duplicate invitation).
    pub fn count(&self, email: &str) -> usize {
        let s = self.lock();
        s.members().iter().filter(|m| has_email(m, email)).count()
    }

    /// Changes someone's role behind the tool's back, as an admin would in ClickUp's UI.
    pub fn set_role(&self, email: &str, role: i64) {
        let mut s = self.lock();
        let index = s.by_email(email).expect("member to change");
        let member = &mut s.members_mut()[index];
        member["user"]["role"] = json!(role);
        member["user"]["custom_role"] = Value::Null;
    }

    /// Someone is invited in ClickUp's UI, behind the tool's back; returns their new id.
    pub fn invite_outside(&self, email: &str, role: i64) -> i64 {
        let entry = self.lock().invite(email, role, Value::Null, &Value::Null);
        entry["user"]["id"].as_i64().unwrap_or_default()
    }

    /// Someone is removed in ClickUp's UI, behind the tool's back.
    pub fn remove_outside(&self, email: &str) {
        let mut s = self.lock();
        if let Some(index) = s.by_email(email) {
            let id = s.members()[index]["user"]["id"]
                .as_i64()
                .unwrap_or_default();
            s.remove_person(id);
        }
    }

    /// Someone joins (accepts their invitation).
    pub fn accept(&self, email: &str) {
        let mut s = self.lock();
        let index = s.by_email(email).expect("invitee");
        let member = &mut s.members_mut()[index];
        member["user"]["date_joined"] = json!(now_ms().to_string());
        member["user"]["username"] = json!(email.split('@').next().unwrap_or(email));
        if let Some(by) = member.get_mut("invited_by") {
            by["status"] = json!("active");
        }
    }
}

impl State {
    fn members(&self) -> &Vec<Value> {
        static EMPTY: Vec<Value> = Vec::new();
        self.team["members"].as_array().unwrap_or(&EMPTY)
    }

    fn members_mut(&mut self) -> &mut Vec<Value> {
        if !self.team["members"].is_array() {
            self.team["members"] = json!([]);
        }
        self.team["members"].as_array_mut().expect("array")
    }

    fn team_id(&self) -> String {
        self.team["id"]
            .as_str()
            .map_or_else(|| self.team["id"].to_string(), str::to_owned)
    }

    fn index_of(&self, id: i64) -> Option<usize> {
        self.members()
            .iter()
            .position(|m| m["user"]["id"].as_i64() == Some(id))
    }

    fn by_email(&self, email: &str) -> Option<usize> {
        self.members().iter().position(|m| has_email(m, email))
    }

    /// Adds a pending invitee (a guest's switches from `flags`, off when not given).
    fn invite(&mut self, email: &str, role: i64, custom_role: Value, flags: &Value) -> Value {
        let user = self.new_user(email, role, custom_role);
        let mut entry = json!({"user": user, "invited_by": self.invited_by()});
        if role == 4 {
            for flag in FLAGS {
                entry[flag] = json!(flags[flag].as_bool().unwrap_or(false));
            }
        }
        self.members_mut().push(entry.clone());
        entry
    }

    fn custom_role(&self, id: &Value) -> Result<Value, (u16, Value)> {
        if id.is_null() {
            return Ok(Value::Null);
        }
        self.custom_roles
            .iter()
            .find(|r| r["id"] == *id)
            .map(|r| json!({"id": r["id"], "name": r["name"]}))
            .ok_or_else(|| error(400, "INPUT_005", "Custom role not found"))
    }

    /// The people on member and on guest seats (pending invitations hold one).
    fn seated(&self) -> (i64, i64) {
        let guests = self
            .members()
            .iter()
            .filter(|m| m["user"]["role"] == 4)
            .count();
        let members = self.members().len() - guests;
        (members as i64, guests as i64)
    }

    /// The seats answer: the snapshot's seats bought, used as many as it said plus the
    /// invitations and less the removals since; without one in the snapshot, counted from
    /// the members with free seats to spare.
    fn seats(&self) -> Value {
        let (members, guests) = self.seated();
        if self.seats.is_null() {
            return json!({
                "members": {"filled_members_seats": members, "total_member_seats": members + 5, "empty_member_seats": 5},
                "guests": {"filled_guest_seats": guests, "total_guest_seats": guests + 10, "empty_guest_seats": 10}
            });
        }
        let (used_members, total_members, used_guests, total_guests) = self.seat_counts();
        json!({
            "members": {"filled_members_seats": used_members, "total_member_seats": total_members, "empty_member_seats": total_members - used_members},
            "guests": {"filled_guest_seats": used_guests, "total_guest_seats": total_guests, "empty_guest_seats": total_guests - used_guests}
        })
    }

    /// `(members used, members bought, guests used, guests bought)` from the snapshot's seats.
    fn seat_counts(&self) -> (i64, i64, i64, i64) {
        let (members, guests) = self.seated();
        let n = |v: &Value| v.as_i64().or_else(|| v.as_str()?.parse().ok()).unwrap_or(0);
        let s = &self.seats;
        (
            members + self.seat_offsets.0,
            n(&s["members"]["total_member_seats"]),
            guests + self.seat_offsets.1,
            n(&s["guests"]["total_guest_seats"]),
        )
    }

    /// Whether an invitation of this kind finds a free seat (always, without seats in the
    /// snapshot).
    fn seat_free(&self, guest: bool) -> bool {
        if self.seats.is_null() {
            return true;
        }
        let (used_members, total_members, used_guests, total_guests) = self.seat_counts();
        if guest {
            used_guests < total_guests
        } else {
            used_members < total_members
        }
    }

    fn team_head(&self) -> Value {
        json!({"id": self.team["id"], "name": self.team["name"], "color": self.team["color"], "avatar": self.team["avatar"]})
    }

    fn invited_by(&self) -> Value {
        json!({
            "id": self.me["id"], "username": self.me["username"], "color": "#ff897f",
            "email": self.me["email"], "initials": "OB", "profilePicture": null,
            "banned_date": null, "status": "invited"
        })
    }

    fn new_user(&mut self, email: &str, role: i64, custom_role: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        json!({
            "id": id, "username": null, "email": email, "color": null, "profilePicture": null,
            "initials": email.chars().next().map(|c| c.to_ascii_uppercase().to_string()).unwrap_or_default(),
            "role": role, "role_subtype": if role == 4 { 2 } else { 0 },
            "role_key": match role { 1 => "owner", 2 => "admin", 4 => "guest", _ => "member" },
            "custom_role": custom_role, "last_active": null, "date_joined": null,
            "date_invited": now_ms().to_string()
        })
    }

    fn guest_view(&self, index: usize) -> Value {
        let entry = &self.members()[index];
        let id = entry["user"]["id"].as_i64().unwrap_or(0);
        let mut guest = entry.clone();
        guest["shared"] = self
            .shares
            .get(&id)
            .cloned()
            .unwrap_or_else(|| json!({"tasks": [], "lists": [], "folders": []}));
        guest
    }

    fn group_member(&self, id: i64) -> Option<Value> {
        let index = self.index_of(id)?;
        let user = &self.members()[index]["user"];
        Some(json!({
            "id": id, "username": user["username"], "email": user["email"],
            "color": user["color"], "initials": user["initials"], "profilePicture": null
        }))
    }

    fn remove_person(&mut self, id: i64) {
        self.members_mut()
            .retain(|m| m["user"]["id"].as_i64() != Some(id));
        for group in &mut self.groups {
            if let Some(members) = group["members"].as_array_mut() {
                members.retain(|m| m["id"].as_i64() != Some(id));
            }
        }
        self.shares.remove(&id);
    }

    /// Answers one request (after auth, rate limit and faults).
    fn route(
        &mut self,
        method: &str,
        segments: &[&str],
        query: &str,
        body: &Value,
    ) -> (u16, Value) {
        let team_id = self.team_id();
        let write = method != "GET";
        if write && !self.enterprise {
            return error(403, "TEAM_110", "Team must be on enterprise plan");
        }
        match (method, segments) {
            ("GET", ["user"]) => (200, json!({"user": self.me})),
            ("GET", ["team"]) => {
                let mut teams = vec![self.team.clone()];
                for peer in &self.peers {
                    let peer = peer
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    teams.push(peer.team.clone());
                }
                teams.extend(self.other_teams.iter().cloned());
                (200, json!({"teams": teams}))
            }
            (_, ["team", id, ..]) if *id != team_id => {
                error(401, "OAUTH_192", "Workspace not authorized")
            }
            ("GET", ["team", _, "plan"]) => (200, self.plan.clone()),
            ("GET", ["team", _, "seats"]) => (200, self.seats()),
            ("GET", ["team", _, "customroles"]) => {
                (200, json!({"custom_roles": self.custom_roles}))
            }
            ("GET", ["group"]) => {
                if !query.split('&').any(|p| p == format!("team_id={team_id}")) {
                    return error(401, "OAUTH_192", "Workspace not authorized");
                }
                (200, json!({"groups": self.groups}))
            }
            ("POST", ["team", _, kind @ ("user" | "guest")]) => {
                let Some(email) = body["email"].as_str() else {
                    return error(400, "INPUT_001", "Email required");
                };
                if self.by_email(email).is_some() {
                    self.duplicates += 1;
                    return error(400, "TEAM_014", "User already a member of the team");
                }
                // ClickUp documents no answer for a Workspace without a free seat (reference
                // §16): a 4xx of the fake's own words.
                if !self.seat_free(*kind == "guest") {
                    return error(400, "FAKE_SEATS", "No free seat in this Workspace");
                }
                let custom = match self.custom_role(&body["custom_role_id"]) {
                    Ok(c) => c,
                    Err(e) => return e,
                };
                let role = if *kind == "guest" {
                    4
                } else {
                    match body["admin"].as_bool() {
                        Some(true) => 2,
                        Some(false) => 3,
                        None => return error(400, "INPUT_002", "admin required"),
                    }
                };
                let entry = self.invite(email, role, custom, body);
                let mut team = self.team_head();
                team["members"] = json!([entry]);
                (200, json!({"team": team}))
            }
            ("PUT", ["team", _, "user", uid]) => {
                let Some(index) = uid.parse().ok().and_then(|id| self.index_of(id)) else {
                    return error(404, "TEAM_091", "User not found");
                };
                if self.members()[index]["user"]["role"] == 4 {
                    return error(400, "TEAM_092", "Use the guest endpoints for guests");
                }
                // The contract check has made sure of the body's shape (reference §7.2); the
                // username sent back must be the member's own, or anything for an invitee.
                let admin = body["admin"].as_bool().unwrap_or(false);
                let current = &self.members()[index]["user"]["username"];
                if !current.is_null() && body["username"] != *current {
                    return error(400, "INPUT_002", "username required");
                }
                let custom = match body.get("custom_role_id") {
                    Some(id) => match self.custom_role(id) {
                        Ok(c) => c,
                        Err(e) => return e,
                    },
                    None if self.keeps_custom_role => {
                        self.members()[index]["user"]["custom_role"].clone()
                    }
                    None => Value::Null,
                };
                let entry = &mut self.members_mut()[index];
                entry["user"]["role"] = json!(if admin { 2 } else { 3 });
                entry["user"]["role_key"] = json!(if admin { "admin" } else { "member" });
                entry["user"]["custom_role"] = custom;
                if let Some(name) = body["username"].as_str() {
                    entry["user"]["username"] = json!(name);
                }
                let member = json!({"user": entry["user"], "invited_by": entry["invited_by"], "shared": {"tasks": [], "lists": [], "folders": []}});
                (200, json!({"member": member}))
            }
            ("DELETE", ["team", _, kind @ ("user" | "guest"), uid]) => {
                let Some(id) = uid.parse().ok().filter(|id| self.index_of(*id).is_some()) else {
                    return error(404, "TEAM_091", "User not found");
                };
                let index = self.index_of(id).unwrap_or(0);
                let is_guest = self.members()[index]["user"]["role"] == 4;
                if is_guest != (*kind == "guest") {
                    return error(400, "TEAM_092", "Wrong endpoint for this user");
                }
                self.remove_person(id);
                let mut team = self.team_head();
                team["members"] = json!([]);
                (200, json!({"team": team}))
            }
            (m @ ("GET" | "PUT"), ["team", _, "guest", gid]) => {
                let Some(index) = gid
                    .parse()
                    .ok()
                    .and_then(|id| self.index_of(id))
                    .filter(|i| self.members()[*i]["user"]["role"] == 4)
                else {
                    return error(404, "TEAM_093", "Guest not found");
                };
                if m == "PUT" {
                    let custom = match self.custom_role(&body["custom_role_id"]) {
                        Ok(c) => c,
                        Err(e) => return e,
                    };
                    let entry = &mut self.members_mut()[index];
                    for flag in FLAGS {
                        if let Some(v) = body[flag].as_bool() {
                            entry[flag] = json!(v);
                        }
                    }
                    if !custom.is_null() {
                        entry["user"]["custom_role"] = custom;
                    }
                }
                (200, json!({"guest": self.guest_view(index)}))
            }
            (
                m @ ("POST" | "DELETE"),
                [kind @ ("folder" | "list" | "task"), item, "guest", gid],
            ) => {
                let Some(id) = gid.parse::<i64>().ok().filter(|id| {
                    self.index_of(*id)
                        .is_some_and(|i| self.members()[i]["user"]["role"] == 4)
                }) else {
                    return error(404, "TEAM_093", "Guest not found");
                };
                let shared = self
                    .shares
                    .entry(id)
                    .or_insert_with(|| json!({"tasks": [], "lists": [], "folders": []}));
                let list = shared[format!("{kind}s")].as_array_mut().expect("array");
                list.retain(|i| i["id"] != json!(item));
                if m == "POST" {
                    let Some(level) = body["permission_level"]
                        .as_str()
                        .filter(|l| ["read", "comment", "edit", "create"].contains(l))
                    else {
                        return error(
                            400,
                            "INPUT_003",
                            "permission_level must be read, comment, edit or create",
                        );
                    };
                    list.push(json!({"id": item, "name": format!("{kind} {item}"), "permission_level": level}));
                }
                let index = self.index_of(id).unwrap_or(0);
                (200, json!({"guest": self.guest_view(index)}))
            }
            ("POST", ["team", _, "group"]) => {
                let Some(name) = body["name"].as_str() else {
                    return error(400, "INPUT_001", "name required");
                };
                let Some(ids) = body["members"].as_array() else {
                    return error(400, "INPUT_001", "members required");
                };
                let mut members = Vec::new();
                for id in ids {
                    match id.as_i64().and_then(|id| self.group_member(id)) {
                        Some(m) => members.push(m),
                        None => return error(400, "INPUT_004", "Unknown user"),
                    }
                }
                let id = format!("6f1a2b3c-0000-4000-8000-{:012}", self.next_group);
                self.next_group += 1;
                let group = json!({
                    "id": id, "team_id": team_id, "userid": self.me["id"], "name": name,
                    "handle": body["handle"].as_str().map_or_else(|| name.to_lowercase(), str::to_owned),
                    "date_created": now_ms().to_string(), "initials": name.chars().next().map(|c| c.to_string()),
                    "members": members,
                    "avatar": {"attachment_id": null, "color": null, "source": null, "icon": null}
                });
                self.groups.push(group.clone());
                (200, group)
            }
            ("PUT", ["group", gid]) => {
                let Some(index) = self.groups.iter().position(|g| g["id"] == json!(gid)) else {
                    return error(404, "GROUP_001", "Group not found");
                };
                if let Some(members) = body.get("members") {
                    let (Some(add), Some(rem)) =
                        (members["add"].as_array(), members["rem"].as_array())
                    else {
                        return error(400, "INPUT_001", "members.add and members.rem are required");
                    };
                    let mut added = Vec::new();
                    for id in add {
                        match id.as_i64().and_then(|id| self.group_member(id)) {
                            Some(m) => added.push(m),
                            None => return error(400, "INPUT_004", "Unknown user"),
                        }
                    }
                    let rem: Vec<Value> = rem.clone();
                    let list = self.groups[index]["members"].as_array_mut().expect("array");
                    list.retain(|m| !rem.contains(&m["id"]));
                    for m in added {
                        if !list.iter().any(|x| x["id"] == m["id"]) {
                            list.push(m);
                        }
                    }
                }
                for key in ["name", "handle"] {
                    if let Some(v) = body[key].as_str() {
                        self.groups[index][key] = json!(v);
                    }
                }
                (200, self.groups[index].clone())
            }
            ("DELETE", ["group", gid]) => {
                let before = self.groups.len();
                self.groups.retain(|g| g["id"] != json!(gid));
                if self.groups.len() == before {
                    return error(404, "GROUP_001", "Group not found");
                }
                (200, json!({}))
            }
            _ => error(404, "APP_001", "Route not found"),
        }
    }
}

fn has_email(entry: &Value, email: &str) -> bool {
    entry["user"]["email"]
        .as_str()
        .is_some_and(|e| e.eq_ignore_ascii_case(email))
}

const FLAGS: [&str; 5] = [
    "can_see_time_spent",
    "can_see_time_estimated",
    "can_edit_tags",
    "can_create_views",
    "can_see_points_estimated",
];

struct Handler(Arc<Mutex<State>>);

impl Respond for Handler {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let decision = {
            let mut s = self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            decide(&mut s, request)
        };
        match decision {
            Decision::Drop => std::panic::panic_any(DROP),
            Decision::Answer(template) => template,
        }
    }
}

enum Decision {
    Answer(ResponseTemplate),
    Drop,
}

fn decide(s: &mut State, request: &Request) -> Decision {
    let method = request.method.as_str().to_owned();
    let full = request.url.path();
    let path = full
        .strip_prefix("/api/v2/")
        .unwrap_or(full.trim_start_matches('/'));
    let query = request.url.query().unwrap_or("");
    let shown = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let authorization = header("authorization");
    let user_agent = header("user-agent");
    let verdict = contract::check(
        &method,
        full,
        query,
        header("content-type").as_deref(),
        authorization.as_deref(),
        &request.body,
    );
    if let Some(deviation) = verdict.deviation {
        s.deviations.push(format!("{method} {shown}: {deviation}"));
    }

    // The window of the rate limit.
    let now = now_ms();
    let mut opens_window = false;
    let reset_seconds = if let Some(windows) = s.whole_seconds {
        let start = match (windows, s.window_start_ms) {
            (_, Some(start)) if now < start + s.window_ms => start,
            (Windows::FromFirstRequest, _) => now,
            (Windows::Fixed { offset }, _) => {
                let offset = offset.as_millis() as u64 % s.window_ms;
                now - (now + s.window_ms - offset) % s.window_ms
            }
        };
        if s.window_start_ms != Some(start) {
            s.used = 0;
            s.window_start_ms = Some(start);
            opens_window = true;
        }
        (start + s.window_ms).div_ceil(1000) as f64
    } else {
        let index = now / s.window_ms;
        if index != s.window_index {
            s.window_index = index;
            s.used = 0;
            opens_window = true;
        }
        ((index + 1) * s.window_ms) as f64 / 1000.0
    };
    let limited = s.used >= s.limit;
    if !limited {
        s.used += 1;
    }
    let remaining = s.limit - s.used;
    let limit = s.limit;
    let headers = move |t: ResponseTemplate, remaining: u32| {
        t.insert_header("X-RateLimit-Limit", limit.to_string().as_str())
            .insert_header("X-RateLimit-Remaining", remaining.to_string().as_str())
            .insert_header("X-RateLimit-Reset", format!("{reset_seconds}").as_str())
    };

    let log = |s: &mut State, status: u16| {
        s.log.push(Logged {
            method: method.clone(),
            path: shown.clone(),
            status,
            body: (!request.body.is_empty()).then(|| body.clone()),
            authorization: authorization.clone(),
            user_agent: user_agent.clone(),
            at: std::time::Instant::now(),
            epoch_ms: now_ms(),
            opens_window,
        });
    };

    let answer = |status: u16, body: &Value| ResponseTemplate::new(status).set_body_json(body);

    if limited {
        s.too_many += 1;
        log(s, 429);
        let (status, body) = error(429, "APP_002", "Rate limit reached");
        return Decision::Answer(headers(answer(status, &body), 0));
    }

    // Outside ClickUp's API base there is no route, as ClickUp answers a wrong --api-url:
    // not a request that broke the contract, a request that went elsewhere.
    if !full.starts_with("/api/v2/") {
        log(s, 404);
        let (status, body) = error(404, "APP_001", "Route not found");
        return Decision::Answer(headers(answer(status, &body), remaining));
    }

    if !verdict.violations.is_empty() {
        s.violations.extend(
            verdict
                .violations
                .iter()
                .map(|v| format!("{method} {shown}: {v}")),
        );
        log(s, 400);
        let (status, body) = error(400, "INPUT_000", &verdict.violations.join("; "));
        return Decision::Answer(headers(answer(status, &body), remaining));
    }

    match authorization.as_deref() {
        None => {
            log(s, 400);
            let (status, body) = error(400, "OAUTH_017", "Authorization Header Required");
            return Decision::Answer(headers(answer(status, &body), remaining));
        }
        Some(a) if a != s.token => {
            log(s, 401);
            let (status, body) = error(401, "OAUTH_025", "Token invalid");
            return Decision::Answer(headers(answer(status, &body), remaining));
        }
        Some(_) => {}
    }

    let fault = s
        .rules
        .iter_mut()
        .find(|r| {
            r.remaining > 0
                && r.method == method
                && path.starts_with(&r.path_prefix)
                && r.email
                    .as_ref()
                    .is_none_or(|e| body["email"].as_str() == Some(e.as_str()))
        })
        .map(|r| {
            r.remaining -= 1;
            r.fault
        });
    let segments: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let write_delay = match &s.read_delay {
        _ if method != "GET" => s.write_delay,
        Some((prefix, delay)) if path.starts_with(prefix.as_str()) => *delay,
        _ => Duration::ZERO,
    };
    let fail = |s: &mut State, status: u16, code: &str, err: &str| {
        let (status, body) = error(status, code, err);
        s.log.push(Logged {
            method: method.clone(),
            path: shown.clone(),
            status,
            body: None,
            authorization: authorization.clone(),
            user_agent: user_agent.clone(),
            at: std::time::Instant::now(),
            epoch_ms: now_ms(),
            opens_window,
        });
        Decision::Answer(headers(answer(status, &body), remaining))
    };
    match fault {
        Some(Fault::Status(code)) => return fail(s, code, "GEN_500", "Internal Server Error"),
        Some(Fault::RateLimited) => {
            s.too_many += 1;
            log(s, 429);
            let (status, body) = error(429, "APP_002", "Rate limit reached");
            return Decision::Answer(headers(answer(status, &body), 0));
        }
        Some(Fault::Team110) => return fail(s, 403, "TEAM_110", "Team must be on enterprise plan"),
        Some(Fault::Oauth025) => return fail(s, 401, "OAUTH_025", "Token invalid"),
        Some(Fault::Oauth192) => return fail(s, 401, "OAUTH_192", "Workspace not authorized"),
        Some(Fault::Refuse(status, code, err)) => return fail(s, status, code, err),
        Some(Fault::Drop) => {
            log(s, 0);
            return Decision::Drop;
        }
        _ => {}
    }
    let (status, reply) = s.route(&method, &segments, query, &body);
    let (status, template) = match fault {
        Some(Fault::Timeout) => (status, answer(status, &reply).set_delay(s.timeout_delay)),
        Some(Fault::Malformed) => (
            200,
            ResponseTemplate::new(200)
                .set_body_raw(b"{\"team\": {\"members\": [".to_vec(), "application/json"),
        ),
        Some(Fault::AppliedThenRefused(status, code, err)) => {
            let (status, body) = error(status, code, err);
            (status, answer(status, &body))
        }
        Some(Fault::AppliedThen500) => {
            let (_, body) = error(500, "GEN_500", "Internal Server Error");
            (500, answer(500, &body))
        }
        _ => (status, answer(status, &reply).set_delay(write_delay)),
    };
    log(s, status);
    Decision::Answer(headers(template, remaining))
}
