//! The CI recipes under examples/ci and the project's own workflows: valid for their platforms'
//! validators (actionlint, GitHub's and GitLab's schemas, hadolint, shellcheck), every command
//! line in them parses, the admin's token reaches the apply job alone, and the CI script they
//! share does what it says against real git repositories and fake GitHub and GitLab APIs:
//! install, state branch, plans with and without a token, comments edited in place, the drift
//! issue, the access review kept on the state branch, and the merge that applies the plan its
//! pull or merge request reviewed.

use assert_cmd::assert::{Assert, OutputAssertExt};
use predicates::prelude::*;

use crate::common::{cli, fails, repo, stderr, stdout};

fn recipes() -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![repo().join("examples/ci")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).expect("dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The shell scripts of a workflow: `run:` of GitHub steps, `script:` (and before/after) of
/// GitLab jobs.
fn scripts<'a>(value: &'a serde_json::Value, in_script: bool, out: &mut Vec<&'a str>) {
    match value {
        serde_json::Value::String(s) if in_script => out.push(s),
        serde_json::Value::Array(items) => items.iter().for_each(|v| scripts(v, in_script, out)),
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                let script = matches!(
                    key.as_str(),
                    "run" | "script" | "before_script" | "after_script"
                );
                scripts(v, script, out);
            }
        }
        _ => {}
    }
}

const CI_SCRIPT: &str = "examples/ci/clickup-members-ci.sh";

/// The subcommands the CI script answers (its `case` of commands).
fn script_subcommands() -> Vec<String> {
    let text = std::fs::read_to_string(repo().join(CI_SCRIPT)).expect("script");
    let dispatch = &text[text.rfind("case \"$command\" in").expect("dispatch")..];
    dispatch
        .lines()
        .filter_map(|l| {
            l.trim()
                .split_once(") cmd_")
                .map(|(name, _)| name.to_owned())
        })
        .collect()
}

#[test]
fn every_recipe_parses_as_yaml_and_every_command_in_it_exists() {
    let files = recipes();
    assert!(files.len() >= 4, "recipes: {files:?}");
    let subcommands = script_subcommands();
    assert!(subcommands.len() >= 9, "{subcommands:?}");
    let mut checked = 0;
    let mut parses = |args: &[String], place: &str| {
        // `"$@"` passes the script's own arguments on: they are the caller's.
        let args: Vec<&String> = args.iter().filter(|a| a.as_str() != "\"$@\"").collect();
        let args = args.as_slice();
        // `clickup-members ARGS` parses.
        cli()
            .args(args)
            .arg("--help")
            .assert()
            .append_context("in", place.to_owned())
            .success();
        checked += 1;
    };
    for path in &files {
        let text = std::fs::read_to_string(path).expect("read");
        let value: serde_json::Value = serde_saphyr::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()));
        let mut texts = Vec::new();
        scripts(&value, false, &mut texts);
        for script in texts {
            for args in crate::common::commands(script) {
                parses(&args, &path.display().to_string());
            }
            for line in script.lines() {
                if let Some(rest) = line.trim().strip_prefix("bash ci/clickup-members-ci.sh ") {
                    let sub = rest.split_whitespace().next().unwrap_or_default();
                    assert!(
                        subcommands.iter().any(|s| s == sub),
                        "{}: the CI script has no subcommand {sub}",
                        path.display()
                    );
                }
            }
        }
    }
    // The script's own command lines; those built from a variable are run by the tests below.
    let script = std::fs::read_to_string(repo().join(CI_SCRIPT)).expect("script");
    for args in crate::common::commands(&script) {
        if !args[0].starts_with('"') {
            parses(&args, CI_SCRIPT);
        }
    }
    // Command lines the script builds in an array: `local args=(plan -f "$file" …)`.
    for line in script.lines() {
        if let Some((_, rest)) = line.split_once("args=(")
            && let Some((words, _)) = rest.split_once(')')
        {
            let args: Vec<String> = words.split_whitespace().map(str::to_owned).collect();
            if args.first().is_some_and(|a| !a.starts_with('"')) {
                parses(&args, CI_SCRIPT);
            }
        }
    }
    assert!(checked >= 5, "only {checked} command lines found");
}

#[test]
fn the_recipes_cover_plan_apply_drift_and_the_access_review() {
    let dir = repo().join("examples/ci/github");
    let plan = std::fs::read_to_string(dir.join("clickup-members-plan.yml")).expect("plan");
    assert!(plan.contains("ci/clickup-members-ci.sh plan"));
    assert!(plan.contains("ci/clickup-members-ci.sh comment plan.md"));
    let apply = std::fs::read_to_string(dir.join("clickup-members-apply.yml")).expect("apply");
    assert!(apply.contains("concurrency:") && apply.contains("ci/clickup-members-ci.sh apply"));
    assert!(apply.contains("github.event.repository.default_branch"));
    assert!(apply.contains("allow_replace:"), "a way to allow a replace");
    let drift = std::fs::read_to_string(dir.join("clickup-members-drift.yml")).expect("drift");
    assert!(drift.contains("ci/clickup-members-ci.sh drift") && drift.contains("schedule:"));
    let review = std::fs::read_to_string(dir.join("clickup-members-access-review.yml"))
        .expect("access review");
    assert!(
        review.contains("schedule:")
            && review.contains("ci/clickup-members-ci.sh report")
            && review.contains("actions/upload-artifact")
            && review.contains("access-review.csv")
    );
    let gitlab = std::fs::read_to_string(repo().join("examples/ci/gitlab-ci.yml")).expect("gitlab");
    assert!(
        gitlab.contains("ci/clickup-members-ci.sh report") && gitlab.contains("access-review.csv")
    );
    assert!(gitlab.contains("resource_group:") && gitlab.contains("CLICKUP_MEMBERS_ALLOW_REPLACE"));
    for recipe in [&plan, &apply, &drift, &review, &gitlab] {
        assert!(
            recipe.contains("CLICKUP_MEMBERS_VERSION:")
                && recipe.contains("CLICKUP_MEMBERS_SHA256:")
        );
        assert!(
            !recipe.contains("cargo install"),
            "recipes install the pinned release"
        );
    }
    assert!(repo().join("examples/ci/CODEOWNERS").exists());
}

#[test]
fn plan_appends_its_markdown_to_the_github_step_summary() {
    let dir = tempfile::tempdir().expect("dir");
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").expect("write");
    cli()
        .current_dir(repo())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args([
            "plan",
            "-f",
            "examples/acme/members.yaml",
            "--snapshot",
            "examples/acme/workspace.snapshot.json",
        ])
        .arg("--state")
        .arg(dir.path().join("none.json"))
        .assert()
        // The example replaces a person, which apply on merge refuses: that comes first, and
        // the plan fails.
        .code(1);
    let text = std::fs::read_to_string(&summary).expect("summary");
    assert!(
        text.starts_with("earlier step\n> :no_entry: **Apply on merge will refuse this plan:**\n> - the plan replaces 1 person"),
        "{text}"
    );
    assert!(text.contains("\n### clickup-members plan for \"Acme Workspace\""));
}

/// `plan --format markdown` on a copy of the example with `edit` applied, with a step summary;
/// gives the run, its markdown and the summary.
fn plan_markdown(edit: (&str, &str), extra: &[&str]) -> (Assert, String, String) {
    let acme = crate::common::Acme::new();
    acme.edit_members(edit.0, edit.1);
    let summary = acme.path("summary.md");
    let output = acme
        .run(&["plan", "--format", "markdown"])
        .args(extra)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .assert();
    let markdown = stdout(&output);
    let summary = std::fs::read_to_string(&summary).unwrap_or_default();
    (output, markdown, summary)
}

#[test]
fn a_refused_plan_still_writes_its_markdown_and_step_summary_with_the_reason() {
    let (output, markdown, summary) = plan_markdown(("max_removals: 6", "max_removals: 1"), &[]);
    output
        .code(1)
        .stderr(predicate::str::contains("apply would refuse this plan"));
    assert!(
        markdown.starts_with(
            "> :no_entry: **Apply on merge will refuse this plan:**\n> - the plan would remove"
        ),
        "{markdown}"
    );
    assert!(
        markdown.contains("more than policy.max\\_removals"),
        "{markdown}"
    );
    assert!(markdown.contains("### clickup-members plan for \"Acme Workspace\""));
    assert_eq!(summary, markdown, "the step summary shows the same");
}

#[test]
fn a_file_that_cannot_be_planned_still_tells_the_pull_request_why() {
    let (output, markdown, summary) =
        plan_markdown(("mode: authoritative", "mode: authorative"), &[]);
    output.code(1);
    assert!(
        markdown.starts_with("> :no_entry: **Apply on merge will refuse this plan:** members.yaml is invalid: 1 problem"),
        "{markdown}"
    );
    assert!(
        markdown.contains(
            "members.yaml:11:9: policy.mode must be additive or authoritative, not \"authorative\""
        ),
        "{markdown}"
    );
    assert_eq!(summary, markdown);
}

#[test]
fn a_plan_for_an_apply_that_allows_replaces_does_not_warn_about_them() {
    let (output, markdown, _) = plan_markdown(("max_removals: 6", "max_removals: 6"), &[]);
    output.code(1);
    assert!(
        markdown.contains("Apply on merge will refuse this plan"),
        "{markdown}"
    );
    let (output, markdown, _) =
        plan_markdown(("max_removals: 6", "max_removals: 6"), &["--allow-replace"]);
    output.success();
    assert!(!markdown.contains("will refuse"), "{markdown}");
    assert!(markdown.contains("1 to replace"), "{markdown}");
}

#[test]
fn completions_and_the_man_page_come_from_the_command_line_definition() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        cli()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains("force-unlock"))
            .stdout(predicate::str::contains("detailed-exitcode"));
    }
    cli()
        .arg("man")
        .assert()
        .success()
        .stdout(predicate::str::contains(".TH clickup-members 1"))
        .stdout(predicate::str::contains("apply"));
}

#[test]
fn commands_are_found_in_shell_scripts() {
    assert_eq!(
        crate::common::commands(
            "set +e\nclickup-members plan -f x.yaml --format markdown > out.md\ncargo install --locked clickup-members\nif x; then clickup-members validate; fi"
        ),
        vec![
            vec!["plan", "-f", "x.yaml", "--format", "markdown"],
            vec!["validate"],
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// The recipes against their platforms' own validators.

fn workflow_files() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = recipes()
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("/github/"))
        .collect();
    for entry in std::fs::read_dir(repo().join(".github/workflows")).expect("workflows") {
        files.push(entry.expect("entry").path());
    }
    files.sort();
    files
}

fn passes(tool: &std::path::Path, args: &[&str], files: &[std::path::PathBuf]) {
    std::process::Command::new(tool)
        .args(args)
        .args(files)
        .assert()
        .success();
}

#[test]
fn the_github_workflows_pass_actionlint_and_githubs_workflow_schema() {
    let files = workflow_files();
    assert!(files.len() >= 5, "{files:?}");
    if let Some(actionlint) = crate::common::tool("actionlint") {
        passes(&actionlint, &[], &files);
    }
    if let Some(check) = crate::common::tool("check-jsonschema") {
        passes(
            &check,
            &["--builtin-schema", "vendor.github-workflows"],
            &files,
        );
    }
}

#[test]
fn the_gitlab_recipe_passes_gitlabs_ci_schema() {
    if let Some(check) = crate::common::tool("check-jsonschema") {
        passes(
            &check,
            &["--builtin-schema", "vendor.gitlab-ci"],
            &[repo().join("examples/ci/gitlab-ci.yml")],
        );
    }
}

#[test]
fn the_validators_refuse_what_gitlab_and_github_would() {
    // The recipes passing means something only if the validators fail bad ones.
    let dir = tempfile::tempdir().expect("dir");
    let gitlab = dir.path().join(".gitlab-ci.yml");
    std::fs::write(
        &gitlab,
        "job:\n  script:\n    - git commit -m \"state: after apply\" || true\n",
    )
    .expect("write");
    let github = dir.path().join("bad.yml");
    std::fs::write(
        &github,
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.no_such_thing }}\n",
    )
    .expect("write");
    let refuses = |tool: &std::path::Path, args: &[&str], file: &std::path::Path| {
        std::process::Command::new(tool)
            .args(args)
            .arg(file)
            .assert()
            .failure();
    };
    if let Some(check) = crate::common::tool("check-jsonschema") {
        refuses(&check, &["--builtin-schema", "vendor.gitlab-ci"], &gitlab);
    }
    if let Some(actionlint) = crate::common::tool("actionlint") {
        refuses(&actionlint, &[], &github);
    }
}

#[test]
fn the_dockerfile_passes_hadolint_and_runs_as_a_non_root_user_from_scratch() {
    let dockerfile = repo().join("Dockerfile");
    let text = std::fs::read_to_string(&dockerfile).expect("Dockerfile");
    let stages: Vec<&str> = text.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(stages.len(), 2, "a build stage and a final one: {stages:?}");
    assert_eq!(stages[1], "FROM scratch");
    let user = text
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER line");
    assert!(
        !user.starts_with('0') && !user.starts_with("root"),
        "{user}"
    );
    if let Some(hadolint) = crate::common::tool("hadolint") {
        passes(&hadolint, &[], &[dockerfile]);
    }
}

