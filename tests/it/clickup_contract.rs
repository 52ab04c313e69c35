//! ClickUp's official contract, from both sides: the fake refuses every request the official
//! OpenAPI rejects (and every test's traffic is checked when its fake is dropped); the tool
//! reads ClickUp's own documented example answers, served as they are; an Edit User whose
//! answer shows the role was not taken is a failed change; a hostile or broken server gets a
//! clear error naming the endpoint, in bounded time and memory, and never the token.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use assert_cmd::assert::{Assert, OutputAssertExt};
use predicates::prelude::*;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::workdir;
use crate::fake::contract::{self, EDIT_USER_WITHOUT_CUSTOM_ROLE};
use crate::fake::{Fake, Fault};

use crate::live::{TEAM, TOKEN, run, small_snapshot};

fn check(method: &str, path: &str, query: &str, body: &str) -> contract::Verdict {
    let content_type = (!body.is_empty()).then_some("application/json");
    contract::check(
        method,
        path,
        query,
        content_type,
        Some(TOKEN),
        body.as_bytes(),
    )
}

#[test]
fn the_contract_accepts_what_the_official_schema_accepts() {
    for (method, path, query, body) in [
        ("GET", "/api/v2/team", "", ""),
        (
            "GET",
            "/api/v2/team/9006054115/customroles",
            "include_members=false",
            "",
        ),
        ("GET", "/api/v2/group", "team_id=9006054115", ""),
        (
            "POST",
            "/api/v2/team/9006054115/user",
            "",
            r#"{"email":"a@b.example","admin":false}"#,
        ),
        (
            "PUT",
            "/api/v2/team/9006054115/user/184",
            "",
            r#"{"username":"A","admin":true,"custom_role_id":112233}"#,
        ),
        (
            "POST",
            "/api/v2/task/abc-123/guest/184",
            "",
            r#"{"permission_level":"read"}"#,
        ),
        (
            "PUT",
            "/api/v2/group/4bfdfcec-6f4f-40a7-b0d6-22660d51870d",
            "",
            r#"{"members":{"add":[1],"rem":[]}}"#,
        ),
        ("DELETE", "/api/v2/group/4bfdfcec", "", ""),
    ] {
        let verdict = check(method, path, query, body);
        assert_eq!(verdict.violations, Vec::<String>::new(), "{method} {path}");
        assert_eq!(verdict.deviation, None, "{method} {path}");
    }
}

#[test]
fn the_contract_refuses_what_the_official_schema_refuses() {
    let cases = [
        (
            "PUT",
            "/api/v2/team/9006054115/user/184",
            "",
            r#"{"username":"A","admin":false,"custom_role_id":null}"#,
            "body/custom_role_id null is not of type \"integer\"",
        ),
        (
            "PUT",
            "/api/v2/team/9006054115/user/184",
            "",
            r#"{"admin":false}"#,
            "\"username\" is a required property",
        ),
        (
            "POST",
            "/api/v2/team/9006054115/user",
            "",
            r#"{"email":"a@b.example"}"#,
            "\"admin\" is a required property",
        ),
        (
            "POST",
            "/api/v2/team/9006054115/user",
            "",
            r#"{"email":"a@b.example","admin":false,"custom_role":5}"#,
            "Additional properties are not allowed ('custom_role' was unexpected)",
        ),
        (
            "PUT",
            "/api/v2/group/x",
            "",
            r#"{"members":{"add":[1]}}"#,
            "\"rem\" is a required property",
        ),
        (
            "GET",
            "/api/v2/team/9006054115/guest/184",
            "include_shared=true",
            "",
            "unknown query parameter include_shared",
        ),
        (
            "GET",
            "/api/v2/group",
            "",
            "",
            "required query parameter team_id missing",
        ),
        (
            "DELETE",
            "/api/v2/team/9006054115/user/abc",
            "",
            "",
            "path parameter user_id is \"abc\", not a number",
        ),
        (
            "DELETE",
            "/api/v2/team/9006054115/user/184",
            "",
            "{}",
            "a body was sent, but the operation takes none",
        ),
        (
            "GET",
            "/api/v2/team/9006054115/group",
            "",
            "",
            "is not an operation of the official API",
        ),
    ];
    for (method, path, query, body, expected) in cases {
        let verdict = check(method, path, query, body);
        assert!(
            verdict.violations.iter().any(|v| v.contains(expected)),
            "{method} {path} {body}: expected {expected:?}, got {:?}",
            verdict.violations
        );
    }
    let no_token = contract::check("GET", "/api/v2/team", "", None, None, b"");
    assert!(no_token.violations[0].contains("no Authorization header"));
}

