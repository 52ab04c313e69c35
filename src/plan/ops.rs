//! The writes a plan becomes: one request to ClickUp each, and what a successful one created.
//! Plain data, shared by the apply engine, the state's journal and every backend.

use serde::{Deserialize, Serialize};

use crate::model::{Email, GuestPermissions, Share, ShareTarget, UserId};

/// One write request to ClickUp.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(crate) enum WriteOp {
    InviteMember {
        email: Email,
        admin: bool,
        custom_role_id: Option<i64>,
    },
    EditMember {
        user_id: UserId,
        username: Option<String>,
        admin: bool,
        custom_role_id: Option<i64>,
    },
    RemoveMember {
        user_id: UserId,
    },
    InviteGuest {
        email: Email,
        permissions: GuestPermissions,
        custom_role_id: Option<i64>,
    },
    EditGuest {
        user_id: UserId,
        permissions: GuestPermissions,
        custom_role_id: Option<i64>,
    },
    RemoveGuest {
        user_id: UserId,
    },
    AddShare {
        guest_id: UserId,
        share: Share,
    },
    RemoveShare {
        guest_id: UserId,
        target: ShareTarget,
    },
    CreateGroup {
        name: String,
        handle: Option<String>,
        member_ids: Vec<UserId>,
    },
    UpdateGroup {
        group_id: String,
        handle: Option<String>,
        add: Vec<UserId>,
        remove: Vec<UserId>,
    },
    DeleteGroup {
        group_id: String,
    },
}

/// What a successful write created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub(crate) enum WriteOutcome {
    Done,
    Invited { user_id: UserId },
    GroupCreated { group_id: String },
}
