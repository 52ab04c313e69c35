//! `serve`, the controller, as a process against the stateful fake ClickUp: observe and apply
//! modes, holding a converged Workspace, a file changed or broken on disk, an outage, a 429
//! storm, a change made by hand, SIGTERM during an apply, the metrics read by a Prometheus
//! parser, and what it refuses at start-up.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::assert::OutputAssertExt;
use predicates::prelude::*;
use serde_json::{Value, json};

use crate::common::{cli, repo, stderr, tool, workdir};
use crate::fake::{Fake, Fault, Logged};

pub(crate) const TOKEN: &str = "pk_4753994_SERVESERVESERVESERVE0001";
pub(crate) const TEAM: &str = "9006054115";

pub(crate) fn user(id: i64, email: &str, role: i64) -> Value {
    json!({"user": {
        "id": id, "username": format!("User {id}"), "email": email, "color": null,
        "profilePicture": null, "initials": "U", "role": role, "custom_role": null,
        "last_active": "1750794096125", "date_joined": "1679495777070", "date_invited": "1679495777070"}})
}

/// The owner and three members.
pub(crate) fn workspace() -> Value {
    json!({
        "team": {"id": TEAM, "name": "Acme Workspace", "color": null, "avatar": null, "members": [
            user(1, "olivia@acme.example", 1),
            user(2, "ada@acme.example", 3),
            user(3, "bo@acme.example", 3),
            user(4, "cy@acme.example", 3),
        ]},
        "me": {"id": 1, "email": "olivia@acme.example"}
    })
}

/// Two changes from [`workspace`]: ada becomes an admin, dee is invited.
pub(crate) const FILE: &str = "version: 1\nworkspace:\n  id: \"9006054115\"\nmembers:\n  - email: olivia@acme.example\n    role: owner\n  - email: ada@acme.example\n    role: admin\n  - email: bo@acme.example\n  - email: cy@acme.example\n  - email: dee@acme.example\n";

/// A running `serve`.
pub(crate) struct Server {
    child: Child,
    /// Where it listens, as a client reaches it.
    pub(crate) address: String,
    log: PathBuf,
}

/// How a [`Server`] is started beyond its arguments.
#[derive(Default)]
pub(crate) struct Launch<'a> {
    /// More environment variables.
    pub(crate) env: &'a [(&'a str, &'a str)],
    /// The most files the process may have open (`ulimit -n`).
    pub(crate) open_files: Option<u32>,
}

impl Server {
    pub(crate) fn start(dir: &Path, fake: &Fake, args: &[&str]) -> Server {
        Server::start_at(dir, &fake.api_url(), args)
    }

    /// [`Server::start`] against the ClickUp at `api_url`.
    pub(crate) fn start_at(dir: &Path, api_url: &str, args: &[&str]) -> Server {
        Server::launch(dir, api_url, args, &Launch::default())
    }

