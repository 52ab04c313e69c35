//! The bodies ClickUp's API v2 takes and the answers it gives, for the HTTP client: request
//! bodies built from a [`WriteOp`], answers parsed tolerantly into the snapshot types, and
//! ClickUp's error body (`{"err": …, "ECODE": …}`).

use serde::Deserialize;
use serde_json::{Map, Value, json};
use serde_with::serde_as;

use crate::clickup::wire::tolerant::{CustomRoleOrId, Id};
use crate::clickup::wire::{
    CustomRole, CustomRoleField, Group, GuestDetail, Me, Seats, Team, WireError, WorkspacePlan,
};
use crate::model::{Email, GuestFlag, GuestPermissions, ShareKind};
use crate::plan::ops::WriteOp;

/// ClickUp's error body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub(crate) err: Option<String>,
    #[serde(default, rename = "ECODE")]
    pub(crate) ecode: Option<String>,
}

impl ErrorBody {
    pub(crate) fn parse(bytes: &[u8]) -> ErrorBody {
        serde_json::from_slice(bytes).unwrap_or_default()
    }
}

/// Decodes an answer, or says which endpoint, which field and what was expected.
fn parse<'a, T: Deserialize<'a>>(bytes: &'a [u8], what: &str) -> Result<T, WireError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if !matches!(first, Some(b'{' | b'[')) {
        return Err(WireError(format!(
            "ClickUp's answer to {what} is not JSON: {}",
            preview(bytes)
        )));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let at = if path == "." || path.is_empty() {
            String::new()
        } else {
            format!(" at {path}")
        };
        let truncated = if inner.is_eof() {
            " (the answer was cut short)"
        } else {
            ""
        };
        WireError(format!(
            "ClickUp's answer to {what} could not be read{at}: {}{truncated}",
            super::strip_position(&inner.to_string())
        ))
    })?;
    deserializer.end().map_err(|_| {
        WireError(format!(
            "ClickUp's answer to {what} has text after its JSON"
        ))
    })?;
    Ok(value)
}

/// What an answer that is not JSON starts with, escaped and short: an HTML error page, a
/// proxy's message, nothing at all.
pub(crate) fn preview(bytes: &[u8]) -> String {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return "it is empty".to_owned();
    }
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]);
    let mut shown: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if shown.chars().count() > 60 {
        shown = shown.chars().take(60).collect::<String>() + "…";
    }
    format!("it starts with \"{}\"", shown.escape_debug())
}

/// `GET /user`.
pub(crate) fn parse_user(bytes: &[u8]) -> Result<Me, WireError> {
    #[derive(Deserialize)]
    struct Answer {
        user: Me,
    }
    parse::<Answer>(bytes, "GET /user").map(|a| a.user)
}

/// `GET /team`: every Workspace the token can see.
pub(crate) fn parse_teams(bytes: &[u8]) -> Result<Vec<Team>, WireError> {
    #[derive(Deserialize)]
    struct Answer {
        teams: Vec<Team>,
    }
    parse::<Answer>(bytes, "GET /team").map(|a| a.teams)
}

/// `GET /team/{id}/plan`.
pub(crate) fn parse_plan(bytes: &[u8]) -> Result<WorkspacePlan, WireError> {
    parse(bytes, "GET /team/{id}/plan")
}

/// `GET /team/{id}/seats`.
pub(crate) fn parse_seats(bytes: &[u8]) -> Result<Seats, WireError> {
    parse(bytes, "GET /team/{id}/seats")
}

/// `GET /team/{id}/customroles`.
pub(crate) fn parse_custom_roles(bytes: &[u8]) -> Result<Vec<CustomRole>, WireError> {
    #[derive(Deserialize)]
    struct Answer {
        #[serde(default)]
        custom_roles: Vec<CustomRole>,
    }
    parse::<Answer>(bytes, "GET /team/{id}/customroles").map(|a| a.custom_roles)
}

