//! Microsoft Graph's `group_ListTransitiveMemberAsUser` (the extract) and the identity
//! platform's token endpoint (no description: DOC M5, M6, written from the notes §2.4).

use super::*;

const GRAPH: &str = include_str!("../../../../contract/identity/graph-openapi-extract.json");

struct Graph {
    list: Operation,
    token: Operation,
    /// `userCollectionResponse` (2XX), closed but for OData annotations.
    page: jsonschema::Validator,
    /// `ODataErrors.ODataError` (default).
    error: jsonschema::Validator,
    /// The properties of `microsoft.graph.user`, for `$select` and `$orderby`.
    user_properties: Vec<String>,
    token_ok: jsonschema::Validator,
    token_error: jsonschema::Validator,
}

fn graph() -> &'static Graph {
    static GRAPH_CONTRACT: OnceLock<Graph> = OnceLock::new();
    GRAPH_CONTRACT.get_or_init(|| {
        let doc: Value = serde_json::from_str(GRAPH).expect("the Graph extract is JSON");
        let mut raw = doc["components"]["schemas"]
            .as_object()
            .expect("components.schemas")
            .clone();
        // The collection's annotations besides `@odata.nextLink`, which the reconstructed
        // schema lacks (its x-extraction): `@odata.count` with `$count=true` (DOC M10) and
        // `@odata.context` (DOC M7 examples).
        if let Some(Value::Object(props)) = raw
            .get_mut("microsoft.graph.userCollectionResponse")
            .and_then(|s| s.get_mut("properties"))
        {
            props.insert("@odata.count".into(), json!({"type": "integer"}));
            props.insert("@odata.context".into(), json!({"type": "string"}));
        }
        let convert = Convert {
            schemas: &raw,
            flavour: Flavour::Graph,
            close: true,
        };
        let components = convert.all();
        let path = "/groups/{group-id}/transitiveMembers/microsoft.graph.user";
        let item = &doc["paths"][path];
        let op = &item["get"];
        let mut params = openapi_params(&doc, item, op);
        for p in &mut params {
            // DOC M7 (medium, notes §2.1): at most 999 directory objects a page.
            if p.name == "$top" {
                p.kind = Kind::Integer { min: 0, max: 999 };
            }
        }
        let user = convert.flat(&raw["microsoft.graph.user"], true);
        let user_properties = user
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        Graph {
            // The server URL is https://graph.microsoft.com/v1.0/.
            list: Operation::new(GRAPH_LIST, "GET", &format!("/v1.0{path}"), params),
            token: Operation::new(
                ENTRA_TOKEN,
                "POST",
                "/{tenant}/oauth2/v2.0/token",
                Vec::new(),
            ),
            page: validator(
                Flavour::Graph,
                &components,
                json!({"$ref": "#/components/schemas/microsoft.graph.userCollectionResponse"}),
            ),
            error: validator(
                Flavour::Graph,
                &components,
                json!({"$ref": "#/components/schemas/microsoft.graph.ODataErrors.ODataError"}),
            ),
            user_properties,
            // DOC M5 (notes §2.4): the token answer and the error answer; no machine-readable
            // description exists.
            token_ok: compile(&json!({
                "type": "object",
                "required": ["token_type", "expires_in", "access_token"],
                "properties": {
                    "token_type": {"const": "Bearer"},
                    "expires_in": {"type": "integer"},
                    "ext_expires_in": {"type": "integer"},
                    "access_token": {"type": "string", "minLength": 1}
                },
                "additionalProperties": false
            })),
            token_error: compile(&json!({
                "type": "object",
                "required": ["error", "error_description"],
                "properties": {
                    "error": {"type": "string"},
                    "error_description": {"type": "string"},
                    "error_codes": {"type": "array", "items": {"type": "integer"}},
                    "timestamp": {"type": "string"},
                    "trace_id": {"type": "string"},
                    "correlation_id": {"type": "string"},
                    "error_uri": {"type": "string"}
                },
                "additionalProperties": false
            })),
        }
    })
}

/// Checks a request a Graph fake received (`graph.microsoft.com`).
pub fn graph_request(sent: &Sent) -> Verdict {
    let c = graph();
    let op = &c.list;
    let Some(path) = op.matches(&sent.method, &sent.path) else {
        return no_operation(sent, "Microsoft Graph");
    };
    let at = op.at();
    // DOC M7: `@odata.nextLink` carries `$skiptoken`, which the description does not name.
    let mut violations = match path {
        Ok(path) => op.check_params(sent, &path, &["$skiptoken"]),
        Err(e) => vec![format!("{at}: {e}")],
    };
    // security: azureaadv2 (OAuth 2.0 bearer tokens).
    if sent.credential("Bearer").is_none() {
        violations.push(format!(
            "{at}: Authorization is {:?}, not `Bearer <access token>`",
            sent.auth_scheme()
        ));
    }
    let pairs = sent.query_pairs();
    let has = |name: &str| pairs.iter().any(|(n, _)| n == name);
    // DOC M10 and the parameter's own example: `$count` and `$search` on directory objects are
    // advanced queries and need `ConsistencyLevel: eventual`; it is the only value there is.
    let level = sent.header_value("consistencylevel");
    if (has("$count") || has("$search")) && level.is_none() {
        violations.push(format!(
            "{at}: $count/$search without the header ConsistencyLevel: eventual"
        ));
    }
    if let Some(level) = level
        && !level.eq_ignore_ascii_case("eventual")
    {
        violations.push(format!("{at}: ConsistencyLevel is {level:?}, not eventual"));
    }
    // Stricter than the description, to catch typos: `$select`/`$orderby` name properties of
    // `microsoft.graph.user`.
    for (name, value) in &pairs {
        if name != "$select" && name != "$orderby" {
            continue;
        }
        for item in value.split(',') {
            let property = item.split_whitespace().next().unwrap_or("");
            if !property.is_empty() && !c.user_properties.iter().any(|p| p == property) {
                violations.push(format!(
                    "{at}: {name} names {property:?}, not a property of microsoft.graph.user"
                ));
            }
        }
    }
    Verdict {
        operation: Some(op.id),
        violations,
    }
}

