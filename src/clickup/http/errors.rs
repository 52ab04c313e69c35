//! ClickUp's errors as sentences a person can act on, keeping `err` and `ECODE` as ClickUp sent
//! them. [`DOCUMENTED`] lists every `ECODE` the API reference documents for the endpoints this
//! tool calls; each has its own sentence, and any other code is shown with ClickUp's own text.

use crate::clickup::WsError;
use crate::clickup::wire::api::{ErrorBody, preview};

/// Every `ECODE` the reference (`clickup-api.md` §2–§4) documents for these endpoints, and the
/// families the tool meets on them (`GROUP_*`, `TEAM_015`). Each has its own sentence below.
#[cfg(test)]
pub(crate) const DOCUMENTED: &[&str] = &[
    "OAUTH_007",
    "OAUTH_010",
    "OAUTH_017",
    "OAUTH_018",
    "OAUTH_019",
    "OAUTH_021",
    "OAUTH_023",
    "OAUTH_025",
    "OAUTH_026",
    "OAUTH_027",
    "OAUTH_029",
    "OAUTH_030",
    "OAUTH_031",
    "OAUTH_032",
    "OAUTH_033",
    "OAUTH_034",
    "OAUTH_035",
    "OAUTH_036",
    "OAUTH_037",
    "OAUTH_038",
    "OAUTH_039",
    "OAUTH_040",
    "OAUTH_041",
    "OAUTH_042",
    "OAUTH_043",
    "OAUTH_044",
    "OAUTH_045",
    "OAUTH_077",
    "OAUTH_192",
    "TEAM_110",
    "TEAM_015",
    "APP_002",
    "INPUT_002",
    "INPUT_003",
    "ACCESS_083",
    "ACCESS_190",
    "GROUP_001",
];

/// What went wrong, by `ECODE` (or by status when ClickUp sent none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Meaning {
    NoToken,
    BadToken,
    NotAuthorized,
    OauthFlow,
    NotEnterprise,
    RateLimited,
    InvalidId,
    NoAccess,
    NotFound,
    Group,
    /// `APP_001`: ClickUp has no such route, so the API base is not ClickUp's `/api/v2`.
    NoRoute,
    Unknown,
}

fn meaning(code: Option<&str>, status: u16, path: &str) -> Meaning {
    let Some(code) = code else {
        return match status {
            401 => Meaning::BadToken,
            403 => Meaning::NoAccess,
            404 if path.starts_with("group") => Meaning::Group,
            404 => Meaning::NotFound,
            429 => Meaning::RateLimited,
            _ => Meaning::Unknown,
        };
    };
    let oauth = code
        .strip_prefix("OAUTH_")
        .and_then(|n| n.parse::<u32>().ok());
    match (code, oauth) {
        ("OAUTH_017", _) => Meaning::NoToken,
        (_, Some(18 | 19 | 21 | 25 | 77)) => Meaning::BadToken,
        (_, Some(23 | 26 | 27 | 29..=45 | 192)) => Meaning::NotAuthorized,
        (_, Some(7 | 10)) => Meaning::OauthFlow,
        ("TEAM_110", _) => Meaning::NotEnterprise,
        ("APP_002", _) => Meaning::RateLimited,
        ("APP_001", _) => Meaning::NoRoute,
        ("INPUT_002" | "INPUT_003", _) => Meaning::InvalidId,
        ("ACCESS_083", _) => Meaning::NoAccess,
        ("ACCESS_190" | "TEAM_015", _) => Meaning::NotFound,
        (c, _) if c.starts_with("GROUP_") => Meaning::Group,
        _ => Meaning::Unknown,
    }
}

