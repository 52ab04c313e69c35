//! ClickUp's shapes turned into the core model (`crate::live`): `teams[].members[]` into the
//! people (and the members this tool cannot tell, kept apart), custom roles, user groups and
//! guests' shares, each sorted so that the model is the same however ClickUp ordered them. A
//! snapshot file is read straight into the model, member by member. Pure: no I/O but the
//! reader it is handed.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use serde_with::serde_as;

use super::tolerant::Text;
use super::{
    CustomRole, Group, GuestDetail, GuestShares, Me, Seats, SnapshotDoc, TeamMember, User,
    WireError, WorkspacePlan, snapshot_error,
};
use crate::live::{self, Live};
use crate::model::{
    BaseRole, Email, GuestPermissions, Share, ShareKind, SharePermission, ShareTarget,
};

impl SnapshotDoc {
    /// The core model of this Workspace.
    pub(crate) fn to_live(&self) -> Live {
        self.clone().into_live()
    }

    /// The core model of this Workspace, taking the snapshot apart (no copy of its text).
    pub(crate) fn into_live(self) -> Live {
        let SnapshotDoc {
            team,
            custom_roles,
            groups,
            me,
            guests,
            plan: _,
            seats: _,
        } = self;
        let mut people = People::default();
        people.people.reserve(team.members.len());
        for member in team.members {
            people.push(member);
        }
        people.into_live(team.id, team.name, custom_roles, groups, me, &guests)
    }

    /// The core model of a snapshot file's JSON, with the subscription and seats it records,
    /// built as the members are read: neither the file's text nor ClickUp's shapes of 100,000
    /// people are ever all held.
    pub(crate) fn live_from_reader(reader: impl std::io::Read) -> Result<LiveRead, WireError> {
        let doc: LiveDoc = serde_json::from_reader(reader).map_err(|e| {
            if e.is_io() {
                WireError(format!("cannot read it: {e}"))
            } else {
                snapshot_error(&e)
            }
        })?;
        Ok(doc.into_read())
    }
}

/// A snapshot as the model needs it.
#[derive(Deserialize)]
struct LiveDoc {
    team: LiveTeam,
    #[serde(default)]
    custom_roles: Option<Vec<CustomRole>>,
    #[serde(default)]
    groups: Option<Vec<Group>>,
    me: Me,
    #[serde(default)]
    guests: Vec<GuestDetail>,
    #[serde(default)]
    plan: Option<WorkspacePlan>,
    #[serde(default)]
    seats: Option<Seats>,
}

#[serde_as]
#[derive(Deserialize)]
struct LiveTeam {
    #[serde_as(deserialize_as = "Text")]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    members: People,
}

impl LiveDoc {
    fn into_read(self) -> LiveRead {
        let LiveDoc {
            team,
            custom_roles,
            groups,
            me,
            guests,
            plan,
            seats,
        } = self;
        let live = team
            .members
            .into_live(team.id, team.name, custom_roles, groups, me, &guests);
        LiveRead { live, plan, seats }
    }
}

/// A Workspace read straight into the model, with what it records of its subscription.
#[derive(Debug)]
pub(crate) struct LiveRead {
    pub(crate) live: Live,
    pub(crate) plan: Option<WorkspacePlan>,
    pub(crate) seats: Option<Seats>,
}

/// `teams[].members[]` as the model's people, each converted as it is read.
#[derive(Debug, Default)]
struct People {
    people: Vec<live::Person>,
    unknown: Vec<live::UnknownRole>,
}

impl People {
    fn push(&mut self, member: TeamMember) {
        let permissions = member.permissions();
        let active = member.invited_by.as_ref().and_then(|i| i.status.as_deref()) == Some("active");
        let user = member.user;
        let role = match known_role(&user) {
            Ok(role) => role,
            Err(why) => {
                self.unknown.push(live::UnknownRole {
                    id: user.id,
                    email: user.email.map(Email::from_live_owned),
                    why: why.to_string(),
                });
                return;
            }
        };
        self.people.push(live::Person {
            id: user.id,
            email: Email::from_live_owned(user.email.unwrap_or_default()),
            username: user.username,
            role,
            custom_role: user.custom_role.map(|c| live::CustomRoleRef {
                id: c.id,
                name: c.name,
            }),
            pending: user.date_joined.is_none() && !active,
            permissions: if role == BaseRole::Guest {
                permissions
            } else {
                GuestPermissions::default()
            },
        });
    }

