//! What the streaming benches share: the answer a fake model streams (its pieces and pauses) and
//! the environment that points the app at that model with Telegram's real rate limits. Included
//! by `#[path]` from `stream_preview.rs` and `group_stream_preview.rs`.

use std::time::Duration;

use crate::support::fake_llm::{FakeLlm, Wire};
use crate::support::fake_llm_stream::Piece;

/// Pieces of the answer, and the pause before each.
pub const PIECES: usize = 30;
pub const PAUSE: Duration = Duration::from_millis(200);

/// The whole answer the model streams (~90 words).
pub fn answer() -> String {
    (1..=PIECES)
        .map(|i| format!("Sentence {i} of a long answer, three words. "))
        .collect::<String>()
        .trim_end()
        .to_string()
}

/// The answer cut into [`PIECES`] pieces, each after a [`PAUSE`].
pub fn pieces(text: &str) -> Vec<Piece> {
    let words: Vec<&str> = text.split_inclusive(' ').collect();
    words
        .chunks(words.len().div_ceil(PIECES))
        .flat_map(|chunk| [Piece::Pause(PAUSE), Piece::text(&chunk.concat())])
        .collect()
}

/// The app's environment for `model` speaking `wire`, streaming or not.
pub fn env(wire: Wire, model: &FakeLlm, stream: bool) -> Vec<(&'static str, String)> {
    let url = model.base_url().to_string();
    let mut env = match wire {
        Wire::Claude => vec![
            ("ANTHROPIC_API_KEY", "bench".to_string()),
            ("ANTHROPIC_BASE_URL", url),
        ],
        Wire::Gemini => vec![
            ("GEMINI_API_KEY", "bench".to_string()),
            ("GEMINI_BASE_URL", url),
        ],
        Wire::OpenAi => vec![
            ("OPENAI_API_KEY", "bench".to_string()),
            ("OPENAI_BASE_URL", url),
            ("OPENAI_MODEL_CHEAP", "bench".to_string()),
        ],
    };
    env.push(("LLM_TIMEOUT_SECS", "30".into()));
    env.push(("STREAM_REPLIES", stream.to_string()));
    // Telegram's real limits, so previews and edits are measured under them.
    env.push(("TELEGRAM_RATE_GLOBAL", "30".into()));
    env.push(("TELEGRAM_RATE_PER_CHAT", "1".into()));
    env
}
