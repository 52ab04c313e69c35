//! What `serve --mode apply` costs once a Workspace is converged: the requests, wall time and
//! CPU of a cycle, its memory after 10 and after 100 cycles, its CPU while it waits between
//! cycles, and what a `plan` of the same Workspace (the same file and state, read from the same
//! place) takes as a process of its own. Against the fake ClickUp of the tests (over HTTP on
//! loopback) at 1,000 and 10,000 people, and against a snapshot file at 10,000 and 100,000 (the
//! fake, which keeps its Workspace as JSON values, cannot answer for 100,000 people in time).
//! `cargo bench --bench serve`; `SERVE_ROWS=snapshot:100000` picks the rows. Results in
//! BENCHMARKS.md (Linux: it reads /proc).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use time::format_description::well_known::Rfc3339;

#[path = "../tests/it/fake/mod.rs"]
mod fake;

#[path = "../examples/generate.rs"]
#[allow(dead_code)]
mod generate;

const TOKEN: &str = "pk_1_BENCHBENCHBENCH";

/// A running `serve`, and what it prints.
struct Server {
    child: Child,
    address: String,
    log: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(dir: &std::path::Path, source: &[String], interval: &str) -> Server {
        let log = dir.join("serve.log");
        let child = Command::new(env!("CARGO_BIN_EXE_clickup-members"))
            .current_dir(dir)
            .env("CLICKUP_TOKEN", TOKEN)
            .env("NO_COLOR", "1")
            .args(["serve", "--mode", "apply", "--listen", "127.0.0.1:0"])
            .args(["--interval", interval])
            .args(source)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("serve");
        let mut server = Server {
            child,
            address: String::new(),
            log,
        };
        let started = Instant::now();
        while server.address.is_empty() {
            let text = std::fs::read_to_string(&server.log).unwrap_or_default();
            if let Some(rest) = text.split("serving on http://").nth(1) {
                server.address = rest.split_whitespace().next().expect("address").to_owned();
            }
            assert!(started.elapsed() < Duration::from_secs(30), "{text}");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    async fn metrics(&self) -> String {
        reqwest::get(format!("http://{}/metrics", self.address))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text")
    }

    /// Cycles that succeeded, and the seconds they took in all.
    async fn cycles(&self) -> (f64, f64) {
        let text = self.metrics().await;
        let value = |prefix: &str| {
            text.lines()
                .filter(|l| l.starts_with(prefix))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum::<f64>()
        };
        (
            value("clickup_members_reconcile_total{workspace=\"9006054115\",result=\"success\"}"),
            value("clickup_members_reconcile_duration_seconds_sum"),
        )
    }

    /// When each successful cycle so far ended, in seconds, from the lines `serve` logs: read
    /// from its log rather than asked over HTTP, which would cost `serve` CPU of its own.
    fn ended(&self) -> Vec<f64> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .filter(|line| line.contains("cycle success"))
            .filter_map(|line| {
                let stamp = line.split_whitespace().next()?;
                let at = time::OffsetDateTime::parse(stamp, &Rfc3339).ok()?;
                Some(at.unix_timestamp_nanos() as f64 / 1e9)
            })
            .collect()
    }

    /// Waits for `n` more successful cycles (they come every second: `--interval 1s`).
    async fn run(&self, n: usize) {
        let from = self.ended().len();
        while self.ended().len() < from + n {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// CPU seconds used so far (user and system).
    fn cpu(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).expect("stat");
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .expect("fields")
            .split_whitespace()
            .collect();
        let ticks: f64 =
            fields[11].parse::<f64>().expect("utime") + fields[12].parse::<f64>().expect("stime");
        ticks / 100.0
    }

    /// Resident memory in MB.
    fn rss(&self) -> f64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("status");
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
            .expect("VmRSS")
            / 1024.0
    }
}

/// Where `serve` and `plan` read the Workspace.
enum Source {
    /// The fake ClickUp, over HTTP.
    Fake(fake::Fake),
    /// `workspace.snapshot.json` beside the file.
    Snapshot,
}

impl Source {
    fn args(&self) -> Vec<String> {
        match self {
            Source::Fake(fake) => vec!["--api-url".to_owned(), fake.api_url()],
            Source::Snapshot => vec![
                "--snapshot".to_owned(),
                "workspace.snapshot.json".to_owned(),
            ],
        }
    }
}

async fn workspace(size: usize, snapshot: bool) -> (Source, tempfile::TempDir) {
    let mut options = generate::Options::new(size);
    options.group_size = size / 5;
    let generated = generate::generate(&options);
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("members.yaml"), &generated.members_yaml).expect("write");
    if snapshot {
        let path = dir.path().join("workspace.snapshot.json");
        std::fs::write(path, &generated.snapshot_json).expect("write");
        return (Source::Snapshot, dir);
    }
    let snapshot: serde_json::Value =
        serde_json::from_slice(&generated.snapshot_json).expect("json");
    let fake = fake::Fake::start(&snapshot, TOKEN).await;
    fake.rate_limit(1_000_000, Duration::from_secs(60));
    (Source::Fake(fake), dir)
}

