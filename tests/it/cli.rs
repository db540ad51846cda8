//! The `minicrew` binary as a user runs it: config errors, the terminal channel, and the daemon's
//! shutdown on SIGTERM against the fake Telegram server.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::app::{OWNER, WAIT};
use crate::support::fake_telegram::FakeTelegram;
use crate::support::sigterm::stop_with_sigterm;

/// Runs `command` (a `minicrew … chat`) with `input` on its stdin, closes stdin and returns
/// what it printed once it exits (within [`WAIT`]); fails with its stderr if it did not succeed.
pub(crate) async fn chat_with(command: Command, input: &str) -> std::process::Output {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::from(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).await.unwrap();
    drop(stdin);
    let out = tokio::time::timeout(WAIT, child.wait_with_output())
        .await
        .expect("minicrew chat exits once its input ends")
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub(crate) fn minicrew(dir: &tempfile::TempDir, env_file: &str) -> Command {
    let path = dir.path().join("test.env");
    std::fs::write(&path, env_file).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_minicrew"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(dir.path())
        .arg("--env-file")
        .arg(&path);
    cmd
}

#[test]
fn missing_token_exits_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = minicrew(&dir, "OWNER_TELEGRAM_CHAT_ID=42\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("TELEGRAM_BOT_TOKEN"), "{stderr}");
}

#[test]
fn non_numeric_owner_exits_2_naming_the_key_without_echoing_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let out = minicrew(
        &dir,
        "TELEGRAM_BOT_TOKEN=123:SECRET-abc\nOWNER_TELEGRAM_CHAT_ID=me\n",
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("OWNER_TELEGRAM_CHAT_ID") && stderr.contains("'me'"),
        "{stderr}"
    );
    assert!(!stderr.contains("SECRET-abc"));
}

#[test]
fn terminal_channel_answers_help_from_piped_stdin_and_exits_0_at_eof() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = minicrew(&dir, "")
        .arg("chat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"/help\n/note add buy milk\n/note list\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("/help") && stdout.contains("/note"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Saved note #1.") && stdout.contains("#1 buy milk"),
        "{stdout}"
    );
    assert!(!stdout.contains("<b>"), "HTML is rendered as plain text");
}

#[tokio::test]
async fn daemon_answers_and_exits_0_on_sigterm_without_logging_the_token() {
    let fake = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let env = format!(
        "TELEGRAM_BOT_TOKEN={}\nTELEGRAM_API_URL={}\nOWNER_TELEGRAM_CHAT_ID={OWNER}\nDATA_DIR=data\nLOG_FORMAT=json\n",
        fake.token(),
        fake.url()
    );
    let child = tokio::process::Command::from(minicrew(&dir, &env))
        .env("RUST_LOG", "debug")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    fake.wait_for_call("getUpdates", WAIT).await;
    fake.push_text(OWNER, "/help");
    fake.wait_for_sent(1, WAIT).await;

    let out = stop_with_sigterm(child).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("\"reply sent\"") || stderr.contains("reply sent"),
        "{stderr}"
    );
    let secret_part = fake.token().split(':').nth(1).unwrap();
    assert!(
        !stderr.contains(secret_part),
        "the bot token leaked into the logs"
    );
    fake.assert_no_violations();
}

#[tokio::test]
async fn doctor_prints_one_line_per_check_and_fails_on_a_rejected_key() {
    use crate::support::fake_llm::{FakeLlm, Reply, Wire};
    let fake = FakeTelegram::start().await;
    let claude = FakeLlm::start(Wire::Claude).await;
    let dir = tempfile::tempdir().unwrap();
    let env = format!(
        "TELEGRAM_BOT_TOKEN={}\nTELEGRAM_API_URL={}\nOWNER_TELEGRAM_CHAT_ID={OWNER}\nANTHROPIC_API_KEY=sk-ant-doctor-SECRET\nANTHROPIC_BASE_URL={}\n",
        fake.token(),
        fake.url(),
        claude.base_url()
    );
    claude.script([Reply::text("ok"), Reply::status(401)]);
    let run = || async {
        let out = tokio::process::Command::from(minicrew(&dir, &env))
            .arg("doctor")
            .output()
            .await
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let (code, stdout) = run().await;
    assert_eq!(code, Some(0), "{stdout}");
    for check in [
        "ok   config:",
        "ok   database:",
        "ok   telegram: @",
        "ok   llm claude:",
        "ok   web search: not configured",
        "ok   gmail:",
    ] {
        assert!(stdout.contains(check), "missing {check:?} in:\n{stdout}");
    }
    let (code, stdout) = run().await;
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("FAIL llm claude:"), "{stdout}");
    assert!(
        !stdout.contains("sk-ant-doctor-SECRET"),
        "the key is never printed: {stdout}"
    );
}

#[tokio::test]
async fn a_rejected_llm_key_never_reaches_logs_or_replies() {
    use crate::support::fake_llm::{FakeLlm, Reply, Wire};
    let (claude, gemini) = (
        FakeLlm::start(Wire::Claude).await,
        FakeLlm::start(Wire::Gemini).await,
    );
    claude.always(Reply::status(401));
    gemini.always(Reply::status(403));
    let dir = tempfile::tempdir().unwrap();
    let env = format!(
        "ANTHROPIC_API_KEY=sk-ant-LOGCHECK-111\nANTHROPIC_BASE_URL={}\nGEMINI_API_KEY=AIza-LOGCHECK-222\nGEMINI_BASE_URL={}\nLOG_FORMAT=logfmt\n",
        claude.base_url(),
        gemini.base_url()
    );
    let mut command = minicrew(&dir, &env);
    command.arg("chat").env("RUST_LOG", "trace");
    let out = chat_with(command, "hello there\n").await;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        stdout.contains("saved"),
        "the user is told their message is saved: {stdout}"
    );
    assert!(
        stderr.contains("level=warn"),
        "logfmt lines with the failure: {stderr}"
    );
    for key in ["LOGCHECK-111", "LOGCHECK-222"] {
        assert!(
            !stdout.contains(key) && !stderr.contains(key),
            "{key} leaked"
        );
    }
}
