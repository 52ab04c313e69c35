//! Google Workspace: the service account's JWT-bearer grant, pages by `nextPageToken`, `type`
//! and `status`, the rate-limit reasons, the refusals, and the key file.

use wiremock::matchers::{query_param, query_param_is_missing};

use super::*;

const MEMBERS_PATH: &str = "/admin/directory/v1/groups/eng%40acme.example/members";
const CLIENT_EMAIL: &str = "sync@project.iam.gserviceaccount.com";
const SUBJECT: &str = "admin@acme.example";

/// A service account key whose `token_uri` is `server`'s `/token`.
fn key(files: &Files, server: &MockServer) -> String {
    let key = json!({
        "type": "service_account", "project_id": "project", "private_key_id": "key-1",
        "private_key": PKCS8, "client_email": CLIENT_EMAIL, "client_id": "1234",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": format!("{}/token", server.uri()),
    });
    files.write("key.json", &key.to_string())
}

/// A provider whose token endpoint and API are `server`, with a token endpoint that gives
/// `google-access`.
async fn provider(files: &Files, server: &MockServer) -> Provider {
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "google-access", "expires_in": 3599, "token_type": "Bearer",
        })))
        .mount(server)
        .await;
    let key = key(files, server);
    let source = Source::Google {
        subject: SUBJECT.to_owned(),
        api_url: server.uri(),
    };
    Provider::new(
        &source,
        options(&[("GOOGLE_APPLICATION_CREDENTIALS", key.as_str())]),
    )
    .expect("provider")
}

fn member(n: usize, kind: &str, status: &str, email: Option<&str>) -> Value {
    json!({"kind": "admin#directory#member", "etag": "\"e\"", "id": format!("1{n:020}"),
           "email": email, "role": "MEMBER", "type": kind, "status": status})
}

fn page(members: Vec<Value>, next: Option<&str>) -> ResponseTemplate {
    let mut body = json!({"kind": "admin#directory#members", "etag": "\"e\""});
    if !members.is_empty() {
        body["members"] = json!(members);
    }
    if let Some(next) = next {
        body["nextPageToken"] = json!(next);
    }
    ResponseTemplate::new(200).set_body_json(body)
}

