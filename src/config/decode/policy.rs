//! `policy:`: how far the tool may go. Each key is decoded on its own and a bad one falls back
//! to its default, so that the rest of the file is still checked. Pure.

use crate::config::decode::values::whole;
use crate::config::decode::{Decoder, closest};
use crate::config::{
    AdminBounds, At, DEFAULT_EXPIRY_NOTICE_DAYS, DEFAULT_MAX_REMOVALS, Mode, Policy, SeatBounds,
    keys,
};
use crate::diag::{Diagnostic, Loc};
use crate::model::Email;
use crate::yaml::{Node, Value};

impl Decoder {
    pub(super) fn policy(&mut self, node: &Node) -> Option<Policy> {
        let fields = self.map(node, "policy", keys::POLICY)?;
        let mode = fields
            .get("mode")
            .map_or(Some(Mode::default()), |n| self.mode(n));
        let max_removals = fields
            .get("max_removals")
            .map_or(Some(DEFAULT_MAX_REMOVALS), |n| self.max_removals(n));
        let protected = fields
            .get("protected")
            .map_or(Some(Vec::new()), |n| self.protected(n));
        let member_domains = fields
            .get("member_domains")
            .map(|n| self.member_domains(n, fields.key_loc("member_domains")));
        let admins = fields
            .get("admins")
            .and_then(|n| self.admins(n, fields.key_loc("admins")));
        let seats = fields
            .get("seats")
            .and_then(|n| self.seats(n, fields.key_loc("seats")));
        let expiry_notice_days = fields
            .get("expiry_notice_days")
            .map_or(DEFAULT_EXPIRY_NOTICE_DAYS, |n| self.expiry_notice_days(n));
        Some(Policy {
            mode: mode.unwrap_or_default(),
            max_removals: max_removals.unwrap_or(DEFAULT_MAX_REMOVALS),
            protected: protected.unwrap_or_default(),
            member_domains,
            admins,
            seats,
            expiry_notice_days,
        })
    }

    /// `policy.mode`: additive or authoritative, with a suggestion for a misspelt one.
    fn mode(&mut self, node: &Node) -> Option<Mode> {
        match &node.value {
            Value::Str(s) if s == "additive" => return Some(Mode::Additive),
            Value::Str(s) if s == "authoritative" => return Some(Mode::Authoritative),
            _ => {}
        }
        let found = match &node.value {
            Value::Str(s) => format!("\"{s}\""),
            other => other.describe().to_owned(),
        };
        let mut diag = Diagnostic::new(
            node.loc,
            format!("policy.mode must be additive or authoritative, not {found}"),
        )
        .label("unknown mode");
        if let Value::Str(s) = &node.value
            && let Some(near) = closest(s, &[Mode::Additive.name(), Mode::Authoritative.name()])
        {
            diag = diag.help(format!("did you mean \"{near}\"?"));
        }
        self.diags.push(diag);
        None
    }

    /// `policy.max_removals`: a whole number, 0 (no removal at all) or more.
    fn max_removals(&mut self, node: &Node) -> Option<u32> {
        match whole(&node.value) {
            Some(i) if (0..=i128::from(u32::MAX)).contains(&i) => u32::try_from(i).ok(),
            Some(i) => {
                let message = if i < 0 {
                    format!("policy.max_removals must be 0 or more, not {i}")
                } else {
                    format!("policy.max_removals must be at most {}, not {i}", u32::MAX)
                };
                self.diags
                    .push(Diagnostic::new(node.loc, message).help("0 allows no removal at all"));
                None
            }
            _ => {
                self.wrong_type(node, "policy.max_removals", "a whole number (0 or more)");
                None
            }
        }
    }

    /// `policy.protected`: emails; the readable ones are kept.
    fn protected(&mut self, node: &Node) -> Option<Vec<At<Email>>> {
        self.list(node, "policy.protected").map(|items| {
            items
                .iter()
                .filter_map(|item| self.email(item, "an entry of policy.protected"))
                .collect::<Vec<_>>()
        })
    }

    /// `policy.member_domains`: the domains that could be read, and an error when the list is
    /// empty (which would allow no member at all).
    fn member_domains(&mut self, node: &Node, key_loc: Loc) -> Vec<At<String>> {
        let domains: Vec<At<String>> = self
            .list(node, "policy.member_domains")
            .unwrap_or_default()
            .iter()
            .filter_map(|item| self.domain(item))
            .collect();
        if matches!(&node.value, Value::Seq(items) if items.is_empty()) || node.value == Value::Null
        {
            self.diags.push(
                Diagnostic::new(key_loc, "policy.member_domains is empty")
                    .label("empty")
                    .help("list the domains members may have, or remove the key to allow any"),
            );
        }
        domains
    }

    /// `policy.admins: {min, max}`: whole numbers, `min` at most `max`.
    fn admins(&mut self, node: &Node, key_loc: Loc) -> Option<AdminBounds> {
        let fields = self.map(node, "policy.admins", keys::ADMINS)?;
        let mut bound = |key: &str| {
            let n = fields.get(key)?;
            self.count(n, &format!("policy.admins.{key}"))
                .map(|v| (v, n.loc))
        };
        let min = bound("min");
        let max = bound("max");
        if let (Some((low, loc)), Some((high, _))) = (min, max)
            && low > high
        {
            self.diags.push(
                Diagnostic::new(
                    loc,
                    format!("policy.admins.min ({low}) is above max ({high})"),
                )
                .label("above max"),
            );
            return None;
        }
        Some(AdminBounds {
            min: min.map(|(v, _)| v),
            max: max.map(|(v, _)| v),
            loc: key_loc,
        })
    }

    /// `policy.seats: {max_members, max_guests}`: whole numbers.
    fn seats(&mut self, node: &Node, key_loc: Loc) -> Option<SeatBounds> {
        let fields = self.map(node, "policy.seats", keys::SEATS)?;
        let mut bound = |key: &str| {
            let n = fields.get(key)?;
            self.count(n, &format!("policy.seats.{key}"))
        };
        Some(SeatBounds {
            max_members: bound("max_members"),
            max_guests: bound("max_guests"),
            loc: key_loc,
        })
    }

    /// `policy.expiry_notice_days`: 0 to 36500 days; the default when it cannot be read.
    fn expiry_notice_days(&mut self, node: &Node) -> u32 {
        match whole(&node.value) {
            Some(i) if (0..=36_500).contains(&i) => {
                u32::try_from(i).unwrap_or(DEFAULT_EXPIRY_NOTICE_DAYS)
            }
            Some(i) => {
                self.diags.push(Diagnostic::new(
                    node.loc,
                    format!(
                        "policy.expiry_notice_days must be a whole number of days, 0 to 36500, not {i}"
                    ),
                ));
                DEFAULT_EXPIRY_NOTICE_DAYS
            }
            None => {
                self.wrong_type(
                    node,
                    "policy.expiry_notice_days",
                    "a whole number of days, 0 to 36500",
                );
                DEFAULT_EXPIRY_NOTICE_DAYS
            }
        }
    }
}
