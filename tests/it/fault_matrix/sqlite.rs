//! SQLite faults while an update arrives: the database is busy (another connection holds the
//! write lock past the store's 5 s busy timeout), read-only, or full (`PRAGMA max_page_count`
//! at the file's size). The update cannot be stored, so it is not acknowledged: it waits at
//! Telegram, the poller logs one line saying what to do, and once the fault is gone the update
//! is stored and answered once.
//!
//! Read-only is `PRAGMA query_only` on the app's own connection: the tests run as root, for
//! whom a file mode of 0400 changes nothing, and an open file keeps its write access anyway. It
//! gives the app the same `SQLITE_READONLY` error a read-only file or filesystem would.

use std::time::Duration;

use rusqlite::{Connection, ErrorCode};

use super::{SLOW, answers_the_next_message, cell, final_status, run_cells, settled_texts};
use crate::support::app::{OWNER, TestApp};
use crate::support::logs::Logs;

/// The hint every SQLite cell's log line starts from.
const CANNOT_STORE: &str = "cannot store the updates Telegram sent";

/// Waits until a line with all of `words` is logged (the fault has been met).
async fn logged(logs: &Logs, words: &[&str], within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    while logs.with_words(words).is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no log line with {words:?} within {within:?}:\n  {}",
            logs.lines().join("\n  ")
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// After the fault is gone: `first` is answered once with a reply holding `mark`, the one
/// error line has `log`, and the next message is answered.
async fn recovers(app: TestApp, first: i64, mark: &str, log: &[&str], logs: &Logs) {
    assert_eq!(final_status(&app, first, SLOW).await, "done");
    let texts = settled_texts(&app.fake, OWNER).await;
    assert_eq!(texts.len(), 1, "answered once: {texts:?}");
    assert!(texts[0].contains(mark), "{}", texts[0]);
    logs.one_line_with(log);
    logs.one_line_with(&["INFO", "updates are stored again"]);
    answers_the_next_message(&app, OWNER).await;
    app.fake.assert_no_violations();
    app.stop().await;
}

#[test]
fn an_update_the_database_cannot_store_waits_at_telegram_and_is_answered_once_after() {
    run_cells(vec![
        cell("SQLite × busy", |logs| async move {
            let app = TestApp::start().await;
            let path = app.dir.path().join("minicrew.db");
            let (locked_tx, locked_rx) = tokio::sync::oneshot::channel();
            let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
            let holder = std::thread::spawn(move || {
                let other = Connection::open(path).unwrap();
                other.execute_batch("BEGIN IMMEDIATE").unwrap();
                locked_tx.send(()).unwrap();
                release_rx.recv().unwrap();
                other.execute_batch("COMMIT").unwrap();
            });
            locked_rx.await.unwrap();
            let first = app.fake.push_text(OWNER, "/help");
            // The store waits its busy timeout (5 s), then gives up on this try.
            let log = [
                "ERROR",
                CANNOT_STORE,
                "another process holds a write lock",
                "stop it",
            ];
            logged(&logs, &log, SLOW).await;
            release_tx.send(()).unwrap();
            holder.join().unwrap();
            recovers(app, first, "/note", &log, &logs).await;
        }),
        cell("SQLite × read-only", |logs| async move {
            let app = TestApp::start().await;
            set_query_only(&app, true).await;
            let first = app.fake.push_text(OWNER, "/help");
            let log = ["ERROR", CANNOT_STORE, "read-only", "writable"];
            logged(&logs, &log, SLOW).await;
            set_query_only(&app, false).await;
            recovers(app, first, "/note", &log, &logs).await;
        }),
        cell("SQLite × disk full", |logs| async move {
            let app = TestApp::start().await;
            fill_the_disk(&app).await;
            // A long message needs new pages, which the full file cannot have.
            let long = "please remember this: ".repeat(180);
            let first = app.fake.push_text(OWNER, &long);
            let log = ["ERROR", CANNOT_STORE, "disk is full", "free space"];
            logged(&logs, &log, SLOW).await;
            free_the_disk(&app).await;
            recovers(app, first, "No LLM provider is configured", &log, &logs).await;
        }),
    ]);
}

async fn set_query_only(app: &TestApp, on: bool) {
    app.store
        .call(move |c| c.pragma_update(None, "query_only", on))
        .await
        .unwrap();
}

/// Caps the app's database at its current size, and uses up the free space left inside it.
async fn fill_the_disk(app: &TestApp) {
    app.store
        .call(|c| {
            c.execute_batch("CREATE TABLE disk_filler (b BLOB)")?;
            let pages: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0))?;
            let max: i64 = c.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| {
                r.get(0)
            })?;
            assert_eq!(max, pages, "capped at the current size");
            loop {
                match c.execute("INSERT INTO disk_filler VALUES (zeroblob(1000))", []) {
                    Ok(_) => continue,
                    Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == ErrorCode::DiskFull => {
                        return Ok(());
                    }
                    Err(e) => return Err(e),
                }
            }
        })
        .await
        .unwrap();
}

/// Lifts the cap and drops the filler.
async fn free_the_disk(app: &TestApp) {
    app.store
        .call(|c| {
            c.query_row("PRAGMA max_page_count = 1073741823", [], |_| Ok(()))?;
            c.execute_batch("DROP TABLE disk_filler")
        })
        .await
        .unwrap();
}
