//! LLM faults × {Claude, Gemini, OpenAI-compatible}, through a typed message from the owner.
//! Each cell configures one provider only, so no fallback hides the fault, with
//! `LLM_TIMEOUT_SECS=1`. Transient faults (timeout, 429 with retry-after, 5xx, 529, a body cut
//! off mid-way) are retried and the answer arrives once; final ones (a malformed body, 401) give
//! one clear sentence, and the next message is answered again.
//!
//! The router's retry policy is not configurable: the first retry waits 0.5–1 s of jittered
//! backoff, or the server's retry-after (1 s here).

use super::{cell, final_status, run_cells, settled_texts};
use crate::support::app::{OWNER, TestApp, WAIT};
use crate::support::fake_llm::{FakeLlm, Reply, Wire};
use crate::support::fake_telegram::FakeTelegram;
use crate::support::logs::Logs;

use std::time::Duration;

/// The owner's question in every cell.
const QUESTION: &str = "What is the capital of France?";
/// The model's answer once the fault has passed.
const ANSWER: &str = "Paris.";

/// Env keys configuring only `wire`'s provider, at `url`.
fn provider_env(wire: Wire, url: &str) -> Vec<(&'static str, String)> {
    let (key, base, secret) = match wire {
        Wire::Claude => ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "sk-ant-test"),
        Wire::Gemini => ("GEMINI_API_KEY", "GEMINI_BASE_URL", "gemini-test"),
        Wire::OpenAi => ("OPENAI_API_KEY", "OPENAI_BASE_URL", "sk-openai-test"),
    };
    let mut env = vec![
        (key, secret.to_string()),
        (base, url.to_string()),
        ("LLM_TIMEOUT_SECS", "1".to_string()),
    ];
    if wire == Wire::OpenAi {
        env.push(("OPENAI_MODEL_CHEAP", "llama-test".to_string()));
        env.push(("OPENAI_MODEL_MID", "llama-test".to_string()));
    }
    env
}

/// The name users see for `wire`'s provider.
fn display_name(wire: Wire) -> &'static str {
    match wire {
        Wire::Claude => "Claude",
        Wire::Gemini => "Gemini",
        Wire::OpenAi => "OpenAI-compatible",
    }
}