/// The rows to measure: `SERVE_ROWS` (`fake:1000,snapshot:100000`), else all four.
fn rows() -> Vec<(bool, usize)> {
    let rows = std::env::var("SERVE_ROWS")
        .unwrap_or_else(|_| "fake:1000,fake:10000,snapshot:10000,snapshot:100000".to_owned());
    rows.split(',')
        .filter_map(|row| {
            let (source, size) = row.trim().split_once(':')?;
            Some((source == "snapshot", size.parse().ok()?))
        })
        .collect()
}

/// CPU seconds used so far by this process's children that ended (user and system).
fn children_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("stat");
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .expect("fields")
        .split_whitespace()
        .collect();
    let ticks: f64 =
        fields[13].parse::<f64>().expect("cutime") + fields[14].parse::<f64>().expect("cstime");
    ticks / 100.0
}

/// The median wall time and the mean CPU, in ms, of 5 runs of `plan` of the Workspace `serve`
/// holds: the same file and state, read from the same place, as a process of its own (its
/// start included).
fn plan_ms(dir: &std::path::Path, source: &[String]) -> (f64, f64) {
    let cpu = children_cpu();
    let mut runs: Vec<f64> = (0..5)
        .map(|_| {
            let started = Instant::now();
            let status = Command::new(env!("CARGO_BIN_EXE_clickup-members"))
                .current_dir(dir)
                .env("CLICKUP_TOKEN", TOKEN)
                .env("NO_COLOR", "1")
                .arg("plan")
                .args(source)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("plan");
            assert!(status.success(), "plan failed");
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    (runs[2], (children_cpu() - cpu) / 5.0 * 1000.0)
}

/// The snapshot file's last change, to tell that a converged cycle wrote nothing.
fn written(dir: &std::path::Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(dir.join("workspace.snapshot.json"))
        .and_then(|m| m.modified())
        .ok()
}

/// One row: the cycles of `serve` (every second), then its CPU while it waits (an interval
/// of an hour), then `plan`.
async fn row(snapshot: bool, size: usize) {
    let (source, dir) = workspace(size, snapshot).await;
    let args = source.args();
    let server = Server::start(dir.path(), &args, "1s");
    // The first cycle applies what the file asks; from then on it holds.
    server.run(1).await;
    server.run(9).await;
    let rss_10 = server.rss();
    if let Source::Fake(fake) = &source {
        fake.clear_log();
    }
    let before = written(dir.path());
    let (count, seconds) = server.cycles().await;
    let (from, cpu) = (server.ended().len(), server.cpu());
    server.run(20).await;
    let (ended, cpu_after) = (server.ended(), server.cpu());
    let (count_after, seconds_after) = server.cycles().await;
    let cycles = (ended.len() - from) as f64;
    // A cycle is the file set read, then the Workspace's run (what the metrics time); the next
    // comes an interval (a second) after it ends.
    let whole = ((ended[ended.len() - 1] - ended[from - 1]) / cycles - 1.0) * 1000.0;
    let requests = match &source {
        Source::Fake(fake) => {
            let writes = fake.log().iter().filter(|l| l.is_write()).count();
            assert_eq!(writes, 0, "a converged Workspace was written to");
            format!("{:.0}", fake.log().len() as f64 / cycles)
        }
        Source::Snapshot => {
            assert_eq!(
                before,
                written(dir.path()),
                "a converged snapshot was written to"
            );
            "none".to_owned()
        }
    };
    let wall = (seconds_after - seconds) / (count_after - count) * 1000.0;
    let cpu_per = (cpu_after - cpu) / cycles * 1000.0;
    server.run(100_usize.saturating_sub(ended.len())).await;
    let rss_100 = server.rss();
    drop(server);
    // Between cycles: 10 s of waiting with an interval of an hour, once the first cycle (of a
    // converged Workspace) has ended.
    let server = Server::start(dir.path(), &args, "1h");
    server.run(1).await;
    let idle = server.cpu();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let idle = (server.cpu() - idle) / 10.0 * 100.0;
    drop(server);
    // The fake answers on this runtime: the plans run beside it.
    let path = dir.path().to_owned();
    let (plan, plan_cpu) = tokio::task::spawn_blocking(move || plan_ms(&path, &args))
        .await
        .expect("plan");
    let from = if snapshot { "snapshot" } else { "fake ClickUp" };
    println!(
        "| {size} people, {from} | {requests} | {whole:.0} ms | {wall:.0} ms | {cpu_per:.0} ms | {rss_10:.1} MB | {rss_100:.1} MB | {idle:.2} % of a core | {plan:.0} ms | {plan_cpu:.0} ms | {:.2} × | {:.2} × |",
        whole / plan,
        cpu_per / plan_cpu
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        println!("| Workspace | requests a cycle | wall time a cycle | … of it the Workspace's run | CPU a cycle | memory after 10 cycles | after 100 | CPU while waiting | `plan` of it: wall time | CPU | cycle / plan: wall time | CPU |");
        println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (snapshot, size) in rows() {
            row(snapshot, size).await;
        }
    });
}
