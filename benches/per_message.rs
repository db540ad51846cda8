//! CPU per message of the real release daemon, against fakes on 127.0.0.1 (the bench's fake Bot
//! API and the soak bench's instant OpenAI-compatible model). The figure is the daemon's own
//! CPU time (`utime + stime` from `/proc/<pid>/stat`, all threads) over a phase, divided by the
//! messages of the phase, so it does not depend on what else the shared machine runs; the split
//! per thread (`/proc/<pid>/task/*/stat`) says which thread is busy. Rates (msg/s) are wall
//! clock and do depend on the load of the machine.
//!
//! Phases, in one run:
//! - polling, one chat (the owner): 300 queued `/help`, then 300 free texts;
//! - polling, 200 approved chats: 2,000 `/help`, then 2,000 free texts (where it saturates);
//! - webhook, 50 chats, 16 posters each posting its next update as soon as the last was
//!   acknowledged: 2,000 `/help`, then 2,000 free texts (CPU per message and ack latency);
//! - webhook, 50 chats: 8,000 more mixed messages (or `PER_MESSAGE_RSS_MESSAGES`), RSS after
//!   every eighth of them (growth, and whether it is flat after the first eighth).
//!
//! It prints figures and asserts nothing about speed. Run it after `cargo build --release`:
//!
//! ```text
//! cargo build --release && BENCH_BINARY=target/release/minicrew CARGO_TARGET_DIR=target/bench cargo bench --bench per_message
//! PER_MESSAGE_RSS_MESSAGES=100000 BENCH_BINARY=target/release/minicrew CARGO_TARGET_DIR=target/bench cargo bench --bench per_message   # RSS after 100k messages
//! ```
//!
//! To count instructions instead (repeatable on a busy machine), run only the one-chat phases
//! with the daemon under callgrind; each phase is then dumped to its own file:
//!
//! ```text
//! PER_MESSAGE_ONE_CHAT_ONLY=1 PER_MESSAGE_WRAPPER="valgrind --tool=callgrind --instr-atstart=no \
//!   --callgrind-out-file=target/callgrind.%p" BENCH_BINARY=target/release/minicrew CARGO_TARGET_DIR=target/bench cargo bench --bench per_message
//! callgrind_annotate target/callgrind.<pid>.1    # the first phase (300 /help)
//! ```
//!
//! `PER_MESSAGE_FREE_TEXT_ONLY=1` leaves out the one-chat `/help` phase (the free-text count
//! then comes from a daemon that answered nothing before).

#[allow(
    dead_code,
    reason = "the soak bench reads the fake model's counts; this bench does not"
)]
#[path = "support/soak_llm.rs"]
mod soak_llm;
mod support;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use tokio::task::JoinSet;
use tokio::time::Instant;

use soak_llm::FakeLlm;
use support::daemon::{Daemon, built_release_binary};
use support::fake_api::{BOT_TOKEN, FakeApi};
use support::proc_cpu;

