//! What `sync --write` costs at 50,000 people in 5 groups, read from the identity providers'
//! fakes of the tests (Okta, Entra ID's Graph, Google's Directory; and from a csv export): the
//! pages and requests the fake served, the command's wall time, CPU and peak memory, and when
//! the fragment was on disk; then what re-planning the Workspace with that fragment costs
//! against the same people in one hand-written file. `cargo bench --bench sync`; results in
//! BENCHMARKS.md. Needs GNU time (/usr/bin/time) for the peak memory of each run.
//!
//! `SYNC_PEOPLE=N` (50,000 unless told) and `SYNC_RUNS=N` (5) change the size and the runs;
//! `SYNC_SOURCES=okta,entra,google,csv` picks the sources.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};

#[path = "../tests/it/fake/mod.rs"]
mod fake;

use fake::identity::{GoogleFake, GoogleMember, GraphFake, GraphUser, OktaFake, OktaUser, RsaKey};

const WORKSPACE: &str = "9006054115";
const OWNER: &str = "owner@corp.example";
const GROUPS: usize = 5;
const OKTA_TOKEN: &str = "00okta-BENCH-ssws-token";
const TENANT: &str = "00000000-0000-0000-0000-0000000000aa";
const ENTRA_CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const ENTRA_SECRET: &str = "entra~BENCH~secret";
const SUBJECT: &str = "admin@corp.example";
const SERVICE_ACCOUNT: &str = "sync@bench-project.iam.gserviceaccount.com";

/// Variables of the machine that would change what the command does.
const OUTSIDE_ENV: &[&str] = &[
    "CLICKUP_TOKEN",
    "CLICKUP_TOKEN_FILE",
    "CLICKUP_API_URL",
    "RUST_LOG",
    "OKTA_API_TOKEN",
    "OKTA_CLIENT_ID",
    "OKTA_PRIVATE_KEY_FILE",
    "OKTA_PRIVATE_KEY_ID",
    "ENTRA_CLIENT_ID",
    "ENTRA_CLIENT_SECRET",
    "GOOGLE_APPLICATION_CREDENTIALS",
];

/// Person `i`: `person000000@corp.example`…, in group `i % 5`.
fn email(i: usize) -> String {
    format!("person{i:06}@corp.example")
}

/// What the rule of group `g` makes of its people: the Engineering group, the Design group,
/// the custom role Project Lead, plain members, guests.
fn rule_options(g: usize) -> &'static str {
    match g {
        0 => ", groups: [Engineering]",
        1 => ", groups: [Design]",
        2 => ", role: \"Project Lead\"",
        3 => "",
        _ => ", as: guest",
    }
}

/// A source the people are read from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Okta,
    Entra,
    Google,
    Csv,
}

impl Kind {
    fn key(self) -> &'static str {
        match self {
            Kind::Okta => "okta",
            Kind::Entra => "entra",
            Kind::Google => "google",
            Kind::Csv => "csv",
        }
    }

    /// The page size the command asks for, the provider's largest.
    fn page_size(self) -> &'static str {
        match self {
            Kind::Okta | Kind::Google => "200",
            Kind::Entra => "999",
            Kind::Csv => "—",
        }
    }

    /// Group `g`'s name in this source.
    fn group(self, g: usize) -> String {
        match self {
            Kind::Okta => format!("00gbenchgroup000000{g}"),
            Kind::Entra => format!("6f1c0000-0000-4000-8000-00000000000{g}"),
            Kind::Google => format!("team{g}@corp.example"),
            Kind::Csv => format!("team{g}"),
        }
    }
}

/// A started fake, for its counts.
enum Fake {
    Okta(OktaFake),
    Entra(GraphFake),
    Google(GoogleFake),
    None,
}

impl Fake {
    /// Every request served so far, and the pages answered 200.
    fn served(&self) -> (Vec<fake::identity::Logged>, usize) {
        match self {
            Fake::Okta(f) => (f.log(), f.pages_served()),
            Fake::Entra(f) => (f.log(), f.pages_served()),
            Fake::Google(f) => (f.log(), f.pages_served()),
            Fake::None => (Vec::new(), 0),
        }
    }
}

