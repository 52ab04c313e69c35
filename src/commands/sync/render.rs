//! What `sync` prints: as text, the fragment's diff and a summary (per rule what was read, per
//! person what changes and the rule that decided it); as JSON, the document of SPEC §11.

use std::io::Write;

use serde::Serialize;
use serde_json::{Value, json};

use crate::commands::display_path;
use crate::config::{Joins, Loaded};
use crate::escape::visible;
use crate::render::count;
use crate::sync::fragment::written;
use crate::sync::{Entry, Synced};

/// The text of a sync: which sources and credentials, the diff, what each rule read, each
/// person's change, the warnings and the totals.
pub(super) fn text(
    out: &mut Vec<u8>,
    synced: &Synced,
    loaded: &Loaded,
    writing: bool,
) -> std::io::Result<()> {
    let fragment = shown(&synced.path);
    let file = display_path(&loaded.path);
    writeln!(out, "Sync of {file} into {fragment}")?;
    for used in &synced.credentials {
        writeln!(out, "  credentials: {used}")?;
    }
    for rule in &synced.rules {
        let mut line = format!(
            "  {} ({file}:{}): {} read",
            visible(&rule.name),
            rule.loc.line,
            count(rule.read, "person", "people")
        );
        if rule.from != "csv" {
            line.push_str(&format!(" in {}", count(rule.pages, "page", "pages")));
        }
        if rule.dropped > 0 {
            line.push_str(&format!(
                ", {} left out (inactive, disabled, not a user or without an email)",
                rule.dropped
            ));
        }
        writeln!(out, "{line}")?;
    }
    writeln!(out)?;
    if synced.changes_file() {
        let before = synced.before.as_deref().unwrap_or("");
        let before_name = match synced.before {
            Some(_) => fragment.clone(),
            None => "/dev/null".to_owned(),
        };
        let after_name = format!("{fragment} (synced)");
        crate::commands::fmt::write_diff(out, before, &synced.after, &before_name, &after_name)?;
        writeln!(out)?;
    }
    people(out, synced)?;
    for warning in &synced.warnings {
        writeln!(out, "warning: {}", visible(warning))?;
    }
    let merged = &synced.merged;
    let [add, remove, change] = if writing {
        ["added", "removed", "changed"]
    } else {
        ["to add", "to remove", "to change"]
    };
    let tally = if merged.changes() == 0 && !synced.changes_file() {
        format!("no changes, {fragment} is up to date")
    } else {
        format!(
            "{} {add}, {} {remove}, {} {change}",
            merged.added.len(),
            merged.removed.len(),
            merged.changed.len()
        )
    };
    let kept = match merged.kept.len() {
        0 => String::new(),
        n => format!("; {n} kept as written"),
    };
    writeln!(out, "Sync: {tally}{kept}.")
}

/// A path as messages show it, without a leading `./`.
pub(super) fn shown(path: &std::path::Path) -> String {
    display_path(path.strip_prefix(".").unwrap_or(path))
}

/// One line per person added, removed, changed or kept as written.
fn people(out: &mut Vec<u8>, synced: &Synced) -> std::io::Result<()> {
    let merged = &synced.merged;
    for added in &merged.added {
        writeln!(
            out,
            "  + {}: {}, from {}",
            added.entry.email,
            what(&added.entry),
            visible(&added.by)
        )?;
    }
    for removed in &merged.removed {
        let was = if removed.source.is_empty() {
            String::new()
        } else {
            format!(" (was from {})", visible(&removed.source.join(", ")))
        };
        writeln!(out, "  - {}: no rule holds them now{was}", removed.email)?;
    }
    for changed in &merged.changed {
        writeln!(
            out,
            "  ~ {}: {}, by {}",
            changed.to.email,
            differences(&changed.from, &changed.to).join("; "),
            visible(&changed.by)
        )?;
    }
    for (email, file, line) in &merged.kept {
        writeln!(out, "  = {email}: kept as written at {file}:{line}")?;
    }
    if merged.changes() > 0 || !merged.kept.is_empty() {
        writeln!(out)?;
    }
    Ok(())
}

