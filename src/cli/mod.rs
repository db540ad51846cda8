//! One-off commands of the `minicrew` binary that do not run the bot: `backup`, `restore` and
//! `config`. Each lives in its own file and returns the text to print; `main.rs` only wires them.
//!
//! Files these commands write are written the durable way: a private temp file beside the
//! target, synced, renamed over the target, and the folder synced, so a crash leaves either the
//! old file or the new one, never half of one.

pub mod backup;
pub mod restore;
pub mod show_config;

use std::fs::File;
use std::path::{Path, PathBuf};

/// Errors of the one-off commands, each said so that the user knows what to do.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command will not do what was asked, and says why (an existing file, a running bot…).
    #[error("{0}")]
    Refused(String),
    /// A file operation failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done ("cannot write").
        what: &'static str,
        /// The file or folder.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The database layer failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The file offered for a restore cannot be restored.
    #[error(transparent)]
    Check(#[from] crate::store::snapshot::CheckError),
}

impl CliError {
    fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.display().to_string();
        move |source| Self::Io { what, path, source }
    }
}

/// A temp file removed when dropped unless it was renamed into place.
struct TempFile {
    path: PathBuf,
    kept: bool,
}

impl TempFile {
    /// Creates `.<name>.tmp-<pid>` beside `target`, empty, readable by the owner only.
    fn beside(target: &Path) -> Result<Self, CliError> {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "minicrew".into());
        let path = parent_of(target).join(format!(".{name}.tmp-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        create_private_new(&path)?;
        Ok(Self { path, kept: false })
    }

    /// Syncs the file, renames it over `target` and syncs the folder.
    fn commit(mut self, target: &Path) -> Result<(), CliError> {
        File::open(&self.path)
            .and_then(|f| f.sync_all())
            .map_err(CliError::io("cannot sync", &self.path))?;
        std::fs::rename(&self.path, target).map_err(CliError::io("cannot write", target))?;
        self.kept = true;
        sync_dir(parent_of(target))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
            // SQLite's rollback journal of an interrupted copy, if any.
            let mut journal = self.path.as_os_str().to_owned();
            journal.push("-journal");
            let _ = std::fs::remove_file(PathBuf::from(journal));
        }
    }
}

/// Creates `path` (which must not exist) with mode 0600.
fn create_private_new(path: &Path) -> Result<File, CliError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .map_err(CliError::io("cannot create", path))
}

/// Writes `bytes` to `target` durably with mode 0600 (temp file, sync, rename, sync folder).
fn write_private(target: &Path, bytes: &[u8]) -> Result<(), CliError> {
    use std::io::Write;
    let temp = TempFile::beside(target)?;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&temp.path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(CliError::io("cannot write", &temp.path))?;
    temp.commit(target)
}

/// Syncs a folder so that a rename inside it survives a power cut (a no-op where folders cannot
/// be opened, i.e. not on Unix).
fn sync_dir(dir: &Path) -> Result<(), CliError> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(CliError::io("cannot sync", dir))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// The folder holding `path` (`.` for a bare file name).
fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Whether `a` and `b` name the same existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
