//! Benchmark of the real release daemon against a fake Bot API on 127.0.0.1: idle memory,
//! message throughput (one chat, then 50 chats) and memory after 1,000 / 10,000 / 20,000
//! handled messages (a leak shows as growth between the last two), then SIGTERM shutdown.
//! It prints figures and asserts nothing about speed. Run it after `cargo build --release`:
//!
//! ```text
//! cargo build --release && BENCH_BINARY=target/release/minicrew CARGO_TARGET_DIR=target/bench cargo bench --bench daemon
//! ```

// Test code may unwrap: clippy.toml exempts only `#[test]`s and `#[cfg(test)]` modules, not
// the helpers and fakes of a test or bench crate.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use tokio::time::Instant;

use support::daemon::{Daemon, Memory, built_release_binary};
use support::fake_api::{BOT_TOKEN, FakeApi};

/// The owner's chat id; the other chats are `OWNER + 1 ..= OWNER + CHATS - 1`.
const OWNER: i64 = 1000;
/// Chats in the multi-chat runs (the owner and 49 approved users).
const CHATS: i64 = 50;
/// How long the daemon idles before its idle memory is read.
const IDLE: Duration = Duration::from_secs(5);
/// The idle after the load: longer than tokio's 10 s keep-alive of idle blocking-pool threads,
/// so the thread count shows whether the pool shrinks back.
const IDLE_AFTER: Duration = Duration::from_secs(12);
/// Everything, start to exit, must finish within this.
const DEADLINE: Duration = Duration::from_secs(110);
/// How long the daemon may take to exit after SIGTERM.
const SHUTDOWN_WITHIN: Duration = Duration::from_secs(15);

/// A load phase: a label, how many updates, from how many chats.
struct Phase {
    label: &'static str,
    messages: u64,
    chats: i64,
}

const PHASES: [Phase; 3] = [
    Phase {
        label: "1 chat (owner)",
        messages: 1_000,
        chats: 1,
    },
    Phase {
        label: "50 chats",
        messages: 9_000,
        chats: CHATS,
    },
    Phase {
        label: "50 chats",
        messages: 10_000,
        chats: CHATS,
    },
];

/// One line of the result table.
struct Row {
    label: String,
    handled: u64,
    rate: Option<f64>,
    memory: Memory,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let Some(binary) = built_release_binary("daemon bench") else {
        return ExitCode::FAILURE;
    };
    match run(&binary).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("daemon bench failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(binary: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let deadline = started + DEADLINE;
    let dir = tempfile::tempdir()?;
    let fake = FakeApi::start().await?;
    let data_dir = dir.path().join("data");
    let env = [
        ("TELEGRAM_BOT_TOKEN", BOT_TOKEN.to_owned()),
        ("TELEGRAM_API_URL", fake.url()),
        ("OWNER_TELEGRAM_CHAT_ID", OWNER.to_string()),
        ("TELEGRAM_RATE_GLOBAL", "0".to_owned()),
        ("TELEGRAM_RATE_PER_CHAT", "0".to_owned()),
        ("USER_RATE_LIMIT_PER_MIN", "0".to_owned()),
        ("MORNING_BRIEFING_TIME", String::new()),
        ("DATA_DIR", data_dir.display().to_string()),
        (
            "CREDENTIALS_DIR",
            dir.path().join("credentials").display().to_string(),
        ),
        ("LOG_FORMAT", "json".to_owned()),
    ];
    let mut daemon = Daemon::start(binary, dir.path(), &env)?;
    let rows = match measure(&mut daemon, &fake, &data_dir, deadline).await {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("daemon log (last lines):\n{}", daemon.log_tail(20));
            return Err(e);
        }
    };
    let (status, took) = daemon.terminate(SHUTDOWN_WITHIN).await?;
    let warnings = daemon.warnings_logged();
    let outcome = inbox_outcome(&data_dir)?;
    print_report(&rows, &fake);
    let code = status
        .code()
        .map_or_else(|| format!("none ({status})"), |c| c.to_string());
    println!(
        "shutdown: SIGTERM -> exit code {code} in {} ms; whole bench {} s",
        took.as_millis(),
        started.elapsed().as_secs()
    );
    println!("after exit: {outcome}; WARN/ERROR log lines: {warnings}");
    Ok(())
}