#[test]
fn edit_user_without_custom_role_id_is_the_one_named_deviation() {
    let verdict = check(
        "PUT",
        "/api/v2/team/9006054115/user/184",
        "",
        r#"{"username":"A","admin":false}"#,
    );
    assert!(verdict.violations.is_empty(), "{:?}", verdict.violations);
    assert_eq!(verdict.deviation, Some(EDIT_USER_WITHOUT_CUSTOM_ROLE));
}

/// The fake answers a request outside the contract with 400 and fails the test that sent it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_refuses_a_request_outside_the_contract_and_fails_its_test() {
    let fake = Fake::start(&owner_only(), TOKEN).await;
    let client = reqwest::Client::new();
    let answer = client
        .put(format!("{}/team/{TEAM}/user/4484242", fake.api_url()))
        .header("Authorization", TOKEN)
        .json(&json!({"username": "Olivia Owner", "admin": false, "custom_role_id": null}))
        .send()
        .await
        .expect("send");
    assert_eq!(answer.status().as_u16(), 400);
    let violations = fake.violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(fake)));
    let message = dropped
        .expect_err("the test fails")
        .downcast::<String>()
        .expect("text");
    assert!(
        message.contains("broke ClickUp's official contract"),
        "{message}"
    );
}

/// The owner, and Cora with the custom role "member custom".
fn owner_only() -> Value {
    let mut snapshot = small_snapshot();
    snapshot["team"]["members"]
        .as_array_mut()
        .expect("members")
        .push(
            json!({"user": {"id": 5100002, "username": "Cora Custom", "email": "cora@acme.example",
            "color": "#0388d1", "profilePicture": null, "initials": "CC", "role": 3,
            "role_subtype": 0, "role_key": "member",
            "custom_role": {"id": 998877, "name": "member custom"},
            "last_active": "1750600000000", "date_joined": "1690000000000",
            "date_invited": "1689999990000"}}),
        );
    snapshot["custom_roles"] = json!([
        {"id": 998877, "team_id": TEAM, "name": "member custom", "inherited_role": 3,
         "date_created": "1651189901020", "members": [5100002]}
    ]);
    snapshot
}

const CORA_PLAIN: &str = "version: 1\nworkspace:\n  id: \"9006054115\"\nmembers:\n  - email: olivia@acme.example\n    role: owner\n  - email: cora@acme.example\n    role: admin\n";

/// ClickUp does not say whether Edit User without `custom_role_id` clears a custom role. When
/// its answer shows the role kept, the change is a failure that says what to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_role_clickup_kept_is_a_failed_change_with_what_to_do() {
    let fake = Fake::start(&owner_only(), TOKEN).await;
    fake.keep_custom_role_without_id(true);
    let dir = workdir(CORA_PLAIN);
    run(dir.path(), &fake, &["apply", "--auto-approve"])
        .await
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "ClickUp kept custom role \"member custom\" (id 998877) for user 5100002, which the file no longer names: the API cannot clear a custom role; remove it in ClickUp (Settings → People) or name the role in the file, then run again",
        ));
    let sent = fake
        .log()
        .into_iter()
        .find(|l| l.is_write())
        .expect("a write");
    assert_eq!(
        sent.body,
        Some(json!({"username": "Cora Custom", "admin": true}))
    );
    assert_eq!(
        fake.deviations(),
        vec![format!(
            "PUT team/{TEAM}/user/5100002: {EDIT_USER_WITHOUT_CUSTOM_ROLE}"
        )]
    );

    // Where ClickUp clears it, the same change converges.
    let fake = Fake::start(&owner_only(), TOKEN).await;
    run(dir.path(), &fake, &["apply", "--auto-approve"])
        .await
        .assert()
        .success();
    let cora = fake.member("cora@acme.example").expect("cora");
    assert_eq!(
        (
            cora["user"]["role"].clone(),
            cora["user"]["custom_role"].clone()
        ),
        (json!(2), Value::Null)
    );
}

