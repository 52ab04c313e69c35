//! Reading the file set only when it stands still. `git pull` rewrites files in place: a
//! fragment read in the middle is a team planned as empty, removed, and invited again on the
//! next cycle. A cycle keeps what it read only when no file it used (the Workspace files, every
//! fragment they include, and the folders the includes were matched in) had changed for the
//! settle time before the read, and reading every file again gives the same text; otherwise it
//! waits and reads again, and gives up after [`PATIENCE`] settle times. (Two quick reads that
//! agree are not enough: both can fall inside the rewrite.) What a file means is the caller's
//! read; this module only says when to trust it.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};
use tokio::time::Instant;

use crate::commands::Common;
use crate::commands::Error;
use crate::commands::targets::Targets;
use crate::stop::StopSignal;

/// How many settle times a cycle waits for its files before it is counted invalid.
pub(super) const PATIENCE: u32 = 10;
/// The shortest wait between two reads.
const LEAST_WAIT: Duration = Duration::from_millis(50);
/// How deep below a folder the folders that include globs match in are watched (as deep as
/// `include:` looks).
const MAX_DEPTH: usize = 8;

/// What a read of the file set used.
#[derive(Debug, Default)]
pub(super) struct Used {
    /// Each file, with the digest of the text the read used; `None` when only its stamp is
    /// checked (a read that failed, or found the files invalid: nothing is planned from it).
    files: Vec<(PathBuf, Option<[u8; 32]>)>,
    /// The folders whose lists of files the read depended on.
    folders: Vec<PathBuf>,
}

impl Used {
    fn file(&mut self, path: &Path, text: Option<&str>) {
        let digest = text.map(|text| Sha256::digest(text.as_bytes()).into());
        self.files.push((path.to_owned(), digest));
    }

    /// `root` and the folders below it, as `include:` walks them: hidden ones and links to
    /// folders left out.
    fn tree(&mut self, root: &Path) {
        self.folders.push(root.to_owned());
        let mut below = vec![(root.to_owned(), 0)];
        while let Some((dir, depth)) = below.pop() {
            if depth >= MAX_DEPTH {
                continue;
            }
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let hidden = entry.file_name().to_string_lossy().starts_with('.');
                if !hidden && entry.file_type().is_ok_and(|t| t.is_dir()) {
                    self.folders.push(entry.path());
                    below.push((entry.path(), depth + 1));
                }
            }
        }
    }
}

/// A read of the file set: what the caller made of it, and what it used.
#[derive(Debug)]
pub(super) struct Read<T> {
    pub(super) value: T,
    pub(super) used: Used,
}

/// Reads the file set the command line names (a Workspace file, or a folder of them) with
/// their fragments.
pub(super) fn targets(common: &Common) -> Read<Result<Targets, Error>> {
    let read = crate::commands::targets::read_all(common);
    let mut used = Used::default();
    if common.file.is_dir() {
        used.tree(&common.file);
    }
    match &read {
        // Only files read whole and valid can be planned: only their texts must match.
        Ok(targets) => {
            for loaded in targets.files.iter().filter_map(|f| f.loaded.as_ref()) {
                used.file(&loaded.path, Some(&loaded.source));
                for (name, text) in &loaded.fragments {
                    used.file(Path::new(name), Some(text));
                }
                if !loaded.file.include.is_empty() {
                    used.tree(crate::fsutil::folder_of(&loaded.path));
                }
            }
        }
        Err(error) => {
            let files = if common.file.is_dir() {
                crate::commands::targets::folder_files(&common.file).unwrap_or_default()
            } else {
                vec![common.file.clone()]
            };
            for path in &files {
                used.file(path, None);
            }
            let each: Vec<&Error> = match error {
                Error::Several { errors, .. } => errors.iter().collect(),
                other => vec![other],
            };
            for found in each.iter().filter_map(|e| e.file_problems()) {
                for (name, _) in &found.fragments {
                    used.file(Path::new(name), None);
                }
                if !found.fragments.is_empty() {
                    used.tree(crate::fsutil::folder_of(Path::new(&found.file)));
                }
            }
        }
    }
    Read { value: read, used }
}