/// `member`, `admin`, `guest (custom role Viewer)`, with the groups and the date.
fn what(entry: &Entry) -> String {
    let mut text = match (entry.joins, &entry.role) {
        (Joins::Member, None) => "member".to_owned(),
        (Joins::Member, Some(role)) => visible(role).into_owned(),
        (Joins::Guest, None) => "guest".to_owned(),
        (Joins::Guest, Some(role)) => format!("guest (custom role {})", visible(role)),
    };
    if !entry.groups.is_empty() {
        text.push_str(&format!(" in {}", visible(&entry.groups.join(", "))));
    }
    if let Some(expires) = entry.expires {
        text.push_str(&format!(", expires {}", written(expires)));
    }
    text
}

/// What changes between two entries of one person.
fn differences(from: &Entry, to: &Entry) -> Vec<String> {
    let mut found = Vec::new();
    if from.joins != to.joins || from.role != to.role {
        found.push(format!("{} → {}", what_role(from), what_role(to)));
    }
    if from.groups != to.groups {
        found.push(format!(
            "groups [{}] → [{}]",
            visible(&from.groups.join(", ")),
            visible(&to.groups.join(", "))
        ));
    }
    if from.expires != to.expires {
        let date = |e: &Entry| e.expires.map_or_else(|| "never".to_owned(), written);
        found.push(format!("expires {} → {}", date(from), date(to)));
    }
    if from.source != to.source {
        found.push(format!(
            "source [{}] → [{}]",
            visible(&from.source.join(", ")),
            visible(&to.source.join(", "))
        ));
    }
    found
}

fn what_role(entry: &Entry) -> String {
    match (entry.joins, &entry.role) {
        (Joins::Member, None) => "member".to_owned(),
        (Joins::Member, Some(role)) => visible(role).into_owned(),
        (Joins::Guest, None) => "guest".to_owned(),
        (Joins::Guest, Some(role)) => format!("guest ({})", visible(role)),
    }
}

/// One entry as the JSON document shows it.
#[derive(Serialize)]
struct JsonEntry<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    kind: &'static str,
    role: Option<&'a str>,
    groups: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    expires: Option<String>,
    source: &'a [String],
}

fn entry(e: &Entry, with_email: bool) -> JsonEntry<'_> {
    JsonEntry {
        email: with_email.then(|| e.email.as_str()),
        kind: e.joins.key(),
        role: match (e.joins, &e.role) {
            (Joins::Member, None) => Some("member"),
            (_, role) => role.as_deref(),
        },
        groups: &e.groups,
        expires: e.expires.map(written),
        source: &e.source,
    }
}

/// The JSON document of one Workspace file's sync (SPEC §11).
pub(super) fn json(out: &mut Vec<u8>, synced: &Synced, loaded: &Loaded) -> std::io::Result<()> {
    let merged = &synced.merged;
    let value: Value = json!({
        "format_version": 1,
        "file": display_path(&loaded.path),
        "fragment": shown(&synced.path),
        "changes_file": synced.changes_file(),
        "added": merged.added.iter().map(|a| entry(&a.entry, true)).collect::<Vec<_>>(),
        "removed": merged.removed.iter().map(|e| entry(e, true)).collect::<Vec<_>>(),
        "changed": merged.changed.iter().map(|c| json!({
            "email": c.to.email.as_str(),
            "from": entry(&c.from, false),
            "to": entry(&c.to, false),
            "by": c.by,
        })).collect::<Vec<_>>(),
        "kept_as_written": merged.kept.iter().map(|(email, file, line)| json!({
            "email": email.as_str(), "file": file, "line": line,
        })).collect::<Vec<_>>(),
        "rules": synced.rules.iter().map(|r| json!({
            "from": r.from, "group": r.group, "read": r.read, "pages": r.pages, "dropped": r.dropped,
        })).collect::<Vec<_>>(),
        "credentials": synced.credentials,
        "warnings": synced.warnings,
        "refused": synced.refusals.iter().map(|(_, why)| why).collect::<Vec<_>>(),
    });
    serde_json::to_writer_pretty(&mut *out, &value).map_err(std::io::Error::other)?;
    out.push(b'\n');
    Ok(())
}
