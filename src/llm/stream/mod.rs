//! Streamed answers: the providers' server-sent-event wire formats read piece by piece, text
//! handed to a [`StreamObserver`] as it arrives, tool calls and usage assembled into the same
//! [`LlmResponse`] a whole answer gives. A stream that ends before its end marker is an error
//! (retried like a timeout), never a shorter answer.
//!
//! Map: `sse` (bytes → events) → `read` (HTTP, limits, idle timeout) → `claude` / `gemini` /
//! `openai` (events → one response).

pub mod claude;
pub mod gemini;
pub mod openai;
pub mod read;
pub mod sse;

use std::time::Duration;

use serde_json::{Value, json};

use super::error::LlmError;
use super::types::{LlmResponse, ToolCall};

pub use read::post_sse;

/// Bounds of one streamed answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    /// Longest silence between two chunks (the whole call stays under `LLM_TIMEOUT_SECS`).
    pub idle: Duration,
    /// Largest line or event.
    pub max_event_bytes: usize,
    /// Largest whole stream.
    pub max_total_bytes: usize,
}

/// The limits every provider stream uses.
pub const LIMITS: StreamLimits = StreamLimits {
    idle: Duration::from_secs(30),
    max_event_bytes: 1024 * 1024,
    max_total_bytes: 16 * 1024 * 1024,
};

/// Most content blocks or tool calls one streamed answer may open.
pub const MAX_PARTS: usize = 128;

/// Watches a reply being produced. Called from the LLM call itself, so it must not block: an
/// implementation records and returns (the Telegram previews run on their own task).
pub trait StreamObserver: Send + Sync {
    /// A new call to a model starts (a new round, a retry or a fallback): text shown before
    /// belongs to an earlier call.
    fn call_started(&self) {}
    /// More text of the answer arrived.
    fn text(&self, delta: &str);
    /// The model asked for tools; they run now.
    fn tools_running(&self, _calls: &[ToolCall]) {}
}

/// A boxed observer (a channel's live preview) observes as what it holds.
impl<T: StreamObserver + ?Sized> StreamObserver for Box<T> {
    fn call_started(&self) {
        (**self).call_started();
    }

    fn text(&self, delta: &str) {
        (**self).text(delta);
    }

    fn tools_running(&self, calls: &[ToolCall]) {
        (**self).tools_running(calls);
    }
}

/// An observer that ignores everything.
pub struct Unobserved;

impl StreamObserver for Unobserved {
    fn text(&self, _delta: &str) {}
}

/// What one event meant for the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep reading.
    More,
    /// The end marker arrived: the answer is complete.
    Done,
}

/// Turns one provider's events into a response.
pub trait Assemble {
    /// Takes one event; text goes to `observer` as it arrives.
    fn event(&mut self, data: &str, observer: &dyn StreamObserver) -> Result<Flow, LlmError>;
    /// The response, once the stream ended (by its marker or by the server closing it);
    /// an error when it ended before the answer was complete.
    fn finish(self: Box<Self>) -> Result<LlmResponse, LlmError>;
}

/// The error for a stream that ended before its end marker.
pub fn cut_off() -> LlmError {
    LlmError::Network("the answer stream was cut off before its end".into())
}

/// Tool arguments from the text the stream assembled: `{}` when empty; text that is not JSON
/// is passed on as a string so the tool rejects it and the model sees why.
pub fn parse_arguments(raw: &str) -> Value {
    if raw.trim().is_empty() {
        return json!({});
    }
    serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()))
}

/// Reads an event's JSON; a malformed event is a decode error (not retried).
pub fn parse_event(data: &str) -> Result<Value, LlmError> {
    serde_json::from_str(data)
        .map_err(|e| LlmError::Decode(format!("a stream event is not JSON: {e}")))
}

/// An error object sent inside a stream (`{"error": {...}}`), classified by its code.
pub fn in_stream_error(error: &Value) -> LlmError {
    let message = super::error::scrub(error["message"].as_str().unwrap_or_default(), None);
    let kind = error["type"]
        .as_str()
        .or_else(|| error["status"].as_str())
        .unwrap_or_default();
    let code = error["code"].as_u64().unwrap_or(0);
    match (kind, code) {
        ("overloaded_error" | "UNAVAILABLE", _) | (_, 503 | 529) => LlmError::Overloaded,
        ("rate_limit_error" | "RESOURCE_EXHAUSTED", _) | (_, 429) => {
            LlmError::RateLimited { retry_after: None }
        }
        ("api_error" | "server_error" | "INTERNAL", _) => LlmError::Server(500),
        (_, c @ 500..=599) => LlmError::Server(u16::try_from(c).unwrap_or(500)),
        _ => LlmError::BadRequest {
            status: 0,
            message: format!("error inside the answer stream: {message}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_inside_a_stream_keep_their_retry_class() {
        let overloaded = json!({"type": "overloaded_error", "message": "Overloaded"});
        assert_eq!(in_stream_error(&overloaded), LlmError::Overloaded);
        let limited = json!({"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"});
        assert!(in_stream_error(&limited).is_retryable());
        let bad = json!({"type": "invalid_request_error", "message": "no"});
        assert!(!in_stream_error(&bad).is_retryable());
    }
}
