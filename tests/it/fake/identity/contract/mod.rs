//! The identity providers' official descriptions, checked on every request the fakes of `sync`'s
//! sources receive and on every answer they give (SPEC §11: "the project's fakes answer, and its
//! requests are checked, against them, as for ClickUp").
//!
//! The descriptions, copied verbatim under `tests/contract/identity/` from
//! `reference/identity/` (each file's `x-extraction` block says how it was cut):
//!
//! * `okta-openapi-extract.json` (OpenAPI 3.0.3): `listGroupUsers`
//!   (`GET /api/v1/groups/{groupId}/users`) and the org authorization server's `token`
//!   (`POST /oauth2/v1/token`).
//! * `graph-openapi-extract.json` (OpenAPI 3.0.4): `group_ListTransitiveMemberAsUser`
//!   (`GET /v1.0/groups/{group-id}/transitiveMembers/microsoft.graph.user`).
//! * `google-directory-extract.json` (Google discovery v1): `directory.members.list`
//!   (`GET /admin/directory/v1/groups/{groupKey}/members`) and the schemas `Members`, `Member`.
//!
//! A request is a violation when no operation matches its method and path; a path, query or
//! header parameter has the wrong type or is out of its documented range; a query parameter the
//! operation does not name is sent, or one is sent twice; a required one is missing; the
//! credentials are not of a kind the operation's security names; a `GET` carries a body; a token
//! request's form does not match its schema or documented fields. An answer is a violation when
//! its status is not one the operation declares with a body that validates against that
//! status's schema, or its JSON is not JSON, or a header the provider documents on it is
//! missing or malformed.
//!
//! The schemas are OpenAPI 3.0, not JSON Schema; they are converted on loading (`nullable`
//! becomes a `null` type, a `discriminator` becomes `if`/`then` on its mapping, `allOf` is
//! merged into one object) and, for answers only, every object that lists its properties is
//! closed (`additionalProperties: false`), as the ClickUp checker does, so that a misspelt field
//! in a fake's answer is caught. Graph's generator puts `additionalProperties: {type: object}`
//! everywhere, which rejects its own payloads (notes §2.7): those are removed, and Graph's objects
//! are closed but for OData annotations (`@odata.*`).
//!
//! What the machine-readable descriptions do not say and these checks add, each marked
//! `DOC`/`INFERRED` with the notes' section where it is made:
//! Graph's `ConsistencyLevel: eventual` with `$count`/`$search`, `$top` at most 999 and the
//! `$skiptoken` of `@odata.nextLink`; Okta's `Link` and `X-Rate-Limit-*` answer headers;
//! Google's `maxResults` at most 200 (in the parameter's description), its error body; both
//! token endpoints with no description at all (Entra's, Google's), written from the notes; the
//! claims of client assertions.
//!
//! What they cannot check, being stateless: that a cursor or page token was issued by the
//! server and followed unchanged, that an assertion's signature verifies and its `aud` is the
//! very token URL, that a token was issued and grants the scope. The fakes check those (and
//! record their violations the same way). Nor do they check what no description says: an
//! `Accept` header, DPoP (notes §1.4 step 8), the order of a page's entries, Google's `status`
//! values (free strings), or a client's timing (the fakes' logs keep when each request came).
//!
//! `schema.rs` converts the schemas; `okta.rs`, `microsoft.rs` and `google.rs` hold each
//! provider's operations and checks; this file the request and answer types, the parameters'
//! checks and the client assertions' claims.

mod google;
mod microsoft;
mod okta;
mod schema;

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

pub use google::{google_answer, google_request, google_token_answer, google_token_request};
pub use microsoft::{entra_token_answer, entra_token_request, graph_answer, graph_request};
// `okta_body` and `okta_examples` serve the self-tests only (the benches include `fake/` too).
#[allow(unused_imports)]
pub use okta::{okta_answer, okta_body, okta_examples, okta_request};
use schema::{Convert, Flavour, compile, schema_errors, validator};

/// Okta's `GET /api/v1/groups/{groupId}/users`.
pub const OKTA_LIST: &str = "listGroupUsers";
/// Okta's `POST /oauth2/v1/token` (org authorization server).
pub const OKTA_TOKEN: &str = "token";
/// Graph's `GET /v1.0/groups/{group-id}/transitiveMembers/microsoft.graph.user`.
pub const GRAPH_LIST: &str = "group_ListTransitiveMemberAsUser";
/// Entra's `POST /{tenant}/oauth2/v2.0/token`: no OpenAPI; the notes §2.4 (DOC M5).
pub const ENTRA_TOKEN: &str = "entra token (DOC M5)";
/// Google's `GET /admin/directory/v1/groups/{groupKey}/members`.
pub const GOOGLE_LIST: &str = "directory.members.list";
/// Google's `POST /token` at a service account key's `token_uri`: no discovery document; the
/// notes §3.4 (DOC G4).
pub const GOOGLE_TOKEN: &str = "google token (DOC G4)";