#[test]
fn the_ci_script_passes_shellcheck() {
    if let Some(shellcheck) = crate::common::tool("shellcheck") {
        passes(
            &shellcheck,
            &[],
            &[
                repo().join("examples/ci/clickup-members-ci.sh"),
                repo().join(".ci/run"),
                repo().join(".ci/test"),
                repo().join(".ci/tools"),
            ],
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The CI script against real git repositories.

const STATE_BRANCH: &str = "clickup-members-state";
const STATE: &str = "clickup/members.state.json";

/// Refuses every update of `main` once it exists, as branch protection does.
const PROTECT_MAIN: &str = "#!/bin/sh\nwhile read old new ref; do\n  if [ \"$ref\" = refs/heads/main ] && [ \"$old\" != 0000000000000000000000000000000000000000 ]; then\n    echo \"main is protected\" >&2\n    exit 1\n  fi\ndone\n";

/// A team's repository: a bare remote whose `main` is protected, holding the acme example
/// (`clickup/members.yaml`, a snapshot to apply to offline) and the CI script in `ci/`.
struct Team {
    dir: tempfile::TempDir,
}

fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let output = std::process::Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Team")
        .env("GIT_AUTHOR_EMAIL", "team@acme.example")
        .env("GIT_COMMITTER_NAME", "Team")
        .env("GIT_COMMITTER_EMAIL", "team@acme.example")
        .assert()
        .success();
    stdout(&output).trim().to_owned()
}

impl Team {
    fn new() -> Team {
        let dir = tempfile::tempdir().expect("dir");
        git(
            dir.path(),
            &["init", "--quiet", "--bare", "-b", "main", "origin.git"],
        );
        let hook = dir.path().join("origin.git/hooks/pre-receive");
        std::fs::write(&hook, PROTECT_MAIN).expect("hook");
        make_executable(&hook);
        let seed = dir.path().join("seed");
        git(dir.path(), &["clone", "--quiet", "origin.git", "seed"]);
        std::fs::create_dir_all(seed.join("clickup")).expect("mkdir");
        std::fs::create_dir_all(seed.join("ci")).expect("mkdir");
        let acme = repo().join("examples/acme");
        std::fs::copy(acme.join("members.yaml"), seed.join("clickup/members.yaml")).expect("copy");
        std::fs::copy(
            acme.join("workspace.snapshot.json"),
            seed.join("workspace.snapshot.json"),
        )
        .expect("copy");
        std::fs::copy(
            repo().join(CI_SCRIPT),
            seed.join("ci/clickup-members-ci.sh"),
        )
        .expect("copy");
        git(&seed, &["add", "-A"]);
        git(
            &seed,
            &["commit", "--quiet", "-m", "ClickUp members as code"],
        );
        git(&seed, &["push", "--quiet", "origin", "main"]);
        Team { dir }
    }

    fn remote(&self) -> std::path::PathBuf {
        self.dir.path().join("origin.git")
    }

    /// A fresh clone, as a CI job checks the repository out.
    fn checkout(&self, name: &str) -> std::path::PathBuf {
        git(self.dir.path(), &["clone", "--quiet", "origin.git", name]);
        self.dir.path().join(name)
    }

    fn main(&self) -> String {
        git(&self.remote(), &["rev-parse", "main"])
    }

    /// The state file of every commit on the state branch, newest first.
    fn recorded_states(&self) -> Vec<String> {
        let commits = git(&self.remote(), &["log", "--format=%H", STATE_BRANCH]);
        commits
            .lines()
            .filter_map(|c| {
                let output = std::process::Command::new("git")
                    .current_dir(self.remote())
                    .args(["show", &format!("{c}:{STATE}")])
                    .output()
                    .expect("git show");
                output.status.success().then(|| stdout(&output))
            })
            .collect()
    }

    fn branch_files(&self) -> Vec<String> {
        git(
            &self.remote(),
            &["ls-tree", "-r", "--name-only", STATE_BRANCH],
        )
        .lines()
        .map(str::to_owned)
        .collect()
    }

    /// Makes every push fail, as a remote that refuses the job's credentials does.
    fn refuse_every_push(&self) {
        let hook = self.remote().join("hooks/pre-receive");
        std::fs::write(&hook, "#!/bin/sh\necho \"denied\" >&2\nexit 1\n").expect("hook");
        make_executable(&hook);
    }
}

fn make_executable(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// The script's own settings and the CI variables it reads, which the machine running the tests
/// may have.
const SCRIPT_ENV: &[&str] = &[
    "CLICKUP_READ_TOKEN",
    "CLICKUP_MEMBERS_FILE",
    "CLICKUP_MEMBERS_ALLOW_REPLACE",
    "CLICKUP_MEMBERS_APPLY_UNREVIEWED",
    "CLICKUP_MEMBERS_MERGE_COMMIT",
    "CLICKUP_MEMBERS_REVIEWED_PLAN",
    "CLICKUP_MEMBERS_PLAN_JOB",
    "CLICKUP_MEMBERS_PLATFORM",
    "GITHUB_EVENT_NAME",
    "CI_API_V4_URL",
    "CI_PROJECT_ID",
    "CI_MERGE_REQUEST_IID",
    "PR_NUMBER",
    "CLICKUP_MEMBERS_REMOTE",
    "CLICKUP_MEMBERS_SYNC_TOKEN",
    "CLICKUP_MEMBERS_SYNC_BRANCH",
    "CLICKUP_MEMBERS_SYNC_BASE",
    "GITHUB_REF_NAME",
    "GITHUB_REPOSITORY_OWNER",
    "GITHUB_SERVER_URL",
    "RUNNER_TEMP",
    "CI_COMMIT_BRANCH",
    "CI_JOB_URL",
    "OKTA_API_TOKEN",
    "OKTA_CLIENT_ID",
    "OKTA_PRIVATE_KEY",
    "OKTA_PRIVATE_KEY_FILE",
    "OKTA_PRIVATE_KEY_ID",
    "ENTRA_CLIENT_ID",
    "ENTRA_CLIENT_SECRET",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_APPLICATION_CREDENTIALS_JSON",
];

/// `bash ci/clickup-members-ci.sh ARGS` in a checkout (the project's own copy of the script in
/// a folder without one), with the binary under test on `PATH`, no token and no CI job around
/// it.
fn ci_script(checkout: &std::path::Path, args: &[&str]) -> std::process::Command {
    let copy = checkout.join("ci/clickup-members-ci.sh");
    let script = if copy.exists() {
        copy
    } else {
        repo().join(CI_SCRIPT)
    };
    let mut cmd = std::process::Command::new("bash");
    cmd.current_dir(checkout).arg(script).args(args);
    for name in crate::common::OUTSIDE_ENV.iter().chain(SCRIPT_ENV) {
        cmd.env_remove(name);
    }
    let path = std::env::join_paths(std::iter::once(crate::common::bin_dir()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .expect("PATH");
    cmd.env("PATH", path)
        .env("NO_COLOR", "1")
        .env("CLICKUP_MEMBERS_BIN_DIR", checkout.join(".no-install"))
        // Never ClickUp itself: a port nothing listens on.
        .env("CLICKUP_API_URL", "http://127.0.0.1:9")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    cmd
}

fn run(mut cmd: std::process::Command) -> std::process::Output {
    cmd.output().expect("run the CI script")
}

/// Runs the CI script (or takes the `Output` of one run already), asserts that it succeeded
/// (showing its code, stdout and stderr when not), and gives its standard error, where the
/// script says what it did.
#[track_caller]
fn ok(run: impl OutputAssertExt) -> String {
    stderr(&run.assert().success())
}

#[test]
fn an_apply_without_a_state_branch_fails_with_what_to_do_and_sends_nothing() {
    let team = Team::new();
    let job = team.checkout("job");
    let before = std::fs::read(job.join("workspace.snapshot.json")).expect("snapshot");
    let err = fails(run(ci_script(
        &job,
        &["apply", "--snapshot", "workspace.snapshot.json"],
    )));
    assert!(
        err.contains("the state branch 'clickup-members-state' does not exist")
            && err.contains("init-state"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(job.join("workspace.snapshot.json")).expect("snapshot"),
        before,
        "nothing was applied"
    );
}

#[test]
fn an_apply_records_its_state_and_audit_log_on_the_state_branch_and_never_pushes_main() {
    let team = Team::new();
    let main = team.main();
    let admin = team.checkout("admin");
    ok(run(ci_script(&admin, &["init-state"])));
    let job = team.checkout("job");
    let mut apply = ci_script(&job, &["apply", "--snapshot", "workspace.snapshot.json"]);
    apply
        .env("CLICKUP_MEMBERS_ALLOW_REPLACE", "true")
        .env("CLICKUP_MEMBERS_APPLY_UNREVIEWED", "true");
    let err = ok(run(apply));
    assert!(err.contains("APPLYING AN UNREVIEWED PLAN"), "{err}");
    assert!(err.contains("recorded clickup/members.state.json"), "{err}");
    let files = team.branch_files();
    assert!(files.contains(&STATE.to_owned()), "{files:?}");
    assert!(
        files
            .iter()
            .any(|f| f.starts_with("clickup/audit/") && f.ends_with(".jsonl")),
        "{files:?}"
    );
    let state: serde_json::Value =
        serde_json::from_str(&team.recorded_states()[0]).expect("state JSON");
    assert_eq!(state["workspace_id"], "9006054115");
    assert_eq!(team.main(), main, "main was not pushed");

    // The next job starts from the recorded state: the same file plans no changes.
    let next = team.checkout("next");
    ok(run(ci_script(&next, &["fetch-state", "required"])));
    let output = cli()
        .current_dir(&next)
        .args([
            "plan",
            "-f",
            "clickup/members.yaml",
            "--snapshot",
            "../job/workspace.snapshot.json",
        ])
        .output()
        .expect("plan");
    assert!(
        stdout(&output).contains("No changes."),
        "{}",
        stdout(&output)
    );
}

#[test]
fn states_pushed_in_a_row_and_at_once_all_land_on_the_state_branch() {
    let team = Team::new();
    let main = team.main();
    let admin = team.checkout("admin");
    ok(run(ci_script(&admin, &["init-state"])));

    // Twice in a row from one job.
    let first = team.checkout("first");
    ok(run(ci_script(&first, &["fetch-state", "required"])));
    for serial in ["1", "2"] {
        std::fs::write(first.join(STATE), format!("{{\"serial\": {serial}}}\n")).expect("write");
        ok(run(ci_script(&first, &["push-state"])));
    }

    // Twice at once, from two jobs that both started before either pushed.
    let jobs: Vec<_> = ["a", "b"]
        .iter()
        .map(|name| {
            let job = team.checkout(name);
            ok(run(ci_script(&job, &["fetch-state", "required"])));
            std::fs::write(job.join(STATE), format!("{{\"serial\": \"{name}\"}}\n"))
                .expect("write");
            job
        })
        .collect();
    let outputs: Vec<_> = std::thread::scope(|scope| {
        let running: Vec<_> = jobs
            .iter()
            .map(|job| scope.spawn(move || run(ci_script(job, &["push-state"]))))
            .collect();
        running
            .into_iter()
            .map(|r| r.join().expect("join"))
            .collect()
    });
    for output in outputs {
        ok(output);
    }

    let states = team.recorded_states();
    for serial in ["1", "2", "\"a\"", "\"b\""] {
        let want = format!("{{\"serial\": {serial}}}\n");
        assert!(
            states.contains(&want),
            "{want} not on the branch: {states:?}"
        );
    }
    let one = states.iter().position(|s| s.contains(": 1}")).expect("1");
    let two = states.iter().position(|s| s.contains(": 2}")).expect("2");
    assert!(two < one, "the later state is on top: {states:?}");
    assert_eq!(team.main(), main, "main was not pushed");
}

#[test]
fn a_push_that_keeps_failing_fails_the_job_with_one_sentence() {
    let team = Team::new();
    let admin = team.checkout("admin");
    ok(run(ci_script(&admin, &["init-state"])));
    team.refuse_every_push();
    let job = team.checkout("job");
    std::fs::write(job.join(STATE), "{}\n").expect("write");
    let mut push = ci_script(&job, &["push-state"]);
    push.env("CLICKUP_MEMBERS_PUSH_ATTEMPTS", "2");
    let err = fails(run(push));
    assert!(
        err.contains(
            "could not push the state to the branch 'clickup-members-state' after 2 attempts"
        ),
        "{err}"
    );
}

#[test]
fn an_apply_without_a_token_fails_at_once() {
    let team = Team::new();
    let admin = team.checkout("admin");
    ok(run(ci_script(&admin, &["init-state"])));
    let job = team.checkout("job");
    let err = fails(run(ci_script(&job, &["apply"])));
    assert!(err.contains("apply needs the ClickUp token"), "{err}");
    assert_eq!(team.branch_files(), vec!["README.md".to_owned()]);
}

#[test]
fn a_pull_request_without_a_token_plans_against_the_recorded_workspace() {
    let team = Team::new();
    let pr = team.checkout("pr");
    // No state branch yet: not a failure, and the comment says what to do.
    let err = ok(run(ci_script(&pr, &["plan"])));
    assert!(err.contains("no ClickUp read token"), "{err}");
    let md = std::fs::read_to_string(pr.join("plan.md")).expect("plan.md");
    assert!(md.starts_with("> **No plan yet:**"), "{md}");
    assert!(!pr.join("plan.json").exists(), "no plan without a state");

    let admin = team.checkout("admin");
    ok(run(ci_script(&admin, &["init-state"])));
    let job = team.checkout("job");
    let mut apply = ci_script(&job, &["apply", "--snapshot", "workspace.snapshot.json"]);
    apply
        .env("CLICKUP_MEMBERS_ALLOW_REPLACE", "true")
        .env("CLICKUP_MEMBERS_APPLY_UNREVIEWED", "true");
    ok(run(apply));

    let pr = team.checkout("pr2");
    crate::common::edit(
        &pr.join("clickup/members.yaml"),
        "    role: admin  # promoted",
        "    role: member  # not promoted after all",
    );
    ok(run(ci_script(&pr, &["plan"])));
    let md = std::fs::read_to_string(pr.join("plan.md")).expect("plan.md");
    let first = md.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("> **Planned without reading ClickUp: against the Workspace as the last apply recorded it at 20"),
        "{md}"
    );
    assert!(
        md.contains("Plan: 0 to invite, 1 to change, 0 to remove."),
        "{md}"
    );
    // Saved all the same: the merge applies what this plan showed, and nothing else.
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(pr.join("plan.json")).expect("plan.json"))
            .expect("plan JSON");
    assert_eq!(
        saved["changes"].as_array().map(Vec::len),
        Some(1),
        "{saved}"
    );
}

#[test]
fn a_plan_apply_would_refuse_still_writes_its_markdown_with_the_reason() {
    let team = Team::new();
    let pr = team.checkout("pr");
    crate::common::edit(
        &pr.join("clickup/members.yaml"),
        "max_removals: 6",
        "max_removals: 0",
    );
    let mut plan = ci_script(&pr, &["plan", "--snapshot", "workspace.snapshot.json"]);
    // With a token, the plan reads the Workspace (here a snapshot) as apply would.
    plan.env("CLICKUP_TOKEN", "pk_1_TESTTESTTEST");
    run(plan).assert().code(1);
    let md = std::fs::read_to_string(pr.join("plan.md")).expect("plan.md");
    assert!(
        md.starts_with("> :no_entry: **Apply on merge will refuse this plan:**"),
        "{md}"
    );
    assert!(md.contains("policy.max\\_removals"), "{md}");
}

// ---------------------------------------------------------------------------------------------
// Installing the pinned release.

/// A release folder as the release workflow publishes it (`v<version>/<archive>` and
/// `SHA256SUMS`); gives the archive's SHA-256. The archive's binary is a stand-in that answers
/// `--version` as the real one does (the real one is 100 MB unoptimised, slow to pack).
fn fake_release(dir: &std::path::Path) -> String {
    use sha2::Digest;
    let version = env!("CARGO_PKG_VERSION");
    let target = match std::env::consts::ARCH {
        "aarch64" => "aarch64-unknown-linux-musl",
        _ => "x86_64-unknown-linux-musl",
    };
    let name = format!("clickup-members-{version}-{target}");
    let stage = dir.join("stage").join(&name);
    std::fs::create_dir_all(&stage).expect("mkdir");
    let binary = stage.join("clickup-members");
    std::fs::write(
        &binary,
        format!("#!/bin/sh\necho \"clickup-members {version}\"\n"),
    )
    .expect("write");
    make_executable(&binary);
    let release = dir.join(format!("v{version}"));
    std::fs::create_dir_all(&release).expect("mkdir");
    let archive = release.join(format!("{name}.tar.gz"));
    let status = std::process::Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(dir.join("stage"))
        .arg(&name)
        .status()
        .expect("tar");
    assert!(status.success());
    let sha = format!(
        "{:x}",
        sha2::Sha256::digest(std::fs::read(&archive).expect("archive"))
    );
    std::fs::write(
        release.join("SHA256SUMS"),
        format!("{sha}  {name}.tar.gz\n"),
    )
    .expect("sums");
    sha
}

fn install(dir: &std::path::Path, sha: Option<&str>) -> std::process::Output {
    let bin = dir.join("bin");
    let mut cmd = std::process::Command::new("bash");
    cmd.arg(repo().join(CI_SCRIPT))
        .arg("install")
        .current_dir(dir)
        .env("CLICKUP_MEMBERS_VERSION", env!("CARGO_PKG_VERSION"))
        .env(
            "CLICKUP_MEMBERS_RELEASES",
            format!("file://{}", dir.display()),
        )
        .env("CLICKUP_MEMBERS_BIN_DIR", &bin)
        .env("GITHUB_PATH", dir.join("github_path"));
    for name in crate::common::OUTSIDE_ENV
        .iter()
        .filter(|n| **n != "GITHUB_PATH")
    {
        cmd.env_remove(name);
    }
    match sha {
        Some(sha) => cmd.env("CLICKUP_MEMBERS_SHA256", sha),
        None => cmd.env_remove("CLICKUP_MEMBERS_SHA256"),
    };
    cmd.output().expect("run install")
}

#[test]
fn install_takes_only_the_archive_whose_checksum_is_pinned() {
    if std::env::consts::OS != "linux" {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let sha = fake_release(dir.path());
    let installed = dir.path().join("bin/clickup-members");

    let err = fails(install(dir.path(), None));
    assert!(
        err.contains("CLICKUP_MEMBERS_SHA256 is not set") && err.contains("SHA256SUMS"),
        "{err}"
    );
    assert!(!installed.exists());

    let wrong = "0".repeat(64);
    let err = fails(install(dir.path(), Some(&wrong)));
    assert!(
        err.contains("does not have the pinned checksum") && err.contains("nothing was installed"),
        "{err}"
    );
    assert!(!installed.exists());

    let err = ok(install(dir.path(), Some(&sha)));
    assert!(err.contains(&format!("sha256 {sha}")), "{err}");
    let version = std::process::Command::new(&installed)
        .arg("--version")
        .output()
        .expect("run installed");
    assert_eq!(
        stdout(&version).trim(),
        format!("clickup-members {}", env!("CARGO_PKG_VERSION"))
    );
    let path = std::fs::read_to_string(dir.path().join("github_path")).expect("GITHUB_PATH");
    assert_eq!(path.trim(), dir.path().join("bin").display().to_string());
}

// ---------------------------------------------------------------------------------------------
// The pull request's comment and the drift issue, against fake GitHub and GitLab APIs.

use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const MARKER: &str = "<!-- clickup-members plan -->\n";

/// A request whose JSON `field` starts with the marker and then `text`.
fn marked(field: &'static str, text: &'static str) -> impl Fn(&Request) -> bool {
    move |request: &Request| {
        serde_json::from_slice::<serde_json::Value>(&request.body)
            .ok()
            .and_then(|v| {
                v[field]
                    .as_str()
                    .map(|s| s.starts_with(&format!("{MARKER}{text}")))
            })
            .unwrap_or(false)
    }
}

fn github(cmd: &mut std::process::Command, server: &MockServer) {
    cmd.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_API_URL", server.uri())
        .env("GITHUB_REPOSITORY", "acme/people")
        .env("GITHUB_TOKEN", "ghs_TESTTOKEN")
        .env("PR_NUMBER", "7");
}

fn gitlab(cmd: &mut std::process::Command, server: &MockServer) {
    cmd.env("GITLAB_CI", "true")
        .env("CI_API_V4_URL", format!("{}/api/v4", server.uri()))
        .env("CI_PROJECT_ID", "12")
        .env("CI_MERGE_REQUEST_IID", "3")
        .env("GITLAB_API_TOKEN", "glpat-TESTTOKEN");
}

async fn run_async(cmd: std::process::Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || run(cmd))
        .await
        .expect("join")
}

fn json(status: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

#[tokio::test]
async fn the_plan_comment_is_posted_once_then_edited_in_place_on_github() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("plan.md"), "### the plan\n").expect("write");
    let comments = "/repos/acme/people/issues/7/comments";

    Mock::given(method("GET"))
        .and(path(comments))
        .and(header("authorization", "Bearer ghs_TESTTOKEN"))
        .respond_with(json(
            200,
            serde_json::json!([{"id": 1, "body": "Looks good"}]),
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(comments))
        .and(marked("body", "### the plan"))
        .respond_with(json(201, serde_json::json!({"id": 42})))
        .expect(1)
        .mount(&server)
        .await;
    let mut cmd = ci_script(dir.path(), &["comment", "plan.md"]);
    github(&mut cmd, &server);
    let err = ok(run_async(cmd).await);
    assert!(err.contains("posted the plan on pull request #7"), "{err}");

    // The next push: the comment is there, and is edited.
    std::fs::write(dir.path().join("plan.md"), "### the new plan\n").expect("write");
    Mock::given(method("GET"))
        .and(path(comments))
        .respond_with(json(
            200,
            serde_json::json!([
                {"id": 1, "body": "Looks good"},
                {"id": 42, "body": format!("{MARKER}### the plan\n")}
            ]),
        ))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/repos/acme/people/issues/comments/42"))
        .and(marked("body", "### the new plan"))
        .respond_with(json(200, serde_json::json!({"id": 42})))
        .expect(1)
        .mount(&server)
        .await;
    let mut cmd = ci_script(dir.path(), &["comment", "plan.md"]);
    github(&mut cmd, &server);
    let err = ok(run_async(cmd).await);
    assert!(
        err.contains("updated the plan comment of pull request #7"),
        "{err}"
    );
    server.verify().await;
}

#[tokio::test]
async fn the_plan_note_is_posted_once_then_edited_in_place_on_gitlab() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("plan.md"), "### the plan\n").expect("write");
    let notes = "/api/v4/projects/12/merge_requests/3/notes";
    Mock::given(method("GET"))
        .and(path(notes))
        .and(header("private-token", "glpat-TESTTOKEN"))
        .respond_with(json(200, serde_json::json!([])))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(notes))
        .and(marked("body", "### the plan"))
        .respond_with(json(201, serde_json::json!({"id": 501})))
        .expect(1)
        .mount(&server)
        .await;
    let mut cmd = ci_script(dir.path(), &["comment", "plan.md"]);
    gitlab(&mut cmd, &server);
    ok(run_async(cmd).await);

    Mock::given(method("GET"))
        .and(path(notes))
        .respond_with(json(
            200,
            serde_json::json!([{"id": 501, "body": format!("{MARKER}### the plan\n")}]),
        ))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("{notes}/501")))
        .and(marked("body", "### the plan"))
        .respond_with(json(200, serde_json::json!({"id": 501})))
        .expect(1)
        .mount(&server)
        .await;
    let mut cmd = ci_script(dir.path(), &["comment", "plan.md"]);
    gitlab(&mut cmd, &server);
    let err = ok(run_async(cmd).await);
    assert!(
        err.contains("updated the plan note of merge request !3"),
        "{err}"
    );
    server.verify().await;
}

