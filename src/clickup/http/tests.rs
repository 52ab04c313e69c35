//! The HTTP client's setup and a pacer shared by two Workspaces, against a local server.

use super::*;

fn options(url: &str) -> Options {
    Options {
        api_url: url.to_owned(),
        timeout: Duration::from_secs(5),
        stop: StopSignal::default(),
        listener: None,
        retries: RETRIES,
        pacer: std::sync::Arc::default(),
        named_by: "workspace.id",
        later: Later::default(),
    }
}

fn token() -> Token {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("token");
    std::fs::write(&path, "pk_test").expect("write");
    token::Token::from_file_for_tests(&path)
}

#[test]
fn a_password_in_the_api_url_is_never_shown() {
    let workspace = HttpWorkspace::new(
        &options("https://user:s3cret@api.clickup.com/api/v2"),
        token(),
        "1",
    )
    .expect("valid");
    assert_eq!(
        workspace.describe(),
        "ClickUp (https://api.clickup.com/api/v2)"
    );
    let err = HttpWorkspace::new(&options("https://user:s3cret@[bad/api"), token(), "1")
        .expect_err("not a URL")
        .to_string();
    assert!(!err.contains("s3cret"), "{err}");
    assert!(err.contains("https://…@[bad/api"), "{err}");
}

#[test]
fn a_query_or_fragment_in_the_api_url_is_never_shown() {
    let workspace = HttpWorkspace::new(
        &options("https://api.clickup.com:8443/api/v2?key=s3cret#s3cret2"),
        token(),
        "1",
    )
    .expect("valid");
    assert_eq!(
        workspace.describe(),
        "ClickUp (https://api.clickup.com:8443/api/v2)"
    );
    let err = HttpWorkspace::new(&options("https://[bad/api?key=s3cret"), token(), "1")
        .expect_err("not a URL")
        .to_string();
    assert!(!err.contains("s3cret"), "{err}");
    assert!(err.contains("https://[bad/api"), "{err}");
}

/// Two Workspaces of one token: what ClickUp told one about the budget holds the other's
/// next request until the reset, when they share a pacer (and only then).
#[tokio::test]
async fn workspaces_sharing_a_pacer_wait_for_the_reset_another_was_told() {
    use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};
    let server = MockServer::start().await;
    let reset = std::time::SystemTime::now() + Duration::from_millis(1500);
    let reset = reset
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64();
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"plan_name": "Enterprise", "plan_id": 4}))
                .insert_header("X-RateLimit-Limit", "100")
                .insert_header("X-RateLimit-Remaining", "0")
                .insert_header("X-RateLimit-Reset", format!("{reset}").as_str()),
        )
        .mount(&server)
        .await;
    let url = format!("{}/api/v2", server.uri());
    let shared = std::sync::Arc::new(Pacer::default());
    let open = |team: &str, pacer: &std::sync::Arc<Pacer>| {
        let options = Options {
            pacer: pacer.clone(),
            ..options(&url)
        };
        HttpWorkspace::new(&options, token(), team).expect("workspace")
    };
    let (first, second) = (open("1", &shared), open("2", &shared));
    let alone = open("3", &std::sync::Arc::default());
    let plan = |team: &str| Route::GetPlan.path(&[team]);
    first
        .get(&plan("1"), &[], api::parse_plan)
        .await
        .expect("first");
    let started = std::time::Instant::now();
    alone
        .get(&plan("3"), &[], api::parse_plan)
        .await
        .expect("alone");
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "a pacer of its own knows nothing yet: {:?}",
        started.elapsed()
    );
    let started = std::time::Instant::now();
    second
        .get(&plan("2"), &[], api::parse_plan)
        .await
        .expect("second");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "the shared budget was spent: {:?}",
        started.elapsed()
    );
}

#[test]
fn plain_http_is_refused_except_to_loopback() {
    let err = HttpWorkspace::new(&options("http://api.clickup.com/api/v2"), token(), "1")
        .expect_err("refused")
        .to_string();
    assert!(
        err.starts_with("refusing to send the token over plain http://"),
        "{err}"
    );
    for ok in [
        "http://127.0.0.1:9/api/v2",
        "http://localhost:9/api/v2",
        "http://[::1]:9/",
        "https://api.clickup.com/api/v2",
    ] {
        assert!(
            HttpWorkspace::new(&options(ok), token(), "1").is_ok(),
            "{ok}"
        );
    }
}
