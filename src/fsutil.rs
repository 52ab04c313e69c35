//! Writing files so that a crash never leaves half of one: a temporary file beside the target,
//! synced, renamed over it, and the directory synced (`atomic-write-file`).

use std::io::Write;
use std::path::Path;

use atomic_write_file::AtomicWriteFile;

/// Replaces `path` with `bytes` atomically.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = AtomicWriteFile::options().open(path)?;
    file.write_all(bytes)?;
    file.commit()
}
