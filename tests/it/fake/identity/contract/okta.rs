//! Okta: `listGroupUsers` and the org authorization server's `token` (the extract), the
//! `Link` and `X-Rate-Limit-*` headers (DOC O3, O4), the claims of a `private_key_jwt` assertion.

use super::*;

const OKTA: &str = include_str!("../../../../contract/identity/okta-openapi-extract.json");

struct Okta {
    list: Operation,
    token: Operation,
    /// Answers of `listGroupUsers`: status -> validator.
    list_answers: HashMap<u16, jsonschema::Validator>,
    /// Okta's `Error`, for the statuses the operation does not declare (401, 5xx): the
    /// developer docs (O3) give every 4xx/5xx this body.
    error: jsonschema::Validator,
    token_answers: HashMap<u16, jsonschema::Validator>,
    token_error: jsonschema::Validator,
    /// `TokenRequestOrgAs`, its discriminator as `if`/`then` (not closed: the client
    /// authentication fields live in the security schemes, not in the schema).
    token_request: jsonschema::Validator,
    /// The fields a client-credentials form may hold: the schema's and the client
    /// authentication ones of the security schemes.
    client_credentials_fields: Vec<String>,
}

fn okta() -> &'static Okta {
    static OKTA_CONTRACT: OnceLock<Okta> = OnceLock::new();
    OKTA_CONTRACT.get_or_init(|| {
        let doc: Value = serde_json::from_str(OKTA).expect("the Okta extract is JSON");
        let mut raw = doc["components"]["schemas"]
            .as_object()
            .expect("components.schemas")
            .clone();
        // DOC (the description of UserStatus, SPEC O1): `ACTIVATING` is a transitional status
        // a user may be seen in, though the enum does not list it. Accepted in answers.
        if let Some(Value::Array(values)) =
            raw.get_mut("UserStatus").and_then(|s| s.get_mut("enum"))
        {
            values.push(json!("ACTIVATING"));
        }
        let closed = Convert {
            schemas: &raw,
            flavour: Flavour::Okta,
            close: true,
        };
        let open = Convert {
            close: false,
            ..closed
        };
        let components = closed.all();
        let open_components = open.all();
        let answers = |op: &Value| -> HashMap<u16, jsonschema::Validator> {
            op["responses"]
                .as_object()
                .expect("responses")
                .iter()
                .filter_map(|(status, response)| {
                    let response = match response["$ref"].as_str() {
                        Some(r) => &doc["components"]["responses"][r.rsplit('/').next()?],
                        None => response,
                    };
                    let schema = &response["content"]["application/json"]["schema"];
                    let status: u16 = status.parse().ok()?;
                    Some((
                        status,
                        validator(Flavour::Okta, &components, closed.schema(schema)),
                    ))
                })
                .collect()
        };
        let list_item = &doc["paths"]["/api/v1/groups/{groupId}/users"];
        let token_item = &doc["paths"]["/oauth2/v1/token"];
        let list_op = &list_item["get"];
        let token_op = &token_item["post"];
        let form_schema =
            &token_op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"];
        let mut fields: Vec<String> = open
            .flat(&raw["TokenRequestClientCredentials"], true)
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        // The security schemes `Client_authentication_*` (SPEC O2): client_secret_post sends
        // client_id and client_secret, the JWT ones client_assertion and its type.
        fields.extend(
            [
                "client_id",
                "client_secret",
                "client_assertion",
                "client_assertion_type",
            ]
            .map(String::from),
        );
        Okta {
            list: Operation::new(
                OKTA_LIST,
                "GET",
                "/api/v1/groups/{groupId}/users",
                openapi_params(&doc, list_item, list_op),
            ),
            token: Operation::new(OKTA_TOKEN, "POST", "/oauth2/v1/token", Vec::new()),
            list_answers: answers(list_op),
            error: validator(
                Flavour::Okta,
                &components,
                json!({"$ref": "#/components/schemas/Error"}),
            ),
            token_answers: answers(token_op),
            token_error: validator(
                Flavour::Okta,
                &components,
                json!({"$ref": "#/components/schemas/oauthSpec_Error"}),
            ),
            token_request: validator(Flavour::Okta, &open_components, open.schema(form_schema)),
            client_credentials_fields: fields,
        }
    })
}