#[tokio::test]
async fn the_drift_issue_is_opened_updated_and_closed_once_the_workspace_matches_on_github() {
    let team = Team::new();
    let job = team.checkout("nightly");
    let server = MockServer::start().await;
    let issues = "/repos/acme/people/issues";
    let drift = |server: &MockServer| {
        let mut cmd = ci_script(&job, &["drift", "--snapshot", "workspace.snapshot.json"]);
        // The example replaces a person: the repository allows it, as its applies do.
        cmd.env("CLICKUP_MEMBERS_ALLOW_REPLACE", "true");
        github(&mut cmd, server);
        cmd
    };
    // The Workspace differs from the file and no issue is open: one is opened.
    Mock::given(method("GET"))
        .and(path(issues))
        .and(query_param("state", "open"))
        .and(query_param("labels", "clickup-drift"))
        .respond_with(json(200, serde_json::json!([])))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(issues))
        .and(marked(
            "body",
            "### clickup-members plan for \"Acme Workspace\"",
        ))
        .and(|r: &Request| {
            let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
            v["labels"] == serde_json::json!(["clickup-drift"])
                && v["title"] == "ClickUp Workspace drifted from clickup/members.yaml"
        })
        .respond_with(json(201, serde_json::json!({"number": 5})))
        .expect(1)
        .mount(&server)
        .await;
    let err = ok(run_async(drift(&server)).await);
    assert!(err.contains("opened a drift issue"), "{err}");
    let shown = std::fs::read_to_string(job.join("drift.md")).expect("drift.md");
    assert!(shown.contains("Plan: 3 to invite"), "{shown}");

    // Still drifted the next night: the open issue is updated.
    server.reset().await;
    let open = serde_json::json!([{"number": 5, "body": format!("{MARKER}old plan")}]);
    Mock::given(method("GET"))
        .and(path(issues))
        .respond_with(json(200, open.clone()))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("{issues}/5")))
        .and(marked("body", "### clickup-members plan for"))
        .respond_with(json(200, serde_json::json!({"number": 5})))
        .expect(1)
        .mount(&server)
        .await;
    let err = ok(run_async(drift(&server)).await);
    assert!(err.contains("updated the drift issue 5"), "{err}");
    server.verify().await;

    // The Workspace is brought back to the file: the issue is closed.
    cli()
        .current_dir(&job)
        .args([
            "apply",
            "--auto-approve",
            "--allow-replace",
            "-f",
            "clickup/members.yaml",
        ])
        .args(["--snapshot", "workspace.snapshot.json"])
        .assert()
        .success();
    server.reset().await;
    Mock::given(method("GET"))
        .and(path(issues))
        .respond_with(json(200, open))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("{issues}/5")))
        .and(wiremock::matchers::body_json(
            serde_json::json!({"state": "closed", "state_reason": "completed"}),
        ))
        .respond_with(json(200, serde_json::json!({"number": 5})))
        .expect(1)
        .mount(&server)
        .await;
    let err = ok(run_async(drift(&server)).await);
    assert!(err.contains("closed the drift issue 5"), "{err}");
    server.verify().await;
}

#[tokio::test]
async fn the_drift_issue_is_opened_and_closed_on_gitlab() {
    let team = Team::new();
    let job = team.checkout("nightly");
    let server = MockServer::start().await;
    let issues = "/api/v4/projects/12/issues";
    let drift = |server: &MockServer| {
        let mut cmd = ci_script(&job, &["drift", "--snapshot", "workspace.snapshot.json"]);
        // The example replaces a person: the repository allows it, as its applies do.
        cmd.env("CLICKUP_MEMBERS_ALLOW_REPLACE", "true");
        gitlab(&mut cmd, server);
        cmd
    };
    Mock::given(method("GET"))
        .and(path(issues))
        .and(query_param("state", "opened"))
        .and(query_param("labels", "clickup-drift"))
        .respond_with(json(200, serde_json::json!([])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(issues))
        .and(marked("description", "### clickup-members plan for"))
        .and(|r: &Request| {
            let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
            v["labels"] == "clickup-drift"
        })
        .respond_with(json(201, serde_json::json!({"iid": 9})))
        .expect(1)
        .mount(&server)
        .await;
    ok(run_async(drift(&server)).await);
    server.verify().await;

    cli()
        .current_dir(&job)
        .args([
            "apply",
            "--auto-approve",
            "--allow-replace",
            "-f",
            "clickup/members.yaml",
        ])
        .args(["--snapshot", "workspace.snapshot.json"])
        .assert()
        .success();
    server.reset().await;
    Mock::given(method("GET"))
        .and(path(issues))
        .respond_with(json(
            200,
            serde_json::json!([{"iid": 9, "description": format!("{MARKER}old")}]),
        ))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("{issues}/9")))
        .and(wiremock::matchers::body_json(
            serde_json::json!({"state_event": "close"}),
        ))
        .respond_with(json(200, serde_json::json!({"iid": 9})))
        .expect(1)
        .mount(&server)
        .await;
    let err = ok(run_async(drift(&server)).await);
    assert!(err.contains("closed the drift issue 9"), "{err}");
    server.verify().await;
}