/// The owner's chat id; the other chats are `OWNER + 1 ..`.
const OWNER: i64 = 1000;
/// Chats of the many-chats phases (the owner and 199 approved users).
const MANY_CHATS: i64 = 200;
/// Chats of the webhook phases.
const WEBHOOK_CHATS: i64 = 50;
/// Concurrent webhook posters.
const POSTERS: usize = 16;
/// Messages of the RSS phase unless `PER_MESSAGE_RSS_MESSAGES` says otherwise; RSS is read
/// after every eighth of them.
const RSS_MESSAGES: i64 = 8_000;
const RSS_READINGS: i64 = 8;
/// Each daemon run must finish within this (plus a second per 1,000 RSS messages).
const DEADLINE: Duration = Duration::from_secs(300);
const SHUTDOWN_WITHIN: Duration = Duration::from_secs(15);
const WEBHOOK_SECRET: &str = "bench_webhook_secret_0123456789abcdef";
const WEBHOOK_PATH: &str = "/bot/webhook";
/// A free text: a plain question, answered by the fake model at once.
const FREE_TEXT: &str = "What should I cook tonight with rice, leeks and a lemon?";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let Some(binary) = built_release_binary("per_message bench") else {
        return ExitCode::FAILURE;
    };
    let outcome = async {
        polling(&binary).await?;
        if std::env::var_os("PER_MESSAGE_ONE_CHAT_ONLY").is_some() {
            return Ok(());
        }
        webhook(&binary).await
    };
    match outcome.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("per_message bench failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// One measured phase.
struct Phase {
    label: String,
    messages: u64,
    wall: Duration,
    cpu: proc_cpu::Cpu,
}

impl Phase {
    fn print(&self) {
        println!(
            "{:<40} {:>6} msgs {:>7.0} msg/s  CPU {:>6.3} ms/msg",
            self.label,
            self.messages,
            self.messages as f64 / self.wall.as_secs_f64(),
            self.cpu.ms_per(self.messages)
        );
        println!("    threads: {}", self.cpu.split());
    }
}

/// The daemon, its fakes and temp dir for one mode.
struct Rig {
    /// Whether the daemon polls (else it takes the webhook's posts).
    polling: bool,
    daemon: Daemon,
    fake: FakeApi,
    _llm: FakeLlm,
    dir: tempfile::TempDir,
}

impl Rig {
    async fn start(binary: &Path, mode: &[(&str, String)]) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let fake = FakeApi::start().await?;
        let llm = FakeLlm::start().await?;
        let path = |p: &str| dir.path().join(p).display().to_string();
        let mut env = vec![
            ("TELEGRAM_BOT_TOKEN", BOT_TOKEN.to_owned()),
            ("TELEGRAM_API_URL", fake.url()),
            ("OWNER_TELEGRAM_CHAT_ID", OWNER.to_string()),
            ("TELEGRAM_RATE_GLOBAL", "0".to_owned()),
            ("TELEGRAM_RATE_PER_CHAT", "0".to_owned()),
            ("USER_RATE_LIMIT_PER_MIN", "0".to_owned()),
            ("MORNING_BRIEFING_TIME", String::new()),
            ("STREAM_REPLIES", "false".to_owned()),
            ("OPENAI_BASE_URL", llm.base_url()),
            ("OPENAI_API_KEY", soak_llm::API_KEY.to_owned()),
            ("OPENAI_MODEL_CHEAP", soak_llm::MODEL.to_owned()),
            ("OPENAI_MODEL_MID", soak_llm::MODEL.to_owned()),
            ("DATA_DIR", path("data")),
            ("CREDENTIALS_DIR", path("credentials")),
            ("LOG_FORMAT", "json".to_owned()),
        ];
        env.extend(mode.iter().cloned());
        let daemon = match std::env::var("PER_MESSAGE_WRAPPER") {
            Ok(wrapper) => {
                // `exec` keeps the pid: `/proc` and `callgrind_control` then see the daemon.
                let script = dir.path().join("wrapped.sh");
                let body = format!("#!/bin/sh\nexec {wrapper} {} \"$@\"\n", binary.display());
                std::fs::write(&script, body)?;
                let mode = std::os::unix::fs::PermissionsExt::from_mode(0o700);
                std::fs::set_permissions(&script, mode)?;
                Daemon::start(&script, dir.path(), &env)?
            }
            Err(_) => Daemon::start(binary, dir.path(), &env)?,
        };
        Ok(Self {
            polling: !mode.iter().any(|(k, v)| *k == "BOT_MODE" && v == "webhook"),
            daemon,
            fake,
            _llm: llm,
            dir,
        })
    }

    fn db(&self) -> std::path::PathBuf {
        self.dir.path().join("data").join("minicrew.db")
    }

    /// Runs `load` (which makes `messages` replies due) and measures the daemon's CPU over it.
    async fn phase<F: Future<Output = anyhow::Result<()>>>(
        &self,
        label: String,
        messages: u64,
        deadline: Instant,
        load: F,
    ) -> anyhow::Result<Phase> {
        let pid = self.daemon.pid();
        let base = self.fake.sent();
        let callgrind = std::env::var_os("PER_MESSAGE_WRAPPER").is_some();
        if callgrind {
            callgrind_control(pid, "--instr=on")?;
        }
        let before = proc_cpu::read(pid)?;
        let started = Instant::now();
        load.await?;
        self.fake
            .wait_sent(base + messages, deadline)
            .await
            .with_context(|| format!("phase {label}"))?;
        // Polling: from the first update handed out to the last reply (the poll's wait left
        // out); webhook: from the first post.
        let wall = self
            .fake
            .batch_window()
            .filter(|_| self.polling)
            .unwrap_or_else(|| started.elapsed());
        let cpu = proc_cpu::read(pid)?.since(&before);
        if callgrind {
            callgrind_control(pid, "--dump")?;
            callgrind_control(pid, "--instr=off")?;
        }
        let phase = Phase {
            label,
            messages,
            wall,
            cpu,
        };
        phase.print();
        Ok(phase)
    }

    async fn stop(mut self) -> anyhow::Result<()> {
        let warnings = self.daemon.warnings_logged();
        self.daemon.terminate(SHUTDOWN_WITHIN).await?;
        println!("WARN/ERROR log lines: {warnings}");
        Ok(())
    }
}

