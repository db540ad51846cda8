//! Telegram: the only place teloxide types live. Polling, Update → [`crate::message::Incoming`],
//! the outbox sender (split, format, rate limit, retries) and the command menu.

pub mod album;
pub mod convert;
pub mod draft;
pub mod files;
pub mod format;
pub mod group_events;
mod group_message;
pub mod group_preview;
pub mod handle_update;
pub mod intake;
pub mod menu;
pub mod polling;
pub mod preview;
pub mod previews;
pub mod rate_limit;
pub mod send;
pub mod split;
mod stream_final;
pub mod webhook;

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use teloxide::{ApiError, Bot, RequestError};
use url::Url;

/// Long-poll duration asked of Telegram in `getUpdates`.
pub const POLL_TIMEOUT: Duration = Duration::from_secs(25);

/// Bound on any one Telegram call. teloxide 0.17 ignores its own timeout hint for `getUpdates`,
/// so the client's timeout must exceed the long poll.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(POLL_TIMEOUT.as_secs() + 15);

/// Longest wait honoured from a Telegram 429 `retry_after`. A larger number (from a broken or
/// hostile Bot API server) is cut to this, so no chat and no poll loop waits for hours; if the
/// limit is really longer, the next try gets another 429 and the retry bounds apply.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// The wait a Telegram 429 asked for, at most [`MAX_RETRY_AFTER`].
pub fn retry_wait(asked: teloxide::types::Seconds) -> Duration {
    asked.duration().min(MAX_RETRY_AFTER)
}

/// Errors from Telegram setup.
#[derive(Debug, thiserror::Error)]
pub enum TelegramError {
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client for Telegram: {0}")]
    Client(String),
}

/// Builds the bot: our reqwest client (rustls, timeouts) pointed at `api_url`.
pub fn build_bot(token: &SecretString, api_url: &Url) -> Result<Bot, TelegramError> {
    let client = teloxide::net::default_reqwest_settings()
        .timeout(CALL_TIMEOUT)
        .build()
        .map_err(|e| TelegramError::Client(e.without_url().to_string()))?;
    Ok(Bot::with_client(token.expose_secret(), client).set_api_url(api_url.clone()))
}

/// Describes a Telegram error without its request URL, which contains the bot token.
pub fn describe_error(err: &RequestError) -> String {
    match err {
        RequestError::Api(api) => format!("Telegram said: {api}"),
        RequestError::MigrateToChatId(_) => "the group became a supergroup".to_string(),
        RequestError::RetryAfter(s) => format!("rate limited for {}s", s.seconds()),
        RequestError::Network(e) if e.is_timeout() => "network timeout".to_string(),
        RequestError::Network(e) if e.is_connect() => {
            "cannot connect to the Telegram API".to_string()
        }
        RequestError::Network(e) => match e.status() {
            Some(status) => format!("HTTP {status} from the Telegram API"),
            None => "network error talking to the Telegram API".to_string(),
        },
        RequestError::InvalidJson { .. } => "unexpected response from the Telegram API".to_string(),
        RequestError::Io(_) => "I/O error talking to the Telegram API".to_string(),
    }
}

/// A short, bounded label for a failed call (metrics): the HTTP status Telegram answered, or
/// `timeout` / `network` / `invalid_json` / `io`.
pub fn error_code(err: &RequestError) -> &'static str {
    match err {
        RequestError::RetryAfter(_) => "429",
        RequestError::Api(ApiError::InvalidToken) => "401",
        RequestError::Api(
            ApiError::BotBlocked
            | ApiError::BotKicked
            | ApiError::BotKickedFromSupergroup
            | ApiError::BotKickedFromChannel
            | ApiError::UserDeactivated
            | ApiError::CantInitiateConversation
            | ApiError::CantTalkWithBots,
        ) => "403",
        RequestError::Api(ApiError::TerminatedByOtherGetUpdates | ApiError::CantGetUpdates) => {
            "409"
        }
        RequestError::Api(_) | RequestError::MigrateToChatId(_) => "400",
        RequestError::Network(e) if e.is_timeout() => "timeout",
        RequestError::Network(e) if e.status().is_some_and(|s| s.is_server_error()) => "5xx",
        RequestError::Network(_) => "network",
        RequestError::InvalidJson { .. } => "invalid_json",
        RequestError::Io(_) => "io",
    }
}

/// Whether a send failure is for good (retrying cannot help): blocked, chat gone, bad request.
pub fn is_permanent(err: &RequestError) -> bool {
    match err {
        RequestError::Api(ApiError::CantParseEntities(_)) => false,
        RequestError::Api(ApiError::Unknown(description)) if is_server_error(description) => false,
        RequestError::Api(_)
        | RequestError::MigrateToChatId(_)
        | RequestError::InvalidJson { .. } => true,
        RequestError::RetryAfter(_) | RequestError::Network(_) | RequestError::Io(_) => false,
    }
}

/// Whether Telegram's description is that of an HTTP 5xx (teloxide keeps only the text): the
/// request failed on Telegram's side and may be sent again.
fn is_server_error(description: &str) -> bool {
    [
        "Internal Server Error",
        "Bad Gateway",
        "Service Unavailable",
        "Gateway Timeout",
    ]
    .iter()
    .any(|known| description.starts_with(known))
}

#[cfg(test)]
mod tests {
    use super::*;
    use teloxide::types::Seconds;

    #[test]
    fn a_telegram_retry_after_is_honoured_up_to_the_cap() {
        assert_eq!(retry_wait(Seconds::from_seconds(3)), Duration::from_secs(3));
        assert_eq!(retry_wait(Seconds::from_seconds(u32::MAX)), MAX_RETRY_AFTER);
    }
}