/// How a cell should end for the user.
#[derive(Clone, Copy)]
enum Outcome {
    /// Retried: the answer arrives once; the log line has these words.
    Answered(&'static [&'static str]),
    /// Given up: this sentence (after the provider's name), then the log line with these words.
    Told(&'static str, &'static [&'static str]),
}

/// The owner asks once while the provider answers `fault` first, then [`ANSWER`].
async fn llm_cell(wire: Wire, fault: Reply, outcome: Outcome, logs: Logs) {
    let model = FakeLlm::start(wire).await;
    model.script([fault]);
    model.always(Reply::text(ANSWER));
    let env = provider_env(wire, model.base_url().as_str());
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = TestApp::start_with(
        FakeTelegram::start().await,
        tempfile::tempdir().unwrap(),
        &env,
    )
    .await;

    let first = app.fake.push_text(OWNER, QUESTION);
    assert_eq!(final_status(&app, first, WAIT).await, "done");
    let texts = settled_texts(&app.fake, OWNER).await;
    match outcome {
        Outcome::Answered(log) => {
            assert_eq!(texts, [ANSWER]);
            logs.one_line_with(log);
        }
        Outcome::Told(sentence, log) => {
            assert_eq!(texts, [format!("{} {sentence}", display_name(wire))]);
            logs.one_line_with(log);
        }
    }
    // The user's turn is kept once whatever happened to the answer.
    app.wait_for_db("SELECT COUNT(*) FROM chat_history WHERE role = 'user'", "1")
        .await;

    let next = app.fake.push_text(OWNER, QUESTION);
    assert_eq!(final_status(&app, next, WAIT).await, "done");
    let after = settled_texts(&app.fake, OWNER).await;
    assert_eq!(
        after[texts.len()..],
        [ANSWER],
        "the next message is answered"
    );
    app.fake.assert_no_violations();
    app.stop().await;
}

/// The cells every provider has.
fn cells(wire: Wire) -> Vec<super::Cell> {
    let name = display_name(wire);
    let late = Reply::delayed(Duration::from_secs(3), Reply::text("too late"));
    let unavailable = "is unavailable right now; your message is saved, try again in a minute.";
    let refused = "is refusing our API key or quota; your message is saved, the owner needs to \
                   check the settings.";
    let table: Vec<(&str, Reply, Outcome)> = vec![
        (
            "timeout",
            late,
            Outcome::Answered(&["INFO", "retrying LLM call", "timed out"]),
        ),
        (
            "429 retry-after",
            Reply::rate_limited(1),
            Outcome::Answered(&["INFO", "retrying LLM call", "rate limited", "1s"]),
        ),
        (
            "5xx",
            Reply::status(503),
            Outcome::Answered(&["INFO", "retrying LLM call"]),
        ),
        (
            "truncated body",
            Reply::Truncated("a long answer that never arrives whole".into()),
            Outcome::Answered(&["INFO", "retrying LLM call", "network error"]),
        ),
        (
            "malformed body",
            Reply::Malformed,
            Outcome::Told(
                unavailable,
                &["WARN", "no LLM answer", "unexpected response"],
            ),
        ),
        (
            "401",
            Reply::status(401),
            Outcome::Told(
                refused,
                &["WARN", "no LLM answer", "authentication failed (401)"],
            ),
        ),
    ];
    table
        .into_iter()
        .map(|(fault_name, fault, outcome)| {
            cell(format!("{name} × {fault_name}"), move |logs| {
                llm_cell(wire, fault, outcome, logs)
            })
        })
        .collect()
}

#[tokio::test]
async fn a_truncated_answer_has_its_status_and_headers_then_breaks_mid_body() {
    let model = FakeLlm::start(Wire::Claude).await;
    model.script([Reply::Truncated("cut off".into())]);
    let url = format!(
        "{}/v1/messages",
        model.base_url().as_str().trim_end_matches('/')
    );
    let response = reqwest::Client::new()
        .post(url)
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("the status line and headers arrive");
    assert_eq!(response.status(), 200);
    let promised = response.content_length().expect("a content-length");
    let body = response.bytes().await;
    assert!(
        body.is_err(),
        "fewer than {promised} bytes, then a broken connection"
    );
}

#[test]
fn claude_faults_are_retried_or_told_once_and_the_next_message_is_answered() {
    let mut cells = cells(Wire::Claude);
    cells.push(cell("Claude × 529", |logs| {
        llm_cell(
            Wire::Claude,
            Reply::status(529),
            Outcome::Answered(&["INFO", "retrying LLM call", "overloaded"]),
            logs,
        )
    }));
    run_cells(cells);
}

#[test]
fn gemini_faults_are_retried_or_told_once_and_the_next_message_is_answered() {
    run_cells(cells(Wire::Gemini));
}

#[test]
fn openai_faults_are_retried_or_told_once_and_the_next_message_is_answered() {
    run_cells(cells(Wire::OpenAi));
}

#[test]
fn a_rejected_api_key_is_logged_with_the_key_to_check() {
    let cells = [Wire::Claude, Wire::Gemini, Wire::OpenAi]
        .into_iter()
        .map(|wire| {
            cell(format!("{} × 401, log", display_name(wire)), move |logs| {
                let refused = "is refusing our API key or quota; your message is saved, the \
                               owner needs to check the settings.";
                // The key to check, named in the log.
                let log: &'static [&'static str] = match wire {
                    Wire::Claude => &["WARN", "ANTHROPIC_API_KEY"],
                    Wire::Gemini => &["WARN", "GEMINI_API_KEY"],
                    Wire::OpenAi => &["WARN", "OPENAI_API_KEY"],
                };
                llm_cell(wire, Reply::status(401), Outcome::Told(refused, log), logs)
            })
        })
        .collect();
    run_cells(cells);
}