/// ClickUp's own documented example answers (the official OpenAPI's), served as they are:
/// `GET /team` lists a member with neither email nor role. The plan is made at once, that
/// member listed as unknown and left alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_example_answers_give_a_plan_in_seconds() {
    let openapi: Value =
        serde_json::from_str(include_str!("../contract/clickup-openapi-membership.json"))
            .expect("json");
    let example = |route: &str| {
        openapi["paths"][route]["get"]["responses"]["200"]["content"]["application/json"]["example"]
            .clone()
    };
    let server = MockServer::start().await;
    for (route, at) in [
        ("/v2/user", "/api/v2/user".to_owned()),
        ("/v2/team", "/api/v2/team".to_owned()),
        (
            "/v2/team/{team_id}/plan",
            "/api/v2/team/1234/plan".to_owned(),
        ),
        (
            "/v2/team/{team_id}/seats",
            "/api/v2/team/1234/seats".to_owned(),
        ),
        ("/v2/group", "/api/v2/group".to_owned()),
    ] {
        let body = example(route);
        assert!(!body.is_null(), "{route} has an example");
        Mock::given(method("GET"))
            .and(path(at))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(&server)
            .await;
    }
    let dir = workdir(
        "version: 1\nworkspace:\n  id: \"1234\"\npolicy:\n  mode: additive\nmembers:\n  - email: new.person@company.example\n",
    );
    let started = Instant::now();
    let output = crate::common::run_against(
        dir.path(),
        &format!("{}/api/v2", server.uri()),
        TOKEN,
        ["plan", "--format", "json"],
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let output = output.assert().success();
    let plan: Value = serde_json::from_slice(&output.get_output().stdout).expect("json plan");
    assert_eq!(
        plan["unknown"],
        json!(["user 123 (no email in ClickUp's answer)"])
    );
    assert_eq!(plan["summary"]["invite"], 1);
    assert_eq!(plan["workspace_plan"], json!("Enterprise"));
    // ClickUp's documented answer: 9 of 9 member seats, 2 of 50 guest seats; one invite.
    assert_eq!(
        plan["seats"],
        json!({
            "members": {"used": 9, "total": 9, "after": 10},
            "guests": {"used": 2, "total": 50, "after": 2}
        })
    );
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(
        requests.len(),
        4,
        "user, team, plan, seats: nothing retried"
    );
}

/// A member listed without an email and a guest of a `role_subtype` ClickUp does not document
/// are left alone, never removed, even in authoritative mode.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_the_tool_cannot_tell_are_left_alone() {
    let mut snapshot = owner_only();
    let members = snapshot["team"]["members"].as_array_mut().expect("members");
    members.push(json!({"user": {"id": 77, "username": "Ghost", "role": 3}}));
    members.push(json!({"user": {"id": 78, "email": "limited@acme.example", "role": "4", "role_subtype": 5}}));
    members.push(json!({"user": {"id": "79", "email": "numeric@acme.example", "role": 3, "role_subtype": 0}}));
    let fake = Fake::start(&snapshot, TOKEN).await;
    let dir = workdir(
        "version: 1\nworkspace:\n  id: \"9006054115\"\npolicy:\n  mode: authoritative\n  max_removals: 5\nmembers:\n  - email: olivia@acme.example\n    role: owner\n  - email: cora@acme.example\n    role: member custom\n",
    );
    run(dir.path(), &fake, &["plan"])
        .await
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "- remove member numeric@acme.example (79, pending invitation)",
        ))
        .stdout(predicate::str::contains(
            "Plan: 0 to invite, 0 to change, 1 to remove.",
        ))
        .stdout(predicate::str::contains(
            "Unknown to this tool, left alone (2): user 77 (no email in ClickUp's answer), limited@acme.example (role 4 with role_subtype 5: not the guest ClickUp documents (2), perhaps a limited member)",
        ))
        .stdout(predicate::str::contains("remove member limited").not());
}

// ---- a hostile or broken server ---------------------------------------------------------

