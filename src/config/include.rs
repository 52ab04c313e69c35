//! `include:`: the fragment files a Workspace file names by globs relative to itself, decoded
//! and merged into it in order (SPEC §8). Every problem found in a fragment is placed in that
//! fragment (its [`Loc::file`]); an include that matches nothing, or the Workspace file itself,
//! is an error at the include. A fragment is a file inside the Workspace file's folder: one
//! that is a link leading out of it is an error at the include and is never read (a link
//! planted in a repository would otherwise bring any file's lines into errors, pull-request
//! comments and logs), and links to folders are not followed.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};

use crate::config::{At, MembersFile, decode};
use crate::diag::{Diagnostic, Loc};
use crate::yaml;

/// How deep below the Workspace file's folder fragments are looked for.
const MAX_DEPTH: usize = 8;

/// Reads the fragments `file.include` names and merges their members, guests and groups into
/// `file`, in the order of the includes and, within one, of the fragments' paths. Returns each
/// fragment's name and text, in the order of their [`Loc::file`] (1, 2, …).
///
/// The fragment `sync` writes (`sync.into`) may not exist yet: an include that matches only it
/// is then not an error, and it counts as empty. `written`, when given, is read in its place:
/// the fragment a dry run of `sync` would write.
pub(super) fn merge(
    path: &Path,
    file: &mut MembersFile,
    diags: &mut Vec<Diagnostic>,
    written: Option<&str>,
) -> Vec<(String, String)> {
    let into = file.sync.as_ref().map(|s| s.into.value.clone());
    let folder = Folder::scan(path, into.as_deref());
    let chosen = folder.choose(&file.include, diags);
    file.files = vec![path.display().to_string()];
    let synced = into.map(|relative| Synced { relative, written });
    read_and_merge(&folder.base, chosen, file, diags, synced.as_ref())
}

/// The fragment `sync` writes, and the text to read in its place.
struct Synced<'a> {
    relative: String,
    written: Option<&'a str>,
}

/// The Workspace file and the folder its fragments must be in.
struct Folder<'p> {
    /// The Workspace file, as it was named.
    path: &'p Path,
    /// Its folder, as the includes are written relative to it.
    base: PathBuf,
    /// The Workspace file, every link resolved: an include must not match it.
    itself: Option<PathBuf>,
    /// Where fragments must be, every link resolved.
    inside: Option<PathBuf>,
    /// The files below the folder, sorted.
    candidates: Vec<String>,
    /// Links to folders below it, which are not followed.
    linked_folders: Vec<String>,
}

/// A fragment, with the include that first named it and where it really is.
struct Chosen {
    relative: String,
    include_loc: Loc,
    real: PathBuf,
}

