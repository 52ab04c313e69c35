//! A members file written from the live Workspace (`import`): everyone with their role, guests
//! with their switches (and shares, when they were read), groups, `mode: authoritative`. Its
//! first plan shows no changes. Pure.

use std::collections::BTreeSet;

use crate::escape::visible;
use crate::format::doc::{Document, Entry, Item, Value};
use crate::live::{Live, LiveGroup, Person};
use crate::model::{BaseRole, Email};
use crate::yaml;

/// What goes into the header of an imported file.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    /// Where editors find the JSON Schema (a path relative to the file, or a URL).
    pub(crate) schema: String,
    /// RFC 3339 date of the import.
    pub(crate) date: String,
}

fn quoted(text: &str) -> Value {
    Value::Scalar(serde_json::to_string(text).unwrap_or_default())
}

fn scalar(text: &str) -> Value {
    Value::Scalar(yaml::scalar(text))
}

fn email(e: &Email) -> Value {
    scalar(e.as_str())
}

/// The canonical members file of `live`.
pub(crate) fn import(live: &Live, header: &Header) -> String {
    let mut doc = Document {
        header: header_lines(live, header),
        ..Document::default()
    };
    doc.entries.push(Entry::scalar("version", "1".to_owned()));
    doc.entries.push(Entry::new(
        "workspace",
        Value::Map(vec![
            Entry::new("id", quoted(&live.workspace_id)),
            Entry::new("name", scalar(&live.workspace_name)),
        ]),
    ));
    doc.entries.push(Entry::new(
        "policy",
        Value::Map(vec![
            Entry::scalar("mode", "authoritative".to_owned()),
            Entry::scalar(
                "max_removals",
                crate::config::DEFAULT_MAX_REMOVALS.to_string(),
            ),
        ]),
    ));
    let mut members = Vec::new();
    let mut guests = Vec::new();
    for person in &live.people {
        if person.role == BaseRole::Guest {
            guests.push(guest(person, live));
        } else {
            members.push(member(person, live));
        }
    }
    doc.entries.push(Entry::new("members", Value::Seq(members)));
    doc.entries.push(Entry::new("guests", Value::Seq(guests)));
    if let Some(groups) = &live.groups {
        doc.entries
            .push(Entry::new("groups", groups_value(live, groups)));
    }
    doc.render()
}

/// The comment at the top: the schema for editors, where the file comes from, what to do with
/// it, and who is left out.
fn header_lines(live: &Live, header: &Header) -> Vec<String> {
    let mut lines = vec![
        format!(" yaml-language-server: $schema={}", header.schema),
        String::new(),
        // The name is ClickUp's: shown escaped, it cannot end the comment and write YAML.
        format!(
            " Who belongs in ClickUp Workspace \"{}\" ({}), imported by clickup-members {} on {}.",
            visible(&live.workspace_name),
            live.workspace_id,
            env!("CARGO_PKG_VERSION"),
            header.date
        ),
        " Review it and commit it: from now on, change the Workspace's people here and apply."
            .to_owned(),
    ];
    if !live.unknown_roles.is_empty() {
        let names: Vec<String> = live
            .unknown_roles
            .iter()
            .map(|person| visible(&person.describe()).into_owned())
            .collect();
        lines.push(format!(
            " Not listed: their role is one clickup-members does not manage: {}.",
            names.join(", ")
        ));
    }
    lines
}

/// A member's entry: the email, and the role unless it is `member`.
fn member(person: &Person, live: &Live) -> Item {
    let role = match (&person.custom_role, person.role) {
        (_, BaseRole::Owner) => BaseRole::Owner.name().to_owned(),
        (Some(custom), _) => live.custom_role_name(custom),
        (None, role) => role.name().to_owned(),
    };
    let mut entries = vec![Entry::new("email", email(&person.email))];
    if role != BaseRole::Member.name() {
        entries.push(Entry::new("role", scalar(&role)));
    }
    Item::new(Value::Map(entries))
}

/// A guest's entry: the email, the switches ClickUp reported, the custom role, and the shares
/// when they were read.
fn guest(person: &Person, live: &Live) -> Item {
    let mut entries = vec![Entry::new("email", email(&person.email))];
    let flags: Vec<Entry> = person
        .permissions
        .set_flags()
        .map(|(flag, value)| Entry::scalar(flag.key(), value.to_string()))
        .collect();
    entries.push(Entry::new("permissions", Value::Map(flags)));
    if let Some(role) = &person.custom_role {
        entries.push(Entry::new(
            "custom_role",
            scalar(&live.custom_role_name(role)),
        ));
    }
    if let Some(shares) = live.shares.get(&person.id) {
        let items = shares
            .iter()
            .map(|share| {
                Item::new(Value::Map(vec![
                    Entry::new(share.target.kind.key(), quoted(&share.target.id)),
                    Entry::scalar("permission", share.permission.key().to_owned()),
                ]))
            })
            .collect();
        entries.push(Entry::new("access", Value::Seq(items)));
    }
    Item::new(Value::Map(entries))
}

/// The user groups, each with its members among the people listed (once each, sorted).
fn groups_value(live: &Live, groups: &[LiveGroup]) -> Value {
    let listed: BTreeSet<&Email> = live.people.iter().map(|p| &p.email).collect();
    let items = groups
        .iter()
        .map(|group| {
            let mut entries = vec![Entry::new("name", scalar(&group.name))];
            if let Some(handle) = &group.handle {
                entries.push(Entry::new("handle", scalar(handle)));
            }
            let mut emails: Vec<&Email> = group
                .members
                .iter()
                .map(|(_, e)| e)
                .filter(|e| listed.contains(e))
                .collect();
            emails.sort();
            emails.dedup();
            let members = emails.into_iter().map(|e| Item::new(email(e))).collect();
            entries.push(Entry::new("members", Value::Seq(members)));
            Item::new(Value::Map(entries))
        })
        .collect();
    Value::Seq(items)
}
