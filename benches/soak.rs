//! Soak of the real release daemon: 30 minutes (or `SOAK_MINUTES`) of steady mixed load from
//! fakes on 127.0.0.1 (a fake Bot API it polls, a fake OpenAI-compatible model that answers in
//! words or with a `note` tool call), from 8 chats at 30 messages/s (or `SOAK_RATE`). The mix is
//! described in `support/soak_load.rs`. Every 10 s the daemon's RSS and open file descriptors
//! are read from `/proc` and `/metrics` and `/health` are scraped, as a monitor would.
//!
//! It prints a row a minute, the growth after the warm-up (the first 5 minutes, or the first
//! sixth of a shorter run) and writes a chart to `target/soak.png`. It exits non-zero when RSS
//! grew by more than 2 MB or open fds by more than a handful after the warm-up, or when a
//! message went unanswered, so it is an honest check. Most of the rise in the first minute is
//! SQLite's page cache filling to its default 2,000 KiB as the database passes 2 MB (it shows
//! as one glibc arena growing with the file, then stopping). Run it after `cargo build --release`:
//!
//! ```text
//! cargo build --release && BENCH_BINARY=target/release/minicrew CARGO_TARGET_DIR=target/bench cargo bench --bench soak            # 30 minutes
//! SOAK_MINUTES=1 BENCH_BINARY=target/release/minicrew CARGO_TARGET_DIR=target/bench cargo bench --bench soak                       # a quick check
//! ```

// Test code may unwrap: clippy.toml exempts only `#[test]`s and `#[cfg(test)]` modules, not
// the helpers and fakes of a test or bench crate.
#![allow(clippy::unwrap_used)]

#[path = "support/soak_chart.rs"]
mod soak_chart;
#[path = "support/soak_llm.rs"]
mod soak_llm;
#[path = "support/soak_load.rs"]
mod soak_load;
#[path = "support/soak_proc.rs"]
mod soak_proc;
#[path = "support/soak_report.rs"]
mod soak_report;
// The daemon bench's helpers; `FakeApi::batch_window` measures its bursts and is unused here.
#[allow(dead_code)]
mod support;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use tokio::time::{Instant, MissedTickBehavior};

use soak_llm::FakeLlm;
use soak_load::Mix;
use soak_report::Sample;
use support::daemon::{Daemon, built_release_binary, release_binary};
use support::fake_api::{BOT_TOKEN, FakeApi};

/// The owner's chat id; the other chats are `OWNER + 1 .. OWNER + CHATS`.
const OWNER: i64 = 1000;
/// Chats taking turns.
const CHATS: i64 = 8;
/// Minutes of load unless `SOAK_MINUTES` says otherwise.
const DEFAULT_MINUTES: u64 = 30;
/// Messages per second unless `SOAK_RATE` says otherwise.
const DEFAULT_RATE: u64 = 30;
/// How often messages are pushed.
const TICK: Duration = Duration::from_millis(100);
/// How often the daemon is sampled.
const SAMPLE_EVERY: Duration = Duration::from_secs(10);
/// The longest warm-up; shorter runs warm up for their first sixth.
const WARM_UP_MAX: Duration = Duration::from_secs(5 * 60);
/// The load stops if the daemon falls this far behind (it is then not a steady load).
const MAX_BACKLOG: Duration = Duration::from_secs(30);
/// How long the daemon may take to answer what is left after the load.
const DRAIN_WITHIN: Duration = Duration::from_secs(60);
/// How long the daemon may take to exit after SIGTERM.
const SHUTDOWN_WITHIN: Duration = Duration::from_secs(15);
/// Timeout of one `/metrics` or `/health` scrape.
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(5);

/// What the run is asked to do.
struct Plan {
    minutes: u64,
    rate: u64,
}

