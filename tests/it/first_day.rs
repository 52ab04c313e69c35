//! What a team meets on its first day: the README's commands run as written (its quickstart
//! from an empty folder against a fake ClickUp, its offline trial, its sample output), every
//! command line it shows parses, completions loaded into real shells complete subcommands and
//! flags, a manual page per command, the hint `plan --out` prints can be pasted, and output that
//! closes early never turns work not done into success.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::assert::OutputAssertExt;
use predicates::prelude::*;

use crate::common::{bin_dir, cli, repo, stderr, stdout};

const TOKEN: &str = "pk_4753994_FIRSTDAYFIRSTDAYFIRSTDAY";

fn readme() -> String {
    std::fs::read_to_string(repo().join("README.md")).expect("README")
}

/// The code block that follows `<!-- readme-test: NAME -->` in the README.
fn block(name: &str) -> String {
    let text = readme();
    let marker = format!("<!-- readme-test: {name} -->");
    let after = &text[text.find(&marker).unwrap_or_else(|| panic!("no {marker}"))..];
    let start = after.find("```").expect("a code block") + 3;
    let body = &after[start..];
    let body = &body[body.find('\n').expect("fence line") + 1..];
    body[..body.find("```").expect("closing fence")].to_owned()
}

/// Every shell code block of the README.
fn shell_blocks() -> Vec<String> {
    let text = readme();
    let mut blocks = Vec::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("```sh\n") {
        let body = &rest[at + 6..];
        let end = body.find("```").expect("closing fence");
        blocks.push(body[..end].to_owned());
        rest = &body[end + 3..];
    }
    blocks
}

/// `bash -e` over a README block, in `dir`, with the binary under test on `PATH`, and the CI
/// script's commands and git told who commits.
fn bash(dir: &Path, script: &str, env: &[(&str, &str)]) -> Output {
    let path = std::env::join_paths(std::iter::once(bin_dir()).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("PATH");
    let mut cmd = Command::new("bash");
    cmd.current_dir(dir)
        .args(["-e", "-c", script])
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "IT")
        .env("GIT_AUTHOR_EMAIL", "it@acme.example")
        .env("GIT_COMMITTER_NAME", "IT")
        .env("GIT_COMMITTER_EMAIL", "it@acme.example");
    for name in crate::common::OUTSIDE_ENV {
        cmd.env_remove(name);
    }
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd.output().expect("bash")
}

/// Runs the command (or takes the `Output` of one run already), asserts that it succeeded
/// (showing its code, stdout and stderr when not), and gives its standard output.
#[track_caller]
fn ok(run: impl OutputAssertExt) -> String {
    stdout(&run.assert().success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quickstart_runs_as_written_from_an_empty_folder() {
    let snapshot: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("examples/acme/workspace.snapshot.json"))
            .expect("snapshot"),
    )
    .expect("json");
    let fake = crate::fake::Fake::start(&snapshot, TOKEN).await;
    let quickstart = block("quickstart");
    assert!(
        quickstart.contains("CLICKUP_TOKEN=pk_…"),
        "the token placeholder: {quickstart}"
    );
    // The one thing a reader types differently: their token.
    let script = quickstart.replace("pk_…", TOKEN);
    let dir = tempfile::tempdir().expect("empty folder");
    let api = fake.api_url();
    let dir_path = dir.path().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        bash(&dir_path, &script, &[("CLICKUP_API_URL", api.as_str())])
    })
    .await
    .expect("join");
    let out = ok(output);
    assert!(
        out.contains("No changes. The workspace matches members.yaml."),
        "{out}"
    );
    let repo_dir = dir.path().join("clickup-access");
    assert!(repo_dir.join("clickup/members.yaml").is_file());
    assert!(repo_dir.join("clickup/members.schema.json").is_file());
    let log = Command::new("git")
        .current_dir(&repo_dir)
        .args(["log", "--format=%s"])
        .output()
        .expect("git log");
    assert_eq!(stdout(&log).trim(), "ClickUp members as code");
    assert!(
        fake.log().iter().all(|l| !l.is_write()),
        "the quickstart changes nothing in ClickUp"
    );
    // What an apply leaves beside the file (the state, its lock, the audit log) stays out of
    // git.
    let api = fake.api_url();
    let dir_path = repo_dir.clone();
    let output = tokio::task::spawn_blocking(move || {
        bash(
            &dir_path,
            "clickup-members apply --auto-approve -f clickup/members.yaml --audit-log clickup/audit/first.jsonl >/dev/null\n\
             test -f clickup/members.state.json\n\
             git status --porcelain",
            &[("CLICKUP_API_URL", api.as_str()), ("CLICKUP_TOKEN", TOKEN)],
        )
    })
    .await
    .expect("join")
    .assert()
    .success();
    assert_eq!(
        stdout(&output).trim(),
        "",
        "nothing for git to take after an apply"
    );
    assert!(!out.contains(TOKEN) && !stderr(&output).contains(TOKEN));
}

