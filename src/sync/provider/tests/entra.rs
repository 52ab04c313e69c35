//! Microsoft Entra ID: the client credentials, pages by `@odata.nextLink`, `accountEnabled`
//! and the email rules, `Retry-After`, and the refusals.

use wiremock::matchers::{query_param, query_param_is_missing};

use super::*;

const TENANT: &str = "contoso.onmicrosoft.com";
const TOKEN_PATH: &str = "/contoso.onmicrosoft.com/oauth2/v2.0/token";
const USERS_PATH: &str = "/v1.0/groups/02bd9fd6/transitiveMembers/microsoft.graph.user";
const QUERY: &str = "$select=id,mail,userPrincipalName,accountEnabled&$top=999&$count=true";

fn source(login: &MockServer, graph: &MockServer) -> Source {
    Source::Entra {
        tenant: TENANT.to_owned(),
        login_url: login.uri(),
        graph_url: graph.uri(),
    }
}

fn credentials() -> [(&'static str, &'static str); 2] {
    [
        ("ENTRA_CLIENT_ID", "app-id"),
        ("ENTRA_CLIENT_SECRET", "client-s3cret"),
    ]
}

/// A login server that gives `graph-access` for the client credentials.
async fn login() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": "graph-access",
        })))
        .mount(&server)
        .await;
    server
}

fn user(id: &str, mail: Option<&str>, upn: &str, enabled: Option<bool>) -> Value {
    json!({"id": id, "mail": mail, "userPrincipalName": upn, "accountEnabled": enabled})
}

#[tokio::test]
async fn entra_reads_every_page_of_transitive_users_and_keeps_the_enabled_ones() {
    let (login, graph) = (login().await, MockServer::start().await);
    let next = format!("{USERS_PATH}?{QUERY}&$skiptoken=RFNwdAIAAQAAACpHcm91cF8wMmJk");
    let first: Vec<Value> = (0..999)
        .map(|n| {
            user(
                &format!("u{n}"),
                Some(&format!("p{n}@contoso.com")),
                &format!("p{n}@contoso.com"),
                Some(true),
            )
        })
        .collect();
    Mock::given(method("GET"))
        .and(path(USERS_PATH))
        .and(query_param_is_missing("$skiptoken"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(id,mail,userPrincipalName,accountEnabled)",
            "@odata.count": 1005, "@odata.nextLink": format!("{}{next}", graph.uri()), "value": first,
        })))
        .expect(1)
        .mount(&graph)
        .await;
    let second = vec![
        user(
            "d1",
            Some("gone@contoso.com"),
            "gone@contoso.com",
            Some(false),
        ),
        user("m1", None, "NoMailbox@contoso.com", Some(true)),
        user(
            "g1",
            None,
            "guest_fabrikam.com#EXT#@contoso.onmicrosoft.com",
            Some(true),
        ),
        user("x1", None, "not-an-email", Some(true)),
        user(
            "n1",
            Some("unknown@contoso.com"),
            "unknown@contoso.com",
            None,
        ),
        user(
            "k1",
            Some("Kept@Contoso.com"),
            "kept@contoso.com",
            Some(true),
        ),
    ];
    Mock::given(method("GET"))
        .and(path(USERS_PATH))
        .and(query_param("$skiptoken", "RFNwdAIAAQAAACpHcm91cF8wMmJk"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"@odata.count": 1005, "value": second})),
        )
        .expect(1)
        .mount(&graph)
        .await;
    let provider =
        Provider::new(&source(&login, &graph), options(&credentials())).expect("provider");
    assert!(
        provider
            .credentials()
            .contains("ENTRA_CLIENT_ID, ENTRA_CLIENT_SECRET")
    );
    let read = provider.read_group("02bd9fd6").await.expect("read");
    assert_eq!((read.pages, read.read, read.dropped), (2, 1005, 4));
    assert_eq!(read.emails.len(), 1001);
    assert_eq!(
        read.emails[999..],
        ["NoMailbox@contoso.com", "Kept@Contoso.com"]
    );
    assert_eq!(read.without_email, ["g1", "x1"]);

    let pages = received(&graph, USERS_PATH).await;
    assert_eq!(sent(&pages[0]), format!("{USERS_PATH}?{QUERY}"));
    assert_eq!(sent(&pages[1]), next, "the next link, exactly as given");
    for page in &pages {
        assert_eq!(page.headers["consistencylevel"], "eventual");
        assert_eq!(page.headers["authorization"], "Bearer graph-access");
    }
    let debug = format!("{provider:?}");
    assert!(
        !debug.contains("graph-access") && !debug.contains("client-s3cret"),
        "{debug}"
    );
}