/// Puts the example folder of Workspace files (and their snapshots) in a checkout.
fn teams_layout(checkout: &std::path::Path) {
    let example = repo().join("examples/teams");
    std::fs::remove_dir_all(checkout.join("clickup")).expect("rm");
    crate::common::copy_dir(&example.join("clickup"), &checkout.join("clickup"));
    crate::common::copy_dir(&example.join("snapshots"), &checkout.join("snapshots"));
}

#[test]
fn with_a_folder_of_workspace_files_each_state_is_recorded_and_fetched() {
    let team = Team::new();
    let admin = team.checkout("admin");
    ok(run(ci_script(&admin, &["init-state"])));
    let job = team.checkout("job");
    teams_layout(&job);
    let mut apply = ci_script(&job, &["apply", "--snapshot", "snapshots"]);
    apply
        .env("CLICKUP_MEMBERS_FILE", "clickup")
        .env("CLICKUP_MEMBERS_APPLY_UNREVIEWED", "true");
    let err = ok(run(apply));
    assert!(
        err.contains("recorded clickup/acme.state.json clickup/eu.state.json"),
        "{err}"
    );
    let files = team.branch_files();
    for state in ["clickup/acme.state.json", "clickup/eu.state.json"] {
        assert!(files.contains(&state.to_owned()), "{files:?}");
    }
    assert!(
        files
            .iter()
            .any(|f| f.starts_with("clickup/audit/") && f.ends_with(".jsonl")),
        "{files:?}"
    );

    // The next job takes both states back, and plans no changes against what was applied.
    let next = team.checkout("next");
    teams_layout(&next);
    let mut fetch = ci_script(&next, &["fetch-state", "required"]);
    fetch.env("CLICKUP_MEMBERS_FILE", "clickup");
    let err = ok(run(fetch));
    assert!(
        err.contains("took clickup/acme.state.json") && err.contains("took clickup/eu.state.json"),
        "{err}"
    );
    cli()
        .current_dir(&next)
        .args(["plan", "-f", "clickup", "--snapshot", "../job/snapshots"])
        .args(["--detailed-exitcode"])
        .assert()
        .code(0);
}

// ---------------------------------------------------------------------------------------------
// What was reviewed is what is applied: the merge finds its pull or merge request's saved plan
// through fake GitHub and GitLab APIs that answer as their REST references document.

/// The edit a pull request makes in these tests: one role.
const PROMOTED: (&str, &str) = (
    "    role: admin  # promoted",
    "    role: member  # not promoted after all",
);

impl Team {
    /// ClickUp for the jobs of one test: the example's snapshot beside the checkouts, first
    /// brought to the file when `converged`, so that a pull request plans only its own change.
    fn clickup(&self, converged: bool) -> std::path::PathBuf {
        let path = self.dir.path().join("clickup.json");
        std::fs::copy(repo().join("examples/acme/workspace.snapshot.json"), &path).expect("copy");
        if converged {
            cli()
                .args(["apply", "--auto-approve", "--allow-replace", "-f"])
                .arg(repo().join("examples/acme/members.yaml"))
                .arg("--snapshot")
                .arg(&path)
                .arg("--state")
                .arg(self.dir.path().join("converge.state.json"))
                .assert()
                .success();
        }
        path
    }

    /// A checkout whose member file has `edit` made and committed (a pull request's head, or
    /// the commit that merged it); gives the checkout and the commit.
    fn commit(&self, name: &str, edit: (&str, &str)) -> (std::path::PathBuf, String) {
        let checkout = self.checkout(name);
        crate::common::edit(&checkout.join("clickup/members.yaml"), edit.0, edit.1);
        git(
            &checkout,
            &["commit", "--quiet", "-am", "Max is not promoted after all"],
        );
        let sha = git(&checkout, &["rev-parse", "HEAD"]);
        (checkout, sha)
    }

    fn init_state(&self) {
        let admin = self.checkout("admin");
        ok(run(ci_script(&admin, &["init-state"])));
    }
}

/// `plan --detailed-exitcode` of the checkout's file against `clickup`: exit 0 when it
/// matches, 2 when there are changes.
fn plan_detailed(checkout: &std::path::Path, file: &str, clickup: &std::path::Path) -> Assert {
    cli()
        .current_dir(checkout)
        .args(["plan", "--detailed-exitcode", "-f", file, "--snapshot"])
        .arg(clickup)
        .assert()
}

/// The pull request's plan job: `plan` in its checkout, against `clickup`, with a read token;
/// gives the saved plan and its markdown, as its artifact holds them.
fn pull_request_plan(pr: &std::path::Path, clickup: &str, env: &[(&str, &str)]) -> Vec<u8> {
    let mut plan = ci_script(pr, &["plan", "--snapshot", clickup]);
    plan.env("CLICKUP_READ_TOKEN", "pk_1_READTOKEN");
    for (key, value) in env {
        plan.env(key, value);
    }
    run(plan).assert().code(predicate::in_iter([0, 1]));
    let json = std::fs::read(pr.join("plan.json")).expect("the plan job saved plan.json");
    let md = std::fs::read(pr.join("plan.md")).expect("plan.md");
    zip(&[("plan.json", &json), ("plan.md", &md)])
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A zip archive of `files`, stored uncompressed: what GitHub serves for an artifact.
fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    let (mut out, mut central) = (Vec::new(), Vec::new());
    let n = |v: usize| u32::try_from(v).expect("small");
    for (name, data) in files {
        let offset = n(out.len());
        // version 2.0, no flags, stored, 1980-01-01 00:00, crc, sizes, name length, no extra
        let mut fields = Vec::new();
        for half in [20u16, 0, 0, 0, 0x21] {
            fields.extend(half.to_le_bytes());
        }
        for word in [crc32(data), n(data.len()), n(data.len())] {
            fields.extend(word.to_le_bytes());
        }
        fields.extend(u16::try_from(name.len()).expect("short").to_le_bytes());
        fields.extend(0u16.to_le_bytes());
        out.extend(0x0403_4b50u32.to_le_bytes());
        out.extend(&fields);
        out.extend(name.as_bytes());
        out.extend(*data);
        central.extend(0x0201_4b50u32.to_le_bytes());
        central.extend(20u16.to_le_bytes());
        central.extend(&fields);
        // no comment, disk 0, no attributes, where the local header is
        central.extend([0u8; 6]);
        central.extend(0u32.to_le_bytes());
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let (start, size) = (n(out.len()), n(central.len()));
    out.extend(central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    let count = u16::try_from(files.len()).expect("few");
    for half in [0u16, 0, count, count] {
        out.extend(half.to_le_bytes());
    }
    out.extend(size.to_le_bytes());
    out.extend(start.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// The requests a fake received, as `METHOD /path?query`, in order.
async fn requests(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let query = r.url.query().map(|q| format!("?{q}")).unwrap_or_default();
            format!("{} {}{}", r.method, r.url.path(), query)
        })
        .collect()
}

/// Every request a fake received carries `header` with `value`.
async fn all_carry(server: &MockServer, header: &str, value: &str) {
    for r in server.received_requests().await.unwrap_or_default() {
        assert_eq!(
            r.headers.get(header).and_then(|v| v.to_str().ok()),
            Some(value),
            "{} {} without {header}: {value}",
            r.method,
            r.url
        );
    }
}

/// What became of the pull request's plan on GitHub.
enum Kept {
    Saved(Vec<u8>),
    Expired,
    Missing,
}

/// GitHub, in the shapes of its REST reference: pull request #7 (head `head`) was merged as
/// `merge` (an open pull request #6 holds the commit too), and its plan job's artifact is
/// `kept`; its zip is a redirect to `storage`, which serves the archive to whoever has the
/// link.
async fn github_merged(
    api: &MockServer,
    storage: &MockServer,
    merge: &str,
    head: &str,
    kept: Kept,
) {
    let repo = "/repos/acme/people";
    Mock::given(method("GET"))
        .and(path(format!("{repo}/commits/{merge}/pulls")))
        .respond_with(json(
            200,
            serde_json::json!([
                {"number": 6, "state": "open", "merged_at": null, "merge_commit_sha": "6".repeat(40),
                 "head": {"ref": "later", "sha": "5".repeat(40)}, "base": {"ref": "main"}},
                {"number": 7, "state": "closed", "merged_at": "2026-06-01T10:00:00Z",
                 "merge_commit_sha": merge, "title": "Max is not promoted after all",
                 "head": {"ref": "max", "sha": head}, "base": {"ref": "main"}}
            ]),
        ))
        .mount(api)
        .await;
    let name = format!("clickup-members-plan-{head}");
    let artifact = |id: u64, expired: bool, created: &str| {
        serde_json::json!({
            "id": id, "node_id": "MDg6QXJ0aWZhY3Q=", "name": name, "size_in_bytes": 4096,
            "url": format!("https://api.github.com{repo}/actions/artifacts/{id}"),
            "archive_download_url": format!("https://api.github.com{repo}/actions/artifacts/{id}/zip"),
            "expired": expired, "created_at": created, "updated_at": created,
            "expires_at": "2026-08-30T10:00:00Z",
            "workflow_run": {"id": 900 + id, "repository_id": 1, "head_repository_id": 1,
                             "head_branch": "max", "head_sha": head}
        })
    };
    let artifacts = match &kept {
        Kept::Saved(_) => vec![
            artifact(40, true, "2026-05-01T10:00:00Z"),
            artifact(41, false, "2026-06-01T09:00:00Z"),
        ],
        Kept::Expired => vec![artifact(40, true, "2026-05-01T10:00:00Z")],
        Kept::Missing => vec![],
    };
    Mock::given(method("GET"))
        .and(path(format!("{repo}/actions/artifacts")))
        .and(query_param("name", name.as_str()))
        .respond_with(json(
            200,
            serde_json::json!({"total_count": artifacts.len(), "artifacts": artifacts}),
        ))
        .mount(api)
        .await;
    if let Kept::Saved(archive) = kept {
        Mock::given(method("GET"))
            .and(path(format!("{repo}/actions/artifacts/41/zip")))
            .respond_with(ResponseTemplate::new(302).insert_header(
                "Location",
                format!("{}/artifacts/41/plan.zip?sig=SIGNED", storage.uri()).as_str(),
            ))
            .mount(api)
            .await;
        Mock::given(method("GET"))
            .and(path("/artifacts/41/plan.zip"))
            .and(query_param("sig", "SIGNED"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("Content-Type", "application/zip")
                    .set_body_bytes(archive),
            )
            .mount(storage)
            .await;
    }
}

/// The apply job on GitHub, for the push of `merge`: the job's token, the admin's ClickUp token
/// (unused against a snapshot), `clickup` as the Workspace.
fn github_apply(
    job: &std::path::Path,
    api: &MockServer,
    merge: &str,
    clickup: &str,
) -> std::process::Command {
    let mut cmd = ci_script(job, &["apply", "--snapshot", clickup]);
    github(&mut cmd, api);
    cmd.env("GITHUB_SHA", merge);
    cmd
}

#[tokio::test]
async fn a_merge_applies_the_plan_its_pull_request_reviewed_on_github() {
    let team = Team::new();
    team.init_state();
    let clickup = team.clickup(true);
    let (pr, head) = team.commit("pr", PROMOTED);
    let archive = pull_request_plan(&pr, "../clickup.json", &[]);
    let (job, merge) = team.commit("job", PROMOTED);
    plan_detailed(&job, "clickup/members.yaml", &clickup).code(2);

    let (api, storage) = (MockServer::start().await, MockServer::start().await);
    github_merged(&api, &storage, &merge, &head, Kept::Saved(archive)).await;
    run_async(github_apply(&job, &api, &merge, "../clickup.json"))
        .await
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "applying the plan reviewed on pull request #7 (artifact clickup-members-plan-{head})"
        )))
        .stdout(predicate::str::contains("Apply complete!"));
    // Applied.
    plan_detailed(&job, "clickup/members.yaml", &clickup).code(0);
    assert!(
        team.branch_files().contains(&STATE.to_owned()),
        "state recorded"
    );

    // Exactly these requests, each with the job's token; the storage link without it.
    assert_eq!(
        requests(&api).await,
        [
            format!("GET /repos/acme/people/commits/{merge}/pulls?per_page=100"),
            format!(
                "GET /repos/acme/people/actions/artifacts?name=clickup-members-plan-{head}&per_page=100"
            ),
            "GET /repos/acme/people/actions/artifacts/41/zip".to_owned(),
        ]
    );
    all_carry(&api, "authorization", "Bearer ghs_TESTTOKEN").await;
    all_carry(&api, "accept", "application/vnd.github+json").await;
    all_carry(&api, "x-github-api-version", "2022-11-28").await;
    let fetched = storage.received_requests().await.unwrap_or_default();
    assert_eq!(fetched.len(), 1);
    assert!(
        fetched[0].headers.get("authorization").is_none(),
        "the token stays with GitHub's API"
    );
}

