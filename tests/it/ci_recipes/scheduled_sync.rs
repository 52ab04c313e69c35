//! The scheduled sync from the identity provider: the GitHub workflow and the GitLab job run on
//! their schedule (and on demand) on the default branch only, with credentials of their own and
//! no ClickUp token; and the CI script's `sync`, against a real git remote, the identity
//! providers' fakes and fake GitHub and GitLab APIs, opens one pull/merge request, updates that
//! same one on the next change, opens nothing when nothing changes (and closes the one left
//! open), opens nothing and fails for a refused sync, and shows no secret anywhere.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request};

use super::{Team, ci_script, git, json, ok, passes, recipes, run_async, workflow_files, yaml};
use crate::common::{fails, repo, stdout};
use crate::fake::identity::{GoogleFake, OktaFake, RsaKey, google, okta};

const WORKFLOW: &str = "examples/ci/github/clickup-members-sync.yml";
const GITLAB: &str = "examples/ci/gitlab-ci.yml";
const BRANCH: &str = "clickup-members/sync";
const FRAGMENT: &str = "clickup/synced/people.yaml";
const MARKER: &str = "<!-- clickup-members sync -->\n";
const GROUP: &str = "00gengineers00000001";
const OKTA_CLIENT: &str = "0oa1ciSyncClient00001";
const OKTA_TOKEN: &str = "00okta-CI-ssws-token-Qw3";
const SUBJECT: &str = "admin@acme.example";
const SERVICE_ACCOUNT: &str = "ci-sync@acme-project.iam.gserviceaccount.com";
const SYNC_TOKEN_GITHUB: &str = "github_pat_SYNCTOKEN";
const JOB_TOKEN_GITHUB: &str = "ghs_JOBTOKEN";
const SYNC_TOKEN_GITLAB: &str = "glpat-SYNCTOKEN";
const API_TOKEN_GITLAB: &str = "glpat-REPORTERTOKEN";

// ---------------------------------------------------------------------------------------------
// The recipes.

/// The step of `job` whose `run` holds `text`.
fn step<'a>(job: &'a serde_json::Value, text: &str) -> &'a serde_json::Value {
    job["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["run"].as_str().is_some_and(|r| r.contains(text)))
        .unwrap_or_else(|| panic!("a step runs {text}"))
}

#[test]
fn the_github_sync_runs_daily_and_on_demand_on_the_default_branch_with_credentials_of_its_own() {
    let workflow = yaml(&repo().join(WORKFLOW));
    let text = std::fs::read_to_string(repo().join(WORKFLOW)).expect("read");
    assert!(workflow_files().contains(&repo().join(WORKFLOW)));
    if let Some(actionlint) = crate::common::tool("actionlint") {
        passes(&actionlint, &[], &[repo().join(WORKFLOW)]);
    }
    if let Some(check) = crate::common::tool("check-jsonschema") {
        passes(
            &check,
            &["--builtin-schema", "vendor.github-workflows"],
            &[repo().join(WORKFLOW)],
        );
    }

    let on = &workflow["on"];
    let cron = on["schedule"][0]["cron"].as_str().expect("a schedule");
    assert_eq!(cron.split_whitespace().nth(2), Some("*"), "daily: {cron}");
    assert!(on.get("workflow_dispatch").is_some(), "on demand");
    assert!(on.get("push").is_none() && on.get("pull_request").is_none());
    assert_eq!(
        workflow["concurrency"],
        serde_json::json!({"group": "clickup-members-sync", "cancel-in-progress": false})
    );
    assert_eq!(
        workflow["permissions"],
        serde_json::json!({"contents": "write", "pull-requests": "write"})
    );
    let job = &workflow["jobs"]["sync"];
    assert_eq!(workflow["jobs"].as_object().expect("jobs").len(), 1);
    assert_eq!(job["environment"], "clickup-sync");
    assert_eq!(
        job["if"],
        "github.event_name == 'schedule' || github.ref_name == github.event.repository.default_branch"
    );

    // Installed and checked out as the other recipes do; the checkout keeps the sync's token,
    // which pushes the branch.
    let plan = yaml(&repo().join("examples/ci/github/clickup-members-plan.yml"));
    let checkout = &job["steps"][0];
    assert_eq!(checkout["uses"], plan["jobs"]["plan"]["steps"][0]["uses"]);
    assert_eq!(
        checkout["with"]["token"],
        "${{ secrets.CLICKUP_MEMBERS_SYNC_TOKEN || github.token }}"
    );
    assert_eq!(
        step(job, "install")["run"],
        step(&plan["jobs"]["plan"], "install")["run"]
    );
    for key in [
        "CLICKUP_MEMBERS_VERSION",
        "CLICKUP_MEMBERS_SHA256",
        "CLICKUP_MEMBERS_FILE",
    ] {
        assert_eq!(workflow["env"][key], plan["env"][key], "{key}");
    }

    // The identity provider's variables, each from a secret of its own name; no ClickUp token.
    let sync = step(job, "ci/clickup-members-ci.sh sync");
    assert_eq!(sync["run"], "bash ci/clickup-members-ci.sh sync");
    let env = sync["env"].as_object().expect("env");
    for name in [
        "OKTA_API_TOKEN",
        "OKTA_CLIENT_ID",
        "OKTA_PRIVATE_KEY",
        "OKTA_PRIVATE_KEY_ID",
        "ENTRA_CLIENT_ID",
        "ENTRA_CLIENT_SECRET",
        "GOOGLE_APPLICATION_CREDENTIALS_JSON",
        "CLICKUP_MEMBERS_SYNC_TOKEN",
    ] {
        assert_eq!(
            env.get(name).and_then(|v| v.as_str()),
            Some(format!("${{{{ secrets.{name} }}}}").as_str()),
            "{name}"
        );
    }
    assert_eq!(env["GITHUB_TOKEN"], "${{ github.token }}");
    for clickup in ["CLICKUP_TOKEN", "CLICKUP_READ_TOKEN"] {
        assert!(!text.contains(clickup), "the sync needs no {clickup}");
    }
    // Paths to key files would be paths on someone else's machine: the text is passed.
    assert!(!env.contains_key("OKTA_PRIVATE_KEY_FILE"));
    assert!(!env.contains_key("GOOGLE_APPLICATION_CREDENTIALS"));
}

