//! Numbers and sizes from the outside that used to panic or stall a chat: a provider's
//! `Retry-After: 1e20`, `inf` or `-1` while a user waits for an answer, an endless transcript,
//! and a history retention longer than the calendar.

use chrono::Utc;
use minicrew::store::Store;

use crate::support::app::{OWNER, TestApp, WAIT};
use crate::support::fake_llm::{FakeLlm, Reply, Wire};
use crate::support::fake_stt::{FakeStt, SttReply};
use crate::support::fake_telegram::FakeTelegram;

#[tokio::test]
async fn hostile_retry_after_values_neither_panic_nor_stall_the_chat() {
    let (claude, gemini) = (
        FakeLlm::start(Wire::Claude).await,
        FakeLlm::start(Wire::Gemini).await,
    );
    let (claude_url, gemini_url) = (claude.base_url().to_string(), gemini.base_url().to_string());
    let env = [
        ("ANTHROPIC_API_KEY", "sk-ant-test"),
        ("ANTHROPIC_BASE_URL", claude_url.as_str()),
        ("GEMINI_API_KEY", "gemini-test"),
        ("GEMINI_BASE_URL", gemini_url.as_str()),
        ("LLM_TIMEOUT_SECS", "3"),
    ];
    let (fake, dir) = (FakeTelegram::start().await, tempfile::tempdir().unwrap());
    let app = TestApp::start_with(fake, dir, &env).await;

    // A wait past any cap: Claude is skipped at once and Gemini answers.
    for (n, hostile) in ["1e20", "inf"].into_iter().enumerate() {
        claude.script([Reply::rate_limited_raw(hostile)]);
        gemini.script([Reply::text(&format!("Gemini answers {n}"))]);
        app.fake.push_text(OWNER, &format!("question {n}"));
        let sent = app.fake.wait_for_sent(n + 1, WAIT).await;
        assert_eq!(sent[n].text, format!("Gemini answers {n}"), "{hostile}");
    }
    // No usable hint: Claude is retried after the bot's own short backoff.
    claude.script([Reply::rate_limited_raw("-1"), Reply::text("Claude answers")]);
    app.fake.push_text(OWNER, "question 2");
    let sent = app.fake.wait_for_sent(3, WAIT).await;
    assert_eq!(sent[2].text, "Claude answers");
    assert_eq!(claude.requests().len(), 4);
    assert_eq!(gemini.requests().len(), 2);
    app.wait_for_db("SELECT COUNT(*) FROM inbox WHERE status != 'done'", "0")
        .await;
    app.fake.assert_no_violations();
    app.stop().await;
}

#[tokio::test]
async fn an_endless_transcript_is_refused_instead_of_read_into_memory() {
    let (claude, stt) = (FakeLlm::start(Wire::Claude).await, FakeStt::start().await);
    let (claude_url, stt_url) = (claude.base_url().to_string(), stt.base_url().to_string());
    let env = [
        ("ANTHROPIC_API_KEY", "sk-ant-test"),
        ("ANTHROPIC_BASE_URL", claude_url.as_str()),
        ("TRANSCRIBE_BASE_URL", stt_url.as_str()),
        ("TRANSCRIBE_API_KEY", "stt-test"),
    ];
    let audio = b"OggS-voice";
    let fake = FakeTelegram::start().await;
    fake.add_file("voice-1", "voice/file_1.oga", audio);
    let app = TestApp::start_with(fake, tempfile::tempdir().unwrap(), &env).await;
    // Two megabytes of "words": over the one-megabyte cap on a transcription answer.
    stt.script([SttReply::Text("blah ".repeat(400_000))]);

    app.fake.push_voice(OWNER, "voice-1", audio.len() as u64);

    let sent = app.fake.wait_for_sent(1, WAIT).await;
    assert!(
        sent[0].text.contains("speech-to-text") && sent[0].text.len() < 500,
        "{:.200}",
        sent[0].text
    );
    assert!(claude.requests().is_empty(), "nothing reached the model");
    app.stop().await;
}

#[tokio::test]
async fn a_retention_longer_than_the_calendar_keeps_history_instead_of_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store
        .call(|c| {
            c.execute(
                "INSERT INTO users (id, chat_id, display_name, status, created_at, updated_at)
                 VALUES (1, 42, 'Ada', 'owner', 0, 0)",
                [],
            )?;
            c.execute(
                "INSERT INTO chat_history (user_id, role, content, created_at)
                 VALUES (1, 'user', 'from 1970', 0)",
                [],
            )
        })
        .await
        .unwrap();
    let report = store.cleanup(Utc::now(), u32::MAX).await.unwrap();
    assert_eq!(
        report.history, 0,
        "a turn from 1970 is inside the retention"
    );
}