#[tokio::test]
async fn only_what_the_pull_request_reviewed_is_applied_on_merge() {
    let team = Team::new();
    team.init_state();
    let clickup = team.clickup(true);
    let (pr, head) = team.commit("pr", PROMOTED);
    let archive = pull_request_plan(&pr, "../clickup.json", &[]);
    // After the review, someone takes dan's custom role away in ClickUp's UI: the file would
    // give it back, but nobody reviewed that change.
    let mut workspace: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&clickup).expect("read")).expect("json");
    for member in workspace["team"]["members"]
        .as_array_mut()
        .expect("members")
    {
        if member["user"]["email"] == "dan@acme.example" {
            member["user"]["custom_role"] = serde_json::Value::Null;
        }
    }
    std::fs::write(&clickup, workspace.to_string()).expect("write");

    let (job, merge) = team.commit("job", PROMOTED);
    let (api, storage) = (MockServer::start().await, MockServer::start().await);
    github_merged(&api, &storage, &merge, &head, Kept::Saved(archive)).await;
    run_async(github_apply(&job, &api, &merge, "../clickup.json"))
        .await
        .assert()
        .code(1)
        .stdout(predicate::str::contains("member max@acme.example: changed"))
        .stdout(predicate::str::contains("Not reviewed, not made (1)"))
        .stdout(predicate::str::contains("dan@acme.example"))
        .stderr(predicate::str::contains("is not in the reviewed plan"));
    assert!(
        team.branch_files().contains(&STATE.to_owned()),
        "what was applied is recorded"
    );
}

#[tokio::test]
async fn a_push_without_a_reviewed_plan_applies_nothing_on_github() {
    let team = Team::new();
    team.init_state();
    let clickup = team.clickup(true);
    let before = std::fs::read(&clickup).expect("read");
    let (job, merge) = team.commit("job", PROMOTED);
    let head = "b".repeat(40);
    let cases = [
        (None, "no merged pull request has"),
        (
            Some(Kept::Expired),
            "the plan of pull request #7 (artifact clickup-members-plan-bbbb",
        ),
        (
            Some(Kept::Missing),
            "pull request #7 has no saved plan (no artifact clickup-members-plan-bbbb",
        ),
    ];
    for (kept, why) in cases {
        let (api, storage) = (MockServer::start().await, MockServer::start().await);
        match kept {
            // A push straight to the default branch: no pull request merged it.
            None => {
                Mock::given(method("GET"))
                    .and(path(format!("/repos/acme/people/commits/{merge}/pulls")))
                    .respond_with(json(200, serde_json::json!([])))
                    .mount(&api)
                    .await;
            }
            Some(kept) => github_merged(&api, &storage, &merge, &head, kept).await,
        }
        let err = fails(run_async(github_apply(&job, &api, &merge, "../clickup.json")).await);
        assert!(
            err.contains(&format!("error: no reviewed plan to apply: {why}")),
            "{err}"
        );
        assert!(
            err.contains("Nothing was applied")
                && err.contains("CLICKUP_MEMBERS_APPLY_UNREVIEWED=true"),
            "{err}"
        );
        assert_eq!(
            std::fs::read(&clickup).expect("read"),
            before,
            "nothing applied"
        );
        assert_eq!(team.branch_files(), ["README.md"], "the state is untouched");
        assert!(
            storage
                .received_requests()
                .await
                .unwrap_or_default()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn an_unreviewed_apply_is_made_only_where_the_repository_allows_it_and_says_so() {
    let team = Team::new();
    team.init_state();
    let clickup = team.clickup(true);
    let (job, merge) = team.commit("job", PROMOTED);
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/acme/people/commits/{merge}/pulls")))
        .respond_with(json(200, serde_json::json!([])))
        .expect(1)
        .mount(&api)
        .await;
    let mut apply = github_apply(&job, &api, &merge, "../clickup.json");
    apply.env("CLICKUP_MEMBERS_APPLY_UNREVIEWED", "true");
    run_async(apply)
        .await
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "warning: APPLYING AN UNREVIEWED PLAN: no merged pull request has",
        ))
        // An annotation on the run's page.
        .stdout(predicate::str::contains(
            "::warning title=clickup-members::APPLYING AN UNREVIEWED PLAN",
        ));
    // Applied.
    plan_detailed(&job, "clickup/members.yaml", &clickup).code(0);
    assert!(team.branch_files().contains(&STATE.to_owned()));
    api.verify().await;
}

#[tokio::test]
async fn a_lookup_github_refuses_fails_the_apply_even_where_unreviewed_applies_are_allowed() {
    let team = Team::new();
    team.init_state();
    let clickup = team.clickup(true);
    let before = std::fs::read(&clickup).expect("read");
    let (job, merge) = team.commit("job", PROMOTED);
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(
            403,
            serde_json::json!({"message": "Resource not accessible by integration",
                               "documentation_url": "https://docs.github.com/rest"}),
        ))
        .mount(&api)
        .await;
    let mut apply = github_apply(&job, &api, &merge, "../clickup.json");
    apply.env("CLICKUP_MEMBERS_APPLY_UNREVIEWED", "true");
    let err = fails(run_async(apply).await);
    assert!(
        err.contains("was answered 403") && err.contains("pull-requests: read"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&clickup).expect("read"),
        before,
        "nothing applied"
    );
    assert_eq!(team.branch_files(), ["README.md"]);
}

#[tokio::test]
async fn allow_replace_by_hand_applies_the_reviewed_plan_of_the_merge_commit() {
    let team = Team::new();
    team.init_state();
    // The example's Workspace: the file turns a member into a guest, a replace.
    let clickup = team.clickup(false);
    let before = std::fs::read(&clickup).expect("read");
    let (pr, head) = team.commit("pr", PROMOTED);
    let archive = pull_request_plan(&pr, "../clickup.json", &[]);
    let md = std::fs::read_to_string(pr.join("plan.md")).expect("plan.md");
    assert!(
        md.starts_with("> :no_entry: **Apply on merge will refuse this plan:**"),
        "{md}"
    );

    let (job, merge) = team.commit("job", PROMOTED);
    let (api, storage) = (MockServer::start().await, MockServer::start().await);
    github_merged(&api, &storage, &merge, &head, Kept::Saved(archive)).await;
    // The push: the reviewed plan replaces someone, which apply refuses. Nothing is made.
    let err = fails(run_async(github_apply(&job, &api, &merge, "../clickup.json")).await);
    assert!(
        err.contains("apply makes replaces only with --allow-replace"),
        "{err}"
    );
    assert!(
        err.contains("the reviewed plan replaces people, which apply makes only with allow replace: once it is reviewed, run this apply by hand with it"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&clickup).expect("read"),
        before,
        "nothing applied"
    );

    // Run by hand with "allow replace", after another commit landed: the reviewed plan of the
    // merge commit named, replaces included.
    let mut by_hand = github_apply(&job, &api, &"c".repeat(40), "../clickup.json");
    by_hand
        .env("CLICKUP_MEMBERS_ALLOW_REPLACE", "true")
        .env("CLICKUP_MEMBERS_MERGE_COMMIT", &merge);
    run_async(by_hand)
        .await
        .assert()
        .success()
        .stdout(predicate::str::contains("1 replaced"));
    // Applied.
    plan_detailed(&job, "clickup/members.yaml", &clickup).code(0);
    let asked = requests(&api).await;
    assert!(
        asked
            .iter()
            .filter(|r| r.contains(&format!("/commits/{merge}/pulls")))
            .count()
            == 2,
        "{asked:?}"
    );
}

/// GitLab, in the shapes of its REST reference: merge request !3 (head `head`) was merged as
/// `merge` (an open one holds the commit too); its last pipeline, 77, ran the plan job 501,
/// which kept `plan` as plan.json (None: no such file).
async fn gitlab_merged(api: &MockServer, merge: &str, head: &str, plan: Option<Vec<u8>>) {
    let project = "/api/v4/projects/12";
    Mock::given(method("GET"))
        .and(path(format!(
            "{project}/repository/commits/{merge}/merge_requests"
        )))
        .respond_with(json(
            200,
            serde_json::json!([
                {"id": 1041, "iid": 2, "project_id": 12, "state": "opened", "sha": "5".repeat(40),
                 "merge_commit_sha": null, "squash_commit_sha": null, "merged_at": null,
                 "source_branch": "later", "target_branch": "main"},
                {"id": 1042, "iid": 3, "project_id": 12, "title": "Max is not promoted after all",
                 "state": "merged", "merged_at": "2026-06-01T10:00:00.000Z", "sha": head,
                 "merge_commit_sha": merge, "squash_commit_sha": null,
                 "source_branch": "max", "target_branch": "main",
                 "web_url": "https://gitlab.example.com/acme/people/-/merge_requests/3"}
            ]),
        ))
        .mount(api)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{project}/merge_requests/3/pipelines")))
        .respond_with(json(
            200,
            serde_json::json!([
                {"id": 77, "iid": 40, "project_id": 12, "sha": head, "ref": "refs/merge-requests/3/head",
                 "status": "success", "source": "merge_request_event",
                 "created_at": "2026-06-01T09:00:00.000Z", "updated_at": "2026-06-01T09:05:00.000Z",
                 "web_url": "https://gitlab.example.com/acme/people/-/pipelines/77"}
            ]),
        ))
        .mount(api)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{project}/pipelines/77/jobs")))
        .respond_with(json(
            200,
            serde_json::json!([
                {"id": 502, "name": "check", "stage": "plan", "status": "success", "artifacts": []},
                {"id": 501, "name": "plan", "stage": "plan", "status": "success",
                 "ref": "refs/merge-requests/3/head",
                 "artifacts": [{"file_type": "archive", "size": 4096, "filename": "artifacts.zip", "file_format": "zip"},
                               {"file_type": "metadata", "size": 180, "filename": "metadata.gz", "file_format": "gzip"}],
                 "artifacts_expire_at": "2026-08-30T09:05:00.000Z"}
            ]),
        ))
        .mount(api)
        .await;
    let file =
        Mock::given(method("GET")).and(path(format!("{project}/jobs/501/artifacts/plan.json")));
    match plan {
        Some(plan) => file.respond_with(ResponseTemplate::new(200).set_body_bytes(plan)),
        None => file.respond_with(json(404, serde_json::json!({"message": "404 Not Found"}))),
    }
    .mount(api)
    .await;
}

fn gitlab_apply(
    job: &std::path::Path,
    api: &MockServer,
    merge: &str,
    clickup: &str,
) -> std::process::Command {
    let mut cmd = ci_script(job, &["apply", "--snapshot", clickup]);
    gitlab(&mut cmd, api);
    cmd.env("CI_COMMIT_SHA", merge);
    cmd
}

#[tokio::test]
async fn a_merge_applies_the_plan_its_merge_request_reviewed_on_gitlab() {
    let team = Team::new();
    team.init_state();
    let clickup = team.clickup(true);
    let (pr, head) = team.commit("mr", PROMOTED);
    pull_request_plan(&pr, "../clickup.json", &[]);
    let plan = std::fs::read(pr.join("plan.json")).expect("plan.json");
    let (job, merge) = team.commit("job", PROMOTED);

    let api = MockServer::start().await;
    gitlab_merged(&api, &merge, &head, Some(plan)).await;
    let err = ok(run_async(gitlab_apply(&job, &api, &merge, "../clickup.json")).await);
    assert!(
        err.contains("applying the plan reviewed on merge request !3 (job 501 of pipeline 77)"),
        "{err}"
    );
    // Applied.
    plan_detailed(&job, "clickup/members.yaml", &clickup).code(0);
    assert!(team.branch_files().contains(&STATE.to_owned()));
    let project = "/api/v4/projects/12";
    assert_eq!(
        requests(&api).await,
        [
            format!("GET {project}/repository/commits/{merge}/merge_requests"),
            format!("GET {project}/merge_requests/3/pipelines?per_page=1"),
            format!("GET {project}/pipelines/77/jobs?per_page=100"),
            format!("GET {project}/jobs/501/artifacts/plan.json"),
        ]
    );
    all_carry(&api, "private-token", "glpat-TESTTOKEN").await;
}

#[tokio::test]
async fn a_push_without_a_reviewed_plan_applies_nothing_on_gitlab() {
    let team = Team::new();
    team.init_state();
    let clickup = team.clickup(true);
    let before = std::fs::read(&clickup).expect("read");
    let (job, merge) = team.commit("job", PROMOTED);

    // The merge request's plan job kept no plan.json.
    let api = MockServer::start().await;
    gitlab_merged(&api, &merge, &"b".repeat(40), None).await;
    let err = fails(run_async(gitlab_apply(&job, &api, &merge, "../clickup.json")).await);
    assert!(
        err.contains("no reviewed plan to apply: the job plan (501) of merge request !3's last pipeline kept no plan.json"),
        "{err}"
    );
    // A push straight to the default branch.
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/api/v4/projects/12/repository/commits/{merge}/merge_requests"
        )))
        .respond_with(json(200, serde_json::json!([])))
        .mount(&api)
        .await;
    let err = fails(run_async(gitlab_apply(&job, &api, &merge, "../clickup.json")).await);
    assert!(
        err.contains("no reviewed plan to apply: no merged merge request has")
            && err.contains("Nothing was applied"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&clickup).expect("read"),
        before,
        "nothing applied"
    );
    assert_eq!(team.branch_files(), ["README.md"], "the state is untouched");
}

#[tokio::test]
async fn a_folder_of_workspace_files_is_applied_from_its_reviewed_plan() {
    let team = Team::new();
    team.init_state();
    // ClickUp: the example's two Workspaces, brought to their files.
    let snapshots = team.dir.path().join("snapshots");
    crate::common::copy_dir(&repo().join("examples/teams/snapshots"), &snapshots);
    let scratch = team.checkout("converge");
    teams_layout(&scratch);
    cli()
        .current_dir(&scratch)
        .args([
            "apply",
            "--auto-approve",
            "-f",
            "clickup",
            "--snapshot",
            "../snapshots",
        ])
        .assert()
        .success();
    let farah = (
        "  - email: farah@acme.example\n",
        "  - email: farah@acme.example\n    role: admin\n",
    );
    let change = |name: &str| {
        let checkout = team.checkout(name);
        teams_layout(&checkout);
        crate::common::edit(&checkout.join("clickup/eu.yaml"), farah.0, farah.1);
        git(&checkout, &["add", "-A"]);
        git(
            &checkout,
            &["commit", "--quiet", "-m", "Farah runs the EU office"],
        );
        let sha = git(&checkout, &["rev-parse", "HEAD"]);
        (checkout, sha)
    };
    let (pr, head) = change("pr");
    pull_request_plan(&pr, "../snapshots", &[("CLICKUP_MEMBERS_FILE", "clickup")]);
    let plan = std::fs::read(pr.join("plan.json")).expect("plan.json");
    let saved: serde_json::Value = serde_json::from_slice(&plan).expect("json");
    assert_eq!(saved["format_version"], 1);
    assert_eq!(
        saved["workspaces"].as_array().map(Vec::len),
        Some(2),
        "{saved}"
    );

    let (job, merge) = change("job");
    plan_detailed(&job, "clickup", &snapshots).code(2);
    let api = MockServer::start().await;
    gitlab_merged(&api, &merge, &head, Some(plan)).await;
    let mut apply = gitlab_apply(&job, &api, &merge, "../snapshots");
    apply.env("CLICKUP_MEMBERS_FILE", "clickup");
    let err = ok(run_async(apply).await);
    assert!(
        err.contains("recorded clickup/acme.state.json clickup/eu.state.json"),
        "{err}"
    );
    // Applied.
    plan_detailed(&job, "clickup", &snapshots).code(0);
}

