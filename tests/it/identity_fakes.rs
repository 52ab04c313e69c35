//! The identity providers' fakes (`fake::identity`) against their official descriptions: they
//! answer as the descriptions and the notes (`reference/identity/`) say, and their contract
//! checks catch a request and an answer that break them. The requests here are crafted by hand
//! from the descriptions with plain reqwest, and the JWTs signed here with jsonwebtoken: the
//! tests of `sync` itself sign nothing (the client does).

use std::collections::BTreeMap;
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::fake::identity::contract::{
    self, Answer, GOOGLE_MEMBER_READONLY, JWT_BEARER_ASSERTION, JWT_BEARER_GRANT, OKTA_LIST,
    OKTA_TOKEN, Sent,
};
use crate::fake::identity::{
    Endpoint, GoogleFake, GoogleFault, GoogleMember, GraphFake, GraphFault, GraphUser, OktaFake,
    OktaFault, OktaStatus, OktaUser, On, RsaKey, google, graph, okta,
};

const TENANT: &str = "00000000-0000-0000-0000-0000000000aa";
const CLIENT: &str = "0oa1clientabcdefghij";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("a reqwest client")
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

fn sign(key: &EncodingKey, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).expect("sign a JWT")
}

/// An Okta client assertion as DOC O6 builds it.
fn okta_assertion(key: &RsaKey, client: &str, aud: &str) -> String {
    let now = now();
    sign(
        &key.encoding_key(),
        Some(key.kid()),
        &json!({"iss": client, "sub": client, "aud": aud, "iat": now, "exp": now + 300,
                "jti": uuid::Uuid::new_v4().to_string()}),
    )
}

/// A Google service-account assertion as DOC G4 builds it.
fn google_assertion(key: &EncodingKey, kid: &str, iss: &str, sub: &str, aud: &str) -> String {
    let now = now();
    sign(
        key,
        Some(kid),
        &json!({"iss": iss, "sub": sub, "scope": GOOGLE_MEMBER_READONLY, "aud": aud,
                "iat": now, "exp": now + 3600}),
    )
}

fn errors_of(violations: &[String]) -> String {
    violations.join("\n")
}

// ---------------------------------------------------------------------------------------------
// The contract checks alone.

#[test]
fn okta_descriptions_own_examples_validate_as_its_answers() {
    let examples: BTreeMap<String, Value> = contract::okta_examples().into_iter().collect();
    let cases = [
        ("ListUsersResponse", OKTA_LIST, 200),
        ("ErrorAccessDenied", OKTA_LIST, 403),
        ("ErrorResourceNotFound", OKTA_LIST, 404),
        ("ErrorTooManyRequests", OKTA_LIST, 429),
        ("OAuthError401InvalidClient_NoCreds", OKTA_TOKEN, 401),
        ("OAuthError400InvalidScope_MissingScopes", OKTA_TOKEN, 400),
        (
            "OAuthError400InvalidRequest_MultipleClientCreds",
            OKTA_TOKEN,
            400,
        ),
        ("OAuthError400UnsupportedGrantType", OKTA_TOKEN, 400),
        (
            "OAuthError403AccessDenied_InvalidNetworkZone",
            OKTA_TOKEN,
            403,
        ),
        ("oauthSpec_ErrorTooManyRequests", OKTA_TOKEN, 429),
        ("TokenResponseExample", OKTA_TOKEN, 200),
    ];
    for (name, operation, status) in cases {
        let body = &examples[name];
        let errors = contract::okta_body(operation, status, body);
        assert!(errors.is_empty(), "{name}: {}", errors_of(&errors));
    }
}

#[test]
fn the_notes_example_answers_validate() {
    // notes §1.1: page 1 of 2 of a group's users (the body and its headers).
    let page = json!([
      {"id": "00ub0oNGTSWTBKOLGLNR", "status": "ACTIVE",
       "created": "2025-11-03T09:12:40.000Z", "activated": "2025-11-03T09:12:41.000Z",
       "statusChanged": "2025-11-03T09:12:41.000Z", "lastLogin": "2026-06-30T07:45:02.000Z",
       "lastUpdated": "2026-05-12T14:03:19.000Z", "passwordChanged": "2025-11-03T09:20:11.000Z",
       "type": {"id": "oty1162QAr8hJjTaq0g4"},
       "profile": {"firstName": "Alice", "lastName": "Smith", "mobilePhone": null, "secondEmail": null,
                   "login": "alice.smith@example.com", "email": "alice.smith@example.com"},
       "credentials": {"password": {}, "provider": {"type": "OKTA", "name": "OKTA"}},
       "_links": {"self": {"href": "https://example.okta.com/api/v1/users/00ub0oNGTSWTBKOLGLNR"}}}
    ]);
    let answer = Answer::json(200, &page)
        .header("link", "<https://example.okta.com/api/v1/groups/00g1emaKYZTWRYYRRTSK/users?limit=2>; rel=\"self\"")
        .header("link", "<https://example.okta.com/api/v1/groups/00g1emaKYZTWRYYRRTSK/users?after=00ub0oNGTSWTBKOCNDJI&limit=2>; rel=\"next\"")
        .header("x-rate-limit-limit", "600")
        .header("x-rate-limit-remaining", "598")
        .header("x-rate-limit-reset", "1782902460");
    let errors = contract::okta_answer(OKTA_LIST, &answer);
    assert!(errors.is_empty(), "{}", errors_of(&errors));
    // notes §2.1: a Graph page, and §2.5 its 429 body.
    let page = json!({
      "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(id,mail,userPrincipalName,accountEnabled)",
      "@odata.count": 5,
      "@odata.nextLink": "https://graph.microsoft.com/v1.0/groups/02bd9fd6-8f93-4758-87c3-1fb73740a315/transitiveMembers/microsoft.graph.user?$select=id,mail,userPrincipalName,accountEnabled&$top=2&$count=true&$skiptoken=RFNwdAIAAQAAACpHcm91cF8wMmJk",
      "value": [
        {"id": "87d349ed-44d7-43e1-9a83-5f2406dee5bd", "mail": "AdeleV@contoso.com",
         "userPrincipalName": "AdeleV@contoso.com", "accountEnabled": true},
        {"id": "e8e6e6fc-2b8f-4b7e-9c59-1a4cfb8f1f31", "mail": null,
         "userPrincipalName": "svc-build@contoso.onmicrosoft.com", "accountEnabled": false}
      ]
    });
    let errors = contract::graph_answer(&Answer::json(200, &page));
    assert!(errors.is_empty(), "{}", errors_of(&errors));
    let throttled = json!({"error":{"code":"TooManyRequests","message":"Too many requests. Please try again later.",
        "innerError":{"date":"2026-07-01T10:15:30","request-id":"5d0c2bb8-3f6e-4b79-9a3e-7c1f0c2b6a10",
                      "client-request-id":"5d0c2bb8-3f6e-4b79-9a3e-7c1f0c2b6a10"}}});
    let errors = contract::graph_answer(&Answer::json(429, &throttled).header("retry-after", "10"));
    assert!(errors.is_empty(), "{}", errors_of(&errors));
    // notes §3.1: a Google page, §3.5 a quota error.
    let page = json!({
      "kind": "admin#directory#members",
      "etag": "\"nMRgLWac8h8NyH7Uk3Vuk3Hw7o_VmHM9MlGu1yDQGsI/Xn1sgZ8Mk-gSGb1SQbsm1jdAxeg\"",
      "members": [
        {"kind": "admin#directory#member", "etag": "\"e1\"", "id": "114622830212345678901",
         "email": "alice@example.com", "role": "MEMBER", "type": "USER", "status": "ACTIVE"},
        {"kind": "admin#directory#member", "etag": "\"e2\"", "id": "103456789012345678902",
         "email": "bob@example.com", "role": "OWNER", "type": "USER", "status": "SUSPENDED"}
      ],
      "nextPageToken": "CjsKExjEv9HzoYn_AhDJ5JuL3P8CEiAoSm9zX3NvcnRfa2V5LCBmcm9tX2lkKQAAAA"
    });
    let errors = contract::google_answer(&Answer::json(200, &page));
    assert!(errors.is_empty(), "{}", errors_of(&errors));
    let quota = json!({"error":{"code":403,"message":"Quota exceeded for quota metric 'Queries' ...",
        "errors":[{"message":"Quota exceeded ...","domain":"usageLimits","reason":"userRateLimitExceeded"}],
        "status":"PERMISSION_DENIED"}});
    let errors = contract::google_answer(&Answer::json(403, &quota));
    assert!(errors.is_empty(), "{}", errors_of(&errors));
}