#[test]
fn the_offline_trial_runs_as_written_from_a_clone() {
    let dir = tempfile::tempdir().expect("dir");
    let examples = dir.path().join("examples/acme");
    std::fs::create_dir_all(&examples).expect("mkdir");
    for name in ["members.yaml", "workspace.snapshot.json"] {
        std::fs::copy(repo().join("examples/acme").join(name), examples.join(name)).expect("copy");
    }
    let out = ok(bash(dir.path(), &block("offline"), &[]));
    let last = out.trim_end().lines().last().unwrap_or_default();
    assert_eq!(
        last, "No changes. The workspace matches members.yaml.",
        "{out}"
    );
    assert!(out.contains("Apply complete!"), "{out}");
    // The snapshot's seats follow the apply: a guest invited, one removed, tom now a guest.
    let seats = out
        .lines()
        .rev()
        .find(|l| l.starts_with("Seats "))
        .unwrap_or_default();
    assert_eq!(
        seats,
        "Seats (Enterprise plan): members 26 of 26 used, 26 after the plan; guests 4 of 10 used, 4 after the plan.",
        "{out}"
    );
}

#[test]
fn the_sync_trial_runs_as_written_from_a_clone_and_shows_what_the_readme_says() {
    let dir = tempfile::tempdir().expect("dir");
    for example in ["examples/acme", "examples/sync"] {
        crate::common::copy_dir(&repo().join(example), &dir.path().join(example));
    }
    let out = ok(bash(dir.path(), &block("sync"), &[]));
    let readme = readme();
    let shown = readme
        .split("<!-- readme-test: sync -->")
        .nth(1)
        .and_then(|rest| rest.split("```text\n").nth(1))
        .and_then(|rest| rest.split("```").next())
        .expect("the dry run's output in the README");
    for line in shown.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            out.contains(line),
            "the README shows {line:?}, the run gave:\n{out}"
        );
    }
    assert!(out.contains("Wrote sync-demo/synced/people.yaml."), "{out}");
    assert!(
        out.contains("Plan: 1 to invite, 3 to change, 2 to remove, 1 group to create."),
        "{out}"
    );
}

#[test]
fn the_readme_shows_the_output_the_example_really_gives() {
    shows_what_it_gives("output");
    // The access review's fixture: the line shown holds whatever the day.
    shows_what_it_gives("report-output");
    // A folder of Workspace files, with team-owned fragments.
    shows_what_it_gives("many");
}

/// Every line of the README's block `name` is in the output of the command it starts with.
fn shows_what_it_gives(name: &str) {
    let sample = block(name);
    let mut lines = sample.lines();
    let command = lines
        .next()
        .and_then(|l| l.strip_prefix("$ clickup-members "))
        .expect("the sample starts with its command");
    let actual = ok(cli().current_dir(repo()).args(command.split_whitespace()));
    // Every line shown is in the output, in the same order; `…` stands for lines left out.
    let actual_lines: Vec<&str> = actual.lines().collect();
    let mut at = 0;
    for line in lines.filter(|l| *l != "…") {
        let found = actual_lines[at..]
            .iter()
            .position(|l| *l == line)
            .unwrap_or_else(|| panic!("the README shows {line:?}, the output is:\n{actual}"));
        at += found + 1;
    }
}

/// Runs `clickup-members ARGS --help`, which fails on an unknown command, flag or value.
fn parses(args: &[&str], place: &str) {
    cli()
        .args(args)
        .arg("--help")
        .assert()
        .append_context("README", place.to_owned())
        .success();
}

