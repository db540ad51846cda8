//! Whole-file operations on the database for `minicrew backup` and `minicrew restore`: an online
//! copy through SQLite's backup API, the checks a file must pass before it replaces the
//! database, and bringing a restored file up to this binary's schema.
//!
//! The copy is taken in one backup step, i.e. under one read transaction: in WAL mode readers
//! never block the bot's writes, and the copy is the database exactly as of that transaction.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use super::{StoreError, prepare};

/// How long a backup waits for a lock that keeps it from starting (SQLite answers busy).
const BUSY_DEADLINE: Duration = Duration::from_secs(30);

/// What a finished copy holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyInfo {
    /// The schema version (number of migrations applied) of the copy.
    pub schema_version: usize,
}

/// Copies the database `db` (live or not; it is opened read-only) into the new file `dest` (which must not hold a database),
/// consistent as of one moment, while other connections go on reading and writing `db`. The
/// copy is a single self-contained file (rollback journal mode, no `-wal` beside it) that has
/// passed SQLite's `quick_check`. It is not synced to disk: the caller does that.
pub fn copy_database(db: &Path, dest: &Path) -> Result<CopyInfo, StoreError> {
    let source = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    source.busy_timeout(super::BUSY_TIMEOUT)?;
    let mut target = Connection::open(dest)?;
    {
        let backup = Backup::new(&source, &mut target)?;
        let started = Instant::now();
        loop {
            match backup.step(-1)? {
                StepResult::Done => break,
                // Another connection holds a lock the copy must wait for: retry within a bound.
                _ if started.elapsed() < BUSY_DEADLINE => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                _ => {
                    return Err(StoreError::Busy(format!(
                        "{} stayed locked for {} s; try again",
                        db.display(),
                        BUSY_DEADLINE.as_secs()
                    )));
                }
            }
        }
    }
    target.pragma_update(None, "journal_mode", "DELETE")?;
    if let Some(report) = health_report(&target, "quick_check")? {
        return Err(StoreError::Damaged(report));
    }
    let schema_version = user_version(&target)?;
    Ok(CopyInfo { schema_version })
}

/// Why a file may not replace the database.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// SQLite cannot open or read it at all (not a database, or unreadable).
    #[error("{path} is not a readable SQLite database ({reason})")]
    NotSqlite {
        /// The file.
        path: String,
        /// What SQLite said.
        reason: String,
    },
    /// `PRAGMA integrity_check` found damage.
    #[error("{path} is damaged: integrity_check says {report}")]
    Damaged {
        /// The file.
        path: String,
        /// The first lines of the check's report.
        report: String,
    },
    /// A valid SQLite file, but not one minicrew made (no `users` table).
    #[error("{path} is a SQLite database but not a minicrew one (it has no users table)")]
    NotMinicrew {
        /// The file.
        path: String,
    },
    /// Made by a newer minicrew than this binary.
    #[error(
        "{path} has schema version {found}, newer than this minicrew knows ({known}); \
         restore it with the release that made it, or upgrade minicrew first"
    )]
    Newer {
        /// The file.
        path: String,
        /// Its schema version.
        found: usize,
        /// The newest schema this binary knows.
        known: usize,
    },
}

/// Checks that `path` is a healthy minicrew database this binary can open: SQLite's full
/// `integrity_check`, a `users` table, and a schema version no newer than ours. Returns the
/// file's schema version. The file is opened read-only and never changed.
pub fn check_restorable(path: &Path) -> Result<usize, CheckError> {
    let shown = path.display().to_string();
    let not_sqlite = |e: rusqlite::Error| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseCorrupt) => CheckError::Damaged {
            path: shown.clone(),
            report: e.to_string(),
        },
        _ => CheckError::NotSqlite {
            path: shown.clone(),
            reason: e.to_string(),
        },
    };
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(not_sqlite)?;
    if let Some(report) = health_report(&conn, "integrity_check").map_err(not_sqlite)? {
        return Err(CheckError::Damaged {
            path: shown,
            report,
        });
    }
    let has_users: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'users')",
            [],
            |r| r.get(0),
        )
        .map_err(not_sqlite)?;
    if !has_users {
        return Err(CheckError::NotMinicrew { path: shown });
    }
    let found = user_version(&conn).map_err(not_sqlite)?;
    let known = latest_schema_version();
    if found > known {
        return Err(CheckError::Newer {
            path: shown,
            found,
            known,
        });
    }
    Ok(found)
}

/// The schema version this binary's migrations end at (one per `migrations/NN-name` folder).
pub fn latest_schema_version() -> usize {
    super::MIGRATIONS_DIR.dirs().count()
}

/// Creates the data folder owner-only if it does not exist (as the store's open path does).
pub fn prepare_data_dir(dir: &Path) -> Result<(), StoreError> {
    super::file_mode::create_data_dir(dir)
}

/// Folds the WAL of `db` into the file and switches it to rollback-journal mode, so the file
/// alone holds everything and no `-wal` is left beside it to be mistaken for the next file's.
/// The caller holds the exclusive instance lock (nobody else has it open).
pub fn settle(db: &Path) -> Result<(), StoreError> {
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(super::BUSY_TIMEOUT)?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    conn.pragma_update(None, "journal_mode", "DELETE")?;
    Ok(())
}

/// Applies the migrations this file is missing (the same settings as the store's open path) and
/// returns its schema version before and after. The caller makes sure no one else has it open.
pub fn upgrade_file(path: &Path) -> Result<(usize, usize), StoreError> {
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let before = user_version(&conn)?;
    prepare(&mut conn)?;
    let after = user_version(&conn)?;
    Ok((before, after))
}

/// Runs `PRAGMA <pragma>` (integrity_check or quick_check): `None` when it says `ok`, else the
/// first lines of its report.
fn health_report(conn: &Connection, pragma: &str) -> rusqlite::Result<Option<String>> {
    let mut stmt = conn.prepare(&format!("PRAGMA {pragma}"))?;
    let lines: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .take(5)
        .collect::<Result<_, _>>()?;
    Ok((lines != ["ok"]).then(|| lines.join("; ")))
}

fn user_version(conn: &Connection) -> rusqlite::Result<usize> {
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    Ok(usize::try_from(v).unwrap_or(0))
}
