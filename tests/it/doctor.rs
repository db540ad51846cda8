//! `minicrew doctor` as a self-hoster runs it (the real binary, an env file, a data dir) against
//! the fakes and a real Radicale: every failing check names its fix, no configured secret is
//! printed, the webhook is judged from what getWebhookInfo says, file modes are checked, and a
//! run against servers that never answer still ends in bounded time.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::app::OWNER;
use crate::support::fake_llm::{FakeLlm, Reply, Wire};
use crate::support::fake_search::FakeSearch;
use crate::support::fake_telegram::{FakeTelegram, Fault};
use crate::support::mcp_servers::{http_server, write_config};
use crate::support::radicale::{self, Radicale};

/// What one doctor run printed.
pub(crate) struct Run {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) took: Duration,
}

impl Run {
    /// The fix line printed under the first line that starts with `head`.
    pub(crate) fn fix_under(&self, head: &str) -> &str {
        let mut lines = self.stdout.lines();
        lines
            .find(|l| l.starts_with(head))
            .unwrap_or_else(|| panic!("no line starting {head:?} in:\n{}", self.stdout));
        lines
            .next()
            .and_then(|l| l.strip_prefix("     fix: "))
            .unwrap_or_else(|| panic!("no fix under {head:?} in:\n{}", self.stdout))
    }

    /// Every line that is a warning or a failure has a fix line under it.
    pub(crate) fn assert_every_problem_has_a_fix(&self) {
        let lines: Vec<&str> = self.stdout.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.starts_with("FAIL") || line.starts_with("warn") {
                assert!(
                    lines
                        .get(i + 1)
                        .is_some_and(|l| l.starts_with("     fix: ")),
                    "no fix under {line:?} in:\n{}",
                    self.stdout
                );
            }
        }
    }
}

/// What every doctor run starts from: a temp dir (for its env file and data) and a fake
/// Telegram that answers the checks.
pub(crate) async fn arrange() -> (tempfile::TempDir, FakeTelegram) {
    (tempfile::tempdir().unwrap(), FakeTelegram::start().await)
}

/// Runs the binary's `doctor` in `dir` with the base Telegram keys plus `env` (`DATA_DIR` is
/// `dir/data` unless `env` names one).
pub(crate) async fn doctor(
    dir: &std::path::Path,
    fake: &FakeTelegram,
    env: &[(&str, String)],
) -> Run {
    let mut text = format!(
        "TELEGRAM_BOT_TOKEN={}\nTELEGRAM_API_URL={}\nOWNER_TELEGRAM_CHAT_ID={OWNER}\n",
        fake.token(),
        fake.url(),
    );
    if !env.iter().any(|(key, _)| *key == "DATA_DIR") {
        text.push_str(&format!("DATA_DIR={}\n", dir.join("data").display()));
    }
    for (key, value) in env {
        text.push_str(&format!("{key}={value}\n"));
    }
    std::fs::write(dir.join("test.env"), text).unwrap();
    let started = Instant::now();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_minicrew"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(dir)
        .args(["--env-file", "test.env", "doctor"])
        .output()
        .await
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        took: started.elapsed(),
    }
}

#[cfg(unix)]
fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A TCP server that accepts connections and never answers; its base URL.
async fn silent_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("http://{addr}/")
}

