//! What a members file means, free of its order and layout: the lists sorted, comments and
//! formatting gone. The plan's `config_digest` is made of it, and `fmt` must keep it. Pure.

use serde::Serialize;

use crate::config::{
    AdminBounds, At, DEFAULT_EXPIRY_NOTICE_DAYS, Guest, Member, MembersFile, Mode, SeatBounds,
    WorkspaceSection,
};
use crate::model::Email;

impl MembersFile {
    /// What the file says, free of order and layout (lists sorted, comments and formatting
    /// gone), as compact JSON written to `out`. Two files with the same meaning plan the same,
    /// and `fmt` must keep it.
    pub(crate) fn write_meaning(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        fn sorted<T>(items: &[T], key: impl Fn(&T) -> &str) -> Vec<&T> {
            let mut refs: Vec<&T> = items.iter().collect();
            refs.sort_by(|a, b| key(a).cmp(key(b)));
            refs
        }
        #[derive(Serialize)]
        struct GroupMeaning<'a> {
            name: &'a At<String>,
            handle: &'a Option<At<String>>,
            members: Vec<&'a At<Email>>,
        }
        #[derive(Serialize)]
        struct PolicyMeaning<'a> {
            mode: Mode,
            max_removals: u32,
            protected: Vec<&'a At<Email>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            member_domains: Option<Vec<&'a At<String>>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            admins: Option<&'a AdminBounds>,
            #[serde(skip_serializing_if = "Option::is_none")]
            seats: Option<&'a SeatBounds>,
            #[serde(skip_serializing_if = "is_default_notice")]
            expiry_notice_days: u32,
        }
        fn is_default_notice(days: &u32) -> bool {
            *days == DEFAULT_EXPIRY_NOTICE_DAYS
        }
        #[derive(Serialize)]
        struct Meaning<'a> {
            version: u32,
            workspace: &'a WorkspaceSection,
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            include: &'a [At<String>],
            policy: PolicyMeaning<'a>,
            members: Vec<&'a Member>,
            guests: Vec<&'a Guest>,
            groups: Option<Vec<GroupMeaning<'a>>>,
        }
        let mut groups: Option<Vec<GroupMeaning<'_>>> = self.groups.as_ref().map(|groups| {
            groups
                .iter()
                .map(|g| GroupMeaning {
                    name: &g.name,
                    handle: &g.handle,
                    members: sorted(&g.members, |m| m.value.as_str()),
                })
                .collect()
        });
        if let Some(groups) = &mut groups {
            groups.sort_by_cached_key(|g| g.name.value.to_lowercase());
        }
        let meaning = Meaning {
            version: self.version,
            workspace: &self.workspace,
            include: &self.include,
            policy: PolicyMeaning {
                mode: self.policy.mode,
                max_removals: self.policy.max_removals,
                protected: sorted(&self.policy.protected, |p| p.value.as_str()),
                member_domains: self
                    .policy
                    .member_domains
                    .as_ref()
                    .map(|d| sorted(d, |d| d.value.as_str())),
                admins: self.policy.admins.as_ref(),
                seats: self.policy.seats.as_ref(),
                expiry_notice_days: self.policy.expiry_notice_days,
            },
            members: sorted(&self.members, |m| m.email.value.as_str()),
            guests: sorted(&self.guests, |g| g.email.value.as_str()),
            groups,
        };
        serde_json::to_writer(out, &meaning).map_err(std::io::Error::other)
    }

    /// [`MembersFile::write_meaning`] in memory, to compare two files.
    pub(crate) fn meaning(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let _ = self.write_meaning(&mut out);
        out
    }
}