#[test]
fn the_contract_accepts_the_requests_the_descriptions_describe() {
    let okta_list = Sent::new("GET", "/api/v1/groups/00g1emaKYZTWRYYRRTSK/users?limit=200")
        .header("Authorization", "SSWS 00abc")
        .header("Accept", "application/json");
    let next = Sent::new(
        "GET",
        "/api/v1/groups/00g1emaKYZTWRYYRRTSK/users?after=00ub0oNGTSWTBKOCNDJI&limit=200",
    )
    .header("Authorization", "Bearer eyJraWQiOi");
    let key = RsaKey::shared(0);
    let token = Sent::new("POST", "/oauth2/v1/token").form(&[
        ("grant_type", "client_credentials"),
        ("scope", "okta.groups.read"),
        ("client_assertion_type", JWT_BEARER_ASSERTION),
        (
            "client_assertion",
            &okta_assertion(&key, CLIENT, "http://127.0.0.1:1/oauth2/v1/token"),
        ),
    ]);
    for sent in [okta_list, next, token] {
        let verdict = contract::okta_request(&sent);
        assert!(verdict.operation.is_some(), "{sent:?}");
        assert!(
            verdict.violations.is_empty(),
            "{}",
            errors_of(&verdict.violations)
        );
    }
    let graph_list = Sent::new(
        "GET",
        "/v1.0/groups/02bd9fd6-8f93-4758-87c3-1fb73740a315/transitiveMembers/microsoft.graph.user?$select=id,mail,userPrincipalName,accountEnabled&$top=999&$count=true",
    )
    .header("Authorization", "Bearer eyJ0eXAiOi")
    .header("ConsistencyLevel", "eventual");
    let verdict = contract::graph_request(&graph_list);
    assert!(
        verdict.violations.is_empty(),
        "{}",
        errors_of(&verdict.violations)
    );
    let entra = Sent::new("POST", &format!("/{TENANT}/oauth2/v2.0/token")).form(&[
        ("client_id", "11111111-2222-3333-4444-555555555555"),
        ("client_secret", "s3cret"),
        ("scope", "https://graph.microsoft.com/.default"),
        ("grant_type", "client_credentials"),
    ]);
    let verdict = contract::entra_token_request(&entra);
    assert!(
        verdict.violations.is_empty(),
        "{}",
        errors_of(&verdict.violations)
    );
    let google_list = Sent::new(
        "GET",
        "/admin/directory/v1/groups/eng%40example.com/members?includeDerivedMembership=true&maxResults=200&pageToken=abc",
    )
    .header("Authorization", "Bearer ya29.c.b0AXv0zT");
    let verdict = contract::google_request(&google_list);
    assert!(
        verdict.violations.is_empty(),
        "{}",
        errors_of(&verdict.violations)
    );
    let google_token = Sent::new("POST", "/token").form(&[
        ("grant_type", JWT_BEARER_GRANT),
        (
            "assertion",
            &google_assertion(
                &key.encoding_key(),
                key.kid(),
                "sync@project.iam.gserviceaccount.com",
                "admin@acme.example",
                "http://127.0.0.1:1/token",
            ),
        ),
    ]);
    let verdict = contract::google_token_request(&google_token);
    assert!(
        verdict.violations.is_empty(),
        "{}",
        errors_of(&verdict.violations)
    );
}

/// Each case: a request, and a word one of the violations it makes must contain.
fn assert_caught(check: fn(&Sent) -> contract::Verdict, cases: Vec<(Sent, &str)>) {
    for (sent, word) in cases {
        let verdict = check(&sent);
        assert!(
            verdict.violations.iter().any(|v| v.contains(word)),
            "{} {}: wanted a violation with {word:?}, got {:?}",
            sent.method,
            sent.target(),
            verdict.violations
        );
    }
}

#[test]
fn the_okta_contract_catches_requests_its_description_refuses() {
    let key = RsaKey::shared(0);
    let okta_list = "/api/v1/groups/00g1/users";
    let now = now();
    let hs256 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({"iss": CLIENT, "sub": CLIENT, "aud": "x", "exp": now + 60}),
        &EncodingKey::from_secret(b"secret").expect("an HMAC key"),
    )
    .expect("HS256");
    let other_sub = sign(
        &key.encoding_key(),
        None,
        &json!({"iss": CLIENT, "sub": "someone-else", "aud": "x", "exp": now + 60}),
    );
    let too_long = sign(
        &key.encoding_key(),
        None,
        &json!({"iss": CLIENT, "sub": CLIENT, "aud": "x", "exp": now + 7200}),
    );
    let form = |assertion: &str, scope: Option<&str>| {
        let mut fields = vec![
            ("grant_type", "client_credentials".to_owned()),
            ("client_assertion_type", JWT_BEARER_ASSERTION.to_owned()),
            ("client_assertion", assertion.to_owned()),
        ];
        if let Some(scope) = scope {
            fields.push(("scope", scope.to_owned()));
        }
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Sent::new("POST", "/oauth2/v1/token").form(&fields)
    };
    let okta_cases: Vec<(Sent, &str)> = vec![
        (
            Sent::new("GET", &format!("{okta_list}?limit=abc")).header("Authorization", "SSWS t"),
            "not an integer",
        ),
        (
            Sent::new("GET", &format!("{okta_list}?limit=99999999999"))
                .header("Authorization", "SSWS t"),
            "out of its range",
        ),
        (
            Sent::new("GET", &format!("{okta_list}?filter=status"))
                .header("Authorization", "SSWS t"),
            "unknown query parameter filter",
        ),
        (
            Sent::new("GET", &format!("{okta_list}?limit=2&limit=3"))
                .header("Authorization", "SSWS t"),
            "sent twice",
        ),
        (Sent::new("GET", okta_list), "neither `SSWS"),
        (
            Sent::new("GET", okta_list).header("Authorization", "Token abc"),
            "neither `SSWS",
        ),
        (
            Sent::new("GET", "/api/v1/groups/00g1/members").header("Authorization", "SSWS t"),
            "not an operation",
        ),
        (form(&okta_assertion(&key, CLIENT, "x"), None), "scope"),
        (form(&hs256, Some("okta.groups.read")), "alg"),
        (form(&other_sub, Some("okta.groups.read")), "iss"),
        (form(&too_long, Some("okta.groups.read")), "ahead"),
        (form("not-a-jwt", Some("okta.groups.read")), "compact JWT"),
        (
            form(&okta_assertion(&key, CLIENT, "x"), Some("okta.groups.read"))
                .header("Authorization", "Basic Y2xpZW50OnNlY3JldA=="),
            "more than one client authentication",
        ),
        (
            Sent::new("POST", "/oauth2/v1/token")
                .header("content-type", "application/json")
                .header("x", "y"),
            "Content-Type",
        ),
    ];
    assert_caught(contract::okta_request, okta_cases);
}

#[test]
fn the_graph_contract_catches_requests_its_description_refuses() {
    let graph_path = "/v1.0/groups/6f1c/transitiveMembers/microsoft.graph.user";
    let bearer = |s: Sent| s.header("Authorization", "Bearer t");
    let graph_cases: Vec<(Sent, &str)> = vec![
        (
            bearer(Sent::new("GET", &format!("{graph_path}?$count=true"))),
            "ConsistencyLevel",
        ),
        (
            bearer(Sent::new("GET", &format!("{graph_path}?$count=true")))
                .header("ConsistencyLevel", "strong"),
            "not eventual",
        ),
        (
            bearer(Sent::new("GET", &format!("{graph_path}?$top=1000"))),
            "out of its range",
        ),
        (
            bearer(Sent::new("GET", &format!("{graph_path}?$select=id,mails"))),
            "\"mails\"",
        ),
        (
            bearer(Sent::new("GET", &format!("{graph_path}?$select=id,id"))),
            "repeats",
        ),
        (
            bearer(Sent::new("GET", &format!("{graph_path}?$count=yes")))
                .header("ConsistencyLevel", "eventual"),
            "true or false",
        ),
        (
            bearer(Sent::new(
                "GET",
                &format!("{graph_path}?$expand=manager&top=5"),
            )),
            "unknown query parameter top",
        ),
        (Sent::new("GET", graph_path), "Bearer"),
        (
            bearer(Sent::new("GET", "/v1.0/groups/6f1c/members")),
            "not an operation",
        ),
    ];
    assert_caught(contract::graph_request, graph_cases);
}

#[test]
fn the_entra_contract_catches_token_requests_the_docs_refuse() {
    let entra_path = format!("/{TENANT}/oauth2/v2.0/token");
    let entra = |fields: &[(&str, &str)]| Sent::new("POST", &entra_path).form(fields);
    let entra_cases: Vec<(Sent, &str)> = vec![
        (
            entra(&[
                ("client_id", "c"),
                ("client_secret", "s"),
                ("scope", "User.Read.All"),
                ("grant_type", "client_credentials"),
            ]),
            "/.default",
        ),
        (
            entra(&[
                ("client_id", "c"),
                ("client_secret", "s"),
                ("scope", "https://graph.microsoft.com/.default"),
                ("grant_type", "password"),
            ]),
            "grant_type",
        ),
        (
            entra(&[
                ("client_id", "c"),
                ("scope", "https://graph.microsoft.com/.default"),
                ("grant_type", "client_credentials"),
            ]),
            "neither client_secret",
        ),
        (
            entra(&[
                ("client_secret", "s"),
                ("scope", "https://graph.microsoft.com/.default"),
                ("grant_type", "client_credentials"),
                ("resource", "https://graph.microsoft.com"),
            ]),
            "client_id missing",
        ),
    ];
    assert_caught(contract::entra_token_request, entra_cases);
}