#[tokio::test]
async fn entra_asks_for_one_token_with_the_client_credentials() {
    let (login, graph) = (login().await, MockServer::start().await);
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .expect(2)
        .mount(&graph)
        .await;
    let provider =
        Provider::new(&source(&login, &graph), options(&credentials())).expect("provider");
    provider.read_group("02bd9fd6").await.expect("first read");
    provider.read_group("02bd9fd7").await.expect("second read");
    let token = received(&login, TOKEN_PATH).await;
    assert_eq!(token.len(), 1, "one token for both reads");
    assert_eq!(
        token[0].headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    let form = form(&token[0]);
    assert_eq!(form["client_id"], "app-id");
    assert_eq!(form["client_secret"], "client-s3cret");
    assert_eq!(form["scope"], "https://graph.microsoft.com/.default");
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form.len(), 4, "{form:?}");
}

#[tokio::test]
async fn entra_a_token_near_its_expiry_is_fetched_again() {
    let (login, graph) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 1, "access_token": "short-lived",
        })))
        .expect(2)
        .mount(&login)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .mount(&graph)
        .await;
    let provider =
        Provider::new(&source(&login, &graph), options(&credentials())).expect("provider");
    provider.read_group("02bd9fd6").await.expect("first read");
    tokio::time::sleep(Duration::from_millis(600)).await;
    provider
        .read_group("02bd9fd6")
        .await
        .expect("second read, a new token");
}

#[tokio::test]
async fn entra_waits_for_retry_after_on_429_and_503() {
    let (login, graph) = (login().await, MockServer::start().await);
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .mount(&graph)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .mount(&graph)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"value": [user("a", Some("a@contoso.com"), "a@contoso.com", Some(true))]}),
        ))
        .mount(&graph)
        .await;
    let provider =
        Provider::new(&source(&login, &graph), options(&credentials())).expect("provider");
    let started = Instant::now();
    let read = provider
        .read_group("02bd9fd6")
        .await
        .expect("read after the waits");
    assert!(
        started.elapsed() >= Duration::from_millis(1250),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(read.emails, ["a@contoso.com"]);
    assert_eq!(graph.received_requests().await.expect("recording").len(), 3);
}

#[tokio::test]
async fn entra_a_wrong_tenant_is_told_as_such() {
    let (login, graph) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_request",
            "error_description": "AADSTS90002: Tenant 'contoso.onmicrosoft.com' not found. Check to make sure you have the correct tenant ID.\r\nTrace ID: 1",
            "error_codes": [90002], "timestamp": "2026-07-01 10:15:30Z", "trace_id": "1", "correlation_id": "2",
        })))
        .mount(&login)
        .await;
    let provider =
        Provider::new(&source(&login, &graph), options(&credentials())).expect("provider");
    let err = provider
        .read_group("02bd9fd6")
        .await
        .expect_err("no tenant");
    assert!(
        matches!(err, Error::TokenRefused { status: 400, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("AADSTS90002") && text.contains("check sources.entra.tenant"),
        "{text}"
    );
    assert!(!text.contains('\r'), "{text}");
    assert!(
        graph
            .received_requests()
            .await
            .expect("recording")
            .is_empty()
    );
}

#[tokio::test]
async fn entra_users_without_their_fields_are_a_permission_error() {
    let (login, graph) = (login().await, MockServer::start().await);
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [
            {"@odata.type": "#microsoft.graph.user", "id": "u1", "mail": null, "userPrincipalName": null, "accountEnabled": null},
        ]})))
        .mount(&graph)
        .await;
    let provider =
        Provider::new(&source(&login, &graph), options(&credentials())).expect("provider");
    let err = provider.read_group("02bd9fd6").await.expect_err("hidden");
    assert!(matches!(err, Error::Hidden { .. }), "{err:?}");
    assert!(err.to_string().contains("User.Read.All"), "{err}");
}

