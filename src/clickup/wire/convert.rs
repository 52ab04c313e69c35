//! ClickUp's shapes turned into the core model (`crate::live`): `teams[].members[]` into the
//! people (and the members this tool cannot tell, kept apart), custom roles, user groups and
//! guests' shares, each sorted so that the model is the same however ClickUp ordered them. A
//! snapshot file is read straight into the model, member by member. Pure: no I/O but the
//! reader it is handed.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use compact_str::CompactString;
use serde_with::serde_as;

use super::tolerant::Text;
use super::{
    CustomRole, Group, GuestDetail, GuestShares, Me, Seats, SnapshotDoc, TeamMember, User,
    WireError, WorkspacePlan, read_error,
};
use crate::live::{self, Live};
use crate::model::{
    BaseRole, Email, GuestPermissions, Share, ShareKind, SharePermission, ShareTarget,
};

impl SnapshotDoc {
    /// The core model of this Workspace, the document kept: only the texts the model holds
    /// are copied.
    pub(crate) fn to_live(&self) -> Live {
        let mut people = People::default();
        people.people.reserve(self.team.members.len());
        for member in &self.team.members {
            people.push_shared(member);
        }
        people.into_live(
            self.team.id.clone(),
            self.team.name.clone(),
            self.custom_roles.clone(),
            self.groups.clone(),
            self.me.clone(),
            &self.guests,
        )
    }

    /// The core model of this Workspace, taking the snapshot apart: the texts of the members
    /// no other copy shares move into the model.
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
            match std::sync::Arc::try_unwrap(member) {
                Ok(member) => people.push(member),
                Err(shared) => people.push_shared(&shared),
            }
        }
        people.into_live(team.id, team.name, custom_roles, groups, me, &guests)
    }

    /// The core model of a snapshot file's JSON, with the subscription and seats it records,
    /// built as the members are read: neither the file's text nor ClickUp's shapes of 100,000
    /// people are ever all held.
    pub(crate) fn live_from_reader(reader: impl std::io::Read) -> Result<LiveRead, WireError> {
        let doc: LiveDoc = serde_json::from_reader(reader).map_err(|e| read_error(&e))?;
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

/// The texts of a member that the model keeps: moved out of a member read for the model
/// alone, copied from one a document keeps.
struct Texts {
    email: Option<String>,
    username: Option<String>,
    custom_role_name: Option<String>,
}

impl People {
    /// A member of its own: its texts move into the model.
    fn push(&mut self, mut member: TeamMember) {
        let texts = Texts {
            email: member.user.email.take().map(CompactString::into_string),
            username: member.user.username.take().map(CompactString::into_string),
            custom_role_name: member.user.custom_role.as_mut().and_then(|c| c.name.take()),
        };
        self.add(&member, texts);
    }

    /// A member a document keeps: its texts are copied.
    fn push_shared(&mut self, member: &TeamMember) {
        let texts = Texts {
            email: member.user.email.as_deref().map(str::to_owned),
            username: member.user.username.as_deref().map(str::to_owned),
            custom_role_name: member
                .user
                .custom_role
                .as_ref()
                .and_then(|c| c.name.clone()),
        };
        self.add(member, texts);
    }

    fn add(&mut self, member: &TeamMember, texts: Texts) {
        let active = member.invited_by.as_ref().and_then(|i| i.status.as_deref()) == Some("active");
        let user = &member.user;
        let role = match known_role(user, texts.email.as_deref()) {
            Ok(role) => role,
            Err(why) => {
                self.unknown.push(live::UnknownRole {
                    id: user.id,
                    email: texts.email.map(Email::from_live_owned),
                    why: why.to_string(),
                });
                return;
            }
        };
        self.people.push(live::Person {
            id: user.id,
            email: Email::from_live_owned(texts.email.unwrap_or_default()),
            username: texts.username,
            role,
            custom_role: user.custom_role.as_ref().map(|c| live::CustomRoleRef {
                id: c.id,
                name: texts.custom_role_name,
            }),
            pending: user.date_joined.is_none() && !active,
            permissions: if role == BaseRole::Guest {
                member.permissions()
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

/// The role of a member with `email`, or why this tool cannot tell it: no email, no role, a
/// role code it does not know, or a guest whose `role_subtype` is not the documented one (2).
fn known_role(user: &User, email: Option<&str>) -> Result<BaseRole, Unknown> {
    if email.is_none_or(|e| e.trim().is_empty()) {
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
