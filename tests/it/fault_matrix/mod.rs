//! The fault matrix: one fault at a time, injected at the edge, each cell through the front door
//! (a real app polling the fake Bot API). Every cell checks the same five things:
//!
//! 1. no crash: the app answers the NEXT message and stops cleanly at the end;
//! 2. no lost update: the faulted update's inbox row ends `done` or `failed`, never `pending`;
//! 3. no duplicate reply: the exact list of messages the fake received is asserted;
//! 4. one clear message to the user where one is owed: its text is asserted;
//! 5. one log line that says what happened and what to do (or that the bot retries by itself).
//!
//! Set `FAULT_MATRIX_LOGS=1` to print every cell's log lines.
//!
//! Logs: each cell runs on its own thread with a current-thread runtime, and a tracing
//! subscriber set as that thread's default ([`crate::support::logs`]) sees every task the app
//! spawns. Cells run concurrently (see [`run_cells`]), so the matrix costs about its slowest cell
//! rather than the sum: teloxide waits 10 s before it reads any 5xx answer from the Bot API, and
//! SQLite's busy timeout in `store` is 5 s.
//!
//! | cell | where |
//! | --- | --- |
//! | Telegram × {getUpdates, sendMessage, getFile} × {5xx, 429, 409, reset mid-response, malformed JSON} | [`telegram`] |
//! | Telegram × timeout (all three methods) | [`telegram`], one test: the client timeout `telegram::CALL_TIMEOUT` is 40 s, so the three cells wait side by side |
//! | Telegram × sendMessageDraft / editMessageText | not yet: streaming replies are a later issue, the bot does not call them |
//! | Claude, Gemini, OpenAI-compatible × {timeout, 429 retry-after, 5xx, malformed, truncated, 401}, Claude × 529 | [`llm`] |
//! | Gmail × {401 expired, 403, 5xx once, 5xx twice, empty list} | [`gmail`] |
//! | SQLite × {busy, read-only, disk full} | [`sqlite`] |
//!
//! The same faults are also covered elsewhere for other properties; this matrix does not repeat
//! those checks: `polling::rate_limited_send_waits_retry_after_and_resends` (the resend carries
//! the same chunk), `health::polling_health_reports_another_instance_polling_the_same_token`
//! (409 shows in /health), `llm_router_reliability` (retry and fallback of the router on its
//! own: every attempt recorded, hostile retry-after values), `assistant::claude_outage_falls_back_to_gemini`
//! (5xx with a second provider), `gmail::a_one_off_401_with_a_valid_token_refreshes_and_retries_the_call`
//! and `gmail::a_revoked_refresh_token_asks_to_connect_again` (the client's token handling),
//! `health::broken_database_makes_health_503_and_the_webhook_answer_500` (a missing table in
//! webhook mode), `voice::a_failed_download_gives_one_clear_reply_and_nothing_is_transcribed`
//! (getFile 400).

mod gmail;
mod llm;
mod sqlite;
mod telegram;

use std::future::Future;
use std::time::{Duration, Instant};

use futures::future::LocalBoxFuture;

use crate::support::app::{TestApp, WAIT};
use crate::support::fake_telegram::FakeTelegram;
use crate::support::logs::Logs;

/// Longest a cell may run before it counts as hung (the timeout cells take over 40 s).
const CELL_DEADLINE: Duration = Duration::from_secs(120);
/// How long a cell waits for a fault that costs a fixed delay (teloxide's 10 s after a 5xx).
pub const SLOW: Duration = Duration::from_secs(25);
/// Quiet time after the last expected message in which no duplicate may arrive.
pub const SETTLE: Duration = Duration::from_millis(500);

/// One cell: its name and its body, which gets the cell's captured logs.
pub struct Cell {
    name: String,
    body: Box<dyn FnOnce(Logs) -> LocalBoxFuture<'static, ()> + Send>,
}

/// A cell named `name` running `body`.
pub fn cell<F, Fut>(name: impl Into<String>, body: F) -> Cell
where
    F: FnOnce(Logs) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + 'static,
{
    Cell {
        name: name.into(),
        body: Box::new(move |logs| Box::pin(body(logs))),
    }
}

/// Runs every cell at once, each on its own thread with its own runtime and log capture, and
/// fails naming every cell that failed.
pub fn run_cells(cells: Vec<Cell>) {
    let running: Vec<_> = cells
        .into_iter()
        .map(|cell| {
            let name = cell.name.clone();
            let thread = std::thread::spawn(move || run_one(cell));
            (name, thread)
        })
        .collect();
    let mut failures = Vec::new();
    for (name, thread) in running {
        match thread.join() {
            Ok(took) => eprintln!("fault matrix: {name} passed in {took:.1?}"),
            Err(panic) => failures.push(format!("{name}: {}", panic_text(panic.as_ref()))),
        }
    }
    assert!(
        failures.is_empty(),
        "{} cell(s) failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

fn run_one(cell: Cell) -> Duration {
    let (logs, _guard) = Logs::capture_this_thread();
    let shown = std::env::var_os("FAULT_MATRIX_LOGS").map(|_| (cell.name.clone(), logs.clone()));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a test runtime");
    let started = Instant::now();
    runtime.block_on(async move {
        tokio::time::timeout(CELL_DEADLINE, (cell.body)(logs))
            .await
            .expect("the cell finishes within its deadline");
    });
    if let Some((name, logs)) = shown {
        eprintln!(
            "fault matrix: {name} logged:\n  {}",
            logs.lines().join("\n  ")
        );
    }
    started.elapsed()
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
        .unwrap_or_else(|| "a panic without a message".into())
}

/// The inbox status of `update_id` once it is no longer pending (waits up to `within`).
pub async fn final_status(app: &TestApp, update_id: i64, within: Duration) -> String {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let status: Option<String> = app
            .store
            .call(move |c| {
                use rusqlite::OptionalExtension as _;
                c.query_row(
                    "SELECT status FROM inbox WHERE update_id = ?1",
                    [update_id],
                    |r| r.get(0),
                )
                .optional()
            })
            .await
            .unwrap_or(None);
        match status {
            Some(s) if s != "pending" => return s,
            other => assert!(
                tokio::time::Instant::now() < deadline,
                "update {update_id} is still {other:?} after {within:?}\n{}",
                app.fake.summary()
            ),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The error recorded with `update_id`'s inbox row.
pub async fn inbox_error(app: &TestApp, update_id: i64) -> Option<String> {
    app.store
        .call(move |c| {
            c.query_row(
                "SELECT error FROM inbox WHERE update_id = ?1",
                [update_id],
                |r| r.get(0),
            )
        })
        .await
        .expect("the inbox row exists")
}

/// What the user `chat_id` sees, one entry per message, after a quiet [`SETTLE`] in which no
/// further message may arrive.
pub async fn settled_texts(fake: &FakeTelegram, chat_id: i64) -> Vec<String> {
    fake.assert_no_messages_to(chat_id, SETTLE).await;
    fake.sent_to(chat_id)
        .into_iter()
        .map(|m| m.visible_text)
        .collect()
}

/// Sends the NEXT message (`/note list`) and checks it is answered once, as usual.
pub async fn answers_the_next_message(app: &TestApp, chat_id: i64) {
    let before = app.fake.sent_to(chat_id).len();
    let next = app.fake.push_text(chat_id, "/note list");
    assert_eq!(final_status(app, next, WAIT).await, "done");
    let texts = settled_texts(&app.fake, chat_id).await;
    assert_eq!(
        texts[before..],
        ["No notes yet. Save one with /note save <title> <text>."],
        "the next message is answered once"
    );
}