/// Whether a GitLab `rules: if:` expression holds for a pipeline's variables: the forms the
/// recipe uses (`$A == "x"`, `$A != "x"`, `$A == $B`, joined by `&&`), where a variable that is
/// not set equals nothing. Any other form fails the test rather than being guessed at.
fn holds(expression: &str, vars: &BTreeMap<&str, &str>) -> bool {
    assert!(
        !expression.contains("||") && !expression.contains('(') && !expression.contains("=~"),
        "a rule this test cannot read: {expression}"
    );
    let operand = |word: &str| -> Option<String> {
        let word = word.trim();
        if let Some(name) = word.strip_prefix('$') {
            vars.get(name).map(|v| (*v).to_owned())
        } else if let Some(text) = word.strip_prefix('"').and_then(|w| w.strip_suffix('"')) {
            Some(text.to_owned())
        } else {
            panic!("an operand this test cannot read: {word} in {expression}")
        }
    };
    expression.split("&&").all(|clause| {
        if let Some((left, right)) = clause.split_once("!=") {
            operand(left) != operand(right)
        } else if let Some((left, right)) = clause.split_once("==") {
            let (left, right) = (operand(left), operand(right));
            left.is_some() && left == right
        } else {
            panic!("a clause this test cannot read: {clause}")
        }
    })
}

/// The jobs of the GitLab recipe a pipeline with `vars` runs (a rule's `changes:` taken as met).
fn gitlab_jobs(vars: &[(&'static str, &'static str)]) -> Vec<String> {
    let vars: BTreeMap<&str, &str> = vars.iter().copied().collect();
    let recipe = yaml(&repo().join(GITLAB));
    let mut jobs = Vec::new();
    for (name, job) in recipe.as_object().expect("jobs") {
        if job.get("script").is_none() {
            continue;
        }
        let runs = match job["rules"].as_array() {
            None => true,
            Some(rules) => rules.iter().any(|rule| {
                rule["when"] != "never"
                    && rule["if"]
                        .as_str()
                        .is_none_or(|expression| holds(expression, &vars))
            }),
        };
        if runs {
            jobs.push(name.clone());
        }
    }
    jobs.sort();
    jobs
}