#[test]
fn the_google_contract_catches_requests_its_description_refuses() {
    let google_path = "/admin/directory/v1/groups/eng%40example.com/members";
    let bearer = |s: Sent| s.header("Authorization", "Bearer ya29");
    let google_cases: Vec<(Sent, &str)> = vec![
        (
            bearer(Sent::new("GET", &format!("{google_path}?maxResults=500"))),
            "out of its range",
        ),
        (
            bearer(Sent::new("GET", &format!("{google_path}?maxResults=0"))),
            "out of its range",
        ),
        (
            bearer(Sent::new(
                "GET",
                &format!("{google_path}?includeDerivedMembership=yes"),
            )),
            "true or false",
        ),
        (
            bearer(Sent::new("GET", &format!("{google_path}?limit=200"))),
            "unknown query parameter limit",
        ),
        (
            Sent::new("GET", &format!("{google_path}?access_token=ya29")),
            "query string",
        ),
        (
            bearer(Sent::new("GET", "/admin/directory/v1/groups/eng/members/x")),
            "not an operation",
        ),
    ];
    assert_caught(contract::google_request, google_cases);
}

#[test]
fn the_google_contract_catches_token_requests_the_docs_refuse() {
    let key = RsaKey::shared(0);
    let now = now();
    let aud = "http://127.0.0.1:1/token";
    let iss = "sync@p.iam.gserviceaccount.com";
    let long = sign(
        &key.encoding_key(),
        None,
        &json!({"iss": iss, "scope": GOOGLE_MEMBER_READONLY, "aud": aud, "iat": now, "exp": now + 7200}),
    );
    let no_scope = sign(
        &key.encoding_key(),
        None,
        &json!({"iss": iss, "aud": aud, "iat": now, "exp": now + 600}),
    );
    let rs512 = jsonwebtoken::encode(
        &Header::new(Algorithm::RS512),
        &json!({"iss": iss, "scope": GOOGLE_MEMBER_READONLY, "aud": aud, "iat": now, "exp": now + 600}),
        &key.encoding_key(),
    )
    .expect("RS512");
    let google_token = |fields: &[(&str, &str)]| Sent::new("POST", "/token").form(fields);
    let token_cases: Vec<(Sent, &str)> = vec![
        (
            google_token(&[("grant_type", "client_credentials"), ("assertion", &long)]),
            "grant_type",
        ),
        (
            google_token(&[("grant_type", JWT_BEARER_GRANT), ("assertion", &long)]),
            "lives 7200 s",
        ),
        (
            google_token(&[("grant_type", JWT_BEARER_GRANT), ("assertion", &no_scope)]),
            "`scope`",
        ),
        (
            google_token(&[("grant_type", JWT_BEARER_GRANT), ("assertion", &rs512)]),
            "alg",
        ),
        (
            google_token(&[
                ("grant_type", JWT_BEARER_GRANT),
                ("assertion", &no_scope),
                ("scope", GOOGLE_MEMBER_READONLY),
            ]),
            "form field scope",
        ),
    ];
    assert_caught(contract::google_token_request, token_cases);
}

#[test]
fn the_okta_contract_catches_answers_its_description_refuses() {
    let user = OktaUser::new("alice@acme.example").to_json("http://127.0.0.1:1");
    let headers = |a: Answer| {
        a.header(
            "link",
            "<http://127.0.0.1:1/api/v1/groups/g/users>; rel=\"self\"",
        )
        .header("x-rate-limit-limit", "600")
        .header("x-rate-limit-remaining", "599")
        .header("x-rate-limit-reset", "1782902460")
    };
    let mut enabled = user.clone();
    enabled["status"] = json!("ENABLED");
    let mut number = user.clone();
    number["profile"]["email"] = json!(42);
    let mut typo = user.clone();
    typo["stauts"] = json!("ACTIVE");
    let okta_cases: Vec<(Answer, &str)> = vec![
        (headers(Answer::json(200, &json!([enabled]))), "ENABLED"),
        (
            headers(Answer::json(200, &json!([number]))),
            "/0/profile/email",
        ),
        (headers(Answer::json(200, &json!([typo]))), "stauts"),
        (headers(Answer::json(200, &json!({"users": []}))), "array"),
        (Answer::json(200, &json!([user])), "x-rate-limit-reset"),
        (
            Answer::json(200, &json!([]))
                .header("x-rate-limit-limit", "600")
                .header("x-rate-limit-remaining", "599")
                .header("x-rate-limit-reset", "in a minute"),
            "epoch seconds",
        ),
        (
            headers(Answer::json(
                404,
                &json!({"errorCode": 7, "errorSummary": "Not found"}),
            )),
            "/errorCode",
        ),
        (
            headers(Answer {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: b"[{".to_vec(),
            }),
            "not JSON",
        ),
    ];
    for (answer, word) in okta_cases {
        let errors = contract::okta_answer(OKTA_LIST, &answer);
        assert!(
            errors.iter().any(|v| v.contains(word)),
            "wanted {word:?}, got {errors:?}"
        );
    }
    let errors = contract::okta_answer(
        OKTA_TOKEN,
        &Answer::json(200, &json!({"token_type": "MAC", "access_token": "t"})),
    );
    assert!(errors.iter().any(|e| e.contains("MAC")), "{errors:?}");
}

#[test]
fn the_graph_and_google_contracts_catch_answers_their_descriptions_refuse() {
    let graph_cases: Vec<(Value, &str)> = vec![
        (
            json!({"value": [{"id": "a", "accountEnabled": "yes"}]}),
            "accountEnabled",
        ),
        (json!({"value": [{"id": "a", "mails": "a@b"}]}), "mails"),
        (json!({"value": {"id": "a"}}), "/value"),
        (json!({"value": [], "@odata.count": "5"}), "@odata.count"),
    ];
    for (body, word) in graph_cases {
        let errors = contract::graph_answer(&Answer::json(200, &body));
        assert!(
            errors.iter().any(|v| v.contains(word)),
            "wanted {word:?}, got {errors:?}"
        );
    }
    let errors = contract::graph_answer(&Answer::json(404, &json!({"error": {"code": "x"}})));
    assert!(errors.iter().any(|e| e.contains("message")), "{errors:?}");
    let errors = contract::graph_answer(
        &Answer::json(
            429,
            &json!({"error": {"code": "TooManyRequests", "message": "m"}}),
        )
        .header("retry-after", "Wed, 21 Oct 2026 07:28:00 GMT"),
    );
    assert!(
        errors.iter().any(|e| e.contains("Retry-After")),
        "{errors:?}"
    );

    let google_cases: Vec<(u16, Value, &str)> = vec![
        (
            200,
            json!({"kind": "admin#directory#members", "members": {"id": "1"}}),
            "/members",
        ),
        (
            200,
            json!({"members": [{"id": "1", "email": "a@b", "emails": []}]}),
            "emails",
        ),
        (200, json!({"members": [{"id": 1}]}), "/members/0/id"),
        (
            403,
            json!({"error": {"code": 403, "message": "m", "errors": [{"reason": "userRateLimitExceeded"}]}}),
            "domain",
        ),
    ];
    for (status, body, word) in google_cases {
        let errors = contract::google_answer(&Answer::json(status, &body));
        assert!(
            errors.iter().any(|v| v.contains(word)),
            "wanted {word:?}, got {errors:?}"
        );
    }
    let errors =
        contract::google_token_answer(&Answer::json(200, &json!({"token_type": "Bearer"})));
    assert!(
        errors.iter().any(|e| e.contains("access_token")),
        "{errors:?}"
    );
    let errors = contract::entra_token_answer(&Answer::json(401, &json!({"error": 7000215})));
    assert!(errors.iter().any(|e| e.contains("error")), "{errors:?}");
}