    /// [`Server::start_at`], started as `launch` says. Unless `args` say otherwise it listens
    /// on a free loopback port, cycles every second and lets files settle for 200 ms.
    pub(crate) fn launch(dir: &Path, api_url: &str, args: &[&str], launch: &Launch<'_>) -> Server {
        let log = dir.join("serve.log");
        let binary = assert_cmd::cargo::cargo_bin("clickup-members");
        let mut command = match launch.open_files {
            Some(limit) => {
                let mut shell = Command::new("sh");
                shell.args(["-c", &format!("ulimit -n {limit} && exec \"$0\" \"$@\"")]);
                shell.arg(&binary);
                shell
            }
            None => Command::new(&binary),
        };
        let given = |flag: &str| args.contains(&flag);
        command
            .current_dir(dir)
            .env_remove("CLICKUP_TOKEN_FILE")
            .env_remove("CLICKUP_API_URL")
            .env_remove("CLICKUP_MEMBERS_SERVE_TOKEN")
            .env("CLICKUP_TOKEN", TOKEN)
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .envs(launch.env.iter().copied())
            .arg("serve")
            .args(if given("--listen") {
                &[][..]
            } else {
                &["--listen", "127.0.0.1:0"][..]
            })
            .args(["--api-url", api_url])
            .args(args)
            .args(if given("--interval") {
                &[][..]
            } else {
                &["--interval", "1s"][..]
            })
            .args(if given("--settle") {
                &[][..]
            } else {
                &["--settle", "200ms"][..]
            })
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"));
        let child = command.spawn().expect("spawn serve");
        // Killed and waited for when dropped, also if it never starts.
        let mut server = Server {
            child,
            address: String::new(),
            log,
        };
        let started = Instant::now();
        loop {
            let text = server.log();
            if let Some(rest) = text.split("serving on http://").nth(1) {
                let address = rest.split_whitespace().next().expect("address");
                // An unspecified address is reached on loopback.
                server.address = address
                    .replace("0.0.0.0:", "127.0.0.1:")
                    .replace("[::]:", "[::1]:");
                return server;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "serve did not start:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub(crate) async fn get(&self, path: &str) -> (u16, String) {
        let response = reqwest::get(format!("http://{}{path}", self.address))
            .await
            .expect("GET");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }

    pub(crate) async fn post(&self, path: &str) -> u16 {
        reqwest::Client::new()
            .post(format!("http://{}{path}", self.address))
            .send()
            .await
            .expect("POST")
            .status()
            .as_u16()
    }

    /// The metrics, parsed by an OpenMetrics parser (the format Prometheus scrapes).
    pub(crate) async fn metrics(&self) -> Exposition {
        let (status, text) = self.get("/metrics").await;
        assert_eq!(status, 200);
        openmetrics_parser::openmetrics::parse_openmetrics(&text)
            .unwrap_or_else(|e| panic!("not OpenMetrics ({e:?}):\n{text}"))
    }

    /// The value of the sample `name` with these labels (0 when absent).
    pub(crate) async fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        sample(&self.metrics().await, name, labels)
    }

    /// Waits until `more` cycles have ended with `result`, asking for each at once
    /// (`POST /reconcile`) rather than waiting for the interval.
    pub(crate) async fn cycles(&self, result: &str, more: f64) -> f64 {
        self.wait_cycles(result, more, true).await
    }

    /// Waits until `total` cycles in all have ended with `result`, without asking for any.
    pub(crate) async fn until_total(&self, result: &str, total: f64) {
        let labels = [("workspace", TEAM), ("result", result)];
        let started = Instant::now();
        while self.value("clickup_members_reconcile", &labels).await < total {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no {result} cycle:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until `more` cycles have ended with `result`; with `ask`, asks for each at once.
    pub(crate) async fn wait_cycles(&self, result: &str, more: f64, ask: bool) -> f64 {
        let name = "clickup_members_reconcile";
        let labels = [("workspace", TEAM), ("result", result)];
        let from = self.value(name, &labels).await;
        let started = Instant::now();
        loop {
            let now = self.value(name, &labels).await;
            if now >= from + more {
                return now;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no {result} cycle:\n{}",
                self.log()
            );
            if ask {
                assert_eq!(self.post("/reconcile").await, 202);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A request with `Authorization: Bearer <bearer>` when given: its status and body.
    pub(crate) async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: Option<&str>,
    ) -> (u16, String) {
        let mut request =
            reqwest::Client::new().request(method, format!("http://{}{path}", self.address));
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }

    /// SIGTERM, then the exit code, how long it took, and the log. A process still running
    /// 20 s later is killed and has no exit code.
    pub(crate) fn terminate(mut self) -> (Option<i32>, Duration, String) {
        let started = Instant::now();
        terminate(&self.child);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return (status.code(), started.elapsed(), self.log());
            }
            if started.elapsed() > Duration::from_secs(20) {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return (None, started.elapsed(), self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn terminate(child: &Child) {
    let pid = i32::try_from(child.id()).expect("pid");
    // `kill`, as an operator would.
    let sent = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
}

pub(crate) type Exposition = openmetrics_parser::MetricsExposition<
    openmetrics_parser::OpenMetricsType,
    openmetrics_parser::OpenMetricsValue,
>;

/// The sum of the samples of the family `name` that have these labels (0 when none).
pub(crate) fn sample(metrics: &Exposition, name: &str, labels: &[(&str, &str)]) -> f64 {
    use openmetrics_parser::OpenMetricsValue as V;
    let Some(family) = metrics.families.get(name) else {
        return 0.0;
    };
    family
        .iter_samples()
        .filter(|s| {
            let set = s.get_labelset().expect("labels");
            labels
                .iter()
                .all(|(k, v)| set.get_label_value(k) == Some(*v))
        })
        .map(|s| match &s.value {
            V::Counter(c) => c.value.as_f64(),
            V::Gauge(n) | V::Unknown(n) => n.as_f64(),
            V::Histogram(h) => h.count.unwrap_or(0) as f64,
            _ => 0.0,
        })
        .sum()
}

/// Whether the family `name` has a sample with these labels (at any value).
pub(crate) fn has(metrics: &Exposition, name: &str, labels: &[(&str, &str)]) -> bool {
    metrics.families.get(name).is_some_and(|family| {
        family.iter_samples().any(|s| {
            let set = s.get_labelset().expect("labels");
            labels
                .iter()
                .all(|(k, v)| set.get_label_value(k) == Some(*v))
        })
    })
}

pub(crate) fn writes(fake: &Fake) -> usize {
    fake.log().iter().filter(|l| l.is_write()).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observe_mode_reports_drift_and_never_writes() {
    let fake = Fake::start(&workspace(), TOKEN).await;
    let dir = workdir(FILE);
    let server = Server::start(dir.path(), &fake, &[]);
    server.cycles("success", 2.0).await;
    let drift = |action| [("workspace", TEAM), ("action", action)];
    assert_eq!(
        server
            .value("clickup_members_drift", &drift("invite"))
            .await,
        1.0
    );
    assert_eq!(
        server
            .value("clickup_members_drift", &drift("update"))
            .await,
        1.0
    );
    assert_eq!(
        server
            .value("clickup_members_drift", &drift("remove"))
            .await,
        0.0
    );
    let (status, plan) = server.get("/plan").await;
    assert_eq!(status, 200);
    let plan: Value = serde_json::from_str(&plan).expect("the plan's JSON");
    assert_eq!(plan["format_version"], 1);
    assert_eq!(plan["changes"].as_array().map(Vec::len), Some(2));
    assert_eq!(server.get("/readyz").await.0, 200);
    assert_eq!(server.get("/healthz").await.0, 200);
    assert_eq!(writes(&fake), 0, "observe mode wrote");
    assert!(!dir.path().join("members.state.json").exists());
    // A change made by hand is reported, not reverted.
    fake.set_role("bo@acme.example", 2);
    server.cycles("success", 1.0).await;
    assert_eq!(
        server
            .value("clickup_members_drift", &drift("update"))
            .await,
        2.0
    );
    assert_eq!(writes(&fake), 0);
    let (code, elapsed, log) = server.terminate();
    assert_eq!(code, Some(0), "{log}");
    assert!(elapsed < Duration::from_secs(10));
    assert!(!log.contains(TOKEN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_lines_are_json_objects_for_log_shippers() {
    let fake = Fake::start(&workspace(), TOKEN).await;
    let dir = workdir(FILE);
    let server = Server::start(dir.path(), &fake, &["--log-format", "json"]);
    server.cycles("success", 1.0).await;
    let log = server.log();
    let cycle: Value = log
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .find(|line| line["result"] == "success")
        .unwrap_or_else(|| panic!("no cycle line:\n{log}"));
    assert_eq!(cycle["workspace"], TEAM);
    assert_eq!(cycle["changes"], 2);
    assert_eq!(cycle["level"], "INFO");
    assert!(
        cycle["duration_ms"].is_u64() && cycle["timestamp"].is_string(),
        "{cycle}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_mode_converges_then_holds_with_a_fixed_number_of_reads() {
    let fake = Fake::start(&workspace(), TOKEN).await;
    let dir = workdir(FILE);
    let server = Server::start(dir.path(), &fake, &["--mode", "apply"]);
    server.cycles("success", 1.0).await;
    assert_eq!(
        fake.member("ada@acme.example").expect("ada")["user"]["role"],
        2
    );
    assert_eq!(fake.count("dee@acme.example"), 1);
    server.cycles("success", 1.0).await;
    let written = writes(&fake);
    fake.clear_log();
    // Converged: further cycles read, and always as much, and write nothing.
    let start = server.cycles("success", 0.0).await;
    let end = server.cycles("success", 3.0).await;
    let reads = fake.log().iter().filter(|l| !l.is_write()).count();
    let cycles = end - start;
    assert_eq!(writes(&fake), 0, "a converged Workspace was written to");
    assert!(written >= 2, "{written}");
    let per_cycle = reads as f64 / cycles;
    assert!(
        (per_cycle - per_cycle.round()).abs() < 0.5 && per_cycle <= 4.0,
        "{reads} reads in {cycles} cycles"
    );
    // A change made by hand is reverted.
    fake.set_role("bo@acme.example", 2);
    server.cycles("success", 2.0).await;
    assert_eq!(
        fake.member("bo@acme.example").expect("bo")["user"]["role"],
        3
    );
    let state: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("members.state.json")).expect("state"),
    )
    .expect("json");
    assert_eq!(state["workspace_id"], TEAM);
    assert!(
        !dir.path().join("members.state.json.lock").exists(),
        "the lock is held between cycles"
    );
    let (code, _, log) = server.terminate();
    assert_eq!(code, Some(0), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_changed_on_disk_is_applied_and_a_broken_one_stops_everything() {
    let fake = Fake::start(&workspace(), TOKEN).await;
    let dir = workdir(FILE);
    let server = Server::start(dir.path(), &fake, &["--mode", "apply", "--interval", "1h"]);
    // The first cycle, without asking for more: a cycle asked for now could start after it,
    // reading the file before it breaks.
    server.until_total("success", 1.0).await;
    // Broken: the error with its line, nothing read or written.
    std::fs::write(
        dir.path().join("members.yaml"),
        FILE.replace("  - email: cy@acme.example\n", "  - email: cy@\n"),
    )
    .expect("write");
    fake.clear_log();
    let requests = "clickup_members_api_requests";
    let sent = server.value(requests, &[]).await;
    assert_eq!(server.post("/reconcile").await, 202);
    server.cycles("invalid", 1.0).await;
    // Counted by the controller itself: the fake's log alone could also hold a request another
    // test's controller sent to a port this fake took over.
    assert_eq!(server.value(requests, &[]).await, sent, "{:?}", fake.log());
    assert!(!fake.log().iter().any(Logged::is_write), "{:?}", fake.log());
    assert!(
        server.log().contains("members.yaml:10:12:"),
        "the line is not in the log:\n{}",
        server.log()
    );
    let (status, why) = server.get("/readyz").await;
    assert_eq!(status, 503);
    assert!(why.contains("invalid"), "{why}");
    // Fixed, with a new person: applied by the cycle POST /reconcile starts at once (the
    // interval is an hour).
    std::fs::write(
        dir.path().join("members.yaml"),
        format!("{FILE}  - email: eve@acme.example\n"),
    )
    .expect("write");
    assert_eq!(server.post("/reconcile").await, 202);
    server.cycles("success", 1.0).await;
    assert_eq!(fake.count("eve@acme.example"), 1);
    assert_eq!(server.get("/readyz").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_fails_cycles_without_writing_and_the_first_good_one_converges() {
    let fake = Fake::start(&workspace(), TOKEN).await;
    let dir = workdir(FILE);
    // Every read of the Workspace fails, past the client's retries, for a while.
    // Each failing cycle sends GET /team three times (two retries): two cycles fail.
    fake.inject("GET", "team", Fault::Status(503), 6);
    let server = Server::start(dir.path(), &fake, &["--mode", "apply"]);
    server.wait_cycles("failure", 1.0, false).await;
    let (status, why) = server.get("/readyz").await;
    assert_eq!(status, 503, "{why}");
    assert!(
        why.contains("failure") && why.contains("GET /team"),
        "{why}"
    );
    server.cycles("failure", 1.0).await;
    // The outage ends: converged without a restart.
    server.cycles("success", 1.0).await;
    assert_eq!(fake.count("dee@acme.example"), 1);
    // Nothing was written while ClickUp failed.
    let log = fake.log();
    let last_failure = log.iter().rposition(|l| l.status == 503).expect("503s");
    let first_write = log.iter().position(Logged::is_write).expect("writes");
    assert!(first_write > last_failure, "written during the outage");
    assert_eq!(server.get("/readyz").await.0, 200);
    let metrics = server.metrics().await;
    let unavailable = sample(
        &metrics,
        "clickup_members_api_requests",
        &[("method", "GET"), ("endpoint", "/team"), ("code", "503")],
    );
    assert!(unavailable >= 2.0, "{unavailable}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_is_paced_not_hammered() {
    let fake = Fake::start(&workspace(), TOKEN).await;
    let dir = workdir(FILE);
    fake.rate_limit(3, Duration::from_secs(2));
    let server = Server::start(dir.path(), &fake, &["--mode", "apply"]);
    server.cycles("success", 2.0).await;
    assert_eq!(fake.count("dee@acme.example"), 1);
    assert!(fake.too_many() <= 2, "{} answers 429", fake.too_many());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_an_apply_finishes_the_write_in_flight_and_saves_the_state() {
    let fake = Fake::start(&workspace(), TOKEN).await;
    let many: String = (0..20)
        .map(|i| format!("  - email: new{i:02}@acme.example\n"))
        .collect();
    let dir = workdir(&format!("{FILE}{many}"));
    fake.slow_writes(Duration::from_millis(300));
    let server = Server::start(dir.path(), &fake, &["--mode", "apply"]);
    let started = Instant::now();
    while writes(&fake) < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (code, elapsed, log) = server.terminate();
    assert_eq!(code, Some(0), "{log}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    let invited = (0..20)
        .filter(|i| fake.count(&format!("new{i:02}@acme.example")) == 1)
        .count();
    assert!(invited < 20, "the apply did not stop");
    let state: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("members.state.json")).expect("state"),
    )
    .expect("json");
    let recorded = state["members"]
        .as_object()
        .map_or(0, |m| m.keys().filter(|k| k.starts_with("new")).count());
    assert_eq!(recorded, invited, "the state records every invitation made");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_are_named_and_labelled_as_the_spec_says() {
    let fake = Fake::start(&workspace(), TOKEN).await;
    let dir = workdir(FILE);
    let server = Server::start(dir.path(), &fake, &["--mode", "apply"]);
    server.cycles("success", 2.0).await;
    let metrics = server.metrics().await;
    // Families as OpenMetrics names them; counters are exposed with `_total`, the info with
    // `_info` (checked in the text below).
    let expected: &[(&str, &[&str])] = &[
        ("clickup_members_reconcile", &["result", "workspace"]),
        ("clickup_members_reconcile_duration_seconds", &[]),
        (
            "clickup_members_last_success_timestamp_seconds",
            &["workspace"],
        ),
        ("clickup_members_drift", &["action", "workspace"]),
        ("clickup_members_writes", &["action", "result", "workspace"]),
        (
            "clickup_members_api_requests",
            &["code", "endpoint", "method"],
        ),
        ("clickup_members_ratelimit_remaining", &[]),
        ("clickup_members_people", &["kind", "status", "workspace"]),
        ("clickup_members_seats", &["kind", "state", "workspace"]),
        ("clickup_members_build", &["version"]),
    ];
    for (name, keys) in expected {
        let family = metrics
            .families
            .get(*name)
            .unwrap_or_else(|| panic!("{name} is missing"));
        let mut found: Vec<&str> = family
            .get_label_names()
            .iter()
            .map(String::as_str)
            .filter(|k| *k != "le")
            .collect();
        found.sort_unstable();
        assert_eq!(found, *keys, "{name}'s labels");
    }
    let (_, text) = server.get("/metrics").await;
    for exposed in [
        "clickup_members_reconcile_total{",
        "clickup_members_reconcile_duration_seconds_bucket{",
        "clickup_members_writes_total{",
        "clickup_members_api_requests_total{",
        "clickup_members_build_info{version=",
    ] {
        assert!(text.contains(exposed), "{exposed} is not exposed:\n{text}");
    }
    // Endpoints are route templates, never an id or an email.
    for s in metrics.families["clickup_members_api_requests"].iter_samples() {
        let set = s.get_labelset().expect("labels");
        let endpoint = set.get_label_value("endpoint").expect("endpoint");
        assert!(
            !endpoint.contains(TEAM) && !endpoint.contains('@'),
            "{endpoint}"
        );
    }
    let invite = [
        ("workspace", TEAM),
        ("action", "invite"),
        ("result", "success"),
    ];
    assert_eq!(sample(&metrics, "clickup_members_writes", &invite), 1.0);
    let user = [
        ("method", "POST"),
        ("endpoint", "/team/{team_id}/user"),
        ("code", "200"),
    ];
    assert_eq!(sample(&metrics, "clickup_members_api_requests", &user), 1.0);
    // Nothing a client sends starts anything but a cycle.
    assert_eq!(server.get("/nothing").await.0, 404);
    assert_eq!(server.post("/metrics").await, 405);
    assert_eq!(server.get("/reconcile").await.0, 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_would_fail_every_cycle_is_refused_at_start_up() {
    let fake = Fake::start(&workspace(), TOKEN).await;
    let dir = workdir(FILE);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("address").to_string();
    let run = |args: &[&str], token: Option<&str>| {
        let mut command = cli();
        command
            .current_dir(dir.path())
            .env_remove("CLICKUP_TOKEN_FILE");
        match token {
            Some(token) => command.env("CLICKUP_TOKEN", token),
            None => command.env_remove("CLICKUP_TOKEN"),
        };
        command
            .args(["serve", "--api-url", &fake.api_url()])
            .args(args)
            .assert()
    };
    run(&["--listen", &port], Some(TOKEN))
        .code(1)
        .stderr(predicate::str::contains(format!("cannot listen on {port}")));
    run(&["--listen", "not-an-address"], Some(TOKEN))
        .code(1)
        .stderr(predicate::str::contains("cannot listen on not-an-address"));
    run(&["--listen", "127.0.0.1:0"], None)
        .code(1)
        .stderr(predicate::str::contains("no ClickUp token"));
    std::fs::write(dir.path().join("members.state.json"), "{ not json").expect("write");
    run(&["--listen", "127.0.0.1:0"], Some(TOKEN))
        .code(1)
        .stderr(predicate::str::contains("is damaged"));
    run(&["--interval", "10ms"], Some(TOKEN)).code(1);
    assert_eq!(writes(&fake), 0);
    drop(taken);
}

/// The systemd unit, as installed (its `ExecStart` at the binary), passes `systemd-analyze
/// verify`; a broken one does not.
#[test]
fn the_systemd_unit_passes_systemd_analyze() {
    let Some(analyze) = tool("systemd-analyze") else {
        return;
    };
    let unit = std::fs::read_to_string(repo().join("examples/serve/clickup-members.service"))
        .expect("unit");
    let binary = assert_cmd::cargo::cargo_bin("clickup-members");
    let installed = unit.replace(
        "/usr/local/bin/clickup-members",
        &binary.display().to_string(),
    );
    let verify = |text: &str| {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("clickup-members.service");
        std::fs::write(&path, text).expect("write");
        Command::new(&analyze)
            .args(["verify", "--man=no"])
            .arg(&path)
            .assert()
    };
    verify(&installed).success();
    // A unit whose binary is missing does not pass.
    verify(&unit.replace("/usr/local/bin/", "/nowhere/")).failure();
    // Its command line is one clickup-members takes.
    let mut exec: Vec<&str> = installed
        .split("ExecStart=")
        .nth(1)
        .and_then(|rest| rest.split("\n#").next())
        .expect("ExecStart")
        .split_whitespace()
        .filter(|w| *w != "\\")
        .collect();
    let listen = exec
        .iter()
        .position(|w| *w == "--listen")
        .expect("--listen");
    exec[listen + 1] = "256.0.0.1:1";
    let parsed = Command::new(exec[0])
        .args(&exec[1..])
        .env("CLICKUP_TOKEN", TOKEN)
        .output()
        .expect("run");
    assert!(
        stderr(&parsed).contains("cannot listen on 256.0.0.1:1"),
        "{}",
        stderr(&parsed)
    );
}

/// The Kubernetes manifests pass Kubernetes' own schemas (strict: no unknown field), and hold
/// what a controller needs.
#[test]
fn the_kubernetes_manifests_pass_kubernetes_validate() {
    let Some(validate) = tool("kubernetes-validate") else {
        return;
    };
    let path = repo().join("examples/serve/kubernetes.yaml");
    let text = std::fs::read_to_string(&path).expect("manifests");
    let check = |text: &str| {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("kubernetes.yaml");
        std::fs::write(&path, text).expect("write");
        Command::new(&validate)
            .args(["--strict", "--quiet"])
            .arg(&path)
            .assert()
    };
    check(&text).success();
    // An unknown field does not pass.
    check(&text.replace("containerPort:", "containerPorts:")).failure();
    for needed in [
        "replicas: 1",
        "type: Recreate",
        "path: /healthz",
        "path: /readyz",
        "git-sync",
        "secretName: clickup-members",
        "CLICKUP_TOKEN_FILE",
        "prometheus.io/scrape: \"true\"",
        "- serve",
        // /plan and /reconcile answer only with the secret; the port only to the scraper.
        "name: CLICKUP_MEMBERS_SERVE_TOKEN",
        "kind: NetworkPolicy",
        "- --link=current",
    ] {
        assert!(text.contains(needed), "kubernetes.yaml lacks {needed}");
    }
    let monitor = std::fs::read_to_string(repo().join("examples/serve/servicemonitor.yaml"))
        .expect("service monitor");
    assert!(monitor.contains("app.kubernetes.io/name: clickup-members"));
    assert!(monitor.contains("port: metrics") && text.contains("name: metrics"));
}

/// Every metric the example alerts use is one `serve` exposes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_alerts_use_metrics_serve_exposes() {
    let alerts =
        std::fs::read_to_string(repo().join("examples/serve/alerts.yaml")).expect("alerts");
    let fake = Fake::start(&workspace(), TOKEN).await;
    let dir = workdir(FILE);
    let server = Server::start(dir.path(), &fake, &["--mode", "apply"]);
    server.cycles("success", 1.0).await;
    let (_, text) = server.get("/metrics").await;
    let mut used: Vec<&str> = alerts
        .match_indices("clickup_members_")
        .map(|(at, _)| {
            let rest = &alerts[at..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect();
    used.sort_unstable();
    used.dedup();
    assert!(used.len() >= 4, "{used:?}");
    for name in used {
        assert!(
            text.contains(&format!("\n{name}{{")) || text.contains(&format!("\n{name} ")),
            "{name} is not exposed"
        );
    }
}

/// `serve -f DIR`: each cycle reads the whole folder, then holds every Workspace to its file;
/// a broken file stops the cycle before any Workspace is touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_of_workspaces_is_held_workspace_by_workspace() {
    let read = |id: &str| -> Value {
        serde_json::from_str(
            &std::fs::read_to_string(repo().join(format!("examples/teams/snapshots/{id}.json")))
                .expect("snapshot"),
        )
        .expect("json")
    };
    let fakes =
        crate::fake::many::Fakes::start(&[read("9006054115"), read("9006054116")], TOKEN).await;
    let dir = tempfile::tempdir().expect("dir");
    crate::common::copy_dir(
        &repo().join("examples/teams/clickup"),
        &dir.path().join("clickup"),
    );
    let server = Server::start_at(
        dir.path(),
        &fakes.api_url(),
        &["-f", "clickup", "--mode", "apply"],
    );
    let converged = |plan: &Value| {
        plan["workspaces"]
            .as_array()
            .is_some_and(|w| w.len() == 2 && w.iter().all(|p| p["changes"] == Value::Array(vec![])))
    };
    let started = Instant::now();
    loop {
        assert_eq!(server.post("/reconcile").await, 202);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (code, body) = server.get("/plan").await;
        if code == 200 && converged(&serde_json::from_str(&body).expect("json")) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "not converged:\n{body}\n{}",
            server.log()
        );
    }
    for id in ["9006054115", "9006054116"] {
        assert!(
            server
                .value(
                    "clickup_members_reconcile",
                    &[("workspace", id), ("result", "success")]
                )
                .await
                >= 1.0,
            "{id}"
        );
    }
    // A broken file: the cycle is invalid and nothing is written to either Workspace.
    let writes = || {
        fakes
            .fakes
            .iter()
            .map(|f| f.log().iter().filter(|l| l.is_write()).count())
            .sum::<usize>()
    };
    let before = writes();
    std::fs::write(
        dir.path().join("clickup/eu.yaml"),
        "version: 1\nworkspace: {id: \"9006054116\"}\nmembers: [\n",
    )
    .expect("write");
    let started = Instant::now();
    loop {
        assert_eq!(server.post("/reconcile").await, 202);
        tokio::time::sleep(Duration::from_millis(200)).await;
        if server.get("/readyz").await.0 == 503 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{}",
            server.log()
        );
    }
    assert_eq!(writes(), before);
    assert!(
        server.log().contains("clickup/eu.yaml:3:10"),
        "{}",
        server.log()
    );
}

/// Every counter exists from the start at zero for the label sets `serve` knows, so that
/// `increase()` and `rate()` see the first failure: before the first cycle has ended, each
/// result of `reconcile_total` for the file's Workspace, and in observe mode every write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_counter_is_exported_at_zero_from_the_start() {
    use wiremock::{Mock, ResponseTemplate, matchers};
    let fake = Fake::start(&workspace(), TOKEN).await;
    // The first cycle's first read is answered late: the metrics are read before it ends.
    Mock::given(matchers::method("GET"))
        .and(matchers::path("/api/v2/user"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"user": {"id": 1, "email": "olivia@acme.example"}}))
                .set_delay(Duration::from_secs(8)),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&fake.server)
        .await;
    let dir = workdir(FILE);
    let server = Server::start(dir.path(), &fake, &["--interval", "1h"]);
    let started = Instant::now();
    let metrics = loop {
        let metrics = server.metrics().await;
        if has(
            &metrics,
            "clickup_members_reconcile",
            &[("workspace", TEAM)],
        ) {
            break metrics;
        }
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "no reconcile_total for {TEAM} before the first cycle ended:\n{}",
            server.get("/metrics").await.1
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for result in ["success", "failure", "refused", "invalid"] {
        let labels = [("workspace", TEAM), ("result", result)];
        assert!(
            has(&metrics, "clickup_members_reconcile", &labels),
            "reconcile_total{{result={result}}} is missing"
        );
        assert_eq!(sample(&metrics, "clickup_members_reconcile", &labels), 0.0);
    }
    for action in ["invite", "update", "remove", "replace", "create", "delete"] {
        for result in ["success", "failure"] {
            let labels = [("workspace", TEAM), ("action", action), ("result", result)];
            assert!(
                has(&metrics, "clickup_members_writes", &labels),
                "writes_total{{action={action},result={result}}} is missing in observe mode"
            );
        }
    }
}

/// A failed or invalid cycle is a warning or an error in the log, and says when the next try
/// comes; it does not tell anyone to run it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_and_invalid_cycles_are_warnings_that_say_when_the_next_try_comes() {
    let fake = Fake::start(&workspace(), TOKEN).await;
    // One cycle's reads of the Workspace fail, past the client's retries.
    fake.inject("GET", "team", Fault::Status(503), 3);
    let dir = workdir(FILE);
    let server = Server::start(dir.path(), &fake, &["--log-format", "json"]);
    server.wait_cycles("failure", 1.0, false).await;
    std::fs::write(
        dir.path().join("members.yaml"),
        FILE.replace("  - email: cy@acme.example\n", "  - email: cy@\n"),
    )
    .expect("write");
    server.wait_cycles("invalid", 1.0, false).await;
    let log = server.log();
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    for (result, level) in [("failure", "WARN"), ("invalid", "ERROR")] {
        let line = lines
            .iter()
            .find(|l| l["result"] == result)
            .unwrap_or_else(|| panic!("no {result} cycle:\n{log}"));
        assert_eq!(line["level"], level, "{line}");
        let message = line["message"].as_str().expect("message");
        assert!(message.contains("next try in 1s"), "{message}");
        assert!(!message.contains("run again later"), "{message}");
    }
    assert!(!log.contains("run again later"), "{log}");
}

/// The systemd unit's install lines, run as written (in a scratch root), make every folder
/// they write into.
#[test]
fn the_systemd_unit_s_install_lines_make_their_folders() {
    let unit = std::fs::read_to_string(repo().join("examples/serve/clickup-members.service"))
        .expect("unit");
    let root = tempfile::tempdir().expect("root");
    let base = root.path().display().to_string();
    // Where the lines run: beside the unit and the binary they install.
    let here = tempfile::tempdir().expect("dir");
    std::fs::write(here.path().join("clickup-members.service"), &unit).expect("write");
    std::fs::write(here.path().join("clickup-members"), "#!/bin/sh\n").expect("write");
    let lines: Vec<String> = unit
        .lines()
        .filter_map(|l| l.strip_prefix("#   "))
        .map(str::trim)
        .filter(|l| l.starts_with("install ") || l.starts_with("mkdir "))
        .map(|l| {
            l.replace(" /etc/", &format!(" {base}/etc/"))
                .replace(" /var/lib/", &format!(" {base}/var/lib/"))
                .replace(" /usr/local/", &format!(" {base}/usr/local/"))
                .replace("$EDITOR", "true")
        })
        .collect();
    assert!(lines.len() >= 2, "{unit}");
    let script = format!("set -eu\n{}\n", lines.join("\n"));
    Command::new("sh")
        .args(["-c", &script])
        .current_dir(here.path())
        .assert()
        .success();
    for installed in [
        "etc/clickup-members/token",
        "etc/systemd/system/clickup-members.service",
        "usr/local/bin/clickup-members",
    ] {
        assert!(root.path().join(installed).is_file(), "{installed}");
    }
}