/// `client_assertion_type` of a JWT client assertion (RFC 7523).
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// `grant_type` of Google's service-account grant (RFC 7523).
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// The scope `sync` asks Google for (SPEC §11; the narrowest of the four `members.list` takes).
pub const GOOGLE_MEMBER_READONLY: &str =
    "https://www.googleapis.com/auth/admin.directory.group.member.readonly";

/// At most this many schema errors are reported for one answer.
const MAX_ERRORS: usize = 8;

/// One request, as sent: what the checks look at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sent {
    pub method: String,
    /// The URL path as sent (percent-encoding kept).
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    /// Header names in lower case; a header sent twice appears twice.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Sent {
    /// `method` on `path_and_query` (`/api/v1/groups/00g1/users?limit=200`), without headers.
    pub fn new(method: &str, path_and_query: &str) -> Sent {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        Sent {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            ..Sent::default()
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Sent {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    /// An `application/x-www-form-urlencoded` body of these fields.
    pub fn form(mut self, fields: &[(&str, &str)]) -> Sent {
        self.body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish()
            .into_bytes();
        self.header("content-type", "application/x-www-form-urlencoded")
    }

    pub(crate) fn of(request: &wiremock::Request) -> Sent {
        Sent {
            method: request.method.as_str().to_owned(),
            path: request.url.path().to_owned(),
            query: request.url.query().unwrap_or("").to_owned(),
            headers: request
                .headers
                .iter()
                .map(|(name, value)| {
                    (
                        name.as_str().to_ascii_lowercase(),
                        String::from_utf8_lossy(value.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: request.body.clone(),
        }
    }

    /// The first value of a header (names are case-insensitive).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The query's pairs, decoded.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        decode_pairs(&self.query)
    }

    /// The form body's pairs, decoded.
    pub fn form_pairs(&self) -> Vec<(String, String)> {
        decode_pairs(&String::from_utf8_lossy(&self.body))
    }

    /// `path?query`, as sent.
    pub fn target(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }

    /// The scheme of the `Authorization` header (`SSWS`, `Bearer`, `Basic`), never its secret.
    pub fn auth_scheme(&self) -> Option<String> {
        self.header_value("authorization")
            .map(|a| a.split_whitespace().next().unwrap_or("").to_owned())
    }

    /// The credential after the scheme of the `Authorization` header.
    pub(crate) fn credential(&self, scheme: &str) -> Option<&str> {
        let value = self.header_value("authorization")?;
        let (given, rest) = value.split_once(' ')?;
        given
            .eq_ignore_ascii_case(scheme)
            .then(|| rest.trim())
            .filter(|c| !c.is_empty())
    }
}

fn decode_pairs(raw: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// One answer, as given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// Header names in lower case; a header given twice (Okta's `link`) appears twice.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(status: u16, body: &Value) -> Answer {
        Answer {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(body).expect("JSON"),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Answer {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the descriptions say of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The operation that matched, when one did.
    pub operation: Option<&'static str>,
    /// What does not match the official description.
    pub violations: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loc {
    Path,
    Query,
    Header,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// With the bounds the description gives (int32 unless it says otherwise).
    Integer {
        min: i64,
        max: i64,
    },
    Boolean,
    Text,
    /// `style: form, explode: false` arrays of strings: comma-separated, unique.
    List,
}

impl Kind {
    fn openapi(schema: &Value) -> Kind {
        match schema["type"].as_str() {
            Some("integer") => Kind::Integer {
                min: schema["minimum"].as_i64().unwrap_or(i64::from(i32::MIN)),
                max: schema["maximum"].as_i64().unwrap_or(i64::from(i32::MAX)),
            },
            Some("boolean") => Kind::Boolean,
            Some("array") => Kind::List,
            _ => Kind::Text,
        }
    }

    /// A discovery parameter: bounds are strings there (`"minimum": "1"`).
    fn discovery(param: &Value) -> Kind {
        let bound = |key: &str, default: i32| {
            param[key]
                .as_str()
                .and_then(|b| b.parse().ok())
                .unwrap_or(i64::from(default))
        };
        match param["type"].as_str() {
            Some("integer") => Kind::Integer {
                min: bound("minimum", i32::MIN),
                max: bound("maximum", i32::MAX),
            },
            Some("boolean") => Kind::Boolean,
            _ => Kind::Text,
        }
    }

    fn problem(&self, raw: &str) -> Option<String> {
        match self {
            Kind::Integer { min, max } => match raw.parse::<i64>() {
                Ok(n) if n < *min || n > *max => {
                    Some(format!("{raw:?} is out of its range {min}..={max}"))
                }
                Ok(_) => None,
                Err(_) => Some(format!("{raw:?} is not an integer")),
            },
            Kind::Boolean => {
                (raw != "true" && raw != "false").then(|| format!("{raw:?} is not true or false"))
            }
            Kind::Text => raw.is_empty().then(|| "is empty".to_owned()),
            Kind::List => {
                let items: Vec<&str> = raw.split(',').collect();
                if items.iter().any(|i| i.trim().is_empty()) {
                    Some(format!("{raw:?} has an empty item"))
                } else if (1..items.len()).any(|i| items[..i].contains(&items[i])) {
                    Some(format!("{raw:?} repeats an item (uniqueItems)"))
                } else {
                    None
                }
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Param {
    name: String,
    loc: Loc,
    required: bool,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Segment {
    Literal(String),
    Param(String),
}

struct Operation {
    id: &'static str,
    method: &'static str,
    template: String,
    segments: Vec<Segment>,
    params: Vec<Param>,
}

impl Operation {
    fn new(id: &'static str, method: &'static str, template: &str, params: Vec<Param>) -> Self {
        let segments = template
            .split('/')
            .filter(|s| !s.is_empty())
            .map(
                |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => Segment::Param(name.to_owned()),
                    None => Segment::Literal(s.to_owned()),
                },
            )
            .collect();
        Operation {
            id,
            method,
            template: template.to_owned(),
            segments,
            params,
        }
    }

    fn at(&self) -> String {
        format!("{} {} ({})", self.method, self.template, self.id)
    }

    /// The decoded path parameters when `path` is this operation's.
    fn matches(&self, method: &str, path: &str) -> Option<Result<Vec<(String, String)>, String>> {
        let got: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if method != self.method || got.len() != self.segments.len() {
            return None;
        }
        let mut values = Vec::new();
        for (segment, raw) in self.segments.iter().zip(&got) {
            match segment {
                Segment::Literal(l) if l == raw => {}
                Segment::Literal(_) => return None,
                Segment::Param(name) => match percent_decode(raw) {
                    Some(v) => values.push((name.clone(), v)),
                    None => {
                        return Some(Err(format!(
                            "path segment {raw:?} is not valid percent-encoding"
                        )));
                    }
                },
            }
        }
        Some(Ok(values))
    }

    /// Path, query and header parameters against their descriptions. `also` names query
    /// parameters documented elsewhere than in the description.
    fn check_params(&self, sent: &Sent, path: &[(String, String)], also: &[&str]) -> Vec<String> {
        let at = self.at();
        let mut violations = Vec::new();
        for (name, value) in path {
            if let Some(p) = self
                .params
                .iter()
                .find(|p| p.loc == Loc::Path && &p.name == name)
                && let Some(problem) = p.kind.problem(value)
            {
                violations.push(format!("{at}: path parameter {name} {problem}"));
            }
        }
        let pairs = sent.query_pairs();
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in &pairs {
            if seen.contains(&name.as_str()) {
                violations.push(format!("{at}: query parameter {name} is sent twice"));
                continue;
            }
            seen.push(name);
            match self
                .params
                .iter()
                .find(|p| p.loc == Loc::Query && &p.name == name)
            {
                Some(p) => {
                    if let Some(problem) = p.kind.problem(value) {
                        violations.push(format!("{at}: query parameter {name} {problem}"));
                    }
                }
                None if also.contains(&name.as_str()) => {}
                None => violations.push(format!("{at}: unknown query parameter {name}")),
            }
        }
        for p in self.params.iter().filter(|p| p.required) {
            let present = match p.loc {
                Loc::Query => pairs.iter().any(|(n, _)| n == &p.name),
                Loc::Header => sent.header_value(&p.name).is_some(),
                Loc::Path => true,
            };
            if !present {
                violations.push(format!("{at}: required parameter {} missing", p.name));
            }
        }
        for p in self.params.iter().filter(|p| p.loc == Loc::Header) {
            if let Some(value) = sent.header_value(&p.name)
                && let Some(problem) = p.kind.problem(value)
            {
                violations.push(format!("{at}: header {} {problem}", p.name));
            }
        }
        if sent.method == "GET" && !sent.body.is_empty() {
            violations.push(format!("{at}: a GET was sent with a body"));
        }
        violations
    }
}

pub(crate) fn percent_decode(segment: &str) -> Option<String> {
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

/// OpenAPI parameters of a path item and its operation, `$ref`s resolved.
fn openapi_params(doc: &Value, item: &Value, op: &Value) -> Vec<Param> {
    let resolve = |p: &Value| -> Value {
        match p["$ref"].as_str() {
            Some(r) => doc["components"]["parameters"][r.rsplit('/').next().unwrap_or("")].clone(),
            None => p.clone(),
        }
    };
    item["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(op["parameters"].as_array().into_iter().flatten())
        .map(resolve)
        .map(|p| Param {
            name: p["name"].as_str().unwrap_or_default().to_owned(),
            loc: match p["in"].as_str() {
                Some("path") => Loc::Path,
                Some("header") => Loc::Header,
                _ => Loc::Query,
            },
            required: p["required"].as_bool().unwrap_or(false),
            kind: Kind::openapi(&p["schema"]),
        })
        .collect()
}

fn content_type_is(headers: &[(String, String)], wanted: &str) -> bool {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .is_some_and(|(_, v)| {
            v.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case(wanted))
        })
}

/// The answer's body as JSON, with a violation when it is not JSON or not said to be.
fn json_body(answer: &Answer, at: &str, violations: &mut Vec<String>) -> Option<Value> {
    if !content_type_is(&answer.headers, "application/json") {
        violations.push(format!(
            "{at}: answer {} is not labelled application/json",
            answer.status
        ));
    }
    match serde_json::from_slice(&answer.body) {
        Ok(v) => Some(v),
        Err(e) => {
            violations.push(format!("{at}: answer {} is not JSON ({e})", answer.status));
            None
        }
    }
}

fn no_operation(sent: &Sent, provider: &str) -> Verdict {
    Verdict {
        operation: None,
        violations: vec![format!(
            "{} {} is not an operation of {provider}'s description",
            sent.method, sent.path
        )],
    }
}

// account grant): their structure, without the keys.

/// The header and claims of a compact JWS, undecoded signature left out.
pub fn jwt_parts(token: &str) -> Result<(Value, Value), String> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return Err(format!(
            "is not a compact JWT (3 parts), it has {}",
            parts.len()
        ));
    };
    let decode = |part: &str, what: &str| -> Result<Value, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|e| format!("its {what} is not unpadded base64url ({e})"))?;
        serde_json::from_slice(&bytes).map_err(|e| format!("its {what} is not JSON ({e})"))
    };
    if signature.is_empty() {
        return Err("has no signature".to_owned());
    }
    Ok((decode(header, "header")?, decode(claims, "claims")?))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Clock skew allowed on `exp`/`iat` between the test's client and fake (both local: small).
const SKEW: i64 = 60;

struct AssertionRules<'a> {
    what: &'a str,
    algorithms: &'a [&'a str],
    required: &'a [&'a str],
    /// `exp` at most this long after now (and after `iat` when given).
    max_lifetime: i64,
}

fn check_assertion(token: &str, rules: &AssertionRules<'_>, at: &str) -> Vec<String> {
    let what = rules.what;
    let (header, claims) = match jwt_parts(token) {
        Ok(parts) => parts,
        Err(e) => return vec![format!("{at}: the {what} {e}")],
    };
    let mut violations = Vec::new();
    match header["alg"].as_str() {
        Some(alg) if rules.algorithms.contains(&alg) => {}
        alg => violations.push(format!(
            "{at}: the {what}'s alg is {alg:?}, not one of {:?}",
            rules.algorithms
        )),
    }
    for claim in rules.required {
        if claims.get(*claim).is_none_or(Value::is_null) {
            violations.push(format!("{at}: the {what} has no `{claim}` claim"));
        }
    }
    for claim in ["exp", "iat", "nbf"] {
        if let Some(v) = claims.get(claim)
            && !v.is_i64()
            && !v.is_u64()
        {
            violations.push(format!("{at}: the {what}'s `{claim}` is not a NumericDate"));
        }
    }
    let now = now();
    if let Some(exp) = claims["exp"].as_i64() {
        if exp <= now - SKEW {
            violations.push(format!("{at}: the {what} has expired (exp {exp})"));
        }
        if exp > now + rules.max_lifetime + SKEW {
            violations.push(format!(
                "{at}: the {what}'s exp {exp} is more than {} s ahead",
                rules.max_lifetime
            ));
        }
        if let Some(iat) = claims["iat"].as_i64()
            && exp - iat > rules.max_lifetime
        {
            violations.push(format!(
                "{at}: the {what} lives {} s (exp - iat), more than {}",
                exp - iat,
                rules.max_lifetime
            ));
        }
    }
    if let Some(iat) = claims["iat"].as_i64()
        && iat > now + SKEW
    {
        violations.push(format!("{at}: the {what}'s iat {iat} is in the future"));
    }
    violations
}

fn form_map(sent: &Sent, at: &str, violations: &mut Vec<String>) -> BTreeMap<String, String> {
    let mut form = BTreeMap::new();
    for (name, value) in sent.form_pairs() {
        if form.contains_key(&name) {
            violations.push(format!("{at}: form field {name} is sent twice"));
        }
        form.insert(name, value);
    }
    form
}
