//! ClickUp's official request contract, checked on every request the fake receives.
//!
//! The operations, their path and query parameters and their request bodies come from the
//! official OpenAPI extract in `tests/contract/clickup-openapi-membership.json` (a verbatim copy
//! of `reference/clickup-openapi-membership.json`). A request is a violation when no operation
//! matches its method and path, a path or query parameter has the wrong type, an unknown query
//! parameter is sent, a required one is missing, the `Authorization` header is absent, or its body
//! fails the operation's JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1). Two checks are
//! stricter than the schema, to catch typos: a body may not carry properties the schema does not
//! name, and an operation without a request body must be sent without one.
//!
//! One deviation is accepted and counted, never silently: Edit User without `custom_role_id`
//! (the schema marks it required, but no integer means "no custom role"; SPEC §5).

use std::sync::OnceLock;

use serde_json::Value;

const OPENAPI: &str = include_str!("../../contract/clickup-openapi-membership.json");

/// The one documented deviation: `PUT /team/{id}/user/{id}` may leave out `custom_role_id`.
pub const EDIT_USER_WITHOUT_CUSTOM_ROLE: &str = "EditUserOnWorkspace without custom_role_id";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    Boolean,
    Text,
}

impl Kind {
    fn of(schema: &Value) -> Kind {
        match schema["type"].as_str() {
            Some("number" | "integer") => Kind::Number,
            Some("boolean") => Kind::Boolean,
            _ => Kind::Text,
        }
    }

    fn accepts(self, raw: &str) -> bool {
        match self {
            Kind::Number => !raw.is_empty() && raw.parse::<f64>().is_ok_and(f64::is_finite),
            Kind::Boolean => raw == "true" || raw == "false",
            Kind::Text => !raw.is_empty(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Number => "a number",
            Kind::Boolean => "true or false",
            Kind::Text => "a non-empty string",
        }
    }
}

enum Segment {
    Literal(String),
    Param(String, Kind),
}

struct Query {
    name: String,
    kind: Kind,
    required: bool,
}

struct Operation {
    id: String,
    method: String,
    template: String,
    segments: Vec<Segment>,
    query: Vec<Query>,
    body: Option<jsonschema::Validator>,
    /// The body schema without the deviation, to tell a deviation from a conforming body.
    strict_body: Option<jsonschema::Validator>,
}

/// What the contract says of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The operation that matched (`operationId`), when one did.
    pub operation: Option<String>,
    /// What does not match the official contract.
    pub violations: Vec<String>,
    /// The documented deviation, when the request makes it.
    pub deviation: Option<&'static str>,
}

fn operations() -> &'static [Operation] {
    static OPS: OnceLock<Vec<Operation>> = OnceLock::new();
    OPS.get_or_init(|| {
        let doc: Value = serde_json::from_str(OPENAPI).expect("the OpenAPI extract is JSON");
        let mut ops = Vec::new();
        for (template, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                if !["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                    continue;
                }
                ops.push(operation(template, method, op, item));
            }
        }
        ops
    })
}

fn operation(template: &str, method: &str, op: &Value, item: &Value) -> Operation {
    let params: Vec<&Value> = item["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(op["parameters"].as_array().into_iter().flatten())
        .collect();
    let kind_of = |name: &str| {
        params
            .iter()
            .find(|p| p["in"] == "path" && p["name"] == name)
            .map_or(Kind::Text, |p| Kind::of(&p["schema"]))
    };
    let segments = template
        .split('/')
        .filter(|s| !s.is_empty())
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => Segment::Param(name.to_owned(), kind_of(name)),
                None => Segment::Literal(s.to_owned()),
            },
        )
        .collect();
    let query = params
        .iter()
        .filter(|p| p["in"] == "query")
        .map(|p| Query {
            name: p["name"].as_str().unwrap_or_default().to_owned(),
            kind: Kind::of(&p["schema"]),
            required: p["required"].as_bool().unwrap_or(false),
        })
        .collect();
    let schema = op["requestBody"]["content"]["application/json"]["schema"].clone();
    let id = op["operationId"].as_str().unwrap_or_default().to_owned();
    let (body, strict_body) = if schema.is_null() {
        (None, None)
    } else {
        let strict = closed(schema);
        let mut lenient = strict.clone();
        if id == "EditUserOnWorkspace"
            && let Some(required) = lenient["required"].as_array_mut()
        {
            required.retain(|r| r != "custom_role_id");
        }
        let compile = |s: &Value| jsonschema::validator_for(s).expect("the schema compiles");
        (Some(compile(&lenient)), Some(compile(&strict)))
    };
    Operation {
        id,
        method: method.to_uppercase(),
        template: template.to_owned(),
        segments,
        query,
        body,
        strict_body,
    }
}

