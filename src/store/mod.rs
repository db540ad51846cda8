//! SQLite storage: opening the file (WAL, busy timeout, foreign keys), migrations, and the
//! async bridge that keeps blocking SQLite calls off the runtime's worker threads. Inbox inserts
//! that arrive together share one durable commit (group commit, see [`inbox`]), and the WAL is
//! checkpointed by a thread of its own ([`checkpoint`]), so neither waits on the other's disk.
//!
//! SQL lives only in this module: one file per table group adds typed methods to [`Store`].

mod album;
mod briefings;
mod calendar_accounts;
mod checkpoint;
mod cleanup;
mod documents;
mod file_mode;
pub mod gmail;
mod group_migration;
mod groups;
mod history;
mod inbox;
pub mod instance_lock;
mod journal;
pub mod llm_usage;
mod memory;
mod notes;
mod outbox;
mod pending_actions;
mod recall_query;
mod recall_window;
mod schedules;
mod settings;
pub mod snapshot;
mod stream_messages;
mod tool_logs;
mod usage_days;
mod user_data;
mod user_row;
mod users;
mod wake;

pub use briefings::BRIEFING;
pub use calendar_accounts::CalendarAccountRow;
pub use cleanup::{CleanupReport, INBOX_RETENTION, LOG_RETENTION};
pub use documents::NewDocument;
pub use groups::{AddedBy, Group, GroupState, GroupUsage};
pub use history::{DatedTurn, NewTurn, Speaker, Turn};
pub use inbox::{InboxOutcome, PendingUpdate};
pub use journal::StepKey;
pub use memory::{MAX_RECALL_RESULTS, MemoryKind, Recalled};
pub use notes::{Note, SavedNote, title_key};
pub use outbox::{ChunkFormat, NewChunk, OutboxRow};
pub use pending_actions::{Decision, NewPendingAction, PendingAction, Taken};
pub use recall_query::RecallQuery;
pub use schedules::{JobAction, NewSchedule, Schedule, ScheduleCategory};
pub use tool_logs::ToolLog;
pub use usage_days::DayUsage;
pub use user_data::{ForgetReport, Owner, USER_TABLES, UserTable};
pub use user_row::{User, UserStatus};

use std::path::Path;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use include_dir::{Dir, include_dir};
use rusqlite::Connection;
use rusqlite_migration::Migrations;
use tokio::sync::{Notify, oneshot};

/// The migrations folder, compiled into the binary (`migrations/NN-name/up.sql`, append-only).
static MIGRATIONS_DIR: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/migrations");

/// The database file inside `DATA_DIR`.
pub const DB_FILE_NAME: &str = "minicrew.db";

/// How long a statement waits for a lock held by another connection before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Errors from the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite reported an error (constraint, I/O, corrupt file, ...).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A migration failed to apply or the migration set is invalid.
    #[error("database migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    /// The data directory could not be created.
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        /// The directory that could not be created.
        path: String,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The database file could not be created private, or made private (mode 0600).
    #[error("cannot make the database file {path} private: {source}")]
    Permissions {
        /// The database, WAL or shared-memory file.
        path: String,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// Another process holds the database in a way that prevents this (a restore in progress,
    /// or the bot running while a restore is asked for).
    #[error("{0}")]
    Busy(String),
    /// SQLite's own check found the database damaged (its report's first lines).
    #[error("the database failed SQLite's check: {0}")]
    Damaged(String),
    /// The database thread panicked while running the query (the call is lost, the thread lives on).
    #[error("database task failed: {0}")]
    Task(String),
}

/// A query for the database thread.
type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// What the database thread runs: a query, or inbox inserts that may share their commit with
/// the inserts queued behind them.
enum Work {
    Query(Job),
    Inbox(Vec<inbox::DurableInsert>),
}

/// Prepared statements kept per connection (`prepare_cached`): the hot path's few dozen.
const STATEMENT_CACHE: usize = 64;

/// Cheap-to-clone handle to the one SQLite connection.
///
/// A personal bot writes a few rows per message, so one connection is plenty. It lives on its own
/// thread and queries reach it through a queue, so the async workers never wait on disk, the
/// thread count stays fixed however many chats are busy, and no lock is held across a query.
/// The thread ends when the last handle is dropped.
#[derive(Clone)]
pub struct Store {
    jobs: mpsc::Sender<Work>,
    /// Wakes the scheduler after a change it plans from (see [`wake`]).
    schedule_changes: Arc<Notify>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

/// The migration set, loaded from the compiled-in `migrations/` folder.
pub fn migrations() -> Migrations<'static> {
    Migrations::from_directory(&MIGRATIONS_DIR)
        .expect("migrations/ is compiled in and its layout is checked by a test")
}