#[tokio::test]
async fn entra_forbidden_and_missing_groups() {
    let (login, graph) = (login().await, MockServer::start().await);
    Mock::given(method("GET"))
        .and(path("/v1.0/groups/forbidden/transitiveMembers/microsoft.graph.user"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"error": {
            "code": "Authorization_RequestDenied", "message": "Insufficient privileges to complete the operation.",
        }})))
        .mount(&graph)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": {
            "code": "Request_ResourceNotFound", "message": "Resource 'gone' does not exist.",
        }})))
        .mount(&graph)
        .await;
    let provider =
        Provider::new(&source(&login, &graph), options(&credentials())).expect("provider");
    let err = provider.read_group("forbidden").await.expect_err("403");
    assert!(
        matches!(err, Error::Forbidden { status: 403, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("GroupMember.Read.All") && text.contains("Authorization_RequestDenied"),
        "{text}"
    );
    let err = provider.read_group("gone").await.expect_err("404");
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert_eq!(
        received(&login, TOKEN_PATH).await.len(),
        1,
        "one token for both reads"
    );
}

#[tokio::test]
async fn entra_next_link_to_another_host_is_refused() {
    let (login, graph, elsewhere) = (
        login().await,
        MockServer::start().await,
        MockServer::start().await,
    );
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [], "@odata.nextLink": format!("{}{USERS_PATH}?{QUERY}&$skiptoken=x", elsewhere.uri()),
        })))
        .expect(1)
        .mount(&graph)
        .await;
    let provider =
        Provider::new(&source(&login, &graph), options(&credentials())).expect("provider");
    let err = provider
        .read_group("02bd9fd6")
        .await
        .expect_err("another host");
    assert!(matches!(err, Error::Answer { .. }), "{err:?}");
    assert!(
        elsewhere
            .received_requests()
            .await
            .expect("recording")
            .is_empty()
    );
}

#[tokio::test]
async fn entra_server_errors_are_retried_then_given_up() {
    let (login, graph) = (login().await, MockServer::start().await);
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(502))
        .expect(3)
        .mount(&graph)
        .await;
    let provider =
        Provider::new(&source(&login, &graph), options(&credentials())).expect("provider");
    let err = provider
        .read_group("02bd9fd6")
        .await
        .expect_err("unavailable");
    assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
}

#[test]
fn entra_missing_credentials_name_exactly_the_missing_variable() {
    let source = Source::Entra {
        tenant: TENANT.into(),
        login_url: "https://login.microsoftonline.com".into(),
        graph_url: "https://graph.microsoft.com".into(),
    };
    let err =
        Provider::new(&source, options(&[("ENTRA_CLIENT_ID", "app")])).expect_err("no secret");
    assert!(matches!(err, Error::MissingCredentials { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("set ENTRA_CLIENT_SECRET") && !text.contains("ENTRA_CLIENT_ID"),
        "{text}"
    );
    let err = Provider::new(&source, options(&[])).expect_err("none");
    assert!(
        err.to_string()
            .contains("set ENTRA_CLIENT_ID and ENTRA_CLIENT_SECRET"),
        "{err}"
    );
}
