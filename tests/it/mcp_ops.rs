//! MCP operations through the front door: `/mcp` with a ready, a missing-command and an
//! unreachable server; a killed stdio server restarted; a vanished HTTP server reconnected;
//! `/health` and `doctor`; a malformed `MCP_CONFIG` refused at start; and, with the real binary,
//! a child environment without our secrets, children killed with the bot, and a bearer token kept
//! out of the logs.

use std::process::{Command, Stdio};
use std::time::Duration;

use minicrew::mcp::ServerState;
use serde_json::{Value, json};

use crate::mcp::{app_with_mcp, app_with_mcp_env, ask, tool_results, unused_port};
use crate::support::app::{OWNER, WAIT};
use crate::support::fake_llm::Reply;
use crate::support::fake_telegram::FakeTelegram;
use crate::support::mcp_servers::{
    Everything, READY_WAIT, http_server, time_server, wait_for_server, wait_ready, write_config,
};
use crate::support::sigterm::stop_with_sigterm;

#[tokio::test]
async fn mcp_shows_each_server_and_a_missing_command_never_stops_the_bot() {
    let (app, _claude) = app_with_mcp(json!({
        "time": time_server(json!({})),
        "broken": {"command": "/nonexistent/mcp-server", "args": ["--serve"]},
        "nowhere": http_server(&format!("http://127.0.0.1:{}/mcp", unused_port()), json!({}))
    }))
    .await;
    wait_ready(&app.health, "time").await;
    let broken = wait_for_server(&app.health, "broken", "failed", |s| {
        s.state == ServerState::Failed || s.restarts > 0
    })
    .await;
    assert!(
        broken
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("cannot start '/nonexistent/mcp-server'")),
        "{broken:?}"
    );
    let reply = ask(&app, "/mcp", 1).await.text;
    assert!(reply.starts_with("MCP servers from "), "{reply}");
    assert!(reply.contains("• time (stdio): ready, 2 tools"), "{reply}");
    assert!(
        reply.contains("tools: time__get_current_time, time__convert_time"),
        "{reply}"
    );
    assert!(reply.contains("• broken (stdio): "), "{reply}");
    let nowhere =
        wait_for_server(&app.health, "nowhere", "failed", |s| s.last_error.is_some()).await;
    assert!(
        nowhere
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("handshake with http://127.0.0.1")),
        "{nowhere:?}"
    );
    assert!(
        reply.contains("last error: cannot start '/nonexistent/mcp-server'"),
        "{reply}"
    );
    let help = ask(&app, "/help", 2).await.text;
    assert!(help.contains("/mcp"), "{help}");
    assert!(
        !help.contains("time__"),
        "MCP tools stay out of /help: {help}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_killed_stdio_server_is_restarted_and_its_tools_come_back() {
    let (app, claude) = app_with_mcp(json!({"time": time_server(json!({"effect": "read"}))})).await;
    let first = wait_ready(&app.health, "time").await;
    let pid = first.pid.expect("a running stdio server has a pid");
    assert!(
        Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let again = wait_for_server(&app.health, "time", "restarted", |s| {
        s.state == ServerState::Ready && s.pid.is_some_and(|p| p != pid)
    })
    .await;
    assert_eq!(again.restarts, 1, "{again:?}");
    assert!(
        again
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("exited")),
        "{again:?}"
    );
    claude.script([
        Reply::tool("time__get_current_time", json!({"timezone": "UTC"})),
        Reply::text("Done."),
    ]);
    ask(&app, "Time in UTC?", 1).await;
    assert!(tool_results(&claude, 1)[0].contains("datetime"));
    app.stop().await;
}

#[test]
fn a_malformed_mcp_config_exits_2_naming_the_server_and_the_field() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mcp.json"),
        r#"{"mcpServers": {"time": {"command": "x", "effect": "sometimes"}}}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("test.env"),
        "TELEGRAM_BOT_TOKEN=123:abc\nOWNER_TELEGRAM_CHAT_ID=42\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_minicrew"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(dir.path())
        .args(["--env-file", "test.env"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains("MCP_CONFIG")
            && stderr.contains("server 'time'")
            && stderr.contains("field 'effect'"),
        "{stderr}"
    );
}