/// A file or folder as its metadata shows it: writing it, or putting another in its place,
/// changes its stamp.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    /// When its inode last changed (Unix): a tool that puts back an old modification time
    /// cannot put back this.
    changed: Option<SystemTime>,
    len: u64,
    /// Device and inode (Unix): a file replaced by a rename is another file.
    id: Option<(u64, u64)>,
}

impl Stamp {
    /// The stamp of `path`, following links; `None` when there is nothing there.
    fn of(path: &Path) -> Option<Stamp> {
        let meta = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        let (changed, id) = {
            use std::os::unix::fs::MetadataExt;
            let changed = u64::try_from(meta.ctime()).ok().and_then(|seconds| {
                let nanos = u32::try_from(meta.ctime_nsec()).unwrap_or(0);
                SystemTime::UNIX_EPOCH.checked_add(Duration::new(seconds, nanos))
            });
            (changed, Some((meta.dev(), meta.ino())))
        };
        #[cfg(not(unix))]
        let (changed, id) = (None, None);
        Some(Stamp {
            modified: meta.modified().ok(),
            changed,
            len: meta.len(),
            id,
        })
    }

    /// The last time it changed, as the file system tells.
    fn newest(&self) -> Option<SystemTime> {
        self.modified.max(self.changed)
    }
}

/// Every stamp seen, with when it was first seen on the monotonic clock: a file whose times
/// cannot be trusted (in the future, or the wall clock stepped) still counts as still once it
/// has been seen unchanged for the settle time.
#[derive(Debug, Default)]
pub(super) struct Seen(Mutex<HashMap<PathBuf, (Option<Stamp>, Instant)>>);

/// Why the files read are not kept, and how long to wait before reading again.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Unsettled {
    why: String,
    wait: Duration,
}

/// How a read of a file set that must stand still ended.
#[derive(Debug)]
pub(super) enum Settled<T> {
    /// Read from files that stood still.
    Read(T),
    /// The files did not stand still within [`PATIENCE`] settle times: why.
    Never(String),
    /// A stop was asked for meanwhile.
    Stopped,
}

/// Runs `read` (on a blocking thread) until what it used stood still for `settle`; with a
/// `settle` of zero, once.
pub(super) async fn read_still<T, F>(
    settle: Duration,
    seen: &Arc<Seen>,
    stop: &StopSignal,
    read: F,
) -> Settled<T>
where
    T: Send + 'static,
    F: Fn() -> Read<T> + Send + Sync + 'static,
{
    let read = Arc::new(read);
    let patience = settle.saturating_mul(PATIENCE);
    let started = Instant::now();
    loop {
        let wall = SystemTime::now();
        let began = Instant::now();
        let attempt = {
            let (read, seen) = (read.clone(), seen.clone());
            tokio::task::spawn_blocking(move || {
                let read = read();
                let verdict = if settle.is_zero() {
                    Ok(())
                } else {
                    check(&read.used, settle, wall, began, &seen)
                };
                (read.value, verdict)
            })
            .await
        };
        let unsettled = match attempt {
            Ok((value, Ok(()))) => return Settled::Read(value),
            Ok((_, Err(unsettled))) => unsettled,
            Err(e) => return Settled::Never(format!("the files could not be read: {e}")),
        };
        if started.elapsed() + unsettled.wait > patience {
            return Settled::Never(format!(
                "the files did not stand still for {} within {}: {}; nothing was read from ClickUp",
                humantime::format_duration(settle),
                humantime::format_duration(patience),
                unsettled.why
            ));
        }
        tracing::debug!(
            "waiting {:.1?} for the files to stand still: {}",
            unsettled.wait,
            unsettled.why
        );
        stop.sleep(unsettled.wait).await;
        if stop.is_set() {
            return Settled::Stopped;
        }
    }
}

