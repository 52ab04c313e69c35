//! Reading a members file, the one I/O of `config`: the file here, the fragments it includes
//! in `include.rs`, each refused when too large or not UTF-8; then parsing, decoding and
//! checking it, every problem kept for the report. The `parse_*_str` functions do the same for
//! text already read, without I/O.

use std::path::{Path, PathBuf};

use crate::config::{At, MembersFile, Policy, WorkspaceSection, check, decode, include};
use crate::diag::{Diagnostic, Loc};
use crate::yaml;

/// A file that was read and decoded, or the problems that stop it.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) path: PathBuf,
    pub(crate) source: String,
    pub(crate) file: MembersFile,
    /// The fragments it includes, name and text.
    pub(crate) fragments: Vec<(String, String)>,
}

impl Loaded {
    /// The file as decoded, its problems known to be none: for a plan of a file read already.
    pub(crate) fn into_decoded(self) -> Decoded {
        Decoded {
            path: self.path,
            source: self.source,
            file: self.file,
            diagnostics: Vec::new(),
            fragments: self.fragments,
        }
    }

    /// The name of the file `loc` is in: the Workspace file or one of its fragments.
    pub(crate) fn name_of(&self, loc: Loc) -> String {
        crate::diag::fragment_of(loc, &self.fragments)
            .map_or_else(|| self.path.display().to_string(), |(name, _)| name.clone())
    }
}

/// Why a file could not be used: unreadable, or invalid with every problem found.
#[derive(Debug)]
pub(crate) enum LoadError {
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    TooLarge {
        path: PathBuf,
        bytes: u64,
    },
    Invalid {
        path: PathBuf,
        source: String,
        diagnostics: Vec<Diagnostic>,
        /// The fragments the file includes, name and text, for problems placed in them.
        fragments: Vec<(String, String)>,
    },
}

/// Reads, parses, decodes and checks a desired-state file.
pub(crate) fn load(path: &Path) -> Result<Loaded, LoadError> {
    let decoded = decode_file(path)?;
    let problems = decoded.problems();
    checked(decoded, problems)
}

/// A file read and decoded but not checked yet: the checks ([`Decoded::problems`]) can run
/// beside other work.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub(crate) path: PathBuf,
    pub(crate) source: String,
    pub(crate) file: MembersFile,
    /// What the decoder found wrong, when it could still make a file of it.
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// The fragments it includes, name and text.
    pub(crate) fragments: Vec<(String, String)>,
}

impl Decoded {
    /// Every problem of the file, the decoder's and the checks', in file order; none for a
    /// valid file.
    pub(crate) fn problems(&self) -> Vec<Diagnostic> {
        let mut problems = self.diagnostics.clone();
        problems.extend(check::check(&self.file));
        problems.sort_by_key(|d| d.loc);
        problems
    }

    /// The file, once [`Decoded::problems`] found none.
    pub(crate) fn into_loaded(self) -> Loaded {
        Loaded {
            path: self.path,
            source: self.source,
            file: self.file,
            fragments: self.fragments,
        }
    }
}

/// Reads, parses and decodes a desired-state file: the first half of [`load`].
pub(crate) fn decode_file(path: &Path) -> Result<Decoded, LoadError> {
    decode_file_with(path, None)
}

/// [`load`], reading `written` in place of the fragment `sync` writes: the Workspace a dry
/// run of `sync` would plan.
pub(crate) fn load_with(path: &Path, written: &str) -> Result<Loaded, LoadError> {
    let decoded = decode_file_with(path, Some(written))?;
    let problems = decoded.problems();
    checked(decoded, problems)
}

/// A Workspace file as `sync` reads it, before it syncs: its own parts checked, but not
/// against the people of the fragment `sync` writes, which the sync is about to replace (a
/// group may list people only the sync brings; the fragment may be missing, or broken). The
/// whole file is checked again with the fragment the sync makes ([`load_with`]) before anything
/// is written or planned. A fragment that cannot be decoded is read as empty, and said so.
pub(crate) fn load_for_sync(path: &Path) -> Result<(Loaded, Option<String>), LoadError> {
    let whole = decode_file(path)?;
    let problems = whole.problems();
    if problems.is_empty() || whole.file.sync.is_none() {
        return checked(whole, problems).map(|loaded| (loaded, None));
    }
    // The file with the fragment as it will be: people from it are not known yet.
    let bare = decode_file_with(path, Some(""))?;
    let mut bare_problems = bare.diagnostics.clone();
    bare_problems.extend(check::check_with(&bare.file, check::Listing::BeforeSync));
    bare_problems.sort_by_key(|d| d.loc);
    if !bare_problems.is_empty() {
        return checked(bare, bare_problems).map(|loaded| (loaded, None));
    }
    let into = whole
        .file
        .sync
        .as_ref()
        .and_then(|s| {
            // Named as `include` names the fragments it reads.
            let name = crate::fsutil::folder_of(path).join(&s.into.value);
            whole.file.files.iter().position(|f| Path::new(f) == name)
        })
        .and_then(|i| u16::try_from(i).ok());
    let broken = whole
        .diagnostics
        .iter()
        .find(|d| into.is_some_and(|i| d.loc.file == i));
    match broken {
        Some(d) => {
            let name = bare.file.files.get(usize::from(d.loc.file)).cloned();
            let name = name.unwrap_or_default();
            let warning = format!(
                "{}:{}: {}: the fragment is read as empty and written anew",
                name.strip_prefix("./").unwrap_or(&name),
                d.loc,
                d.message
            );
            Ok((bare.into_loaded(), Some(warning)))
        }
        None => Ok((whole.into_loaded(), None)),
    }
}

