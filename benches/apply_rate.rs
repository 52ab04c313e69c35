//! How fast apply goes against a rate-limited ClickUp (the fake of the tests), and what a plan
//! costs in requests. `cargo bench --bench apply_rate`; results in BENCHMARKS.md.
//!
//! ClickUp allows 100 to 10,000 requests a minute per token; here the window is scaled to one
//! second with a budget of 100, so that a run takes seconds.

use std::process::Command;
use std::time::Duration;

#[path = "../tests/it/fake/mod.rs"]
mod fake;

#[path = "../examples/generate.rs"]
#[allow(dead_code)]
mod generate;

const TOKEN: &str = "pk_1_BENCHBENCHBENCH";

fn workdir(generated: &generate::Generated) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("members.yaml"), &generated.members_yaml).expect("write");
    dir
}

/// A Workspace with only its owner, the token's user.
fn owner_only() -> serde_json::Value {
    serde_json::json!({
        "team": {"id": "9006054115", "name": "Bench", "color": "#000000", "avatar": null, "members": [
            {"user": {"id": 1, "username": "Owner", "email": "owner@bench.example", "color": null,
                      "profilePicture": null, "initials": "O", "role": 1, "role_subtype": 0,
                      "role_key": "owner", "custom_role": null, "last_active": "1",
                      "date_joined": "1", "date_invited": "1"}}
        ]},
        "me": {"id": 1, "email": "owner@bench.example", "username": "Owner"}
    })
}

/// A file that invites `n` people into [`owner_only`].
fn newcomers_file(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("dir");
    let mut text = String::from(
        "version: 1\nworkspace:\n  id: \"9006054115\"\nmembers:\n  - email: owner@bench.example\n    role: owner\n",
    );
    for i in 0..n {
        text.push_str(&format!("  - email: new{i:05}@bench.example\n"));
    }
    std::fs::write(dir.path().join("members.yaml"), text).expect("write");
    dir
}

