//! `sync` (SPEC §11): the people of identity-provider groups (Okta, Microsoft Entra ID, Google
//! Workspace) and of an HR export (csv), written into the one fragment `sync` owns, so that the
//! identity provider stays the source, git stays the review, and the plan and its guards stay
//! the only way into the Workspace.
//!
//! One sync of a Workspace file: every rule's group read whole (or nothing is written), the
//! people merged (`merge`), the hand-written entries left to win, the refusals checked, and the
//! fragment's new text made (`fragment`). Writing it, printing it and planning it are the
//! command's (`commands::sync`).

pub(crate) mod csv;
pub(crate) mod fragment;
pub(crate) mod merge;
pub(crate) mod provider;
mod read;

use std::path::{Path, PathBuf};

use crate::config::{Loaded, Rule};
use crate::diag::Loc;

pub(crate) use merge::{Entry, Merged};
pub(crate) use read::Readers;

/// How a sync runs.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// `--max-changes`: in place of `sync.max_changes`.
    pub(crate) max_changes: Option<u32>,
    /// `--allow-empty`: rules (`okta:00g1abcd`) whose group may read as empty while the
    /// fragment holds its people.
    pub(crate) allow_empty: Vec<String>,
    /// How the providers are reached.
    pub(crate) provider: provider::Options,
}

/// What one rule read, for the summary and `--format json`.
#[derive(Debug, Clone)]
pub(crate) struct RuleSummary {
    /// `okta:00g1abcd`.
    pub(crate) name: String,
    pub(crate) from: &'static str,
    pub(crate) group: String,
    pub(crate) loc: Loc,
    pub(crate) read: usize,
    pub(crate) pages: usize,
    pub(crate) dropped: usize,
}

/// A sync made: the fragment's text before and after, and how its people change.
#[derive(Debug)]
pub(crate) struct Synced {
    /// The fragment, as the Workspace file's folder joined to `sync.into`.
    pub(crate) path: PathBuf,
    /// Its text now; `None` before its first sync.
    pub(crate) before: Option<String>,
    pub(crate) after: String,
    pub(crate) merged: Merged,
    pub(crate) rules: Vec<RuleSummary>,
    /// Which credentials each provider used: `okta: API token (OKTA_API_TOKEN)`.
    pub(crate) credentials: Vec<String>,
    /// What a person should know: users left out for want of a usable email, and the like.
    pub(crate) warnings: Vec<String>,
    /// Why it must not be written, each with the place in the Workspace file it is about.
    pub(crate) refusals: Vec<(Option<Loc>, String)>,
}

impl Synced {
    /// Whether writing it changes the fragment.
    pub(crate) fn changes_file(&self) -> bool {
        self.before.as_deref() != Some(self.after.as_str())
    }
}