#[tokio::test]
async fn the_reviewed_plan_can_be_saved_on_its_own() {
    let team = Team::new();
    team.clickup(true);
    let (pr, head) = team.commit("pr", PROMOTED);
    let archive = pull_request_plan(&pr, "../clickup.json", &[]);
    let (job, merge) = team.commit("job", PROMOTED);
    let (api, storage) = (MockServer::start().await, MockServer::start().await);
    github_merged(&api, &storage, &merge, &head, Kept::Saved(archive)).await;
    let mut cmd = ci_script(&job, &["reviewed-plan", "reviewed.json"]);
    github(&mut cmd, &api);
    cmd.env("GITHUB_SHA", &merge);
    let err = ok(run_async(cmd).await);
    assert!(
        err.contains("saved the plan reviewed on pull request #7"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(job.join("reviewed.json")).expect("saved"),
        std::fs::read(pr.join("plan.json")).expect("plan")
    );
    let shown = cli()
        .current_dir(&job)
        .args(["show", "reviewed.json"])
        .output()
        .expect("show");
    assert!(
        stdout(&shown).contains("max@acme.example"),
        "{}",
        stdout(&shown)
    );
}

// ---------------------------------------------------------------------------------------------
// The read token, the drift check and the access review.

/// A ClickUp that refuses every token: enough to see which token each job sends.
async fn refusing_clickup() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(
            401,
            serde_json::json!({"err": "Token invalid", "ECODE": "OAUTH_025"}),
        ))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn the_jobs_that_only_read_send_clickup_the_read_token_never_the_admins() {
    let team = Team::new();
    let job = team.checkout("job");
    for args in [&["plan"][..], &["drift"], &["report"]] {
        let clickup = refusing_clickup().await;
        let mut cmd = ci_script(&job, args);
        cmd.env("CLICKUP_API_URL", clickup.uri())
            .env("CLICKUP_READ_TOKEN", "pk_1_READTOKEN")
            .env("CLICKUP_TOKEN", "pk_2_ADMINTOKEN");
        run_async(cmd)
            .await
            .assert()
            .append_context("args", format!("{args:?}"))
            .failure();
        assert!(
            !clickup
                .received_requests()
                .await
                .unwrap_or_default()
                .is_empty(),
            "{args:?} read ClickUp"
        );
        all_carry(&clickup, "authorization", "pk_1_READTOKEN").await;
    }
}

#[tokio::test]
async fn the_drift_check_without_a_token_compares_with_the_recorded_workspace_and_says_so() {
    let team = Team::new();
    team.init_state();
    let job = team.checkout("job");
    let mut apply = ci_script(&job, &["apply", "--snapshot", "workspace.snapshot.json"]);
    apply
        .env("CLICKUP_MEMBERS_ALLOW_REPLACE", "true")
        .env("CLICKUP_MEMBERS_APPLY_UNREVIEWED", "true");
    ok(run(apply));

    let nightly = team.checkout("nightly");
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/people/issues"))
        .respond_with(json(200, serde_json::json!([])))
        .mount(&server)
        .await;
    let mut drift = ci_script(&nightly, &["drift"]);
    github(&mut drift, &server);
    run_async(drift)
        .await
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "no ClickUp read token (CLICKUP_READ_TOKEN is not set): the drift check compares clickup/members.yaml with the Workspace as the last apply recorded it",
        ))
        .stdout(predicate::str::contains(
            "::warning title=clickup-members::no ClickUp read token",
        ));
    let md = std::fs::read_to_string(nightly.join("drift.md")).expect("drift.md");
    assert!(
        md.starts_with("> **Planned without reading ClickUp: against the Workspace as the last apply recorded it"),
        "{md}"
    );
}

#[test]
fn the_access_review_without_a_token_fails_with_what_to_set() {
    let team = Team::new();
    let job = team.checkout("job");
    let err = fails(run(ci_script(&job, &["report"])));
    assert!(
        err.contains(
            "the access review reads the live Workspace and needs a token: set CLICKUP_READ_TOKEN"
        ),
        "{err}"
    );
    assert!(!job.join("access-review.csv").exists());
}

#[test]
fn the_access_review_is_kept_on_the_state_branch_past_any_artifact_retention() {
    let team = Team::new();
    let job = team.checkout("job");
    // Without a state branch, the review is made but cannot be kept: the job fails saying so.
    let err = fails(run(ci_script(
        &job,
        &["report", "--snapshot", "workspace.snapshot.json"],
    )));
    assert!(
        err.contains("cannot be kept: the state branch 'clickup-members-state' does not exist"),
        "{err}"
    );

    team.init_state();
    let err = ok(run(ci_script(
        &job,
        &["report", "--snapshot", "workspace.snapshot.json"],
    )));
    let today = String::from_utf8(
        std::process::Command::new("date")
            .args(["-u", "+%Y-%m-%d"])
            .output()
            .expect("date")
            .stdout,
    )
    .expect("utf-8");
    let today = today.trim();
    assert!(
        err.contains(&format!(
            "recorded clickup/reviews/{today}.csv clickup/reviews/{today}.md"
        )),
        "{err}"
    );
    for ext in ["csv", "md"] {
        let kept = git(
            &team.remote(),
            &[
                "show",
                &format!("{STATE_BRANCH}:clickup/reviews/{today}.{ext}"),
            ],
        );
        let made = std::fs::read_to_string(job.join(format!("access-review.{ext}"))).expect("made");
        assert_eq!(kept, made.trim_end());
    }
    let message = git(&team.remote(), &["log", "-1", "--format=%s", STATE_BRANCH]);
    assert_eq!(
        message,
        format!("clickup-members: access review of {today}")
    );
}

#[tokio::test]
async fn a_drift_whose_plan_apply_would_refuse_opens_the_issue_and_fails() {
    let team = Team::new();
    let issues = "/repos/acme/people/issues";
    // A replace without allow-replace (the example as it is); more removals than
    // max_removals allows. Each: the file's policy line, the repository's allow-replace, and
    // the reason the issue shows.
    let cases = [
        (
            "max_removals: 6",
            false,
            "apply makes replaces only with --allow-replace",
        ),
        (
            "max_removals: 1",
            true,
            "more than policy.max\\_removals (1)",
        ),
    ];
    for (n, (policy, allow_replace, reason)) in cases.into_iter().enumerate() {
        let nightly = team.checkout(&format!("nightly{n}"));
        crate::common::edit(
            &nightly.join("clickup/members.yaml"),
            "max_removals: 6",
            policy,
        );
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(issues))
            .respond_with(json(200, serde_json::json!([])))
            .mount(&server)
            .await;
        let top = "> :no_entry: **Apply on merge will refuse this plan:**";
        Mock::given(method("POST"))
            .and(path(issues))
            .and(marked("body", top))
            .and(move |r: &Request| {
                serde_json::from_slice::<serde_json::Value>(&r.body)
                    .ok()
                    .and_then(|v| v["body"].as_str().map(|b| b.contains(reason)))
                    .unwrap_or(false)
            })
            .respond_with(json(201, serde_json::json!({"number": 5})))
            .expect(1)
            .mount(&server)
            .await;
        let mut drift = ci_script(
            &nightly,
            &["drift", "--snapshot", "workspace.snapshot.json"],
        );
        github(&mut drift, &server);
        if allow_replace {
            drift.env("CLICKUP_MEMBERS_ALLOW_REPLACE", "true");
        }
        let err = fails(run_async(drift).await);
        assert!(err.contains("opened a drift issue"), "{err}");
        assert!(
            err.contains("the Workspace drifted from clickup/members.yaml, and apply would refuse the plan that brings it back"),
            "{err}"
        );
        server.verify().await;
    }
}

#[tokio::test]
async fn a_drift_check_that_cannot_plan_leaves_the_issue_alone() {
    let team = Team::new();
    let nightly = team.checkout("nightly");
    let clickup = refusing_clickup().await;
    let github_api = MockServer::start().await;
    let mut drift = ci_script(&nightly, &["drift"]);
    github(&mut drift, &github_api);
    drift
        .env("CLICKUP_API_URL", clickup.uri())
        .env("CLICKUP_READ_TOKEN", "pk_1_READTOKEN");
    let err = fails(run_async(drift).await);
    assert!(
        err.contains(
            "the drift check could not plan (exit 1): see above; the drift issue is left as it was"
        ),
        "{err}"
    );
    assert_eq!(
        requests(&github_api).await,
        Vec::<String>::new(),
        "no issue opened or closed"
    );
}

// ---------------------------------------------------------------------------------------------
// The recipes and the README agree on tokens, branches, retention and the API they use.

fn yaml(path: &std::path::Path) -> serde_json::Value {
    serde_saphyr::from_str(&std::fs::read_to_string(path).expect("read")).expect("YAML")
}

#[test]
fn the_admins_token_reaches_only_the_apply_job_of_the_clickup_environment() {
    let dir = repo().join("examples/ci/github");
    for (name, writes) in [
        ("clickup-members-apply.yml", true),
        ("clickup-members-plan.yml", false),
        ("clickup-members-drift.yml", false),
        ("clickup-members-access-review.yml", false),
    ] {
        let text = std::fs::read_to_string(dir.join(name)).expect("read");
        let workflow = yaml(&dir.join(name));
        for (job_name, job) in workflow["jobs"].as_object().expect("jobs") {
            let job_text = serde_json::to_string(job).expect("json");
            if job_text.contains("secrets.CLICKUP_TOKEN") {
                assert_eq!(
                    job["environment"], "clickup",
                    "{name}: {job_name} uses the admin's token"
                );
            }
        }
        assert_eq!(text.contains("secrets.CLICKUP_TOKEN"), writes, "{name}");
        assert_eq!(
            text.contains("secrets.CLICKUP_READ_TOKEN"),
            !writes,
            "{name}"
        );
    }
    // Every recipe's header says where the tokens live as the README does: the admin's in the
    // environment clickup (a protected variable on GitLab), the read token a repository secret.
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    let words = |text: &str| -> String {
        text.lines()
            .map(|l| l.trim_start().trim_start_matches('#').trim())
            .collect::<Vec<_>>()
            .join(" ")
            .replace('`', "")
    };
    for path in recipes()
        .iter()
        .map(|p| p.as_path())
        .chain([repo().join("README.md").as_path()])
    {
        let text = words(&std::fs::read_to_string(path).expect("read"));
        for (at, _) in text.match_indices("repository secret") {
            let after: String = text[at..].chars().take(50).collect();
            assert!(
                !after.contains("CLICKUP_TOKEN"),
                "{}: \"{after}\": the admin's token lives in the environment clickup",
                path.display()
            );
        }
    }
    for path in recipes() {
        let header: String = std::fs::read_to_string(&path)
            .expect("read")
            .lines()
            .take_while(|l| l.starts_with('#'))
            .collect::<Vec<_>>()
            .join(" ");
        if header.contains("CLICKUP_TOKEN") {
            assert!(
                header.contains("environment clickup")
                    || header.contains("environment scope clickup"),
                "{}: its header says where the admin's token lives",
                path.display()
            );
        }
    }
    assert!(readme.contains("environment `clickup`") && readme.contains("CLICKUP_READ_TOKEN"));
    let gitlab = yaml(&repo().join("examples/ci/gitlab-ci.yml"));
    assert_eq!(gitlab["apply"]["environment"]["name"], "clickup");
}

#[test]
fn the_apply_workflow_runs_on_the_default_branch_whatever_its_name() {
    let apply = yaml(&repo().join("examples/ci/github/clickup-members-apply.yml"));
    let on_push = &apply["on"]["push"];
    for branch in on_push["branches"].as_array().into_iter().flatten() {
        assert_eq!(branch, "**", "a branch named in the filter: {branch}");
    }
    assert!(on_push.get("branches-ignore").is_none());
    let job = &apply["jobs"]["apply"];
    assert_eq!(
        job["if"],
        "github.ref_name == github.event.repository.default_branch"
    );
    assert_eq!(
        apply["permissions"],
        serde_json::json!({"contents": "write", "pull-requests": "read", "actions": "read"})
    );
    let gitlab = std::fs::read_to_string(repo().join("examples/ci/gitlab-ci.yml")).expect("read");
    assert!(gitlab.contains("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"));
    assert!(!gitlab.contains("== \"main\"") && !gitlab.contains("== main"));
}

