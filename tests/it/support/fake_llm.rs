//! Fake LLM servers on 127.0.0.1 (port 0) speaking the three real wire formats: Anthropic
//! Messages, Gemini `generateContent` and OpenAI chat completions. Each is scripted with a queue
//! of canned replies and records every request (URI, headers, JSON body) for assertions.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::Notify;
use url::Url;

use super::fake_llm_stream::{Piece, wants_stream};

/// Prompt tokens every fake success reports.
pub const FAKE_INPUT_TOKENS: u64 = 11;
/// Output tokens every fake success reports.
pub const FAKE_OUTPUT_TOKENS: u64 = 7;

/// Which wire format a fake speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// Anthropic Messages API.
    Claude,
    /// Gemini generateContent.
    Gemini,
    /// OpenAI chat completions.
    OpenAi,
}

/// One canned answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A final text answer.
    Text(String),
    /// Tool calls (name, arguments) in one round.
    Tools(Vec<(String, Value)>),
    /// An error status with the wire's error body and an optional `retry-after` header value
    /// (any text, so tests can send what a hostile server would).
    Error {
        status: u16,
        retry_after: Option<String>,
    },
    /// A status with a literal body.
    Raw { status: u16, body: Value },
    /// Wait, then answer.
    Delayed(Duration, Box<Reply>),
    /// `200 OK` with a JSON content type and a body that is not JSON (cut off mid-object).
    Malformed,
    /// `200 OK` promising the text answer `.0` (its full `content-length`), then the connection
    /// closes after the first half of the body: a truncated answer. Streamed: the first half of
    /// the text, then the connection breaks before the end marker.
    Truncated(String),
    /// A text answer in these pieces, pauses and gates when streamed; when not, the whole text
    /// after every pause and gate.
    Streamed(Vec<Piece>),
}

impl Reply {
    /// A text answer.
    pub fn text(text: &str) -> Self {
        Self::Text(text.to_string())
    }
    /// One tool call.
    pub fn tool(name: &str, args: Value) -> Self {
        Self::Tools(vec![(name.to_string(), args)])
    }
    /// An error status with the wire's error body.
    pub fn status(status: u16) -> Self {
        Self::Error {
            status,
            retry_after: None,
        }
    }
    /// 429 with `retry-after: secs`.
    pub fn rate_limited(secs: u64) -> Self {
        Self::rate_limited_raw(&secs.to_string())
    }
    /// 429 with `retry-after: value`, verbatim (`1e20`, `inf`, `-1`, a date, ...).
    pub fn rate_limited_raw(value: &str) -> Self {
        Self::Error {
            status: 429,
            retry_after: Some(value.to_string()),
        }
    }
    /// `reply` after `wait`.
    pub fn delayed(wait: Duration, reply: Reply) -> Self {
        Self::Delayed(wait, Box::new(reply))
    }
}

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Path and query as received.
    pub uri: String,
    /// Request headers.
    pub headers: HeaderMap,
    /// JSON body.
    pub body: Value,
}

