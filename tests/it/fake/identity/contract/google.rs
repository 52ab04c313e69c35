//! Google's `directory.members.list` (the discovery extract), its error format (G5), and the
//! OAuth 2.0 token endpoint's JWT-bearer grant (no description: DOC G4, the notes §3.4).

use super::*;

const GOOGLE: &str = include_str!("../../../../contract/identity/google-directory-extract.json");

struct Google {
    list: Operation,
    token: Operation,
    /// `Members`, closed (notes §3.1: the example validates "with unknown fields forbidden").
    page: jsonschema::Validator,
    /// Google's JSON error format (G5, medium): not in the discovery document.
    error: jsonschema::Validator,
    token_ok: jsonschema::Validator,
    token_error: jsonschema::Validator,
}

fn google() -> &'static Google {
    static GOOGLE_CONTRACT: OnceLock<Google> = OnceLock::new();
    GOOGLE_CONTRACT.get_or_init(|| {
        let doc: Value = serde_json::from_str(GOOGLE).expect("the Google extract is JSON");
        let raw = doc["schemas"].as_object().expect("schemas").clone();
        let convert = Convert {
            schemas: &raw,
            flavour: Flavour::Google,
            close: true,
        };
        let components = convert.all();
        let method = &doc["resources"]["members"]["methods"]["list"];
        let mut params: Vec<Param> = method["parameters"]
            .as_object()
            .expect("parameters")
            .iter()
            .chain(doc["parameters"].as_object().expect("standard parameters"))
            .map(|(name, p)| Param {
                name: name.clone(),
                loc: if p["location"] == "path" {
                    Loc::Path
                } else {
                    Loc::Query
                },
                required: p["required"].as_bool().unwrap_or(false),
                kind: Kind::discovery(p),
            })
            .collect();
        for p in &mut params {
            // The parameter's own description (SPEC G1): "Max allowed value is 200."
            if p.name == "maxResults"
                && let Kind::Integer { min, .. } = p.kind
            {
                p.kind = Kind::Integer { min, max: 200 };
            }
        }
        let path = format!("/{}", method["path"].as_str().expect("the method's path"));
        Google {
            list: Operation::new(GOOGLE_LIST, "GET", &path, params),
            // DOC G4: `token_uri` of a key file is https://oauth2.googleapis.com/token.
            token: Operation::new(GOOGLE_TOKEN, "POST", "/token", Vec::new()),
            page: validator(
                Flavour::Google,
                &components,
                json!({"$ref": "#/schemas/Members"}),
            ),
            error: compile(&json!({
                "type": "object",
                "required": ["error"],
                "properties": {"error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "integer"},
                        "message": {"type": "string"},
                        "status": {"type": "string"},
                        "errors": {"type": "array", "items": {
                            "type": "object",
                            "required": ["message", "domain", "reason"],
                            "properties": {
                                "message": {"type": "string"},
                                "domain": {"type": "string"},
                                "reason": {"type": "string"},
                                "location": {"type": "string"},
                                "locationType": {"type": "string"}
                            },
                            "additionalProperties": false
                        }}
                    },
                    "additionalProperties": false
                }},
                "additionalProperties": false
            })),
            // DOC G4 (notes §3.4): the token answer, and `{error, error_description}`.
            token_ok: compile(&json!({
                "type": "object",
                "required": ["access_token", "expires_in", "token_type"],
                "properties": {
                    "access_token": {"type": "string", "minLength": 1},
                    "expires_in": {"type": "integer"},
                    "token_type": {"const": "Bearer"}
                },
                "additionalProperties": false
            })),
            token_error: compile(&json!({
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {"type": "string"},
                    "error_description": {"type": "string"}
                },
                "additionalProperties": false
            })),
        }
    })
}

