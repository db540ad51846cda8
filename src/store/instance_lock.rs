//! Who has the database open: every [`super::Store::open`] holds a shared lock on
//! `minicrew.db.lock` beside the database for as long as the store lives, and `minicrew restore`
//! replaces the file only while it holds the same lock exclusively.
//!
//! The lock is `flock(2)` on a file of its own, never on the database: SQLite's own POSIX locks
//! on `minicrew.db` would be dropped by closing any other descriptor of that file in the
//! process. The kernel releases a `flock` when its holder exits, even by `kill -9`, so a crashed
//! bot never leaves a stale lock behind. Elsewhere than Unix nothing is locked.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::StoreError;

/// How long opening the store waits for a restore in progress to finish.
const RESTORE_WAIT: Duration = Duration::from_secs(30);

/// A held lock; dropping it releases it.
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
}

/// `minicrew.db.lock` beside `db`.
pub fn lock_path(db: &Path) -> PathBuf {
    super::file_mode::sidecar(db, ".lock")
}

/// The shared lock every open store holds; waits up to 30 s while a restore holds it.
pub(super) fn shared(db: &Path) -> Result<InstanceLock, StoreError> {
    let path = lock_path(db);
    let file = open(&path)?;
    let started = Instant::now();
    loop {
        if try_lock(&file, Mode::Shared).map_err(|e| lock_error(&path, e))? {
            return Ok(InstanceLock { _file: file });
        }
        if started.elapsed() >= RESTORE_WAIT {
            return Err(StoreError::Busy(format!(
                "{} is being restored (minicrew restore holds {}); try again when it finishes",
                db.display(),
                path.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The exclusive lock, or `None` at once when any process (the bot, `minicrew chat`, `doctor`)
/// has the store open.
pub fn exclusive(db: &Path) -> Result<Option<InstanceLock>, StoreError> {
    let path = lock_path(db);
    let file = open(&path)?;
    Ok(try_lock(&file, Mode::Exclusive)
        .map_err(|e| lock_error(&path, e))?
        .then_some(InstanceLock { _file: file }))
}

fn open(path: &Path) -> Result<File, StoreError> {
    super::file_mode::create_private(path).map_err(|e| lock_error(path, e))?;
    File::open(path).map_err(|e| lock_error(path, e))
}

fn lock_error(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Busy(format!("cannot lock {}: {e}", path.display()))
}

enum Mode {
    Shared,
    Exclusive,
}

/// Takes the lock without waiting (std's `flock` wrappers); `Ok(false)` when another holder
/// prevents it.
fn try_lock(file: &File, mode: Mode) -> std::io::Result<bool> {
    let taken = match mode {
        Mode::Shared => file.try_lock_shared(),
        Mode::Exclusive => file.try_lock(),
    };
    match taken {
        Ok(()) => Ok(true),
        Err(std::fs::TryLockError::WouldBlock) => Ok(false),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::super::{DB_FILE_NAME, Store};
    use super::*;

    #[test]
    fn an_open_store_keeps_the_exclusive_lock_away_until_it_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join(DB_FILE_NAME);
        let store = Store::open(dir.path()).unwrap();
        let second = Store::open(dir.path()).expect("two stores may share the file");
        assert!(exclusive(&db).unwrap().is_none());
        drop(store);
        assert!(
            exclusive(&db).unwrap().is_none(),
            "the second still holds it"
        );
        drop(second);
        // The database thread drops its lock when it sees the last handle go; give it a moment.
        let deadline = Instant::now() + Duration::from_secs(5);
        while exclusive(&db).unwrap().is_none() {
            assert!(Instant::now() < deadline, "the lock is released");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_held_exclusive_lock_makes_opening_wait_then_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join(DB_FILE_NAME);
        let held = exclusive(&db).unwrap().expect("nobody holds it");
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            drop(held);
        });
        let started = Instant::now();
        Store::open(dir.path()).expect("opens once the restore is done");
        assert!(started.elapsed() >= Duration::from_millis(250));
        release.join().unwrap();
    }
}