/// Runs `callgrind_control <arg> <pid>` (the daemon runs under callgrind).
fn callgrind_control(pid: u32, arg: &str) -> anyhow::Result<()> {
    let status = std::process::Command::new("callgrind_control")
        .args([arg, &pid.to_string()])
        .stdout(std::process::Stdio::null())
        .status()
        .context("cannot run callgrind_control")?;
    anyhow::ensure!(status.success(), "callgrind_control {arg} failed");
    Ok(())
}

/// The polling phases: one chat, then 200.
async fn polling(binary: &Path) -> anyhow::Result<()> {
    let deadline = Instant::now() + DEADLINE;
    let rig = Rig::start(binary, &[]).await?;
    let run = async {
        rig.fake
            .wait_polls(1, deadline)
            .await
            .context("the daemon never polled")?;
        support::users::approve_users(&rig.db(), OWNER + 1..OWNER + MANY_CHATS)?;
        println!("polling:");
        // Under callgrind each phase is its own dump; free text alone gives its count without
        // what the /help phase leaves behind in the same process.
        let free_text_only = std::env::var_os("PER_MESSAGE_FREE_TEXT_ONLY").is_some();
        for (text, what) in [("/help", "/help"), (FREE_TEXT, "free text")] {
            if free_text_only && text == "/help" {
                continue;
            }
            let label = format!("1 chat, 300 {what}");
            rig.phase(label, 300, deadline, async {
                rig.fake
                    .push_texts((0..300).map(|_| (OWNER, text.to_owned())));
                Ok(())
            })
            .await?;
        }
        if std::env::var_os("PER_MESSAGE_ONE_CHAT_ONLY").is_some() {
            return anyhow::Ok(());
        }
        for (text, what) in [("/help", "/help"), (FREE_TEXT, "free text")] {
            let label = format!("{MANY_CHATS} chats, 2000 {what}");
            rig.phase(label, 2_000, deadline, async {
                let chats = (0..2_000).map(|i| (OWNER + i % MANY_CHATS, text.to_owned()));
                rig.fake.push_texts(chats);
                Ok(())
            })
            .await?;
        }
        anyhow::Ok(())
    };
    if let Err(e) = run.await {
        eprintln!("daemon log (last lines):\n{}", rig.daemon.log_tail(20));
        return Err(e);
    }
    rig.stop().await
}

/// The webhook phases: CPU per message and ack latency, then RSS over 8,000 messages.
async fn webhook(binary: &Path) -> anyhow::Result<()> {
    let rss_messages = match std::env::var("PER_MESSAGE_RSS_MESSAGES") {
        Ok(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (RSS_READINGS..=10_000_000).contains(n))
            .with_context(|| {
                format!("PER_MESSAGE_RSS_MESSAGES: expected 8..=10000000, got {v:?}")
            })?,
        Err(_) => RSS_MESSAGES,
    };
    let every = rss_messages / RSS_READINGS;
    let deadline = Instant::now() + DEADLINE + Duration::from_millis(rss_messages as u64);
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mode = [
        ("BOT_MODE", "webhook".to_owned()),
        ("WEBHOOK_HOST", "https://bench.example.org".to_owned()),
        ("WEBHOOK_PATH", WEBHOOK_PATH.to_owned()),
        ("WEBHOOK_LISTEN", "127.0.0.1".to_owned()),
        ("WEBHOOK_PORT", port.to_string()),
        ("TELEGRAM_WEBHOOK_SECRET", WEBHOOK_SECRET.to_owned()),
    ];
    let rig = Rig::start(binary, &mode).await?;
    let url = format!("http://127.0.0.1:{port}{WEBHOOK_PATH}");
    let run = async {
        wait_webhook_set(&rig.fake, deadline).await?;
        support::users::approve_users(&rig.db(), OWNER + 1..OWNER + WEBHOOK_CHATS)?;
        let poster = Poster::new(url)?;
        println!("webhook ({POSTERS} posters):");
        for (text, what) in [("/help", "/help"), (FREE_TEXT, "free text")] {
            let label = format!("{WEBHOOK_CHATS} chats, 2000 {what}");
            let mut acks = Vec::new();
            rig.phase(label, 2_000, deadline, async {
                acks = poster.post(2_000, |_| text).await?;
                Ok(())
            })
            .await?;
            print_acks(&mut acks);
        }
        let first = rig.daemon.memory()?;
        println!(
            "RSS over {rss_messages} webhook messages from {WEBHOOK_CHATS} chats \
             (half /help, half free text), after the 4,000 above: start {:.2} MiB",
            first.rss_kib as f64 / 1024.0
        );
        let mut readings = Vec::new();
        for _ in 0..RSS_READINGS {
            let base = rig.fake.sent();
            poster
                .post(every, |i| if i % 2 == 0 { "/help" } else { FREE_TEXT })
                .await?;
            rig.fake.wait_sent(base + every as u64, deadline).await?;
            readings.push(rig.daemon.memory()?);
        }
        let mib = |kib: u64| kib as f64 / 1024.0;
        let line: Vec<String> = readings
            .iter()
            .map(|m| format!("{:.2}", mib(m.rss_kib)))
            .collect();
        println!("    RSS MiB every {every}: {}", line.join(" "));
        let last = readings.last().map_or(0, |m| m.rss_kib);
        let warm = readings.first().map_or(0, |m| m.rss_kib);
        println!(
            "    growth over {rss_messages}: {:+.2} MiB; after the first {every} (warm-up): \
             {:+.2} MiB; anon at the end {:.2} MiB, peak {:.2} MiB, threads {}",
            mib(last) - mib(first.rss_kib),
            mib(last) - mib(warm),
            mib(readings.last().map_or(0, |m| m.anon_kib)),
            mib(readings.last().map_or(0, |m| m.hwm_kib)),
            readings.last().map_or(0, |m| m.threads),
        );
        anyhow::Ok(())
    };
    if let Err(e) = run.await {
        eprintln!("daemon log (last lines):\n{}", rig.daemon.log_tail(20));
        return Err(e);
    }
    rig.stop().await
}