impl Store {
    /// Opens (or creates) `data_dir/minicrew.db` and applies pending migrations. The file and
    /// its WAL are readable by the owner only (mode 0600), see [`file_mode`].
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        file_mode::create_data_dir(data_dir)?;
        let path = data_dir.join(DB_FILE_NAME);
        file_mode::make_private(&path)?;
        let lock = instance_lock::shared(&path)?;
        let conn = Connection::open(&path)?;
        Self::from_connection(conn, Some(&path), Some(lock))
    }

    /// Opens a private in-memory database (for unit tests and benchmarks).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::from_connection(Connection::open_in_memory()?, None, None)
    }

    /// Prepares `conn` and starts the database thread, which keeps `lock` (the file's shared
    /// instance lock) for as long as the connection lives; for a file (`path`), also the thread
    /// that checkpoints its WAL.
    fn from_connection(
        mut conn: Connection,
        path: Option<&Path>,
        lock: Option<instance_lock::InstanceLock>,
    ) -> Result<Self, StoreError> {
        prepare(&mut conn)?;
        let checkpoints = match path {
            Some(path) => Some(checkpoint::start(&conn, path)?),
            None => None,
        };
        let (jobs, queue) = mpsc::channel::<Work>();
        std::thread::Builder::new()
            .name("minicrew-sqlite".into())
            .spawn(move || {
                run_queries(conn, queue);
                // Stops the checkpoint thread after one last checkpoint.
                drop(checkpoints);
                drop(lock);
            })
            .map_err(|e| StoreError::Task(format!("cannot start the database thread: {e}")))?;
        Ok(Self {
            jobs,
            schedule_changes: Arc::new(Notify::new()),
        })
    }

    /// Runs `f` with the connection on the database thread and returns its result.
    pub async fn call<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            // The caller may have gone away (cancelled); its result is then simply dropped.
            let _ = done.send(f(conn));
        });
        self.submit(Work::Query(job))?;
        result
            .await
            .map_err(|_| StoreError::Task("the query panicked".into()))?
            .map_err(StoreError::from)
    }

    /// Queues work for the database thread.
    fn submit(&self, work: Work) -> Result<(), StoreError> {
        self.jobs
            .send(work)
            .map_err(|_| StoreError::Task("the database thread is not running".into()))
    }

    /// Checks that the database answers a trivial query (used by `/health` and `doctor`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.call(|c| c.query_row("SELECT 1", [], |_| Ok(()))).await
    }
}

/// The connection settings every store uses (WAL, busy timeout, foreign keys), then the
/// migrations up to the latest.
fn prepare(conn: &mut Connection) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    migrations().to_latest(conn)?;
    Ok(())
}

/// The database thread: runs queries in arrival order until every handle is dropped. An inbox
/// insert takes the inserts queued right behind it into the same commit (up to
/// [`inbox::MAX_BATCH`]); a query queued among them runs after that commit. A query that panics
/// loses only its own result (its caller gets an error); the thread goes on.
fn run_queries(mut conn: Connection, queue: mpsc::Receiver<Work>) {
    let mut next = None;
    loop {
        let work = match next.take() {
            Some(work) => work,
            None => match queue.recv() {
                Ok(work) => work,
                Err(mpsc::RecvError) => return,
            },
        };
        let caught = match work {
            Work::Query(job) => {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut conn)))
            }
            Work::Inbox(mut batch) => {
                while batch.len() < inbox::MAX_BATCH {
                    match queue.try_recv() {
                        Ok(Work::Inbox(more)) => batch.extend(more),
                        Ok(other) => {
                            next = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    inbox::insert_batch(&mut conn, batch);
                }))
            }
        };
        if caught.is_err() {
            tracing::error!("a database query panicked");
        }
    }
}

/// Current time as Unix seconds, the one timestamp format stored in the database.
pub fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

/// An active user with `chat_id`, for the store's unit tests; returns its id.
#[cfg(test)]
pub(crate) async fn add_test_user(
    store: &Store,
    chat_id: crate::ids::ChatId,
) -> crate::ids::UserId {
    store
        .call(move |c| {
            c.execute(
                "INSERT INTO users (chat_id, display_name, status, created_at, updated_at)
                 VALUES (?1, 'Test', 'active', 0, 0)",
                [chat_id],
            )?;
            Ok(crate::ids::UserId(c.last_insert_rowid()))
        })
        .await
        .expect("a test user")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_validate() {
        migrations()
            .validate()
            .expect("every migration applies cleanly");
    }

    #[tokio::test]
    async fn a_query_that_panics_fails_alone_and_the_store_keeps_working() {
        let store = Store::open_in_memory().unwrap();
        let failed = store
            .call(|_| -> rusqlite::Result<()> { panic!("boom") })
            .await;
        assert!(matches!(failed, Err(StoreError::Task(_))));
        store.ping().await.expect("the database thread survived");
    }

    #[tokio::test]
    async fn store_opens_in_wal_mode_with_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (mode, fk): (String, i64) = store
            .call(|c| {
                let mode = c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
                let fk = c.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
                Ok((mode, fk))
            })
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(fk, 1);
    }
}