/// The error for a refused request (4xx, a 200 carrying an error, or 5xx once retries are
/// spent). `path` is the request's path below the API base (`group/…`, `team/…/user/…`);
/// `workspace` is the Workspace's id and where the user named it (`workspace.id`,
/// `--workspace`).
pub(crate) fn api_error(
    status: u16,
    body: &ErrorBody,
    raw: &[u8],
    workspace: (&str, &str),
    path: &str,
) -> WsError {
    let (team_id, named_by) = workspace;
    let ecode = body.ecode.as_deref().map(crate::escape::visible);
    let err = body.err.as_deref().map(crate::escape::visible);
    let code = ecode.as_deref();
    // What ClickUp said, as it said it: `CODE: err`, or what the answer holds when it is not
    // ClickUp's error shape.
    let said = match (code, err.as_deref()) {
        (Some(code), Some(err)) => format!("{code}: {err}"),
        (Some(code), None) => code.to_owned(),
        (None, Some(err)) => format!("HTTP {status}: {err}"),
        (None, None) if raw.iter().all(u8::is_ascii_whitespace) => {
            format!("HTTP {status}, no error message")
        }
        (None, None) => format!("HTTP {status}, not ClickUp's error shape: {}", preview(raw)),
    };
    let message = match meaning(code, status, path) {
        Meaning::NoToken => {
            format!("ClickUp received no token ({said}); set CLICKUP_TOKEN or CLICKUP_TOKEN_FILE")
        }
        Meaning::BadToken => format!(
            "the token is invalid or was revoked ({said}); set CLICKUP_TOKEN to a valid personal token (pk_…) or OAuth token"
        ),
        Meaning::NotAuthorized => format!(
            "the token cannot reach Workspace {team_id} ({said}); use a token of an admin of that Workspace, or check {named_by}"
        ),
        Meaning::OauthFlow => format!(
            "ClickUp refused an OAuth step ({said}); this tool takes a finished token: set CLICKUP_TOKEN to a personal token (pk_…) or an OAuth access token"
        ),
        Meaning::NotEnterprise => format!(
            "ClickUp refused: Workspace {team_id} is not on the Enterprise plan, which member, guest and sharing changes need ({said})"
        ),
        Meaning::RateLimited => format!("ClickUp rate-limited the request ({said})"),
        Meaning::InvalidId => format!(
            "ClickUp refused an id in the request as invalid ({said}); the person, group or shared item may have been removed in ClickUp, or the file names an id that does not exist: run plan again"
        ),
        Meaning::NoAccess => format!(
            "the token's user may not do this in Workspace {team_id} ({said}); use a token of a Workspace owner or admin"
        ),
        Meaning::NotFound => format!(
            "ClickUp does not find what this request names ({said}); it was probably changed or removed in ClickUp since the plan: run plan again"
        ),
        Meaning::Group => format!(
            "ClickUp refused the user group change ({said}); the group may have been renamed or deleted in ClickUp since the plan: run plan again"
        ),
        Meaning::NoRoute => format!(
            "ClickUp has no such route ({said}): --api-url (or CLICKUP_API_URL) must be ClickUp's API base, ending in /api/v2 (https://api.clickup.com/api/v2); check it, and any proxy in between"
        ),
        Meaning::Unknown if status >= 500 => format!("ClickUp failed with {said}"),
        Meaning::Unknown => format!("ClickUp refused the request with {said}"),
    };
    WsError {
        message,
        status: Some(status),
        ecode: body.ecode.clone(),
        err: body.err.clone(),
        transient: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: &str, err: &str) -> ErrorBody {
        ErrorBody {
            err: Some(err.into()),
            ecode: Some(code.into()),
        }
    }

    fn message(status: u16, code: &str, err: &str, path: &str) -> String {
        api_error(
            status,
            &body(code, err),
            b"{}",
            ("900", "workspace.id"),
            path,
        )
        .message
    }

    #[test]
    fn known_codes_become_sentences_with_err_and_ecode() {
        let e = api_error(
            403,
            &body("TEAM_110", "Team must be on enterprise plan"),
            b"{}",
            ("900", "workspace.id"),
            "team/900/user",
        );
        assert_eq!(
            e.message,
            "ClickUp refused: Workspace 900 is not on the Enterprise plan, which member, guest and sharing changes need (TEAM_110: Team must be on enterprise plan)"
        );
        assert_eq!(
            (e.status, e.ecode.as_deref()),
            (Some(403), Some("TEAM_110"))
        );
    }

    /// Every documented code, the sentence it gets: each names the code and ClickUp's text,
    /// and says what to do.
    #[test]
    fn every_documented_code_has_its_sentence() {
        let expected: &[(&str, u16, &str)] = &[
            (
                "OAUTH_007",
                400,
                "ClickUp refused an OAuth step (OAUTH_007: x); this tool takes a finished token: set CLICKUP_TOKEN to a personal token (pk_…) or an OAuth access token",
            ),
            (
                "OAUTH_010",
                400,
                "ClickUp refused an OAuth step (OAUTH_010: x); this tool takes a finished token: set CLICKUP_TOKEN to a personal token (pk_…) or an OAuth access token",
            ),
            (
                "OAUTH_017",
                400,
                "ClickUp received no token (OAUTH_017: x); set CLICKUP_TOKEN or CLICKUP_TOKEN_FILE",
            ),
            (
                "OAUTH_025",
                401,
                "the token is invalid or was revoked (OAUTH_025: x); set CLICKUP_TOKEN to a valid personal token (pk_…) or OAuth token",
            ),
            (
                "OAUTH_192",
                401,
                "the token cannot reach Workspace 900 (OAUTH_192: x); use a token of an admin of that Workspace, or check workspace.id",
            ),
            (
                "TEAM_110",
                403,
                "ClickUp refused: Workspace 900 is not on the Enterprise plan, which member, guest and sharing changes need (TEAM_110: x)",
            ),
            (
                "TEAM_015",
                400,
                "ClickUp does not find what this request names (TEAM_015: x); it was probably changed or removed in ClickUp since the plan: run plan again",
            ),
            (
                "APP_002",
                429,
                "ClickUp rate-limited the request (APP_002: x)",
            ),
            (
                "INPUT_002",
                400,
                "ClickUp refused an id in the request as invalid (INPUT_002: x); the person, group or shared item may have been removed in ClickUp, or the file names an id that does not exist: run plan again",
            ),
            (
                "INPUT_003",
                400,
                "ClickUp refused an id in the request as invalid (INPUT_003: x); the person, group or shared item may have been removed in ClickUp, or the file names an id that does not exist: run plan again",
            ),
            (
                "ACCESS_083",
                401,
                "the token's user may not do this in Workspace 900 (ACCESS_083: x); use a token of a Workspace owner or admin",
            ),
            (
                "ACCESS_190",
                404,
                "ClickUp does not find what this request names (ACCESS_190: x); it was probably changed or removed in ClickUp since the plan: run plan again",
            ),
            (
                "GROUP_001",
                404,
                "ClickUp refused the user group change (GROUP_001: x); the group may have been renamed or deleted in ClickUp since the plan: run plan again",
            ),
        ];
        for (code, status, sentence) in expected {
            assert_eq!(
                &message(*status, code, "x", "team/900/user"),
                sentence,
                "{code}"
            );
        }
        let bad_token = ["OAUTH_018", "OAUTH_019", "OAUTH_021", "OAUTH_077"];
        let not_authorized = (23..=45)
            .filter(|n| *n != 24 && *n != 25 && *n != 28)
            .map(|n| format!("OAUTH_{n:03}"));
        for code in DOCUMENTED {
            let m = message(401, code, "x", "team/900/user");
            assert!(m.contains(&format!("({code}: x)")), "{code}: {m}");
            assert!(
                !m.starts_with("ClickUp refused the request with"),
                "{code} has no sentence: {m}"
            );
        }
        for code in bad_token {
            assert!(
                message(401, code, "x", "user").starts_with("the token is invalid"),
                "{code}"
            );
        }
        for code in not_authorized {
            assert!(
                message(401, &code, "x", "team")
                    .starts_with("the token cannot reach Workspace 900"),
                "{code}"
            );
        }
    }

    #[test]
    fn without_an_ecode_the_status_and_the_answer_speak() {
        let none = ErrorBody::default();
        let m = |status, path, raw: &[u8]| {
            api_error(status, &none, raw, ("900", "workspace.id"), path).message
        };
        assert_eq!(
            m(401, "team", b""),
            "the token is invalid or was revoked (HTTP 401, no error message); set CLICKUP_TOKEN to a valid personal token (pk_…) or OAuth token"
        );
        assert!(m(403, "team/900/user", b"").starts_with(
            "the token's user may not do this in Workspace 900 (HTTP 403, no error message)"
        ));
        assert!(
            m(404, "group/abc", b"")
                .starts_with("ClickUp refused the user group change (HTTP 404, no error message)")
        );
        assert_eq!(
            m(422, "team/900/user", b""),
            "ClickUp refused the request with HTTP 422, no error message"
        );
        assert_eq!(
            m(502, "team", b"<html><body>Bad gateway</body></html>"),
            "ClickUp failed with HTTP 502, not ClickUp's error shape: it starts with \"<html><body>Bad gateway</body></html>\""
        );
    }

    #[test]
    fn an_unknown_code_is_shown_with_clickups_own_words() {
        let e = api_error(
            422,
            &body("TEAM_999", "Seat limit reached"),
            b"{}",
            ("900", "workspace.id"),
            "team/900/user",
        );
        assert_eq!(
            e.message,
            "ClickUp refused the request with TEAM_999: Seat limit reached"
        );
        let e = api_error(
            422,
            &ErrorBody {
                err: Some("Unprocessable".into()),
                ecode: None,
            },
            b"{}",
            ("900", "workspace.id"),
            "team/900/user",
        );
        assert_eq!(
            e.message,
            "ClickUp refused the request with HTTP 422: Unprocessable"
        );
    }

    #[test]
    fn team_110_and_oauth_codes_stop_the_writes() {
        for (code, stops) in [
            ("TEAM_110", true),
            ("OAUTH_025", true),
            ("OAUTH_027", true),
            ("INPUT_002", false),
            ("GROUP_001", false),
        ] {
            let e = api_error(
                401,
                &body(code, "x"),
                b"{}",
                ("900", "workspace.id"),
                "team",
            );
            assert_eq!(e.stops_all_writes(), stops, "{code}");
        }
        assert!(!WsError::local("timed out").stops_all_writes());
    }
}