/// What the load loop hands back.
struct Run {
    samples: Vec<Sample>,
    warm: usize,
    scrape_failures: u64,
    trim_failures: u64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let plan = match plan() {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("soak: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let Some(binary) = built_release_binary("soak") else {
        return ExitCode::FAILURE;
    };
    match run(&binary, &plan).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("soak failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `SOAK_MINUTES` and `SOAK_RATE`, each a positive whole number.
fn plan() -> anyhow::Result<Plan> {
    let read = |key: &str, default: u64, max: u64| -> anyhow::Result<u64> {
        match std::env::var(key) {
            Err(_) => Ok(default),
            Ok(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .with_context(|| format!("{key}: expected a whole number 1..={max}, got {v:?}")),
        }
    };
    Ok(Plan {
        minutes: read("SOAK_MINUTES", DEFAULT_MINUTES, 24 * 60)?,
        rate: read("SOAK_RATE", DEFAULT_RATE, 1_000)?,
    })
}

/// Starts the fakes and the daemon, runs the load, prints the figures; `Ok(false)` if a check
/// failed.
async fn run(binary: &Path, plan: &Plan) -> anyhow::Result<bool> {
    let dir = tempfile::tempdir()?;
    let fake = FakeApi::start().await?;
    let llm = FakeLlm::start().await?;
    let http_listen = free_local_addr()?;
    let data_dir = dir.path().join("data");
    let env = [
        ("TELEGRAM_BOT_TOKEN", BOT_TOKEN.to_owned()),
        ("TELEGRAM_API_URL", fake.url()),
        ("OWNER_TELEGRAM_CHAT_ID", OWNER.to_string()),
        ("TELEGRAM_RATE_GLOBAL", "0".to_owned()),
        ("TELEGRAM_RATE_PER_CHAT", "0".to_owned()),
        ("USER_RATE_LIMIT_PER_MIN", "0".to_owned()),
        ("MORNING_BRIEFING_TIME", String::new()),
        ("OPENAI_BASE_URL", llm.base_url()),
        ("OPENAI_API_KEY", soak_llm::API_KEY.to_owned()),
        ("OPENAI_MODEL_CHEAP", soak_llm::MODEL.to_owned()),
        ("OPENAI_MODEL_MID", soak_llm::MODEL.to_owned()),
        ("HTTP_LISTEN", http_listen.clone()),
        ("DATA_DIR", data_dir.display().to_string()),
        (
            "CREDENTIALS_DIR",
            dir.path().join("credentials").display().to_string(),
        ),
        ("LOG_FORMAT", "json".to_owned()),
    ];
    println!(
        "soak: {} min at {} msg/s from {CHATS} chats; daemon {}",
        plan.minutes,
        plan.rate,
        binary.display()
    );
    let mut daemon = Daemon::start(binary, dir.path(), &env)?;
    let db = data_dir.join("minicrew.db");
    let outcome = load(&daemon, binary, &fake, &db, &http_listen, plan).await;
    let run = match outcome {
        Ok(run) => run,
        Err(e) => {
            eprintln!("daemon log (last lines):\n{}", daemon.log_tail(20));
            return Err(e);
        }
    };
    let pushed = run.samples.last().map_or(0, |s| s.pushed);
    let drained = fake
        .wait_sent(pushed, Instant::now() + DRAIN_WITHIN)
        .await
        .map_err(|e| eprintln!("soak: {e:#}"))
        .is_ok();
    let peak = daemon.memory()?.hwm_kib;
    let (status, took) = daemon.terminate(SHUTDOWN_WITHIN).await?;
    let data = soak_load::data_counts(&db)?;
    let db_mib = std::fs::metadata(&db).map_or(0.0, |m| m.len() as f64 / 1048576.0);
    let llm_counts = llm.counts();
    let calls: Vec<String> = fake
        .calls()
        .iter()
        .map(|(m, n)| format!("{m} {n}"))
        .collect();
    println!();
    println!("Bot API calls: {}", calls.join(", "));
    println!(
        "fake model: {} answers ({} note tool calls), {} refused; /metrics or /health failed {} \
         times; the bench's trim query failed {} times",
        llm_counts.answered,
        llm_counts.tool_calls,
        llm_counts.refused,
        run.scrape_failures,
        run.trim_failures
    );
    println!(
        "after exit: {} updates not done, {} notes, {} pending reminders, database {db_mib:.1} \
         MiB; peak RSS {:.1} MiB; SIGTERM -> {status} in {} ms; WARN/ERROR log lines: {}",
        data.unfinished,
        data.notes,
        data.reminders,
        peak as f64 / 1024.0,
        took.as_millis(),
        daemon.warnings_logged()
    );
    let ok = soak_report::verdict(
        &run.samples,
        run.warm,
        drained
            && data.unfinished == 0
            && llm_counts.refused == 0
            && run.scrape_failures == 0
            && status.success(),
    );
    chart(&run);
    Ok(ok)
}

/// An address on 127.0.0.1 that was free a moment ago, for `HTTP_LISTEN`.
fn free_local_addr() -> anyhow::Result<String> {
    let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(probe.local_addr()?.to_string())
}

/// Waits for the first poll, approves the chats, then pushes the mix at a steady rate and
/// samples every [`SAMPLE_EVERY`] until the planned minutes are over.
async fn load(
    daemon: &Daemon,
    binary: &Path,
    fake: &FakeApi,
    db: &Path,
    http_listen: &str,
    plan: &Plan,
) -> anyhow::Result<Run> {
    let pid = soak_proc::child_pid(binary)?;
    fake.wait_polls(1, Instant::now() + Duration::from_secs(30))
        .await
        .context("the daemon never polled")?;
    let chats: Vec<i64> = (OWNER..OWNER + CHATS).collect();
    soak_load::approve_users(db, &chats[1..]).context("cannot approve the soak chats")?;
    let http = reqwest::Client::builder().timeout(SCRAPE_TIMEOUT).build()?;
    let duration = Duration::from_secs(plan.minutes * 60);
    let last = (duration.as_secs() / SAMPLE_EVERY.as_secs()) as usize;
    let warm_up = WARM_UP_MAX.min(duration / 6).max(SAMPLE_EVERY);
    let warm = (warm_up.as_secs() / SAMPLE_EVERY.as_secs()) as usize;
    let mut mix = Mix::new(chats);
    let mut run = Run {
        samples: Vec::with_capacity(last + 1),
        warm,
        scrape_failures: 0,
        trim_failures: 0,
    };
    soak_report::print_header();
    let start = Instant::now();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut pushed = 0u64;
    loop {
        tick.tick().await;
        let elapsed = start.elapsed().min(duration);
        let due = (elapsed.as_secs_f64() * plan.rate as f64) as u64;
        fake.push_texts((pushed..due).map(|_| mix.next()));
        pushed = due;
        let index = run.samples.len();
        if elapsed < SAMPLE_EVERY * index as u32 {
            continue;
        }
        let sample = Sample {
            at: elapsed,
            pushed,
            handled: fake.sent(),
            fds: soak_proc::open_fds(pid)?,
            ..memory(daemon)?
        };
        if index.is_multiple_of(6) || index == warm || index == last {
            soak_report::print_row(&sample, index == warm);
        }
        run.samples.push(sample);
        let behind = sample.pushed.saturating_sub(sample.handled);
        anyhow::ensure!(
            behind <= plan.rate * MAX_BACKLOG.as_secs(),
            "the daemon fell {behind} messages behind; lower SOAK_RATE for a steady load"
        );
        if index == last {
            return Ok(run);
        }
        if !scrape(&http, http_listen).await {
            run.scrape_failures += 1;
        }
        let trim = mix.trim();
        let path = db.to_path_buf();
        let found = tokio::task::spawn_blocking(move || trim.candidates(&path)).await?;
        // The bench's own read of the database failed once with SQLITE_CANTOPEN in a trial run
        // (cause not found; the daemon went on unharmed). It only feeds the delete slots, so a
        // failure is counted, shown with SQLite's extended code, and retried at the next sample.
        match found {
            Ok(found) => mix.enqueue(found),
            Err(e) => {
                run.trim_failures += 1;
                eprintln!("soak: cannot read notes and reminders to trim (retried in 10 s): {e:?}");
            }
        }
    }
}

/// Memory of the daemon as a sample with the other fields zero.
fn memory(daemon: &Daemon) -> anyhow::Result<Sample> {
    let m = daemon.memory()?;
    Ok(Sample {
        at: Duration::ZERO,
        rss_kib: m.rss_kib,
        anon_kib: m.anon_kib,
        fds: 0,
        threads: m.threads,
        pushed: 0,
        handled: 0,
    })
}

/// GETs `/metrics` and `/health`, as a monitor would; `false` if either failed.
async fn scrape(http: &reqwest::Client, addr: &str) -> bool {
    let mut ok = true;
    for path in ["/metrics", "/health"] {
        let reply = http.get(format!("http://{addr}{path}")).send().await;
        ok &= match reply {
            Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
            _ => false,
        };
    }
    ok
}

/// Writes `target/soak.png`, or says why not (a missing font does not fail the soak).
fn chart(run: &Run) {
    let out: PathBuf = release_binary()
        .parent()
        .and_then(Path::parent)
        .map_or_else(|| PathBuf::from("soak.png"), |t| t.join("soak.png"));
    let points: Vec<_> = run.samples.iter().map(Sample::point).collect();
    let warm_up = run.samples.get(run.warm).map_or(0.0, |s| s.point().minute);
    match soak_chart::draw(&out, &points, warm_up) {
        Ok(()) => println!("chart: {}", out.display()),
        Err(e) => println!("chart not written: {e:#}"),
    }
}
