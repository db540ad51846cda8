//! WAL checkpoints off the database thread. SQLite's automatic checkpoint runs inside whichever
//! commit pushes the WAL past 1,000 pages, so now and then one write (often a durable inbox
//! insert that Telegram waits on) paid for copying the WAL into the database and syncing it. The
//! database connection has that turned off; a second connection on a thread of its own runs a
//! `PASSIVE` checkpoint every [`EVERY`]: it copies what no reader still needs and never blocks
//! the writer, which goes on appending to the WAL (and starts it over once it was copied whole).
//!
//! Under writes that never pause for a whole tick, a passive checkpoint never finds the WAL copied
//! whole when the next write begins, so the WAL would never start over: it grew by gigabytes on
//! disk, and its shared-memory index (mapped by every connection) by megabytes of RSS, over 100k
//! messages. So the writer keeps SQLite's own automatic checkpoint as a backstop, at
//! [`BACKSTOP_PAGES`] instead of 1,000: only a WAL that the thread could not let start over gets
//! there, the thread has already copied all but its last second, and the writer's checkpoint
//! finishes the copy so that its next write starts the WAL over. (Taking the writer's turn from
//! the checkpoint thread instead, with `TRUNCATE`, made the writer's transactions that had
//! already read fail with `database is locked`.)

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use rusqlite::Connection;

use super::StoreError;

/// How often the WAL is checkpointed.
const EVERY: Duration = Duration::from_secs(1);
/// Pages the checkpoint connection caches: it reads almost nothing itself.
const CACHE_KIB: i64 = 64;
/// WAL pages past which the writer checkpoints after a commit: 16 MiB with 4 KiB pages.
const BACKSTOP_PAGES: i64 = 4_096;

/// Dropping it stops the checkpoint thread (after one last checkpoint).
pub(super) struct Checkpoints {
    _stop: mpsc::Sender<()>,
}

/// Moves the automatic checkpoints of `conn` (the database connection) to [`BACKSTOP_PAGES`] and
/// starts the thread
/// that checkpoints the WAL of the database at `path`.
pub(super) fn start(conn: &Connection, path: &Path) -> Result<Checkpoints, StoreError> {
    let checkpointer = Connection::open(path)?;
    // A checkpoint that finds the database busy simply tries again at the next tick.
    checkpointer.busy_timeout(Duration::ZERO)?;
    checkpointer.pragma_update(None, "cache_size", -CACHE_KIB)?;
    conn.pragma_update(None, "wal_autocheckpoint", BACKSTOP_PAGES)?;
    let (stop, stopped) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("minicrew-wal".into())
        .spawn(move || run(&checkpointer, &stopped))
        .map_err(|e| StoreError::Task(format!("cannot start the checkpoint thread: {e}")))?;
    Ok(Checkpoints { _stop: stop })
}

fn run(conn: &Connection, stopped: &mpsc::Receiver<()>) {
    loop {
        let last = !matches!(
            stopped.recv_timeout(EVERY),
            Err(mpsc::RecvTimeoutError::Timeout)
        );
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            // Busy, read-only or full: the WAL keeps the writes; the next tick tries again.
            tracing::debug!(error = %e, "WAL checkpoint not done");
        }
        if last {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Store;

    #[tokio::test]
    async fn the_wal_is_copied_into_the_database_by_the_checkpoint_thread() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let auto: i64 = store
            .call(|c| c.query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0)))
            .await
            .unwrap();
        assert_eq!(
            auto,
            super::BACKSTOP_PAGES,
            "the writer checkpoints only as a backstop"
        );
        for id in 0..200 {
            store
                .insert_update(id, Some(crate::ids::ChatId(1)), "x".repeat(2_000))
                .await
                .unwrap();
        }
        // With the writer's automatic checkpoint off, the rows reach the database file (not
        // only its WAL) only through the checkpoint thread.
        let file = dir.path().join(super::super::DB_FILE_NAME);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::fs::metadata(&file).unwrap().len() < 200 * 2_000 {
            assert!(
                std::time::Instant::now() < deadline,
                "the WAL was never copied into the database file"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    #[tokio::test]
    async fn the_wal_starts_over_under_writes_that_never_pause() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let wal = dir
            .path()
            .join(format!("{}-wal", super::super::DB_FILE_NAME));
        // Commit after commit with no pause, about four times the backstop's pages in all
        // (each 40 kB row takes ten or more): a WAL that never started over would hold them all.
        let page = 4_096;
        let rows = 4 * super::BACKSTOP_PAGES / 10;
        for id in 0..rows {
            store
                .insert_update(id, Some(crate::ids::ChatId(1)), "x".repeat(40_000))
                .await
                .unwrap();
        }
        let len = std::fs::metadata(&wal).unwrap().len();
        let bound = 2 * super::BACKSTOP_PAGES as u64 * (page + 24);
        assert!(
            len < bound,
            "the WAL is {len} bytes after {rows} commits (bound {bound})"
        );
    }
}