/// The real binary as a daemon with one stdio server `srv` run by `sh -c` (which first starts a
/// `sleep` of its own and writes its pid, the sleep's pid and its environment into files), then
/// `exec`s `then`. The bot's own environment holds a Telegram token and an API key.
struct Daemon {
    fake: FakeTelegram,
    dir: tempfile::TempDir,
    child: tokio::process::Child,
}

impl Daemon {
    async fn start(then: &str) -> Self {
        let fake = FakeTelegram::start().await;
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str| dir.path().join(name).display().to_string();
        let (pid, grandchild, env) = (
            file("server-pid"),
            file("grandchild-pid"),
            file("server-env"),
        );
        let script = format!(
            "sleep 300 & echo $! > '{grandchild}'; echo $$ > '{pid}'; \
             env > '{env}.tmp'; mv '{env}.tmp' '{env}'; exec {then}"
        );
        write_config(
            dir.path(),
            json!({"srv": {"command": "sh", "args": ["-c", script], "env": {"GIVEN": "yes"}}}),
        );
        std::fs::write(dir.path().join("test.env"), "").unwrap();
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_minicrew"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", dir.path())
            .env("TELEGRAM_BOT_TOKEN", fake.token())
            .env("TELEGRAM_API_URL", fake.url().as_str())
            .env("OWNER_TELEGRAM_CHAT_ID", OWNER.to_string())
            .env("ANTHROPIC_API_KEY", "sk-ant-must-not-leak")
            .env("DATA_DIR", "data")
            .current_dir(dir.path())
            .args(["--env-file", "test.env"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let daemon = Self { fake, dir, child };
        let deadline = tokio::time::Instant::now() + READY_WAIT;
        while !daemon.dir.path().join("server-env").exists() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the server never started"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        daemon
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap()
    }

    /// SIGTERM; waits for exit 0, then for the server and its `sleep` to be gone.
    async fn stop_and_check_nothing_is_left(self) {
        let (server, grandchild) = (self.read("server-pid"), self.read("grandchild-pid"));
        let status = stop_with_sigterm(self.child).await.status;
        assert_eq!(status.code(), Some(0));
        // Gone, or a zombie waiting for a reaper: either way no longer running.
        let running = |pid: &str| {
            std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).is_ok_and(|s| {
                s.rsplit(") ")
                    .next()
                    .is_some_and(|rest| !rest.starts_with('Z'))
            })
        };
        let deadline = tokio::time::Instant::now() + WAIT;
        while running(&server) || running(&grandchild) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the MCP server (or what it started) outlived the bot"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

#[tokio::test]
async fn a_stdio_server_gets_none_of_our_secrets_and_dies_with_the_bot() {
    let python = crate::support::servers::python().display().to_string();
    let daemon = Daemon::start(&format!("'{python}' -m mcp_server_time")).await;
    let env = daemon.read("server-env");
    assert!(env.lines().any(|l| l.starts_with("PATH=")), "{env}");
    assert!(env.lines().any(|l| l == "GIVEN=yes"), "{env}");
    for secret in [
        "TELEGRAM_BOT_TOKEN",
        "ANTHROPIC_API_KEY",
        "OWNER_TELEGRAM_CHAT_ID",
    ] {
        assert!(!env.contains(secret), "{secret} reached the server: {env}");
    }
    assert!(!env.contains("sk-ant-must-not-leak"), "{env}");
    // Ready first, so the stop takes the running server's path.
    let deadline = tokio::time::Instant::now() + READY_WAIT;
    let mut n = 0;
    loop {
        n += 1;
        daemon.fake.push_text(OWNER, "/mcp");
        let reply = daemon.fake.wait_for_sent(n, WAIT).await[n - 1].text.clone();
        if reply.contains("srv (stdio): ready, 2 tools") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never ready: {reply}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    daemon.stop_and_check_nothing_is_left().await;
}

#[tokio::test]
async fn a_server_still_starting_at_shutdown_is_killed_with_what_it_started() {
    // It never answers the handshake: the bot stops while it is still starting.
    let daemon = Daemon::start("sleep 300").await;
    daemon.stop_and_check_nothing_is_left().await;
}

#[tokio::test]
async fn health_json_and_doctor_report_each_server() {
    let (app, _claude) = app_with_mcp_env(
        json!({
            "time": time_server(json!({})),
            "broken": {"command": "/nonexistent/mcp-server"}
        }),
        &[("HTTP_LISTEN", "127.0.0.1:0")],
    )
    .await;
    wait_ready(&app.health, "time").await;
    wait_for_server(&app.health, "broken", "failed", |s| s.last_error.is_some()).await;
    let addr = app
        .health
        .status_addr(WAIT)
        .await
        .expect("HTTP_LISTEN bound");
    let body: Value = reqwest::get(format!("http://{addr}/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["status"], "ok",
        "a failed MCP server does not degrade the bot: {body}"
    );
    assert_eq!(body["mcp"]["time"]["state"], "ready", "{body}");
    assert_eq!(body["mcp"]["time"]["tools"], 2, "{body}");
    assert!(
        body["mcp"]["broken"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("cannot start")),
        "{body}"
    );
    let mcp_json = app.dir.path().join("mcp.json");
    let fake = FakeTelegram::start().await;
    let doctor_dir = tempfile::tempdir().unwrap();
    std::fs::copy(&mcp_json, doctor_dir.path().join("mcp.json")).unwrap();
    let env = format!(
        "TELEGRAM_BOT_TOKEN={}\nTELEGRAM_API_URL={}\nOWNER_TELEGRAM_CHAT_ID={OWNER}\n",
        fake.token(),
        fake.url()
    );
    std::fs::write(doctor_dir.path().join("test.env"), env).unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_minicrew"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(doctor_dir.path())
        .args(["--env-file", "test.env", "doctor"])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("ok   mcp time: 2 tools (stdio): get_current_time, convert_time"),
        "{stdout}"
    );
    assert!(
        stdout.contains("FAIL mcp broken: cannot start '/nonexistent/mcp-server'"),
        "{stdout}"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_http_server_that_goes_away_is_reported_and_used_again_when_it_is_back() {
    let everything = Everything::start().await;
    let port = everything.port;
    let (app, claude) = app_with_mcp(json!({
        "everything": http_server(&everything.url(), json!({"effect": "read"}))
    }))
    .await;
    wait_ready(&app.health, "everything").await;
    everything.kill().await;
    claude.script([
        Reply::tool("everything__echo", json!({"message": "anyone there"})),
        Reply::text("It is down."),
    ]);
    ask(&app, "echo anyone there", 1).await;
    let failed = tool_results(&claude, 1).pop().unwrap();
    assert!(
        failed.contains("The MCP server 'everything' could not run echo"),
        "{failed}"
    );
    let down = wait_for_server(&app.health, "everything", "down", |s| {
        s.state != ServerState::Ready
    })
    .await;
    assert!(down.last_error.is_some(), "{down:?}");
    let back = Everything::start_on(port).await;
    let again = wait_for_server(&app.health, "everything", "ready again", |s| {
        s.state == ServerState::Ready && s.restarts > 0
    })
    .await;
    assert!(again.tools > 0);
    app.stop().await;
    back.kill().await;
}

#[tokio::test]
async fn a_bearer_token_for_an_http_server_never_reaches_the_logs_even_at_trace_level() {
    let everything = Everything::start().await;
    let fake = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let token = "Bearer mcp-token-SECRET-31337";
    write_config(
        dir.path(),
        json!({"everything": http_server(&everything.url(), json!({"headers": {"Authorization": token}}))}),
    );
    let env = format!(
        "TELEGRAM_BOT_TOKEN={}\nTELEGRAM_API_URL={}\nOWNER_TELEGRAM_CHAT_ID={OWNER}\nDATA_DIR=data\n",
        fake.token(),
        fake.url()
    );
    std::fs::write(dir.path().join("test.env"), env).unwrap();
    let log = dir.path().join("stderr.log");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_minicrew"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "trace")
        .current_dir(dir.path())
        .args(["--env-file", "test.env"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let deadline = tokio::time::Instant::now() + READY_WAIT;
    let mut n = 0;
    loop {
        n += 1;
        fake.push_text(OWNER, "/mcp");
        let reply = fake.wait_for_sent(n, WAIT).await[n - 1].text.clone();
        if reply.contains("everything (http): ready") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never ready: {reply}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop_with_sigterm(child).await;
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("MCP server ready"), "the log was captured");
    assert!(!logged.contains("SECRET-31337"), "the token was logged");
    everything.kill().await;
}
