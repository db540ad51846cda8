//! Shutdown reaches the retry pauses below the dispatcher too: the pause before `getFile` is tried
//! again, the pause after a Gmail 5xx and the wait before an LLM provider is tried again end at
//! once, no reply is sent about the cut, and the message stays pending in the inbox, so the next
//! start answers it as if nothing happened.

use std::time::Duration;

use minicrew::store::Store;
use tokio::time::Instant;

use crate::email::{connect_sam, start_with, text_mail};
use crate::support::app::{OWNER, STRANGER, TestApp, WAIT};
use crate::support::fake_llm::{FakeLlm, Reply, Wire};
use crate::support::fake_telegram::{FakeTelegram, Fault};
use crate::support::logs::Logs;
use crate::support::voice_message::{AUDIO, FILE_ID, add_recording, heard_answer, voice_env};

/// How soon the app must stop after shutdown; the `getFile` test's pause alone is 5 s, the
/// LLM test's 20 s.
const PROMPTLY: Duration = Duration::from_secs(2);

/// The LLM test's answer.
const ANSWER: &str = "Sure, when is the appointment?";

/// Waits until a log line holds all of `words`.
async fn wait_for_log(logs: &Logs, words: &[&str]) {
    let deadline = Instant::now() + WAIT;
    while logs.with_words(words).is_empty() {
        assert!(Instant::now() < deadline, "no log line with {words:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The inbox status of `update_id`.
async fn inbox_status(store: &Store, update_id: i64) -> String {
    store
        .call(move |c| {
            c.query_row(
                "SELECT status FROM inbox WHERE update_id = ?1",
                [update_id],
                |r| r.get(0),
            )
        })
        .await
        .unwrap()
}

/// Stops `app` and checks it did so within [`PROMPTLY`].
async fn stop_promptly(app: TestApp) -> (FakeTelegram, tempfile::TempDir) {
    let started = Instant::now();
    let stopped = app.stop().await;
    assert!(
        started.elapsed() < PROMPTLY,
        "shutdown took {:?}: a retry pause kept it",
        started.elapsed()
    );
    stopped
}

#[tokio::test]
async fn shutdown_during_the_get_file_retry_pause_stops_at_once_and_the_voice_message_waits_for_the_next_start()
 {
    let (logs, _guard) = Logs::capture_this_thread();
    let vars = voice_env().await;
    let env: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let fake = FakeTelegram::start().await;
    add_recording(&fake);
    // The longest rate limit getFile still waits out before its one more try.
    fake.fail_next("getFile", Fault::TooManyRequests { retry_after: 5 });
    let app = TestApp::start_with(fake, tempfile::tempdir().unwrap(), &env).await;
    let store = app.store.clone();
    let voice = app.fake.push_voice(OWNER, FILE_ID, AUDIO.len() as u64);

    wait_for_log(&logs, &["getFile failed; retrying once"]).await;
    let (fake, dir) = stop_promptly(app).await;

    assert!(fake.sent_to(OWNER).is_empty(), "{}", fake.summary());
    assert_eq!(fake.calls_of("getFile").len(), 1, "not tried again");
    assert_eq!(inbox_status(&store, voice).await, "pending");

    let app = TestApp::start_with(fake, dir, &env).await;
    let sent = app.fake.wait_for_sent(1, WAIT).await;
    assert_eq!(sent[0].visible_text, heard_answer());
    app.wait_for_db("SELECT status FROM inbox", "done").await;
    app.stop().await;
}

#[tokio::test]
async fn shutdown_during_the_gmail_server_error_pause_sends_no_error_and_email_runs_at_the_next_start()
 {
    let (logs, _guard) = Logs::capture_this_thread();
    let m = start_with(&[]).await;
    connect_sam(&m).await;
    m.google
        .add_message("m1", text_mail("Your statement", "Pay by Friday."));
    m.claude
        .script([Reply::text("**Needs action:** pay the bank by Friday.")]);
    m.google.fail_next_gmail(500);
    m.google.fail_next_gmail(500);
    let store = m.app.store.clone();
    let email = m.app.fake.push_text(STRANGER, "/email today");

    wait_for_log(&logs, &["Gmail server error; trying once more"]).await;
    let (fake, dir) = stop_promptly(m.app).await;

    assert_eq!(fake.sent_to(STRANGER).len(), 2, "{}", fake.summary());
    assert_eq!(
        m.google.state().gmail_faults.len(),
        1,
        "Gmail is not tried again"
    );
    assert_eq!(inbox_status(&store, email).await, "pending");

    let vars = m.google.env(dir.path());
    let mut env: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let claude_url = m.claude.base_url().to_string();
    env.extend([
        ("ANTHROPIC_API_KEY", "sk-ant-test"),
        ("ANTHROPIC_BASE_URL", claude_url.as_str()),
    ]);
    let app = TestApp::start_with(fake, dir, &env).await;
    let sent = app.fake.wait_for_sent(3, WAIT).await;
    assert!(
        sent[2].visible_text.contains("1 email(s)")
            && sent[2].visible_text.contains("pay the bank by Friday"),
        "{}",
        sent[2].visible_text
    );
    app.wait_for_db("SELECT COUNT(*) FROM inbox WHERE status != 'done'", "0")
        .await;
    app.stop().await;
}

#[tokio::test]
async fn shutdown_during_an_llm_retry_pause_stops_at_once_and_the_message_is_answered_at_the_next_start()
 {
    let (logs, _guard) = Logs::capture_this_thread();
    let claude = FakeLlm::start(Wire::Claude).await;
    // A rate limit asking for 20 s is waited out (up to 30 s), not a reason to give up.
    claude.script([Reply::rate_limited(20), Reply::text(ANSWER)]);
    let claude_url = claude.base_url().to_string();
    let env = [
        ("ANTHROPIC_API_KEY", "sk-ant-test"),
        ("ANTHROPIC_BASE_URL", claude_url.as_str()),
    ];
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_with(FakeTelegram::start().await, dir, &env).await;
    let store = app.store.clone();
    let question = app.fake.push_text(OWNER, "When is the dentist?");

    wait_for_log(&logs, &["retrying LLM call", "rate limited"]).await;
    let (fake, dir) = stop_promptly(app).await;

    assert!(fake.sent_to(OWNER).is_empty(), "{}", fake.summary());
    assert_eq!(claude.requests().len(), 1, "not tried again");
    assert_eq!(inbox_status(&store, question).await, "pending");

    let app = TestApp::start_with(fake, dir, &env).await;
    let sent = app.fake.wait_for_sent(1, WAIT).await;
    assert_eq!(sent[0].visible_text, ANSWER);
    app.wait_for_db("SELECT status FROM inbox", "done").await;
    app.stop().await;
}
