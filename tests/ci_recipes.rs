//! The CI recipes under examples/ci are valid YAML and every clickup-members command line in
//! them parses (each is run with --help appended: clap checks every flag and value first).
//! Also: completions and the man page come from the same command-line definition.

mod common;

use common::{cli, repo, stderr, stdout};

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

/// The `clickup-members …` commands of a shell script, without redirections and pipes.
fn commands(script: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for line in script.lines() {
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

#[test]
fn every_recipe_parses_as_yaml_and_every_command_in_it_exists() {
    let files = recipes();
    assert!(files.len() >= 4, "recipes: {files:?}");
    let mut checked = 0;
    for path in &files {
        let text = std::fs::read_to_string(path).expect("read");
        let value: serde_json::Value = serde_saphyr::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()));
        let mut texts = Vec::new();
        scripts(&value, false, &mut texts);
        for script in texts {
            for args in commands(script) {
                let output = cli().args(&args).arg("--help").output().expect("run");
                assert_eq!(
                    output.status.code(),
                    Some(0),
                    "{}: `clickup-members {}` does not parse:\n{}",
                    path.display(),
                    args.join(" "),
                    stderr(&output)
                );
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 12,
        "only {checked} command lines found in the recipes"
    );
}

#[test]
fn the_github_recipes_cover_plan_apply_and_drift() {
    let dir = repo().join("examples/ci/github");
    let plan = std::fs::read_to_string(dir.join("clickup-members-plan.yml")).expect("plan");
    assert!(
        plan.contains("--refresh=false"),
        "fork pull requests plan against the state"
    );
    let apply = std::fs::read_to_string(dir.join("clickup-members-apply.yml")).expect("apply");
    assert!(apply.contains("concurrency:") && apply.contains("--auto-approve"));
    assert!(apply.contains("github.event.repository.default_branch"));
    let drift = std::fs::read_to_string(dir.join("clickup-members-drift.yml")).expect("drift");
    assert!(drift.contains("--detailed-exitcode") && drift.contains("schedule:"));
    assert!(repo().join("examples/ci/CODEOWNERS").exists());
}

#[test]
fn plan_appends_its_markdown_to_the_github_step_summary() {
    let dir = tempfile::tempdir().expect("dir");
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").expect("write");
    let output = cli()
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
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = std::fs::read_to_string(&summary).expect("summary");
    assert!(
        text.starts_with("earlier step\n### clickup-members plan for \"Acme Workspace\""),
        "{text}"
    );
}

#[test]
fn completions_and_the_man_page_come_from_the_command_line_definition() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let output = cli().args(["completions", shell]).output().expect("run");
        assert_eq!(output.status.code(), Some(0), "{shell}");
        let text = stdout(&output);
        assert!(
            text.contains("force-unlock") && text.contains("detailed-exitcode"),
            "{shell}"
        );
    }
    let output = cli().arg("man").output().expect("run");
    assert_eq!(output.status.code(), Some(0));
    let page = stdout(&output);
    assert!(page.contains(".TH clickup-members 1"), "{page}");
    assert!(page.contains("apply"));
}

#[test]
fn commands_are_found_in_shell_scripts() {
    assert_eq!(
        commands(
            "set +e\nclickup-members plan -f x.yaml --format markdown > out.md\ncargo install --locked clickup-members\nif x; then clickup-members validate; fi"
        ),
        vec![
            vec!["plan", "-f", "x.yaml", "--format", "markdown"],
            vec!["validate"],
        ]
    );
}