/// The schema with `additionalProperties: false` on every object that lists its properties.
fn closed(mut schema: Value) -> Value {
    if let Some(map) = schema.as_object_mut() {
        if map.contains_key("properties") && !map.contains_key("additionalProperties") {
            map.insert("additionalProperties".into(), Value::Bool(false));
        }
        for value in map.values_mut() {
            *value = closed(value.take());
        }
    } else if let Some(items) = schema.as_array_mut() {
        for value in items {
            *value = closed(value.take());
        }
    }
    schema
}

fn matches(op: &Operation, segments: &[&str]) -> bool {
    op.segments.len() == segments.len()
        && op.segments.iter().zip(segments).all(|(s, got)| match s {
            Segment::Literal(l) => l == got,
            Segment::Param(..) => true,
        })
}

/// Checks one request. `path` is the URL path as sent (`/api/v2/team/1/user`), `query` its raw
/// query string, `content_type` and `authorization` its headers.
pub fn check(
    method: &str,
    path: &str,
    query: &str,
    content_type: Option<&str>,
    authorization: Option<&str>,
    body: &[u8],
) -> Verdict {
    let mut violations = Vec::new();
    let below = path.strip_prefix("/api").unwrap_or(path);
    let raw_segments: Vec<&str> = below.split('/').filter(|s| !s.is_empty()).collect();
    let decoded: Vec<String> = raw_segments
        .iter()
        .map(|s| {
            percent_decode(s).unwrap_or_else(|| {
                violations.push(format!("path segment {s:?} is not valid percent-encoding"));
                (*s).to_owned()
            })
        })
        .collect();
    let segments: Vec<&str> = decoded.iter().map(String::as_str).collect();
    let Some(op) = operations()
        .iter()
        .find(|op| op.method == method && matches(op, &segments))
    else {
        violations.push(format!(
            "{method} {below} is not an operation of the official API"
        ));
        return Verdict {
            operation: None,
            violations,
            deviation: None,
        };
    };
    let at = format!("{} {} ({})", op.method, op.template, op.id);
    if authorization.is_none_or(str::is_empty) {
        violations.push(format!("{at}: no Authorization header"));
    }
    for (segment, got) in op.segments.iter().zip(&segments) {
        if let Segment::Param(name, kind) = segment
            && !kind.accepts(got)
        {
            violations.push(format!(
                "{at}: path parameter {name} is {got:?}, not {}",
                kind.name()
            ));
        }
    }
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    for (name, value) in &pairs {
        match op.query.iter().find(|q| &q.name == name) {
            None => violations.push(format!("{at}: unknown query parameter {name}")),
            Some(q) if !q.kind.accepts(value) => violations.push(format!(
                "{at}: query parameter {name} is {value:?}, not {}",
                q.kind.name()
            )),
            Some(_) => {}
        }
    }
    for q in op.query.iter().filter(|q| q.required) {
        if !pairs.iter().any(|(name, _)| name == &q.name) {
            violations.push(format!("{at}: required query parameter {} missing", q.name));
        }
    }
    let mut deviation = None;
    match (&op.body, &op.strict_body) {
        (Some(lenient), Some(strict)) => {
            if !content_type.is_some_and(|c| c.starts_with("application/json")) {
                violations.push(format!(
                    "{at}: Content-Type is {content_type:?}, not application/json"
                ));
            }
            match serde_json::from_slice::<Value>(body) {
                Err(e) => violations.push(format!("{at}: the body is not JSON ({e})")),
                Ok(instance) => {
                    for error in lenient.iter_errors(&instance) {
                        violations.push(format!("{at}: body{} {error}", error.instance_path()));
                    }
                    if violations.is_empty() && !strict.is_valid(&instance) {
                        deviation = Some(EDIT_USER_WITHOUT_CUSTOM_ROLE);
                    }
                }
            }
        }
        _ => {
            if !body.is_empty() {
                violations.push(format!(
                    "{at}: a body was sent, but the operation takes none"
                ));
            }
        }
    }
    Verdict {
        operation: Some(op.id.clone()),
        violations,
        deviation,
    }
}

fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
