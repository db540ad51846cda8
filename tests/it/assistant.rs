//! Free text through Telegram to the LLM router and back: memory, native tool calls that run our
//! tools, fallback, /model, /cancel, usage records, and secrets kept out of replies.

use std::time::Duration;

use serde_json::json;

use crate::support::app::{OWNER, TestApp, WAIT};
use crate::support::fake_llm::{FAKE_INPUT_TOKENS, FAKE_OUTPUT_TOKENS, FakeLlm, Reply, Wire};
use crate::support::fake_telegram::FakeTelegram;

const CLAUDE_KEY: &str = "sk-ant-test-SECRET-1";
const GEMINI_KEY: &str = "gemini-test-SECRET-2";

struct Assistant {
    app: TestApp,
    claude: FakeLlm,
    gemini: FakeLlm,
}

async fn start() -> Assistant {
    let (claude, gemini) = (
        FakeLlm::start(Wire::Claude).await,
        FakeLlm::start(Wire::Gemini).await,
    );
    let (claude_url, gemini_url) = (claude.base_url().to_string(), gemini.base_url().to_string());
    let env = [
        ("ANTHROPIC_API_KEY", CLAUDE_KEY),
        ("ANTHROPIC_BASE_URL", claude_url.as_str()),
        ("GEMINI_API_KEY", GEMINI_KEY),
        ("GEMINI_BASE_URL", gemini_url.as_str()),
        ("LLM_TIMEOUT_SECS", "3"),
    ];
    let app = TestApp::start_with(
        FakeTelegram::start().await,
        tempfile::tempdir().unwrap(),
        &env,
    )
    .await;
    Assistant {
        app,
        claude,
        gemini,
    }
}

fn occurrences(haystack: &serde_json::Value, needle: &str) -> usize {
    haystack.to_string().matches(needle).count()
}

#[tokio::test]
async fn memory_spans_two_turns_and_the_current_message_is_sent_once() {
    let a = start().await;
    a.claude.script([
        Reply::text("Nice to meet you, **Olga**!"),
        Reply::text("You told me your cat is Miso."),
    ]);
    a.app.fake.push_text(OWNER, "My cat is called Miso.");
    let first = a.app.fake.wait_for_sent(1, WAIT).await;
    assert_eq!(
        first[0].visible_text, "Nice to meet you, Olga!",
        "Markdown arrives as Telegram formatting"
    );
    a.app.fake.push_text(OWNER, "What is my cat called?");
    let sent = a.app.fake.wait_for_sent(2, WAIT).await;
    assert_eq!(sent[1].text, "You told me your cat is Miso.");

    let second = &a.claude.requests()[1].body;
    assert_eq!(
        occurrences(second, "What is my cat called?"),
        1,
        "current message sent exactly once"
    );
    assert_eq!(
        occurrences(second, "My cat is called Miso."),
        1,
        "first turn is in the memory"
    );
    assert_eq!(
        occurrences(second, "Nice to meet you"),
        1,
        "the answer is in the memory"
    );

    a.app
        .wait_for_db("SELECT COUNT(*) FROM chat_history", "4")
        .await;
    let tokens = (FAKE_INPUT_TOKENS + FAKE_OUTPUT_TOKENS).to_string();
    a.app
        .wait_for_db(
            "SELECT COUNT(*) FROM llm_usage WHERE provider = 'claude' AND status = 'ok'",
            "2",
        )
        .await;
    let sum = "SELECT SUM(input_tokens + output_tokens) / COUNT(*) FROM llm_usage";
    a.app.wait_for_db(sum, &tokens).await;
    a.app.fake.assert_no_violations();
    a.app.stop().await;
}

#[tokio::test]
async fn a_tool_call_from_the_model_runs_our_tool_and_the_answer_uses_its_result() {
    let a = start().await;
    a.claude.script([
        Reply::tool(
            "note",
            json!({"action": "add", "text": "call mom on Sunday"}),
        ),
        Reply::text("Done, I saved it as note #1."),
    ]);
    a.app
        .fake
        .push_text(OWNER, "Please note that I should call mom on Sunday");
    let sent = a.app.fake.wait_for_sent(1, WAIT).await;
    assert_eq!(sent[0].text, "Done, I saved it as note #1.");
    let second = &a.claude.requests()[1].body;
    assert!(
        second.to_string().contains("tool_result") && second.to_string().contains("Saved note #1.")
    );
    a.app
        .wait_for_db("SELECT body FROM notes", "call mom on Sunday")
        .await;
    a.app
        .wait_for_db("SELECT source || ':' || status FROM tool_logs", "llm:ok")
        .await;
    a.app
        .wait_for_db(
            "SELECT tool_used FROM chat_history WHERE role = 'assistant'",
            "note",
        )
        .await;
    a.app.stop().await;
}