#[cfg(unix)]
#[tokio::test]
async fn every_failing_check_names_its_fix_and_no_configured_secret_is_printed() {
    let (dir, fake) = arrange().await;
    // A webhook whose URL holds the bot token, left set while the bot is configured to poll.
    let hook = format!("https://hook.example.org/bot{}/updates", fake.token());
    use teloxide::prelude::Requester;
    fake.bot().set_webhook(hook.parse().unwrap()).await.unwrap();
    let claude = FakeLlm::start(Wire::Claude).await;
    claude.always(Reply::status(401));
    let brave = FakeSearch::brave("BSA-the-right-key").await;
    let radicale = Radicale::start().await;
    let mcp = write_config(
        dir.path(),
        json!({"tracker": {"command": "/nonexistent/mcp-tracker", "env": {"TRACKER_TOKEN": "trk-SECRET-5150"}}}),
    );
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    set_mode(&data, 0o777);
    let key = data.join("secret.key");
    std::fs::write(&key, "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n").unwrap();
    set_mode(&key, 0o644);
    let env = [
        ("ANTHROPIC_API_KEY", "sk-ant-SECRET-4242".to_string()),
        ("ANTHROPIC_BASE_URL", claude.base_url().to_string()),
        ("BRAVE_SEARCH_API_KEY", "BSA-SECRET-wrong-key".to_string()),
        ("BRAVE_SEARCH_URL", brave.base_url().to_string()),
        ("CALDAV_URL", radicale.url()),
        ("CALDAV_USERNAME", radicale::USER.to_string()),
        ("CALDAV_PASSWORD", "caldav-SECRET-pw".to_string()),
        ("MCP_CONFIG", mcp.display().to_string()),
    ];
    let run = doctor(dir.path(), &fake, &env).await;

    assert_eq!(run.code, Some(1), "{}", run.stdout);
    run.assert_every_problem_has_a_fix();
    let fixes = [
        ("FAIL webhook:", "set BOT_MODE=webhook"),
        (
            "FAIL llm claude:",
            "set ANTHROPIC_API_KEY to a valid key from https://console.anthropic.com/settings/keys",
        ),
        (
            "FAIL web search:",
            "set BRAVE_SEARCH_API_KEY to a valid key from https://api-dashboard.search.brave.com",
        ),
        (
            "FAIL calendar Owner (CalDAV from CALDAV_URL):",
            "/calendar connect caldav <url> <username> <app-password>",
        ),
        (
            "FAIL mcp tracker:",
            "install '/nonexistent/mcp-tracker' or give its full path as \"command\" of server \"tracker\" in MCP_CONFIG",
        ),
        ("FAIL permissions: ", "chmod "),
    ];
    for (head, fix) in fixes {
        assert!(
            run.fix_under(head).contains(fix),
            "{head} {fix:?}:\n{}",
            run.stdout
        );
    }
    assert!(
        run.fix_under("FAIL calendar").contains("CALDAV_PASSWORD"),
        "{}",
        run.stdout
    );
    let data_shown = data.display().to_string();
    assert!(
        run.stdout
            .contains(&format!("fix: chmod 700 {data_shown}\n")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(&format!("fix: chmod 600 {}\n", key.display())),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("hook.example.org/bot[hidden]/updates"),
        "{}",
        run.stdout
    );
    let token_secret = fake.token().split_once(':').unwrap().1;
    for secret in [
        token_secret,
        "sk-ant-SECRET-4242",
        "BSA-SECRET-wrong-key",
        "caldav-SECRET-pw",
        "trk-SECRET-5150",
        "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
    ] {
        assert!(
            !run.stdout.contains(secret),
            "{secret} printed:\n{}",
            run.stdout
        );
    }

    // A token Telegram refuses names BotFather.
    let mut refused = env.to_vec();
    refused.push(("TELEGRAM_BOT_TOKEN", "123:SECRET-refused-token".to_string()));
    let run = doctor(dir.path(), &fake, &refused).await;
    assert!(
        run.fix_under("FAIL telegram:")
            .contains("https://t.me/BotFather"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("SECRET-refused-token"),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn the_webhook_is_judged_from_what_telegram_reports() {
    let (dir, fake) = arrange().await;
    let env = [
        ("BOT_MODE", "webhook".to_string()),
        ("WEBHOOK_HOST", "https://bot.example.org".to_string()),
        (
            "TELEGRAM_WEBHOOK_SECRET",
            "hook-SECRET-77-abcdefgh".to_string(),
        ),
    ];
    let run = doctor(dir.path(), &fake, &env).await;
    assert_eq!(
        run.code,
        Some(0),
        "a missing webhook only warns:\n{}",
        run.stdout
    );
    assert!(
        run.fix_under("warn webhook: no webhook is set")
            .contains("start minicrew"),
        "{}",
        run.stdout
    );

    use teloxide::prelude::Requester;
    let mine = "https://bot.example.org/bot/webhook";
    fake.bot().set_webhook(mine.parse().unwrap()).await.unwrap();
    let run = doctor(dir.path(), &fake, &env).await;
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!(
            "ok   webhook: {mine}, delivering; 0 update(s) waiting"
        )),
        "{}",
        run.stdout
    );

    let now = chrono::Utc::now().timestamp();
    fake.set_webhook_error(now - 120, "Connection refused");
    let run = doctor(dir.path(), &fake, &env).await;
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "FAIL webhook: Telegram's last delivery failed 2 min ago: \"Connection refused\""
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.fix_under("FAIL webhook:")
            .contains("make WEBHOOK_HOST reachable"),
        "{}",
        run.stdout
    );

    fake.set_webhook_error(
        now - 3 * 24 * 3600,
        "Wrong response from the webhook: 502 Bad Gateway",
    );
    let run = doctor(dir.path(), &fake, &env).await;
    assert_eq!(
        run.code,
        Some(0),
        "an old error only warns:\n{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("warn webhook: Telegram's last delivery failed 3 days ago"),
        "{}",
        run.stdout
    );

    fake.bot()
        .set_webhook("https://elsewhere.example.net/hook".parse().unwrap())
        .await
        .unwrap();
    let run = doctor(dir.path(), &fake, &env).await;
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(run.stdout.contains("FAIL webhook: Telegram posts to https://elsewhere.example.net/hook, but WEBHOOK_HOST + WEBHOOK_PATH make https://bot.example.org/bot/webhook"), "{}", run.stdout);
    assert!(
        run.fix_under("FAIL webhook:")
            .contains("WEBHOOK_HOST / WEBHOOK_PATH"),
        "{}",
        run.stdout
    );

    fake.bot().set_webhook(mine.parse().unwrap()).await.unwrap();
    fake.set_webhook_error(now - 3 * 24 * 3600, "old");
    for i in 0..150 {
        fake.push_text(OWNER, &format!("message {i}"));
    }
    let run = doctor(dir.path(), &fake, &env).await;
    assert!(run.stdout.contains("150 update(s) wait"), "{}", run.stdout);
    assert!(
        !run.stdout.contains("hook-SECRET-77-abcdefgh"),
        "{}",
        run.stdout
    );
    run.assert_every_problem_has_a_fix();
}

#[tokio::test]
async fn doctor_ends_in_bounded_time_when_every_server_hangs() {
    let (dir, fake) = arrange().await;
    fake.fail_next("getMe", Fault::Delay(Duration::from_secs(300)));
    let silent = silent_server().await;
    let mcp = write_config(
        dir.path(),
        json!({"remote": http_server(&format!("{silent}mcp"), json!({"startup_timeout_secs": 3}))}),
    );
    let env = [
        ("ANTHROPIC_API_KEY", "sk-ant-test".to_string()),
        ("ANTHROPIC_BASE_URL", silent.clone()),
        ("LLM_TIMEOUT_SECS", "4".to_string()),
        ("SEARXNG_URL", silent.clone()),
        ("CALDAV_URL", silent.clone()),
        ("CALDAV_USERNAME", "ana".to_string()),
        ("CALDAV_PASSWORD", "pw-123456".to_string()),
        ("MCP_CONFIG", mcp.display().to_string()),
    ];
    let run = doctor(dir.path(), &fake, &env).await;
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.took < Duration::from_secs(25),
        "took {:?} (the longest limit is 15 s):\n{}",
        run.took,
        run.stdout
    );
    for head in [
        "FAIL telegram: no answer within 7 s",
        "FAIL llm claude: timed out",
        "FAIL web search: SearXNG at",
        "FAIL mcp remote:",
    ] {
        assert!(
            run.stdout.contains(head),
            "missing {head:?}:\n{}",
            run.stdout
        );
    }
    let calendar = "FAIL calendar Owner (CalDAV from CALDAV_URL): I couldn't reach the calendar \
                    server (no answer within 12 s)";
    assert!(
        run.fix_under(calendar).contains("CALDAV_URL"),
        "{}",
        run.stdout
    );
    assert!(
        run.fix_under("FAIL telegram:").contains("TELEGRAM_API_URL"),
        "{}",
        run.stdout
    );
    assert!(
        run.fix_under("FAIL web search:").contains("SEARXNG_URL"),
        "{}",
        run.stdout
    );
    run.assert_every_problem_has_a_fix();
}

#[tokio::test]
async fn a_working_caldav_calendar_answers_and_a_private_data_dir_passes() {
    let (dir, fake) = arrange().await;
    let radicale = Radicale::start().await;
    let searxng = FakeSearch::searxng().await;
    let env = [
        ("CALDAV_URL", radicale.url()),
        ("CALDAV_USERNAME", radicale::USER.to_string()),
        ("CALDAV_PASSWORD", radicale::PASSWORD.to_string()),
        ("SEARXNG_URL", searxng.base_url().to_string()),
    ];
    let run = doctor(dir.path(), &fake, &env).await;
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    for line in [
        "ok   calendar Owner (CalDAV from CALDAV_URL): \"Personal\" answered (0 event(s) in the next 24 h)",
        "ok   permissions: ",
        "ok   webhook: none set (polling); 0 update(s) waiting",
        "ok   web search: SearXNG at",
    ] {
        assert!(
            run.stdout.contains(line),
            "missing {line:?}:\n{}",
            run.stdout
        );
    }
    assert_eq!(searxng.requests().len(), 1, "one tiny query");
    assert!(!run.stdout.contains(radicale::PASSWORD), "{}", run.stdout);
}