#[test]
fn every_command_line_and_flag_the_readme_shows_exists() {
    let text = readme();
    let mut checked = 0;
    // The command lines of its shell blocks.
    for block in shell_blocks() {
        for args in crate::common::commands(&block) {
            let args: Vec<&str> = args
                .iter()
                .map(String::as_str)
                .filter(|a| !a.contains('…'))
                .collect();
            parses(&args, "a shell block");
            checked += 1;
        }
    }
    // Those written inline in the text.
    for span in text.split('`').skip(1).step_by(2) {
        if let Some(rest) = span.strip_prefix("clickup-members ") {
            let args: Vec<&str> = rest
                .split('|')
                .next()
                .unwrap_or_default()
                .split_whitespace()
                .map(|a| if a == "LOCK_ID" { "a-lock-id" } else { a })
                .collect();
            parses(&args, span);
            checked += 1;
        }
    }
    // The table of commands: each command, and each flag it lists, is in that command's help.
    let table = &text[text.find("| command | what it does").expect("the table")..];
    for row in table.lines().skip(2).take_while(|l| l.starts_with('|')) {
        let first = row.split(" | ").next().unwrap_or_default();
        for usage in first.split('`').skip(1).step_by(2) {
            let command = usage.split_whitespace().next().expect("a command");
            let help = ok(cli().args([command, "--help"]));
            for flag in usage
                .split(|c: char| c.is_whitespace() || "[]=".contains(c))
                .filter(|w| w.starts_with("--"))
            {
                assert!(help.contains(flag), "README: `{command}` has no {flag}");
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 40,
        "only {checked} commands and flags in the README"
    );
    // And the README's two opening commands are the ones CI runs.
    let opening = shell_blocks()
        .into_iter()
        .next()
        .expect("the opening block");
    assert!(opening.contains("--snapshot examples/acme/workspace.snapshot.json"));
    let ci = std::fs::read_to_string(repo().join(".ci/run")).expect(".ci/run");
    assert!(opening.contains(".ci/test") && ci.contains("bash .ci/test"));
}

#[test]
fn the_hint_after_plan_out_can_be_pasted() {
    let acme = crate::common::Acme::new();
    let output = cli()
        .current_dir(acme.dir.path())
        .args(["plan", "--out", "saved plan.json"])
        .args([
            "-f",
            "members.yaml",
            "--snapshot",
            "workspace.snapshot.json",
        ])
        .assert()
        // The example replaces a person: the plan is saved, and refused until that is accepted.
        .code(1);
    let out = stdout(&output);
    let hint = out
        .lines()
        .skip_while(|l| !l.starts_with("Saved the plan"))
        .nth(1)
        .expect("the hint")
        .trim()
        .to_owned();
    assert_eq!(
        hint,
        "clickup-members apply 'saved plan.json' -f members.yaml --snapshot workspace.snapshot.json"
    );
    assert!(out.contains("(add --allow-replace once you accept that it replaces people)"));
    let applied = ok(bash(
        acme.dir.path(),
        &format!("{hint} --allow-replace"),
        &[],
    ));
    assert!(applied.contains("Apply complete!"), "{applied}");
}

// ---------------------------------------------------------------------------------------------
// Completions in real shells, manual pages.

/// What `shell` offers on Tab after `line`, with the completions the binary prints loaded.
fn offered(shell: &str, program: &Path, line: &str) -> Vec<String> {
    let dir = tempfile::tempdir().expect("dir");
    let script = dir.path().join(format!("completion.{shell}"));
    let output = cli().args(["completions", shell]).output().expect("run");
    std::fs::write(&script, output.stdout).expect("write");
    let harness = repo().join("tests/shells");
    let output = match shell {
        "bash" => Command::new(program)
            .arg("--norc")
            .arg(harness.join("complete.bash"))
            .arg(&script)
            .arg(line)
            .output(),
        "zsh" => Command::new(program)
            .arg("-f")
            .arg(harness.join("complete.zsh"))
            .arg(&script)
            .arg(line)
            .output(),
        _ => Command::new(program)
            .args(["--no-config", "-c"])
            .arg(format!("source {}; complete -C '{line}'", script.display()))
            .output(),
    }
    .expect("run the shell")
    .assert()
    .append_context("shell", shell.to_owned())
    // The shell loads and runs the completion, and does not complain about the script.
    .success()
    .stderr(predicate::str::is_empty().trim());
    stdout(&output)
        .lines()
        .map(|l| l.split('\t').next().unwrap_or_default().trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn completions_complete_subcommands_and_flags_in_bash_zsh_and_fish() {
    let cases = [
        ("clickup-members pl", "plan"),
        ("clickup-members force", "force-unlock"),
        ("clickup-members plan --det", "--detailed-exitcode"),
        ("clickup-members plan --format ", "markdown"),
        ("clickup-members apply --allow", "--allow-replace"),
        ("clickup-members -f x.yaml ap", "apply"),
        ("clickup-members man --out", "--out-dir"),
    ];
    let shells: Vec<(&str, PathBuf)> = ["bash", "zsh", "fish"]
        .into_iter()
        .filter_map(|shell| crate::common::tool(shell).map(|path| (shell, path)))
        .collect();
    assert!(!shells.is_empty(), "bash at least is needed");
    for (shell, program) in &shells {
        for (line, want) in cases {
            let got = offered(shell, program, line);
            assert!(
                got.iter().any(|c| c == want),
                "{shell}: after {line:?} it offers {got:?}, not {want}"
            );
        }
    }
}

#[test]
fn man_writes_one_page_per_command() {
    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("man1");
    cli()
        .args(["man", "--out-dir"])
        .arg(&out)
        .assert()
        .success();
    for command in [
        "",
        "-validate",
        "-plan",
        "-apply",
        "-import",
        "-snapshot",
        "-fmt",
        "-show",
        "-force-unlock",
        "-schema",
        "-completions",
        "-man",
    ] {
        let page = out.join(format!("clickup-members{command}.1"));
        let text =
            std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
        assert!(
            text.contains(&format!(".TH clickup-members{command} 1")),
            "{}",
            page.display()
        );
    }
    let plan = std::fs::read_to_string(out.join("clickup-members-plan.1")).expect("plan page");
    assert!(plan.contains("detailed\\-exitcode") && plan.contains("allow\\-replace"));
    if let Some(man) = crate::common::tool("man") {
        let shown = Command::new(man)
            .args(["-l", "-P", "cat"])
            .arg(out.join("clickup-members-plan.1"))
            .output()
            .expect("man");
        assert!(
            stdout(&shown).contains("--detailed-exitcode"),
            "{}",
            stderr(&shown)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Output that closes early.

/// A standard output whose reader is gone: every write to it fails with a broken pipe.
fn closed_stdout() -> std::process::Stdio {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    writer.into()
}

/// The binary in the example's folder, its standard output closed.
fn with_stdout_closed(acme: &crate::common::Acme, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_clickup-members"));
    for name in crate::common::OUTSIDE_ENV {
        cmd.env_remove(name);
    }
    cmd.current_dir(acme.dir.path())
        .args(args)
        .args([
            "-f",
            "members.yaml",
            "--snapshot",
            "workspace.snapshot.json",
        ])
        .stdout(closed_stdout())
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("run")
}

#[test]
fn an_apply_whose_output_closes_still_applies_and_reports_on_stderr() {
    let acme = crate::common::Acme::new();
    with_stdout_closed(&acme, &["apply", "--auto-approve", "--allow-replace"])
        .assert()
        .success()
        .stderr(predicate::str::contains("standard output is closed"))
        .stderr(predicate::str::contains("Apply complete!"));
    let again = acme.run(&["plan"]).output().expect("plan");
    assert!(
        stdout(&again).contains("No changes."),
        "everything was applied: {}",
        stdout(&again)
    );
}

#[test]
fn a_plan_whose_output_closes_still_saves_and_exits_with_its_code() {
    let acme = crate::common::Acme::new();
    with_stdout_closed(
        &acme,
        &[
            "plan",
            "--allow-replace",
            "--out",
            "plan.json",
            "--detailed-exitcode",
        ],
    )
    .assert()
    .code(2);
    assert!(acme.path("plan.json").is_file(), "the plan was saved");
}

#[test]
fn terraforms_one_dash_options_are_told_their_two_dash_names() {
    for (args, meant) in [
        (&["plan", "-out", "plan.json"][..], "--out"),
        (&["apply", "-auto-approve"][..], "--auto-approve"),
        (
            &["plan", "--detailed-exitcode", "-out", "p.json"][..],
            "--out",
        ),
    ] {
        // A usage error, never 2 (changes).
        cli()
            .args(args)
            .assert()
            .code(1)
            .stderr(predicate::str::contains(format!(
                "tip: a similar argument exists: '{meant}'"
            )));
    }
}
