//! Time to first visible text with streamed replies: the real app against the integration
//! tests' fake Bot API and fake LLM servers on 127.0.0.1, each provider's real stream format,
//! with a model that streams a ~90-word answer over about 6 s. For each provider it prints when
//! the first preview (sendMessageDraft) reached the fake Bot API and when the final message did,
//! counted from the moment the update was handed to the bot, and the same answer with
//! `STREAM_REPLIES=false` for comparison. It prints figures and asserts only that the final
//! text is the streamed text. The timing is dominated by the model's pace and the preview
//! throttle, so the dev profile gives the same figures:
//!
//! ```text
//! cargo bench --bench stream_preview --profile dev
//! ```

// Test code may unwrap: clippy.toml exempts only `#[test]`s and `#[cfg(test)]` modules, not
// the helpers and fakes of a test or bench crate.
#![allow(clippy::unwrap_used)]

#[path = "shared/streamed_answer.rs"]
mod streamed_answer;
#[path = "../tests/it/support/mod.rs"]
mod support;

use std::time::Duration;

use streamed_answer::{PAUSE, PIECES, answer, env, pieces};
use support::app::{OWNER, TestApp};
use support::fake_llm::{FakeLlm, Reply, Wire};
use support::fake_telegram::FakeTelegram;
use tokio::time::Instant;

/// Longest a run may take.
const WITHIN: Duration = Duration::from_secs(30);

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(bench());
}

/// One run: (first visible text, final message, previews shown).
async fn run(wire: Wire, stream: bool) -> (Duration, Duration, usize) {
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
    let started = Instant::now();
    app.fake.push_text(OWNER, "Tell me a long story.");
    let mut first = None;
    if stream {
        app.fake
            .wait_until("a first preview", WITHIN, |f| !f.drafts().is_empty())
            .await;
        first = Some(started.elapsed());
    }
    let sent = app.fake.wait_for_sent(1, WITHIN).await;
    let last = started.elapsed();
    assert_eq!(sent[0].text, text, "the final text is the streamed text");
    let previews = app.fake.drafts().len();
    app.stop().await;
    (first.unwrap_or(last), last, previews)
}

async fn bench() {
    println!(
        "answer: {} chars in {PIECES} pieces, one every {PAUSE:?} (~{:?} of streaming)",
        answer().len(),
        PAUSE * PIECES as u32
    );
    println!(
        "{:<8} {:>18} {:>15} {:>9} {:>22}",
        "provider", "first visible text", "final message", "previews", "STREAM_REPLIES=false"
    );
    for wire in [Wire::Claude, Wire::Gemini, Wire::OpenAi] {
        let (first, last, previews) = run(wire, true).await;
        let (_, whole, _) = run(wire, false).await;
        println!(
            "{:<8} {:>17.2}s {:>14.2}s {:>9} {:>21.2}s",
            format!("{wire:?}"),
            first.as_secs_f64(),
            last.as_secs_f64(),
            previews,
            whole.as_secs_f64()
        );
    }
}