impl<'p> Folder<'p> {
    /// The folder of `path`; `into`, the fragment `sync` writes, is counted among its files
    /// even before it exists.
    fn scan(path: &'p Path, into: Option<&str>) -> Folder<'p> {
        let base = crate::fsutil::folder_of(path).to_owned();
        let itself = std::fs::canonicalize(path).ok();
        let inside = std::fs::canonicalize(&base).ok();
        let mut found = Found::default();
        walk(&base, "", 0, &mut found);
        let Found {
            files: mut candidates,
            linked_folders,
        } = found;
        if let Some(into) = into
            && !candidates.iter().any(|c| c == into)
        {
            candidates.push(into.to_owned());
        }
        candidates.sort();
        Folder {
            path,
            base,
            itself,
            inside,
            candidates,
            linked_folders,
        }
    }

    /// The fragments the includes name, each once, in the order they are first named.
    fn choose(&self, includes: &[At<String>], diags: &mut Vec<Diagnostic>) -> Vec<Chosen> {
        let mut chosen: Vec<Chosen> = Vec::new();
        for pattern in includes {
            let Some(matcher) = matcher(pattern, diags) else {
                continue;
            };
            let matched = self.pick(pattern, &matcher, &mut chosen, diags);
            if matched == 0 {
                diags.push(self.nothing_matched(pattern));
            }
        }
        chosen
    }

    /// Adds to `chosen` the files `matcher` matches that may be read, each once; says why the
    /// others may not. Returns how many it matched.
    fn pick(
        &self,
        pattern: &At<String>,
        matcher: &GlobMatcher,
        chosen: &mut Vec<Chosen>,
        diags: &mut Vec<Diagnostic>,
    ) -> usize {
        let text = pattern.value.as_str();
        let mut matched = 0;
        for relative in self
            .candidates
            .iter()
            .filter(|c| matcher.is_match(c.as_str()))
        {
            matched += 1;
            let full = self.base.join(relative);
            let real = std::fs::canonicalize(&full).ok();
            if let (Some(real), Some(inside)) = (&real, &self.inside)
                && !real.starts_with(inside)
            {
                diags.push(
                    Diagnostic::new(
                        pattern.loc,
                        format!(
                            "include \"{text}\": {relative} leads out of {} (it is a symbolic link); a fragment must be a file inside the Workspace file's folder, and is not read",
                            self.base.display()
                        ),
                    )
                    .label("a link out of the folder")
                    .help("put the fragment itself in the folder (or a subfolder) of the Workspace file, in place of the link"),
                );
                continue;
            }
            if self.itself.is_some() && real == self.itself {
                diags.push(
                    Diagnostic::new(
                        pattern.loc,
                        format!(
                            "include \"{text}\" matches the Workspace file itself ({}); a file cannot include itself",
                            self.path.display()
                        ),
                    )
                    .help("keep fragments in a folder of their own: include: [\"teams/*.yaml\"]"),
                );
                continue;
            }
            if !chosen.iter().any(|c| c.relative == *relative) {
                chosen.push(Chosen {
                    relative: relative.clone(),
                    include_loc: pattern.loc,
                    real: real.unwrap_or(full),
                });
            }
        }
        matched
    }

    /// Why an include matched nothing: it reaches through a link to a folder, or there is
    /// nothing there.
    fn nothing_matched(&self, pattern: &At<String>) -> Diagnostic {
        let text = pattern.value.as_str();
        let through_link = self
            .linked_folders
            .iter()
            .find(|folder| reaches_into(text, folder));
        match through_link {
            Some(folder) => Diagnostic::new(
                pattern.loc,
                format!(
                    "include \"{text}\": {folder} is a symbolic link to a folder, and fragments are not read through links"
                ),
            )
            .label("a link to a folder")
            .help(format!(
                "make {folder} a folder of {} holding the fragments themselves",
                self.base.display()
            )),
            None => Diagnostic::new(
                pattern.loc,
                format!(
                    "include \"{text}\" matches no file in {}",
                    self.base.display()
                ),
            )
            .label("nothing matches"),
        }
    }
}

/// Whether one of the includes matches `relative`, a path relative to the Workspace file.
pub(super) fn matches(includes: &[At<String>], relative: &str) -> bool {
    includes.iter().any(|pattern| {
        GlobBuilder::new(&pattern.value)
            .literal_separator(true)
            .build()
            .is_ok_and(|glob| glob.compile_matcher().is_match(relative))
    })
}

/// The glob of an include, which must stay in the Workspace file's folder.
fn matcher(pattern: &At<String>, diags: &mut Vec<Diagnostic>) -> Option<GlobMatcher> {
    let text = pattern.value.as_str();
    if Path::new(text).is_absolute() || text.split(['/', '\\']).any(|part| part == "..") {
        diags.push(
            Diagnostic::new(
                pattern.loc,
                format!("include \"{text}\" must stay in the Workspace file's folder"),
            )
            .help("write a path relative to the Workspace file, without `..`: teams/*.yaml"),
        );
        return None;
    }
    match GlobBuilder::new(text).literal_separator(true).build() {
        Ok(glob) => Some(glob.compile_matcher()),
        Err(e) => {
            diags.push(Diagnostic::new(
                pattern.loc,
                format!("include \"{text}\" is not a valid glob: {}", e.kind()),
            ));
            None
        }
    }
}

/// Reads each chosen fragment and merges it into `file`, numbering them 1, 2, … as their
/// [`Loc::file`]; a fragment that cannot be read is an error at its include, with no text.
fn read_and_merge(
    base: &Path,
    chosen: Vec<Chosen>,
    file: &mut MembersFile,
    diags: &mut Vec<Diagnostic>,
    synced: Option<&Synced<'_>>,
) -> Vec<(String, String)> {
    let mut texts = Vec::with_capacity(chosen.len());
    for Chosen {
        relative,
        include_loc,
        real,
    } in chosen
    {
        let index = match u16::try_from(texts.len() + 1) {
            Ok(index) if index < u16::MAX => index,
            _ => {
                diags.push(Diagnostic::new(
                    file.include.first().map_or(Loc::new(1, 1), |p| p.loc),
                    "the file includes more fragments than the tool reads (65,534)",
                ));
                break;
            }
        };
        let name = base.join(&relative).display().to_string();
        // What was checked is what is read.
        let synced = synced.filter(|s| s.relative == relative);
        let found = match synced {
            Some(Synced {
                written: Some(text),
                ..
            }) => Ok((*text).to_owned()),
            _ => read(&real),
        };
        let text = match found {
            Ok(text) => text,
            // Not written yet: empty.
            Err(UnreadableFragment::Io(e))
                if synced.is_some() && e.kind() == std::io::ErrorKind::NotFound =>
            {
                String::new()
            }
            Err(why) => {
                diags.push(Diagnostic::new(
                    include_loc,
                    format!("cannot read the fragment {name}: {why}"),
                ));
                file.files.push(name.clone());
                texts.push((name, String::new()));
                continue;
            }
        };
        merge_fragment(file, index, &text, diags);
        file.files.push(name.clone());
        texts.push((name, text));
    }
    texts
}

/// Decodes the text of fragment number `index` and adds its members, guests and groups to
/// `file`.
fn merge_fragment(file: &mut MembersFile, index: u16, text: &str, diags: &mut Vec<Diagnostic>) {
    let in_fragment = |loc: Loc| Loc { file: index, ..loc };
    match yaml::parse(text) {
        Err(e) => diags.push(Diagnostic::new(in_fragment(e.loc), e.message)),
        Ok(mut root) => {
            yaml::in_file(&mut root, index);
            let (fragment, found) = decode::fragment(root);
            diags.extend(found);
            if let Some(fragment) = fragment {
                file.members.extend(fragment.members);
                file.guests.extend(fragment.guests);
                if let Some(groups) = fragment.groups {
                    file.groups.get_or_insert_with(Vec::new).extend(groups);
                }
            }
        }
    }
}

/// A fragment's text: a regular file of UTF-8 no larger than a members file may be.
fn read(path: &Path) -> Result<String, UnreadableFragment> {
    let meta = std::fs::metadata(path)?;
    if meta.len() > yaml::MAX_FILE_BYTES {
        return Err(UnreadableFragment::TooLarge { bytes: meta.len() });
    }
    let bytes = crate::fsutil::read_regular(path)?;
    String::from_utf8(bytes).map_err(|_| UnreadableFragment::NotUtf8)
}

/// Why a fragment could not be read, as a clause after `cannot read the fragment NAME: `.
#[derive(Debug, thiserror::Error)]
enum UnreadableFragment {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("it is {bytes} bytes, more than a members file may be")]
    TooLarge { bytes: u64 },
    #[error("it is not UTF-8 text; save it as UTF-8")]
    NotUtf8,
}

