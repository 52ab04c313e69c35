//! The lock beside the state file (`<state>.lock`): only one `apply` at a time works on a state.
//! The lock is an OS file lock (`File::try_lock`), released by the OS if the process dies; the
//! file records who holds it (host, pid, start time, command, a random lock id) so that a
//! second `apply` can say so. A lock that a dead run left held (an inherited descriptor, a
//! network file system) is removed with `force-unlock LOCK_ID`.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Who holds a lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LockInfo {
    pub(crate) id: String,
    pub(crate) host: String,
    pub(crate) pid: u32,
    /// RFC 3339.
    pub(crate) started: String,
    pub(crate) command: String,
}

impl LockInfo {
    pub(crate) fn describe(&self) -> String {
        format!(
            "`{}` on {} (pid {}) since {}, lock id {}",
            self.command, self.host, self.pid, self.started, self.id
        )
    }
}

/// A held lock; dropping it removes the lock file and releases the lock.
#[derive(Debug)]
pub(crate) struct StateLock {
    file: File,
    path: PathBuf,
    pub(crate) info: LockInfo,
    /// What a previous run that died left in the lock file, if anything.
    pub(crate) taken_over: Option<LockInfo>,
}

/// The lock of `state`, beside the file it really is: two spellings of one state (a link, a
/// relative path) share one lock.
pub(crate) fn lock_path(state: &Path) -> PathBuf {
    let state = crate::fsutil::canonical(state);
    let mut name = state.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    state.with_file_name(name)
}

/// Opens (or creates) the lock file; a symbolic link in its place is refused, so that a
/// planted link cannot make the lock truncate another file.
fn open(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(crate::fsutil::O_NOFOLLOW);
    }
    options.open(path)
}

fn open_existing(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(crate::fsutil::O_NOFOLLOW);
    }
    options.open(path)
}

fn read_info(file: &mut File) -> Option<LockInfo> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

/// Whether `file` is still the file at `path` (a run that finished may have removed it
/// between our open and our lock).
fn still_there(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), std::fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        true
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "unknown host".to_owned())
}

/// Why the lock cannot be taken or removed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LockError {
    /// Another run holds it.
    #[error(
        "the state is locked by {}; wait for that run to end, or if it died, run `clickup-members force-unlock LOCK_ID` (lock file {})",
        holder.as_deref().map_or_else(|| "another process".to_owned(), LockInfo::describe),
        path.display()
    )]
    Held {
        holder: Option<Box<LockInfo>>,
        path: PathBuf,
    },
    /// Other runs keep replacing the lock file.
    #[error("cannot take the lock {}: it keeps being replaced by other runs", path.display())]
    Contended { path: PathBuf },
    /// `force-unlock` found no lock.
    #[error("there is no lock: {} does not exist", path.display())]
    NoLock { path: PathBuf },
    /// `force-unlock` found a lock that does not say who holds it.
    #[error("{} does not say who holds it; remove it by hand if no apply is running", path.display())]
    Unreadable { path: PathBuf },
    /// `force-unlock` was given another lock's id.
    #[error("the lock is {}, not {id}; nothing was removed", holder.describe())]
    OtherId { holder: Box<LockInfo>, id: String },
    /// `force-unlock` without `--force` while the holder lives.
    #[error(
        "the lock is {}, and {why}: removing it would let a second apply run beside the first. Wait for it to end, or stop it; if you are sure it is stuck, run force-unlock {} --force",
        holder.describe(),
        holder.id
    )]
    Alive {
        holder: Box<LockInfo>,
        why: &'static str,
    },
    #[error("cannot {action} {}: {error}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
}

impl StateLock {
    /// Takes the lock of `state`, or says who holds it.
    pub(crate) fn acquire(state: &Path, command: &str) -> Result<StateLock, LockError> {
        let path = lock_path(state);
        let io = |action, error| LockError::Io {
            action,
            path: path.clone(),
            error,
        };
        for _ in 0..5 {
            let mut file = open(&path).map_err(|e| io("open the lock", e))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(LockError::Held {
                        holder: read_info(&mut file).map(Box::new),
                        path,
                    });
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io("lock", e)),
            }
            if !still_there(&file, &path) {
                continue;
            }
            let taken_over = read_info(&mut file);
            let info = LockInfo {
                id: uuid::Uuid::new_v4().to_string(),
                host: host_name(),
                pid: std::process::id(),
                started: crate::clock::now_rfc3339(),
                command: command.to_owned(),
            };
            let mut bytes =
                serde_json::to_vec_pretty(&info).map_err(|e| io("write the lock", e.into()))?;
            bytes.push(b'\n');
            let written = file
                .set_len(0)
                .and_then(|()| file.seek(SeekFrom::Start(0)))
                .and_then(|_| file.write_all(&bytes))
                .and_then(|()| file.sync_all());
            written.map_err(|e| io("write the lock", e))?;
            return Ok(StateLock {
                file,
                path,
                info,
                taken_over,
            });
        }
        Err(LockError::Contended { path })
    }
}