/// Checks an answer a Graph fake gave to the list operation.
pub fn graph_answer(answer: &Answer) -> Vec<String> {
    let c = graph();
    let at = c.list.at();
    let mut violations = Vec::new();
    let Some(body) = json_body(answer, &at, &mut violations) else {
        return violations;
    };
    let validator = if (200..300).contains(&answer.status) {
        &c.page
    } else {
        &c.error
    };
    violations.extend(schema_errors(validator, &body, &at));
    if let Some(next) = body.get("@odata.nextLink").and_then(Value::as_str)
        && url::Url::parse(next).is_err()
    {
        violations.push(format!(
            "{at}: @odata.nextLink {next:?} is not an absolute URL"
        ));
    }
    // DOC M8: a throttled answer suggests its wait in Retry-After, in seconds (it may be absent).
    if let Some(wait) = answer.values("retry-after").next()
        && wait.trim().parse::<u64>().is_err()
    {
        violations.push(format!("{at}: Retry-After is {wait:?}, not whole seconds"));
    }
    violations
}

/// Checks a request an Entra token fake received: DOC M5 (notes §2.4), the client credentials
/// grant with a secret or a certificate's assertion.
pub fn entra_token_request(sent: &Sent) -> Verdict {
    let c = graph();
    let op = &c.token;
    let Some(path) = op.matches(&sent.method, &sent.path) else {
        return no_operation(sent, "the Microsoft identity platform");
    };
    let at = op.at();
    let mut violations = match path {
        Ok(_) => Vec::new(),
        Err(e) => vec![format!("{at}: {e}")],
    };
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
        if ![
            "client_id",
            "scope",
            "grant_type",
            "client_secret",
            "client_assertion_type",
            "client_assertion",
        ]
        .contains(&name.as_str())
        {
            violations.push(format!(
                "{at}: form field {name} is not one of the client credentials grant"
            ));
        }
    }
    for name in ["client_id", "scope", "grant_type"] {
        if !form.contains_key(name) {
            violations.push(format!("{at}: form field {name} missing"));
        }
    }
    if let Some(grant) = form.get("grant_type")
        && grant != "client_credentials"
    {
        violations.push(format!(
            "{at}: grant_type is {grant:?}, not client_credentials"
        ));
    }
    // DOC M5: the scope of a client credentials request is `{resource}/.default`, one resource.
    if let Some(scope) = form.get("scope") {
        let scopes: Vec<&str> = scope.split_whitespace().collect();
        if scopes.len() != 1 || !scopes[0].ends_with("/.default") {
            violations.push(format!(
                "{at}: scope {scope:?} is not one resource's `/.default`"
            ));
        }
    }
    let secret = form.contains_key("client_secret");
    let assertion =
        form.contains_key("client_assertion") || form.contains_key("client_assertion_type");
    match (secret, assertion) {
        (true, true) => violations.push(format!("{at}: both client_secret and client_assertion")),
        (false, false) => {
            violations.push(format!("{at}: neither client_secret nor client_assertion"))
        }
        _ => {}
    }
    if assertion {
        if form.get("client_assertion_type").map(String::as_str) != Some(JWT_BEARER_ASSERTION) {
            violations.push(format!(
                "{at}: client_assertion_type is not {JWT_BEARER_ASSERTION}"
            ));
        }
        if let Some(jwt) = form.get("client_assertion") {
            // DOC M6 (notes §2.4): PS256 (current) or RS256 (older example), iss = sub = the
            // client id, aud, jti, exp; Entra bounds no lifetime, an hour is taken here.
            let rules = AssertionRules {
                what: "client_assertion",
                algorithms: &["PS256", "RS256"],
                required: &["iss", "sub", "aud", "jti", "exp"],
                max_lifetime: 3600,
            };
            violations.extend(check_assertion(jwt, &rules, &at));
            if let Ok((_, claims)) = jwt_parts(jwt)
                && (claims["iss"] != claims["sub"]
                    || form.get("client_id").map(|id| json!(id)) != Some(claims["iss"].clone()))
            {
                violations.push(format!(
                    "{at}: the client_assertion's iss and sub are not both the client_id"
                ));
            }
        }
    }
    Verdict {
        operation: Some(op.id),
        violations,
    }
}

/// Checks an answer an Entra token fake gave.
pub fn entra_token_answer(answer: &Answer) -> Vec<String> {
    let c = graph();
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
