//! Helpers shared by the command-line tests.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use assert_cmd::assert::{Assert, OutputAssertExt};

/// Variables of the machine the tests run on that would change what the tool or the CI
/// script does: the token, the API, and those of a CI job (the tests may run in one).
pub const OUTSIDE_ENV: &[&str] = &[
    "CLICKUP_TOKEN",
    "CLICKUP_TOKEN_FILE",
    "CLICKUP_API_URL",
    "RUST_LOG",
    "GITHUB_ACTIONS",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_PATH",
    "GITHUB_SHA",
    "GITHUB_RUN_ID",
    "GITHUB_TOKEN",
    "GITHUB_REPOSITORY",
    "GITHUB_API_URL",
    "GITLAB_CI",
    "GITLAB_API_TOKEN",
    "CI_COMMIT_SHA",
    "CI_PIPELINE_ID",
];

/// The binary under test, with a clean environment: no colour, no token, no API override, no
/// CI job around it.
pub fn cli() -> Command {
    let mut cmd = Command::cargo_bin("clickup-members").expect("binary built");
    for name in OUTSIDE_ENV {
        cmd.env_remove(name);
    }
    cmd.env("NO_COLOR", "1")
        .timeout(std::time::Duration::from_secs(60));
    cmd
}

/// The folder of the binary under test, to put first on a script's `PATH`.
pub fn bin_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_clickup-members"))
        .parent()
        .expect("bin dir")
        .to_owned()
}

/// An outside tool the tests check the project against (installed by `.ci/tools`, which
/// `.ci/test` runs), from `target/ci-tools/bin` or `PATH`. Missing, it fails the test when
/// `CLICKUP_MEMBERS_REQUIRE_TOOLS` is set (as in CI); otherwise the check is skipped, saying so.
pub fn tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::iter::once(repo().join("target/ci-tools/bin"))
        .chain(std::env::split_paths(&path))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("CLICKUP_MEMBERS_REQUIRE_TOOLS").is_none(),
            "{name} is not installed: run .ci/tools (.ci/test does)"
        );
        eprintln!("SKIPPED: {name} is not installed; run .ci/tools (or .ci/test) for this check");
    }
    found
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A temporary copy of `examples/acme`.
pub struct Acme {
    pub dir: tempfile::TempDir,
}

impl Acme {
    pub fn new() -> Acme {
        let dir = tempfile::tempdir().expect("temp dir");
        for name in ["members.yaml", "workspace.snapshot.json"] {
            std::fs::copy(
                repo().join("examples/acme").join(name),
                dir.path().join(name),
            )
            .expect("copy example");
        }
        Acme { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn members(&self) -> PathBuf {
        self.path("members.yaml")
    }

    pub fn snapshot(&self) -> PathBuf {
        self.path("workspace.snapshot.json")
    }

    pub fn state(&self) -> PathBuf {
        self.path("members.state.json")
    }

    /// `clickup-members <args> -f members.yaml --snapshot workspace.snapshot.json`.
    pub fn run(&self, args: &[&str]) -> Command {
        let mut cmd = cli();
        cmd.current_dir(self.dir.path()).args(args).args([
            "-f",
            "members.yaml",
            "--snapshot",
            "workspace.snapshot.json",
        ]);
        cmd
    }

    pub fn edit_members(&self, from: &str, to: &str) {
        edit(&self.members(), from, to);
    }
}

/// A fresh folder holding `members.yaml` with `text`.
pub fn workdir(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("members.yaml"), text).expect("write");
    dir
}

/// Copies the folder `from` into `to`, subfolders included.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

pub fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).expect("write");
}

/// A run of the CLI whose outputs a test reads: the `Output` itself, or the `Assert` made of
/// it once its exit code is checked (`stdout(&cli().arg("x").assert().success())`).
pub trait Ran {
    fn output(&self) -> &Output;
}

impl Ran for Output {
    fn output(&self) -> &Output {
        self
    }
}

impl Ran for Assert {
    fn output(&self) -> &Output {
        self.get_output()
    }
}

pub fn stdout(ran: &impl Ran) -> String {
    String::from_utf8_lossy(&ran.output().stdout).into_owned()
}

pub fn stderr(ran: &impl Ran) -> String {
    String::from_utf8_lossy(&ran.output().stderr).into_owned()
}

/// Runs the CLI in `dir` against the ClickUp API at `api_url` with `token` in the environment,
/// off the async runtime (which serves the fake).
pub async fn run_against<I, S>(dir: &Path, api_url: &str, token: &str, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = cli();
    cmd.current_dir(dir)
        .env("CLICKUP_TOKEN", token)
        .args(args)
        .args(["--api-url", api_url]);
    tokio::task::spawn_blocking(move || cmd.output().expect("run"))
        .await
        .expect("join")
}

/// Runs the command (or takes the `Output` of one run already), asserts that it failed with
/// exit 1 (showing its code, stdout and stderr when not), and gives its standard error.
#[track_caller]
pub fn fails(run: impl OutputAssertExt) -> String {
    stderr(&run.assert().code(1))
}

/// Compares `actual` with `tests/golden/<name>`; `UPDATE_GOLDEN=1` rewrites the file instead.
pub fn assert_golden(name: &str, actual: &str) {
    let path = repo().join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    });
    if expected != actual {
        let diff = similar::TextDiff::from_lines(&expected, actual)
            .unified_diff()
            .header("golden", "actual")
            .to_string();
        panic!(
            "{} differs from the output (UPDATE_GOLDEN=1 to accept):\n{diff}",
            path.display()
        );
    }
}

/// The `clickup-members …` commands of a shell script, without comments, redirections and pipes.
pub fn commands(script: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for line in script.lines() {
        // A comment starts at a `#` that begins a word.
        let line = line.find(" #").map_or(line, |at| &line[..at]).trim_start();
        if line.starts_with('#') {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("clickup-members ") {
            let before = rest[..at].trim_end();
            let after = &rest[at + "clickup-members ".len()..];
            rest = after;
            let starts_command = before.is_empty()
                || ["then", ";", "&&", "||", "(", "do"]
                    .iter()
                    .any(|s| before.ends_with(s));
            if !starts_command {
                continue;
            }
            let end = after.find(['>', '|', ';', '&', ')']).unwrap_or(after.len());
            let args: Vec<String> = after[..end].split_whitespace().map(str::to_owned).collect();
            if !args.is_empty() {
                found.push(args);
            }
        }
    }
    found
}