/// `GET /group?team_id=`.
pub(crate) fn parse_groups(bytes: &[u8]) -> Result<Vec<Group>, WireError> {
    #[derive(Deserialize)]
    struct Answer {
        #[serde(default)]
        groups: Vec<Group>,
    }
    parse::<Answer>(bytes, "GET /group").map(|a| a.groups)
}

/// `GET /team/{id}/guest/{id}`: `{"guest": {…}}` (the bare object is accepted too).
pub(crate) fn parse_guest(bytes: &[u8]) -> Result<GuestDetail, WireError> {
    let value: Value = parse(bytes, "GET /team/{id}/guest/{id}")?;
    let inner = match value {
        Value::Object(mut map) => match map.remove("guest").or_else(|| map.remove("member")) {
            Some(inner) => inner,
            None => Value::Object(map),
        },
        other => other,
    };
    serde_json::from_value(inner).map_err(|e| {
        WireError(format!(
            "ClickUp's answer to GET /team/{{id}}/guest/{{id}} could not be read: {e}"
        ))
    })
}

/// The new user's id in the answer to an invitation (`team.members[]`, found by email).
pub(crate) fn invited_user_id(bytes: &[u8], email: &Email) -> Option<i64> {
    #[derive(Deserialize)]
    struct Answer {
        team: Team,
    }
    let answer: Answer = serde_json::from_slice(bytes).ok()?;
    answer
        .team
        .members
        .iter()
        .find(|m| m.user.has_email(email))
        .map(|m| m.user.id)
}

/// What ClickUp's answer to Edit User (`{"member": {"user": …}}`) says the member now is: the
/// role code and the custom role.
pub(crate) fn edited_member(bytes: &[u8]) -> Result<(i64, Option<CustomRoleField>), WireError> {
    #[derive(Deserialize)]
    struct Answer {
        member: Member,
    }
    #[derive(Deserialize)]
    struct Member {
        user: EditedUser,
    }
    #[serde_as]
    #[derive(Deserialize)]
    struct EditedUser {
        #[serde_as(deserialize_as = "Id")]
        role: i64,
        #[serde_as(deserialize_as = "Option<CustomRoleOrId>")]
        #[serde(default)]
        custom_role: Option<CustomRoleField>,
    }
    parse::<Answer>(bytes, "PUT /team/{id}/user/{id}")
        .map(|a| (a.member.user.role, a.member.user.custom_role))
}

/// The new group's id in the answer to `POST /team/{id}/group` (the group object, unwrapped).
pub(crate) fn created_group_id(bytes: &[u8]) -> Option<String> {
    let group: Group = serde_json::from_slice(bytes).ok()?;
    Some(group.id)
}

fn permissions_into(permissions: &GuestPermissions, body: &mut Map<String, Value>) {
    for flag in GuestFlag::ALL {
        if let Some(value) = permissions.get(flag) {
            body.insert(flag.key().to_owned(), Value::Bool(value));
        }
    }
}

/// Method, path (under the API base) and body of a write.
pub(crate) fn request(op: &WriteOp, team_id: &str) -> (reqwest::Method, String, Option<Value>) {
    let (route, _) = op.route();
    (route.method(), op.path(team_id), body(op))
}