#[test]
fn test_keys_come_in_both_pem_forms_and_a_jwk_that_verifies_them() {
    let key = RsaKey::shared(1);
    assert!(key.pkcs8_pem().starts_with("-----BEGIN PRIVATE KEY-----\n"));
    assert!(
        key.pkcs1_pem()
            .starts_with("-----BEGIN RSA PRIVATE KEY-----\n")
    );
    assert!(key.public_pem().starts_with("-----BEGIN PUBLIC KEY-----\n"));
    assert!(!format!("{key:?}").contains("PRIVATE"));
    let jwk: jsonwebtoken::jwk::Jwk =
        serde_json::from_value(key.public().jwk()).expect("the JWK parses");
    let decoding = jsonwebtoken::DecodingKey::from_jwk(&jwk).expect("a key from the JWK");
    let from_spki =
        jsonwebtoken::DecodingKey::from_rsa_pem(key.public_pem().as_bytes()).expect("SPKI PEM");
    for pem in [key.pkcs8_pem(), key.pkcs1_pem()] {
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("the PEM is an RSA key");
        let jwt = jsonwebtoken::encode(&Header::new(Algorithm::RS256), &json!({"a": 1}), &encoding)
            .expect("sign");
        let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        for key in [&decoding, &from_spki] {
            jsonwebtoken::decode::<Value>(&jwt, key, &validation).expect("verifies");
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = key.write_pkcs1(dir.path(), "okta.pem");
    let text = std::fs::read_to_string(path).expect("read");
    assert_eq!(text, key.pkcs1_pem());
}

// ---------------------------------------------------------------------------------------------
// Plain HTTP, as a client would send it.

struct Got {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Got {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }

    /// Okta's `link: <…>; rel="next"`.
    fn okta_next(&self) -> Option<String> {
        self.all("link").iter().find_map(|l| {
            l.contains("rel=\"next\"").then(|| {
                l.trim_start_matches('<')
                    .split('>')
                    .next()
                    .unwrap_or("")
                    .to_owned()
            })
        })
    }

    fn array(&self) -> &Vec<Value> {
        self.body.as_array().expect("a JSON array")
    }
}

async fn send(request: reqwest::RequestBuilder) -> Got {
    let response = request.send().await.expect("an answer");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("a body");
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Got {
        status,
        headers,
        body,
    }
}

async fn get(url: &str, authorization: &str) -> Got {
    send(http().get(url).header("Authorization", authorization)).await
}

async fn post_form(url: &str, fields: &[(&str, &str)]) -> Got {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    send(
        http()
            .post(url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json")
            .body(body),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Okta.

const OKTA_TOKEN_SECRET: &str = "00OktaApiToken-never-logged";

async fn okta_with(users: Vec<OktaUser>) -> OktaFake {
    let fake = OktaFake::start().await;
    fake.api_token(OKTA_TOKEN_SECRET);
    fake.add_group("00gbig", users);
    fake
}

fn ssws() -> String {
    format!("SSWS {OKTA_TOKEN_SECRET}")
}

#[tokio::test]
async fn okta_pages_a_group_beyond_200_through_its_link_headers() {
    let fake = okta_with(okta::users(450, "acme.example")).await;
    let mut url = format!("{}/api/v1/groups/00gbig/users?limit=200", fake.url());
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    loop {
        let page = get(&url, &ssws()).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        // O3: one link a header line, self always.
        let links = page.all("link");
        assert!(
            links.iter().any(|l| l.ends_with("rel=\"self\"")),
            "{links:?}"
        );
        for name in [
            "x-rate-limit-limit",
            "x-rate-limit-remaining",
            "x-rate-limit-reset",
        ] {
            assert!(page.header(name).is_some(), "{name}");
        }
        sizes.push(page.array().len());
        seen.extend(
            page.array()
                .iter()
                .map(|u| u["profile"]["email"].as_str().expect("email").to_owned()),
        );
        match page.okta_next() {
            Some(next) => {
                assert!(
                    next.contains("after=") && next.contains("limit=200"),
                    "{next}"
                );
                url = next;
            }
            None => break,
        }
    }
    assert_eq!(sizes, [200, 200, 50]);
    let expected: Vec<String> = (0..450)
        .map(|i| format!("user{i:04}@acme.example"))
        .collect();
    assert_eq!(seen, expected);
    assert_eq!(fake.pages_served_for("00gbig"), 3);
    let log = fake.log();
    let pages: Vec<_> = log.iter().filter_map(|l| l.page.clone()).collect();
    assert_eq!(pages.iter().map(|p| p.index).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(pages[2].last && !pages[1].last);
    assert!(log.iter().all(|l| l.auth_scheme.as_deref() == Some("SSWS")));
    assert!(
        !format!("{log:?}").contains(OKTA_TOKEN_SECRET),
        "the log keeps no secret"
    );
    assert_eq!(fake.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn okta_serves_every_documented_status_and_follows_limit_up_to_its_maximum() {
    let mut users: Vec<OktaUser> = OktaStatus::ALL
        .iter()
        .enumerate()
        .map(|(i, s)| OktaUser::new(&format!("s{i}@acme.example")).status(*s))
        .collect();
    users.extend(okta::users(1500, "many.example"));
    let fake = okta_with(users).await;
    // Without `limit`: the description's default, 1000.
    let page = get(
        &format!("{}/api/v1/groups/00gbig/users", fake.url()),
        &ssws(),
    )
    .await;
    assert_eq!(page.status, 200);
    assert_eq!(page.array().len(), 1000);
    let statuses: Vec<&str> = page.array()[..9]
        .iter()
        .map(|u| u["status"].as_str().expect("status"))
        .collect();
    assert_eq!(
        statuses,
        OktaStatus::ALL.map(OktaStatus::as_str).to_vec(),
        "every status of UserStatus, and the transitional ACTIVATING"
    );
    assert_eq!(page.array()[0]["profile"]["email"], "s0@acme.example");
    // Above the maximum: the maximum.
    let page = get(
        &format!("{}/api/v1/groups/00gbig/users?limit=5000", fake.url()),
        &ssws(),
    )
    .await;
    assert_eq!(page.array().len(), 1000);
    assert!(
        page.okta_next()
            .expect("a next link")
            .contains("limit=5000")
    );
    fake.set_max_limit(300);
    let page = get(
        &format!("{}/api/v1/groups/00gbig/users?limit=500", fake.url()),
        &ssws(),
    )
    .await;
    assert_eq!(page.array().len(), 300);
    let page = get(
        &format!("{}/api/v1/groups/00gbig/users?limit=2", fake.url()),
        &ssws(),
    )
    .await;
    assert_eq!(page.array().len(), 2);
}

#[tokio::test]
async fn okta_answers_an_unknown_group_and_wrong_credentials_in_its_error_shape() {
    let fake = okta_with(okta::users(3, "acme.example")).await;
    let missing = get(
        &format!("{}/api/v1/groups/00gnone/users?limit=200", fake.url()),
        &ssws(),
    )
    .await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["errorCode"], "E0000007");
    assert!(missing.body["errorId"].is_string());
    let wrong = get(
        &format!("{}/api/v1/groups/00gbig/users?limit=200", fake.url()),
        "SSWS not-the-token",
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.body["errorCode"], "E0000011");
    let bearer = get(
        &format!("{}/api/v1/groups/00gbig/users?limit=200", fake.url()),
        "Bearer never-issued",
    )
    .await;
    assert_eq!(bearer.status, 401);
    assert_eq!(
        fake.log().iter().map(|l| l.status).collect::<Vec<_>>(),
        [404, 401, 401]
    );
}

#[tokio::test]
async fn okta_issues_a_token_for_a_private_key_jwt_and_the_token_reads_the_group() {
    let fake = okta_with(okta::users(5, "acme.example")).await;
    let key = RsaKey::shared(0);
    fake.register_client(CLIENT, &key.public(), &[okta::GROUPS_READ]);
    // A client reads its key from a PEM file, PKCS#1 or PKCS#8.
    for pem in [key.pkcs1_pem(), key.pkcs8_pem()] {
        let signing = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("PEM");
        let now = now();
        let assertion = sign(
            &signing,
            Some(key.kid()),
            &json!({"iss": CLIENT, "sub": CLIENT, "aud": fake.token_url(), "iat": now,
                    "exp": now + 300, "jti": uuid::Uuid::new_v4().to_string()}),
        );
        let token = post_form(
            &fake.token_url(),
            &[
                ("grant_type", "client_credentials"),
                ("scope", okta::GROUPS_READ),
                ("client_assertion_type", JWT_BEARER_ASSERTION),
                ("client_assertion", &assertion),
            ],
        )
        .await;
        assert_eq!(token.status, 200, "{:?}", token.body);
        assert_eq!(token.body["token_type"], "Bearer");
        assert_eq!(token.body["expires_in"], 3600);
        assert_eq!(token.body["scope"], okta::GROUPS_READ);
        let access = token.body["access_token"]
            .as_str()
            .expect("a token")
            .to_owned();
        let page = get(
            &format!("{}/api/v1/groups/00gbig/users?limit=200", fake.url()),
            &format!("Bearer {access}"),
        )
        .await;
        assert_eq!(page.status, 200);
        assert_eq!(page.array().len(), 5);
        let log = format!("{:?}", fake.log());
        assert!(
            !log.contains(&access) && !log.contains(&assertion),
            "no secret logged"
        );
    }
    assert_eq!(fake.tokens_issued(), 2);
    let log = fake.log();
    let exchange = log
        .iter()
        .find(|l| l.endpoint == Endpoint::Token)
        .expect("the token request");
    assert_eq!(exchange.form["client_assertion"], "<redacted>");
    assert_eq!(exchange.form["scope"], okta::GROUPS_READ);
    let (header, claims) = exchange.assertion.clone().expect("the assertion's parts");
    assert_eq!(header["alg"], "RS256");
    assert_eq!(claims["iss"], CLIENT);
    assert_eq!(claims["aud"], fake.token_url());
}

/// Client credentials with a `private_key_jwt` assertion, as DOC O6 sends them.
async fn okta_exchange(fake: &OktaFake, assertion: &str, scope: &str) -> Got {
    post_form(
        &fake.token_url(),
        &[
            ("grant_type", "client_credentials"),
            ("scope", scope),
            ("client_assertion_type", JWT_BEARER_ASSERTION),
            ("client_assertion", assertion),
        ],
    )
    .await
}

/// DOC O6's claims for `client`, with a fresh `jti`.
fn okta_claims(fake: &OktaFake, client: &str) -> Value {
    json!({"iss": client, "sub": client, "aud": fake.token_url(), "exp": now() + 300,
           "jti": uuid::Uuid::new_v4().to_string()})
}

#[tokio::test]
async fn okta_refuses_assertions_it_cannot_trust() {
    let fake = okta_with(okta::users(2, "acme.example")).await;
    let key = RsaKey::shared(0).encoding_key();
    fake.register_client(CLIENT, &RsaKey::shared(0).public(), &[okta::GROUPS_READ]);
    let refused = |got: Got| (got.status, got.body["error"].as_str().map(str::to_owned));
    let invalid_client = (401, Some("invalid_client".to_owned()));
    // Signed by a key the app does not hold.
    let forged = sign(
        &RsaKey::shared(1).encoding_key(),
        None,
        &okta_claims(&fake, CLIENT),
    );
    let got = okta_exchange(&fake, &forged, okta::GROUPS_READ).await;
    assert_eq!(refused(got), invalid_client);
    // A kid that is not the app's key.
    let elsewhere = sign(&key, Some("other-kid"), &okta_claims(&fake, CLIENT));
    let got = okta_exchange(&fake, &elsewhere, okta::GROUPS_READ).await;
    assert_eq!(refused(got), invalid_client);
    // An app the org does not know.
    let stranger = sign(&key, None, &okta_claims(&fake, "0oaunknown"));
    let got = okta_exchange(&fake, &stranger, okta::GROUPS_READ).await;
    assert_eq!(refused(got), invalid_client);
    // The same assertion twice (its jti replayed).
    let once = sign(&key, None, &okta_claims(&fake, CLIENT));
    assert_eq!(
        okta_exchange(&fake, &once, okta::GROUPS_READ).await.status,
        200
    );
    let got = okta_exchange(&fake, &once, okta::GROUPS_READ).await;
    assert_eq!(refused(got), invalid_client);
    // A client secret instead of an assertion (private_key_jwt only, DOC O6).
    let got = post_form(
        &fake.token_url(),
        &[
            ("grant_type", "client_credentials"),
            ("scope", okta::GROUPS_READ),
            ("client_id", CLIENT),
            ("client_secret", "s3cret"),
        ],
    )
    .await;
    assert_eq!(refused(got), invalid_client);
    assert!(!format!("{:?}", fake.log()).contains("s3cret"));
    assert_eq!(fake.tokens_issued(), 1);
    assert_eq!(
        fake.violations(),
        Vec::<String>::new(),
        "refusals, not violations"
    );
}

#[tokio::test]
async fn okta_grants_only_the_scopes_given_and_reads_only_with_okta_groups_read() {
    let fake = okta_with(okta::users(2, "acme.example")).await;
    let key = RsaKey::shared(0);
    fake.register_client(CLIENT, &key.public(), &[okta::GROUPS_READ]);
    fake.register_client("0oanarrow", &key.public(), &["okta.users.read"]);
    let signing = key.encoding_key();
    let users = format!("{}/api/v1/groups/00gbig/users?limit=200", fake.url());
    // A scope the app was not granted.
    let assertion = sign(&signing, None, &okta_claims(&fake, CLIENT));
    let got = okta_exchange(&fake, &assertion, "okta.users.manage").await;
    assert_eq!(
        (got.status, got.body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    // A token without okta.groups.read cannot list a group's users.
    let assertion = sign(&signing, None, &okta_claims(&fake, "0oanarrow"));
    let got = okta_exchange(&fake, &assertion, "okta.users.read").await;
    assert_eq!(got.status, 200);
    let access = got.body["access_token"].as_str().expect("token");
    let page = get(&users, &format!("Bearer {access}")).await;
    assert_eq!(
        (page.status, page.body["errorCode"].as_str()),
        (403, Some("E0000006"))
    );
    // An expired token.
    fake.token_lifetime(0);
    let assertion = sign(&signing, None, &okta_claims(&fake, CLIENT));
    let got = okta_exchange(&fake, &assertion, okta::GROUPS_READ).await;
    let access = got.body["access_token"].as_str().expect("token");
    assert_eq!(get(&users, &format!("Bearer {access}")).await.status, 401);
    assert_eq!(
        fake.violations(),
        Vec::<String>::new(),
        "refusals, not violations"
    );
}

#[tokio::test]
async fn okta_throttles_and_fails_on_the_requests_chosen() {
    let fake = okta_with(okta::users(5, "acme.example")).await;
    let first = format!("{}/api/v1/groups/00gbig/users?limit=2", fake.url());
    fake.inject(On::Page(2), OktaFault::RateLimited { reset_in: 30 }, 1);
    fake.inject(On::LastPage, OktaFault::Status(503), 1);
    let page1 = get(&first, &ssws()).await;
    let second = page1.okta_next().expect("next");
    let throttled = get(&second, &ssws()).await;
    assert_eq!(throttled.status, 429);
    assert_eq!(throttled.body["errorCode"], "E0000047");
    assert_eq!(throttled.header("x-rate-limit-remaining"), Some("0"));
    let reset: u64 = throttled
        .header("x-rate-limit-reset")
        .expect("reset")
        .parse()
        .expect("epoch seconds");
    assert!((now() + 25..=now() + 31).contains(&reset), "{reset}");
    let page2 = get(&second, &ssws()).await;
    assert_eq!(page2.status, 200);
    let third = page2.okta_next().expect("next");
    let failed = get(&third, &ssws()).await;
    assert_eq!(
        (failed.status, failed.body["errorCode"].as_str()),
        (503, Some("E0000009"))
    );
    let page3 = get(&third, &ssws()).await;
    assert_eq!(page3.array().len(), 1);
    assert_eq!(page3.okta_next(), None);
    assert_eq!(fake.pages_served(), 3);

    // A timeout: the answer comes too late for the client; then a dropped connection.
    fake.timeout_delay(Duration::from_millis(1500));
    fake.inject(On::Page(1), OktaFault::Timeout, 1);
    let impatient = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let late = impatient
        .get(&first)
        .header("Authorization", ssws())
        .send()
        .await;
    assert!(late.is_err_and(|e| e.is_timeout()));
    fake.inject(On::AnyPage, OktaFault::Drop, 1);
    let dropped = http()
        .get(&first)
        .header("Authorization", ssws())
        .send()
        .await;
    assert!(dropped.is_err());
    assert_eq!(fake.log().last().expect("logged").status, 0);
    assert_eq!(get(&first, &ssws()).await.status, 200);

    // The org's own budget: beyond it, 429 until the window resets.
    fake.rate_limit(2, 60);
    assert_eq!(get(&first, &ssws()).await.status, 200);
    assert_eq!(get(&first, &ssws()).await.status, 200);
    let over = get(&first, &ssws()).await;
    assert_eq!(over.status, 429);
    assert_eq!(over.header("x-rate-limit-remaining"), Some("0"));
}

#[tokio::test]
async fn okta_records_a_request_and_an_answer_outside_its_description() {
    let fake = okta_with(okta::users(5, "acme.example")).await;
    fake.expect_violations();
    let url = format!("{}/api/v1/groups/00gbig/users?limit=2", fake.url());
    // A request without credentials: refused in Okta's shape, and recorded.
    let bare = send(http().get(&url)).await;
    assert_eq!(
        (bare.status, bare.body["errorCode"].as_str()),
        (400, Some("E0000001"))
    );
    assert!(
        fake.violations()[0].contains("neither `SSWS"),
        "{:?}",
        fake.violations()
    );
    // A next link rebuilt instead of followed.
    let next = get(&url, &ssws()).await.okta_next().expect("next");
    let rebuilt = next.replace("limit=2", "limit=3");
    assert_eq!(get(&rebuilt, &ssws()).await.status, 200);
    assert!(
        fake.violations()
            .iter()
            .any(|v| v.contains("not followed as given"))
    );
    // A cursor the org never gave.
    let made_up = format!(
        "{}/api/v1/groups/00gbig/users?after=00u123&limit=2",
        fake.url()
    );
    assert_eq!(get(&made_up, &ssws()).await.status, 400);
    assert!(
        fake.violations()
            .iter()
            .any(|v| v.contains("never build it"))
    );
    // A missing scope at the token endpoint: the description's own answer.
    let missing = post_form(&fake.token_url(), &[("grant_type", "client_credentials")]).await;
    assert_eq!(missing.body["error"], "invalid_scope");
    // A bad answer (a user without its documented shape) is caught too.
    let before = fake.violations().len();
    fake.inject(
        On::Page(1),
        OktaFault::Raw(200, r#"[{"id": 7, "status": "ENABLED"}]"#.into()),
        1,
    );
    assert_eq!(get(&url, &ssws()).await.status, 200);
    let answered = fake.violations()[before..].join("\n");
    assert!(
        answered.contains("body/0/id") && answered.contains("ENABLED"),
        "{answered}"
    );
}

// ---------------------------------------------------------------------------------------------
// Microsoft Entra ID and Graph.

const ENTRA_CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const ENTRA_SECRET: &str = "entra~secret-never-logged";
const GROUP: &str = "6f1c0000-0000-4000-8000-000000000001";
const SELECT: &str = "$select=id,mail,userPrincipalName,accountEnabled";

async fn graph_with(users: Vec<GraphUser>) -> GraphFake {
    let fake = GraphFake::start().await;
    fake.register_app(TENANT, ENTRA_CLIENT, ENTRA_SECRET);
    fake.add_group(GROUP, users);
    fake
}

async fn graph_token(fake: &GraphFake) -> String {
    let got = post_form(
        &fake.token_url(TENANT),
        &[
            ("client_id", ENTRA_CLIENT),
            ("client_secret", ENTRA_SECRET),
            ("scope", graph::GRAPH_DEFAULT),
            ("grant_type", "client_credentials"),
        ],
    )
    .await;
    assert_eq!(got.status, 200, "{:?}", got.body);
    format!(
        "Bearer {}",
        got.body["access_token"].as_str().expect("token")
    )
}

async fn graph_get(url: &str, bearer: &str) -> Got {
    send(
        http()
            .get(url)
            .header("Authorization", bearer)
            .header("ConsistencyLevel", "eventual"),
    )
    .await
}

fn members_url(fake: &GraphFake, group: &str, query: &str) -> String {
    format!(
        "{}/v1.0/groups/{group}/transitiveMembers/microsoft.graph.user?{query}",
        fake.graph_url()
    )
}

#[tokio::test]
async fn entra_issues_a_token_for_client_credentials_and_refuses_a_wrong_secret() {
    let fake = graph_with(Vec::new()).await;
    let token = graph_token(&fake).await;
    assert!(token.len() > "Bearer ".len());
    let base = [
        ("client_id", ENTRA_CLIENT),
        ("scope", graph::GRAPH_DEFAULT),
        ("grant_type", "client_credentials"),
    ];
    let with = |secret: &'static str| {
        let mut fields = base.to_vec();
        fields.push(("client_secret", secret));
        fields
    };
    let wrong = post_form(&fake.token_url(TENANT), &with("wrong")).await;
    assert_eq!(
        (wrong.status, wrong.body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert_eq!(wrong.body["error_codes"], json!([7_000_215]));
    for field in [
        "timestamp",
        "trace_id",
        "correlation_id",
        "error_description",
    ] {
        assert!(wrong.body[field].is_string(), "{field}");
    }
    let elsewhere = post_form(
        &fake.token_url("another-tenant.example"),
        &with(ENTRA_SECRET),
    )
    .await;
    assert_eq!(elsewhere.status, 400);
    // The resource's own URL with /.default is taken too (a sovereign cloud's form).
    let mut own = with(ENTRA_SECRET);
    let scope = format!("{}/.default", fake.graph_url());
    own[1] = ("scope", &scope);
    assert_eq!(post_form(&fake.token_url(TENANT), &own).await.status, 200);
    assert_eq!(fake.tokens_issued(), 2);
    let log = fake.log();
    assert!(log.iter().all(|l| l.endpoint == Endpoint::Token));
    assert_eq!(log[0].form["client_secret"], "<redacted>");
    assert_eq!(log[0].form["scope"], graph::GRAPH_DEFAULT);
    assert!(!format!("{log:?}").contains(ENTRA_SECRET));
}

#[tokio::test]
async fn graph_pages_transitive_members_beyond_999_through_next_links() {
    let fake = graph_with(graph::users(2100, "contoso.example")).await;
    let bearer = graph_token(&fake).await;
    let mut url = members_url(&fake, GROUP, &format!("{SELECT}&$top=999&$count=true"));
    let mut sizes = Vec::new();
    let mut ids = Vec::new();
    loop {
        let page = graph_get(&url, &bearer).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        assert_eq!(page.body["@odata.count"], 2100);
        let value = page.body["value"].as_array().expect("value");
        sizes.push(value.len());
        ids.extend(value.iter().map(|u| u["id"].clone()));
        assert!(value.iter().all(|u| u["accountEnabled"] == true));
        match page.body["@odata.nextLink"].as_str() {
            Some(next) => {
                assert!(
                    next.contains("$skiptoken=") && next.contains("$top=999"),
                    "{next}"
                );
                url = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!(sizes, [999, 999, 102]);
    ids.sort_by_key(ToString::to_string);
    ids.dedup();
    assert_eq!(ids.len(), 2100);
    assert_eq!(fake.pages_served_for(GROUP), 3);
    let log = fake.log();
    let reads: Vec<_> = log.iter().filter(|l| l.endpoint == Endpoint::Api).collect();
    assert!(
        reads
            .iter()
            .all(|l| l.consistency_level.as_deref() == Some("eventual")
                && l.auth_scheme.as_deref() == Some("Bearer"))
    );
}

#[tokio::test]
async fn graph_shows_disabled_mailless_and_guest_users_and_only_what_is_selected() {
    let users = vec![
        GraphUser::new("adele@contoso.example"),
        GraphUser::new("gone@contoso.example").disabled(),
        GraphUser::new("svc-build@contoso.onmicrosoft.com").without_mail(),
        GraphUser::guest("partner@outside.example", "contoso.onmicrosoft.com"),
        GraphUser::new("unknown@contoso.example").enabled_unknown(),
    ];
    let fake = graph_with(users).await;
    let bearer = graph_token(&fake).await;
    let page = graph_get(
        &members_url(&fake, GROUP, &format!("{SELECT}&$top=999&$count=true")),
        &bearer,
    )
    .await;
    let value = page.body["value"].as_array().expect("value").clone();
    assert_eq!(value.len(), 5);
    assert_eq!(value[1]["accountEnabled"], false);
    assert_eq!(value[2]["mail"], Value::Null);
    assert_eq!(
        value[2]["userPrincipalName"],
        "svc-build@contoso.onmicrosoft.com"
    );
    assert_eq!(
        value[3]["userPrincipalName"],
        "partner_outside.example#EXT#@contoso.onmicrosoft.com"
    );
    assert_eq!(value[3]["mail"], "partner@outside.example");
    assert_eq!(value[4]["accountEnabled"], Value::Null);
    for user in &value {
        let keys: Vec<&String> = user.as_object().expect("object").keys().collect();
        assert_eq!(keys.len(), 4, "only the selected properties: {keys:?}");
    }
    // Without $select, accountEnabled is not returned (SPEC M1); without $top, 100 a page.
    let many = graph_with(graph::users(150, "contoso.example")).await;
    let bearer = graph_token(&many).await;
    let page = send(
        http()
            .get(members_url(&many, GROUP, ""))
            .header("Authorization", &bearer),
    )
    .await;
    let value = page.body["value"].as_array().expect("value");
    assert_eq!(value.len(), 100);
    assert!(value[0].get("accountEnabled").is_none());
    assert!(value[0]["mail"].is_string());
    assert!(page.body.get("@odata.count").is_none());
}

#[tokio::test]
async fn graph_lists_nested_groups_members_once() {
    let fake = graph_with(vec![
        GraphUser::new("a@c.example"),
        GraphUser::new("b@c.example"),
    ])
    .await;
    fake.add_group(
        "child",
        vec![GraphUser::new("b@c.example"), GraphUser::new("c@c.example")],
    );
    fake.add_group("grandchild", vec![GraphUser::new("d@c.example")]);
    fake.nest(GROUP, "child");
    fake.nest("child", "grandchild");
    fake.nest("grandchild", GROUP);
    let bearer = graph_token(&fake).await;
    let page = graph_get(
        &members_url(&fake, GROUP, &format!("{SELECT}&$count=true")),
        &bearer,
    )
    .await;
    let mails: Vec<&str> = page.body["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|u| u["mail"].as_str().expect("mail"))
        .collect();
    assert_eq!(
        mails,
        ["a@c.example", "b@c.example", "c@c.example", "d@c.example"]
    );
}

#[tokio::test]
async fn graph_answers_errors_throttling_and_limited_information_as_documented() {
    let fake = graph_with(graph::users(3, "contoso.example")).await;
    let bearer = graph_token(&fake).await;
    let url = members_url(&fake, GROUP, &format!("{SELECT}&$top=999&$count=true"));
    let missing = graph_get(&members_url(&fake, "0000dead", "$count=true"), &bearer).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["error"]["code"], "Request_ResourceNotFound");
    assert!(missing.body["error"]["innerError"]["request-id"].is_string());
    let anonymous = graph_get(&url, "Bearer not-issued").await;
    assert_eq!(
        (anonymous.status, anonymous.body["error"]["code"].as_str()),
        (401, Some("InvalidAuthenticationToken"))
    );
    fake.inject(
        On::AnyPage,
        GraphFault::Throttled {
            status: 429,
            retry_after: Some(7),
        },
        1,
    );
    fake.inject(
        On::AnyPage,
        GraphFault::Throttled {
            status: 503,
            retry_after: Some(2),
        },
        1,
    );
    fake.inject(
        On::AnyPage,
        GraphFault::Throttled {
            status: 429,
            retry_after: None,
        },
        1,
    );
    fake.inject(On::LastPage, GraphFault::Status(500), 1);
    fake.inject(On::Page(1), GraphFault::Forbidden, 1);
    let got = graph_get(&url, &bearer).await;
    assert_eq!((got.status, got.header("retry-after")), (429, Some("7")));
    assert_eq!(got.body["error"]["code"], "TooManyRequests");
    let got = graph_get(&url, &bearer).await;
    assert_eq!((got.status, got.header("retry-after")), (503, Some("2")));
    let got = graph_get(&url, &bearer).await;
    assert_eq!((got.status, got.header("retry-after")), (429, None));
    assert_eq!(graph_get(&url, &bearer).await.status, 500);
    let got = graph_get(&url, &bearer).await;
    assert_eq!(
        (got.status, got.body["error"]["code"].as_str()),
        (403, Some("Authorization_RequestDenied"))
    );
    assert_eq!(graph_get(&url, &bearer).await.status, 200);
    fake.inject(On::Token, GraphFault::Status(503), 1);
    let token = post_form(
        &fake.token_url(TENANT),
        &[
            ("client_id", ENTRA_CLIENT),
            ("client_secret", ENTRA_SECRET),
            ("scope", graph::GRAPH_DEFAULT),
            ("grant_type", "client_credentials"),
        ],
    )
    .await;
    assert_eq!(token.status, 503);
    // The app without User.Read.All: members with their id only (DOC M9).
    fake.limited_information(true);
    let page = graph_get(&url, &bearer).await;
    let first = &page.body["value"][0];
    assert_eq!(first["@odata.type"], "#microsoft.graph.user");
    assert!(first["id"].is_string());
    for field in ["mail", "userPrincipalName", "accountEnabled"] {
        assert_eq!(first[field], Value::Null, "{field}");
    }
}

#[tokio::test]
async fn graph_records_a_request_and_an_answer_outside_its_description() {
    let fake = graph_with(graph::users(5, "contoso.example")).await;
    fake.expect_violations();
    let bearer = graph_token(&fake).await;
    // $count without ConsistencyLevel: eventual.
    let url = members_url(&fake, GROUP, &format!("{SELECT}&$top=2&$count=true"));
    let plain = send(http().get(&url).header("Authorization", &bearer)).await;
    assert_eq!(
        (plain.status, plain.body["error"]["code"].as_str()),
        (400, Some("Request_BadRequest"))
    );
    assert!(
        fake.violations()[0].contains("ConsistencyLevel"),
        "{:?}",
        fake.violations()
    );
    // A next link changed on the way.
    let next = graph_get(&url, &bearer).await.body["@odata.nextLink"]
        .as_str()
        .expect("next")
        .to_owned();
    assert_eq!(
        graph_get(&next.replace("$top=2", "$top=3"), &bearer)
            .await
            .status,
        200
    );
    assert!(
        fake.violations()
            .iter()
            .any(|v| v.contains("not followed as given"))
    );
    // A skiptoken made up.
    let made_up = members_url(
        &fake,
        GROUP,
        &format!("{SELECT}&$top=2&$count=true&$skiptoken=abc"),
    );
    assert_eq!(graph_get(&made_up, &bearer).await.status, 400);
    // A bad answer.
    let before = fake.violations().len();
    fake.inject(
        On::AnyPage,
        GraphFault::Raw(
            200,
            r#"{"value": [{"id": "x", "accountEnabled": "yes"}]}"#.into(),
        ),
        1,
    );
    assert_eq!(graph_get(&url, &bearer).await.status, 200);
    let answered = fake.violations()[before..].join("\n");
    assert!(answered.contains("accountEnabled"), "{answered}");
}

// ---------------------------------------------------------------------------------------------
// Google Workspace.

const SA: &str = "sync@clickup-members-test.iam.gserviceaccount.com";
const ADMIN: &str = "admin@acme.example";

/// A fake with a service account, an administrator, and a group `eng@acme.example`.
async fn google_with(members: Vec<GoogleMember>) -> (GoogleFake, Value) {
    let fake = GoogleFake::start().await;
    let key_file = fake.service_account(SA, &RsaKey::shared(2));
    fake.add_user(ADMIN, true);
    fake.add_group("eng@acme.example", members);
    (fake, key_file)
}

/// The JWT-bearer grant, signed with the key file's own private key, as DOC G4 says.
async fn google_token_for(key_file: &Value, sub: &str, claims_change: impl Fn(&mut Value)) -> Got {
    let pem = key_file["private_key"].as_str().expect("private_key");
    let signing = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("a PKCS#8 PEM");
    let now = now();
    let mut claims = json!({"iss": key_file["client_email"], "sub": sub,
        "scope": GOOGLE_MEMBER_READONLY, "aud": key_file["token_uri"], "iat": now, "exp": now + 3600});
    claims_change(&mut claims);
    let kid = key_file["private_key_id"].as_str().expect("private_key_id");
    let assertion = sign(&signing, Some(kid), &claims);
    post_form(
        key_file["token_uri"].as_str().expect("token_uri"),
        &[("grant_type", JWT_BEARER_GRANT), ("assertion", &assertion)],
    )
    .await
}

async fn google_bearer(key_file: &Value) -> String {
    let got = google_token_for(key_file, ADMIN, |_| {}).await;
    assert_eq!(got.status, 200, "{:?}", got.body);
    assert_eq!(got.body["token_type"], "Bearer");
    format!(
        "Bearer {}",
        got.body["access_token"].as_str().expect("token")
    )
}

fn google_url(fake: &GoogleFake, group: &str, query: &str) -> String {
    format!(
        "{}/admin/directory/v1/groups/{}/members?{query}",
        fake.api_url(),
        group.replace('@', "%40")
    )
}

#[tokio::test]
async fn google_key_file_grant_and_pages_beyond_200() {
    let (fake, key_file) = google_with(google::users(450, "acme.example")).await;
    for field in [
        "type",
        "project_id",
        "private_key_id",
        "private_key",
        "client_email",
        "client_id",
        "token_uri",
    ] {
        assert!(key_file[field].is_string(), "{field}");
    }
    assert_eq!(key_file["type"], "service_account");
    assert_eq!(key_file["token_uri"], fake.token_uri());
    assert!(
        key_file["private_key"]
            .as_str()
            .expect("pem")
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let path = fake.write_service_account(dir.path(), SA, &RsaKey::shared(2));
    let written: Value = serde_json::from_slice(&std::fs::read(path).expect("read")).expect("JSON");
    assert_eq!(written["client_email"], SA);

    let bearer = google_bearer(&key_file).await;
    let mut url = google_url(
        &fake,
        "eng@acme.example",
        "includeDerivedMembership=true&maxResults=200",
    );
    let mut sizes = Vec::new();
    loop {
        let page = get(&url, &bearer).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        assert_eq!(page.body["kind"], "admin#directory#members");
        sizes.push(page.body["members"].as_array().expect("members").len());
        match page.body["nextPageToken"].as_str() {
            Some(token) => {
                url = google_url(
                    &fake,
                    "eng@acme.example",
                    &format!("includeDerivedMembership=true&maxResults=200&pageToken={token}"),
                );
            }
            None => break,
        }
    }
    assert_eq!(sizes, [200, 200, 50]);
    assert_eq!(fake.pages_served_for("eng@acme.example"), 3);
    let log = fake.log();
    let grant = log
        .iter()
        .find(|l| l.endpoint == Endpoint::Token)
        .expect("the grant");
    assert_eq!(grant.form["assertion"], "<redacted>");
    let (_, claims) = grant.assertion.clone().expect("claims");
    assert_eq!(claims["sub"], ADMIN);
    assert_eq!(claims["scope"], GOOGLE_MEMBER_READONLY);
    assert!(!format!("{log:?}").contains(bearer.trim_start_matches("Bearer ")));
}

#[tokio::test]
async fn google_lists_derived_members_of_every_type_and_status() {
    let (fake, key_file) = google_with(vec![
        GoogleMember::user("alice@acme.example"),
        GoogleMember::user("bob@acme.example")
            .status("SUSPENDED")
            .role("OWNER"),
        GoogleMember::group("design@acme.example"),
        GoogleMember::customer("C01abc23d"),
    ])
    .await;
    let id = fake.add_group(
        "design@acme.example",
        vec![
            GoogleMember::user("carol@acme.example"),
            GoogleMember::user("alice@acme.example"),
        ],
    );
    fake.add_alias("eng@acme.example", "engineering@acme.example");
    fake.add_group("empty@acme.example", Vec::new());
    let bearer = google_bearer(&key_file).await;
    let derived = get(
        &google_url(
            &fake,
            "eng@acme.example",
            "includeDerivedMembership=true&maxResults=200",
        ),
        &bearer,
    )
    .await;
    let members = derived.body["members"].as_array().expect("members");
    let summary: Vec<(Option<&str>, &str, Option<&str>)> = members
        .iter()
        .map(|m| {
            (
                m["email"].as_str(),
                m["type"].as_str().expect("type"),
                m["status"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (Some("alice@acme.example"), "USER", Some("ACTIVE")),
            (Some("bob@acme.example"), "USER", Some("SUSPENDED")),
            (Some("design@acme.example"), "GROUP", None),
            (None, "CUSTOMER", None),
            (Some("carol@acme.example"), "USER", Some("ACTIVE")),
        ]
    );
    assert_eq!(members[3]["id"], "C01abc23d");
    let direct = get(
        &google_url(&fake, "engineering@acme.example", "maxResults=200"),
        &bearer,
    )
    .await;
    assert_eq!(direct.body["members"].as_array().expect("members").len(), 4);
    let by_id = get(&google_url(&fake, &id, "roles=OWNER,MANAGER"), &bearer).await;
    assert_eq!(by_id.status, 200);
    assert!(
        by_id.body.get("members").is_none(),
        "no OWNER in design: no members at all"
    );
    let empty = get(
        &google_url(&fake, "empty@acme.example", "includeDerivedMembership=true"),
        &bearer,
    )
    .await;
    assert_eq!(empty.status, 200);
    assert!(empty.body.get("members").is_none() && empty.body.get("nextPageToken").is_none());
}

#[tokio::test]
async fn google_refuses_grants_and_tokens_it_cannot_trust() {
    let (fake, key_file) = google_with(google::users(2, "acme.example")).await;
    fake.add_user("staff@acme.example", false);
    // Signed with another key.
    let mut forged = key_file.clone();
    forged["private_key"] = json!(RsaKey::shared(3).pkcs8_pem());
    let got = google_token_for(&forged, ADMIN, |_| {}).await;
    assert_eq!(
        (got.status, got.body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // A scope not delegated to the account.
    let got = google_token_for(&key_file, ADMIN, |c| {
        c["scope"] = json!("https://www.googleapis.com/auth/admin.directory.user")
    })
    .await;
    assert_eq!(
        (got.status, got.body["error"].as_str()),
        (401, Some("unauthorized_client"))
    );
    // Someone who is not a user of the domain.
    let got = google_token_for(&key_file, "nobody@acme.example", |_| {}).await;
    assert_eq!(
        (got.status, got.body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // An account the domain does not know.
    let got = google_token_for(&key_file, ADMIN, |c| {
        c["iss"] = json!("other@x.iam.gserviceaccount.com")
    })
    .await;
    assert_eq!(got.status, 400);
    // A user who is not an administrator gets a token, not the group.
    let got = google_token_for(&key_file, "staff@acme.example", |_| {}).await;
    assert_eq!(got.status, 200);
    let staff = format!(
        "Bearer {}",
        got.body["access_token"].as_str().expect("token")
    );
    let url = google_url(
        &fake,
        "eng@acme.example",
        "includeDerivedMembership=true&maxResults=200",
    );
    let denied = get(&url, &staff).await;
    assert_eq!(denied.status, 403);
    assert_eq!(denied.body["error"]["errors"][0]["reason"], "forbidden");
    assert_eq!(get(&url, "Bearer ya29.not-issued").await.status, 401);
    assert_eq!(
        fake.violations(),
        Vec::<String>::new(),
        "refusals, not violations"
    );
}

#[tokio::test]
async fn google_answers_errors_and_quota_limits_as_documented() {
    let (fake, key_file) = google_with(google::users(3, "acme.example")).await;
    let bearer = google_bearer(&key_file).await;
    let url = google_url(
        &fake,
        "eng@acme.example",
        "includeDerivedMembership=true&maxResults=200",
    );
    let missing = get(
        &google_url(&fake, "nope@acme.example", "maxResults=200"),
        &bearer,
    )
    .await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["error"]["errors"][0]["reason"], "notFound");
    let limits = [
        (403, "userRateLimitExceeded", "PERMISSION_DENIED"),
        (403, "rateLimitExceeded", "PERMISSION_DENIED"),
        (403, "quotaExceeded", "PERMISSION_DENIED"),
        (429, "rateLimitExceeded", "RESOURCE_EXHAUSTED"),
    ];
    for (status, reason, _) in limits {
        fake.inject(On::AnyPage, GoogleFault::RateLimited { status, reason }, 1);
    }
    for (status, reason, word) in limits {
        let got = get(&url, &bearer).await;
        assert_eq!(got.status, status);
        assert_eq!(got.body["error"]["errors"][0]["reason"], reason);
        assert_eq!(got.body["error"]["errors"][0]["domain"], "usageLimits");
        assert_eq!(got.body["error"]["status"], word);
    }
    fake.inject(On::LastPage, GoogleFault::Status(503), 1);
    let got = get(&url, &bearer).await;
    assert_eq!(
        (
            got.status,
            got.body["error"]["errors"][0]["reason"].as_str()
        ),
        (503, Some("backendError"))
    );
    fake.inject(On::Token, GoogleFault::Status(500), 1);
    assert_eq!(google_token_for(&key_file, ADMIN, |_| {}).await.status, 500);
    assert_eq!(get(&url, &bearer).await.status, 200);
    assert_eq!(fake.pages_served(), 1);
}

#[tokio::test]
async fn google_records_requests_and_an_answer_outside_its_description() {
    let (fake, key_file) = google_with(google::users(5, "acme.example")).await;
    fake.expect_violations();
    // An assertion for another audience: refused, and a violation.
    let got = google_token_for(&key_file, ADMIN, |c| {
        c["aud"] = json!("https://oauth2.googleapis.com/token")
    })
    .await;
    assert_eq!(
        (got.status, got.body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert!(
        fake.violations().iter().any(|v| v.contains("aud")),
        "{:?}",
        fake.violations()
    );
    // An assertion living two hours.
    let got = google_token_for(&key_file, ADMIN, |c| {
        c["exp"] = json!(c["iat"].as_u64().expect("iat") + 7200)
    })
    .await;
    assert_eq!(got.status, 400);
    assert!(fake.violations().iter().any(|v| v.contains("lives 7200 s")));
    let bearer = google_bearer(&key_file).await;
    // maxResults beyond 200.
    let over = get(
        &google_url(&fake, "eng@acme.example", "maxResults=500"),
        &bearer,
    )
    .await;
    assert_eq!(
        (
            over.status,
            over.body["error"]["errors"][0]["reason"].as_str()
        ),
        (400, Some("invalid"))
    );
    // A page token sent with other parameters than the request that got it.
    let first = get(
        &google_url(&fake, "eng@acme.example", "maxResults=2"),
        &bearer,
    )
    .await;
    let token = first.body["nextPageToken"].as_str().expect("token");
    let changed = get(
        &google_url(
            &fake,
            "eng@acme.example",
            &format!("maxResults=3&pageToken={token}"),
        ),
        &bearer,
    )
    .await;
    assert_eq!(changed.status, 200);
    assert!(
        fake.violations()
            .iter()
            .any(|v| v.contains("pageToken sent with other parameters"))
    );
    // A bad answer.
    let before = fake.violations().len();
    fake.inject(
        On::AnyPage,
        GoogleFault::Raw(200, r#"{"members": [{"id": 1, "type": "USER"}]}"#.into()),
        1,
    );
    assert_eq!(
        get(
            &google_url(&fake, "eng@acme.example", "maxResults=2"),
            &bearer
        )
        .await
        .status,
        200
    );
    let answered = fake.violations()[before..].join("\n");
    assert!(answered.contains("/members/0/id"), "{answered}");
}

// ---------------------------------------------------------------------------------------------
// A test whose traffic breaks a description fails when its fake is dropped.

#[tokio::test]
#[should_panic(expected = "broke the official description")]
async fn an_okta_fake_fails_the_test_that_broke_its_description() {
    let fake = okta_with(okta::users(1, "acme.example")).await;
    let url = format!("{}/api/v1/groups/00gbig/users?limit=many", fake.url());
    assert_eq!(get(&url, &ssws()).await.status, 400);
}

#[tokio::test]
#[should_panic(expected = "broke the official description")]
async fn a_graph_fake_fails_the_test_that_broke_its_description() {
    let fake = graph_with(graph::users(1, "contoso.example")).await;
    let bearer = graph_token(&fake).await;
    let url = members_url(&fake, GROUP, "$count=true");
    assert_eq!(
        send(http().get(&url).header("Authorization", &bearer))
            .await
            .status,
        400
    );
}

#[tokio::test]
#[should_panic(expected = "broke the official description")]
async fn a_google_fake_fails_the_test_that_broke_its_description() {
    let (fake, key_file) = google_with(google::users(1, "acme.example")).await;
    let bearer = google_bearer(&key_file).await;
    let url = google_url(&fake, "eng@acme.example", "maxResults=201");
    assert_eq!(get(&url, &bearer).await.status, 400);
}
