//! `TestApp`: the real minicrew app against the fake Telegram server, with its SQLite file in a
//! temp dir. Tests stop it gracefully or "kill" it (abort without shutdown) and start a new one
//! on the same data dir to check crash recovery.

use std::collections::HashMap;
use std::time::Duration;

use minicrew::app::App;
use minicrew::config::{Config, EnvReader, Purpose};
use minicrew::health::Health;
use minicrew::store::Store;
use minicrew::tools::{Tool, ToolHandles, all_tools};
use tempfile::TempDir;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::fake_telegram::FakeTelegram;

/// The owner's chat id in every test.
pub const OWNER: i64 = 777_000;
/// A chat that is not a user.
pub const STRANGER: i64 = 555_000;
/// Generous bound for anything a test waits for.
pub const WAIT: Duration = Duration::from_secs(10);

/// A running app plus the fakes and data dir it uses.
pub struct TestApp {
    /// The fake Bot API server.
    pub fake: FakeTelegram,
    /// Holds minicrew.db.
    pub dir: TempDir,
    /// A second handle on the app's database, for assertions.
    pub store: Store,
    /// The app's shared health state (also says where its HTTP server listens).
    pub health: Health,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

/// The env keys every test app gets; `extra` overrides or adds.
pub fn test_env(fake: &FakeTelegram, dir: &TempDir, extra: &[(&str, &str)]) -> EnvReader {
    let mut map: HashMap<String, String> = [
        ("TELEGRAM_BOT_TOKEN", fake.token().to_string()),
        ("TELEGRAM_API_URL", fake.url().to_string()),
        ("OWNER_TELEGRAM_CHAT_ID", OWNER.to_string()),
        ("OWNER_DISPLAY_NAME", "Olga".to_string()),
        ("DATA_DIR", dir.path().display().to_string()),
        ("TELEGRAM_RATE_GLOBAL", "0".to_string()),
        ("TELEGRAM_RATE_PER_CHAT", "0".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (k, v) in extra {
        map.insert(k.to_string(), v.to_string());
    }
    EnvReader::new(map)
}

impl TestApp {
    /// A new fake, a new data dir, the app running in polling mode.
    pub async fn start() -> Self {
        Self::start_with(
            FakeTelegram::start().await,
            tempfile::tempdir().unwrap(),
            &[],
        )
        .await
    }

    /// The app on an existing fake and data dir, with extra env keys.
    pub async fn start_with(fake: FakeTelegram, dir: TempDir, extra: &[(&str, &str)]) -> Self {
        Self::start_with_tools(fake, dir, extra, all_tools).await
    }

    /// Like [`TestApp::start_with`] with another tool list, made from the app's handles.
    pub async fn start_with_tools(
        fake: FakeTelegram,
        dir: TempDir,
        extra: &[(&str, &str)],
        tools: impl FnOnce(&ToolHandles) -> Vec<Box<dyn Tool>>,
    ) -> Self {
        let config = Config::from_reader(&test_env(&fake, &dir, extra), Purpose::Daemon)
            .expect("valid test config");
        let app = App::build_with_tools(config, tools)
            .await
            .expect("app builds");
        let store = app.services().store.clone();
        let health = app.services().health.clone();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(app.run_until_stopped(shutdown.clone()));
        Self {
            fake,
            dir,
            store,
            health,
            shutdown,
            task,
        }
    }

    /// The number a one-value query returns (a `SELECT COUNT(*) …`).
    pub async fn count(&self, sql: &'static str) -> i64 {
        self.store
            .call(move |c| c.query_row(sql, [], |r| r.get(0)))
            .await
            .unwrap()
    }

    /// Waits until `query` (a single-value SQL query) returns `expected`, up to [`WAIT`].
    pub async fn wait_for_db(&self, query: &'static str, expected: &str) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let value: String = self
                .store
                .call(move |c| c.query_row(query, [], |r| r.get::<_, rusqlite::types::Value>(0)))
                .await
                .map(|v| match v {
                    rusqlite::types::Value::Integer(i) => i.to_string(),
                    rusqlite::types::Value::Text(t) => t,
                    other => format!("{other:?}"),
                })
                .unwrap_or_else(|e| format!("error: {e}"));
            if value == expected {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{query} gave {value}, expected {expected}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Graceful shutdown; returns the fake and data dir for a restart.
    pub async fn stop(self) -> (FakeTelegram, TempDir) {
        self.shutdown.cancel();
        tokio::time::timeout(WAIT, self.task)
            .await
            .expect("app stops within the grace period")
            .expect("app task did not panic")
            .expect("app exits cleanly");
        (self.fake, self.dir)
    }

    /// Simulates a crash: the app's tasks are aborted with no shutdown.
    pub async fn kill(self) -> (FakeTelegram, TempDir) {
        self.task.abort();
        let _ = self.task.await;
        (self.fake, self.dir)
    }
}