/// The body of a write, as ClickUp's request schema for it says.
fn body(op: &WriteOp) -> Option<Value> {
    match op {
        WriteOp::InviteMember {
            email,
            admin,
            custom_role_id,
        } => {
            let mut body = json!({ "email": email.as_str(), "admin": admin });
            if let Some(id) = custom_role_id {
                body["custom_role_id"] = json!(id);
            }
            Some(body)
        }
        WriteOp::EditMember {
            username,
            admin,
            custom_role_id,
            ..
        } => {
            // ClickUp requires the current username back. `custom_role_id` is an integer in
            // the official schema, never null: it is sent only for a custom role (SPEC §5, the
            // one deliberate deviation from the schema, which marks it required).
            let mut body = json!({ "admin": admin });
            if let Some(name) = username {
                body["username"] = json!(name);
            }
            if let Some(id) = custom_role_id {
                body["custom_role_id"] = json!(id);
            }
            Some(body)
        }
        WriteOp::InviteGuest {
            email,
            permissions,
            custom_role_id,
        } => {
            let mut body = Map::new();
            body.insert("email".into(), json!(email.as_str()));
            permissions_into(permissions, &mut body);
            if let Some(id) = custom_role_id {
                body.insert("custom_role_id".into(), json!(id));
            }
            Some(Value::Object(body))
        }
        WriteOp::EditGuest {
            permissions,
            custom_role_id,
            ..
        } => {
            let mut body = Map::new();
            permissions_into(permissions, &mut body);
            if let Some(id) = custom_role_id {
                body.insert("custom_role_id".into(), json!(id));
            }
            Some(Value::Object(body))
        }
        WriteOp::AddShare { share, .. } => {
            Some(json!({ "permission_level": share.permission.key() }))
        }
        WriteOp::CreateGroup {
            name,
            handle,
            member_ids,
        } => {
            let mut body = json!({ "name": name, "members": member_ids });
            if let Some(handle) = handle {
                body["handle"] = json!(handle);
            }
            Some(body)
        }
        WriteOp::UpdateGroup {
            handle,
            add,
            remove,
            ..
        } => {
            // Both lists are required whenever `members` is sent.
            let mut body = json!({ "members": { "add": add, "rem": remove } });
            if let Some(handle) = handle {
                body["handle"] = json!(handle);
            }
            Some(body)
        }
        WriteOp::RemoveMember { .. }
        | WriteOp::RemoveGuest { .. }
        | WriteOp::RemoveShare { .. }
        | WriteOp::DeleteGroup { .. } => None,
    }
}

/// An id as one path segment: everything but RFC 3986's unreserved characters is
/// percent-encoded, so no id can add a segment (`/`), a query (`?`) or climb (`..`).
pub(crate) fn segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Whether the ids a write puts into its path are what ClickUp's contract says they are:
/// user ids are numbers, folder and list ids are digits, task and group ids are not empty.
pub(crate) fn check_ids(op: &WriteOp) -> Result<(), WireError> {
    let user = |id: i64| {
        if id >= 0 {
            Ok(())
        } else {
            Err(WireError(format!("user id {id} is not a ClickUp user id")))
        }
    };
    let target = |kind: ShareKind, id: &str| {
        let ok = match kind {
            ShareKind::Task => !id.is_empty(),
            ShareKind::Folder | ShareKind::List => {
                !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
            }
        };
        if ok {
            Ok(())
        } else {
            Err(WireError(format!(
                "{} id \"{}\" is not a ClickUp {} id",
                kind.key(),
                id.escape_debug(),
                kind.key()
            )))
        }
    };
    let group = |id: &str| {
        if id.is_empty() {
            Err(WireError("an empty user group id".to_owned()))
        } else {
            Ok(())
        }
    };
    match op {
        WriteOp::InviteMember { .. } | WriteOp::InviteGuest { .. } => Ok(()),
        WriteOp::EditMember { user_id, .. }
        | WriteOp::RemoveMember { user_id }
        | WriteOp::EditGuest { user_id, .. }
        | WriteOp::RemoveGuest { user_id } => user(*user_id),
        WriteOp::AddShare { guest_id, share } => {
            user(*guest_id)?;
            target(share.target.kind, &share.target.id)
        }
        WriteOp::RemoveShare {
            guest_id,
            target: t,
        } => {
            user(*guest_id)?;
            target(t.kind, &t.id)
        }
        WriteOp::CreateGroup { member_ids, .. } => member_ids.iter().try_for_each(|id| user(*id)),
        WriteOp::UpdateGroup {
            group_id,
            add,
            remove,
            ..
        } => {
            group(group_id)?;
            add.iter().chain(remove).try_for_each(|id| user(*id))
        }
        WriteOp::DeleteGroup { group_id } => group(group_id),
    }
}