/// Checks a request a Google Directory fake received.
pub fn google_request(sent: &Sent) -> Verdict {
    let c = google();
    let op = &c.list;
    let Some(path) = op.matches(&sent.method, &sent.path) else {
        return no_operation(sent, "the Admin SDK Directory API");
    };
    let at = op.at();
    let mut violations = match path {
        Ok(path) => op.check_params(sent, &path, &[]),
        Err(e) => vec![format!("{at}: {e}")],
    };
    if sent.credential("Bearer").is_none() {
        violations.push(format!(
            "{at}: Authorization is {:?}, not `Bearer <access token>`",
            sent.auth_scheme()
        ));
    }
    // The standard parameters allow a token in the URL; this project's rule (SPEC §11: secrets
    // never in any output, and URLs are logged) does not. Not Google's rule.
    for (name, _) in sent.query_pairs() {
        if ["access_token", "oauth_token", "key"].contains(&name.as_str()) {
            violations.push(format!(
                "{at}: a credential in the query string ({name}): the project's rule, not Google's"
            ));
        }
    }
    Verdict {
        operation: Some(op.id),
        violations,
    }
}

/// Checks an answer a Google Directory fake gave to `members.list`.
pub fn google_answer(answer: &Answer) -> Vec<String> {
    let c = google();
    let at = c.list.at();
    let mut violations = Vec::new();
    let Some(body) = json_body(answer, &at, &mut violations) else {
        return violations;
    };
    let validator = if answer.status == 200 {
        &c.page
    } else {
        &c.error
    };
    violations.extend(schema_errors(validator, &body, &at));
    violations
}

/// Checks a request a Google token fake received: DOC G4 (notes §3.4), the JWT-bearer grant.
pub fn google_token_request(sent: &Sent) -> Verdict {
    let c = google();
    let op = &c.token;
    if op.matches(&sent.method, &sent.path).is_none() {
        return no_operation(sent, "Google's OAuth 2.0 token endpoint");
    }
    let at = op.at();
    let mut violations = Vec::new();
    if !content_type_is(&sent.headers, "application/x-www-form-urlencoded") {
        violations.push(format!(
            "{at}: Content-Type is {:?}, not application/x-www-form-urlencoded",
            sent.header_value("content-type")
        ));
    }
    if !sent.query.is_empty() {
        violations.push(format!("{at}: the token request has a query string"));
    }
    let form = form_map(sent, &at, &mut violations);
    for name in form.keys() {
        if name != "grant_type" && name != "assertion" {
            violations.push(format!(
                "{at}: form field {name} is not one of the JWT-bearer grant"
            ));
        }
    }
    if form.get("grant_type").map(String::as_str) != Some(JWT_BEARER_GRANT) {
        violations.push(format!(
            "{at}: grant_type is {:?}, not {JWT_BEARER_GRANT}",
            form.get("grant_type")
        ));
    }
    match form.get("assertion") {
        None => violations.push(format!("{at}: no assertion")),
        Some(jwt) => {
            // DOC G4: RS256; iss, scope, aud, exp, iat; exp at most an hour after iat. `sub`
            // (the user to impersonate) is optional to Google; `aud` is checked by the fake.
            let rules = AssertionRules {
                what: "assertion",
                algorithms: &["RS256"],
                required: &["iss", "scope", "aud", "exp", "iat"],
                max_lifetime: 3600,
            };
            violations.extend(check_assertion(jwt, &rules, &at));
            if let Ok((_, claims)) = jwt_parts(jwt)
                && let Some(scope) = claims.get("scope")
                && scope.as_str().is_none_or(|s| s.trim().is_empty())
            {
                violations.push(format!(
                    "{at}: the assertion's scope {scope} is not a space-separated string"
                ));
            }
        }
    }
    Verdict {
        operation: Some(op.id),
        violations,
    }
}

/// Checks an answer a Google token fake gave.
pub fn google_token_answer(answer: &Answer) -> Vec<String> {
    let c = google();
    let at = c.token.at();
    let mut violations = Vec::new();
    let Some(body) = json_body(answer, &at, &mut violations) else {
        return violations;
    };
    let validator = if answer.status == 200 {
        &c.token_ok
    } else {
        &c.token_error
    };
    violations.extend(schema_errors(validator, &body, &at));
    violations
}
