//! Voice messages: transcribed here, in the chat's worker, then answered exactly like typed free
//! text (the transcript is what history stores). The answer starts with what was heard, so a
//! mishearing is visible at once.

use super::free_text;
use crate::markup::{Markup, escape_markdown};
use crate::message::{Reply, VoiceClip};
use crate::services::Services;
use crate::store::{StepKey, StoreError};
use crate::users::User;

/// Longest part of the transcript repeated above the answer, in characters.
const ECHO_CHARS: usize = 200;

/// Transcribes `clip` and answers the transcript; a failure is one clear reply and no LLM call.
/// The transcript is journaled under `update_id`, so a replay does not transcribe again.
pub async fn answer(
    services: &Services,
    user: &User,
    update_id: Option<i64>,
    clip: &VoiceClip,
) -> Result<Vec<Reply>, StoreError> {
    let transcript = match transcribe_once(services, update_id, clip).await? {
        Ok(text) => text,
        Err(reply) => return Ok(vec![Reply::plain(user.chat_id, reply)]),
    };
    let mut replies = free_text::answer(services, user, update_id, &transcript).await?;
    match replies.iter_mut().find(|r| r.chat_id == user.chat_id) {
        Some(first) => first.text = with_echo(&transcript, first.format, &first.text),
        None => replies.insert(0, Reply::plain(user.chat_id, echo(&transcript))),
    }
    Ok(replies)
}

/// The transcript of `clip`, journaled under `update_id` so a replay does not transcribe again;
/// `Err` is the reply for the user when it could not be made.
pub async fn transcribe_once(
    services: &Services,
    update_id: Option<i64>,
    clip: &VoiceClip,
) -> Result<Result<String, String>, StoreError> {
    let key = update_id.map(|id| StepKey::new(id, "transcript"));
    if let Some(key) = &key
        && let Some(text) = services.store.journal_get(key).await?
    {
        return Ok(Ok(text));
    }
    match services.voice.to_text(clip).await {
        Ok(text) => {
            if let Some(key) = &key {
                services.store.journal_put(key, text.clone()).await?;
            }
            Ok(Ok(text))
        }
        Err(e) => {
            tracing::warn!(error = %e, "voice message not transcribed");
            Ok(Err(e.user_message()))
        }
    }
}

/// `🎤 “…”` with the transcript shortened to [`ECHO_CHARS`].
fn echo(transcript: &str) -> String {
    let mut short: String = transcript.chars().take(ECHO_CHARS).collect();
    if short.len() < transcript.len() {
        short.push('…');
    }
    format!("🎤 “{short}”")
}

/// The answer `text` (in `format`) with the echo above it.
fn with_echo(transcript: &str, format: Markup, text: &str) -> String {
    match format {
        Markup::Markdown => format!("_{}_\n\n{text}", escape_markdown(&echo(transcript))),
        Markup::Plain => format!("{}\n\n{text}", echo(transcript)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_transcript_is_shortened_in_the_echo() {
        let long = "word ".repeat(100);
        let shown = echo(&long);
        assert!(shown.ends_with("…”"));
        assert_eq!(shown.chars().count(), ECHO_CHARS + "🎤 “…”".chars().count());
    }

    #[test]
    fn markdown_answers_get_an_escaped_italic_echo() {
        let text = with_echo("a *b* <i> & c", Markup::Markdown, "**Hi**");
        assert_eq!(text, "_🎤 “a \\*b\\* <i> & c”_\n\n**Hi**");
    }
}
