//! The database at rest is private to the bot's own OS user: `minicrew.db` holds chat history,
//! notes and raw updates. The file is created with mode 0600 before SQLite opens it; SQLite
//! then gives its `-wal` and `-shm` files the database file's mode. A file left more open by an
//! older version (or by hand) is tightened at open, with one warning per file.
//!
//! A new data directory is created 0700. Elsewhere than Unix, file modes do not exist and
//! nothing here applies.

use std::path::{Path, PathBuf};

use super::StoreError;

/// Owner read and write; nothing for group and others.
#[cfg(unix)]
const PRIVATE_FILE: u32 = 0o600;
/// Owner only, for a data directory this module creates.
#[cfg(unix)]
const PRIVATE_DIR: u32 = 0o700;

/// Creates `dir` (and missing parents) owner-only if it does not exist yet.
pub(super) fn create_data_dir(dir: &Path) -> Result<(), StoreError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(PRIVATE_DIR);
    }
    builder.create(dir).map_err(|source| StoreError::DataDir {
        path: dir.display().to_string(),
        source,
    })
}

/// Makes sure `db` exists with mode 0600 and that it and its `-wal`/`-shm` files, where they
/// exist, are readable by the owner only.
pub(super) fn make_private(db: &Path) -> Result<(), StoreError> {
    create_private(db).map_err(|source| permission_error(db, source))?;
    for path in [db.to_path_buf(), sidecar(db, "-wal"), sidecar(db, "-shm")] {
        tighten(&path).map_err(|source| permission_error(&path, source))?;
    }
    Ok(())
}

fn permission_error(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Permissions {
        path: path.display().to_string(),
        source,
    }
}

/// `minicrew.db-wal` beside `minicrew.db`.
pub(super) fn sidecar(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Creates an empty file with mode 0600 unless it exists (SQLite takes an empty file as a new
/// database).
pub(super) fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(PRIVATE_FILE);
    }
    options.open(path).map(drop)
}

/// Removes group and other permissions from `path` if it exists and has any.
#[cfg(unix)]
fn tighten(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = match std::fs::metadata(path) {
        Ok(meta) => meta.permissions().mode() & 0o777,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if mode & 0o077 == 0 {
        return Ok(());
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(PRIVATE_FILE))?;
    tracing::warn!(
        path = %path.display(),
        was = format_args!("{mode:o}"),
        "the database file was readable by other users; its mode is now 600"
    );
    Ok(())
}

#[cfg(not(unix))]
fn tighten(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::super::Store;
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn set_mode(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[tokio::test]
    async fn a_new_database_and_its_wal_and_shm_files_are_readable_by_the_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let store = Store::open(&data).unwrap();
        store
            .call(|c| c.execute("INSERT INTO settings (key, value) VALUES ('k', 'v')", []))
            .await
            .unwrap();
        let db = data.join(super::super::DB_FILE_NAME);
        for path in [db.clone(), sidecar(&db, "-wal"), sidecar(&db, "-shm")] {
            assert!(
                path.exists(),
                "{} exists while the store is open",
                path.display()
            );
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
        assert_eq!(mode(&data), 0o700);
    }

    #[tokio::test]
    async fn an_existing_database_readable_by_others_is_made_private_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join(super::super::DB_FILE_NAME);
        drop(Store::open(dir.path()).unwrap());
        set_mode(&db, 0o644);
        let stale_wal = sidecar(&db, "-wal");
        if !stale_wal.exists() {
            std::fs::write(&stale_wal, b"").unwrap();
        }
        set_mode(&stale_wal, 0o666);
        let store = Store::open(dir.path()).unwrap();
        store.ping().await.unwrap();
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&stale_wal), 0o600);
    }

    #[test]
    fn an_existing_data_directory_keeps_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        set_mode(dir.path(), 0o750);
        create_data_dir(dir.path()).unwrap();
        assert_eq!(mode(dir.path()), 0o750);
    }
}