#[test]
fn the_plan_is_kept_for_the_merge_and_the_reviews_past_the_artifacts() {
    let plan = yaml(&repo().join("examples/ci/github/clickup-members-plan.yml"));
    let steps = plan["jobs"]["plan"]["steps"].as_array().expect("steps");
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/upload-artifact@"))
        })
        .expect("the plan is uploaded");
    assert_eq!(
        upload["with"]["name"],
        "clickup-members-plan-${{ github.event.pull_request.head.sha }}"
    );
    assert!(
        upload["with"]["path"]
            .as_str()
            .is_some_and(|p| p.contains("plan.json"))
    );
    let review = yaml(&repo().join("examples/ci/github/clickup-members-access-review.yml"));
    let steps = review["jobs"]["access-review"]["steps"]
        .as_array()
        .expect("steps");
    for step in steps {
        if let Some(days) = step["with"]["retention-days"].as_u64() {
            assert!(
                days <= 90,
                "GitHub lowers {days} days to the repository's maximum, 90 by default"
            );
        }
    }
    assert_eq!(
        review["permissions"]["contents"], "write",
        "the review is pushed"
    );
    let gitlab = yaml(&repo().join("examples/ci/gitlab-ci.yml"));
    assert!(
        gitlab["plan"]["artifacts"]["paths"]
            .as_array()
            .expect("paths")
            .contains(&"plan.json".into())
    );
    assert!(gitlab["access-review"]["variables"]["CLICKUP_MEMBERS_REMOTE"].is_string());
}

#[test]
fn the_readme_names_every_endpoint_the_reviewed_plan_lookup_calls() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    let script = std::fs::read_to_string(repo().join(CI_SCRIPT)).expect("script");
    for (documented, called) in [
        (
            "GET /repos/{owner}/{repo}/commits/{sha}/pulls",
            "/commits/$sha/pulls?",
        ),
        (
            "GET /repos/{owner}/{repo}/actions/artifacts?name=",
            "/actions/artifacts?name=$name",
        ),
        (
            "GET /repos/{owner}/{repo}/actions/artifacts/{id}/zip",
            "/actions/artifacts/$id/zip",
        ),
        (
            "GET /projects/:id/repository/commits/:sha/merge_requests",
            "/repository/commits/$sha/merge_requests",
        ),
        (
            "GET /projects/:id/merge_requests/:iid/pipelines",
            "/merge_requests/$iid/pipelines?",
        ),
        (
            "GET /projects/:id/pipelines/:pipeline_id/jobs",
            "/pipelines/$pipeline/jobs?",
        ),
        (
            "GET /projects/:id/jobs/:job_id/artifacts/plan.json",
            "/jobs/$job_id/artifacts/plan.json",
        ),
    ] {
        assert!(readme.contains(documented), "README: {documented}");
        assert!(script.contains(called), "script: {called}");
    }
    for permission in [
        "actions: read",
        "pull-requests: read",
        "contents: write",
        "read_api",
    ] {
        assert!(readme.contains(permission), "README: {permission}");
    }
}

#[tokio::test]
async fn an_artifact_redirect_to_plain_http_elsewhere_is_not_followed() {
    let team = Team::new();
    team.init_state();
    let clickup = team.clickup(true);
    let before = std::fs::read(&clickup).expect("read");
    let (job, merge) = team.commit("job", PROMOTED);
    let head = "b".repeat(40);
    let (api, storage) = (MockServer::start().await, MockServer::start().await);
    github_merged(&api, &storage, &merge, &head, Kept::Missing).await;
    // The artifact is there, but its download points to plain HTTP on another host.
    Mock::given(method("GET"))
        .and(path("/repos/acme/people/actions/artifacts"))
        .respond_with(json(
            200,
            serde_json::json!({"total_count": 1, "artifacts": [{
                "id": 41, "name": format!("clickup-members-plan-{head}"), "expired": false,
                "created_at": "2026-06-01T09:00:00Z",
                "workflow_run": {"id": 941, "head_sha": head}}]}),
        ))
        .with_priority(1)
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/people/actions/artifacts/41/zip"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("Location", "http://storage.example.net/41.zip?sig=SECRET"),
        )
        .mount(&api)
        .await;
    let err = fails(run_async(github_apply(&job, &api, &merge, "../clickup.json")).await);
    assert!(
        err.contains("the download was redirected to http://storage.example.net/41.zip, which is not HTTPS: not followed"),
        "{err}"
    );
    assert!(!err.contains("SECRET"), "the link's signature is not shown");
    assert_eq!(
        std::fs::read(&clickup).expect("read"),
        before,
        "nothing applied"
    );
}

// ---------------------------------------------------------------------------------------------
// What a newcomer meets setting the recipes up as the README says: a replace that can be
// merged, the first apply without a read token, a required check on every pull request, the
// GitLab variables, CODEOWNERS, the reviewed plan looked at from a clone.

#[test]
fn a_plan_refused_only_for_its_replaces_passes_its_job_and_a_guard_s_refusal_fails_it() {
    let team = Team::new();
    // The example's file turns a member into a guest: a replace, which apply on merge refuses.
    let pr = team.checkout("pr");
    let summary = pr.join("summary.md");
    let mut plan = ci_script(&pr, &["plan", "--snapshot", "workspace.snapshot.json"]);
    plan.env("CLICKUP_READ_TOKEN", "pk_1_READTOKEN")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary);
    run(plan)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "warning: the plan replaces people (member <-> guest), which apply on merge refuses: after the merge, run the apply by hand with allow replace to make it (README: Replacing people)",
        ))
        // An annotation on the run's page.
        .stdout(predicate::str::contains(
            "::warning title=clickup-members::the plan replaces people",
        ));
    let md = std::fs::read_to_string(pr.join("plan.md")).expect("plan.md");
    assert!(
        md.starts_with(
            "> :no_entry: **Apply on merge will refuse this plan:**\n> - the plan replaces 1 person"
        ),
        "the comment says so at its top: {md}"
    );
    let summary = std::fs::read_to_string(&summary).expect("summary");
    assert!(
        summary.contains("> :warning: **the plan replaces people"),
        "{summary}"
    );
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(pr.join("plan.json")).expect("saved"))
            .expect("plan JSON");
    assert!(
        saved["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .any(|c| c["action"] == "replace"),
        "{saved}"
    );

    // A guard's refusal saves nothing, and fails the job; so does a file that cannot be planned.
    for (n, edit) in [
        ("max_removals: 6", "max_removals: 0"),
        ("mode: authoritative", "mode: authorative"),
    ]
    .into_iter()
    .enumerate()
    {
        let pr = team.checkout(&format!("refused{n}"));
        crate::common::edit(&pr.join("clickup/members.yaml"), edit.0, edit.1);
        let mut plan = ci_script(&pr, &["plan", "--snapshot", "workspace.snapshot.json"]);
        plan.env("CLICKUP_READ_TOKEN", "pk_1_READTOKEN");
        let output = run(plan)
            .assert()
            .append_context("edit", format!("{edit:?}"))
            .code(1);
        assert!(!pr.join("plan.json").exists(), "{edit:?}");
        output.stderr(predicate::str::contains("no plan saved (see above)"));
    }
}

#[tokio::test]
async fn without_a_read_token_the_first_merge_records_the_state_and_later_pull_requests_plan_against_it()
 {
    let team = Team::new();
    team.init_state();
    // The Workspace matches the imported file.
    let clickup = team.clickup(true);
    let before = std::fs::read(&clickup).expect("read");

    // The pull request of the imported file, planned without a read token: nothing recorded
    // yet, so no plan is saved (its artifact holds plan.md alone).
    let pr = team.checkout("pr");
    let head = git(&pr, &["rev-parse", "HEAD"]);
    ok(run(ci_script(&pr, &["plan"])));
    assert!(!pr.join("plan.json").exists());
    let md = std::fs::read(pr.join("plan.md")).expect("plan.md");
    assert!(md.starts_with(b"> **No plan yet:**"));
    let job = team.checkout("job");
    let merge = git(&job, &["rev-parse", "HEAD"]);
    let (api, storage) = (MockServer::start().await, MockServer::start().await);
    github_merged(
        &api,
        &storage,
        &merge,
        &head,
        Kept::Saved(zip(&[("plan.md", &md)])),
    )
    .await;
    // The merge: no reviewed plan, and nothing to change, so nothing to review.
    let err = ok(run_async(github_apply(&job, &api, &merge, "../clickup.json")).await);
    assert!(
        err.contains("no reviewed plan: the artifact clickup-members-plan-")
            && err.contains("holds no plan.json. Planning the Workspace: a merge with nothing to change needs no review"),
        "{err}"
    );
    assert!(
        err.contains("the Workspace matches clickup/members.yaml: applying the plan without changes, which records the state and writes nothing to ClickUp"),
        "{err}"
    );
    assert!(!err.contains("UNREVIEWED"), "{err}");
    assert_eq!(
        std::fs::read(&clickup).expect("read"),
        before,
        "nothing written"
    );
    let state: serde_json::Value =
        serde_json::from_str(&team.recorded_states()[0]).expect("the state is recorded");
    assert_eq!(state["workspace_id"], "9006054115");

    // The next pull request, still without a read token, plans against the recorded Workspace,
    // and its merge applies what it showed.
    let (pr, head) = team.commit("pr2", PROMOTED);
    ok(run(ci_script(&pr, &["plan"])));
    let md = std::fs::read(pr.join("plan.md")).expect("plan.md");
    assert!(
        md.starts_with(b"> **Planned without reading ClickUp"),
        "{}",
        String::from_utf8_lossy(&md)
    );
    let json = std::fs::read(pr.join("plan.json")).expect("a plan is saved now");
    let (job, merge) = team.commit("job2", PROMOTED);
    let (api, storage) = (MockServer::start().await, MockServer::start().await);
    let archive = zip(&[("plan.json", &json), ("plan.md", &md)]);
    github_merged(&api, &storage, &merge, &head, Kept::Saved(archive)).await;
    let err = ok(run_async(github_apply(&job, &api, &merge, "../clickup.json")).await);
    assert!(
        err.contains("applying the plan reviewed on pull request #7"),
        "{err}"
    );
    // Applied.
    plan_detailed(&job, "clickup/members.yaml", &clickup).code(0);

    // The README says how the first run goes.
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    let first = &readme[readme.find("### The first run").expect("the first run")..];
    let first = &first[..first[4..].find("\n### ").map_or(first.len(), |e| e + 4)];
    for said in [
        "A merge with nothing to change needs no review",
        "`clickup-members plan --detailed-exitcode`",
        "records the state and\n  writes nothing to ClickUp",
        "`CLICKUP_MEMBERS_APPLY_UNREVIEWED=true`",
    ] {
        assert!(first.contains(said), "README, the first run: {said}");
    }
}

#[tokio::test]
async fn a_merge_without_a_reviewed_plan_is_applied_only_when_it_changes_nothing() {
    // GitLab, a merge request whose plan job kept no plan.json; the Workspace matches.
    let team = Team::new();
    team.init_state();
    let clickup = team.clickup(true);
    let before = std::fs::read(&clickup).expect("read");
    let job = team.checkout("job");
    let merge = git(&job, &["rev-parse", "HEAD"]);
    let api = MockServer::start().await;
    gitlab_merged(&api, &merge, &"b".repeat(40), None).await;
    let err = ok(run_async(gitlab_apply(&job, &api, &merge, "../clickup.json")).await);
    assert!(
        err.contains(
            "the Workspace matches clickup/members.yaml: applying the plan without changes"
        ),
        "{err}"
    );
    assert_eq!(std::fs::read(&clickup).expect("read"), before);
    assert!(team.branch_files().contains(&STATE.to_owned()));

    // A Workspace whose plan apply refuses (here a replace, not allowed) fails the job, even
    // where unreviewed applies are allowed: nothing applied, nothing recorded.
    let team = Team::new();
    team.init_state();
    let clickup = team.clickup(false);
    let before = std::fs::read(&clickup).expect("read");
    let job = team.checkout("job");
    let merge = git(&job, &["rev-parse", "HEAD"]);
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/acme/people/commits/{merge}/pulls")))
        .respond_with(json(200, serde_json::json!([])))
        .mount(&api)
        .await;
    let mut apply = github_apply(&job, &api, &merge, "../clickup.json");
    apply.env("CLICKUP_MEMBERS_APPLY_UNREVIEWED", "true");
    let err = fails(run_async(apply).await);
    assert!(
        err.contains("error: no reviewed plan to apply: no merged pull request has")
            && err.contains("and the Workspace could not be planned, or apply would refuse its plan (exit 1, see above). Nothing was applied"),
        "{err}"
    );
    assert_eq!(std::fs::read(&clickup).expect("read"), before);
    assert_eq!(team.branch_files(), ["README.md"]);
}

impl Team {
    /// What GitHub checks a pull request out as: the merge of a branch, whose commit `change`
    /// makes in a checkout, into `main`, kept on the remote as `refs/pull/N/merge`; gives that
    /// ref.
    fn pull_request_merge(&self, n: u32, change: impl Fn(&std::path::Path)) -> String {
        let work = self.checkout(&format!("work{n}"));
        git(&work, &["checkout", "--quiet", "-b", &format!("topic{n}")]);
        change(&work);
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "--quiet", "-m", "a change"]);
        git(&work, &["checkout", "--quiet", "main"]);
        git(
            &work,
            &[
                "merge",
                "--quiet",
                "--no-ff",
                "-m",
                "merge",
                &format!("topic{n}"),
            ],
        );
        let merge_ref = format!("refs/pull/{n}/merge");
        git(
            &work,
            &["push", "--quiet", "origin", &format!("HEAD:{merge_ref}")],
        );
        merge_ref
    }

    /// A checkout of `merge_ref` fetched `depth` commits deep, as actions/checkout makes it.
    fn shallow_checkout(&self, name: &str, merge_ref: &str, depth: u32) -> std::path::PathBuf {
        let dir = self.dir.path().join(name);
        std::fs::create_dir_all(&dir).expect("mkdir");
        git(&dir, &["init", "--quiet"]);
        let url = format!("file://{}", self.remote().display());
        git(
            &dir,
            &[
                "fetch",
                "--quiet",
                &format!("--depth={depth}"),
                &url,
                merge_ref,
            ],
        );
        git(&dir, &["checkout", "--quiet", "FETCH_HEAD"]);
        git(&dir, &["remote", "add", "origin", &url]);
        dir
    }
}

