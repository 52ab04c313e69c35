//! Writing files so that a crash never leaves half of one: a temporary file beside the target,
//! synced, renamed over it, and the directory synced (`atomic-write-file`).

use std::io::Write;
use std::path::Path;

use atomic_write_file::OpenOptions;

/// Replaces `path` with `bytes` atomically, keeping the permissions of the file it replaces.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = OpenOptions::new().open(path)?;
    file.write_all(bytes)?;
    file.commit()
}

/// Replaces `path` with `bytes` atomically, readable by its owner only (mode 0600): for files
/// that hold people's emails (state, plans, snapshots).
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use atomic_write_file::unix::OpenOptionsExt as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        options.preserve_mode(false).mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.commit()
}
