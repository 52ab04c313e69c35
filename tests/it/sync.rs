//! `sync` end to end, against the identity providers' fakes (`fake::identity`, written from the
//! providers' own descriptions, whose contract checks fail a test whose traffic breaks them):
//! pages beyond each provider's page size, inactive users dropped, a person in two rules, a
//! person listed by hand, the refusals (an empty group, too many changes), faults that leave
//! nothing written, a second run that changes nothing, the errors of bad credentials at their
//! rule's line, and no secret anywhere. The csv source and the shipped example run offline.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::prelude::*;
use predicates::prelude::*;

use crate::common::{self, cli, fails, repo, stderr, stdout};
use crate::fake::identity::{
    GoogleFake, GoogleMember, GraphFake, GraphFault, GraphUser, OktaFake, OktaFault, OktaStatus,
    OktaUser, On, RsaKey, google, graph, okta,
};

const TENANT: &str = "00000000-0000-0000-0000-0000000000aa";
const ENTRA_CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const ENTRA_SECRET: &str = "entra~SECRET~value~Zq8";
const OKTA_TOKEN: &str = "00okta-SECRET-ssws-token-Xy7";
const OKTA_CLIENT: &str = "0oa1syncclient0000001";
const SUBJECT: &str = "admin@acme.example";
const SERVICE_ACCOUNT: &str = "sync@acme-project.iam.gserviceaccount.com";

/// Variables of the identity providers a run must not inherit from the machine.
const PROVIDER_ENV: &[&str] = &[
    "OKTA_API_TOKEN",
    "OKTA_CLIENT_ID",
    "OKTA_PRIVATE_KEY_FILE",
    "OKTA_PRIVATE_KEY_ID",
    "ENTRA_CLIENT_ID",
    "ENTRA_CLIENT_SECRET",
    "GOOGLE_APPLICATION_CREDENTIALS",
];

/// Runs `clickup-members sync ARGS` in `dir` with `env`, off the async runtime that serves the
/// fakes.
async fn sync(dir: &Path, env: &[(&str, String)], args: &[&str]) -> Output {
    let mut cmd = cli();
    for name in PROVIDER_ENV {
        cmd.env_remove(name);
    }
    cmd.current_dir(dir).arg("sync").args(args);
    for (name, value) in env {
        cmd.env(name, value);
    }
    tokio::task::spawn_blocking(move || cmd.output().expect("run"))
        .await
        .expect("join")
}

