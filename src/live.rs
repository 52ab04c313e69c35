//! The live Workspace as the plan sees it: people with their role and state, custom roles, user
//! groups and guests' shares, normalised (emails lower-case, sorted) and free of ClickUp's JSON,
//! which `wire` turns into this. No I/O here.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{BaseRole, Email, GuestPermissions, Share, UserId};

/// The Workspace as it stands, as read from ClickUp or a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Live {
    pub(crate) workspace_id: String,
    pub(crate) workspace_name: String,
    /// The user the token belongs to.
    pub(crate) me: Me,
    /// Everyone with a known role, sorted by email.
    pub(crate) people: Vec<Person>,
    /// People whose role code this tool does not know: never touched, only reported.
    pub(crate) unknown_roles: Vec<UnknownRole>,
    /// `None` when they were not read (the file names no custom role).
    pub(crate) custom_roles: Option<Vec<CustomRole>>,
    /// `None` when they were not read (the file has no `groups` key).
    pub(crate) groups: Option<Vec<LiveGroup>>,
    /// The shares of the guests that were read (those whose `access` the file manages).
    pub(crate) shares: BTreeMap<UserId, Vec<Share>>,
    /// Where each person is in `people`, built at the first lookup.
    #[serde(skip)]
    pub(crate) index: PeopleIndex,
}

/// Where each person is in [`Live::people`], by a hash of their email, sorted: a lookup
/// searches 8 bytes a person held together, where a binary search over the people themselves
/// misses the cache at nearly every step of 100,000. A hit is checked against the person
/// found, and a miss is searched for, so an index built before `people` changed still answers
/// right.
#[derive(Debug, Clone, Default)]
pub(crate) struct PeopleIndex(std::sync::OnceLock<Vec<(u32, u32)>>);

impl PartialEq for PeopleIndex {
    /// Derived from `people`: it does not make two Workspaces differ.
    fn eq(&self, _: &PeopleIndex) -> bool {
        true
    }
}

fn email_hash(email: &Email) -> u32 {
    use std::hash::BuildHasher;
    let hash = foldhash::fast::FixedState::with_seed(0x5eed).hash_one(email.as_str());
    (hash >> 32) as u32
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Me {
    pub(crate) id: UserId,
    pub(crate) email: Email,
}

/// One member or guest of the Workspace, or a pending invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Person {
    pub(crate) id: UserId,
    pub(crate) email: Email,
    /// ClickUp wants it back when a member's role is edited; `None` for most invitees.
    pub(crate) username: Option<String>,
    pub(crate) role: BaseRole,
    pub(crate) custom_role: Option<CustomRoleRef>,
    /// Invited but not joined yet (`date_joined` is null).
    pub(crate) pending: bool,
    /// Only for guests; all unset for members.
    pub(crate) permissions: GuestPermissions,
}

/// Someone ClickUp lists without an email or with a role this tool does not know: never
/// changed, removed or invited, only reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct UnknownRole {
    pub(crate) id: UserId,
    pub(crate) email: Option<Email>,
    /// What ClickUp's answer lacked or said that is not known ("no email", "role code 7").
    pub(crate) why: String,
}

impl UnknownRole {
    /// `a@x.example (role code 7)`, or `user 123 (no email)`.
    pub(crate) fn describe(&self) -> String {
        match &self.email {
            Some(email) => format!("{email} ({})", self.why),
            None => format!("user {} ({})", self.id, self.why),
        }
    }
}

/// A custom role as a person carries it: ClickUp may send only its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct CustomRoleRef {
    pub(crate) id: i64,
    pub(crate) name: Option<String>,
}

/// A custom role of the Workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct CustomRole {
    pub(crate) id: i64,
    pub(crate) name: String,
    /// The built-in role it extends; `None` for a code this tool does not know.
    pub(crate) inherited: Option<BaseRole>,
}

/// A user group and its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct LiveGroup {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) handle: Option<String>,
    /// Sorted by email.
    pub(crate) members: Vec<(UserId, Email)>,
}

impl Live {
    #[cfg(test)]
    pub(crate) fn person(&self, email: &Email) -> Option<&Person> {
        self.position(email).map(|i| &self.people[i])
    }

    /// Where the person with this email is in [`Live::people`].
    pub(crate) fn position(&self, email: &Email) -> Option<usize> {
        let index = self.index_people();
        let hash = email_hash(email);
        let first = index.partition_point(|(h, _)| *h < hash);
        let found = index[first..]
            .iter()
            .take_while(|(h, _)| *h == hash)
            .map(|(_, i)| *i as usize)
            .find(|i| self.people.get(*i).is_some_and(|p| p.email == *email));
        found.or_else(|| self.people.binary_search_by(|p| p.email.cmp(email)).ok())
    }

    /// Builds the index of people by email now, rather than at the first lookup.
    pub(crate) fn index_people(&self) -> &[(u32, u32)] {
        self.index.0.get_or_init(|| {
            let mut index: Vec<(u32, u32)> = self
                .people
                .iter()
                .enumerate()
                .map(|(i, p)| (email_hash(&p.email), u32::try_from(i).unwrap_or(u32::MAX)))
                .collect();
            index.sort_unstable();
            index
        })
    }

    pub(crate) fn owner(&self) -> Option<&Person> {
        self.people.iter().find(|p| p.role == BaseRole::Owner)
    }

    /// The custom role of this name (case-insensitive), if the roles were read.
    pub(crate) fn custom_role_named(&self, name: &str) -> Option<&CustomRole> {
        let wanted = name.to_lowercase();
        self.custom_roles
            .iter()
            .flatten()
            .find(|r| r.name.to_lowercase() == wanted)
    }

    pub(crate) fn custom_role_name(&self, role: &CustomRoleRef) -> String {
        role.name
            .clone()
            .or_else(|| {
                self.custom_roles
                    .iter()
                    .flatten()
                    .find(|r| r.id == role.id)
                    .map(|r| r.name.clone())
            })
            .unwrap_or_else(|| format!("custom role {}", role.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(email: &str, id: UserId) -> Person {
        Person {
            id,
            email: Email::from_live(email),
            username: None,
            role: BaseRole::Member,
            custom_role: None,
            pending: false,
            permissions: GuestPermissions::default(),
        }
    }

    #[test]
    fn the_index_answers_right_even_when_people_changed_after_it_was_built() {
        let mut live = Live {
            workspace_id: "1".into(),
            workspace_name: "W".into(),
            me: Me {
                id: 1,
                email: Email::from_live("a@x.example"),
            },
            people: vec![person("a@x.example", 1), person("c@x.example", 3)],
            unknown_roles: Vec::new(),
            custom_roles: None,
            groups: None,
            shares: BTreeMap::new(),
            index: PeopleIndex::default(),
        };
        let c = Email::from_live("c@x.example");
        assert_eq!(live.person(&c).map(|p| p.id), Some(3));
        // b comes before c: the index built above now points c at b.
        live.people.insert(1, person("b@x.example", 2));
        assert_eq!(live.person(&c).map(|p| p.id), Some(3));
        assert_eq!(
            live.person(&Email::from_live("b@x.example")).map(|p| p.id),
            Some(2)
        );
        assert!(live.person(&Email::from_live("d@x.example")).is_none());
    }
}
