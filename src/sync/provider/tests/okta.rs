//! Okta: pages by `Link` headers, the statuses kept, the client assertion, 429's reset, and
//! the refusals.

use wiremock::matchers::{header, query_param, query_param_is_missing};

use super::*;

fn user(n: usize, status: &str, email: Option<&str>) -> Value {
    json!({
        "id": format!("00u{n}"), "status": status, "type": {"id": "oty1"},
        "profile": {"firstName": "A", "lastName": "B", "login": format!("u{n}@acme.example"), "email": email},
        "_links": {"self": {"href": format!("https://acme.okta.com/api/v1/users/00u{n}")}},
    })
}

fn api_token(server: &MockServer) -> Provider {
    Provider::new(
        &okta(&server.uri()),
        options(&[("OKTA_API_TOKEN", "ssws-t0ken")]),
    )
    .expect("provider")
}

#[tokio::test]
async fn okta_reads_every_page_and_keeps_the_people_who_still_work_there() {
    let server = MockServer::start().await;
    let uri = server.uri();
    let first: Vec<Value> = (0..200)
        .map(|n| user(n, "ACTIVE", Some(&format!("p{n}@acme.example"))))
        .collect();
    let next = "/api/v1/groups/00g1/users?after=00u199&limit=200";
    Mock::given(method("GET"))
        .and(path("/api/v1/groups/00g1/users"))
        .and(query_param_is_missing("after"))
        .and(header("authorization", "SSWS ssws-t0ken"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(first)
                .append_header(
                    "link",
                    format!("<{uri}/api/v1/groups/00g1/users?limit=200>; rel=\"self\""),
                )
                .append_header("link", format!("<{uri}{next}>; rel=\"next\""))
                .insert_header("x-rate-limit-remaining", "598"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let second = vec![
        user(200, "PASSWORD_EXPIRED", Some("expired@acme.example")),
        user(201, "LOCKED_OUT", Some("Locked.Out@Acme.example")),
        user(202, "RECOVERY", Some("recovery@acme.example")),
        user(203, "SUSPENDED", Some("s@acme.example")),
        user(204, "DEPROVISIONED", Some("d@acme.example")),
        user(205, "STAGED", Some("st@acme.example")),
        user(206, "PROVISIONED", Some("pr@acme.example")),
        user(207, "ACTIVATING", Some("ac@acme.example")),
        user(208, "ACTIVE", None),
        user(209, "ACTIVE", Some("not an email")),
    ];
    Mock::given(method("GET"))
        .and(path("/api/v1/groups/00g1/users"))
        .and(query_param("after", "00u199"))
        .and(header("authorization", "SSWS ssws-t0ken"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(second)
                .append_header("link", format!("<{uri}{next}>; rel=\"self\"")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let provider = api_token(&server);
    assert_eq!(provider.credentials(), "API token (OKTA_API_TOKEN)");
    let read = provider.read_group("00g1").await.expect("read");
    assert_eq!((read.pages, read.read, read.dropped), (2, 210, 7));
    assert_eq!(read.emails.len(), 203);
    assert_eq!(read.emails[0], "p0@acme.example");
    assert_eq!(
        read.emails[200..],
        [
            "expired@acme.example",
            "Locked.Out@Acme.example",
            "recovery@acme.example"
        ]
    );
    assert_eq!(read.without_email, ["00u208", "00u209"]);
    let requests = received(&server, "/api/v1/groups/00g1/users").await;
    assert_eq!(sent(&requests[0]), "/api/v1/groups/00g1/users?limit=200");
    assert_eq!(sent(&requests[1]), next, "the next link, exactly as given");
    assert_eq!(requests[0].headers["accept"], "application/json");
}

#[tokio::test]
async fn okta_follows_a_next_link_joined_with_others_in_one_header() {
    let server = MockServer::start().await;
    let uri = server.uri();
    let next = format!("{uri}/api/v1/groups/00g1/users?after=a,b;c&limit=200");
    Mock::given(method("GET"))
        .and(query_param_is_missing("after"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(vec![user(1, "ACTIVE", Some("one@acme.example"))])
                .insert_header(
                    "Link",
                    format!("<{uri}/api/v1/groups/00g1/users?limit=200>; rel=\"self\", <{next}>; rel=\"next\""),
                ),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("after", "a,b;c"))
        .respond_with(ResponseTemplate::new(200).set_body_json(vec![user(
            2,
            "ACTIVE",
            Some("two@acme.example"),
        )]))
        .expect(1)
        .mount(&server)
        .await;
    let read = api_token(&server).read_group("00g1").await.expect("read");
    assert_eq!(read.emails, ["one@acme.example", "two@acme.example"]);
    assert_eq!(read.pages, 2);
}

#[tokio::test]
async fn okta_client_credentials_win_and_the_assertion_is_signed_as_okta_asks() {
    let server = MockServer::start().await;
    let uri = server.uri();
    Mock::given(method("POST"))
        .and(path("/oauth2/v1/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3600, "access_token": "okta-access", "scope": "okta.groups.read",
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer okta-access"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(2)
        .mount(&server)
        .await;
    let files = Files::new();
    let key = files.write("key.pem", PKCS1);
    let pairs = [
        ("OKTA_CLIENT_ID", "0oa1client"),
        ("OKTA_PRIVATE_KEY_FILE", key.as_str()),
        ("OKTA_PRIVATE_KEY_ID", "kid-1"),
        ("OKTA_API_TOKEN", "ssws-t0ken"),
    ];
    let provider = Provider::new(&okta(&format!("{uri}/")), options(&pairs)).expect("provider");
    assert_eq!(
        provider.credentials(),
        "OAuth 2.0 client credentials with private_key_jwt (OKTA_CLIENT_ID, OKTA_PRIVATE_KEY_FILE, OKTA_PRIVATE_KEY_ID); OKTA_API_TOKEN is set too and not used"
    );
    provider.read_group("00g1").await.expect("first read");
    provider
        .read_group("00g2")
        .await
        .expect("second read, same token");

    let token_url = format!("{uri}/oauth2/v1/token");
    let requests = received(&server, "/oauth2/v1/token").await;
    let form = form(&requests[0]);
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["scope"], "okta.groups.read");
    assert_eq!(
        form["client_assertion_type"],
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
    assert_eq!(form.len(), 4, "{form:?}");
    let (header, claims) = decode(&form["client_assertion"], &token_url);
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.kid.as_deref(), Some("kid-1"));
    assert_eq!(claims["iss"], "0oa1client");
    assert_eq!(claims["sub"], "0oa1client");
    assert_eq!(claims["aud"], token_url.as_str());
    let (iat, exp) = (
        claims["iat"].as_u64().expect("iat"),
        claims["exp"].as_u64().expect("exp"),
    );
    assert!(exp > iat && exp - iat <= 3600, "{claims}");
    assert!(
        claims["jti"].as_str().is_some_and(|jti| !jti.is_empty()),
        "{claims}"
    );
}

#[tokio::test]
async fn okta_token_refusals_are_told_with_okta_s_own_words() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/v1/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "invalid_client", "error_description": "The client_assertion signature is invalid.\u{1b}[2J",
        })))
        .expect(1)
        .mount(&server)
        .await;
    let files = Files::new();
    let key = files.write("key.pem", PKCS8);
    let pairs = [
        ("OKTA_CLIENT_ID", "0oa1"),
        ("OKTA_PRIVATE_KEY_FILE", key.as_str()),
    ];
    let provider = Provider::new(&okta(&server.uri()), options(&pairs)).expect("a PKCS#8 key");
    let err = provider.read_group("00g1").await.expect_err("refused");
    let Error::TokenRefused {
        status,
        ref error,
        ref description,
        ..
    } = err
    else {
        panic!("{err:?}");
    };
    assert_eq!((status, error.as_str()), (401, "invalid_client"));
    assert_eq!(
        description,
        "The client_assertion signature is invalid.\\u001b[2J"
    );
    let text = err.to_string();
    assert!(
        text.contains("/oauth2/v1/token") && text.contains("OKTA_CLIENT_ID"),
        "{text}"
    );
}

#[tokio::test]
async fn okta_waits_for_the_rate_limit_reset() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-rate-limit-reset", epoch_in(1))
                .set_body_json(json!({"errorCode": "E0000047", "errorSummary": "API call exceeded rate limit due to too many requests."})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(vec![user(
            1,
            "ACTIVE",
            Some("a@acme.example"),
        )]))
        .mount(&server)
        .await;
    let started = Instant::now();
    let read = api_token(&server)
        .read_group("00g1")
        .await
        .expect("read after the wait");
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(read.emails, ["a@acme.example"]);
    assert_eq!(
        server.received_requests().await.expect("recording").len(),
        2
    );
}

#[tokio::test]
async fn okta_server_errors_are_retried_then_given_up() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .expect(3)
        .mount(&server)
        .await;
    let err = api_token(&server)
        .read_group("00g1")
        .await
        .expect_err("unavailable");
    assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
    assert!(
        err.to_string().contains("HTTP 500") && err.to_string().contains("3 tries"),
        "{err}"
    );
}

#[tokio::test]
async fn okta_missing_and_forbidden_groups_are_told_apart() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/groups/00gone/users"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"errorCode": "E0000007", "errorSummary": "Not found: Resource not found: 00gone (UserGroup)"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/groups/00gsecret/users"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"errorCode": "E0000006", "errorSummary": "You do not have permission to perform the requested action"})))
        .mount(&server)
        .await;
    let provider = api_token(&server);
    let err = provider.read_group("00gone").await.expect_err("404");
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("E0000007"), "{err}");
    let err = provider.read_group("00gsecret").await.expect_err("403");
    assert!(
        matches!(err, Error::Forbidden { status: 403, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("OKTA_API_TOKEN"), "{err}");
}

#[tokio::test]
async fn okta_next_link_to_another_host_is_refused() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([]))
                .append_header(
                    "link",
                    "<https://elsewhere.example/api/v1/groups/00g1/users?after=x>; rel=\"next\"",
                ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = api_token(&server)
        .read_group("00g1")
        .await
        .expect_err("another host");
    assert!(matches!(err, Error::Answer { .. }), "{err:?}");
    assert!(err.to_string().contains("another host"), "{err}");
}