/// A Workspace file whose sources are the fakes, with `rules` (YAML list items) and the
/// Workspace of the acme example as a snapshot beside it.
fn workdir(sources: &str, rules: &str, extra_members: &str) -> tempfile::TempDir {
    let text = format!(
        "version: 1
workspace:
  id: \"9006054115\"
include:
  - synced/*.yaml
sources:
{sources}
sync:
  into: synced/people.yaml
  max_changes: 5000
  rules:
{rules}
members:
  - email: olivia@acme.example
    role: owner
{extra_members}
groups:
  - name: Engineering
"
    );
    let dir = common::workdir(&text);
    std::fs::copy(
        repo().join("examples/acme/workspace.snapshot.json"),
        dir.path().join("workspace.snapshot.json"),
    )
    .expect("snapshot");
    dir
}

/// `members.yaml:LINE:7: `, the place of the first rule.
fn first_rule(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("members.yaml")).expect("read");
    let line = text
        .lines()
        .position(|l| l.starts_with("    - {from"))
        .expect("a rule")
        + 1;
    format!("members.yaml:{line}:7: ")
}

fn fragment(dir: &Path) -> PathBuf {
    dir.join("synced/people.yaml")
}

fn okta_source(fake: &OktaFake) -> String {
    format!("  okta:\n    url: {}", fake.url())
}

/// Okta's users `user0000@…` to `user{n-1}@…`, every tenth suspended or deprovisioned.
fn okta_people(n: usize, domain: &str) -> Vec<OktaUser> {
    okta::users(n, domain)
        .into_iter()
        .enumerate()
        .map(|(i, user)| match i % 10 {
            3 => user.status(OktaStatus::Suspended),
            7 => user.status(OktaStatus::Deprovisioned),
            5 => user.status(OktaStatus::PasswordExpired),
            _ => user,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_providers_beyond_a_page_each_are_merged_and_a_second_run_changes_nothing() {
    let key = RsaKey::shared(0);
    let okta = OktaFake::start().await;
    okta.api_token(OKTA_TOKEN);
    let mut admins = okta_people(230, "acme.example");
    admins.push(OktaUser::new("both@acme.example"));
    admins.push(OktaUser::new("hand@acme.example"));
    okta.add_group("00gadmins0000000001", admins);
    let entra = GraphFake::start().await;
    entra.register_app(TENANT, ENTRA_CLIENT, ENTRA_SECRET);
    let mut engineers = graph::users(1005, "eng.acme.example");
    engineers.push(GraphUser::new("Both@Acme.example"));
    engineers.push(GraphUser::new("off@eng.acme.example").disabled());
    engineers.push(GraphUser::guest("visitor@partner.example", "acme.example").without_mail());
    entra.add_group("6f1c0000-0000-4000-8000-000000000001", engineers);
    let google = GoogleFake::start().await;
    google.add_user(SUBJECT, true);
    let mut members = google::users(250, "g.acme.example");
    members.push(GoogleMember::user("gone@g.acme.example").status("SUSPENDED"));
    members.push(GoogleMember::group("team@g.acme.example"));
    let group = google.add_group("staff@acme.example", members);
    assert!(!group.is_empty());
    let sources = format!(
        "{}\n  entra:\n    tenant: \"{TENANT}\"\n    login_url: {}\n    graph_url: {}\n  google:\n    subject: {SUBJECT}\n    api_url: {}",
        okta_source(&okta),
        entra.login_url(),
        entra.graph_url(),
        google.api_url()
    );
    let rules = "    - {from: okta, group: \"00gadmins0000000001\", role: admin}
    - {from: entra, group: \"6f1c0000-0000-4000-8000-000000000001\", groups: [engineering]}
    - {from: google, group: \"staff@acme.example\"}
";
    let dir = workdir(&sources, rules, "  - email: hand@acme.example\n");
    let key_file = google.write_service_account(dir.path(), SERVICE_ACCOUNT, &key);
    let env = vec![
        ("OKTA_API_TOKEN", OKTA_TOKEN.to_owned()),
        ("ENTRA_CLIENT_ID", ENTRA_CLIENT.to_owned()),
        ("ENTRA_CLIENT_SECRET", ENTRA_SECRET.to_owned()),
        (
            "GOOGLE_APPLICATION_CREDENTIALS",
            key_file.display().to_string(),
        ),
    ];
    let written = sync(dir.path(), &env, &["--write", "--detailed-exitcode"]).await;
    let out = stdout(&written.assert().code(2));
    // Each listing went past its page size, as the providers page it.
    assert_eq!(okta.pages_served_for("00gadmins0000000001"), 2);
    assert_eq!(
        entra.pages_served_for("6f1c0000-0000-4000-8000-000000000001"),
        2
    );
    assert_eq!(google.pages_served_for("staff@acme.example"), 2);
    assert!(
        out.contains("okta:00gadmins0000000001 (members.yaml:"),
        "{out}"
    );
    assert!(out.contains("232 people read in 2 pages"), "{out}");
    let text = std::fs::read_to_string(fragment(dir.path())).expect("written");
    let written_file: serde_json::Value = serde_saphyr::from_str(&text).expect("yaml");
    let members = written_file["members"].as_array().expect("members");
    let emails: Vec<&str> = members
        .iter()
        .map(|m| m["email"].as_str().expect("email"))
        .collect();
    // Okta: 232 listed, 2 of every 10 of the first 230 suspended or deprovisioned (46),
    // PASSWORD_EXPIRED kept, `hand` listed by hand: 185. Entra: 1005 + both (the disabled
    // one and the guest UPN left out). Google: 250 (the suspended and the group left out).
    assert_eq!(members.len(), 185 + 1005 + 250, "{}", members.len());
    assert!(!emails.contains(&"hand@acme.example"));
    assert!(!emails.contains(&"user0003@acme.example"));
    assert!(emails.contains(&"user0005@acme.example"));
    assert!(!emails.contains(&"off@eng.acme.example"));
    assert!(!emails.contains(&"gone@g.acme.example"));
    let both = members
        .iter()
        .find(|m| m["email"] == "both@acme.example")
        .expect("both");
    assert_eq!(both["role"], "admin");
    assert_eq!(both["groups"], serde_json::json!(["Engineering"]));
    assert_eq!(
        both["source"],
        serde_json::json!([
            "entra:6f1c0000-0000-4000-8000-000000000001",
            "okta:00gadmins0000000001"
        ])
    );
    assert!(
        out.contains("= hand@acme.example: kept as written at members.yaml:"),
        "{out}"
    );
    // The file with its fragment is valid and plans, offline.
    let planned = cli()
        .current_dir(dir.path())
        .args(["plan", "--snapshot", "workspace.snapshot.json"])
        .output()
        .expect("plan");
    assert!(
        stdout(&planned).contains("+ invite member both@acme.example"),
        "{}",
        stderr(&planned)
    );
    // Again: nothing changes, byte for byte, and the file is not even rewritten.
    let stamp = std::fs::metadata(fragment(dir.path()))
        .and_then(|m| m.modified())
        .expect("stamp");
    let again = sync(dir.path(), &env, &["--write", "--detailed-exitcode"]).await;
    let out = stdout(&again.assert().code(0));
    assert!(out.contains("Sync: no changes"), "{out}");
    assert_eq!(
        std::fs::read_to_string(fragment(dir.path())).expect("read"),
        text
    );
    assert_eq!(
        std::fs::metadata(fragment(dir.path()))
            .and_then(|m| m.modified())
            .expect("stamp"),
        stamp
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_client_credentials_win_over_an_api_token_and_the_dry_run_says_so() {
    let key = RsaKey::shared(1);
    let okta = OktaFake::start().await;
    okta.api_token(OKTA_TOKEN);
    okta.register_client(OKTA_CLIENT, &key.public(), &[okta::GROUPS_READ]);
    okta.add_group("00gengineers00000001", okta::users(3, "acme.example"));
    okta.add_group(
        "00gdesigners00000001",
        okta::users(2, "design.acme.example"),
    );
    let rules = "    - {from: okta, group: \"00gengineers00000001\"}
    - {from: okta, group: \"00gdesigners00000001\"}
";
    let dir = workdir(&okta_source(&okta), rules, "");
    let key_file = key.write_pkcs8(dir.path(), "okta.pem");
    let env = vec![
        ("OKTA_API_TOKEN", OKTA_TOKEN.to_owned()),
        ("OKTA_CLIENT_ID", OKTA_CLIENT.to_owned()),
        ("OKTA_PRIVATE_KEY_FILE", key_file.display().to_string()),
    ];
    let run = sync(
        dir.path(),
        &env,
        &[
            "--snapshot",
            "workspace.snapshot.json",
            "--detailed-exitcode",
        ],
    )
    .await;
    let out = stdout(&run.assert().code(2));
    assert!(
        out.contains("credentials: okta: OAuth 2.0 client credentials with private_key_jwt"),
        "{out}"
    );
    // One token for both groups, and every API call made with it.
    assert_eq!(okta.tokens_issued(), 1);
    assert!(
        okta.log()
            .iter()
            .filter(|l| l.endpoint == crate::fake::identity::Endpoint::Api)
            .all(|l| l.auth_scheme.as_deref() == Some("Bearer"))
    );
    // The dry run: the diff, the summary, and the plan; nothing written.
    assert!(out.contains("+++ synced/people.yaml (synced)"), "{out}");
    assert!(
        out.contains("+ user0000@acme.example: member, from okta:00gengineers00000001"),
        "{out}"
    );
    assert!(
        out.contains("Sync: 5 to add, 0 to remove, 0 to change."),
        "{out}"
    );
    assert!(
        out.contains("The plan the Workspace would get with it:"),
        "{out}"
    );
    assert!(
        out.contains("+ invite member user0000@acme.example"),
        "{out}"
    );
    assert!(!fragment(dir.path()).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_on_the_last_page_writes_nothing() {
    let okta = OktaFake::start().await;
    okta.api_token(OKTA_TOKEN);
    okta.add_group("00gengineers00000001", okta::users(205, "acme.example"));
    okta.inject(On::LastPage, OktaFault::Status(503), 20);
    let rules = "    - {from: okta, group: \"00gengineers00000001\"}\n";
    let dir = workdir(&okta_source(&okta), rules, "");
    let env = vec![("OKTA_API_TOKEN", OKTA_TOKEN.to_owned())];
    let run = sync(dir.path(), &env, &["--write"]).await;
    let err = fails(run);
    assert!(
        err.contains(&format!(
            "{}okta:00gengineers00000001:",
            first_rule(dir.path())
        )),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    assert!(!fragment(dir.path()).exists());
    // The first page was read, the last tried again five times, then given up.
    let failed = okta.log().iter().filter(|l| l.status == 503).count();
    assert_eq!(failed, 6, "{:?}", okta.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_read_as_empty_while_the_fragment_holds_its_people_is_refused() {
    let entra = GraphFake::start().await;
    entra.register_app(TENANT, ENTRA_CLIENT, ENTRA_SECRET);
    let group = "6f1c0000-0000-4000-8000-000000000002";
    entra.add_group(group, graph::users(3, "acme.example"));
    let sources = format!(
        "  entra:\n    tenant: \"{TENANT}\"\n    login_url: {}\n    graph_url: {}",
        entra.login_url(),
        entra.graph_url()
    );
    let rules = format!("    - {{from: entra, group: \"{group}\"}}\n");
    let dir = workdir(&sources, &rules, "");
    let env = vec![
        ("ENTRA_CLIENT_ID", ENTRA_CLIENT.to_owned()),
        ("ENTRA_CLIENT_SECRET", ENTRA_SECRET.to_owned()),
    ];
    sync(dir.path(), &env, &["--write"])
        .await
        .assert()
        .success();
    let before = std::fs::read_to_string(fragment(dir.path())).expect("written");
    // An outage that answers with an empty group.
    entra.add_group(group, Vec::new());
    let run = sync(dir.path(), &env, &["--write"]).await;
    let err = fails(run);
    assert!(
        err.contains(&format!(
            "entra:{group} reads as empty, but the fragment holds 3 people from it"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("--allow-empty entra:{group}")),
        "{err}"
    );
    assert!(err.contains(&first_rule(dir.path())), "{err}");
    assert_eq!(
        std::fs::read_to_string(fragment(dir.path())).expect("read"),
        before
    );
    // Told it really is empty: the people go.
    let allowed = format!("entra:{group}");
    let run = sync(dir.path(), &env, &["--write", "--allow-empty", &allowed]).await;
    let out = stdout(&run.assert().success());
    assert!(
        out.contains("Sync: 0 added, 3 removed, 0 changed."),
        "{out}"
    );
    // An --allow-empty that names no rule is a mistake, said so.
    let run = sync(dir.path(), &env, &["--allow-empty", "okta:nothing"]).await;
    let err = fails(run);
    assert!(
        err.contains("--allow-empty okta:nothing names no rule"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_changes_than_max_changes_are_refused_until_raised_for_one_run() {
    let google = GoogleFake::start().await;
    google.add_user(SUBJECT, true);
    google.add_group("staff@acme.example", google::users(4, "acme.example"));
    let sources = format!(
        "  google:\n    subject: {SUBJECT}\n    api_url: {}",
        google.api_url()
    );
    let rules = "    - {from: google, group: \"staff@acme.example\"}\n";
    let dir = workdir(&sources, rules, "");
    common::edit(
        &dir.path().join("members.yaml"),
        "max_changes: 5000",
        "max_changes: 3",
    );
    let key_file = google.write_service_account(dir.path(), SERVICE_ACCOUNT, &RsaKey::shared(2));
    let env = vec![(
        "GOOGLE_APPLICATION_CREDENTIALS",
        key_file.display().to_string(),
    )];
    let err = fails(sync(dir.path(), &env, &["--write"]).await);
    assert!(
        err.contains("4 people would change, more than max_changes (3)"),
        "{err}"
    );
    assert!(err.contains("--max-changes 4"), "{err}");
    assert!(!fragment(dir.path()).exists());
    sync(dir.path(), &env, &["--write", "--max-changes", "4"])
        .await
        .assert()
        .success();
    assert!(fragment(dir.path()).exists());
}

/// A bad setup: what it is, the sources, the rule, the environment, and a word the error says.
type Case<'a> = (&'a str, String, &'a str, Vec<(&'a str, String)>, &'a str);

/// Each bad setup: one sentence at the rule's line, exit 1, nothing written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_and_groups_each_say_what_to_do_at_the_rules_line() {
    let okta = OktaFake::start().await;
    okta.api_token(OKTA_TOKEN);
    okta.add_group("00gengineers00000001", okta::users(2, "acme.example"));
    let entra = GraphFake::start().await;
    entra.register_app(TENANT, ENTRA_CLIENT, ENTRA_SECRET);
    entra.add_group(
        "6f1c0000-0000-4000-8000-000000000003",
        graph::users(2, "acme.example"),
    );
    let okta_rule = "    - {from: okta, group: \"00gengineers00000001\"}\n";
    let entra_sources = |tenant: &str| {
        format!(
            "  entra:\n    tenant: \"{tenant}\"\n    login_url: {}\n    graph_url: {}",
            entra.login_url(),
            entra.graph_url()
        )
    };
    let entra_rule = "    - {from: entra, group: \"6f1c0000-0000-4000-8000-000000000003\"}\n";
    let entra_env = |secret: &str| {
        vec![
            ("ENTRA_CLIENT_ID", ENTRA_CLIENT.to_owned()),
            ("ENTRA_CLIENT_SECRET", secret.to_owned()),
        ]
    };
    let cases: Vec<Case<'_>> = vec![
        (
            "no credentials",
            okta_source(&okta),
            okta_rule,
            vec![],
            "OKTA_API_TOKEN",
        ),
        (
            "a malformed key file",
            okta_source(&okta),
            okta_rule,
            vec![
                ("OKTA_CLIENT_ID", OKTA_CLIENT.to_owned()),
                ("OKTA_PRIVATE_KEY_FILE", "broken.pem".to_owned()),
            ],
            "broken.pem",
        ),
        (
            "a group that does not exist",
            okta_source(&okta),
            "    - {from: okta, group: \"00gnosuchgroup000001\"}\n",
            vec![("OKTA_API_TOKEN", OKTA_TOKEN.to_owned())],
            "00gnosuchgroup000001",
        ),
        (
            "a wrong tenant",
            entra_sources("00000000-0000-0000-0000-0000000000ff"),
            entra_rule,
            entra_env(ENTRA_SECRET),
            "tenant",
        ),
        (
            "invalid_client",
            entra_sources(TENANT),
            entra_rule,
            entra_env("not-the-secret"),
            "invalid_client",
        ),
    ];
    for (what, sources, rule, env, says) in cases {
        let dir = workdir(&sources, rule, "");
        std::fs::write(
            dir.path().join("broken.pem"),
            "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n",
        )
        .expect("write");
        let err = fails(sync(dir.path(), &env, &["--write"]).await);
        assert!(err.contains(&first_rule(dir.path())), "{what}: {err}");
        assert!(err.contains(says), "{what}: {err}");
        assert!(
            !err.contains("not a key"),
            "{what}: the key file's content: {err}"
        );
        assert!(!fragment(dir.path()).exists(), "{what}: written");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_any_output_file_or_log() {
    let key = RsaKey::shared(3);
    let okta = OktaFake::start().await;
    okta.register_client(OKTA_CLIENT, &key.public(), &[okta::GROUPS_READ]);
    okta.add_group("00gengineers00000001", okta::users(3, "acme.example"));
    let entra = GraphFake::start().await;
    entra.register_app(TENANT, ENTRA_CLIENT, ENTRA_SECRET);
    entra.add_group(
        "6f1c0000-0000-4000-8000-000000000004",
        graph::users(2, "acme.example"),
    );
    // A throttled page and a failing one: the waits and retries are logged too.
    entra.inject(
        On::Page(1),
        GraphFault::Throttled {
            status: 429,
            retry_after: Some(1),
        },
        1,
    );
    okta.inject(On::Page(1), OktaFault::Status(502), 1);
    let google = GoogleFake::start().await;
    google.add_user(SUBJECT, true);
    google.add_group("staff@acme.example", google::users(2, "g.acme.example"));
    let sources = format!(
        "{}\n  entra:\n    tenant: \"{TENANT}\"\n    login_url: {}\n    graph_url: {}\n  google:\n    subject: {SUBJECT}\n    api_url: {}",
        okta_source(&okta),
        entra.login_url(),
        entra.graph_url(),
        google.api_url()
    );
    let rules = "    - {from: okta, group: \"00gengineers00000001\"}
    - {from: entra, group: \"6f1c0000-0000-4000-8000-000000000004\"}
    - {from: google, group: \"staff@acme.example\"}
";
    let dir = workdir(&sources, rules, "");
    let okta_key = key.write_pkcs8(dir.path(), "okta.pem");
    let google_key = google.write_service_account(dir.path(), SERVICE_ACCOUNT, &key);
    let env = vec![
        ("OKTA_CLIENT_ID", OKTA_CLIENT.to_owned()),
        ("OKTA_PRIVATE_KEY_FILE", okta_key.display().to_string()),
        ("OKTA_API_TOKEN", OKTA_TOKEN.to_owned()),
        ("ENTRA_CLIENT_ID", ENTRA_CLIENT.to_owned()),
        ("ENTRA_CLIENT_SECRET", ENTRA_SECRET.to_owned()),
        (
            "GOOGLE_APPLICATION_CREDENTIALS",
            google_key.display().to_string(),
        ),
        ("RUST_LOG", "trace".to_owned()),
    ];
    let mut seen = String::new();
    for args in [
        &["-vvv", "--snapshot", "workspace.snapshot.json"][..],
        &["-vvv", "--write", "--format", "json"][..],
    ] {
        let run = sync(dir.path(), &env, args).await;
        assert!(run.status.success(), "{}", stderr(&run));
        seen.push_str(&stdout(&run));
        seen.push_str(&stderr(&run));
    }
    seen.push_str(&std::fs::read_to_string(fragment(dir.path())).expect("written"));
    assert!(seen.contains("okta:00gengineers00000001"), "{seen}");
    let pem = key.pkcs8_pem();
    let key_lines: Vec<&str> = pem
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 20)
        .collect();
    let mut secrets = vec![
        OKTA_TOKEN,
        ENTRA_SECRET,
        "okta-at-",
        "fake-graph-",
        "ya29.c.fake-",
    ];
    secrets.extend(key_lines);
    for secret in secrets {
        assert!(!seen.contains(secret), "{secret} is in the output:\n{seen}");
    }
}

#[test]
fn the_shipped_example_shows_a_diff_a_summary_and_its_plan_offline() {
    let dir = tempfile::tempdir().expect("temp dir");
    common::copy_dir(&repo().join("examples/sync"), dir.path());
    let snapshot = repo().join("examples/acme/workspace.snapshot.json");
    let snapshot = snapshot.to_str().expect("utf-8");
    let run = cli()
        .current_dir(dir.path())
        .args(["sync", "--snapshot", snapshot, "--detailed-exitcode"])
        .assert()
        .code(2);
    let out = stdout(&run);
    for line in [
        "+  - email: nina@acme.example",
        "-  - email: victor.leroy@acme.example",
        "+ nina@acme.example: member in Engineering, from csv:engineering",
        "- victor.leroy@acme.example: no rule holds them now (was from csv:engineering)",
        "~ kira@acme.example: member → Project Lead, by csv:engineering",
        "Sync: 1 to add, 1 to remove, 1 to change.",
        "+ invite member nina@acme.example",
        "- remove member victor.leroy@acme.example",
    ] {
        assert!(out.contains(line), "no {line:?} in:\n{out}");
    }
    let json = cli()
        .current_dir(dir.path())
        .args(["sync", "--format", "json"])
        .assert()
        .success();
    let doc: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("json");
    assert_eq!(doc["format_version"], 1);
    assert_eq!(doc["fragment"], "synced/people.yaml");
    assert_eq!(doc["added"][0]["email"], "nina@acme.example");
    assert_eq!(doc["added"][0]["kind"], "member");
    assert_eq!(
        doc["added"][0]["groups"],
        serde_json::json!(["Engineering"])
    );
    assert_eq!(doc["removed"][0]["email"], "victor.leroy@acme.example");
    assert_eq!(doc["changed"][0]["from"]["role"], "member");
    assert_eq!(doc["changed"][0]["to"]["role"], "Project Lead");
    assert_eq!(doc["rules"][0]["from"], "csv");
    assert_eq!(doc["rules"][2]["read"], 14);
    // Written, then planned: the plan of the fragment as the dry run showed it.
    cli()
        .current_dir(dir.path())
        .args(["sync", "--write"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Wrote synced/people.yaml."));
    cli()
        .current_dir(dir.path())
        .args(["sync", "--detailed-exitcode", "--snapshot", snapshot])
        .assert()
        .code(0);
    cli()
        .current_dir(dir.path())
        .args(["plan", "--snapshot", snapshot])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Plan: 1 to invite, 3 to change, 2 to remove",
        ));
}

#[test]
fn a_bad_csv_row_is_an_error_at_its_line_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("temp dir");
    common::copy_dir(&repo().join("examples/sync"), dir.path());
    let csv = dir.path().join("hr/people.csv");
    let text = std::fs::read_to_string(&csv).expect("read");
    std::fs::write(&csv, text.replace("gita@acme.example", "gita@")).expect("write");
    let before = std::fs::read_to_string(fragment(dir.path())).expect("read");
    let err = fails(cli().current_dir(dir.path()).args(["sync", "--write"]));
    assert!(
        err.contains("hr/people.csv:12:3: \"gita@\" is not a valid email address"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(fragment(dir.path())).expect("read"),
        before
    );
}

#[test]
fn a_folder_syncs_each_file_with_a_sync_section_and_one_failing_stops_no_other() {
    let dir = tempfile::tempdir().expect("temp dir");
    common::copy_dir(&repo().join("examples/sync"), dir.path());
    // A second Workspace whose only source has no credentials, and a third with no sync.
    let broken = std::fs::read_to_string(dir.path().join("members.yaml"))
        .expect("read")
        .replace("id: \"9006054115\"", "id: \"9006054116\"")
        .replace("into: synced/people.yaml", "into: synced/okta.yaml")
        .replace(
            "path: hr/people.csv",
            "path: hr/people.csv\n  okta:\n    url: https://acme.okta.com",
        )
        .replace(
            "    - from: csv\n      group: \"engineering\"",
            "    - from: okta\n      group: \"00gengineers00000001\"",
        );
    std::fs::write(dir.path().join("broken.yaml"), broken).expect("write");
    std::fs::write(
        dir.path().join("plain.yaml"),
        "version: 1\nworkspace: {id: \"9006054117\"}\nmembers: []\n",
    )
    .expect("write");
    let before = std::fs::read_to_string(fragment(dir.path())).expect("read");
    let run = cli()
        .args(["sync", "--write", "--format", "json", "-f"])
        .arg(dir.path())
        .env_remove("OKTA_API_TOKEN")
        .assert()
        .code(1);
    let err = stderr(&run);
    assert!(
        err.contains("1 of 2 Workspace files could not be synced"),
        "{err}"
    );
    assert!(err.contains("OKTA_API_TOKEN"), "{err}");
    let doc: serde_json::Value = serde_json::from_str(&stdout(&run)).expect("json");
    // The failed file is there, with why.
    assert_eq!(doc["workspaces"].as_array().map(Vec::len), Some(2));
    assert!(
        doc["workspaces"][0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("could not be read")),
        "{doc}"
    );
    assert_ne!(
        std::fs::read_to_string(fragment(dir.path())).expect("read"),
        before
    );
    assert!(!dir.path().join("synced/okta.yaml").exists());
}