#[tokio::test]
async fn google_reads_every_page_of_derived_members_and_keeps_active_users() {
    let (server, files) = (MockServer::start().await, Files::new());
    let provider = provider(&files, &server).await;
    let first: Vec<Value> = (0..200)
        .map(|n| member(n, "USER", "ACTIVE", Some(&format!("p{n}@acme.example"))))
        .collect();
    Mock::given(method("GET"))
        .and(path(MEMBERS_PATH))
        .and(query_param_is_missing("pageToken"))
        .respond_with(page(first, Some("Cjs/K+x=")))
        .expect(1)
        .mount(&server)
        .await;
    let second = vec![
        member(200, "GROUP", "ACTIVE", Some("nested@acme.example")),
        json!({"kind": "admin#directory#member", "id": "C0abc", "role": "MEMBER", "type": "CUSTOMER"}),
        member(202, "USER", "SUSPENDED", Some("s@acme.example")),
        member(203, "USER", "ACTIVE", None),
        member(204, "EXTERNAL", "ACTIVE", Some("x@elsewhere.example")),
        member(205, "USER", "ACTIVE", Some("Kept@Acme.example")),
    ];
    Mock::given(method("GET"))
        .and(path(MEMBERS_PATH))
        .and(query_param("pageToken", "Cjs/K+x="))
        .respond_with(page(second, Some("last")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(MEMBERS_PATH))
        .and(query_param("pageToken", "last"))
        .respond_with(page(vec![], None))
        .expect(1)
        .mount(&server)
        .await;
    let read = provider.read_group("eng@acme.example").await.expect("read");
    assert_eq!((read.pages, read.read, read.dropped), (3, 206, 5));
    assert_eq!(read.emails.len(), 201);
    assert_eq!(read.emails[200], "Kept@Acme.example");
    assert_eq!(read.without_email, ["100000000000000000203"]);
    let credentials = provider.credentials();
    assert!(
        credentials.contains(CLIENT_EMAIL) && credentials.contains(SUBJECT),
        "{credentials}"
    );

    let pages = received(&server, MEMBERS_PATH).await;
    let first_url = format!("{MEMBERS_PATH}?includeDerivedMembership=true&maxResults=200");
    assert_eq!(sent(&pages[0]), first_url);
    assert_eq!(
        sent(&pages[1]),
        format!("{first_url}&pageToken=Cjs%2FK%2Bx%3D")
    );
    assert!(
        pages
            .iter()
            .all(|p| p.headers["authorization"] == "Bearer google-access")
    );

    let token = received(&server, "/token").await;
    assert_eq!(token.len(), 1, "one token for all pages");
    let form = form(&token[0]);
    assert_eq!(
        form["grant_type"],
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    );
    assert_eq!(form.len(), 2, "{form:?}");
    let token_uri = format!("{}/token", server.uri());
    let (header, claims) = decode(&form["assertion"], &token_uri);
    assert_eq!(header.kid.as_deref(), Some("key-1"));
    assert_eq!(claims["iss"], CLIENT_EMAIL);
    assert_eq!(claims["sub"], SUBJECT);
    assert_eq!(claims["aud"], token_uri.as_str());
    assert_eq!(
        claims["scope"],
        "https://www.googleapis.com/auth/admin.directory.group.member.readonly"
    );
    let iat = claims["iat"].as_u64().expect("iat");
    assert_eq!(claims["exp"].as_u64(), Some(iat + 3600));
}

#[tokio::test]
async fn google_rate_limit_reasons_back_off_and_other_403s_are_refusals() {
    let (server, files) = (MockServer::start().await, Files::new());
    let provider = provider(&files, &server).await;
    let limited = |status: u16, reason: &str| {
        ResponseTemplate::new(status).set_body_json(json!({"error": {
            "code": status, "message": "Quota exceeded for quota metric 'Queries'",
            "errors": [{"message": "Quota exceeded", "domain": "usageLimits", "reason": reason}],
        }}))
    };
    for (status, reason) in [
        (403, "userRateLimitExceeded"),
        (429, "rateLimitExceeded"),
        (403, "rateLimitExceeded"),
    ] {
        Mock::given(method("GET"))
            .and(path(MEMBERS_PATH))
            .respond_with(limited(status, reason))
            .up_to_n_times(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(MEMBERS_PATH))
        .respond_with(page(
            vec![member(1, "USER", "ACTIVE", Some("a@acme.example"))],
            None,
        ))
        .mount(&server)
        .await;
    let read = provider
        .read_group("eng@acme.example")
        .await
        .expect("read after backing off");
    assert_eq!(read.emails, ["a@acme.example"]);
    assert_eq!(received(&server, MEMBERS_PATH).await.len(), 4);

    Mock::given(method("GET"))
        .and(path(
            "/admin/directory/v1/groups/secret%40acme.example/members",
        ))
        .respond_with(limited(403, "forbidden"))
        .expect(1)
        .mount(&server)
        .await;
    let err = provider
        .read_group("secret@acme.example")
        .await
        .expect_err("403");
    assert!(
        matches!(err, Error::Forbidden { status: 403, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("admin.directory.group.member.readonly") && text.contains(SUBJECT),
        "{text}"
    );
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": {"code": 404, "message": "Resource Not Found: groupKey", "errors": [{"reason": "notFound"}]}})))
        .mount(&server)
        .await;
    let err = provider
        .read_group("gone@acme.example")
        .await
        .expect_err("404");
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn google_an_undelegated_client_is_told_how_to_delegate() {
    let (server, files) = (MockServer::start().await, Files::new());
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "unauthorized_client",
            "error_description": "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
        })))
        .mount(&server)
        .await;
    let key = key(&files, &server);
    let source = Source::Google {
        subject: SUBJECT.into(),
        api_url: server.uri(),
    };
    let provider = Provider::new(
        &source,
        options(&[("GOOGLE_APPLICATION_CREDENTIALS", key.as_str())]),
    )
    .expect("provider");
    let err = provider
        .read_group("eng@acme.example")
        .await
        .expect_err("refused");
    assert!(
        matches!(err, Error::TokenRefused { status: 401, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("Domain-wide delegation"), "{err}");
}

#[test]
fn google_a_bad_key_file_is_named_never_quoted() {
    let files = Files::new();
    let source = Source::Google {
        subject: SUBJECT.into(),
        api_url: "https://admin.googleapis.com".into(),
    };
    let body = PKCS8.lines().nth(1).expect("a line of the key");
    let cases = [
        ("not json", format!("{{\"private_key\": \"{body}")),
        ("no key", json!({"type": "service_account", "client_email": CLIENT_EMAIL}).to_string()),
        ("bad key", json!({"type": "service_account", "client_email": CLIENT_EMAIL, "private_key": format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n")}).to_string()),
        ("user", json!({"type": "authorized_user", "client_id": "x", "refresh_token": body}).to_string()),
    ];
    for (name, content) in cases {
        let file = files.write(name, &content);
        let err = Provider::new(
            &source,
            options(&[("GOOGLE_APPLICATION_CREDENTIALS", file.as_str())]),
        )
        .expect_err(name);
        assert!(matches!(err, Error::Key { .. }), "{name}: {err:?}");
        let text = format!("{err} {err:?}");
        assert!(
            text.contains(file.as_str()) && !text.contains(body),
            "{name}: {text}"
        );
    }
    let plain = json!({"type": "service_account", "client_email": CLIENT_EMAIL, "private_key": PKCS8,
                       "token_uri": "http://oauth2.example/token"});
    let file = files.write("plain", &plain.to_string());
    let err = Provider::new(
        &source,
        options(&[("GOOGLE_APPLICATION_CREDENTIALS", file.as_str())]),
    )
    .expect_err("plain http token_uri");
    assert!(matches!(err, Error::Url { .. }), "{err:?}");
    let err = Provider::new(&source, options(&[])).expect_err("no key");
    assert!(
        err.to_string()
            .contains("set GOOGLE_APPLICATION_CREDENTIALS"),
        "{err}"
    );
}