#[test]
fn the_gitlab_sync_schedule_runs_the_sync_job_alone_and_nothing_else_runs_it() {
    if let Some(check) = crate::common::tool("check-jsonschema") {
        passes(
            &check,
            &["--builtin-schema", "vendor.gitlab-ci"],
            &[repo().join(GITLAB)],
        );
    }
    // The evaluator itself.
    let vars: BTreeMap<&str, &str> = [("A", "1"), ("B", "1")].into_iter().collect();
    assert!(holds("$A == \"1\" && $A == $B && $C != \"1\"", &vars));
    assert!(!holds("$C == \"1\"", &vars) && !holds("$C == $D", &vars));
    assert!(!holds("$A != \"1\"", &vars));

    let default = ("CI_DEFAULT_BRANCH", "main");
    let on_main = ("CI_COMMIT_BRANCH", "main");
    let sync = ("CLICKUP_MEMBERS_SYNC", "1");
    for (pipeline, vars, expected) in [
        (
            "the sync's schedule",
            vec![("CI_PIPELINE_SOURCE", "schedule"), sync, on_main, default],
            vec!["sync"],
        ),
        (
            "the nightly schedule",
            vec![("CI_PIPELINE_SOURCE", "schedule"), on_main, default],
            vec!["access-review", "drift"],
        ),
        (
            "the sync's schedule set on another branch",
            vec![
                ("CI_PIPELINE_SOURCE", "schedule"),
                sync,
                ("CI_COMMIT_BRANCH", "feature"),
                default,
            ],
            vec![],
        ),
        (
            "a push to the default branch",
            vec![("CI_PIPELINE_SOURCE", "push"), on_main, default],
            vec!["apply"],
        ),
        (
            "the sync's push of its branch",
            vec![
                ("CI_PIPELINE_SOURCE", "push"),
                ("CI_COMMIT_BRANCH", BRANCH),
                default,
            ],
            vec![],
        ),
        (
            "the sync's merge request",
            vec![("CI_PIPELINE_SOURCE", "merge_request_event"), default],
            vec!["plan"],
        ),
        (
            "a pipeline run by hand on the default branch",
            vec![("CI_PIPELINE_SOURCE", "web"), on_main, default],
            vec!["apply"],
        ),
    ] {
        assert_eq!(gitlab_jobs(&vars), expected, "{pipeline}");
    }

    let recipe = yaml(&repo().join(GITLAB));
    let job = &recipe["sync"];
    assert_eq!(
        job["script"],
        serde_json::json!(["bash ci/clickup-members-ci.sh sync"])
    );
    assert_eq!(
        job["environment"],
        serde_json::json!({"name": "clickup-sync", "action": "access"})
    );
    assert!(job["resource_group"].is_string(), "one sync at a time");
    assert_eq!(
        job["variables"]["CLICKUP_MEMBERS_REMOTE"],
        "https://clickup-members:${CLICKUP_MEMBERS_SYNC_TOKEN}@${CI_SERVER_HOST}/${CI_PROJECT_PATH}.git"
    );
    let text = serde_json::to_string(job).expect("json");
    assert!(!text.contains("CLICKUP_TOKEN") && !text.contains("CLICKUP_READ_TOKEN"));
    assert!(recipes().contains(&repo().join(GITLAB)));
}

#[test]
fn the_readme_says_how_to_set_up_the_scheduled_sync_with_the_recipes_names() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    let start = readme
        .find("### Syncing on a schedule")
        .expect("a section on the scheduled sync");
    let section = &readme[start..];
    let section = &section[..section[4..].find("\n#").map_or(section.len(), |e| e + 4)];
    let workflow = yaml(&repo().join(WORKFLOW));
    let env = workflow["jobs"]["sync"]["steps"][2]["env"]
        .as_object()
        .expect("env");
    for name in env.keys().filter(|n| n.as_str() != "GITHUB_TOKEN") {
        assert!(section.contains(&format!("`{name}`")), "README: {name}");
    }
    for said in [
        "`clickup-sync`",
        "`clickup-members/sync`",
        "**Contents**",
        "**Pull requests**",
        "`GITHUB_TOKEN`",
        "Allow GitHub Actions to create and approve pull requests",
        "`CLICKUP_MEMBERS_SYNC` = `1`",
        "`api`",
        "Developer",
        "`OKTA_PRIVATE_KEY_FILE`",
        "`GOOGLE_APPLICATION_CREDENTIALS`",
    ] {
        assert!(
            section.contains(said),
            "README, syncing on a schedule: {said}"
        );
    }
    let gitlab = std::fs::read_to_string(repo().join(GITLAB)).expect("read");
    assert!(
        super::header_variables(&gitlab)
            .iter()
            .any(|(name, _)| name == "CLICKUP_MEMBERS_SYNC_TOKEN")
    );
}

// ---------------------------------------------------------------------------------------------
// The script's `sync`, against git, the identity providers' fakes and the platforms' APIs.