/// What [`walk`] finds below the Workspace file's folder, as paths relative to it with `/`
/// between their parts.
#[derive(Default)]
struct Found {
    /// Files, and links to files (which must lead to a file inside the folder).
    files: Vec<String>,
    /// Links to folders: not followed, but named when an include reaches into one.
    linked_folders: Vec<String>,
}

/// The files below `dir`. Hidden folders are skipped and links to folders are not followed
/// (no loop, and no file outside).
fn walk(dir: &Path, prefix: &str, depth: usize, found: &mut Found) {
    if depth > MAX_DEPTH {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        let relative = if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}/{name}")
        };
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if !name.starts_with('.') {
                walk(&entry.path(), &relative, depth + 1, found);
            }
        } else if kind.is_symlink() && entry.path().is_dir() {
            found.linked_folders.push(relative);
        } else if kind.is_file() || kind.is_symlink() {
            found.files.push(relative);
        }
    }
}

/// Whether the glob `pattern` names files inside `folder`: its first parts match the
/// folder's, and it goes on below them.
fn reaches_into(pattern: &str, folder: &str) -> bool {
    let parts: Vec<&str> = pattern.split('/').collect();
    let folder: Vec<&str> = folder.split('/').collect();
    parts.len() > folder.len()
        && parts.iter().zip(&folder).all(|(part, name)| {
            GlobBuilder::new(part)
                .build()
                .is_ok_and(|glob| glob.compile_matcher().is_match(name))
        })
}