async fn plan_against(api_url: &str) -> (Assert, tempfile::TempDir) {
    let dir = workdir(
        "version: 1\nworkspace:\n  id: \"9006054115\"\nmembers:\n  - email: olivia@acme.example\n    role: owner\n",
    );
    let output =
        crate::common::run_against(dir.path(), api_url, TOKEN, ["plan", "--timeout", "5"]).await;
    (output.assert(), dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_html_error_page_is_named_for_what_it_is() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403).set_body_raw(
            b"<!DOCTYPE html><html><body>Forbidden by proxy</body></html>".to_vec(),
            "text/html",
        ))
        .mount(&server)
        .await;
    let (output, _dir) = plan_against(&format!("{}/api/v2", server.uri())).await;
    output
        .code(1)
        .stderr(predicate::str::contains(
            "the token's user may not do this in Workspace 9006054115 (HTTP 403, not ClickUp's error shape: it starts with \"<!DOCTYPE html><html><body>Forbidden by proxy</body></html>\")",
        ))
        .stderr(predicate::str::contains(TOKEN).not());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_carrying_an_error_is_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"err": "Token invalid", "ECODE": "OAUTH_025"})),
        )
        .mount(&server)
        .await;
    let (output, _dir) = plan_against(&format!("{}/api/v2", server.uri())).await;
    output.code(1).stderr(predicate::str::contains(
        "the token is invalid or was revoked (OAUTH_025: Token invalid)",
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_is_not_followed_and_the_token_stays_home() {
    let elsewhere = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"user": {"id": 1, "email": "x@y.example"}})),
        )
        .mount(&elsewhere)
        .await;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(302).insert_header(
            "Location",
            format!("http://localhost:{}/steal", elsewhere.address().port()).as_str(),
        ))
        .mount(&server)
        .await;
    let (output, _dir) = plan_against(&format!("{}/api/v2", server.uri())).await;
    output.code(1).stderr(predicate::str::contains(
        "GET /user: ClickUp answered HTTP 302 with a redirect to localhost; it is not followed, so the token is sent to the API URL only (check --api-url)",
    ));
    assert!(
        elsewhere
            .received_requests()
            .await
            .expect("recorded")
            .is_empty()
    );
}

/// A server that announces a gigabyte, and one that streams without end: neither is read into
/// memory, and both end in a sentence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gigabyte_answer_is_refused_before_it_fills_memory() {
    for announced in [true, false] {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let serving = std::thread::spawn(move || {
            let Ok((mut socket, _)) = listener.accept() else {
                return;
            };
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request);
            let head = if announced {
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n"
            } else {
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            };
            let _ = socket.write_all(head.as_bytes());
            let chunk = vec![b' '; 1 << 20];
            for _ in 0..1024 {
                let sent = if announced {
                    socket.write_all(&chunk)
                } else {
                    socket
                        .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                        .and_then(|()| socket.write_all(&chunk))
                        .and_then(|()| socket.write_all(b"\r\n"))
                };
                if sent.is_err() {
                    return;
                }
            }
        });
        let started = Instant::now();
        let (output, _dir) = plan_against(&format!("http://127.0.0.1:{port}/api/v2")).await;
        output
            .code(1)
            .stderr(predicate::str::contains("GET /user: the answer is"))
            .stderr(predicate::str::contains(
                "more than the 256 MiB an answer may hold; not read",
            ));
        assert!(started.elapsed() < Duration::from_secs(30));
        let _ = serving.join();
    }
}

/// A refused invitation may name someone already there, and a failed removal may have been
/// made: both are checked against the Workspace before they are called failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_invitations_and_failed_removals_are_read_back() {
    let fake = Fake::start(&owner_only(), TOKEN).await;
    fake.inject(
        "POST",
        &format!("team/{TEAM}/user"),
        Fault::AppliedThenRefused(400, "TEAM_014", "User already a member of the team"),
        1,
    );
    fake.inject(
        "DELETE",
        &format!("team/{TEAM}/user/5100002"),
        Fault::AppliedThenRefused(403, "ACCESS_083", "No access"),
        1,
    );
    let dir = workdir(
        "version: 1\nworkspace:\n  id: \"9006054115\"\npolicy:\n  mode: authoritative\nmembers:\n  - email: olivia@acme.example\n    role: owner\n  - email: new@acme.example\n",
    );
    run(dir.path(), &fake, &["apply", "--auto-approve"])
        .await
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Apply complete! 1 invited, 0 changed, 1 removed.",
        ));
    assert_eq!(fake.count("new@acme.example"), 1);
    assert!(fake.member("cora@acme.example").is_none());
    let writes: Vec<String> = fake
        .log()
        .iter()
        .filter(|l| l.is_write())
        .map(crate::fake::Logged::line)
        .collect();
    assert_eq!(writes.len(), 2, "nothing sent twice: {writes:?}");

    // A refusal that left nothing behind is still a failure.
    let fake = Fake::start(&owner_only(), TOKEN).await;
    fake.inject(
        "POST",
        &format!("team/{TEAM}/user"),
        Fault::Refuse(400, "INPUT_005", "Invalid email"),
        1,
    );
    run(dir.path(), &fake, &["apply", "--auto-approve"])
        .await
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "ClickUp refused the request with INPUT_005: Invalid email",
        ));
}

