//! Time to first visible text with streamed replies in a group: the real app against the
//! integration tests' fake Bot API and fake LLM servers on 127.0.0.1, each provider's real
//! stream format, with a model that streams a ~90-word answer over about 6 s. For each provider
//! it prints when the answer's message first appeared in the group (created at the first text),
//! when it showed the whole answer (its final edit), how many edits it took, and the same answer
//! with `STREAM_REPLIES=false` for comparison. It asserts only that the group ends with the
//! streamed text in one message. The timing is dominated by the model's pace and the 3 s edit
//! throttle, so the dev profile gives the same figures:
//!
//! ```text
//! cargo bench --bench group_stream_preview --profile dev
//! ```

// Test code may unwrap: clippy.toml exempts only `#[test]`s and `#[cfg(test)]` modules, not
// the helpers and fakes of a test or bench crate.
#![allow(clippy::unwrap_used)]

#[path = "shared/streamed_answer.rs"]
mod streamed_answer;
#[path = "../tests/it/support/mod.rs"]
mod support;

use std::time::Duration;

use serde_json::json;
use streamed_answer::{PAUSE, PIECES, answer, env, pieces};
use support::app::{OWNER, TestApp};
use support::fake_llm::{FakeLlm, Reply, Wire};
use support::fake_telegram::{BOT_USERNAME, FakeTelegram, group_text_message};
use tokio::time::Instant;

/// Longest a run may take.
const WITHIN: Duration = Duration::from_secs(30);
/// The group.
const GROUP: i64 = -4_001;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(bench());
}

/// One run: (first visible text, whole answer shown, edits, messages of the answer).
async fn run(wire: Wire, stream: bool) -> (Duration, Duration, usize, usize) {
    let model = FakeLlm::start(wire).await;
    let text = answer();
    model.script([Reply::Streamed(pieces(&text))]);
    let env = env(wire, &model, stream);
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = TestApp::start_with(
        FakeTelegram::start().await,
        tempfile::tempdir().expect("a temp dir"),
        &pairs,
    )
    .await;
    app.fake.push_my_chat_member(GROUP, OWNER, true);
    app.fake
        .wait_until("the greeting", WITHIN, |f| f.sent_to(GROUP).len() == 1)
        .await;
    let id = app.fake.next_update_id();
    let message = group_text_message(id, GROUP, 555_111, &format!("@{BOT_USERNAME} a story?"));
    let started = Instant::now();
    app.fake
        .push_update(json!({"update_id": id, "message": message}));
    app.fake
        .wait_until("a first message", WITHIN, |f| f.sent_to(GROUP).len() > 1)
        .await;
    let first = started.elapsed();
    app.fake
        .wait_until("the whole answer", WITHIN, |f| {
            f.sent_to(GROUP).iter().any(|m| m.visible_text == text)
        })
        .await;
    let last = started.elapsed();
    let (fake, _dir) = app.stop().await;
    let messages = fake.sent_to(GROUP).len() - 1;
    assert_eq!(messages, 1, "one message holds the answer");
    (first, last, fake.text_edits().len(), messages)
}

async fn bench() {
    println!(
        "answer: {} chars in {PIECES} pieces, one every {PAUSE:?} (~{:?} of streaming), in a group",
        answer().len(),
        PAUSE * PIECES as u32
    );
    println!(
        "{:<8} {:>18} {:>13} {:>6} {:>22}",
        "provider", "first visible text", "whole answer", "edits", "STREAM_REPLIES=false"
    );
    for wire in [Wire::Claude, Wire::Gemini, Wire::OpenAi] {
        let (first, last, edits, _) = run(wire, true).await;
        let (_, whole, _, _) = run(wire, false).await;
        println!(
            "{:<8} {:>17.2}s {:>12.2}s {:>6} {:>21.2}s",
            format!("{wire:?}"),
            first.as_secs_f64(),
            last.as_secs_f64(),
            edits,
            whole.as_secs_f64()
        );
    }
}