    fn into_live(
        self,
        workspace_id: String,
        workspace_name: String,
        custom_roles: Option<Vec<CustomRole>>,
        groups: Option<Vec<Group>>,
        me: Me,
        guests: &[GuestDetail],
    ) -> Live {
        let People {
            mut people,
            unknown: mut unknown_roles,
        } = self;
        people.sort_unstable_by(|a, b| a.email.cmp(&b.email).then(a.id.cmp(&b.id)));
        people.dedup_by(|b, a| a.email == b.email);
        unknown_roles.sort_by(|a, b| a.email.cmp(&b.email).then(a.id.cmp(&b.id)));

        let custom_roles = custom_roles.map(custom_roles_into_model);
        let groups = groups.map(groups_into_model);
        let shares: BTreeMap<_, _> = guests
            .iter()
            .map(|g| (g.user.id, g.shared.shares()))
            .collect();
        Live {
            workspace_id,
            workspace_name,
            me: live::Me {
                id: me.id,
                email: Email::from_live_owned(me.email),
            },
            people,
            unknown_roles,
            custom_roles,
            groups,
            shares,
            index: Default::default(),
        }
    }
}

impl<'de> Deserialize<'de> for People {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> Visitor<'de> for Members {
            type Value = People;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of members")
            }

            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<People, A::Error> {
                let mut people = People::default();
                people.people.reserve(seq.size_hint().unwrap_or(0));
                while let Some(member) = seq.next_element::<TeamMember>()? {
                    people.push(member);
                }
                Ok(people)
            }
        }
        d.deserialize_seq(Members)
    }
}

/// The custom roles, by id.
fn custom_roles_into_model(roles: Vec<CustomRole>) -> Vec<live::CustomRole> {
    let mut roles: Vec<live::CustomRole> = roles
        .into_iter()
        .map(|r| live::CustomRole {
            id: r.id,
            inherited: BaseRole::from_code(r.inherited_role),
            name: r.name,
        })
        .collect();
    roles.sort_by_key(|r| r.id);
    roles
}

/// The user groups, by name whatever its case, each with its members by email; an empty
/// handle is none.
fn groups_into_model(groups: Vec<Group>) -> Vec<live::LiveGroup> {
    let mut groups: Vec<live::LiveGroup> = groups
        .into_iter()
        .map(|g| {
            let mut members: Vec<_> = g
                .members
                .into_iter()
                .map(|m| (m.id, Email::from_live_owned(m.email)))
                .collect();
            members.sort_unstable_by(|a, b| a.1.cmp(&b.1));
            live::LiveGroup {
                id: g.id,
                name: g.name,
                handle: g.handle.filter(|h| !h.is_empty()),
                members,
            }
        })
        .collect();
    groups.sort_by_key(|g| g.name.to_lowercase());
    groups
}

/// The role and email of a member, or why this tool cannot tell them: no email, no role, a
/// role code it does not know, or a guest whose `role_subtype` is not the documented one (2).
fn known_role(user: &User) -> Result<BaseRole, Unknown> {
    if user.email.as_deref().is_none_or(|e| e.trim().is_empty()) {
        return Err(Unknown::NoEmail);
    }
    let Some(code) = user.role else {
        return Err(Unknown::NoRole);
    };
    let Some(role) = BaseRole::from_code(code) else {
        return Err(Unknown::Role(code));
    };
    if role == BaseRole::Guest
        && let Some(subtype) = user.role_subtype.filter(|s| *s != 2)
    {
        return Err(Unknown::GuestSubtype(subtype));
    }
    Ok(role)
}

/// Why a member of ClickUp's answer is not one this tool can manage.
#[derive(Debug, thiserror::Error)]
enum Unknown {
    #[error("no email in ClickUp's answer")]
    NoEmail,
    #[error("no role in ClickUp's answer")]
    NoRole,
    #[error("role code {0}, which ClickUp does not document")]
    Role(i64),
    #[error(
        "role 4 with role_subtype {0}: not the guest ClickUp documents (2), perhaps a limited member"
    )]
    GuestSubtype(i64),
}

impl GuestShares {
    /// The shares, sorted. An item without a known permission level reads as `read`.
    pub(crate) fn shares(&self) -> Vec<Share> {
        let mut shares: Vec<Share> = ShareKind::ALL
            .into_iter()
            .flat_map(|kind| {
                self.items(kind).iter().map(move |item| Share {
                    target: ShareTarget {
                        kind,
                        id: item.id.clone(),
                    },
                    permission: item
                        .permission_level
                        .as_deref()
                        .and_then(SharePermission::from_key)
                        .unwrap_or(SharePermission::Read),
                })
            })
            .collect();
        shares.sort();
        shares
    }
}
