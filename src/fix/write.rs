//! Writing fixed files back without ever leaving a half-written or clobbered config.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub enum WriteError {
    /// The target could not be resolved, inspected or re-read.
    Read { path: PathBuf, source: io::Error },
    /// The target is not a regular file (after following symlinks).
    NotAFile { path: PathBuf },
    /// The file's contents differ from what was linted: someone edited it meanwhile.
    ChangedOnDisk { path: PathBuf },
    /// Creating, writing or renaming the replacement failed; the original is untouched.
    Write { path: PathBuf, source: io::Error },
}

impl WriteError {
    pub fn path(&self) -> &Path {
        match self {
            WriteError::Read { path, .. }
            | WriteError::NotAFile { path }
            | WriteError::ChangedOnDisk { path }
            | WriteError::Write { path, .. } => path,
        }
    }
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Read { path, source } => {
                write!(
                    f,
                    "{}: cannot read before writing: {source}",
                    path.display()
                )
            }
            WriteError::NotAFile { path } => {
                write!(f, "{}: not a regular file; not writing", path.display())
            }
            WriteError::ChangedOnDisk { path } => write!(
                f,
                "{}: changed on disk since it was read; not writing (run again)",
                path.display()
            ),
            WriteError::Write { path, source } => {
                write!(f, "{}: cannot write: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WriteError::Read { source, .. } | WriteError::Write { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Replace the contents of `path` with `new_contents`, atomically.
///
/// Symlinks are followed, so the link's target is rewritten and the link stays a link. The
/// target must still hold exactly `expected_current` (the text that was linted), otherwise
/// `ChangedOnDisk`. The new contents go to a temporary file beside the target that takes over
/// its mode and, where permitted, its owner and group; it is synced and renamed over the
/// target. On error the target is untouched and the temporary file is removed.
///
/// Renaming gives the file a new inode: hard links to the old one keep the old contents, and
/// extended attributes and ACLs are not carried over.
pub fn write_atomic(
    path: &Path,
    new_contents: &[u8],
    expected_current: &[u8],
) -> Result<(), WriteError> {
    let read_err = |source| WriteError::Read {
        path: path.to_path_buf(),
        source,
    };
    // Rename replaces directory entries, not link targets: write where the data really lives.
    let target = fs::canonicalize(path).map_err(read_err)?;
    let meta = fs::metadata(&target).map_err(read_err)?;
    if !meta.is_file() {
        return Err(WriteError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    let dir = target.parent().unwrap_or(Path::new("/"));
    let write_err = |source| WriteError::Write {
        path: path.to_path_buf(),
        source,
    };

    // Same directory as the target, so the final rename cannot cross filesystems. The name
    // makes a temp file left by a crash recognisable.
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".nfl-tmp")
        .tempfile_in(dir)
        .map_err(write_err)?;
    tmp.write_all(new_contents).map_err(write_err)?;
    let file = tmp.as_file();
    let tmp_meta = file.metadata().map_err(write_err)?;
    if (tmp_meta.uid(), tmp_meta.gid()) != (meta.uid(), meta.gid()) {
        // Only root (or a member of the group) may hand the file over; otherwise the new file
        // keeps our ids, which is the best an unprivileged run can do.
        match std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid())) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                // Try the group alone: allowed when we own the file and are in the group.
                let _ = std::os::unix::fs::fchown(file, None, Some(meta.gid()));
            }
            Err(e) => return Err(write_err(e)),
        }
    }
    // After chown, which may clear set-id bits.
    file.set_permissions(fs::Permissions::from_mode(meta.mode() & 0o7777))
        .map_err(write_err)?;
    file.sync_all().map_err(write_err)?;

    // Check as late as possible to keep the race window small.
    let current = fs::read(&target).map_err(read_err)?;
    if current != expected_current {
        return Err(WriteError::ChangedOnDisk {
            path: path.to_path_buf(),
        });
    }
    tmp.persist(&target).map_err(|e| write_err(e.error))?;
    // Make the rename itself durable; the data is already safe, so this is best effort.
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn writes_and_keeps_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("www.conf");
        fs::write(&p, "old\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&p, b"new\n", b"old\n").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new\n");
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o7777, 0o640);
        assert_eq!(entries(dir.path()), ["www.conf"]);
    }

    #[test]
    fn refuses_when_changed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.conf");
        fs::write(&p, "edited\n").unwrap();
        let err = write_atomic(&p, b"new\n", b"old\n").unwrap_err();
        assert!(matches!(err, WriteError::ChangedOnDisk { .. }));
        assert!(err.to_string().contains("a.conf"), "{err}");
        assert_eq!(fs::read(&p).unwrap(), b"edited\n");
        assert_eq!(entries(dir.path()), ["a.conf"]);
    }

    #[test]
    fn keeps_owner_when_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("owned.conf");
        fs::write(&p, "old\n").unwrap();
        // Only root may give a file away; elsewhere this just checks nothing breaks.
        let given = std::os::unix::fs::chown(&p, Some(4321), Some(4321)).is_ok();
        let before = fs::metadata(&p).unwrap();
        write_atomic(&p, b"new\n", b"old\n").unwrap();
        let after = fs::metadata(&p).unwrap();
        assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
        if given {
            assert_eq!(after.uid(), 4321);
        }
    }

    #[test]
    fn missing_file_and_directory_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_atomic(&dir.path().join("nope"), b"x", b"").unwrap_err();
        assert!(matches!(err, WriteError::Read { .. }), "{err}");
        let err = write_atomic(dir.path(), b"x", b"").unwrap_err();
        assert!(matches!(err, WriteError::NotAFile { .. }), "{err}");
        assert!(entries(dir.path()).is_empty());
    }
}
