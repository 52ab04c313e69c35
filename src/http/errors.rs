//! ClickUp's errors as sentences a person can act on, keeping `err` and `ECODE` as ClickUp sent
//! them.

use crate::wire::api::ErrorBody;
use crate::workspace::WsError;

/// The error for a refused request (4xx, or 5xx once retries are spent).
pub(crate) fn api_error(status: u16, body: &ErrorBody, team_id: &str) -> WsError {
    let code = body.ecode.as_deref().unwrap_or("");
    let said = match (&body.ecode, &body.err) {
        (Some(code), Some(err)) => format!("{code}: {err}"),
        (Some(code), None) => code.clone(),
        (None, Some(err)) => err.clone(),
        (None, None) => format!("HTTP {status}"),
    };
    let message = match code {
        "TEAM_110" => format!(
            "ClickUp refused: Workspace {team_id} is not on the Enterprise plan, which member, guest and sharing changes need ({said})"
        ),
        "OAUTH_017" => {
            format!("ClickUp received no token ({said}); set CLICKUP_TOKEN or CLICKUP_TOKEN_FILE")
        }
        "OAUTH_018" | "OAUTH_019" | "OAUTH_021" | "OAUTH_025" | "OAUTH_077" => format!(
            "the token is invalid or was revoked ({said}); set CLICKUP_TOKEN to a valid personal token (pk_…) or OAuth token"
        ),
        "OAUTH_023" | "OAUTH_026" | "OAUTH_027" | "OAUTH_192" => format!(
            "the token cannot reach Workspace {team_id} ({said}); use a token of an admin of that Workspace, or check workspace.id"
        ),
        c if is_team_not_authorized(c) => format!(
            "the token cannot reach Workspace {team_id} ({said}); use a token of an admin of that Workspace, or check workspace.id"
        ),
        "APP_002" => format!("ClickUp rate-limited the request ({said})"),
        _ if status >= 500 => format!("ClickUp failed with HTTP {status} ({said})"),
        _ => format!("ClickUp answered HTTP {status} ({said})"),
    };
    WsError {
        message,
        status: Some(status),
        ecode: body.ecode.clone(),
        err: body.err.clone(),
    }
}

/// `OAUTH_029` to `OAUTH_045`: "Team not authorized".
fn is_team_not_authorized(code: &str) -> bool {
    code.strip_prefix("OAUTH_")
        .and_then(|n| n.parse::<u32>().ok())
        .is_some_and(|n| (29..=45).contains(&n))
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

    #[test]
    fn known_codes_become_sentences_with_err_and_ecode() {
        let e = api_error(
            403,
            &body("TEAM_110", "Team must be on enterprise plan"),
            "900",
        );
        assert_eq!(
            e.message,
            "ClickUp refused: Workspace 900 is not on the Enterprise plan, which member, guest and sharing changes need (TEAM_110: Team must be on enterprise plan)"
        );
        assert_eq!(
            (e.status, e.ecode.as_deref()),
            (Some(403), Some("TEAM_110"))
        );
        assert!(
            api_error(401, &body("OAUTH_025", "Token invalid"), "900")
                .message
                .starts_with("the token is invalid or was revoked (OAUTH_025: Token invalid)")
        );
        for code in ["OAUTH_023", "OAUTH_027", "OAUTH_192", "OAUTH_031"] {
            assert!(
                api_error(401, &body(code, "x"), "900")
                    .message
                    .starts_with("the token cannot reach Workspace 900")
            );
        }
    }

    #[test]
    fn other_codes_are_shown_as_they_are() {
        let e = api_error(400, &body("INPUT_002", "Invalid id"), "900");
        assert_eq!(
            e.message,
            "ClickUp answered HTTP 400 (INPUT_002: Invalid id)"
        );
    }
}