fn run(dir: &std::path::Path, api: &str, args: &[&str]) {
    let output = Command::new(env!("CARGO_BIN_EXE_clickup-members"))
        .current_dir(dir)
        .env("CLICKUP_TOKEN", TOKEN)
        .env("NO_COLOR", "1")
        .args(args)
        .args(["--api-url", api])
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        println!(
            "| run | requests | 429 answers | time | windows used in full | requests per full window | share of the allowed rate |"
        );
        println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        for parallelism in ["1", "4"] {
            let mut options = generate::Options::new(3_000);
            options.invites = 10.0;
            options.role_changes = 10.0;
            options.removals = 10.0;
            options.groups = 0;
            let generated = generate::generate(&options);
            let snapshot: serde_json::Value =
                serde_json::from_slice(&generated.snapshot_json).expect("json");
            let fake = fake::Fake::start(&snapshot, TOKEN).await;
            fake.rate_limit(100, Duration::from_secs(1));
            let dir = workdir(&generated);
            let api = fake.api_url();
            let path = dir.path().to_owned();
            let args = vec!["apply", "--auto-approve", "-q", "--parallelism", parallelism];
            tokio::task::spawn_blocking(move || run(&path, &api, &args))
                .await
                .expect("join");
            let log = fake.log();
            let first = log.first().expect("requests");
            let last = log.last().expect("requests");
            // Requests per one-second window; the first and the last windows are partly
            // outside the run, so only those in between count for the steady rate.
            let mut per_window = std::collections::BTreeMap::<u64, usize>::new();
            for entry in &log {
                *per_window.entry(entry.epoch_ms / 1000).or_default() += 1;
            }
            let full: Vec<usize> = per_window
                .range(first.epoch_ms / 1000 + 1..last.epoch_ms / 1000)
                .map(|(_, n)| *n)
                .collect();
            let mean = full.iter().sum::<usize>() as f64 / full.len().max(1) as f64;
            println!(
                "| 3,000 people, {} writes, --parallelism {parallelism} | {} | {} | {:.2} s | {} | {mean:.1} | {:.0} % |",
                log.iter().filter(|l| l.is_write()).count(),
                log.len(),
                fake.too_many(),
                (last.at - first.at).as_secs_f64(),
                full.len(),
                mean
            );
        }

        // ClickUp's shape: a window opens at the first request, and its reset is told in whole
        // seconds, rounded up. A client that waits for the reset loses on average half a
        // second (plus its margin) per window: the bound is window / (window + 0.5 s).
        println!();
        println!(
            "| window | windows | limit | requests | 429 answers | time | windows used | share of the allowed rate | bound left by whole-second resets |"
        );
        println!("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        let windows: Vec<u64> = std::env::var("PACING_WINDOWS")
            .ok()
            .map(|v| v.split(',').filter_map(|w| w.trim().parse().ok()).collect())
            .unwrap_or_else(|| vec![2, 5, 10, 60]);
        let layouts = [
            ("fixed, ending 0.5 s into a second", fake::Windows::Fixed { offset: Duration::from_millis(500) }),
            ("opening at the first request", fake::Windows::FromFirstRequest),
        ];
        for (window, (layout, windows)) in windows
            .iter()
            .flat_map(|w| layouts.iter().map(move |l| (*w, *l)))
        {
            let limit = 100u32;
            let full_windows = 3usize;
            let newcomers = full_windows * limit as usize;
            let fake = fake::Fake::start(&owner_only(), TOKEN).await;
            fake.rate_limit_whole_seconds(limit, Duration::from_secs(window), windows);
            let dir = newcomers_file(newcomers);
            let api = fake.api_url();
            let path = dir.path().to_owned();
            let args = vec!["apply", "--auto-approve", "-q"];
            tokio::task::spawn_blocking(move || run(&path, &api, &args))
                .await
                .expect("join");
            let log = fake.log();
            // From the second window's opening to the last one's: the first is partly
            // before the run and the last partly after it.
            let opens: Vec<usize> = (0..log.len()).filter(|i| log[*i].opens_window).collect();
            let (from, to) = (opens[1], opens[opens.len() - 1]);
            let elapsed = (log[to].at - log[from].at).as_secs_f64();
            let allowed = f64::from(limit) * elapsed / window as f64;
            let share = (to - from) as f64 / allowed;
            // A client that never sends before the announced (rounded-up) reset: fixed
            // windows lose nothing; a window that opens at the first request starts a whole
            // second late every time.
            let bound = match windows {
                fake::Windows::Fixed { .. } => 1.0,
                fake::Windows::FromFirstRequest => window as f64 / (window as f64 + 1.0),
            };
            println!(
                "| {window} s | {layout} | {limit} | {} | {} | {:.1} s | {} | {:.1} % | {:.1} % |",
                log.len(),
                fake.too_many(),
                (log[log.len() - 1].at - log[0].at).as_secs_f64(),
                opens.len(),
                share * 100.0,
                bound * 100.0
            );
        }

        println!();
        println!("| Workspace | requests of one plan | a per-member read design |");
        println!("| ---: | ---: | ---: |");
        for size in [1_000, 10_000, 100_000] {
            let generated = generate::generate(&generate::Options::new(size));
            let snapshot: serde_json::Value =
                serde_json::from_slice(&generated.snapshot_json).expect("json");
            let people = snapshot["team"]["members"].as_array().map_or(0, Vec::len);
            let fake = fake::Fake::start(&snapshot, TOKEN).await;
            fake.rate_limit(1_000_000, Duration::from_secs(60));
            let dir = workdir(&generated);
            let api = fake.api_url();
            let path = dir.path().to_owned();
            tokio::task::spawn_blocking(move || run(&path, &api, &["plan", "-q"]))
                .await
                .expect("join");
            // One GET per person, plus the user and the Workspace list, as a provider that
            // reads each managed member does.
            println!(
                "| {size} people | {} | {} |",
                fake.log().len(),
                people + 2
            );
        }
    });
}