/// Checks a request an Okta fake received: `listGroupUsers` or the token exchange.
pub fn okta_request(sent: &Sent) -> Verdict {
    let c = okta();
    for op in [&c.list, &c.token] {
        let Some(path) = op.matches(&sent.method, &sent.path) else {
            continue;
        };
        let at = op.at();
        let mut violations = match path {
            Ok(path) => op.check_params(sent, &path, &[]),
            Err(e) => vec![format!("{at}: {e}")],
        };
        if op.id == OKTA_LIST {
            // security: apiToken (`SSWS {API Token}`) or oauth2 (`Bearer {access_token}`).
            if sent.credential("SSWS").is_none() && sent.credential("Bearer").is_none() {
                violations.push(format!(
                    "{at}: Authorization is {:?}, neither `SSWS <API token>` nor `Bearer <access token>`",
                    sent.auth_scheme()
                ));
            }
        } else {
            violations.extend(okta_token_form(c, sent, &at));
        }
        return Verdict {
            operation: Some(op.id),
            violations,
        };
    }
    no_operation(sent, "Okta")
}

fn okta_token_form(c: &Okta, sent: &Sent, at: &str) -> Vec<String> {
    let mut violations = Vec::new();
    if !content_type_is(&sent.headers, "application/x-www-form-urlencoded") {
        violations.push(format!(
            "{at}: Content-Type is {:?}, not application/x-www-form-urlencoded",
            sent.header_value("content-type")
        ));
    }
    let pairs = sent.form_pairs();
    let mut form = Map::new();
    for (name, value) in &pairs {
        if form.insert(name.clone(), json!(value)).is_some() {
            violations.push(format!("{at}: form field {name} is sent twice"));
        }
    }
    let instance = Value::Object(form.clone());
    for error in c.token_request.iter_errors(&instance).take(MAX_ERRORS) {
        violations.push(format!("{at}: form{} {error}", error.instance_path()));
    }
    if form.get("grant_type") == Some(&json!("client_credentials")) {
        for name in form.keys() {
            if !c.client_credentials_fields.contains(name) {
                violations.push(format!(
                    "{at}: form field {name} is not one a client-credentials request takes"
                ));
            }
        }
    }
    // The client authentication methods (security schemes of SPEC O2); more than one is
    // refused (the example OAuthError400InvalidRequest_MultipleClientCreds).
    let basic = sent.credential("Basic").is_some();
    let post = form.contains_key("client_secret");
    let jwt = form.contains_key("client_assertion") || form.contains_key("client_assertion_type");
    if [basic, post, jwt].iter().filter(|m| **m).count() > 1 {
        violations.push(format!(
            "{at}: more than one client authentication method (Basic header, client_secret, client_assertion)"
        ));
    }
    if jwt {
        if form.get("client_assertion_type") != Some(&json!(JWT_BEARER_ASSERTION)) {
            violations.push(format!(
                "{at}: client_assertion_type is {:?}, not {JWT_BEARER_ASSERTION}",
                form.get("client_assertion_type")
            ));
        }
        match form.get("client_assertion").and_then(Value::as_str) {
            None => violations.push(format!(
                "{at}: client_assertion_type without client_assertion"
            )),
            Some(assertion) => {
                // SPEC O2 (Client_authentication_private_key_jwt): RS256/384/512 or ES256/384/512,
                // `iss` and `sub` the client id; DOC O6: `aud` the token URL, `exp` at most an
                // hour ahead (`aud` is checked by the fake, which knows its URL).
                let rules = AssertionRules {
                    what: "client_assertion",
                    algorithms: &["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"],
                    required: &["iss", "sub", "aud", "exp"],
                    max_lifetime: 3600,
                };
                violations.extend(check_assertion(assertion, &rules, at));
                if let Ok((_, claims)) = jwt_parts(assertion) {
                    if claims["iss"] != claims["sub"] {
                        violations.push(format!(
                            "{at}: the client_assertion's iss {} and sub {} differ (both are the client id)",
                            claims["iss"], claims["sub"]
                        ));
                    }
                    if let Some(id) = form.get("client_id")
                        && claims["iss"] != *id
                    {
                        violations.push(format!(
                            "{at}: client_id {id} is not the client_assertion's iss {}",
                            claims["iss"]
                        ));
                    }
                }
            }
        }
    }
    violations
}

