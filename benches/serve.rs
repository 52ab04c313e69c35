//! What `serve` costs once a Workspace is converged, against the fake ClickUp of the tests: the
//! requests, wall time and CPU of a cycle at 10,000 people, its memory after 10 and after 1,000
//! cycles, and its CPU while it waits between cycles. `cargo bench --bench serve`; results in
//! BENCHMARKS.md (Linux: it reads /proc).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
    fn start(dir: &std::path::Path, api: &str, interval: &str) -> Server {
        let log = dir.join("serve.log");
        let child = Command::new(env!("CARGO_BIN_EXE_clickup-members"))
            .current_dir(dir)
            .env("CLICKUP_TOKEN", TOKEN)
            .env("NO_COLOR", "1")
            .args(["serve", "--mode", "apply", "--listen", "127.0.0.1:0"])
            .args(["--interval", interval, "--api-url", api])
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

    /// Runs `n` more successful cycles back to back (`POST /reconcile`).
    async fn run(&self, n: f64) {
        let client = reqwest::Client::new();
        let (from, _) = self.cycles().await;
        loop {
            let (now, _) = self.cycles().await;
            if now >= from + n {
                return;
            }
            client
                .post(format!("http://{}/reconcile", self.address))
                .send()
                .await
                .expect("reconcile");
            tokio::time::sleep(Duration::from_millis(5)).await;
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

async fn workspace(size: usize) -> (fake::Fake, tempfile::TempDir) {
    let mut options = generate::Options::new(size);
    options.group_size = size / 5;
    let generated = generate::generate(&options);
    let snapshot: serde_json::Value =
        serde_json::from_slice(&generated.snapshot_json).expect("json");
    let fake = fake::Fake::start(&snapshot, TOKEN).await;
    fake.rate_limit(1_000_000, Duration::from_secs(60));
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("members.yaml"), &generated.members_yaml).expect("write");
    (fake, dir)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        println!("| Workspace | requests a cycle | wall time a cycle | CPU a cycle | memory after 10 cycles | after 1,000 | CPU while waiting |");
        println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        for size in [1_000, 10_000] {
            let (fake, dir) = workspace(size).await;
            let server = Server::start(dir.path(), &fake.api_url(), "1h");
            // The first cycle applies what the file asks; from then on it holds.
            server.run(1.0).await;
            server.run(9.0).await;
            let rss_10 = server.rss();
            fake.clear_log();
            let (count, seconds) = server.cycles().await;
            let cpu = server.cpu();
            server.run(20.0).await;
            let (count_after, seconds_after) = server.cycles().await;
            let cycles = count_after - count;
            let requests = fake.log().len() as f64 / cycles;
            let writes = fake.log().iter().filter(|l| l.is_write()).count();
            assert_eq!(writes, 0, "a converged Workspace was written to");
            let wall = (seconds_after - seconds) / cycles * 1000.0;
            let cpu_per = (server.cpu() - cpu) / cycles * 1000.0;
            server.run(1_000.0 - 30.0).await;
            let rss_1000 = server.rss();
            // Between cycles (the interval is an hour): 10 s of waiting, once a cycle a last
            // POST /reconcile may have asked for has ended.
            tokio::time::sleep(Duration::from_secs(2)).await;
            let idle = server.cpu();
            tokio::time::sleep(Duration::from_secs(10)).await;
            let idle = (server.cpu() - idle) / 10.0 * 100.0;
            println!(
                "| {size} people | {requests:.0} | {wall:.1} ms | {cpu_per:.1} ms | {rss_10:.1} MB | {rss_1000:.1} MB | {idle:.2} % of a core |"
            );
        }
    });
}