/// The file, when `problems` (its own) are none.
fn checked(decoded: Decoded, problems: Vec<Diagnostic>) -> Result<Loaded, LoadError> {
    if problems.is_empty() {
        Ok(decoded.into_loaded())
    } else {
        Err(LoadError::Invalid {
            path: decoded.path,
            source: decoded.source,
            diagnostics: problems,
            fragments: decoded.fragments,
        })
    }
}

/// [`decode_file`], with the text of the fragment `sync` writes when given.
fn decode_file_with(path: &Path, written: Option<&str>) -> Result<Decoded, LoadError> {
    let io = |error| LoadError::Io {
        path: path.to_owned(),
        error,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.len() > yaml::MAX_FILE_BYTES {
        return Err(LoadError::TooLarge {
            path: path.to_owned(),
            bytes: meta.len(),
        });
    }
    let bytes = crate::fsutil::read_regular(path).map_err(io)?;
    let source = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let text = String::from_utf8_lossy(valid).into_owned();
            let line = text.matches('\n').count() + 1;
            let col = text.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            let diag = Diagnostic::new(
                Loc::new(line as u64, col as u64),
                "the file is not UTF-8 text; save it as UTF-8",
            );
            return Err(LoadError::Invalid {
                path: path.to_owned(),
                source: text,
                diagnostics: vec![diag],
                fragments: Vec::new(),
            });
        }
    };
    match decode_str(&source) {
        Ok((mut file, mut diagnostics)) => {
            let fragments = if file.include.is_empty() {
                Vec::new()
            } else {
                include::merge(path, &mut file, &mut diagnostics, written)
            };
            join_groups(&mut file);
            Ok(Decoded {
                path: path.to_owned(),
                source,
                file,
                diagnostics,
                fragments,
            })
        }
        Err(diagnostics) => Err(LoadError::Invalid {
            path: path.to_owned(),
            source,
            diagnostics,
            fragments: Vec::new(),
        }),
    }
}

/// Parses and decodes the text of a desired-state file: the file, with what the decoder found
/// wrong, or only the problems when no file could be made of it.
fn decode_str(source: &str) -> Result<(MembersFile, Vec<Diagnostic>), Vec<Diagnostic>> {
    let root = yaml::parse(source).map_err(|e| vec![Diagnostic::new(e.loc, e.message)])?;
    let (file, mut diagnostics) = decode::decode(root);
    match file {
        Some(file) => Ok((file, diagnostics)),
        None => {
            diagnostics.sort_by_key(|d| d.loc);
            Err(diagnostics)
        }
    }
}

/// Parses and decodes the text of a desired-state file, without the checks that need the
/// whole Workspace (its fragments): the file, or what the decoder found wrong. Pure.
pub(crate) fn parse_unchecked_str(source: &str) -> Result<MembersFile, Vec<Diagnostic>> {
    match decode_str(source)? {
        (mut file, diagnostics) if diagnostics.is_empty() => {
            join_groups(&mut file);
            Ok(file)
        }
        (_, mut diagnostics) => {
            diagnostics.sort_by_key(|d| d.loc);
            Err(diagnostics)
        }
    }
}

/// Parses, decodes and checks the text of a desired-state file. Pure.
pub(crate) fn parse_str(source: &str) -> Result<MembersFile, Vec<Diagnostic>> {
    let (mut file, mut diagnostics) = decode_str(source)?;
    join_groups(&mut file);
    diagnostics.extend(check::check(&file));
    if diagnostics.is_empty() {
        Ok(file)
    } else {
        diagnostics.sort_by_key(|d| d.loc);
        Err(diagnostics)
    }
}

/// Parses and decodes the text of a fragment (`include:`) on its own, as a file with only
/// members, guests and groups; the checks that need the whole Workspace file are not made.
pub(crate) fn parse_fragment_str(source: &str) -> Result<MembersFile, Vec<Diagnostic>> {
    let root = yaml::parse(source).map_err(|e| vec![Diagnostic::new(e.loc, e.message)])?;
    let (fragment, mut diagnostics) = decode::fragment(root);
    match fragment {
        Some(fragment) if diagnostics.is_empty() => Ok(MembersFile {
            version: 1,
            workspace: WorkspaceSection {
                id: At::new(String::new(), Loc::default()),
                name: None,
            },
            include: Vec::new(),
            files: Vec::new(),
            sources: None,
            sync: None,
            policy: Policy::default(),
            members: fragment.members,
            guests: fragment.guests,
            groups: fragment.groups,
        }),
        _ => {
            diagnostics.sort_by_key(|d| d.loc);
            Err(diagnostics)
        }
    }
}

/// Adds each person whose `groups` names a group to that group's members, where their
/// `groups` entry is (a group's members are its own list and the people who name it). A name
/// the file does not define is left for the checks to report; someone the group lists already
/// is not added twice.
fn join_groups(file: &mut MembersFile) {
    use std::collections::{HashMap, HashSet};
    let Some(groups) = &mut file.groups else {
        return;
    };
    let joining = file
        .members
        .iter()
        .map(|m| (&m.email, &m.groups))
        .chain(file.guests.iter().map(|g| (&g.email, &g.groups)))
        .filter(|(_, names)| !names.is_empty());
    let by_name: HashMap<String, usize> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| (g.name.value.to_lowercase(), i))
        .collect();
    // Who each group holds already, made when someone first names it.
    let mut held: HashMap<usize, HashSet<crate::model::Email>> = HashMap::new();
    for (email, names) in joining {
        for name in names {
            let Some(&i) = by_name.get(&name.value.to_lowercase()) else {
                continue;
            };
            let group = &mut groups[i];
            let held = held
                .entry(i)
                .or_insert_with(|| group.members.iter().map(|m| m.value.clone()).collect());
            if held.insert(email.value.clone()) {
                group.members.push(At::new(email.value.clone(), name.loc));
            }
        }
    }
}
