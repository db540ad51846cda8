//! Numbers from the outside that used to panic or stall a chat, sent through the front door:
//! a provider's `Retry-After: 1e20`, `inf` or `-1` while a user waits for an answer.

use crate::support::app::{OWNER, TestApp, WAIT};
use crate::support::fake_llm::{FakeLlm, Reply, Wire};
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