/// Why a sync could not be made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error("{} has no sync section: nothing to sync", .0.display())]
    NoSync(PathBuf),
    /// Sources that could not be set up or groups that could not be read whole, each at the
    /// place in the Workspace file it is about: nothing is written.
    #[error("nothing was written: {} could not be read", crate::render::count(.0.len(), "source or group", "sources or groups"))]
    Read(Vec<(Loc, String)>),
    /// The csv export has problems.
    #[error(transparent)]
    Csv(#[from] csv::CsvError),
    /// `into` or the csv export leads out of the Workspace file's folder through a symbolic
    /// link.
    #[error("{} leads out of the Workspace file's folder through a symbolic link; sync reads and writes only inside that folder, and not through links", .path.display())]
    Outside { path: PathBuf, loc: Loc },
    /// `into` names a file that `sync` did not write: replacing it would drop what it lists.
    #[error("{} was not written by sync (its first line is not \"# Written by clickup-members sync …\"): sync replaces the whole file, and would drop what is written in it; move its people to the Workspace file or another fragment and delete it, or name another file in sync.into", .path.display())]
    NotWrittenBySync { path: PathBuf, loc: Loc },
    #[error("cannot read the fragment {}: {error}", .path.display())]
    Fragment {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
}

/// Syncs the Workspace file `loaded`: reads every rule's group, merges, and makes the
/// fragment's text. Refusals are in the result; errors mean nothing could be made.
pub(crate) async fn sync(loaded: &Loaded, options: &Options) -> Result<Synced, Error> {
    let file = &loaded.file;
    let Some(section) = &file.sync else {
        return Err(Error::NoSync(loaded.path.clone()));
    };
    let base = crate::fsutil::folder_of(&loaded.path);
    let path = base.join(&section.into.value);
    stays_inside(base, &path).map_err(|e| match e {
        Error::Outside { .. } => Error::Outside {
            path: within(base, &section.into.value),
            loc: section.into.loc,
        },
        other => other,
    })?;
    let before = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => return Err(Error::Fragment { path, error }),
    };
    if let Some(text) = &before
        && !text.trim().is_empty()
        && !text.starts_with(fragment::HEADER_START)
    {
        return Err(Error::NotWrittenBySync {
            path: within(base, &section.into.value),
            loc: section.into.loc,
        });
    }
    let readers = Readers::open(file, base, &options.provider)?;
    let (reads, warnings) = readers.read_all(&section.rules).await?;
    let into = into_index(loaded, &path);
    let merged = merge::merge(file, &section.rules, &reads, into);
    let rules = section
        .rules
        .iter()
        .zip(&reads)
        .map(|(rule, read)| RuleSummary {
            name: rule.name(),
            from: rule.from.value.key(),
            group: rule.group.value.clone(),
            loc: rule.loc,
            read: read.read,
            pages: read.pages,
            dropped: read.dropped,
        })
        .collect();
    let workspace_file = loaded.path.file_name().map_or_else(
        || loaded.path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let after = fragment::text(&merged.entries, &header(&section.rules, &workspace_file));
    let max_changes = options.max_changes.unwrap_or(section.max_changes);
    let refusals = refusals(
        &merged,
        &section.rules,
        &reads,
        max_changes,
        &options.allow_empty,
    );
    Ok(Synced {
        path,
        before,
        after,
        merged,
        rules,
        credentials: readers.credentials(),
        warnings,
        refusals,
    })
}

/// The fragment's first line: written by `sync`, from which sources.
fn header(rules: &[Rule], workspace_file: &str) -> String {
    let mut kinds: Vec<&str> = Vec::new();
    for rule in rules {
        let kind = rule.from.value.key();
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    let from = if kinds.is_empty() {
        "no source yet".to_owned()
    } else {
        kinds.join(", ")
    };
    format!(
        "Written by clickup-members sync from {from}. Do not edit: change the rules in {workspace_file} (a person listed by hand there wins)."
    )
}

/// Why the sync must not be written: more changes than allowed, or a group read as empty
/// while the fragment holds its people.
fn refusals(
    merged: &Merged,
    rules: &[Rule],
    reads: &[merge::RuleRead],
    max_changes: u32,
    allow_empty: &[String],
) -> Vec<(Option<Loc>, String)> {
    let mut refusals = Vec::new();
    for (rule, read) in rules.iter().zip(reads) {
        let name = rule.name();
        let held = merged.held.get(&name).copied().unwrap_or(0);
        if read.found.is_empty() && held > 0 && !allow_empty.contains(&name) {
            refusals.push((
                Some(rule.loc),
                format!(
                    "{name} reads as empty, but the fragment holds {} from it: an outage or a wrong group would remove them all; if the group really is empty, run again with --allow-empty {name}",
                    crate::render::count(held, "person", "people")
                ),
            ));
        }
    }
    let changes = merged.changes();
    if changes > max_changes as usize {
        refusals.push((
            None,
            format!(
                "{} would change, more than max_changes ({max_changes}): check the rules and the groups, then run again with --max-changes {changes} (or raise sync.max_changes)",
                crate::render::count(changes, "person", "people")
            ),
        ));
    }
    refusals
}

/// `path` (the fragment or the csv export, or where it will be) is inside `base` once symbolic
/// links are followed: no link on the way leads out, and the file itself is no link.
pub(crate) fn stays_inside(base: &Path, path: &Path) -> Result<(), Error> {
    let outside = || Error::Outside {
        path: path.to_owned(),
        loc: Loc::default(),
    };
    let io = |error| Error::Fragment {
        path: path.to_owned(),
        error,
    };
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(outside());
    }
    let inside = std::fs::canonicalize(base).map_err(io)?;
    // The nearest folder on the way that exists: the rest is made inside it.
    let mut existing = path.parent();
    while let Some(dir) = existing {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        match std::fs::canonicalize(dir) {
            Ok(real) if real.starts_with(&inside) => return Ok(()),
            Ok(_) => return Err(outside()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => existing = dir.parent(),
            Err(e) => return Err(io(e)),
        }
    }
    Err(outside())
}

/// The fragment's number among the file's ([`Loc::file`]), when it is read.
fn into_index(loaded: &Loaded, path: &Path) -> Option<u16> {
    loaded
        .file
        .files
        .iter()
        .position(|name| Path::new(name) == path)
        .and_then(|i| u16::try_from(i).ok())
}

/// `relative` in `base`, as messages show it: `hr/people.csv` rather than `./hr/people.csv`.
pub(crate) fn within(base: &Path, relative: &str) -> PathBuf {
    if base == Path::new(".") {
        PathBuf::from(relative)
    } else {
        base.join(relative)
    }
}

#[cfg(test)]
mod tests;
