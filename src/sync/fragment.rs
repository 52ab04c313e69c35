//! The text of the fragment `sync` writes: whole, in `fmt`'s canonical form (members, then
//! guests, each sorted by email; keys in the file's order; lists in block style), under a first
//! comment line saying it is written by `sync` and from which sources. Written straight from
//! the entries, so that 50,000 people take no YAML tree. Pure.

use std::fmt::Write;

use crate::config::{Expiry, Joins};
use crate::sync::merge::Entry;
use crate::yaml::scalar;

/// How the fragment's first line starts: a file `into` names that does not start so was not
/// written by `sync`, and is not replaced.
pub(crate) const HEADER_START: &str = "# Written by clickup-members sync";

/// The fragment holding `entries` (members first, each kind sorted by email), with `header`
/// as its first comment line.
pub(crate) fn text(entries: &[Entry], header: &str) -> String {
    let mut out = String::with_capacity(64 + entries.len() * 96);
    let _ = writeln!(out, "# {header}");
    let members: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.joins == Joins::Member)
        .collect();
    let guests: Vec<&Entry> = entries.iter().filter(|e| e.joins == Joins::Guest).collect();
    if members.is_empty() && guests.is_empty() {
        out.push_str("members: []\n");
        return out;
    }
    if !members.is_empty() {
        out.push_str("members:\n");
        for entry in &members {
            person(&mut out, entry, "role");
        }
    }
    if !guests.is_empty() {
        if !members.is_empty() {
            out.push('\n');
        }
        out.push_str("guests:\n");
        for entry in &guests {
            person(&mut out, entry, "custom_role");
        }
    }
    out
}

/// One entry: `role_key` is `role` for a member, `custom_role` for a guest.
fn person(out: &mut String, entry: &Entry, role_key: &str) {
    let _ = writeln!(out, "  - email: {}", scalar(entry.email.as_str()));
    if let Some(role) = &entry.role {
        let _ = writeln!(out, "    {role_key}: {}", scalar(role));
    }
    if let Some(expires) = entry.expires {
        let _ = writeln!(out, "    expires: {}", scalar(&written(expires)));
    }
    list(out, "groups", &entry.groups);
    list(out, "source", &entry.source);
}

fn list(out: &mut String, key: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "    {key}:");
    for item in items {
        let _ = writeln!(out, "      - {}", scalar(item));
    }
}

/// A date as the file writes it: the day alone at 00:00 UTC, else the time in UTC.
pub(crate) fn written(expires: Expiry) -> String {
    let at = expires.0;
    if at.time() == time::Time::MIDNIGHT {
        expires.day()
    } else {
        at.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| expires.day())
    }
}