/// Waits until the daemon registered its webhook (it listens from then on), or fails.
async fn wait_webhook_set(fake: &FakeApi, deadline: Instant) -> anyhow::Result<()> {
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    while !fake.calls().contains_key("setwebhook") {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the daemon never called setWebhook"
        );
        tick.tick().await;
    }
    Ok(())
}

/// Posts updates to the daemon's webhook from [`POSTERS`] concurrent posters, each posting its
/// next update as soon as the last was acknowledged.
struct Poster {
    client: reqwest::Client,
    url: String,
    next_id: Arc<AtomicI64>,
}

impl Poster {
    fn new(url: String) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(POSTERS)
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self {
            client,
            url,
            next_id: Arc::new(AtomicI64::new(1)),
        })
    }

    /// Posts `count` updates, the i-th with `text(i)`, spread over the webhook chats; returns
    /// each acknowledgement's latency. A refused post is an error.
    async fn post(
        &self,
        count: i64,
        text: impl Fn(i64) -> &'static str,
    ) -> anyhow::Result<Vec<Duration>> {
        let first = self.next_id.fetch_add(count, Ordering::Relaxed);
        let bodies: Vec<String> = (0..count)
            .map(|i| {
                let id = first + i;
                FakeApi::text_update_body(id, OWNER + id % WEBHOOK_CHATS, text(i))
            })
            .collect();
        let bodies = Arc::new(std::sync::Mutex::new(bodies.into_iter()));
        let mut posters = JoinSet::new();
        for _ in 0..POSTERS {
            let (client, url, bodies) = (self.client.clone(), self.url.clone(), bodies.clone());
            posters.spawn(async move {
                let mut acks = Vec::new();
                loop {
                    let next = bodies.lock().ok().and_then(|mut b| b.next());
                    let Some(body) = next else {
                        return anyhow::Ok(acks);
                    };
                    let sent = Instant::now();
                    let status = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .header("X-Telegram-Bot-Api-Secret-Token", WEBHOOK_SECRET)
                        .body(body)
                        .send()
                        .await?
                        .status();
                    anyhow::ensure!(status.is_success(), "the webhook answered {status}");
                    acks.push(sent.elapsed());
                }
            });
        }
        let mut acks = Vec::with_capacity(count as usize);
        while let Some(done) = posters.join_next().await {
            acks.extend(done??);
        }
        Ok(acks)
    }
}

fn print_acks(acks: &mut [Duration]) {
    if acks.is_empty() {
        return;
    }
    acks.sort();
    let pct = |p: f64| {
        let i = ((acks.len() as f64 * p).ceil() as usize).clamp(1, acks.len()) - 1;
        acks[i].as_secs_f64() * 1000.0
    };
    println!(
        "    ack ms: p50 {:.2}  p99 {:.2}  max {:.2}",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
}
