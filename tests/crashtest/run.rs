//! The run itself, on one data dir: a warm-up (two users ask for access and the owner approves
//! them), then N times: start a fresh daemon process, feed it a burst, `kill -9` it at a random
//! moment; then one last daemon that drains everything and is stopped with SIGTERM.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use tempfile::TempDir;
use tokio::time::Instant;

use crate::daemon::Daemon;
use crate::fake_llm::FakeProvider;
use crate::fake_telegram::{BOT_TOKEN, FakeTelegram};
use crate::mix::{Mix, OWNER, USERS, feed_text};

/// How the run is shaped; see `main.rs` for the environment keys that set it.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Daemon processes killed with SIGKILL.
    pub kills: u32,
    /// Seed of every random choice (mode, burst, kill moment).
    pub seed: u64,
    /// The kill lands 0..=this many ms after the burst is fed.
    pub max_kill_ms: u64,
    /// The daemon binary.
    pub binary: PathBuf,
}

/// Updates per burst.
const BURST: std::ops::RangeInclusive<usize> = 3..=9;
/// Bound on the warm-up (a debug binary on a busy machine starts slowly).
const WARM_UP_WITHIN: Duration = Duration::from_secs(60);
/// Bound on the last daemon finishing everything left over.
const DRAIN_WITHIN: Duration = Duration::from_secs(180);
/// Bound on the exit after SIGTERM (the daemon's own grace is 10 s).
const EXIT_WITHIN: Duration = Duration::from_secs(20);
/// How often the database is looked at while waiting for the drain.
const DB_POLL: Duration = Duration::from_millis(100);
/// Secret of the webhook (Telegram's alphabet, long enough for the daemon's check).
const WEBHOOK_SECRET: &str = "crash_test_secret_0123456789";

/// Where each kill landed, judged by what that process did at the fake Bot API.
#[derive(Debug, Default, Clone, Copy)]
pub struct KillStats {
    /// Killed before it made any Bot API call (still starting).
    pub before_telegram: u32,
    /// Killed after talking to the Bot API but before sending any message.
    pub before_reply: u32,
    /// Killed after sending at least one message.
    pub after_reply: u32,
    /// Processes run in polling mode.
    pub polling: u32,
    /// Processes run in webhook mode.
    pub webhook: u32,
}

/// Everything the checks look at after the run.
pub struct Run {
    /// The fake Bot API, with every message sent.
    pub telegram: FakeTelegram,
    /// The fake LLM and speech-to-text server, with its request counts.
    pub provider: FakeProvider,
    /// Holds `data/minicrew.db` and `logs/`.
    pub dir: TempDir,
    /// Every update of the mix.
    pub mix: Mix,
    /// Messages sent during the warm-up (the first ones in the fake's record).
    pub warm_up_sends: usize,
    /// Where the kills landed.
    pub kills: KillStats,
    /// The daemon processes of the kill loop, in order.
    pub killed: Vec<u32>,
    /// How long the kill loop took.
    pub kill_loop: Duration,
    /// Daemons that exited without being killed, with the end of their log.
    pub self_exits: Vec<String>,
    /// Whether the last daemon finished everything within the bound.
    pub drained: bool,
    /// How the last daemon ended after SIGTERM.
    pub final_exit: String,
    /// Whether that was exit code 0.
    pub final_exit_ok: bool,
}

impl Run {
    /// The SQLite file the daemon wrote.
    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("data").join("minicrew.db")
    }

    /// The log of every daemon process, oldest first.
    pub fn log_paths(&self) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("logs"))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        paths.sort();
        paths
    }
}