impl Team {
    /// Makes `change` in a checkout and lands it on `main` as a merge does (the remote's
    /// protection is for pushes); gives the new commit.
    fn land(&self, name: &str, change: impl Fn(&Path)) -> String {
        let checkout = self.checkout(name);
        change(&checkout);
        git(&checkout, &["add", "-A"]);
        git(&checkout, &["commit", "--quiet", "-m", name]);
        git(
            &checkout,
            &["push", "--quiet", "origin", "HEAD:refs/heads/landing"],
        );
        self.merge("refs/heads/landing");
        git(&self.remote(), &["update-ref", "-d", "refs/heads/landing"]);
        self.main()
    }

    /// Moves `main` to `rev` of the remote: a merge of it.
    fn merge(&self, rev: &str) {
        git(&self.remote(), &["update-ref", "refs/heads/main", rev]);
    }

    /// The commit of a branch of the remote, if it exists.
    fn branch(&self, name: &str) -> Option<String> {
        let out = std::process::Command::new("git")
            .current_dir(self.remote())
            .args(["rev-parse", "--quiet", "--verify"])
            .arg(format!("refs/heads/{name}"))
            .output()
            .expect("git");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// What the sync's branch holds against `main`: its commits on top of `main`, the files
    /// they change, and the fragment.
    fn proposed(&self) -> (usize, String, String) {
        let remote = self.remote();
        let count = git(
            &remote,
            &["rev-list", "--count", &format!("main..{BRANCH}")],
        );
        let files = git(&remote, &["diff", "--name-only", "main", BRANCH]);
        let fragment = git(&remote, &["show", &format!("{BRANCH}:{FRAGMENT}")]);
        (count.parse().expect("a count"), files, fragment)
    }
}

/// The requests a fake received, as `METHOD /path`, in order.
async fn calls(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect()
}

fn body(request: &Request) -> serde_json::Value {
    serde_json::from_slice(&request.body).unwrap_or_default()
}

/// A request whose JSON `text_field` is the sync's summary and whose title is `title`.
fn summary(text_field: &'static str, title: &'static str) -> impl Fn(&Request) -> bool {
    move |r: &Request| {
        let v = body(r);
        v["title"] == title
            && v[text_field]
                .as_str()
                .is_some_and(|t| t.starts_with(&format!("{MARKER}### {title}\n")))
    }
}

/// The job's temporary folder, which the script must leave empty: its key files gone.
fn temp(team: &Team) -> PathBuf {
    let dir = team.remote().with_file_name("runner-temp");
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

fn assert_nothing_left(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .expect("read")
        .map(|e| e.expect("entry").path())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

fn okta_users(n: usize) -> Vec<crate::fake::identity::OktaUser> {
    okta::users(n, "acme.example")
}

fn output_of(run: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    )
}

/// The lines of a PEM key that are its secret.
fn key_lines(pem: &str) -> Vec<String> {
    pem.lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 20)
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_opens_one_pull_request_and_then_updates_that_one_on_github() {
    let key = RsaKey::shared(2);
    let idp = OktaFake::start().await;
    idp.register_client(OKTA_CLIENT, &key.public(), &[okta::GROUPS_READ]);
    idp.add_group(GROUP, okta_users(3));
    let team = Team::new();
    let workspace = format!(
        "version: 1
workspace:
  id: \"9006054115\"
include:
  - synced/*.yaml
sources:
  okta:
    url: {}
sync:
  into: synced/people.yaml
  rules:
    - {{from: okta, group: \"{GROUP}\"}}
members:
  - email: olivia@acme.example
    role: owner
",
        idp.url()
    );
    let first = team.land("workspace", |c| {
        std::fs::write(c.join("clickup/members.yaml"), &workspace).expect("write");
    });
    let temp = temp(&team);
    let api = MockServer::start().await;
    let summary_file = team.remote().with_file_name("summary.md");
    let pem = key.pkcs8_pem();
    let mut seen = String::new();
    let job = |name: &str, sync_token: bool| {
        let checkout = team.checkout(name);
        let mut cmd = ci_script(&checkout, &["sync"]);
        cmd.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_API_URL", api.uri())
            .env("GITHUB_REPOSITORY", "acme/people")
            .env("GITHUB_REF_NAME", "main")
            .env("GITHUB_RUN_ID", "4242")
            .env("GITHUB_TOKEN", JOB_TOKEN_GITHUB)
            .env("GITHUB_STEP_SUMMARY", &summary_file)
            .env("RUNNER_TEMP", &temp)
            .env("OKTA_CLIENT_ID", OKTA_CLIENT)
            .env("OKTA_PRIVATE_KEY", &pem);
        if sync_token {
            cmd.env("CLICKUP_MEMBERS_SYNC_TOKEN", SYNC_TOKEN_GITHUB);
        }
        cmd
    };
    let pulls = "/repos/acme/people/pulls";
    let open_pulls = |answer: serde_json::Value| {
        Mock::given(method("GET"))
            .and(path(pulls))
            .and(query_param("state", "open"))
            .and(query_param("head", format!("acme:{BRANCH}")))
            .respond_with(json(200, answer))
    };

    // The first change: one pull request, from one commit on top of main that changes the
    // fragment alone, made with the key written from the secret's text.
    open_pulls(serde_json::json!([])).mount(&api).await;
    Mock::given(method("POST"))
        .and(path(pulls))
        .and(header(
            "authorization",
            format!("Bearer {SYNC_TOKEN_GITHUB}"),
        ))
        .and(summary(
            "body",
            "clickup-members sync: 3 to add, 0 to remove, 0 to change",
        ))
        .and(|r: &Request| {
            let v = body(r);
            v["head"] == BRANCH
                && v["base"] == "main"
                && v["body"].as_str().is_some_and(|b| {
                    b.contains(
                        "- `user0000@acme.example`: `member`, from `okta:00gengineers00000001`",
                    ) && b.contains("/acme/people/actions/runs/4242")
                })
        })
        .respond_with(json(
            201,
            serde_json::json!({"number": 12, "html_url": "https://github.com/acme/people/pull/12"}),
        ))
        .expect(1)
        .mount(&api)
        .await;
    let run = run_async(job("job-1", true)).await;
    seen.push_str(&output_of(&run));
    let err = ok(run);
    assert!(err.contains("opened the sync's pull request #12"), "{err}");
    api.verify().await;
    assert_eq!(
        calls(&api).await,
        vec![format!("GET {pulls}"), format!("POST {pulls}")]
    );
    assert_eq!(
        idp.tokens_issued(),
        1,
        "the key from the secret's text signed in"
    );
    assert_nothing_left(&temp);
    let (commits, files, fragment) = team.proposed();
    assert_eq!((commits, files.as_str()), (1, FRAGMENT));
    assert!(
        fragment.contains("user0002@acme.example") && !fragment.contains("user0003"),
        "{fragment}"
    );
    let shown = std::fs::read_to_string(&summary_file).expect("the job summary");
    assert!(
        shown.contains("### clickup-members sync: 3 to add"),
        "{shown}"
    );
    assert_eq!(team.main(), first, "main is never pushed");

    // Another change the next day: the same pull request, its commit replaced.
    let before = team.branch(BRANCH).expect("the branch");
    idp.add_group(GROUP, okta_users(4));
    api.reset().await;
    let open = serde_json::json!([{"number": 12, "state": "open",
        "head": {"ref": BRANCH, "sha": before}, "base": {"ref": "main"}}]);
    open_pulls(open.clone()).mount(&api).await;
    Mock::given(method("PATCH"))
        .and(path(format!("{pulls}/12")))
        .and(header(
            "authorization",
            format!("Bearer {SYNC_TOKEN_GITHUB}"),
        ))
        .and(summary(
            "body",
            "clickup-members sync: 4 to add, 0 to remove, 0 to change",
        ))
        .and(|r: &Request| body(r)["base"] == "main" && body(r).get("head").is_none())
        .respond_with(json(200, serde_json::json!({"number": 12})))
        .expect(1)
        .mount(&api)
        .await;
    let run = run_async(job("job-2", true)).await;
    seen.push_str(&output_of(&run));
    let err = ok(run);
    assert!(err.contains("updated the sync's pull request #12"), "{err}");
    api.verify().await;
    assert_eq!(
        calls(&api).await,
        vec![format!("GET {pulls}"), format!("PATCH {pulls}/12")]
    );
    let (commits, files, fragment) = team.proposed();
    assert_eq!((commits, files.as_str()), (1, FRAGMENT), "force-pushed");
    assert!(fragment.contains("user0003@acme.example"), "{fragment}");
    let after = team.branch(BRANCH).expect("the branch");
    assert_ne!(after, before);

    // The same again, with the job's own token only: nothing to push, the pull request's text
    // refreshed, and a warning that GitHub plans nothing that token opens.
    api.reset().await;
    open_pulls(open).mount(&api).await;
    Mock::given(method("PATCH"))
        .and(path(format!("{pulls}/12")))
        .and(header(
            "authorization",
            format!("Bearer {JOB_TOKEN_GITHUB}"),
        ))
        .respond_with(json(200, serde_json::json!({"number": 12})))
        .expect(1)
        .mount(&api)
        .await;
    let run = run_async(job("job-3", false)).await;
    seen.push_str(&output_of(&run));
    let out = stdout(&run);
    let err = ok(run);
    assert!(err.contains("already holds this change"), "{err}");
    assert!(
        out.contains("::warning title=clickup-members::CLICKUP_MEMBERS_SYNC_TOKEN is not set")
            && out.contains("GitHub starts no workflow for it"),
        "{out}"
    );
    api.verify().await;
    assert_eq!(team.branch(BRANCH), Some(after.clone()));

    // Merged: nothing left to change, nothing opened.
    team.merge(&after);
    api.reset().await;
    open_pulls(serde_json::json!([])).mount(&api).await;
    let run = run_async(job("job-4", true)).await;
    seen.push_str(&output_of(&run));
    let err = ok(run);
    assert!(err.contains("nothing to sync"), "{err}");
    assert_eq!(calls(&api).await, vec![format!("GET {pulls}")]);

    // A group read as empty while the fragment holds its people: refused, nothing written,
    // nothing opened, the job fails.
    idp.add_group(GROUP, Vec::new());
    api.reset().await;
    let run = run_async(job("job-5", true)).await;
    seen.push_str(&output_of(&run));
    let err = fails(run);
    assert!(
        err.contains("nothing was committed, and no pull request was opened or changed")
            && err.contains("the sync is refused"),
        "{err}"
    );
    assert!(calls(&api).await.is_empty(), "{:?}", calls(&api).await);
    assert_eq!(team.branch(BRANCH), Some(after.clone()));
    assert_eq!(team.main(), after);
    assert_nothing_left(&temp);

    let mut secrets = vec![
        SYNC_TOKEN_GITHUB.to_owned(),
        JOB_TOKEN_GITHUB.to_owned(),
        "okta-at-".to_owned(),
    ];
    secrets.extend(key_lines(&pem));
    for secret in &secrets {
        assert!(
            !seen.contains(secret.as_str()),
            "{secret} is in the output:\n{seen}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_opens_updates_and_closes_one_merge_request_on_gitlab() {
    let key = RsaKey::shared(3);
    let okta_idp = OktaFake::start().await;
    okta_idp.api_token(OKTA_TOKEN);
    okta_idp.add_group(GROUP, okta_users(2));
    let google_idp = GoogleFake::start().await;
    google_idp.add_user(SUBJECT, true);
    google_idp.add_group("staff@acme.example", google::users(2, "g.acme.example"));
    let service_account = google_idp
        .service_account(SERVICE_ACCOUNT, &key)
        .to_string();
    let team = Team::new();
    let workspace = format!(
        "version: 1
workspace:
  id: \"9006054115\"
include:
  - synced/*.yaml
sources:
  okta:
    url: {}
  google:
    subject: {SUBJECT}
    api_url: {}
sync:
  into: synced/people.yaml
  rules:
    - {{from: okta, group: \"{GROUP}\"}}
    - {{from: google, group: \"staff@acme.example\"}}
members:
  - email: olivia@acme.example
    role: owner
",
        okta_idp.url(),
        google_idp.api_url()
    );
    team.land("workspace", |c| {
        std::fs::write(c.join("clickup/members.yaml"), &workspace).expect("write");
    });
    let temp = temp(&team);
    let api = MockServer::start().await;
    let mut seen = String::new();
    let job = |name: &str| {
        let checkout = team.checkout(name);
        let mut cmd = ci_script(&checkout, &["sync"]);
        cmd.env("GITLAB_CI", "true")
            .env("CI_API_V4_URL", format!("{}/api/v4", api.uri()))
            .env("CI_PROJECT_ID", "12")
            .env("CI_COMMIT_BRANCH", "main")
            .env("CI_JOB_URL", "https://gitlab.example/acme/people/-/jobs/77")
            .env("GITLAB_API_TOKEN", API_TOKEN_GITLAB)
            .env("CLICKUP_MEMBERS_SYNC_TOKEN", SYNC_TOKEN_GITLAB)
            // The recipe pushes to a URL, not to a named remote.
            .env("CLICKUP_MEMBERS_REMOTE", team.remote())
            .env("TMPDIR", &temp)
            .env("OKTA_API_TOKEN", OKTA_TOKEN)
            .env("GOOGLE_APPLICATION_CREDENTIALS_JSON", &service_account);
        cmd
    };
    let mrs = "/api/v4/projects/12/merge_requests";
    let open_mrs = |answer: serde_json::Value| {
        Mock::given(method("GET"))
            .and(path(mrs))
            .and(query_param("state", "opened"))
            .and(query_param("source_branch", BRANCH))
            .respond_with(json(200, answer))
    };
    let opened = |iid: u64| serde_json::json!([{"iid": iid, "state": "opened", "source_branch": BRANCH, "target_branch": "main"}]);

    // The first sync: one merge request, with the key written from the variable's text.
    open_mrs(serde_json::json!([])).mount(&api).await;
    Mock::given(method("POST"))
        .and(path(mrs))
        .and(header("private-token", SYNC_TOKEN_GITLAB))
        .and(summary("description", "clickup-members sync: 4 to add, 0 to remove, 0 to change"))
        .and(|r: &Request| {
            let v = body(r);
            v["source_branch"] == BRANCH
                && v["target_branch"] == "main"
                && v["remove_source_branch"] == true
                && v["description"].as_str().is_some_and(|d| {
                    d.contains("`user0001@g.acme.example`: `member`, from `google:staff@acme.example`")
                        && d.contains("this merge request")
                        && d.contains("/-/jobs/77")
                })
        })
        .respond_with(json(201, serde_json::json!({"iid": 8, "web_url": "https://gitlab.example/acme/people/-/merge_requests/8"})))
        .expect(1)
        .mount(&api)
        .await;
    let run = run_async(job("job-1")).await;
    seen.push_str(&output_of(&run));
    let err = ok(run);
    assert!(err.contains("opened the sync's merge request !8"), "{err}");
    api.verify().await;
    assert_eq!(
        calls(&api).await,
        vec![format!("GET {mrs}"), format!("POST {mrs}")]
    );
    assert_eq!(
        google_idp.tokens_issued(),
        1,
        "the key from the variable's text signed in"
    );
    assert_nothing_left(&temp);
    let (commits, files, _) = team.proposed();
    assert_eq!((commits, files.as_str()), (1, FRAGMENT));

    // Merged. A new hire opens a new merge request, and the next one updates it.
    team.merge(&team.branch(BRANCH).expect("the branch"));
    let merged = team.main();
    okta_idp.add_group(GROUP, okta_users(3));
    api.reset().await;
    open_mrs(serde_json::json!([])).mount(&api).await;
    Mock::given(method("POST"))
        .and(path(mrs))
        .and(summary(
            "description",
            "clickup-members sync: 1 to add, 0 to remove, 0 to change",
        ))
        .respond_with(json(201, serde_json::json!({"iid": 9})))
        .expect(1)
        .mount(&api)
        .await;
    ok(run_async(job("job-2")).await);
    api.verify().await;

    okta_idp.add_group(GROUP, okta_users(4));
    api.reset().await;
    open_mrs(opened(9)).mount(&api).await;
    Mock::given(method("PUT"))
        .and(path(format!("{mrs}/9")))
        .and(header("private-token", SYNC_TOKEN_GITLAB))
        .and(summary(
            "description",
            "clickup-members sync: 2 to add, 0 to remove, 0 to change",
        ))
        .and(|r: &Request| body(r)["target_branch"] == "main")
        .respond_with(json(200, serde_json::json!({"iid": 9})))
        .expect(1)
        .mount(&api)
        .await;
    let run = run_async(job("job-3")).await;
    seen.push_str(&output_of(&run));
    let err = ok(run);
    assert!(err.contains("updated the sync's merge request !9"), "{err}");
    api.verify().await;
    assert_eq!(
        calls(&api).await,
        vec![format!("GET {mrs}"), format!("PUT {mrs}/9")]
    );
    let (commits, _, fragment) = team.proposed();
    assert_eq!(commits, 1);
    assert!(fragment.contains("user0003@acme.example"), "{fragment}");
    assert_eq!(team.main(), merged);

    // The new hires leave before it is merged: nothing left to change, and the merge request
    // that would add them is closed, saying why; nothing is opened.
    okta_idp.add_group(GROUP, okta_users(2));
    api.reset().await;
    open_mrs(opened(9)).mount(&api).await;
    Mock::given(method("POST"))
        .and(path(format!("{mrs}/9/notes")))
        .and(|r: &Request| {
            body(r)["body"].as_str().is_some_and(|b| {
                b.starts_with(MARKER) && b.contains("Closed by the scheduled sync")
            })
        })
        .respond_with(json(201, serde_json::json!({"id": 501})))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("{mrs}/9")))
        .and(body_json(serde_json::json!({"state_event": "close"})))
        .respond_with(json(200, serde_json::json!({"iid": 9})))
        .expect(1)
        .mount(&api)
        .await;
    let run = run_async(job("job-4")).await;
    seen.push_str(&output_of(&run));
    let err = ok(run);
    assert!(err.contains("closed the sync's merge request !9"), "{err}");
    api.verify().await;
    assert_eq!(
        calls(&api).await,
        vec![
            format!("GET {mrs}"),
            format!("POST {mrs}/9/notes"),
            format!("PUT {mrs}/9")
        ]
    );

    // Refused: the Okta group reads as empty while the fragment holds its people.
    okta_idp.add_group(GROUP, Vec::new());
    api.reset().await;
    let before = team.branch(BRANCH);
    let run = run_async(job("job-5")).await;
    seen.push_str(&output_of(&run));
    let err = fails(run);
    assert!(
        err.contains("nothing was committed, and no merge request was opened or changed")
            && err.contains("the sync is refused"),
        "{err}"
    );
    assert!(calls(&api).await.is_empty());
    assert_eq!(team.branch(BRANCH), before);
    assert_eq!(team.main(), merged);
    assert_nothing_left(&temp);

    let mut secrets = vec![
        SYNC_TOKEN_GITLAB.to_owned(),
        API_TOKEN_GITLAB.to_owned(),
        OKTA_TOKEN.to_owned(),
        "ya29.c.fake-".to_owned(),
    ];
    secrets.extend(key_lines(&key.pkcs8_pem()));
    for secret in &secrets {
        assert!(
            !seen.contains(secret.as_str()),
            "{secret} is in the output:\n{seen}"
        );
    }
}

#[tokio::test]
async fn a_sync_the_platform_refuses_fails_with_what_the_token_needs_and_changes_nothing_else() {
    let team = Team::new();
    team.land("workspace", |c| {
        crate::common::copy_dir(&repo().join("examples/sync"), &c.join("clickup"));
    });
    let api = MockServer::start().await;
    let pulls = "/repos/acme/people/pulls";
    Mock::given(method("GET"))
        .and(path(pulls))
        .respond_with(json(200, serde_json::json!([])))
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path(pulls))
        .respond_with(json(
            403,
            serde_json::json!({"message": "GitHub Actions is not permitted to create or approve pull requests."}),
        ))
        .expect(1)
        .mount(&api)
        .await;
    let checkout = team.checkout("job");
    // The HR export as the job fetched it: only the fragment the sync writes is committed.
    let export = checkout.join("clickup/hr/people.csv");
    let mut rows = std::fs::read_to_string(&export).expect("read");
    rows.push_str("1099,\"Doe, Jane\",jane@acme.example,Engineering,engineering,,,\n");
    std::fs::write(&export, rows).expect("write");
    let mut cmd = ci_script(&checkout, &["sync"]);
    cmd.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_API_URL", api.uri())
        .env("GITHUB_REPOSITORY", "acme/people")
        .env("GITHUB_REF_NAME", "main")
        .env("GITHUB_TOKEN", JOB_TOKEN_GITHUB);
    let err = fails(run_async(cmd).await);
    assert!(
        err.contains("POST /repos/acme/people/pulls was answered 403")
            && err.contains("Allow GitHub Actions to create and approve pull requests")
            && err.contains("CLICKUP_MEMBERS_SYNC_TOKEN"),
        "{err}"
    );
    api.verify().await;
    let (commits, files, _) = team.proposed();
    assert_eq!((commits, files.as_str()), (1, FRAGMENT));

    // Outside GitHub and GitLab there is no request to open: nothing is read or written.
    let err = fails(run_async(ci_script(&team.checkout("laptop"), &["sync"])).await);
    assert!(
        err.contains("CLICKUP_MEMBERS_PLATFORM=github or gitlab"),
        "{err}"
    );
}

/// A test of the helpers above: the GitLab rules' evaluator refuses what it cannot read.
#[test]
#[should_panic(expected = "a rule this test cannot read")]
fn the_rules_evaluator_refuses_forms_it_does_not_know() {
    holds("$A == \"1\" || $B == \"1\"", &BTreeMap::new());
}
