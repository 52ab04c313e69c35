//! plan, apply and snapshot against a stateful fake of ClickUp: the requests they make, rate
//! limits, injected faults, ClickUp's errors, and the token never leaking.

use std::process::Output;
use std::time::Duration;

use assert_cmd::assert::OutputAssertExt;
use predicates::prelude::*;
use serde_json::{Value, json};

use crate::common::{Acme, cli, repo, stderr, stdout};
use crate::fake::{Fake, Fault};

pub(crate) const TOKEN: &str = "pk_4753994_SECRETSECRETSECRETSECRET0123";
pub(crate) const TEAM: &str = "9006054115";

fn acme_snapshot() -> Value {
    let text = std::fs::read_to_string(repo().join("examples/acme/workspace.snapshot.json"))
        .expect("snapshot");
    serde_json::from_str(&text).expect("json")
}

/// Runs the CLI against the fake, with the token in the environment.
pub(crate) async fn run(dir: &std::path::Path, fake: &Fake, args: &[&str]) -> Output {
    crate::common::run_against(dir, &fake.api_url(), TOKEN, args).await
}

fn lines(fake: &Fake) -> Vec<String> {
    fake.log().iter().map(crate::fake::Logged::line).collect()
}

fn writes(fake: &Fake) -> Vec<String> {
    fake.log()
        .iter()
        .filter(|l| l.is_write())
        .map(crate::fake::Logged::line)
        .collect()
}

/// A Workspace with only the owner (the token's user).
pub(crate) fn small_snapshot() -> Value {
    json!({
        "team": {"id": TEAM, "name": "Acme Workspace", "color": "#40BC86", "avatar": null, "members": [
            {"user": {"id": 4484242, "username": "Olivia Owner", "email": "olivia@acme.example",
                      "color": "#ff897f", "profilePicture": null, "initials": "OO", "role": 1,
                      "role_subtype": 0, "role_key": "owner", "custom_role": null,
                      "last_active": "1750794096125", "date_joined": "1679495777070",
                      "date_invited": "1679495777070"}}
        ]},
        "custom_roles": [],
        "groups": [],
        "me": {"id": 4484242, "email": "olivia@acme.example", "username": "Olivia Owner"}
    })
}

