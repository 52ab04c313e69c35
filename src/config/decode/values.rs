//! The values of the file one at a time: text, lists, emails, dates, counts, domains, ids.
//! Each reports its own problem where the value is written and gives `None`, so that its caller
//! can go on with the rest. Pure.

use crate::config::decode::Decoder;
use crate::config::{At, Expiry};
use crate::diag::{Diagnostic, Loc};
use crate::model::Email;
use crate::yaml::{Node, Value};

impl Decoder {
    pub(super) fn text(&mut self, node: &Node, what: &str) -> Option<At<String>> {
        match &node.value {
            Value::Str(s) if s.trim().is_empty() => {
                self.error(node.loc, format!("{what} must not be empty"));
                None
            }
            Value::Str(s) => Some(At::new(s.clone(), node.loc)),
            _ => {
                self.wrong_type(node, what, "text");
                None
            }
        }
    }

    /// A list; an empty value (`members:` with nothing under it) is an empty list.
    pub(super) fn list<'a>(&mut self, node: &'a Node, what: &str) -> Option<&'a [Node]> {
        match &node.value {
            Value::Seq(items) => Some(items),
            Value::Null => Some(&[]),
            _ => {
                self.wrong_type(node, what, "a list");
                None
            }
        }
    }

    /// Keys whose presence means "manage and remove the rest" must not be left empty by
    /// accident: `groups:` with nothing under it is an error, `groups: []` is explicit.
    pub(super) fn explicit_list<'a>(
        &mut self,
        node: &'a Node,
        key_loc: Loc,
        key: &str,
        empty_means: &str,
        absent_means: &str,
    ) -> Option<&'a Node> {
        if node.value == Value::Null {
            self.diags.push(
                Diagnostic::new(key_loc, format!("{key} is empty"))
                    .label("empty")
                    .help(format!(
                        "write `{key}: []` to {empty_means}, or remove the key to {absent_means}"
                    )),
            );
            return None;
        }
        Some(node)
    }

    /// A list whose items are decoded one by one; every item is checked even after a bad one,
    /// and the items that could be read are kept.
    pub(super) fn items<T>(
        &mut self,
        node: &Node,
        what: &str,
        item: fn(&mut Self, &Node) -> Option<T>,
    ) -> Option<Vec<T>> {
        let items = self.list(node, what)?;
        Some(items.iter().filter_map(|n| item(self, n)).collect())
    }

    /// [`Decoder::items`] of a list taken out of the tree: each item is freed once decoded.
    pub(super) fn owned_items<T>(
        &mut self,
        items: Vec<Node>,
        item: fn(&mut Self, &Node) -> Option<T>,
    ) -> Vec<T> {
        items.into_iter().filter_map(|n| item(self, &n)).collect()
    }

    pub(super) fn email(&mut self, node: &Node, what: &str) -> Option<At<Email>> {
        let Value::Str(text) = &node.value else {
            self.wrong_type(node, what, "an email address");
            return None;
        };
        match Email::parse(text) {
            Ok(email) => Some(At::new(email, node.loc)),
            Err(reason) => {
                self.diags.push(
                    Diagnostic::new(
                        node.loc,
                        format!("\"{text}\" is not a valid email address: {reason}"),
                    )
                    .label("not an email address"),
                );
                None
            }
        }
    }

    /// `expires:` a date or an RFC 3339 time with its zone.
    pub(super) fn expiry(&mut self, node: &Node) -> Option<At<Expiry>> {
        let Value::Str(text) = &node.value else {
            self.wrong_type(
                node,
                "expires",
                "a date (2027-03-31) or a time with its zone",
            );
            return None;
        };
        match Expiry::parse(text.trim()) {
            Ok(expiry) => Some(At::new(expiry, node.loc)),
            Err(why) => {
                self.diags.push(
                    Diagnostic::new(node.loc, format!("expires: {why}"))
                        .label("not a date")
                        .help("write a date, 2027-03-31 (from 00:00 UTC), or a time with its zone, 2027-03-31T17:00:00+02:00"),
                );
                None
            }
        }
    }

    /// A count of people under `policy`: a whole number, 0 or more.
    pub(super) fn count(&mut self, node: &Node, name: &str) -> Option<u32> {
        match whole(&node.value) {
            Some(i) if (0..=i128::from(u32::MAX)).contains(&i) => u32::try_from(i).ok(),
            Some(i) => {
                self.diags.push(Diagnostic::new(
                    node.loc,
                    format!("{name} must be a whole number, 0 or more, not {i}"),
                ));
                None
            }
            None => {
                self.wrong_type(node, name, "a whole number (0 or more)");
                None
            }
        }
    }

    /// A domain of `policy.member_domains`, normalised as emails' domains are.
    pub(super) fn domain(&mut self, node: &Node) -> Option<At<String>> {
        let Value::Str(text) = &node.value else {
            self.wrong_type(node, "an entry of policy.member_domains", "a domain");
            return None;
        };
        match crate::model::domain(text) {
            Ok(domain) => Some(At::new(domain, node.loc)),
            Err(why) => {
                self.diags.push(
                    Diagnostic::new(node.loc, format!("\"{text}\" is not a domain: {why}"))
                        .label("not a domain")
                        .help("write the domain alone, as in an email after the @: acme.example"),
                );
                None
            }
        }
    }

    pub(super) fn bool(&mut self, node: &Node, what: &str) -> Option<bool> {
        match node.value {
            Value::Bool(b) => Some(b),
            _ => {
                self.wrong_type(node, what, "true or false");
                None
            }
        }
    }

    pub(super) fn id(&mut self, node: &Node, what: &str) -> Option<String> {
        let id = match &node.value {
            _ if whole(&node.value).is_some_and(|n| n >= 0) => {
                whole(&node.value).unwrap_or_default().to_string()
            }
            Value::Str(s) => s.trim().to_owned(),
            _ => {
                self.wrong_type(node, what, "an id (text or a whole number)");
                return None;
            }
        };
        if id.is_empty() {
            self.error(node.loc, format!("{what} must not be empty"));
            return None;
        }
        Some(id)
    }
}

/// A whole number, written as one (`3`) or with a zero fraction (`3.0`), as JSON Schema's
/// `integer` counts it.
pub(super) fn whole(value: &Value) -> Option<i128> {
    match value {
        Value::Int(n) => Some(*n),
        // Exact: within ±2^53 every whole f64 is the integer it shows.
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => {
            Some(*f as i128)
        }
        _ => None,
    }
}