#[tokio::test]
async fn every_pull_request_runs_the_plan_and_one_that_changes_nothing_under_clickup_passes_at_once()
 {
    // The workflow runs for every pull request (its job `plan` can be required) and checks out
    // the merge with its parents.
    let plan = yaml(&repo().join("examples/ci/github/clickup-members-plan.yml"));
    let on = &plan["on"];
    assert!(on.get("pull_request").is_some(), "{on}");
    for filter in ["paths", "paths-ignore", "branches", "branches-ignore"] {
        assert!(
            on["pull_request"].get(filter).is_none(),
            "a {filter} filter skips the workflow, and a required check waits for ever"
        );
    }
    let steps = plan["jobs"]["plan"]["steps"].as_array().expect("steps");
    let checkout = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/checkout@"))
        })
        .expect("a checkout");
    assert_eq!(checkout["with"]["fetch-depth"], 2, "{checkout}");
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    let setup = &readme[readme
        .find("### Setting it up on GitHub")
        .expect("GitHub setup")..];
    let setup = &setup[..setup.find("### Setting it up on GitLab").expect("end")];
    assert!(
        setup.contains("the status check `plan`") && setup.contains("without a `paths:` filter"),
        "README: {setup}"
    );

    let team = Team::new();
    let unrelated = team.pull_request_merge(1, |work| {
        std::fs::write(work.join("NOTES.md"), "Office hours move to Tuesday.\n").expect("write");
    });
    let related = team.pull_request_merge(2, |work| {
        crate::common::edit(&work.join("clickup/members.yaml"), PROMOTED.0, PROMOTED.1);
    });
    // `plan` with a read token, on a ClickUp that refuses it: it plans (and fails) or it does
    // not plan at all.
    let plan_of = |checkout: &std::path::Path, clickup: &MockServer, event: Option<&str>| {
        let mut cmd = ci_script(checkout, &["plan"]);
        cmd.env("CLICKUP_READ_TOKEN", "pk_1_READTOKEN")
            .env("CLICKUP_API_URL", clickup.uri());
        if let Some(event) = event {
            cmd.env("GITHUB_EVENT_NAME", event);
        }
        cmd
    };

    let clickup = refusing_clickup().await;
    let job = team.shallow_checkout("job1", &unrelated, 2);
    let err = ok(run_async(plan_of(&job, &clickup, Some("pull_request"))).await);
    assert!(
        err.contains("this pull request changes nothing under clickup/ or ci/clickup-members-ci.sh: nothing to plan, and nothing for its merge to apply"),
        "{err}"
    );
    assert!(!job.join("plan.md").exists() && !job.join("plan.json").exists());
    assert!(
        clickup
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty(),
        "ClickUp was not read"
    );

    // A pull request that changes the member file is planned; so is anything the script cannot
    // tell: a checkout without the base (fetch-depth: 1), or a job that is not a pull request.
    let cases = [
        ("job2", related.as_str(), 2, Some("pull_request")),
        ("job3", unrelated.as_str(), 1, Some("pull_request")),
        ("job4", unrelated.as_str(), 2, None),
    ];
    for (name, merge_ref, depth, event) in cases {
        let clickup = refusing_clickup().await;
        let job = team.shallow_checkout(name, merge_ref, depth);
        run_async(plan_of(&job, &clickup, event))
            .await
            .assert()
            .append_context("job", name)
            .code(1)
            .stderr(predicate::str::contains("nothing to plan").not());
        assert!(
            !clickup
                .received_requests()
                .await
                .unwrap_or_default()
                .is_empty(),
            "{name}: ClickUp was read"
        );
    }
}

/// The header of a recipe: each variable it describes (a line `#   NAME  text`), with its text.
fn header_variables(text: &str) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = Vec::new();
    for line in text.lines().take_while(|l| l.starts_with('#')) {
        let body = line.trim_start_matches('#');
        let name = body.split_whitespace().next().unwrap_or_default();
        let is_name = body.starts_with("   ")
            && !body.starts_with("    ")
            && name.len() > 3
            && name.chars().all(|c| c.is_ascii_uppercase() || c == '_');
        if is_name {
            vars.push((name.to_owned(), body.trim()[name.len()..].trim().to_owned()));
        } else if let Some(last) = vars.last_mut()
            && body.starts_with("     ")
        {
            last.1.push(' ');
            last.1.push_str(body.trim());
        }
    }
    vars
}

/// Whether a variable's flags make it protected (Some(true)), not protected (Some(false)), or
/// say nothing of it.
fn protected(flags: &str) -> Option<bool> {
    if flags.contains("not protected") {
        Some(false)
    } else if flags.contains("protected") {
        Some(true)
    } else {
        None
    }
}

#[test]
fn the_gitlab_variables_codeowners_and_the_readme_agree() {
    let recipe = std::fs::read_to_string(repo().join("examples/ci/gitlab-ci.yml")).expect("read");
    let in_recipe = header_variables(&recipe);
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    let gitlab = &readme[readme
        .find("### Setting it up on GitLab")
        .expect("GitLab setup")..];
    let gitlab = &gitlab[..gitlab[4..].find("\n### ").expect("end") + 4];
    let table = &gitlab[gitlab.find("| variable | flags |").expect("the table")..];
    let in_readme: Vec<(String, String, String)> = table
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|row| {
            let cells: Vec<&str> = row.split(" | ").collect();
            (
                cells[0]
                    .trim_start_matches("| ")
                    .trim_matches('`')
                    .to_owned(),
                cells[1].to_owned(),
                cells[2].to_owned(),
            )
        })
        .collect();
    for token in [
        "CLICKUP_TOKEN",
        "CLICKUP_READ_TOKEN",
        "CLICKUP_MEMBERS_PUSH_TOKEN",
        "GITLAB_API_TOKEN",
        "CLICKUP_MEMBERS_SYNC_TOKEN",
    ] {
        let (_, header) = in_recipe
            .iter()
            .find(|(n, _)| n == token)
            .unwrap_or_else(|| panic!("gitlab-ci.yml's header: {token}: {in_recipe:?}"));
        let (_, flags, _) = in_readme
            .iter()
            .find(|(n, _, _)| n == token)
            .unwrap_or_else(|| panic!("README's table: {token}"));
        assert!(protected(header).is_some(), "{token}: {header}");
        assert_eq!(
            protected(header),
            protected(flags),
            "{token}: gitlab-ci.yml says \"{header}\", the README \"{flags}\""
        );
    }
    // The merge request plan runs on an unprotected branch: its tokens cannot be protected.
    for token in ["CLICKUP_READ_TOKEN", "GITLAB_API_TOKEN"] {
        let (_, flags, _) = in_readme.iter().find(|(n, _, _)| n == token).expect("row");
        assert_eq!(protected(flags), Some(false), "{token}: {flags}");
    }
    // The push token's role.
    let (_, _, push) = in_readme
        .iter()
        .find(|(n, _, _)| n == "CLICKUP_MEMBERS_PUSH_TOKEN")
        .expect("row");
    let (_, push_header) = in_recipe
        .iter()
        .find(|(n, _)| n == "CLICKUP_MEMBERS_PUSH_TOKEN")
        .expect("header");
    for text in [push, push_header] {
        assert!(
            text.contains("write_repository") && text.contains("Developer role"),
            "{text}"
        );
    }

    // CODEOWNERS: copied on GitLab too, to a place GitLab reads it from; its owners are
    // placeholders the README says to replace; it covers itself and the workflows.
    for place in [
        "`CODEOWNERS`",
        "`docs/CODEOWNERS`",
        "`.gitlab/CODEOWNERS`",
        "`@your-org/…`",
    ] {
        assert!(gitlab.contains(place), "README, GitLab: {place}");
    }
    let github = &readme[readme
        .find("### Setting it up on GitHub")
        .expect("GitHub setup")..];
    assert!(github[..github.find("### Setting it up on GitLab").expect("end")]
        .contains("`CODEOWNERS` to `.github/CODEOWNERS`, with its placeholder owners (`@your-org/…`)\n   replaced"));
    let codeowners =
        std::fs::read_to_string(repo().join("examples/ci/CODEOWNERS")).expect("CODEOWNERS");
    let rules: Vec<(&str, Vec<&str>)> = codeowners
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut words = l.split_whitespace();
            (words.next().expect("a pattern"), words.collect())
        })
        .collect();
    for (pattern, owners) in &rules {
        assert!(!owners.is_empty(), "{pattern} has an owner");
        for owner in owners {
            assert!(
                owner.starts_with("@your-org/"),
                "{pattern}: {owner} is not an obvious placeholder"
            );
        }
    }
    let owned = |file: &str| {
        rules.iter().any(|(pattern, _)| {
            let pattern = pattern.trim_start_matches('/');
            if pattern.ends_with('/') {
                file.starts_with(pattern)
            } else {
                file == pattern
            }
        })
    };
    for file in [
        "clickup/members.yaml",
        "ci/clickup-members-ci.sh",
        ".github/workflows/clickup-members-plan.yml",
        ".github/workflows/release.yml",
        ".gitlab-ci.yml",
        ".github/CODEOWNERS",
        "CODEOWNERS",
        "docs/CODEOWNERS",
        ".gitlab/CODEOWNERS",
    ] {
        assert!(owned(file), "CODEOWNERS does not cover {file}");
    }
}

#[tokio::test]
async fn the_reviewed_plan_can_be_looked_at_from_a_clone_with_the_platform_named() {
    let team = Team::new();
    team.clickup(true);
    let (pr, head) = team.commit("pr", PROMOTED);
    let archive = pull_request_plan(&pr, "../clickup.json", &[]);
    let plan = std::fs::read(pr.join("plan.json")).expect("plan.json");
    // A clone on someone's machine: no CI job around it, the merge commit checked out.
    let (clone, merge) = team.commit("clone", PROMOTED);

    let (api, storage) = (MockServer::start().await, MockServer::start().await);
    github_merged(&api, &storage, &merge, &head, Kept::Saved(archive)).await;
    let mut cmd = ci_script(&clone, &["reviewed-plan", "github.json"]);
    cmd.env("CLICKUP_MEMBERS_PLATFORM", "github")
        .env("GITHUB_API_URL", api.uri())
        .env("GITHUB_REPOSITORY", "acme/people")
        .env("GITHUB_TOKEN", "gho_TESTTOKEN");
    let err = ok(run_async(cmd).await);
    assert!(
        err.contains("saved the plan reviewed on pull request #7"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(clone.join("github.json")).expect("saved"),
        plan
    );
    all_carry(&api, "authorization", "Bearer gho_TESTTOKEN").await;

    let api = MockServer::start().await;
    gitlab_merged(&api, &merge, &head, Some(plan.clone())).await;
    let mut cmd = ci_script(&clone, &["reviewed-plan", "gitlab.json"]);
    cmd.env("CLICKUP_MEMBERS_PLATFORM", "gitlab")
        .env("CI_API_V4_URL", format!("{}/api/v4", api.uri()))
        .env("CI_PROJECT_ID", "12")
        .env("GITLAB_API_TOKEN", "glpat-TESTTOKEN");
    let err = ok(run_async(cmd).await);
    assert!(
        err.contains("saved the plan reviewed on merge request !3"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(clone.join("gitlab.json")).expect("saved"),
        plan
    );

    // Without the platform named, it says what to set; a platform it does not know is refused.
    let err = fails(run(ci_script(&clone, &["reviewed-plan"])));
    assert!(
        err.contains("CLICKUP_MEMBERS_PLATFORM=github or gitlab"),
        "{err}"
    );
    let mut cmd = ci_script(&clone, &["reviewed-plan"]);
    cmd.env("CLICKUP_MEMBERS_PLATFORM", "bitbucket");
    let err = fails(run(cmd));
    assert!(
        err.contains("CLICKUP_MEMBERS_PLATFORM is github or gitlab, not \"bitbucket\""),
        "{err}"
    );

    // The README shows it so.
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    for shown in [
        "CLICKUP_MEMBERS_PLATFORM=github GITHUB_REPOSITORY=",
        "CLICKUP_MEMBERS_PLATFORM=gitlab CI_API_V4_URL=",
    ] {
        assert!(readme.contains(shown), "README: {shown}");
    }
}

#[test]
fn the_readme_names_what_ci_test_installs_and_what_to_do_when_no_reviewed_plan_is_found() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    let opening = &readme[..readme.find("\n## ").expect("the first section")];
    let table = &readme[readme
        .find("| installed when missing | from | into |")
        .expect("what .ci/test installs")..];
    let mut tools = Vec::new();
    for row in table.lines().skip(2).take_while(|l| l.starts_with('|')) {
        let first = row.split(" | ").next().unwrap_or_default();
        // cargo-deny: `.ci/run` only.
        if first.contains(".ci/run") {
            continue;
        }
        let mut depth = 0;
        let mut item = String::new();
        // Each item of the cell (commas inside parentheses are not separators): its first word.
        for c in first.trim_start_matches("| ").chars().chain([',']) {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                ',' if depth == 0 => {
                    let name = item.split_whitespace().next().unwrap_or_default();
                    tools.push(name.trim_end_matches("-bin").to_owned());
                    item.clear();
                    continue;
                }
                _ => {}
            }
            if depth == 0 && c != ')' {
                item.push(c);
            }
        }
    }
    assert!(tools.len() >= 10, "{tools:?}");
    for tool in &tools {
        assert!(
            opening.contains(tool.as_str()),
            "the opening paragraph does not name {tool}, which .ci/test installs"
        );
    }

    let script = std::fs::read_to_string(repo().join(CI_SCRIPT)).expect("script");
    assert!(script.contains("fail \"no reviewed plan to apply: "));
    let troubleshooting = &readme[readme.find("## Troubleshooting").expect("Troubleshooting")..];
    let row = troubleshooting
        .lines()
        .find(|l| l.starts_with("| `no reviewed plan to apply: …`"))
        .expect("a Troubleshooting row for an apply that found no reviewed plan");
    for said in [
        "run the pull request's plan job again",
        "CLICKUP_MEMBERS_APPLY_UNREVIEWED=true",
        "[the first run](#the-first-run)",
    ] {
        assert!(row.contains(said), "{said}: {row}");
    }
}

mod scheduled_sync;