impl Drop for StateLock {
    fn drop(&mut self) {
        if still_there(&self.file, &self.path) {
            let _ = std::fs::remove_file(&self.path);
        }
        let _ = self.file.unlock();
    }
}

/// Whether the process `pid` runs on this machine (`None` where that cannot be told).
fn process_alive(pid: u32) -> Option<bool> {
    if cfg!(target_os = "linux") {
        Some(Path::new(&format!("/proc/{pid}")).exists())
    } else {
        None
    }
}

/// Removes the lock of `state` if its id is `id`; returns the holder. Refused while the holder
/// is alive (it holds the operating system's lock, or it is a process on this host that still
/// runs) unless `force`, which `warn`s what it does.
pub(crate) fn force_unlock(
    state: &Path,
    id: &str,
    force: bool,
    warn: fn(&str),
) -> Result<LockInfo, LockError> {
    let path = lock_path(state);
    let mut file = match open_existing(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(LockError::NoLock { path });
        }
        Err(error) => {
            return Err(LockError::Io {
                action: "read the lock",
                path,
                error,
            });
        }
    };
    let Some(info) = read_info(&mut file) else {
        return Err(LockError::Unreadable { path });
    };
    if info.id != id {
        return Err(LockError::OtherId {
            holder: Box::new(info),
            id: id.to_owned(),
        });
    }
    let held = matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock));
    let running_here = info.host == host_name() && process_alive(info.pid) == Some(true);
    if held || running_here {
        let why = if held {
            "a live process holds it"
        } else {
            "its process still runs on this host"
        };
        if !force {
            return Err(LockError::Alive {
                holder: Box::new(info),
                why,
            });
        }
        warn(&format!(
            "--force: removing the lock although {why}; if that run goes on, two applies work on one state"
        ));
    }
    if let Err(error) = std::fs::remove_file(&path) {
        return Err(LockError::Io {
            action: "remove",
            path,
            error,
        });
    }
    let _ = file.unlock();
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_names_the_holder_and_the_lock_goes_away_after_use() {
        let dir = tempfile::tempdir().expect("dir");
        let state = dir.path().join("members.state.json");
        let first = StateLock::acquire(&state, "apply").expect("first");
        let err = StateLock::acquire(&state, "apply")
            .expect_err("second")
            .to_string();
        assert!(err.contains(&first.info.id), "{err}");
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(first);
        assert!(!lock_path(&state).exists());
        let again = StateLock::acquire(&state, "apply").expect("free again");
        assert!(again.taken_over.is_none());
    }

    #[cfg(unix)]
    #[test]
    fn the_lock_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let state = dir.path().join("s.json");
        let _lock = StateLock::acquire(&state, "apply").expect("lock");
        let mode = std::fs::metadata(lock_path(&state))
            .expect("lock file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn force_unlock_checks_the_id() {
        let dir = tempfile::tempdir().expect("dir");
        let state = dir.path().join("s.json");
        let lock = StateLock::acquire(&state, "apply").expect("lock");
        let id = lock.info.id.clone();
        std::mem::forget(lock);
        assert!(force_unlock(&state, "wrong", false, |_| {}).is_err());
        // Held (the forgotten lock keeps the operating system's lock in this process): refused.
        let err = force_unlock(&state, &id, false, |_| {})
            .expect_err("held")
            .to_string();
        assert!(err.contains("a live process holds it"), "{err}");
        assert!(lock_path(&state).exists());
        assert_eq!(
            force_unlock(&state, &id, true, |_| {}).map(|i| i.id).ok(),
            Some(id)
        );
        assert!(!lock_path(&state).exists());
    }
}
