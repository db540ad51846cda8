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
//! messages. Past [`TRUNCATE_FRAMES`] the thread therefore takes the writer's turn once, copies
//! the rest and truncates the WAL (`TRUNCATE`); the writer waits for that through its busy timeout.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use rusqlite::Connection;

use super::StoreError;

/// How often the WAL is checkpointed.
const EVERY: Duration = Duration::from_secs(1);
/// Pages the checkpoint connection caches: it reads almost nothing itself.
const CACHE_KIB: i64 = 64;
/// WAL frames (pages) past which a tick also truncates the WAL: 16 MiB with 4 KiB pages.
const TRUNCATE_FRAMES: i64 = 4_096;
/// How long a truncating checkpoint waits for the writer's transaction to end.
const TRUNCATE_WAIT: Duration = Duration::from_secs(2);

/// Dropping it stops the checkpoint thread (after one last checkpoint).
pub(super) struct Checkpoints {
    _stop: mpsc::Sender<()>,
}

/// Turns off automatic checkpoints on `conn` (the database connection) and starts the thread
/// that checkpoints the WAL of the database at `path`.
pub(super) fn start(conn: &Connection, path: &Path) -> Result<Checkpoints, StoreError> {
    let checkpointer = Connection::open(path)?;
    // A checkpoint that finds the database busy simply tries again at the next tick.
    checkpointer.busy_timeout(Duration::ZERO)?;
    checkpointer.pragma_update(None, "cache_size", -CACHE_KIB)?;
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
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
        checkpoint(conn);
        if last {
            return;
        }
    }
}

/// One tick: a passive checkpoint, and a truncating one when the WAL has grown past
/// [`TRUNCATE_FRAMES`].
fn checkpoint(conn: &Connection) {
    let frames = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        row.get::<_, i64>(1)
    });
    match frames {
        Ok(frames) if frames >= TRUNCATE_FRAMES => truncate(conn),
        Ok(_) => {}
        // Busy, read-only or full: the WAL keeps the writes; the next tick tries again.
        Err(e) => tracing::debug!(error = %e, "WAL checkpoint not done"),
    }
}

/// Copies the rest of the WAL and truncates it, waiting up to [`TRUNCATE_WAIT`] for the writer.
fn truncate(conn: &Connection) {
    let waited = conn
        .busy_timeout(TRUNCATE_WAIT)
        .and_then(|()| conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())));
    if let Err(e) = waited {
        tracing::debug!(error = %e, "WAL not truncated");
    }
    if let Err(e) = conn.busy_timeout(Duration::ZERO) {
        tracing::debug!(error = %e, "cannot reset the checkpoint's busy timeout");
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
        assert_eq!(auto, 0, "the writer never checkpoints itself");
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
        let wal_len = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        // Commit after commit with no pause: only a truncation can make the WAL file shrink.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let (mut longest, mut id) = (0, 0);
        loop {
            store
                .insert_update(id, Some(crate::ids::ChatId(1)), "x".repeat(40_000))
                .await
                .unwrap();
            id += 1;
            let len = wal_len();
            if len < longest {
                break;
            }
            longest = len;
            assert!(
                std::time::Instant::now() < deadline,
                "the WAL grew to {longest} bytes over {id} commits and never started over"
            );
        }
        assert!(
            longest >= super::TRUNCATE_FRAMES as u64 * 4_096 / 2,
            "{longest}"
        );
    }
}