#[tokio::test]
async fn claude_outage_falls_back_to_gemini() {
    let a = start().await;
    a.claude.always(Reply::status(503));
    a.gemini.script([Reply::text("Gemini here.")]);
    a.app.fake.push_text(OWNER, "hello");
    let sent = a.app.fake.wait_for_sent(1, Duration::from_secs(20)).await;
    assert_eq!(sent[0].text, "Gemini here.");
    a.app
        .wait_for_db(
            "SELECT COUNT(*) FROM llm_usage WHERE provider = 'gemini' AND status = 'ok'",
            "1",
        )
        .await;
    let failed =
        "SELECT COUNT(*) > 0 FROM llm_usage WHERE provider = 'claude' AND status = 'error'";
    a.app.wait_for_db(failed, "1").await;
    a.app.stop().await;
}

#[tokio::test]
async fn model_gemini_makes_gemini_the_first_provider_tried() {
    let a = start().await;
    a.app.fake.push_text(OWNER, "/model");
    let menu = a.app.fake.wait_for_sent(1, WAIT).await;
    assert!(
        menu[0]
            .reply_markup
            .as_ref()
            .unwrap()
            .to_string()
            .contains("/model gemini")
    );
    a.app.fake.push_text(OWNER, "/model gemini");
    a.app.fake.wait_for_sent(2, WAIT).await;
    a.gemini.script([Reply::text("Gemini answers first.")]);
    a.app.fake.push_text(OWNER, "hi");
    let sent = a.app.fake.wait_for_sent(3, WAIT).await;
    assert_eq!(sent[2].text, "Gemini answers first.");
    assert!(a.claude.requests().is_empty());
    a.app
        .wait_for_db(
            "SELECT llm_provider FROM users WHERE chat_id = 777000",
            "gemini",
        )
        .await;
    a.app.stop().await;
}

#[tokio::test]
async fn all_providers_down_gives_one_clear_message_and_keeps_the_message() {
    let a = start().await;
    a.claude.always(Reply::status(401));
    a.gemini.always(Reply::status(403));
    a.app.fake.push_text(OWNER, "are you there?");
    let sent = a.app.fake.wait_for_sent(1, WAIT).await;
    let text = &sent[0].text;
    assert!(text.contains("saved"), "{text}");
    for secret in [CLAUDE_KEY, GEMINI_KEY, "{", "error"] {
        assert!(!text.contains(secret), "reply leaks {secret:?}: {text}");
    }
    a.app
        .wait_for_db(
            "SELECT content FROM chat_history WHERE role = 'user'",
            "are you there?",
        )
        .await;
    a.app.stop().await;
}

#[tokio::test]
async fn cancel_stops_a_slow_answer_at_once_with_one_message() {
    let a = start().await;
    a.claude.script([Reply::delayed(
        Duration::from_secs(30),
        Reply::text("too late"),
    )]);
    a.app.fake.push_text(OWNER, "write me a novel");
    a.claude.wait_for_requests(1).await;
    a.app.fake.push_text(OWNER, "/cancel");
    let sent = a.app.fake.wait_for_sent(1, Duration::from_secs(5)).await;
    assert!(sent[0].text.starts_with("Stopped"), "{}", sent[0].text);
    a.app.fake.push_text(OWNER, "/cancel"); // nothing running now
    let sent = a.app.fake.wait_for_sent(2, WAIT).await;
    assert!(
        sent[1].text.starts_with("Nothing to cancel"),
        "one reply per /cancel: {sent:?}"
    );
    a.app.stop().await;
}

#[tokio::test]
async fn typing_is_shown_while_a_slow_answer_is_prepared() {
    let a = start().await;
    a.claude.script([Reply::delayed(
        Duration::from_millis(1500),
        Reply::text("ok"),
    )]);
    a.app.fake.push_text(OWNER, "think hard");
    let action = a.app.fake.wait_for_call("sendChatAction", WAIT).await;
    assert_eq!(action.params["action"], "typing");
    a.app.fake.wait_for_sent(1, WAIT).await;
    a.app.stop().await;
}
