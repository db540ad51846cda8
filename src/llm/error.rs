//! What can go wrong with one LLM call, classified so the router knows whether to retry, wait,
//! or move on. No variant carries a URL, header or API key: messages from providers are
//! shortened and scrubbed of the key before they get here.

use std::time::Duration;

use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};

/// Longest provider message kept in an error (they can echo whole prompts).
const MAX_MESSAGE_CHARS: usize = 200;

/// One failed LLM call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// No answer within the configured timeout. Retryable.
    #[error("timed out")]
    Timeout,
    /// 429 rate limit; `retry_after` is what the server asked us to wait. Retryable.
    #[error("rate limited (retry after {retry_after:?})")]
    RateLimited {
        /// Wait requested by `retry-after` or Gemini's `RetryInfo`.
        retry_after: Option<Duration>,
    },
    /// The provider is overloaded (Anthropic 529, 503 "overloaded"). Retryable.
    #[error("provider overloaded")]
    Overloaded,
    /// 5xx from the server. Retryable.
    #[error("server error {0}")]
    Server(u16),
    /// 401/403: the key is wrong, revoked or lacks access. Not retried.
    #[error("authentication failed ({0})")]
    Auth(u16),
    /// The account's quota or credit is used up. Not retried.
    #[error("quota exhausted: {0}")]
    Quota(String),
    /// The request was rejected (400, 404, 422, ...): message without secrets. Not retried.
    #[error("request rejected ({status}): {message}")]
    BadRequest {
        /// HTTP status.
        status: u16,
        /// The provider's message, shortened.
        message: String,
    },
    /// The answer did not have the expected shape. Not retried.
    #[error("unexpected response: {0}")]
    Decode(String),
    /// Connecting or reading failed (refused, reset, DNS). Retryable.
    #[error("network error: {0}")]
    Network(String),
}

impl LlmError {
    /// Short stable name for `llm_usage.error` and metrics labels.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::RateLimited { .. } => "rate_limited",
            Self::Overloaded => "overloaded",
            Self::Server(_) => "server",
            Self::Auth(_) => "auth",
            Self::Quota(_) => "quota",
            Self::BadRequest { .. } => "bad_request",
            Self::Decode(_) => "decode",
            Self::Network(_) => "network",
        }
    }

    /// Whether trying the same provider again can help.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Timeout
                | Self::RateLimited { .. }
                | Self::Overloaded
                | Self::Server(_)
                | Self::Network(_)
        )
    }

    /// Classifies a transport error; the URL is stripped so nothing from it can leak.
    pub fn from_reqwest(err: reqwest::Error) -> Self {
        let err = err.without_url();
        if err.is_timeout() {
            Self::Timeout
        } else if err.is_decode() {
            Self::Decode(err.to_string())
        } else {
            Self::Network(err.to_string())
        }
    }

    /// Classifies a non-success HTTP status the provider-specific parser did not recognise.
    pub fn from_status(status: StatusCode, retry_after: Option<Duration>, message: String) -> Self {
        match status.as_u16() {
            401 | 403 => Self::Auth(status.as_u16()),
            408 => Self::Timeout,
            429 => Self::RateLimited { retry_after },
            529 => Self::Overloaded,
            s @ 500..=599 => Self::Server(s),
            s => Self::BadRequest { status: s, message },
        }
    }
}

/// Shortens a provider message and removes the API key from it (some providers echo a prefix
/// of a wrong key back; we never let any of it through).
pub fn scrub(message: &str, key: Option<&SecretString>) -> String {
    let mut text = message.to_string();
    if let Some(key) = key {
        let key = key.expose_secret();
        if !key.is_empty() {
            text = text.replace(key, "[redacted]");
        }
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_retryable_and_final_errors() {
        let of = |s: u16| LlmError::from_status(StatusCode::from_u16(s).unwrap(), None, "m".into());
        assert!(of(500).is_retryable());
        assert!(of(503).is_retryable());
        assert_eq!(of(529), LlmError::Overloaded);
        assert!(of(429).is_retryable());
        assert_eq!(of(401), LlmError::Auth(401));
        assert!(!of(403).is_retryable());
        assert!(!of(400).is_retryable());
    }

    #[test]
    fn scrub_removes_the_key_and_shortens() {
        let key = SecretString::from("sk-secret-123");
        let long = format!("bad key sk-secret-123 {}", "x".repeat(500));
        let out = scrub(&long, Some(&key));
        assert!(!out.contains("sk-secret-123"));
        assert!(out.chars().count() <= MAX_MESSAGE_CHARS + 1);
    }
}