/// The process environment that stays the same across restarts.
struct Launcher {
    binary: PathBuf,
    base_env: Vec<(&'static str, String)>,
    webhook_port: u16,
    generation: u32,
}

impl Launcher {
    /// Starts daemon process number `generation` (counted by the fake from now on).
    fn start(
        &mut self,
        telegram: &FakeTelegram,
        dir: &Path,
        webhook: bool,
    ) -> anyhow::Result<Daemon> {
        self.generation += 1;
        telegram.begin_generation(self.generation);
        let mut env = self.base_env.clone();
        if webhook {
            let port = self.webhook_port;
            env.extend([
                ("BOT_MODE", "webhook".to_owned()),
                ("WEBHOOK_HOST", format!("https://127.0.0.1:{port}")),
                ("WEBHOOK_LISTEN", "127.0.0.1".to_owned()),
                ("WEBHOOK_PORT", port.to_string()),
                ("TELEGRAM_WEBHOOK_SECRET", WEBHOOK_SECRET.to_owned()),
            ]);
        } else {
            env.push(("BOT_MODE", "polling".to_owned()));
        }
        let log = dir.join("logs").join(format!("{:04}.log", self.generation));
        Daemon::start_logging_to(&self.binary, dir, &env, &log)
    }
}

/// Runs the warm-up, the kill loop and the drain.
pub async fn run(settings: &Settings) -> anyhow::Result<Run> {
    let telegram = FakeTelegram::start().await?;
    let provider = FakeProvider::start().await?;
    let dir = tempfile::tempdir()?;
    std::fs::create_dir_all(dir.path().join("logs"))?;
    let mut launcher = Launcher {
        binary: settings.binary.clone(),
        base_env: base_env(&telegram, &provider, dir.path()),
        webhook_port: free_port(settings.seed)?,
        generation: 0,
    };
    warm_up(&mut launcher, &telegram, dir.path()).await?;
    let warm_up_sends = telegram.sent_count();
    let kills = kill_loop(settings, &mut launcher, &telegram, dir.path()).await?;
    let (drained, final_exit, final_exit_ok) = drain(&mut launcher, &telegram, dir.path()).await?;
    Ok(Run {
        telegram,
        provider,
        dir,
        mix: kills.mix,
        warm_up_sends,
        kills: kills.stats,
        killed: kills.killed,
        kill_loop: kills.took,
        self_exits: kills.self_exits,
        drained,
        final_exit,
        final_exit_ok,
    })
}

/// What the kill loop leaves behind.
struct KillLoop {
    mix: Mix,
    stats: KillStats,
    killed: Vec<u32>,
    self_exits: Vec<String>,
    took: Duration,
}

/// `settings.kills` times: a fresh process (polling or webhook), a burst, `kill -9` at a
/// random moment.
async fn kill_loop(
    settings: &Settings,
    launcher: &mut Launcher,
    telegram: &FakeTelegram,
    dir: &Path,
) -> anyhow::Result<KillLoop> {
    let mut rng = fastrand::Rng::with_seed(settings.seed);
    let (mut mix, mut stats) = (Mix::default(), KillStats::default());
    let (mut killed, mut self_exits) = (Vec::new(), Vec::new());
    let started = Instant::now();
    for _ in 0..settings.kills {
        let webhook = rng.bool();
        let mut daemon = launcher.start(telegram, dir, webhook)?;
        let burst = rng.usize(BURST);
        mix.feed_burst(telegram, &mut rng, burst, launcher.generation);
        killed.push(launcher.generation);
        // The random kill moment itself: deliberately a sleep, not a synchronisation.
        tokio::time::sleep(Duration::from_millis(rng.u64(0..=settings.max_kill_ms))).await;
        match daemon.exited()? {
            Some(status) => self_exits.push(format!(
                "process {} exited by itself ({status}):\n{}",
                launcher.generation,
                daemon.log_tail(15)
            )),
            None => daemon.kill().await?,
        }
        let did = telegram.generation(launcher.generation);
        match (did.calls, did.sends) {
            (0, _) => stats.before_telegram += 1,
            (_, 0) => stats.before_reply += 1,
            _ => stats.after_reply += 1,
        }
        if webhook {
            stats.webhook += 1;
        } else {
            stats.polling += 1;
        }
    }
    Ok(KillLoop {
        mix,
        stats,
        killed,
        self_exits,
        took: started.elapsed(),
    })
}

/// One last process (polling) finishes what is left and is stopped with SIGTERM. Returns
/// whether it drained in time, how it exited, and whether that was exit code 0.
async fn drain(
    launcher: &mut Launcher,
    telegram: &FakeTelegram,
    dir: &Path,
) -> anyhow::Result<(bool, String, bool)> {
    let mut daemon = launcher.start(telegram, dir, false)?;
    let drained = wait_for_drain(telegram, &dir.join("data").join("minicrew.db")).await;
    let (exit, exit_ok) = match daemon.terminate(EXIT_WITHIN).await {
        Ok((status, took)) => (
            format!("{status} after {} ms", took.as_millis()),
            status.success(),
        ),
        Err(e) => (format!("{e:#}"), false),
    };
    if !drained || !exit_ok {
        eprintln!("crashtest: last daemon log:\n{}", daemon.log_tail(30));
    }
    Ok((drained, exit, exit_ok))
}

fn base_env(
    telegram: &FakeTelegram,
    provider: &FakeProvider,
    dir: &Path,
) -> Vec<(&'static str, String)> {
    let path = |p: &str| dir.join(p).display().to_string();
    vec![
        ("TELEGRAM_BOT_TOKEN", BOT_TOKEN.to_owned()),
        ("TELEGRAM_API_URL", telegram.url()),
        ("OWNER_TELEGRAM_CHAT_ID", OWNER.to_string()),
        ("TELEGRAM_RATE_GLOBAL", "0".to_owned()),
        ("TELEGRAM_RATE_PER_CHAT", "0".to_owned()),
        ("USER_RATE_LIMIT_PER_MIN", "0".to_owned()),
        ("MORNING_BRIEFING_TIME", String::new()),
        ("DATA_DIR", path("data")),
        ("CREDENTIALS_DIR", path("credentials")),
        ("LOG_FORMAT", "json".to_owned()),
        ("OPENAI_API_KEY", "sk-crash-test".to_owned()),
        ("OPENAI_BASE_URL", provider.base_url()),
        ("OPENAI_MODEL_CHEAP", "crash-fake".to_owned()),
        ("OPENAI_MODEL_MID", "crash-fake".to_owned()),
        ("DEFAULT_LLM", "openai".to_owned()),
        ("LLM_TIMEOUT_SECS", "10".to_owned()),
        ("TRANSCRIBE_BASE_URL", provider.base_url()),
        ("TRANSCRIBE_API_KEY", "sk-crash-test-stt".to_owned()),
    ]
}

/// A port for webhook mode, reused by every webhook process: below Linux's ephemeral range, so
/// no outgoing connection holds it when a restarted daemon binds it again.
fn free_port(seed: u64) -> anyhow::Result<u16> {
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x5eed);
    for _ in 0..200 {
        let port = rng.u16(20_000..32_000);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    anyhow::bail!("no free port for the webhook in 20000..32000")
}

/// Waits until `done` holds, looking again at each send or confirmation (and at least every
/// [`DB_POLL`]); fails with `what` at `deadline`.
async fn wait_until(
    telegram: &FakeTelegram,
    deadline: Instant,
    what: &str,
    mut done: impl FnMut() -> bool,
) -> anyhow::Result<()> {
    while !done() {
        anyhow::ensure!(Instant::now() < deadline, "timed out waiting for {what}");
        telegram.changed(DB_POLL).await;
    }
    Ok(())
}

/// Two users send `/start`, the owner approves both with `/approve`; the daemon is then stopped
/// cleanly, so the mix starts from a quiet, known state.
async fn warm_up(
    launcher: &mut Launcher,
    telegram: &FakeTelegram,
    dir: &Path,
) -> anyhow::Result<()> {
    let mut daemon = launcher.start(telegram, dir, false)?;
    let deadline = Instant::now() + WARM_UP_WITHIN;
    let got = |chat: i64, needle: &str| {
        telegram
            .sent()
            .iter()
            .any(|s| s.chat_id == chat && s.text.contains(needle))
    };
    let result = async {
        for user in USERS {
            feed_text(telegram, user, "/start");
        }
        wait_until(telegram, deadline, "the access requests", || {
            USERS.iter().all(|u| got(*u, "asked the owner"))
        })
        .await?;
        for user in USERS {
            feed_text(telegram, OWNER, &format!("/approve {user}"));
        }
        wait_until(telegram, deadline, "the approvals", || {
            USERS.iter().all(|u| got(*u, "You're approved"))
                && telegram
                    .sent()
                    .iter()
                    .filter(|s| s.chat_id == OWNER && s.text.starts_with("Approved"))
                    .count()
                    == USERS.len()
        })
        .await
    }
    .await;
    if let Err(e) = result {
        eprintln!("crashtest: warm-up daemon log:\n{}", daemon.log_tail(30));
        return Err(e);
    }
    let (status, _) = daemon.terminate(EXIT_WITHIN).await?;
    anyhow::ensure!(status.success(), "the warm-up daemon exited with {status}");
    Ok(())
}

/// Waits until every update is confirmed and the database shows nothing left to do (no pending
/// inbox row, no unsent outbox row). Returns whether that happened within [`DRAIN_WITHIN`].
async fn wait_for_drain(telegram: &FakeTelegram, db: &Path) -> bool {
    let deadline = Instant::now() + DRAIN_WITHIN;
    wait_until(telegram, deadline, "the drain", || {
        telegram.unconfirmed() == 0 && nothing_pending(db).unwrap_or(false)
    })
    .await
    .is_ok()
}

/// Whether the inbox and the outbox have no pending row.
fn nothing_pending(db: &Path) -> anyhow::Result<bool> {
    let conn = rusqlite::Connection::open(db).context("open the database")?;
    conn.busy_timeout(Duration::from_secs(2))?;
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0));
    Ok(
        count("SELECT count(*) FROM inbox WHERE status = 'pending'")? == 0
            && count("SELECT count(*) FROM outbox WHERE status = 'pending'")? == 0,
    )
}