/// Whether what a read begun at `wall` (`began` on the monotonic clock) used had stood still
/// for `settle` before it, and reads the same now.
fn check(
    used: &Used,
    settle: Duration,
    wall: SystemTime,
    began: Instant,
    seen: &Seen,
) -> Result<(), Unsettled> {
    let now = Instant::now();
    let mut seen = seen.0.lock().unwrap_or_else(PoisonError::into_inner);
    let mut kept = HashSet::new();
    let mut verdict = Ok(());
    let paths = used
        .files
        .iter()
        .map(|(path, digest)| (path, digest.as_ref()))
        .chain(used.folders.iter().map(|path| (path, None)));
    for (path, digest) in paths {
        kept.insert(path.clone());
        let stamp = Stamp::of(path);
        let since = match seen.get(path) {
            Some((before, since)) if *before == stamp => *since,
            _ => {
                seen.insert(path.clone(), (stamp.clone(), now));
                now
            }
        };
        if verdict.is_err() {
            continue;
        }
        // Still since `settle` before the read, by the file system's clock or by what was
        // seen here: how much longer each would take (`None`: the file system cannot tell).
        let by_wall = stamp.as_ref().and_then(Stamp::newest).map(|newest| {
            newest.checked_add(settle).map_or(settle, |still_at| {
                still_at.duration_since(wall).unwrap_or_default()
            })
        });
        let by_seen = (since + settle).saturating_duration_since(began);
        if by_wall != Some(Duration::ZERO) && !by_seen.is_zero() {
            let left = by_seen.min(by_wall.unwrap_or(settle));
            verdict = Err(Unsettled {
                why: format!(
                    "{} changed less than {} before it was read",
                    path.display(),
                    humantime::format_duration(settle)
                ),
                wait: left.max(LEAST_WAIT),
            });
        } else if let Some(digest) = digest
            && !reads_the_same(path, digest)
        {
            verdict = Err(Unsettled {
                why: format!("{} changed while it was read", path.display()),
                wait: settle,
            });
        }
    }
    seen.retain(|path, _| kept.contains(path));
    verdict
}

/// Whether `path` holds the text whose digest is `digest`; a file that cannot be read now
/// matches the empty text the read put in its place.
fn reads_the_same(path: &Path, digest: &[u8; 32]) -> bool {
    let now: [u8; 32] = match crate::fsutil::read_regular(path) {
        Ok(bytes) => Sha256::digest(&bytes).into(),
        Err(_) => Sha256::digest(b"").into(),
    };
    now == *digest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn used(dir: &Path, files: &[(&str, &str)]) -> Used {
        let mut used = Used::default();
        for (name, text) in files {
            used.file(&dir.join(name), Some(text));
        }
        used
    }

    #[tokio::test]
    async fn a_file_changed_within_the_settle_time_is_read_again_after_it() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("members.yaml");
        std::fs::write(&path, "version: 1\n").expect("write");
        let seen = Seen::default();
        let wall = SystemTime::now();
        let began = Instant::now();
        let fresh = check(
            &used(dir.path(), &[("members.yaml", "version: 1\n")]),
            Duration::from_secs(2),
            wall,
            began,
            &seen,
        )
        .expect_err("just written");
        assert!(
            fresh.why.contains("members.yaml changed less than 2s"),
            "{fresh:?}"
        );
        assert!(fresh.wait > Duration::from_secs(1) && fresh.wait <= Duration::from_secs(2));
        // Long after it was written (as the read's clock says), and the same text: kept.
        let later = wall + Duration::from_secs(3);
        assert_eq!(
            check(
                &used(dir.path(), &[("members.yaml", "version: 1\n")]),
                Duration::from_secs(2),
                later,
                began,
                &seen,
            ),
            Ok(())
        );
        // Another text now than the read used: read again.
        let changed = check(
            &used(dir.path(), &[("members.yaml", "version: 2\n")]),
            Duration::from_secs(2),
            later,
            began,
            &seen,
        )
        .expect_err("another text");
        assert!(
            changed.why.contains("changed while it was read"),
            "{changed:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_file_from_the_future_settles_once_seen_unchanged_for_the_settle_time() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("members.yaml");
        std::fs::write(&path, "version: 1\n").expect("write");
        let ahead = std::fs::File::options()
            .write(true)
            .open(&path)
            .expect("open");
        ahead
            .set_modified(SystemTime::now() + Duration::from_secs(86_400))
            .expect("set the time");
        let seen = Arc::new(Seen::default());
        let settle = Duration::from_millis(500);
        let read = {
            let path = path.clone();
            move || Read {
                value: (),
                used: {
                    let mut used = Used::default();
                    used.file(&path, Some("version: 1\n"));
                    used
                },
            }
        };
        let settled = read_still(settle, &seen, &StopSignal::default(), read).await;
        assert!(matches!(settled, Settled::Read(())), "{settled:?}");
    }
}