/// A source filled with `people` people in 5 groups, the Workspace file's `sources:` for it,
/// and the variables its credentials take.
async fn source(
    kind: Kind,
    people: usize,
    dir: &Path,
) -> (Fake, String, Vec<(&'static str, String)>) {
    let in_group = |g: usize| (0..people).filter(move |i| i % GROUPS == g).map(email);
    match kind {
        Kind::Okta => {
            let okta = OktaFake::start().await;
            okta.api_token(OKTA_TOKEN);
            okta.set_max_limit(200);
            okta.rate_limit(1_000_000, 60);
            for g in 0..GROUPS {
                okta.add_group(
                    &kind.group(g),
                    in_group(g).map(|e| OktaUser::new(&e)).collect(),
                );
            }
            let sources = format!("  okta:\n    url: {}\n", okta.url());
            let env = vec![("OKTA_API_TOKEN", OKTA_TOKEN.to_owned())];
            (Fake::Okta(okta), sources, env)
        }
        Kind::Entra => {
            let entra = GraphFake::start().await;
            entra.register_app(TENANT, ENTRA_CLIENT, ENTRA_SECRET);
            for g in 0..GROUPS {
                entra.add_group(
                    &kind.group(g),
                    in_group(g).map(|e| GraphUser::new(&e)).collect(),
                );
            }
            let sources = format!(
                "  entra:\n    tenant: \"{TENANT}\"\n    login_url: {}\n    graph_url: {}\n",
                entra.login_url(),
                entra.graph_url()
            );
            let env = vec![
                ("ENTRA_CLIENT_ID", ENTRA_CLIENT.to_owned()),
                ("ENTRA_CLIENT_SECRET", ENTRA_SECRET.to_owned()),
            ];
            (Fake::Entra(entra), sources, env)
        }
        Kind::Google => {
            let google = GoogleFake::start().await;
            google.add_user(SUBJECT, true);
            for g in 0..GROUPS {
                google.add_group(
                    &kind.group(g),
                    in_group(g).map(|e| GoogleMember::user(&e)).collect(),
                );
            }
            let key = google.write_service_account(dir, SERVICE_ACCOUNT, &RsaKey::shared(0));
            let sources = format!(
                "  google:\n    subject: {SUBJECT}\n    api_url: {}\n",
                google.api_url()
            );
            let env = vec![("GOOGLE_APPLICATION_CREDENTIALS", key.display().to_string())];
            (Fake::Google(google), sources, env)
        }
        Kind::Csv => {
            let mut text = String::from("email,group\n");
            for i in 0..people {
                let _ = writeln!(text, "{},{}", email(i), kind.group(i % GROUPS));
            }
            std::fs::create_dir_all(dir.join("hr")).expect("hr");
            std::fs::write(dir.join("hr/people.csv"), text).expect("csv");
            (
                Fake::None,
                "  csv:\n    path: hr/people.csv\n".to_owned(),
                Vec::new(),
            )
        }
    }
}

/// The Workspace file: the owner by hand, the two user groups, and one rule a group.
fn workspace_file(kind: Kind, sources: &str) -> String {
    let mut rules = String::new();
    for g in 0..GROUPS {
        let _ = writeln!(
            rules,
            "    - {{from: {}, group: \"{}\"{}}}",
            kind.key(),
            kind.group(g),
            rule_options(g)
        );
    }
    format!(
        "version: 1
workspace:
  id: \"{WORKSPACE}\"
  name: Corp
include:
  - synced/*.yaml
sources:
{sources}sync:
  into: synced/people.yaml
  max_changes: 1000000
  rules:
{rules}
policy:
  mode: authoritative
  max_removals: 100

members:
  - email: {OWNER}
    role: owner

groups:
  - name: Design
    handle: design
  - name: Engineering
    handle: eng
"
    )
}

/// The Workspace as ClickUp would hold it once the synced fragment is applied (the SPEC §4
/// snapshot, in the shape of `examples/generate.rs`): the owner, the people of groups 0 to 3
/// as members (group 2 with the custom role Project Lead), those of group 4 as guests, and the
/// user groups Engineering and Design.
fn snapshot(people: usize) -> Vec<u8> {
    let user = |id: usize, email: &str, role: u8, custom: Value| {
        json!({
            "id": id, "username": format!("User {id}"), "email": email, "color": "#7b68ee",
            "profilePicture": null, "initials": "U", "role": role,
            "role_subtype": if role == 4 { 2 } else { 0 },
            "role_key": match role { 1 => "owner", 2 => "admin", 4 => "guest", _ => "member" },
            "custom_role": custom, "last_active": "1750794096125",
            "date_joined": "1679496177299", "date_invited": "1679495796796"
        })
    };
    let mut members = vec![json!({"user": user(1, OWNER, 1, Value::Null)})];
    let mut engineering = Vec::new();
    let mut design = Vec::new();
    for i in 0..people {
        let id = 1000 + i;
        let email = email(i);
        let entry = match i % GROUPS {
            2 => {
                json!({"user": user(id, &email, 3, json!({"id": 998877, "name": "Project Lead"}))})
            }
            4 => {
                let mut entry = json!({"user": user(id, &email, 4, Value::Null)});
                for flag in [
                    "can_see_time_spent",
                    "can_see_time_estimated",
                    "can_edit_tags",
                    "can_create_views",
                    "can_see_points_estimated",
                ] {
                    entry[flag] = json!(false);
                }
                entry
            }
            _ => json!({"user": user(id, &email, 3, Value::Null)}),
        };
        members.push(entry);
        let member = json!({"id": id, "username": format!("User {id}"), "email": email,
            "color": "#7b68ee", "initials": "U", "profilePicture": null});
        match i % GROUPS {
            0 => engineering.push(member),
            1 => design.push(member),
            _ => {}
        }
    }
    let group = |n: usize, name: &str, handle: &str, members: Vec<Value>| {
        json!({
            "id": format!("6f1a2b3c-0000-4000-8000-{n:012}"), "team_id": WORKSPACE, "userid": 1,
            "name": name, "handle": handle, "date_created": "1640122639829", "initials": "T",
            "members": members,
            "avatar": {"attachment_id": null, "color": null, "source": null, "icon": null}
        })
    };
    let snapshot = json!({
        "team": {"id": WORKSPACE, "name": "Corp", "color": "#40BC86", "avatar": null, "members": members},
        "custom_roles": [
            {"id": 998877, "team_id": WORKSPACE, "name": "Project Lead", "inherited_role": 3, "date_created": "1651189901020"}
        ],
        "groups": [group(0, "Design", "design", design), group(1, "Engineering", "eng", engineering)],
        "me": {"id": 1, "email": OWNER, "username": "User 1"}
    });
    let mut bytes = serde_json::to_vec_pretty(&snapshot).expect("json");
    bytes.push(b'\n');
    bytes
}

/// One run of the command: wall time, CPU (user + system) and peak memory, from GNU time.
struct Run {
    wall: Duration,
    cpu: Duration,
    peak_mb: f64,
    /// When the run started, on both clocks.
    started: (Instant, SystemTime),
}

/// Runs `clickup-members ARGS` in `dir` under GNU time; panics when it fails.
fn run(dir: &Path, env: &[(&str, String)], args: &[&str]) -> Run {
    let measured = dir.join("time.out");
    let log = dir.join("stderr.log");
    let mut cmd = Command::new("/usr/bin/time");
    cmd.args(["-f", "%M %U %S", "-o"])
        .arg(&measured)
        .arg(env!("CARGO_BIN_EXE_clickup-members"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"));
    for name in OUTSIDE_ENV {
        cmd.env_remove(name);
    }
    for (name, value) in env {
        cmd.env(name, value);
    }
    let started = (Instant::now(), SystemTime::now());
    let status = cmd
        .status()
        .expect("GNU time (/usr/bin/time) runs the command");
    let wall = started.0.elapsed();
    assert!(
        status.success(),
        "clickup-members {}: {status}\n{}",
        args.join(" "),
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let text = std::fs::read_to_string(&measured).expect("GNU time's output");
    let fields: Vec<f64> = text
        .lines()
        .last()
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    assert_eq!(fields.len(), 3, "GNU time wrote {text:?}");
    Run {
        wall,
        cpu: Duration::from_secs_f64(fields[1] + fields[2]),
        peak_mb: fields[0] / 1024.0,
        started,
    }
}

fn median<T: PartialOrd + Copy>(mut values: Vec<T>) -> T {
    values.sort_by(|a, b| a.partial_cmp(b).expect("comparable"));
    values[values.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// Thousands separated by commas.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One sync: the run, and what the fake saw of it.
struct Synced {
    run: Run,
    requests: usize,
    pages: usize,
    /// From the start to the first request, and to the last page's.
    first_request: Option<Duration>,
    last_page: Option<Duration>,
    /// When the fragment was on disk, from the start (a sync that writes it).
    written: Option<Duration>,
}

/// Medians of a source's runs.
struct Row {
    pages: usize,
    requests: usize,
    wall: Duration,
    until_first_request: Option<Duration>,
    reading: Option<Duration>,
    after_last_page: Option<Duration>,
    written: Option<Duration>,
    cpu: Duration,
    peak_mb: f64,
}

impl Row {
    fn of(runs: &[Synced]) -> Row {
        let some = |f: &dyn Fn(&Synced) -> Option<Duration>| {
            let values: Vec<Duration> = runs.iter().filter_map(f).collect();
            (!values.is_empty()).then(|| median(values))
        };
        Row {
            pages: median(runs.iter().map(|r| r.pages).collect()),
            requests: median(runs.iter().map(|r| r.requests).collect()),
            wall: median(runs.iter().map(|r| r.run.wall).collect()),
            until_first_request: some(&|r| r.first_request),
            reading: some(&|r| Some(r.last_page? - r.first_request?)),
            after_last_page: some(&|r| Some(r.run.wall - r.last_page?)),
            written: some(&|r| r.written),
            cpu: median(runs.iter().map(|r| r.run.cpu).collect()),
            peak_mb: median(runs.iter().map(|r| r.run.peak_mb).collect()),
        }
    }
}

/// What a source's runs measured.
struct Measured {
    first: Row,
    again: Row,
    /// The folder of the runs, its fragment written.
    dir: PathBuf,
    /// For Okta, the fake alone: the pages of one group, and the median time a bare client
    /// takes to read them.
    fake_alone: Option<(usize, Duration)>,
}

/// `runs` syncs into a fresh folder (the fragment written whole), then `runs` syncs that find
/// nothing to change.
async fn sync_source(kind: Kind, people: usize, runs: usize, out: &Path) -> Measured {
    let dir = out.join(kind.key());
    std::fs::create_dir_all(&dir).expect("dir");
    let (fake, sources, env) = source(kind, people, &dir).await;
    std::fs::write(dir.join("members.yaml"), workspace_file(kind, &sources)).expect("write");
    let fragment = dir.join("synced/people.yaml");
    let mut rows = Vec::new();
    for first in [true, false] {
        let mut measured = Vec::new();
        for _ in 0..runs {
            if first {
                let _ = std::fs::remove_dir_all(dir.join("synced"));
            }
            let (before, pages_before) = fake.served();
            let path = dir.clone();
            let env = env.clone();
            let run = tokio::task::spawn_blocking(move || run(&path, &env, &["sync", "--write"]))
                .await
                .expect("join");
            let (log, pages) = fake.served();
            let new = &log[before.len()..];
            let since = |at: Instant| at.saturating_duration_since(run.started.0);
            let written = std::fs::metadata(&fragment)
                .and_then(|m| m.modified())
                .expect("the fragment is written");
            measured.push(Synced {
                requests: new.len(),
                pages: pages - pages_before,
                first_request: new.first().map(|l| since(l.at)),
                last_page: new
                    .iter()
                    .rev()
                    .find(|l| l.page.is_some())
                    .map(|l| since(l.at)),
                written: written.duration_since(run.started.1).ok().filter(|_| first),
                run,
            });
        }
        rows.push(Row::of(&measured));
    }
    let text = std::fs::read_to_string(&fragment).expect("the fragment");
    let listed = text
        .lines()
        .filter(|l| l.starts_with("  - email: "))
        .count();
    assert_eq!(listed, people, "the fragment lists {listed} people");
    let mut fake_alone = None;
    if let Fake::Okta(okta) = &fake {
        let mut times = Vec::new();
        let mut pages = 0;
        for _ in 0..runs {
            let (n, time) = okta_alone(okta).await;
            pages = n;
            times.push(time);
        }
        fake_alone = Some((pages, median(times)));
    }
    let again = rows.pop().expect("re-sync");
    let first = rows.pop().expect("first sync");
    Measured {
        first,
        again,
        dir,
        fake_alone,
    }
}

/// The fragment's entries as one hand-written file: the Workspace without `include`, `sources`
/// and `sync`, its members and guests those of the fragment (with their `source:` lists, or
/// without them as a person would write them).
fn hand_written(fragment: &str, with_source: bool) -> String {
    let mut entries = String::new();
    let mut skipping = false;
    for line in fragment.lines().filter(|l| !l.starts_with('#')) {
        if line == "    source:" {
            skipping = !with_source;
        } else if !line.starts_with("      ") {
            skipping = false;
        }
        if !skipping {
            entries.push_str(line);
            entries.push('\n');
        }
    }
    let entries = entries.replacen(
        "members:\n",
        &format!("members:\n  - email: {OWNER}\n    role: owner\n"),
        1,
    );
    format!(
        "version: 1
workspace:
  id: \"{WORKSPACE}\"
  name: Corp

policy:
  mode: authoritative
  max_removals: 100

{entries}
groups:
  - name: Design
    handle: design
  - name: Engineering
    handle: eng
"
    )
}

/// The plan as JSON, to check that both files plan alike.
fn plan_json(dir: &Path, file: &str) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_clickup-members"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CLICKUP_TOKEN")
        .args(["plan", "--format", "json", "-f", file])
        .args(["--snapshot", "workspace.snapshot.json"])
        .output()
        .expect("plan");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut plan: Value = serde_json::from_slice(&output.stdout).expect("plan JSON");
    // What names the file is not the plan.
    if let Some(map) = plan.as_object_mut() {
        map.retain(|k, _| k == "changes" || k == "summary");
    }
    plan
}

/// The Okta fake alone: a bare client reading group 0's pages as the command does (200 a
/// page, following the next link), timed; and the pages read.
async fn okta_alone(okta: &OktaFake) -> (usize, Duration) {
    let client = reqwest::Client::new();
    let mut url = format!(
        "{}/api/v1/groups/{}/users?limit=200",
        okta.url(),
        Kind::Okta.group(0)
    );
    let mut pages = 0;
    let started = Instant::now();
    loop {
        let answer = client
            .get(&url)
            .header("authorization", format!("SSWS {OKTA_TOKEN}"))
            .header("accept", "application/json")
            .send()
            .await
            .expect("a page");
        let next = answer
            .headers()
            .get_all("link")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.contains("rel=\"next\""))
            .and_then(|v| v.split(['<', '>']).nth(1))
            .map(str::to_owned);
        answer.bytes().await.expect("its body");
        pages += 1;
        match next {
            Some(next) => url = next,
            None => return (pages, started.elapsed()),
        }
    }
}

fn main() {
    let people: usize = std::env::var("SYNC_PEOPLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let runs: usize = std::env::var("SYNC_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .max(1);
    let kinds: Vec<Kind> = std::env::var("SYNC_SOURCES")
        .unwrap_or_else(|_| "okta,entra,google,csv".to_owned())
        .split(',')
        .filter_map(|k| {
            [Kind::Okta, Kind::Entra, Kind::Google, Kind::Csv]
                .into_iter()
                .find(|kind| kind.key() == k.trim())
        })
        .collect();
    let work = tempfile::tempdir().expect("dir");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "{} people in {GROUPS} groups, the median of {runs} runs",
        thousands(people)
    );
    println!();
    println!(
        "| source | run | pages (size) | requests | to the first request | reading | after the last page | wall time | fragment on disk at | CPU | peak memory |"
    );
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut synced_dir = None;
    let mut fake_alone = None;
    for kind in kinds {
        let measured = runtime.block_on(sync_source(kind, people, runs, work.path()));
        for (label, row) in [
            ("first sync", &measured.first),
            ("again, no change", &measured.again),
        ] {
            let or_dash = |d: Option<Duration>| d.map_or("—".to_owned(), ms);
            let (pages, requests) = if kind == Kind::Csv {
                ("—".to_owned(), "—".to_owned())
            } else {
                (
                    format!("{} ({})", row.pages, kind.page_size()),
                    row.requests.to_string(),
                )
            };
            println!(
                "| {} | {label} | {pages} | {requests} | {} | {} | {} | {} | {} | {} | {:.0} MB |",
                kind.key(),
                or_dash(row.until_first_request),
                or_dash(row.reading),
                or_dash(row.after_last_page),
                ms(row.wall),
                or_dash(row.written),
                ms(row.cpu),
                row.peak_mb
            );
        }
        fake_alone = fake_alone.or(measured.fake_alone);
        synced_dir = Some(measured.dir);
    }
    if let Some((pages, time)) = fake_alone {
        println!();
        println!(
            "The Okta fake alone: a bare client reads one group's {pages} pages in {} ({:.1} ms a page).",
            ms(time),
            time.as_secs_f64() * 1000.0 / pages as f64
        );
    }
    let Some(dir) = synced_dir else {
        return;
    };

    // Re-planning: the Workspace file with the synced fragment against the same people in one
    // hand-written file, each against the snapshot of the Workspace they describe.
    let fragment = std::fs::read_to_string(dir.join("synced/people.yaml")).expect("fragment");
    std::fs::write(dir.join("workspace.snapshot.json"), snapshot(people)).expect("snapshot");
    std::fs::write(dir.join("hand.yaml"), hand_written(&fragment, true)).expect("hand");
    std::fs::write(dir.join("plain.yaml"), hand_written(&fragment, false)).expect("plain");
    let synced_plan = plan_json(&dir, "members.yaml");
    for file in ["hand.yaml", "plain.yaml"] {
        assert_eq!(
            plan_json(&dir, file),
            synced_plan,
            "{file} plans otherwise than the synced fragment"
        );
    }
    let size = |files: &[&str]| {
        files
            .iter()
            .map(|f| std::fs::metadata(dir.join(f)).map_or(0, |m| m.len()))
            .sum::<u64>() as f64
            / 1e6
    };
    println!();
    println!(
        "Each file plans alike: {} changes against the snapshot of the Workspace they describe ({} people).",
        synced_plan["changes"].as_array().map_or(0, Vec::len),
        thousands(people + 1)
    );
    println!();
    println!(
        "| file | YAML | `validate` | peak memory | `plan --snapshot` | peak memory | plan / validate |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let files: [(&str, &str, &[&str]); 3] = [
        (
            "Workspace file + the synced fragment",
            "members.yaml",
            &["members.yaml", "synced/people.yaml"],
        ),
        (
            "one hand-written file, the same entries",
            "hand.yaml",
            &["hand.yaml"],
        ),
        (
            "one hand-written file, without `source:`",
            "plain.yaml",
            &["plain.yaml"],
        ),
    ];
    // Each run goes through every command in turn, so that a slower spell of a shared machine
    // falls on all of them alike.
    let commands: Vec<Vec<&str>> = files
        .iter()
        .flat_map(|(_, file, _)| {
            [
                vec!["validate", "-q", "-f", file],
                vec!["plan", "-f", file, "--snapshot", "workspace.snapshot.json"],
            ]
        })
        .collect();
    let mut measured: Vec<Vec<Run>> = commands.iter().map(|_| Vec::new()).collect();
    for _ in 0..runs {
        for (command, runs) in commands.iter().zip(&mut measured) {
            runs.push(run(&dir, &[], command));
        }
    }
    let medians: Vec<(Duration, f64)> = measured
        .iter()
        .map(|all| {
            (
                median(all.iter().map(|r| r.wall).collect()),
                median(all.iter().map(|r| r.peak_mb).collect()),
            )
        })
        .collect();
    for ((label, _, parts), pair) in files.iter().zip(medians.chunks(2)) {
        let [(validate, validate_mb), (plan, plan_mb)] = [pair[0], pair[1]];
        println!(
            "| {label} | {:.1} MB | {} | {validate_mb:.0} MB | {} | {plan_mb:.0} MB | {:.2} × |",
            size(parts),
            ms(validate),
            ms(plan),
            plan.as_secs_f64() / validate.as_secs_f64()
        );
    }
}
