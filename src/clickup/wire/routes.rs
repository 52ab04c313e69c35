//! Every ClickUp request this tool makes, in one table: method, route template (as ClickUp's
//! OpenAPI writes it, below `/api/v2`) and what it does. The HTTP client builds its paths from
//! it, and reports, the audit log and progress lines name requests by it; a test checks each
//! row against the official OpenAPI.

use crate::clickup::wire::api::segment;
use crate::model::ShareKind;
use crate::plan::ops::WriteOp;

/// One kind of request to ClickUp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    GetUser,
    GetTeams,
    GetPlan,
    GetSeats,
    GetCustomRoles,
    GetGroups,
    GetGuest,
    InviteMember,
    EditMember,
    RemoveMember,
    InviteGuest,
    EditGuest,
    RemoveGuest,
    ShareFolder,
    UnshareFolder,
    ShareList,
    UnshareList,
    ShareTask,
    UnshareTask,
    CreateGroup,
    UpdateGroup,
    DeleteGroup,
}

/// `(route, method, template, what it does)`.
#[rustfmt::skip]
const TABLE: &[(Route, &str, &str, &str)] = &[
    (Route::GetUser,        "GET",    "/user",                                "read the token's user"),
    (Route::GetTeams,       "GET",    "/team",                                "read the Workspaces and their members"),
    (Route::GetPlan,        "GET",    "/team/{team_id}/plan",                 "read the Workspace's plan"),
    (Route::GetSeats,       "GET",    "/team/{team_id}/seats",                "read the Workspace's seats"),
    (Route::GetCustomRoles, "GET",    "/team/{team_id}/customroles",          "read the custom roles"),
    (Route::GetGroups,      "GET",    "/group",                               "read the user groups"),
    (Route::GetGuest,       "GET",    "/team/{team_id}/guest/{guest_id}",     "read what is shared with a guest"),
    (Route::InviteMember,   "POST",   "/team/{team_id}/user",                 "invite a member"),
    (Route::EditMember,     "PUT",    "/team/{team_id}/user/{user_id}",       "change a member's role"),
    (Route::RemoveMember,   "DELETE", "/team/{team_id}/user/{user_id}",       "remove a member"),
    (Route::InviteGuest,    "POST",   "/team/{team_id}/guest",                "invite a guest"),
    (Route::EditGuest,      "PUT",    "/team/{team_id}/guest/{guest_id}",     "change a guest's settings"),
    (Route::RemoveGuest,    "DELETE", "/team/{team_id}/guest/{guest_id}",     "remove a guest"),
    (Route::ShareFolder,    "POST",   "/folder/{folder_id}/guest/{guest_id}", "share a folder with a guest"),
    (Route::UnshareFolder,  "DELETE", "/folder/{folder_id}/guest/{guest_id}", "stop sharing a folder with a guest"),
    (Route::ShareList,      "POST",   "/list/{list_id}/guest/{guest_id}",     "share a list with a guest"),
    (Route::UnshareList,    "DELETE", "/list/{list_id}/guest/{guest_id}",     "stop sharing a list with a guest"),
    (Route::ShareTask,      "POST",   "/task/{task_id}/guest/{guest_id}",     "share a task with a guest"),
    (Route::UnshareTask,    "DELETE", "/task/{task_id}/guest/{guest_id}",     "stop sharing a task with a guest"),
    (Route::CreateGroup,    "POST",   "/team/{team_id}/group",                "create a user group"),
    (Route::UpdateGroup,    "PUT",    "/group/{group_id}",                    "change a user group"),
    (Route::DeleteGroup,    "DELETE", "/group/{group_id}",                    "delete a user group"),
];

impl Route {
    fn row(self) -> &'static (Route, &'static str, &'static str, &'static str) {
        TABLE.iter().find(|row| row.0 == self).unwrap_or(&TABLE[0])
    }

    pub(crate) fn method(self) -> reqwest::Method {
        match self.row().1 {
            "POST" => reqwest::Method::POST,
            "PUT" => reqwest::Method::PUT,
            "DELETE" => reqwest::Method::DELETE,
            _ => reqwest::Method::GET,
        }
    }

    /// The method's name: `GET`, `POST`, `PUT`, `DELETE`.
    pub(crate) fn method_name(self) -> &'static str {
        self.row().1
    }

    /// The route as ClickUp's OpenAPI writes it: `/team/{team_id}/user/{user_id}`.
    pub(crate) fn template(self) -> &'static str {
        self.row().2
    }

    /// What the request does, for people.
    pub(crate) fn what(self) -> &'static str {
        self.row().3
    }

    /// The path below the API base, each `{…}` filled with the next of `values`,
    /// percent-encoded: `team/900/user/5`.
    pub(crate) fn path(self, values: &[&str]) -> String {
        self.fill(values, segment)
            .trim_start_matches('/')
            .to_owned()
    }

    /// The route of a request: its method and a path below the API base (`team/9/user/5`,
    /// without the query). `None` for a request this tool does not make.
    pub(crate) fn of(method: &str, path: &str) -> Option<Route> {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        TABLE.iter().map(|row| row.0).find(|route| {
            let template: Vec<&str> = route
                .template()
                .split('/')
                .filter(|p| !p.is_empty())
                .collect();
            route.method_name() == method
                && template.len() == parts.len()
                && template
                    .iter()
                    .zip(&parts)
                    .all(|(t, p)| t.starts_with('{') || t == p)
        })
    }

    /// The request as reports name it: `PUT /team/{id}/user/5` (the Workspace id is the same
    /// in every request, so it stays a placeholder).
    pub(crate) fn name(self, values: &[&str]) -> String {
        let shown = self.fill(values, |v| {
            if v == "{id}" {
                v.to_owned()
            } else {
                segment(v)
            }
        });
        format!("{} {shown}", self.row().1)
    }

    fn fill(self, values: &[&str], encode: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        let mut values = values.iter();
        for part in self.template().split('/').filter(|p| !p.is_empty()) {
            out.push('/');
            if part.starts_with('{') {
                out.push_str(&values.next().map_or_else(String::new, |v| encode(v)));
            } else {
                out.push_str(part);
            }
        }
        out
    }

    fn share(kind: ShareKind, add: bool) -> Route {
        match (kind, add) {
            (ShareKind::Folder, true) => Route::ShareFolder,
            (ShareKind::Folder, false) => Route::UnshareFolder,
            (ShareKind::List, true) => Route::ShareList,
            (ShareKind::List, false) => Route::UnshareList,
            (ShareKind::Task, true) => Route::ShareTask,
            (ShareKind::Task, false) => Route::UnshareTask,
        }
    }
}