#[test]
fn okta_missing_credentials_name_the_variables_to_set() {
    let err = Provider::new(&okta("https://acme.okta.com"), options(&[])).expect_err("none");
    assert!(matches!(err, Error::MissingCredentials { .. }), "{err:?}");
    let text = err.to_string();
    for name in ["OKTA_CLIENT_ID", "OKTA_PRIVATE_KEY_FILE", "OKTA_API_TOKEN"] {
        assert!(text.contains(name), "{text}");
    }
    let err = Provider::new(
        &okta("https://acme.okta.com"),
        options(&[("OKTA_CLIENT_ID", "0oa1")]),
    )
    .expect_err("no key file");
    assert!(
        err.to_string().contains("set OKTA_PRIVATE_KEY_FILE"),
        "{err}"
    );
}

#[test]
fn okta_a_bad_key_file_is_named_never_quoted() {
    let files = Files::new();
    let not_a_key = files.write(
        "key.pem",
        "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----\n",
    );
    let missing = format!("{not_a_key}.missing");
    let encrypted = files.write(
        "encrypted.pem",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END ENCRYPTED PRIVATE KEY-----\n",
    );
    for file in [&not_a_key, &missing, &encrypted] {
        let pairs = [
            ("OKTA_CLIENT_ID", "0oa1"),
            ("OKTA_PRIVATE_KEY_FILE", file.as_str()),
        ];
        let err =
            Provider::new(&okta("https://acme.okta.com"), options(&pairs)).expect_err("bad key");
        assert!(matches!(err, Error::Key { .. }), "{err:?}");
        let text = format!("{err} {err:?}");
        assert!(
            text.contains(file.as_str()) && !text.contains("c2VjcmV0"),
            "{text}"
        );
    }
}