/// A members file with the owner and `n` newcomers, in a fresh directory.
fn newcomers_file(n: usize, groups: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("dir");
    let mut text = format!(
        "version: 1\nworkspace:\n  id: \"{TEAM}\"\nmembers:\n  - email: olivia@acme.example\n    role: owner\n"
    );
    for i in 0..n {
        text.push_str(&format!("  - email: new{i:02}@acme.example\n"));
    }
    text.push_str(groups);
    std::fs::write(dir.path().join("members.yaml"), text).expect("write");
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_costs_a_fixed_set_of_reads() {
    let fake = Fake::start(&acme_snapshot(), TOKEN).await;
    let acme = Acme::new();
    let output = run(acme.dir.path(), &fake, &["plan", "--allow-replace"])
        .await
        .assert()
        .success();
    assert_eq!(
        lines(&fake),
        vec![
            "GET user".to_owned(),
            "GET team".to_owned(),
            format!("GET team/{TEAM}/customroles?include_members=false"),
            format!("GET group?team_id={TEAM}"),
            format!("GET team/{TEAM}/guest/11111112"),
            format!("GET team/{TEAM}/plan"),
            format!("GET team/{TEAM}/seats"),
        ],
        "only lena has access managed and is already a guest; the plan has writes, so the Workspace's plan and seats are read"
    );
    assert!(
        stdout(&output).contains(
            "Seats (Enterprise plan): members 26 of 26 used, 26 after the plan; guests 3 of 10 used, 4 after the plan."
        ),
        "{}",
        stdout(&output)
    );
    assert!(
        fake.log().iter().all(|l| l.user_agent.as_deref()
            == Some(concat!("clickup-members/", env!("CARGO_PKG_VERSION"))))
    );
    assert!(
        fake.log()
            .iter()
            .all(|l| l.authorization.as_deref() == Some(TOKEN))
    );

    // Without custom roles, groups or access, a plan is two requests, and two more for the
    // subscription and seats when it has writes.
    fake.clear_log();
    let dir = newcomers_file(3, "");
    run(dir.path(), &fake, &["plan"]).await.assert().success();
    let plan = format!("GET team/{TEAM}/plan");
    let seats = format!("GET team/{TEAM}/seats");
    assert_eq!(lines(&fake), vec!["GET user", "GET team", &plan, &seats]);
    fake.clear_log();
    let dir = newcomers_file(0, "");
    run(dir.path(), &fake, &["plan"]).await.assert().success();
    assert_eq!(
        lines(&fake),
        vec!["GET user", "GET team"],
        "no writes: no subscription read"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seats_that_cannot_be_read_are_unknown_and_the_plan_is_still_made() {
    let fake = Fake::start(&small_snapshot(), TOKEN).await;
    // Refused outright (a 5xx would be retried for half a minute first).
    fake.inject("GET", &format!("team/{TEAM}/seats"), Fault::Team110, 2);
    let dir = newcomers_file(2, "");
    run(dir.path(), &fake, &["plan", "--detailed-exitcode"])
        .await
        .assert()
        .code(2)
        .stdout(predicate::str::contains(
            "Seats (Enterprise plan): unknown (not read).",
        ))
        .stderr(predicate::str::contains(
            "cannot read the Workspace's seats from ClickUp",
        ));
    let output = run(dir.path(), &fake, &["plan", "--format", "json"]).await;
    let plan: Value = serde_json::from_slice(&output.stdout).expect("json plan");
    assert_eq!(plan["seats"], Value::Null);
    assert_eq!(plan["workspace_plan"], json!("Enterprise"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_seats_reads_the_seats_without_writes_and_refuses_a_plan_above_it() {
    let fake = Fake::start(&small_snapshot(), TOKEN).await;
    let bounded = |n: usize, max: u32| {
        let dir = newcomers_file(n, "");
        let path = dir.path().join("members.yaml");
        let text = std::fs::read_to_string(&path).expect("read");
        let text = text.replacen(
            "members:\n",
            &format!("policy:\n  seats:\n    max_members: {max}\nmembers:\n"),
            1,
        );
        std::fs::write(&path, text).expect("write");
        dir
    };
    // No writes, yet the seats are read: the file bounds them. The fake counts 1 member seat
    // used of 6.
    let dir = bounded(0, 1);
    run(dir.path(), &fake, &["plan"]).await.assert().success();
    let plan = format!("GET team/{TEAM}/plan");
    let seats = format!("GET team/{TEAM}/seats");
    assert_eq!(lines(&fake), vec!["GET user", "GET team", &plan, &seats]);
    // Two newcomers on a bound of 2: refused, at the line of seats; nothing is written.
    fake.clear_log();
    let dir = bounded(2, 2);
    run(dir.path(), &fake, &["apply", "--auto-approve"])
        .await
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "members.yaml:5:3: refused: the plan would use 3 member seats (now 1), above policy.seats.max_members (2)",
        ));
    assert!(writes(&fake).is_empty(), "{:?}", writes(&fake));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_apply_plan_converges_with_one_write_per_change() {
    let fake = Fake::start(&acme_snapshot(), TOKEN).await;
    let acme = Acme::new();
    run(
        acme.dir.path(),
        &fake,
        &["plan", "--detailed-exitcode", "--allow-replace"],
    )
    .await
    .assert()
    .code(2);
    fake.clear_log();

    run(
        acme.dir.path(),
        &fake,
        &["apply", "--auto-approve", "--allow-replace"],
    )
    .await
    .assert()
    .success()
    .stdout(predicate::str::contains(
        "Apply complete! 3 invited, 6 changed, 2 removed, 1 replaced, 1 group created, 1 group deleted.",
    ));
    let mut w = writes(&fake);
    w.sort();
    // 14 changes: one request each, two for the replace, one per share added, changed or
    // removed (zoe's one share; lena's three share changes and no edit of lena herself).
    let mut expected = vec![
        format!("POST team/{TEAM}/user"),                // nina
        format!("POST team/{TEAM}/user"),                // yusuf
        format!("POST team/{TEAM}/guest"),               // zoe
        "POST list/901234567/guest/57207542".to_owned(), // zoe's share
        format!("PUT team/{TEAM}/user/57207539"),        // priya, a pending invitation edited
        format!("DELETE team/{TEAM}/user/5100019"),      // tom, replaced by a guest
        format!("POST team/{TEAM}/guest"),
        format!("PUT team/{TEAM}/user/5100004"),       // dan
        format!("PUT team/{TEAM}/user/4269250"),       // max
        format!("PUT team/{TEAM}/guest/11111111"),     // gus
        "POST folder/90110/guest/11111112".to_owned(), // lena
        "POST list/901234567/guest/11111112".to_owned(),
        "DELETE task/86a0x1q/guest/11111112".to_owned(),
        format!("POST team/{TEAM}/group"), // Design
        "PUT group/4bfdfcec-6f4f-40a7-b0d6-22660d51870d".to_owned(),
        format!("DELETE team/{TEAM}/user/5100021"), // victor
        format!("DELETE team/{TEAM}/guest/11111113"), // walt
        "DELETE group/7c1e2a90-3b5d-4c8e-9f01-2a3b4c5d6e7f".to_owned(),
    ];
    expected.sort();
    // Invitation ids depend on the order the parallel invites reached the fake.
    let strip_ids = |v: &[String]| -> Vec<String> {
        v.iter()
            .map(|l| {
                if l.starts_with("POST list/901234567/guest/5720754") {
                    "POST list/901234567/guest/<zoe>".to_owned()
                } else {
                    l.clone()
                }
            })
            .collect()
    };
    assert_eq!(strip_ids(&w), strip_ids(&expected));
    assert!(
        fake.log()
            .iter()
            .filter(|l| l.is_write())
            .all(|l| l.status == 200)
    );

    run(acme.dir.path(), &fake, &["plan", "--detailed-exitcode"])
        .await
        .assert()
        .success()
        .stdout(predicate::str::ends_with(
            "No changes. The workspace matches members.yaml.\n",
        ));

    fake.clear_log();
    run(acme.dir.path(), &fake, &["apply", "--auto-approve"])
        .await
        .assert()
        .success();
    assert!(
        writes(&fake).is_empty(),
        "a second apply wrote: {:?}",
        writes(&fake)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_stays_under_the_rate_limit_while_headers_are_honoured() {
    let fake = Fake::start(&small_snapshot(), TOKEN).await;
    fake.rate_limit(10, Duration::from_secs(2));
    let dir = newcomers_file(40, "");
    run(dir.path(), &fake, &["apply", "--auto-approve"])
        .await
        .assert()
        .success();
    assert_eq!(
        fake.too_many(),
        0,
        "429 answers while pacing by the headers"
    );
    assert_eq!(writes(&fake).len(), 40);
    for i in 0..40 {
        assert_eq!(fake.count(&format!("new{i:02}@acme.example")), 1);
    }
    run(dir.path(), &fake, &["plan", "--detailed-exitcode"])
        .await
        .assert()
        .success();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_converges_through_injected_429s() {
    let fake = Fake::start(&small_snapshot(), TOKEN).await;
    fake.rate_limit(10, Duration::from_secs(1));
    fake.inject("POST", &format!("team/{TEAM}/user"), Fault::RateLimited, 3);
    let dir = newcomers_file(12, "");
    run(dir.path(), &fake, &["apply", "--auto-approve"])
        .await
        .assert()
        .success();
    assert_eq!(fake.too_many(), 3);
    for i in 0..12 {
        assert_eq!(fake.count(&format!("new{i:02}@acme.example")), 1);
    }
}

/// Injects `fault` on the first invitation and the group creation, applies, and checks the
/// run converges without duplicates.
async fn survives(fault: Fault) {
    let fake = Fake::start(&small_snapshot(), TOKEN).await;
    fake.rate_limit(100, Duration::from_secs(1));
    fake.timeout_delay(Duration::from_secs(3));
    fake.inject("POST", &format!("team/{TEAM}/user"), fault, 1);
    fake.inject("POST", &format!("team/{TEAM}/group"), fault, 1);
    fake.inject("GET", "team", fault, 1);
    let dir = newcomers_file(
        3,
        "groups:\n  - name: Everyone\n    members: [new00@acme.example, new01@acme.example]\n",
    );
    run(
        dir.path(),
        &fake,
        &["apply", "--auto-approve", "--timeout", "1"],
    )
    .await
    .assert()
    .append_context("fault", format!("{fault:?}"))
    .stderr(predicate::str::contains("panicked").not())
    // The retry is reported.
    .stderr(predicate::str::contains("trying again in"))
    .success();
    for i in 0..3 {
        assert_eq!(
            fake.count(&format!("new{i:02}@acme.example")),
            1,
            "{fault:?}: duplicate invitation"
        );
    }
    assert_eq!(
        fake.duplicate_invitations(),
        0,
        "{fault:?}: an invitation was sent again"
    );
    let groups = fake.snapshot()["groups"].as_array().map_or(0, Vec::len);
    assert_eq!(groups, 1, "{fault:?}: duplicate group");
    run(dir.path(), &fake, &["plan", "--detailed-exitcode"])
        .await
        .assert()
        .append_context("fault", format!("{fault:?}"))
        .success();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_faults_are_retried_without_duplicates() {
    for fault in [
        Fault::Status(500),
        Fault::Status(502),
        Fault::Status(503),
        Fault::RateLimited,
        Fault::Timeout,
        Fault::Drop,
        Fault::AppliedThen500,
    ] {
        survives(fault).await;
    }
}

/// An answer that cannot be decoded is not a passing fault: ClickUp would send the same again,
/// so the read stops at once, naming the endpoint and what was cut short (SPEC §5).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecodable_answer_is_not_retried() {
    let fake = Fake::start(&small_snapshot(), TOKEN).await;
    fake.inject("GET", "team", Fault::Malformed, 1);
    let dir = newcomers_file(1, "");
    run(dir.path(), &fake, &["plan"])
        .await
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "ClickUp's answer to GET /team could not be read at team: EOF while parsing a list (the answer was cut short)",
        ))
        .stderr(predicate::str::contains("trying again").not());
    assert_eq!(
        lines(&fake),
        vec!["GET user".to_owned(), "GET team".to_owned()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_reported_with_their_sentence_and_a_rerun_converges() {
    for (fault, sentence) in [
        (
            Fault::Team110,
            "ClickUp refused: Workspace 9006054115 is not on the Enterprise plan, which member, guest and sharing changes need (TEAM_110: Team must be on enterprise plan)",
        ),
        (
            Fault::Oauth025,
            "the token is invalid or was revoked (OAUTH_025: Token invalid)",
        ),
        (
            Fault::Oauth192,
            "the token cannot reach Workspace 9006054115 (OAUTH_192: Workspace not authorized)",
        ),
    ] {
        let fake = Fake::start(&small_snapshot(), TOKEN).await;
        fake.inject("POST", &format!("team/{TEAM}/user"), fault, 1);
        let dir = newcomers_file(3, "");
        let output = run(
            dir.path(),
            &fake,
            &["apply", "--auto-approve", "--parallelism", "1"],
        )
        .await
        .assert()
        .append_context("fault", format!("{fault:?}"))
        .code(1)
        .stderr(predicate::str::contains(sentence))
        // Every other write would meet the same refusal: none is sent (SPEC §5).
        .stdout(predicate::str::contains(
            "Apply incomplete: 0 of 3 changes applied (0 invited, 0 changed, 0 removed), 1 failed, 2 not attempted, 0 not started.",
        ));
        let writes = fake.log().iter().filter(|l| l.is_write()).count();
        assert_eq!(writes, 1, "{fault:?}: writes after the refusal");
        output.stderr(predicate::str::contains(
            "not attempted: an earlier write was refused with",
        ));
        run(dir.path(), &fake, &["apply", "--auto-approve"])
            .await
            .assert()
            .append_context("fault", format!("{fault:?}"))
            .success()
            .stdout(predicate::str::contains("Apply complete! 3 invited"));
        for i in 0..3 {
            assert_eq!(fake.count(&format!("new{i:02}@acme.example")), 1);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_token_is_one_sentence_and_exit_1() {
    let fake = Fake::start(&small_snapshot(), "pk_the_right_one").await;
    let dir = newcomers_file(1, "");
    run(dir.path(), &fake, &["plan"])
        .await
        .assert()
        .code(1)
        .stderr(format!(
            "Error: cannot read the Workspace from ClickUp ({}): the token is invalid or was revoked (OAUTH_025: Token invalid); set CLICKUP_TOKEN to a valid personal token (pk_…) or OAuth token\n",
            fake.api_url()
        ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_workspace_lists_the_ones_the_token_sees() {
    let fake = Fake::start(&small_snapshot(), TOKEN).await;
    let dir = newcomers_file(1, "");
    crate::common::edit(&dir.path().join("members.yaml"), TEAM, "42");
    run(dir.path(), &fake, &["plan"])
        .await
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "Workspace 42 is not visible to this token (it sees 9006054115 \"Acme Workspace\", 1234567 \"Side Project\"); check workspace.id",
        ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workspace_off_the_enterprise_plan_fails_writes_with_team_110() {
    let fake = Fake::start(&small_snapshot(), TOKEN).await;
    fake.set_enterprise(false);
    let dir = newcomers_file(2, "");

    // The plan reads the Workspace's subscription and says so before anything is sent.
    let refusal = "Apply will refuse this plan: Workspace 9006054115 is on the Business plan: ClickUp makes member, guest and sharing changes only on the Enterprise plan, so every write would be refused with TEAM_110";
    run(dir.path(), &fake, &["plan"])
        .await
        .assert()
        .code(1)
        .stdout(predicate::str::contains(refusal));
    run(dir.path(), &fake, &["apply", "--auto-approve"])
        .await
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "refused: Workspace 9006054115 is on the Business plan",
        ));
    assert!(fake.log().iter().all(|l| !l.is_write()), "nothing was sent");

    // A Workspace that says Enterprise but answers TEAM_110 still gets a sentence, and the
    // other writes are not sent.
    fake.set_enterprise(true);
    fake.inject("POST", &format!("team/{TEAM}/user"), Fault::Team110, 1);
    run(dir.path(), &fake, &["apply", "--auto-approve"])
        .await
        .assert()
        .code(1)
        .stderr(predicate::str::contains("Failed changes:"))
        .stderr(predicate::str::contains(
            "new00@acme.example  invite member  403   TEAM_110  Team must be on enterprise plan",
        ))
        .stderr(predicate::str::contains("not on the Enterprise plan"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_never_appears_in_output_logs_plans_or_state() {
    let fake = Fake::start(&acme_snapshot(), TOKEN).await;
    let acme = Acme::new();
    let mut seen = String::new();
    for args in [
        vec!["plan", "-vv", "--allow-replace", "--out", "plan.json"],
        vec!["plan", "-vv", "--allow-replace", "--format", "json"],
        vec!["apply", "plan.json", "-vv", "--allow-replace"],
        vec!["snapshot", "-vv", "--workspace", TEAM, "--out", "snap.json"],
    ] {
        let output = run(acme.dir.path(), &fake, &args)
            .await
            .assert()
            .append_context("args", format!("{args:?}"))
            .success();
        seen.push_str(&stdout(&output));
        seen.push_str(&stderr(&output));
    }
    // Trace logs of every crate, too.
    let mut cmd = cli();
    cmd.current_dir(acme.dir.path())
        .env("CLICKUP_TOKEN", TOKEN)
        .env("RUST_LOG", "trace")
        .args(["plan", "--api-url", &fake.api_url()]);
    let output = tokio::task::spawn_blocking(move || cmd.output().expect("run"))
        .await
        .expect("join");
    seen.push_str(&stderr(&output));
    assert!(stderr(&output).contains("GET"), "trace logs were written");
    for file in ["plan.json", "members.state.json", "snap.json"] {
        seen.push_str(&std::fs::read_to_string(acme.path(file)).expect(file));
    }
    assert!(seen.contains("GET /team"), "-vv logs the requests");
    let secret = TOKEN.trim_start_matches("pk_");
    assert!(!seen.contains(secret), "the token leaked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_comes_from_a_file_too() {
    let fake = Fake::start(&small_snapshot(), TOKEN).await;
    let dir = newcomers_file(1, "");
    std::fs::write(dir.path().join("token"), format!("{TOKEN}\n")).expect("write");
    let mut cmd = cli();
    cmd.current_dir(dir.path())
        .env("CLICKUP_TOKEN_FILE", dir.path().join("token"))
        .args(["plan", "--api-url", &fake.api_url()]);
    tokio::task::spawn_blocking(move || cmd.assert())
        .await
        .expect("join")
        .success();
}

#[test]
fn no_token_is_a_clear_error() {
    let dir = newcomers_file(1, "");
    cli()
        .current_dir(dir.path())
        .arg("plan")
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "Error: no ClickUp token: set CLICKUP_TOKEN",
        ));
}

#[test]
fn the_token_is_never_sent_over_plain_http_to_another_host() {
    let dir = newcomers_file(1, "");
    cli()
        .current_dir(dir.path())
        .env("CLICKUP_TOKEN", TOKEN)
        .args(["plan", "--api-url", "http://api.clickup.example/api/v2"])
        .assert()
        .code(1)
        .stderr(
            "Error: refusing to send the token over plain http:// to api.clickup.example; use https:// (plain http is allowed only to a loopback address)\n",
        );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_of_the_live_workspace_plans_the_same() {
    let fake = Fake::start(&acme_snapshot(), TOKEN).await;
    let acme = Acme::new();
    run(
        acme.dir.path(),
        &fake,
        &[
            "snapshot",
            "--workspace",
            TEAM,
            "--out",
            "saved.json",
            "--with-guest-shares",
        ],
    )
    .await
    .assert()
    .success()
    .stdout(predicate::str::starts_with(
        "Saved Workspace \"Acme Workspace\" (9006054115) to saved.json: 29 people, 2 groups, 3 custom roles.",
    ));
    let live = run(acme.dir.path(), &fake, &["plan", "--format", "json"]).await;
    let offline = run(
        acme.dir.path(),
        &fake,
        &["plan", "--format", "json", "--snapshot", "saved.json"],
    )
    .await;
    let json = |o: &Output| serde_json::from_slice::<Value>(&o.stdout).expect("json");
    for key in ["changes", "workspace_plan", "seats"] {
        assert!(!json(&live)[key].is_null(), "{key}");
        assert_eq!(json(&live)[key], json(&offline)[key], "{key}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_url_that_is_not_the_api_base_says_it_must_end_in_api_v2() {
    let fake = Fake::start(&acme_snapshot(), TOKEN).await;
    let acme = Acme::new();
    // A common slip: the base without its version.
    crate::common::run_against(
        acme.dir.path(),
        &format!("{}/api", fake.server.uri()),
        TOKEN,
        ["plan"],
    )
    .await
    .assert()
    .code(1)
    .stderr(predicate::str::contains("APP_001"))
    .stderr(predicate::str::contains(
        "--api-url (or CLICKUP_API_URL) must be ClickUp's API base, ending in /api/v2",
    ));
}