/// Checks an answer an Okta fake gave to `operation` ([`OKTA_LIST`] or [`OKTA_TOKEN`]).
pub fn okta_answer(operation: &str, answer: &Answer) -> Vec<String> {
    let c = okta();
    let list = operation == OKTA_LIST;
    let at = if list { c.list.at() } else { c.token.at() };
    let mut violations = Vec::new();
    let Some(body) = json_body(answer, &at, &mut violations) else {
        return violations;
    };
    violations.extend(okta_body(operation, answer.status, &body));
    if list {
        violations.extend(okta_headers(answer, &at));
    }
    violations
}

/// The body of an answer of `operation` with this status, against its schema (a status the
/// operation does not declare: Okta's `Error` for a 4xx/5xx, DOC O3).
pub fn okta_body(operation: &str, status: u16, body: &Value) -> Vec<String> {
    let c = okta();
    let list = operation == OKTA_LIST;
    let at = if list { c.list.at() } else { c.token.at() };
    let (declared, fallback) = if list {
        (&c.list_answers, &c.error)
    } else {
        (&c.token_answers, &c.token_error)
    };
    match declared.get(&status) {
        Some(v) => schema_errors(v, body, &at),
        None if status >= 400 => schema_errors(fallback, body, &at),
        None => vec![format!(
            "{at}: status {status} is not an answer the operation declares"
        )],
    }
}

/// DOC O4: every answer of the management API reports the rate limit; DOC O3: pages are
/// linked by `link` headers, `rel="self"` always and `rel="next"` while more remain.
fn okta_headers(answer: &Answer, at: &str) -> Vec<String> {
    let mut violations = Vec::new();
    for name in [
        "x-rate-limit-limit",
        "x-rate-limit-remaining",
        "x-rate-limit-reset",
    ] {
        match answer.values(name).next() {
            None => violations.push(format!("{at}: answer {} has no {name}", answer.status)),
            Some(v) if v.trim().parse::<u64>().is_err() => violations.push(format!(
                "{at}: {name} is {v:?}, not a whole number (epoch seconds for the reset)"
            )),
            Some(_) => {}
        }
    }
    let mut rels = Vec::new();
    for value in answer.values("link") {
        // One link a line (O3's example) or several joined by commas (RFC 8288).
        let mut rest = value.trim();
        while !rest.is_empty() {
            let Some((url, tail)) = rest.strip_prefix('<').and_then(|r| r.split_once('>')) else {
                violations.push(format!("{at}: link {value:?} is not `<URL>; rel=\"…\"`"));
                break;
            };
            let end = tail
                .char_indices()
                .find(|(i, c)| *c == ',' && tail[i + 1..].trim_start().starts_with('<'))
                .map_or(tail.len(), |(i, _)| i);
            let params = &tail[..end];
            rest = tail[end..].trim_start_matches(',').trim_start();
            if url::Url::parse(url).is_err() {
                violations.push(format!("{at}: link URL {url:?} is not absolute"));
            }
            match params
                .split(';')
                .filter_map(|p| p.trim().strip_prefix("rel="))
                .next()
            {
                Some(rel) => rels.push(rel.trim_matches('"').to_owned()),
                None => violations.push(format!("{at}: link {value:?} has no rel")),
            }
        }
    }
    if answer.status == 200 && !rels.iter().any(|r| r == "self") {
        violations.push(format!("{at}: a page without a rel=\"self\" link"));
    }
    violations
}

/// The examples Okta's extract carries (`components.examples`), for the self-tests: `(name, value)`.
pub fn okta_examples() -> Vec<(String, Value)> {
    let doc: Value = serde_json::from_str(OKTA).expect("the Okta extract is JSON");
    doc["components"]["examples"]
        .as_object()
        .expect("examples")
        .iter()
        .map(|(name, example)| (name.clone(), example["value"].clone()))
        .collect()
}
