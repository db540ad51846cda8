//! Footprint of the real release daemon against the fake Bot API on 127.0.0.1: the binary's
//! size, the time from spawn to its first `getUpdates`, and its idle memory split the way the
//! kernel accounts it (`/proc/<pid>/smaps_rollup` and `/proc/<pid>/smaps`): pages of the binary
//! itself (file-backed code and data), other files (libc, locale), anonymous (heap, stacks).
//! Then one `/help` is answered and the memory read again (what first use pages in).
//!
//! Each run starts the daemon afresh in a new temp dir (a new database, so migrations run);
//! one warm-up run is not counted (it puts the binary in the page cache). It prints the
//! minimum, median and maximum of `FOOTPRINT_RUNS` runs (5 unless set) and asserts nothing
//! about speed or size. Run it after `cargo build --release`:
//!
//! ```text
//! cargo build --release && BENCH_BINARY=target/release/minicrew CARGO_TARGET_DIR=target/bench cargo bench --bench footprint
//! FOOTPRINT_RUNS=9 cargo bench --bench footprint --profile dev   # the bench itself unoptimised
//! ```

// The daemon bench's helpers; `FakeApi::batch_window` and `calls` are unused here.
#[allow(dead_code)]
mod support;

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use tokio::time::Instant;

use support::daemon::{Daemon, built_release_binary};
use support::fake_api::{BOT_TOKEN, FakeApi};

/// The owner's chat id.
const OWNER: i64 = 1000;
/// How long the daemon idles before its memory is read.
const IDLE: Duration = Duration::from_secs(5);
/// One run, start to exit, must finish within this.
const RUN_DEADLINE: Duration = Duration::from_secs(60);
/// How long the daemon may take to exit after SIGTERM.
const SHUTDOWN_WITHIN: Duration = Duration::from_secs(15);

/// The figures of one run; memory in KiB.
#[derive(Debug, Clone, Copy, Default)]
struct Figures {
    start_ms: f64,
    rss: u64,
    anon: u64,
    file: u64,
    binary: u64,
    binary_text: u64,
    rss_after_help: u64,
    binary_after_help: u64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let Some(binary) = built_release_binary("footprint bench") else {
        return ExitCode::FAILURE;
    };
    let runs: usize = std::env::var("FOOTPRINT_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    match run_all(&binary, runs).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("footprint bench failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run_all(binary: &Path, runs: usize) -> anyhow::Result<()> {
    let size = binary.metadata()?.len();
    println!("binary {} bytes ({})", size, binary.display());
    run_once(binary).await.context("warm-up run")?;
    let mut all = Vec::with_capacity(runs);
    for i in 0..runs {
        all.push(run_once(binary).await.with_context(|| format!("run {i}"))?);
    }
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!("{runs} runs after 1 warm-up; idle {} s", IDLE.as_secs());
    println!("{:<34} {:>8} {:>8} {:>8}", "figure", "min", "median", "max");
    let row = |name: &str, pick: &dyn Fn(&Figures) -> f64| {
        let mut values: Vec<f64> = all.iter().map(pick).collect();
        values.sort_by(f64::total_cmp);
        println!(
            "{:<34} {:>8.1} {:>8.1} {:>8.1}",
            name,
            values[0],
            values[values.len() / 2],
            values[values.len() - 1]
        );
    };
    row("start to first getUpdates (ms)", &|f| f.start_ms);
    row("idle RSS (MiB)", &|f| mib(f.rss));
    row("  anonymous (MiB)", &|f| mib(f.anon));
    row("  file-backed (MiB)", &|f| mib(f.file));
    row("    of it the binary (MiB)", &|f| mib(f.binary));
    row("      its code (MiB)", &|f| mib(f.binary_text));
    row("RSS after one /help (MiB)", &|f| mib(f.rss_after_help));
    row("  of it the binary (MiB)", &|f| mib(f.binary_after_help));
    Ok(())
}

async fn run_once(binary: &Path) -> anyhow::Result<Figures> {
    let deadline = Instant::now() + RUN_DEADLINE;
    let dir = tempfile::tempdir()?;
    let fake = FakeApi::start().await?;
    let env = [
        ("TELEGRAM_BOT_TOKEN", BOT_TOKEN.to_owned()),
        ("TELEGRAM_API_URL", fake.url()),
        ("OWNER_TELEGRAM_CHAT_ID", OWNER.to_string()),
        ("MORNING_BRIEFING_TIME", String::new()),
        ("DATA_DIR", dir.path().join("data").display().to_string()),
        (
            "CREDENTIALS_DIR",
            dir.path().join("credentials").display().to_string(),
        ),
        ("LOG_FORMAT", "json".to_owned()),
    ];
    let spawned = Instant::now();
    let mut daemon = Daemon::start(binary, dir.path(), &env)?;
    let result = measure(&daemon, &fake, binary, spawned, deadline).await;
    if result.is_err() {
        eprintln!("daemon log (last lines):\n{}", daemon.log_tail(20));
    }
    daemon.terminate(SHUTDOWN_WITHIN).await?;
    result
}

async fn measure(
    daemon: &Daemon,
    fake: &FakeApi,
    binary: &Path,
    spawned: Instant,
    deadline: Instant,
) -> anyhow::Result<Figures> {
    fake.wait_polls(1, deadline)
        .await
        .context("the daemon never polled")?;
    let start_ms = spawned.elapsed().as_secs_f64() * 1000.0;
    // Deliberate idle period: this is what is being measured, not a synchronisation.
    tokio::time::sleep(IDLE).await;
    let idle = read_maps(daemon.pid(), binary)?;
    fake.push_texts([(OWNER, "/help".to_owned())]);
    fake.wait_sent(1, deadline)
        .await
        .context("no answer to /help")?;
    let after = read_maps(daemon.pid(), binary)?;
    Ok(Figures {
        start_ms,
        rss: idle.rss,
        anon: idle.anon,
        file: idle.file,
        binary: idle.binary,
        binary_text: idle.binary_text,
        rss_after_help: after.rss,
        binary_after_help: after.binary,
    })
}

/// Resident KiB by kind, from `/proc/<pid>/smaps`.
#[derive(Default)]
struct Maps {
    rss: u64,
    anon: u64,
    file: u64,
    binary: u64,
    binary_text: u64,
}

fn read_maps(pid: u32, binary: &Path) -> anyhow::Result<Maps> {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .context("cannot read /proc/<pid>/smaps_rollup (has the daemon exited?)")?;
    let field = |text: &str, name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let rss = field(&rollup, "Rss:");
    let anon = field(&rollup, "Anonymous:");
    let mut maps = Maps {
        rss,
        anon,
        file: rss.saturating_sub(anon),
        ..Maps::default()
    };
    // Per mapping: a header line "start-end perms offset dev inode path", then "Key: n kB" lines.
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps"))?;
    let path = binary.canonicalize()?.display().to_string();
    let mut current: Option<(bool, bool)> = None; // (is the binary, is executable)
    for line in smaps.lines() {
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or_default();
        if first.contains('-') && !first.ends_with(':') {
            let perms = words.next().unwrap_or_default();
            let name = line.split_whitespace().nth(5).unwrap_or_default();
            current = Some((name == path, perms.contains('x')));
        } else if first == "Rss:"
            && let Some((is_binary, executable)) = current
            && is_binary
        {
            let kib = field(line, "Rss:");
            maps.binary += kib;
            if executable {
                maps.binary_text += kib;
            }
        }
    }
    Ok(maps)
}
