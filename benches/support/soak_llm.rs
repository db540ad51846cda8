//! A fake OpenAI-compatible chat-completions server for the soak bench, on 127.0.0.1: it answers
//! from the request alone, so any number of chats can talk to it at once without a script.
//!
//! - The last message is a tool result (role `tool`): a short text answer that quotes it.
//! - The last user message contains [`REMEMBER`] and the request offers the `note` tool: one
//!   `note` call with `{"action": "add", "text": <what follows the marker>}`.
//! - Anything else: a text answer of a few sentences.
//!
//! Every answer carries `usage`, as a real server's does. A request with a wrong key, path or
//! body is refused with the status a real server would send, and counted as refused.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

/// The key the fake accepts (`OPENAI_API_KEY`).
pub const API_KEY: &str = "soak-key";
/// The model name the daemon is configured with (`OPENAI_MODEL_CHEAP` and `_MID`).
pub const MODEL: &str = "soak-cheap";
/// A user message containing this gets a `note` tool call for the text after it.
pub const REMEMBER: &str = "remember:";

/// What the fake answered so far.
#[derive(Debug, Default, Clone, Copy)]
pub struct LlmCounts {
    /// Requests answered 200.
    pub answered: u64,
    /// Of those, answers that were a `note` tool call.
    pub tool_calls: u64,
    /// Requests refused (wrong path, key or body).
    pub refused: u64,
}

#[derive(Default)]
struct Counters {
    answered: AtomicU64,
    tool_calls: AtomicU64,
    refused: AtomicU64,
}

/// The running fake; its server task stops when this is dropped.
pub struct FakeLlm {
    counters: Arc<Counters>,
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeLlm {
    /// Binds 127.0.0.1 on a free port and serves until dropped.
    pub async fn start() -> anyhow::Result<Self> {
        let counters = Arc::new(Counters::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&counters));
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("fake LLM stopped: {e}");
            }
        });
        Ok(Self {
            counters,
            addr,
            task,
        })
    }

    /// Base URL for `OPENAI_BASE_URL`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The counts so far.
    pub fn counts(&self) -> LlmCounts {
        LlmCounts {
            answered: self.counters.answered.load(Ordering::Relaxed),
            tool_calls: self.counters.tool_calls.load(Ordering::Relaxed),
            refused: self.counters.refused.load(Ordering::Relaxed),
        }
    }
}

async fn handle(
    State(counters): State<Arc<Counters>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let refuse = |status: StatusCode, message: &str| {
        counters.refused.fetch_add(1, Ordering::Relaxed);
        let body = json!({"error": {"message": message, "type": "invalid_request_error"}});
        (status, axum::Json(body)).into_response()
    };
    if uri.path() != "/v1/chat/completions" {
        return refuse(StatusCode::NOT_FOUND, "unknown path");
    }
    let bearer = format!("Bearer {API_KEY}");
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(bearer.as_str()) {
        return refuse(StatusCode::UNAUTHORIZED, "invalid api key");
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "body is not JSON");
    };
    let Some(last) = request["messages"].as_array().and_then(|m| m.last()) else {
        return refuse(StatusCode::BAD_REQUEST, "no messages");
    };
    let n = counters.answered.fetch_add(1, Ordering::Relaxed) + 1;
    let content = text_of(&last["content"]);
    let answer = if last["role"] == "tool" {
        text_answer(&format!("Done: {}", shorten(&content, 80)))
    } else if let Some(pos) = content.find(REMEMBER).filter(|_| offers_note(&request)) {
        counters.tool_calls.fetch_add(1, Ordering::Relaxed);
        let text = content[pos + REMEMBER.len()..].trim();
        note_call(n, text)
    } else {
        text_answer(&format!(
            "Here is a short answer to “{}”. It has a few sentences, as a real model's \
             would, so the reply is stored, indexed and sent like any other. Ask again \
             any time.",
            shorten(&content, 120)
        ))
    };
    axum::Json(answer).into_response()
}

/// The text of a message's `content` (a string, or the text parts of an array).
fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

fn offers_note(request: &Value) -> bool {
    request["tools"]
        .as_array()
        .is_some_and(|tools| tools.iter().any(|t| t["function"]["name"] == "note"))
}

fn shorten(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}

fn usage() -> Value {
    json!({"prompt_tokens": 40, "completion_tokens": 20, "total_tokens": 60})
}

fn text_answer(text: &str) -> Value {
    json!({"id": "chatcmpl-soak", "object": "chat.completion", "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
        "finish_reason": "stop"}], "usage": usage()})
}

fn note_call(n: u64, text: &str) -> Value {
    let arguments = json!({"action": "add", "text": text}).to_string();
    json!({"id": "chatcmpl-soak", "object": "chat.completion", "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": null,
        "tool_calls": [{"id": format!("call_{n}"), "type": "function",
            "function": {"name": "note", "arguments": arguments}}]},
        "finish_reason": "tool_calls"}], "usage": usage()})
}