/// Idle memory, then each load phase; returns the table rows.
async fn measure(
    daemon: &mut Daemon,
    fake: &FakeApi,
    data_dir: &Path,
    deadline: Instant,
) -> anyhow::Result<Vec<Row>> {
    let started = Instant::now();
    fake.wait_polls(1, deadline)
        .await
        .context("the daemon never polled")?;
    println!(
        "daemon polling {} ms after spawn",
        started.elapsed().as_millis()
    );
    // Deliberate idle period: this is what is being measured, not a synchronisation.
    tokio::time::sleep(IDLE).await;
    let mut rows = vec![Row {
        label: format!("idle {} s", IDLE.as_secs()),
        handled: 0,
        rate: None,
        memory: daemon.memory()?,
    }];
    support::users::approve_users(&data_dir.join("minicrew.db"), OWNER + 1..OWNER + CHATS)?;
    let mut handled = 0;
    for phase in &PHASES {
        let base = fake.sent();
        fake.push_texts((0..phase.messages).map(|i| {
            let chat = OWNER + (i as i64 % phase.chats);
            let text = if i % 2 == 0 { "/help" } else { "/note list" };
            (chat, text.to_owned())
        }));
        fake.wait_sent(base + phase.messages, deadline)
            .await
            .with_context(|| format!("phase {}", phase.label))?;
        handled += phase.messages;
        let window = fake.batch_window().context("no update was served")?;
        rows.push(Row {
            label: phase.label.to_owned(),
            handled,
            rate: Some(phase.messages as f64 / window.as_secs_f64()),
            memory: daemon.memory()?,
        });
    }
    tokio::time::sleep(IDLE_AFTER).await;
    rows.push(Row {
        label: format!("idle {} s after", IDLE_AFTER.as_secs()),
        handled,
        rate: None,
        memory: daemon.memory()?,
    });
    Ok(rows)
}

/// Inbox rows per status and outbox rows, read after the daemon exited.
fn inbox_outcome(data_dir: &Path) -> anyhow::Result<String> {
    let conn = rusqlite::Connection::open(data_dir.join("minicrew.db"))?;
    let mut stmt =
        conn.prepare("SELECT status, count(*) FROM inbox GROUP BY status ORDER BY status")?;
    let statuses: Vec<String> = stmt
        .query_map([], |r| {
            Ok(format!(
                "{} {}",
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?
            ))
        })?
        .collect::<Result<_, _>>()?;
    let outbox: i64 = conn.query_row(
        "SELECT count(*) FROM outbox WHERE status = 'sent'",
        [],
        |r| r.get(0),
    )?;
    Ok(format!(
        "inbox [{}], outbox sent {outbox}",
        statuses.join(", ")
    ))
}

fn print_report(rows: &[Row], fake: &FakeApi) {
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!();
    println!(
        "{:<18} {:>8} {:>9} {:>9} {:>9} {:>9} {:>7}",
        "phase", "handled", "msg/s", "RSS MiB", "anon MiB", "peak MiB", "threads"
    );
    for row in rows {
        let rate = row.rate.map_or("-".to_owned(), |r| format!("{r:.0}"));
        println!(
            "{:<18} {:>8} {:>9} {:>9.1} {:>9.1} {:>9.1} {:>7}",
            row.label,
            row.handled,
            rate,
            mib(row.memory.rss_kib),
            mib(row.memory.anon_kib),
            mib(row.memory.hwm_kib),
            row.memory.threads
        );
    }
    let calls: Vec<String> = fake
        .calls()
        .iter()
        .map(|(m, n)| format!("{m} {n}"))
        .collect();
    println!("Bot API calls: {}", calls.join(", "));
}