impl Recorded {
    /// A header as text ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

struct Shared {
    wire: Wire,
    script: Mutex<VecDeque<Reply>>,
    always: Mutex<Option<Reply>>,
    requests: Mutex<Vec<Recorded>>,
    arrived: Notify,
}

/// A running fake server.
#[derive(Clone)]
pub struct FakeLlm {
    shared: Arc<Shared>,
    addr: std::net::SocketAddr,
}

impl FakeLlm {
    /// Starts a fake of `wire` on a free local port.
    pub async fn start(wire: Wire) -> Self {
        let shared = Arc::new(Shared {
            wire,
            script: Mutex::new(VecDeque::new()),
            always: Mutex::new(None),
            requests: Mutex::new(Vec::new()),
            arrived: Notify::new(),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { shared, addr }
    }

    /// The base URL to configure (OpenAI-compatible servers live under `/v1`).
    pub fn base_url(&self) -> Url {
        let path = if self.shared.wire == Wire::OpenAi {
            "/v1"
        } else {
            ""
        };
        Url::parse(&format!("http://{}{path}", self.addr)).unwrap()
    }

    /// Queues replies, answered in order.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.shared.script.lock().unwrap().extend(replies);
    }

    /// The answer once the queue is empty (default: 500 "script exhausted").
    pub fn always(&self, reply: Reply) {
        *self.shared.always.lock().unwrap() = Some(reply);
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Names of the tools offered in each request so far (Anthropic's `tools` field).
    pub fn offered_tools(&self) -> Vec<Vec<String>> {
        self.requests()
            .iter()
            .map(|r| {
                r.body["tools"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t["name"].as_str().map(str::to_string))
                    .collect()
            })
            .collect()
    }

    /// The `tool_result` blocks sent back to the model in request `n` (Anthropic's wire).
    pub fn tool_result_blocks(&self, n: usize) -> Vec<Value> {
        self.requests()[n].body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|m| m["content"].as_array().cloned().unwrap_or_default())
            .filter(|block| block["type"] == "tool_result")
            .collect()
    }

    /// Waits until `n` requests arrived (bounded: panics after 5 s).
    pub async fn wait_for_requests(&self, n: usize) {
        let wait = async {
            loop {
                let notified = self.shared.arrived.notified();
                if self.shared.requests.lock().unwrap().len() >= n {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(5), wait)
            .await
            .expect("requests arrive within 5 s");
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let streaming = wants_stream(&uri.to_string(), &body);
    let n = {
        let mut requests = shared.requests.lock().unwrap();
        requests.push(Recorded {
            uri: uri.to_string(),
            headers,
            body,
        });
        requests.len()
    };
    shared.arrived.notify_waiters();
    let next = shared.script.lock().unwrap().pop_front();
    let reply = next
        .or_else(|| shared.always.lock().unwrap().clone())
        .unwrap_or(Reply::Raw {
            status: 500,
            body: json!({"error": "fake script exhausted"}),
        });
    render(shared.wire, reply, n, streaming).await
}

async fn render(wire: Wire, mut reply: Reply, n: usize, streaming: bool) -> Response {
    while let Reply::Delayed(wait, inner) = reply {
        tokio::time::sleep(wait).await;
        reply = *inner;
    }
    if streaming && let Some(response) = super::fake_llm_stream::render(wire, &reply, n) {
        return response;
    }
    match reply {
        Reply::Streamed(pieces) => {
            // Whole, it takes as long as the stream would: every pause and gate is waited.
            let mut text = String::new();
            for piece in pieces {
                match piece {
                    Piece::Text(t) => text.push_str(&t),
                    Piece::Pause(d) => tokio::time::sleep(d).await,
                    Piece::Gate(gate) => {
                        gate.acquire().await.map(|p| p.forget()).ok();
                    }
                    Piece::Cut => return truncated(&text_body(wire, &text).to_string()),
                }
            }
            axum::Json(text_body(wire, &text)).into_response()
        }
        Reply::Text(text) => axum::Json(text_body(wire, &text)).into_response(),
        Reply::Tools(calls) => axum::Json(tools_body(wire, &calls, n)).into_response(),
        Reply::Error {
            status,
            retry_after,
        } => {
            let code = StatusCode::from_u16(status).unwrap();
            let mut response = (code, axum::Json(error_body(wire, status))).into_response();
            if let Some(value) = retry_after {
                let value = value.parse().expect("a header value the test can send");
                response.headers_mut().insert("retry-after", value);
            }
            response
        }
        Reply::Raw { status, body } => {
            (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
        }
        Reply::Malformed => (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            r#"{"id": "msg_1", "content": [{"type": "text", "text": "cut"#,
        )
            .into_response(),
        Reply::Truncated(text) => truncated(&text_body(wire, &text).to_string()),
        Reply::Delayed(..) => unreachable!("unwrapped above"),
    }
}

/// `body`'s headers and first half, then a broken connection.
fn truncated(body: &str) -> Response {
    use futures::StreamExt as _;
    let half = Bytes::copy_from_slice(&body.as_bytes()[..body.len() / 2]);
    // The pause lets the headers and the first half reach the client before the connection
    // breaks (an error at once would abort before anything is written).
    let cut = futures::stream::iter([Ok(half)]).chain(futures::stream::once(async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "fake llm: connection closed mid-body",
        ))
    }));
    let mut response = axum::body::Body::from_stream(cut).into_response();
    let headers = response.headers_mut();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    headers.insert(axum::http::header::CONTENT_LENGTH, body.len().into());
    response
}

fn text_body(wire: Wire, text: &str) -> Value {
    match wire {
        Wire::Claude => json!({"id": "msg_1", "type": "message", "role": "assistant",
            "model": "claude-fake", "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": FAKE_INPUT_TOKENS, "output_tokens": FAKE_OUTPUT_TOKENS}}),
        Wire::Gemini => json!({"candidates": [{"content": {"role": "model",
            "parts": [{"text": text}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": FAKE_INPUT_TOKENS,
                "candidatesTokenCount": FAKE_OUTPUT_TOKENS}, "modelVersion": "gemini-fake"}),
        Wire::OpenAi => json!({"id": "chatcmpl-1", "object": "chat.completion",
            "model": "openai-fake", "choices": [{"index": 0,
            "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": FAKE_INPUT_TOKENS,
                "completion_tokens": FAKE_OUTPUT_TOKENS}}),
    }
}

fn tools_body(wire: Wire, calls: &[(String, Value)], n: usize) -> Value {
    let usage_claude =
        json!({"input_tokens": FAKE_INPUT_TOKENS, "output_tokens": FAKE_OUTPUT_TOKENS});
    match wire {
        Wire::Claude => {
            let content: Vec<Value> = calls.iter().enumerate().map(|(i, (name, args))| {
                json!({"type": "tool_use", "id": format!("toolu_{n}_{i}"), "name": name, "input": args})
            }).collect();
            json!({"type": "message", "role": "assistant", "content": content,
                   "stop_reason": "tool_use", "usage": usage_claude})
        }
        Wire::Gemini => {
            // Gemini puts the signature on the first function call of a parallel set only.
            let parts: Vec<Value> = calls
                .iter()
                .enumerate()
                .map(|(i, (name, args))| {
                    let mut part = json!({"functionCall": {"name": name, "args": args}});
                    if i == 0 {
                        part["thoughtSignature"] = json!(format!("sig-{n}"));
                    }
                    part
                })
                .collect();
            json!({"candidates": [{"content": {"role": "model", "parts": parts},
                "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": FAKE_INPUT_TOKENS,
                "candidatesTokenCount": FAKE_OUTPUT_TOKENS}})
        }
        Wire::OpenAi => {
            let tool_calls: Vec<Value> = calls
                .iter()
                .enumerate()
                .map(|(i, (name, args))| {
                    json!({"id": format!("call_{n}_{i}"), "type": "function",
                       "function": {"name": name, "arguments": args.to_string()}})
                })
                .collect();
            json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": null,
                "tool_calls": tool_calls}, "finish_reason": "tool_calls"}],
                "usage": {"prompt_tokens": FAKE_INPUT_TOKENS, "completion_tokens": FAKE_OUTPUT_TOKENS}})
        }
    }
}

fn error_body(wire: Wire, status: u16) -> Value {
    match wire {
        Wire::Claude => {
            let kind = match status {
                529 => "overloaded_error",
                429 => "rate_limit_error",
                401 => "authentication_error",
                400 => "invalid_request_error",
                _ => "api_error",
            };
            json!({"type": "error", "error": {"type": kind, "message": format!("fake {status}")}})
        }
        Wire::Gemini => {
            let kind = match status {
                429 => "RESOURCE_EXHAUSTED",
                401 => "UNAUTHENTICATED",
                503 => "UNAVAILABLE",
                _ => "INTERNAL",
            };
            json!({"error": {"code": status, "message": format!("fake {status}"), "status": kind}})
        }
        Wire::OpenAi => json!({"error": {"message": format!("fake {status}"),
            "type": "server_error", "code": null}}),
    }
}