impl WriteOp {
    /// The request this write is, and the values of its route's `{…}` after the Workspace id
    /// (which is `team_id` where the route has one).
    pub(crate) fn route(&self) -> (Route, Vec<String>) {
        match self {
            WriteOp::InviteMember { .. } => (Route::InviteMember, Vec::new()),
            WriteOp::EditMember { user_id, .. } => (Route::EditMember, vec![user_id.to_string()]),
            WriteOp::RemoveMember { user_id } => (Route::RemoveMember, vec![user_id.to_string()]),
            WriteOp::InviteGuest { .. } => (Route::InviteGuest, Vec::new()),
            WriteOp::EditGuest { user_id, .. } => (Route::EditGuest, vec![user_id.to_string()]),
            WriteOp::RemoveGuest { user_id } => (Route::RemoveGuest, vec![user_id.to_string()]),
            WriteOp::AddShare { guest_id, share } => (
                Route::share(share.target.kind, true),
                vec![share.target.id.clone(), guest_id.to_string()],
            ),
            WriteOp::RemoveShare { guest_id, target } => (
                Route::share(target.kind, false),
                vec![target.id.clone(), guest_id.to_string()],
            ),
            WriteOp::CreateGroup { .. } => (Route::CreateGroup, Vec::new()),
            WriteOp::UpdateGroup { group_id, .. } => (Route::UpdateGroup, vec![group_id.clone()]),
            WriteOp::DeleteGroup { group_id } => (Route::DeleteGroup, vec![group_id.clone()]),
        }
    }

    /// The values of the route's `{…}`, the Workspace id first where the route has one.
    fn values<'a>(&'a self, team_id: &'a str, rest: &'a [String]) -> Vec<&'a str> {
        let (route, _) = self.route();
        let mut values = Vec::with_capacity(rest.len() + 1);
        if route.template().starts_with("/team/{team_id}") {
            values.push(team_id);
        }
        values.extend(rest.iter().map(String::as_str));
        values
    }

    /// The path below the API base for Workspace `team_id`.
    pub(crate) fn path(&self, team_id: &str) -> String {
        let (route, rest) = self.route();
        route.path(&self.values(team_id, &rest))
    }

    /// The request as reports and logs name it: `POST /team/{id}/user`.
    pub(crate) fn request_name(&self) -> String {
        let (route, rest) = self.route();
        route.name(&self.values("{id}", &rest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row is an operation of ClickUp's official OpenAPI, with that method.
    #[test]
    fn every_route_is_an_operation_of_the_official_api() {
        let doc: serde_json::Value = serde_json::from_str(include_str!(
            "../../../tests/contract/clickup-openapi-membership.json"
        ))
        .expect("json");
        for (route, method, template, what) in TABLE {
            let operation = &doc["paths"][format!("/v2{template}")][method.to_lowercase()];
            assert!(
                operation.is_object(),
                "{route:?}: {method} {template} is not in the official API"
            );
            assert!(!what.is_empty());
            assert_eq!(route.row().0, *route, "one row per route");
        }
    }

    #[test]
    fn every_path_sent_is_known_by_its_route() {
        for row in TABLE {
            let values = ["900", "5", "7"];
            let path = row.0.path(&values[..row.2.matches('{').count()]);
            assert_eq!(Route::of(row.1, &path), Some(row.0), "{} {path}", row.1);
        }
        assert_eq!(Route::of("GET", "team/900/nothing"), None);
        assert_eq!(Route::of("PATCH", "team/900/user/5"), None);
    }

    #[test]
    fn paths_are_filled_and_encoded_and_names_keep_the_workspace_a_placeholder() {
        assert_eq!(Route::GetPlan.path(&["900"]), "team/900/plan");
        assert_eq!(Route::GetTeams.path(&[]), "team");
        let op = WriteOp::RemoveMember { user_id: 5 };
        assert_eq!(op.path("900"), "team/900/user/5");
        assert_eq!(op.request_name(), "DELETE /team/{id}/user/5");
        let op = WriteOp::DeleteGroup {
            group_id: "a/b".into(),
        };
        assert_eq!(op.path("900"), "group/a%2Fb");
        assert_eq!(Route::EditMember.what(), "change a member's role");
    }
}
