//! `sendMessageDraft` (Bot API 9.3): an ephemeral preview of a message being written, in a
//! private chat. teloxide 0.17 does not have the method, so it is posted with the bot's own HTTP
//! client to the same method URL teloxide builds. That URL holds the token: it is never logged,
//! and no error carries it (reqwest errors are stripped of their URL).

use std::time::Duration;

use serde_json::{Value, json};
use teloxide::Bot;
use url::Url;

use super::rate_limit::RateLimiter;
use crate::ids::ChatId;

/// Longest one preview request may take; a slow preview is dropped, never waited for.
const DRAFT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a preview was not shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DraftError {
    /// The chat's send budget has no room for a preview now (the final message keeps its slot).
    #[error("no send slot free for a preview")]
    NoSlot,
    /// Telegram answered 429: wait this long.
    #[error("rate limited for {0:?}")]
    RateLimited(Duration),
    /// Telegram refused it (the description, without the token).
    #[error("Telegram said: {0}")]
    Refused(String),
    /// The request failed or timed out (without the URL).
    #[error("network error: {0}")]
    Network(String),
}

impl DraftError {
    /// A short code for the `telegram_errors` metric.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoSlot => "no_slot",
            Self::RateLimited(_) => "429",
            Self::Refused(_) => "refused",
            Self::Network(_) => "network",
        }
    }
}

/// Sends draft previews for one bot. Cheap to clone.
#[derive(Clone)]
pub struct DraftClient {
    http: reqwest::Client,
    /// `{api}/bot<token>/sendMessageDraft`: a secret, never logged.
    url: Url,
    limiter: RateLimiter,
}

impl std::fmt::Debug for DraftClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DraftClient").finish_non_exhaustive()
    }
}

impl DraftClient {
    /// Previews through `bot`'s client and API URL, counted against `limiter` (the outbox's).
    pub fn new(bot: &Bot, limiter: RateLimiter) -> Self {
        let mut url = bot.api_url();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.push(&format!("bot{}", bot.token()));
            segments.push("sendMessageDraft");
        }
        Self {
            http: bot.client().clone(),
            url,
            limiter,
        }
    }

    /// Shows `text` as draft `draft_id` in `chat_id`, if the chat's rate budget has room for it
    /// while still leaving a slot for the final message.
    pub async fn send(&self, chat_id: ChatId, draft_id: i64, text: &str) -> Result<(), DraftError> {
        if !self.limiter.try_acquire_leaving_one(chat_id) {
            return Err(DraftError::NoSlot);
        }
        let body = json!({"chat_id": chat_id, "draft_id": draft_id, "text": text});
        let response = self
            .http
            .post(self.url.clone())
            .timeout(DRAFT_TIMEOUT)
            .json(&body)
            .send()
            .await
            .map_err(network)?;
        let answer: Value = response.json().await.map_err(network)?;
        if answer["ok"].as_bool() == Some(true) {
            return Ok(());
        }
        if answer["error_code"].as_u64() == Some(429) {
            let secs = answer["parameters"]["retry_after"].as_u64().unwrap_or(1);
            return Err(DraftError::RateLimited(Duration::from_secs(secs.min(3600))));
        }
        let description = answer["description"].as_str().unwrap_or("no description");
        Err(DraftError::Refused(crate::tools::shorten(description, 200)))
    }
}

fn network(e: reqwest::Error) -> DraftError {
    DraftError::Network(e.without_url().to_string())
}
