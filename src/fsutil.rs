//! Writing files so that a crash never leaves half of one: a temporary file beside the target,
//! synced, renamed over it, and the directory synced (`atomic-write-file`).

use std::io::Write;
use std::path::Path;

use atomic_write_file::OpenOptions;

/// Replaces `path` with `bytes` atomically, keeping the permissions of the file it replaces.
/// A symbolic link at `path` is written through: its target is replaced.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = OpenOptions::new().open(write_target(path)?)?;
    file.write_all(bytes)?;
    file.commit()
}

/// Replaces `path` itself with `bytes` atomically: a symbolic link at `path` is replaced by the
/// file, never followed (for files written where a link may have been planted).
pub(crate) fn write_atomic_unfollowed(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = OpenOptions::new().open(path)?;
    file.write_all(bytes)?;
    file.commit()
}

/// Replaces `path` with `bytes` atomically, readable by its owner only (mode 0600): for files
/// that hold people's emails (state, plans, snapshots).
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_private_with(path, |out| out.write_all(bytes))
}

/// Replaces `path` atomically, readable by its owner only, with what `write` writes, as it
/// writes it (through a buffer): for files of megabytes (a state, a snapshot), which are then
/// never held whole in memory. Nothing replaces `path` when `write` fails.
pub(crate) fn write_private_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use atomic_write_file::unix::OpenOptionsExt as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        options.preserve_mode(false).mode(0o600);
    }
    let mut file = options.open(write_target(path)?)?;
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, &mut file);
    write(&mut buffered)?;
    buffered.flush()?;
    drop(buffered);
    file.commit()
}

/// `open(2)`'s flag that refuses a symbolic link in the last component of a path.
#[cfg(unix)]
pub(crate) const O_NOFOLLOW: i32 = libc::O_NOFOLLOW;

/// Reads `path`, which must be a regular file (a link to one is followed): a FIFO, a device or
/// a directory in its place would hang or mislead the read, and is refused.
pub(crate) fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    open_regular(path)?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Opens `path` for reading, which must be a regular file (see [`read_regular`]).
pub(crate) fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file (a FIFO, a device or a directory is in its place)",
        ));
    }
    std::fs::File::open(path)
}

/// The file a write to `path` replaces: `path`, or the target of the symbolic link at `path`
/// (so that the link keeps pointing at the current file), created if it is not there yet.
pub(crate) fn write_target(path: &Path) -> std::io::Result<std::path::PathBuf> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Ok(canonical(path)),
        _ => Ok(path.to_owned()),
    }
}

/// `path` with its directories and any link resolved, so that two spellings of one file (an
/// alias through a symbolic link, `./x` and `x`) name one lock. A file that does not exist
/// yet is resolved through its directory.
pub(crate) fn canonical(path: &Path) -> std::path::PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    // A link to a file not written yet: follow it by hand (a few hops at most).
    let mut path = path.to_owned();
    for _ in 0..16 {
        let Ok(target) = std::fs::read_link(&path) else {
            break;
        };
        path = match path.parent() {
            Some(dir) if target.is_relative() => dir.join(target),
            _ => target,
        };
    }
    let path = path.as_path();
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match (std::fs::canonicalize(parent), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => path.to_owned(),
    }
}

/// How to reach `target` from the folder `from` (both resolved first): `../clickup/acme.yaml`.
/// Written with `/` whatever the platform, so that a plan saved on one machine reads on any.
/// `None` when no relative path leads there (another drive).
pub(crate) fn relative(target: &Path, from: &Path) -> Option<String> {
    use std::path::Component;
    let (target, from) = (canonical(target), canonical(from));
    let (mut t, mut f) = (target.components().peekable(), from.components().peekable());
    while let (Some(a), Some(b)) = (t.peek(), f.peek()) {
        if a != b {
            break;
        }
        t.next();
        f.next();
    }
    let mut parts: Vec<String> = Vec::new();
    for part in f {
        match part {
            Component::Normal(_) => parts.push("..".to_owned()),
            Component::Prefix(_) | Component::RootDir => return None,
            Component::CurDir | Component::ParentDir => {}
        }
    }
    for part in t {
        match part {
            Component::Normal(name) => parts.push(name.to_str()?.to_owned()),
            Component::Prefix(_) | Component::RootDir => return None,
            Component::CurDir | Component::ParentDir => {}
        }
    }
    Some(if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    })
}

/// `relative` (a path relative to the folder of the file `beside`), as a path from here.
pub(crate) fn beside(beside: &Path, relative: &str) -> std::path::PathBuf {
    match beside.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(relative),
        _ => std::path::PathBuf::from(relative),
    }
}

/// The folder a file is in (`.` for a bare name).
pub(crate) fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relative_path_climbs_out_of_the_folder_and_down_to_the_file() {
        let dir = tempfile::tempdir().expect("dir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("clickup/teams")).expect("mkdir");
        std::fs::create_dir_all(root.join("plans/pr")).expect("mkdir");
        std::fs::write(root.join("clickup/acme.yaml"), "").expect("write");
        assert_eq!(
            relative(&root.join("clickup/acme.yaml"), &root.join("plans/pr")).as_deref(),
            Some("../../clickup/acme.yaml")
        );
        assert_eq!(
            relative(&root.join("clickup/acme.yaml"), &root.join("clickup")).as_deref(),
            Some("acme.yaml")
        );
        assert_eq!(
            relative(&root.join("clickup"), &root.join("clickup")).as_deref(),
            Some(".")
        );
    }
}