/// A pending invitation's role change is an Edit User (with the invitee's email as the
/// username ClickUp requires); only when ClickUp refuses it, and the run allows replaces, is
/// the invitation cancelled and sent again with the new role.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_role_change_is_edited_first_and_replaced_only_when_allowed() {
    let mut snapshot = owner_only();
    snapshot["team"]["members"]
        .as_array_mut()
        .expect("members")
        .push(json!({"user": {"id": 57207539, "username": null, "email": "pending.person@acme.example",
            "color": null, "profilePicture": null, "initials": "P", "role": 3, "role_subtype": 0,
            "role_key": "member", "custom_role": null, "last_active": null, "date_joined": null,
            "date_invited": "1679495814173"},
            "invited_by": {"id": 4484242, "username": "Olivia Owner", "color": "#ff897f",
            "email": "olivia@acme.example", "initials": "OO", "profilePicture": null,
            "banned_date": null, "status": "invited"}}));
    snapshot["groups"] = json!([{"id": "4bfdfcec-6f4f-40a7-b0d6-22660d51870d", "team_id": TEAM,
        "userid": 4484242, "name": "Ops", "handle": "ops", "date_created": "1640122639829",
        "initials": "O", "members": [{"id": 57207539, "username": null,
        "email": "pending.person@acme.example", "color": null, "initials": "P",
        "profilePicture": null}], "avatar": null}]);
    let dir = workdir(
        "version: 1\nworkspace:\n  id: \"9006054115\"\nmembers:\n  - email: olivia@acme.example\n    role: owner\n  - email: pending.person@acme.example\n    role: admin\ngroups:\n  - name: Ops\n    handle: ops\n    members: [pending.person@acme.example]\n",
    );
    let apply = |fake: &Fake, extra: &'static [&'static str]| {
        let url = fake.api_url();
        let dir = dir.path().to_owned();
        async move {
            let mut args = vec!["apply", "--auto-approve"];
            args.extend(extra);
            crate::common::run_against(&dir, &url, TOKEN, args).await
        }
    };

    // ClickUp edits it: one request, no replace needed.
    let fake = Fake::start(&snapshot, TOKEN).await;
    apply(&fake, &[]).await.assert().success();
    let writes: Vec<(String, Option<Value>)> = fake
        .log()
        .into_iter()
        .filter(|l| l.is_write())
        .map(|l| (l.line(), l.body))
        .collect();
    assert_eq!(
        writes,
        vec![(
            format!("PUT team/{TEAM}/user/57207539"),
            Some(json!({"username": "pending.person@acme.example", "admin": true}))
        )]
    );

    // ClickUp refuses: without --allow-replace the change fails and says what to do.
    let refused = Fault::Refuse(400, "TEAM_092", "Cannot edit a pending invitation");
    let fake = Fake::start(&snapshot, TOKEN).await;
    fake.inject("PUT", &format!("team/{TEAM}/user/57207539"), refused, 1);
    apply(&fake, &[]).await.assert().code(1).stderr(predicate::str::contains(
        "ClickUp did not edit this pending invitation: run apply with --allow-replace to cancel it and invite pending.person@acme.example again with the new role",
    ));
    assert_eq!(fake.count("pending.person@acme.example"), 1);

    // With --allow-replace it is cancelled and sent again as an admin, and put back into the
    // groups the cancelled invitation was in.
    let fake = Fake::start(&snapshot, TOKEN).await;
    fake.inject("PUT", &format!("team/{TEAM}/user/57207539"), refused, 1);
    apply(&fake, &["--allow-replace"]).await.assert().success();
    let lines: Vec<String> = fake
        .log()
        .iter()
        .filter(|l| l.is_write())
        .map(crate::fake::Logged::line)
        .collect();
    assert_eq!(
        lines,
        vec![
            format!("PUT team/{TEAM}/user/57207539"),
            format!("DELETE team/{TEAM}/user/57207539"),
            format!("POST team/{TEAM}/user"),
            "PUT group/4bfdfcec-6f4f-40a7-b0d6-22660d51870d".to_owned(),
        ]
    );
    let invitee = fake
        .member("pending.person@acme.example")
        .expect("invited again");
    assert_eq!(invitee["user"]["role"], 2);
    run(dir.path(), &fake, &["plan", "--detailed-exitcode"])
        .await
        .assert()
        .success();
}
