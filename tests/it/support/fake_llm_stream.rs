//! The streamed half of the fake LLM servers: when a request asks for a stream (`"stream": true`,
//! or Gemini's `:streamGenerateContent?alt=sse`) the canned answer goes out as server-sent
//! events in the provider's real wire format, in pieces, with pauses and gates the test
//! controls, and optionally cut off before the end marker.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use futures::StreamExt as _;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use super::fake_llm::{FAKE_INPUT_TOKENS, FAKE_OUTPUT_TOKENS, Reply, Wire};

/// One step of a scripted stream.
#[derive(Debug, Clone)]
pub enum Piece {
    /// A piece of the answer's text.
    Text(String),
    /// Wait this long before the next piece.
    Pause(Duration),
    /// Wait until the test adds a permit to this semaphore.
    Gate(Arc<Semaphore>),
    /// Break the connection here: the end marker never comes.
    Cut,
}

impl Piece {
    /// A text piece.
    pub fn text(text: &str) -> Self {
        Self::Text(text.to_string())
    }
}

/// Whether a request asked for a streamed answer.
pub fn wants_stream(uri: &str, body: &Value) -> bool {
    uri.contains(":streamGenerateContent") || body["stream"] == json!(true)
}

/// `text` in about `n` pieces, split on character boundaries.
pub fn pieces_of(text: &str, n: usize) -> Vec<Piece> {
    let chars: Vec<char> = text.chars().collect();
    let size = chars.len().div_ceil(n.max(1)).max(1);
    chars
        .chunks(size)
        .map(|c| Piece::Text(c.iter().collect()))
        .collect()
}

/// The streamed rendering of `reply`; `None` for replies that are not 200 answers (errors,
/// raw statuses), which are sent exactly as for a whole answer.
pub fn render(wire: Wire, reply: &Reply, n: usize) -> Option<Response> {
    let (pieces, calls) = match reply {
        Reply::Text(text) => (pieces_of(text, 3), Vec::new()),
        Reply::Tools(calls) => (Vec::new(), calls.clone()),
        Reply::Streamed(pieces) => (pieces.clone(), Vec::new()),
        Reply::Truncated(text) => {
            let mut pieces = pieces_of(text, 2);
            pieces.truncate(1);
            pieces.push(Piece::Cut);
            (pieces, Vec::new())
        }
        _ => return None,
    };
    Some(sse_response(events(wire, pieces, &calls, n)))
}

/// What the server writes: an SSE event, a step to wait on, or the break.
enum Out {
    Event(String),
    Wait(Piece),
    Cut,
}

fn data(value: Value) -> Out {
    Out::Event(format!("data: {value}\n\n"))
}

fn named(name: &str, value: Value) -> Out {
    Out::Event(format!("event: {name}\ndata: {value}\n\n"))
}

fn events(wire: Wire, pieces: Vec<Piece>, calls: &[(String, Value)], n: usize) -> Vec<Out> {
    let mut out = start(wire);
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push(text_delta(wire, &t)),
            Piece::Cut => {
                out.push(Out::Cut);
                return out;
            }
            wait => out.push(Out::Wait(wait)),
        }
    }
    out.extend(ending(wire, calls, n));
    out
}

/// What precedes the text: Claude's message and block starts, OpenAI's role chunk.
fn start(wire: Wire) -> Vec<Out> {
    match wire {
        Wire::Claude => vec![
            named(
                "message_start",
                json!({"type": "message_start", "message": {"id": "msg_1", "type": "message",
                "role": "assistant", "model": "claude-fake", "content": [],
                "usage": {"input_tokens": FAKE_INPUT_TOKENS, "output_tokens": 1}}}),
            ),
            named(
                "content_block_start",
                json!({"type": "content_block_start", "index": 0,
                "content_block": {"type": "text", "text": ""}}),
            ),
            named("ping", json!({"type": "ping"})),
        ],
        Wire::Gemini => Vec::new(),
        Wire::OpenAi => vec![data(json!({"id": "c1", "object": "chat.completion.chunk",
            "model": "openai-fake", "choices": [{"index": 0,
            "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]}))],
    }
}

fn text_delta(wire: Wire, text: &str) -> Out {
    match wire {
        Wire::Claude => named(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0,
                "delta": {"type": "text_delta", "text": text}}),
        ),
        Wire::Gemini => data(json!({"candidates": [{"content": {"role": "model",
            "parts": [{"text": text}]}, "index": 0}],
            "usageMetadata": {"promptTokenCount": FAKE_INPUT_TOKENS, "totalTokenCount": FAKE_INPUT_TOKENS},
            "modelVersion": "gemini-fake"})),
        Wire::OpenAi => data(json!({"id": "c1", "object": "chat.completion.chunk",
            "model": "openai-fake", "choices": [{"index": 0, "delta": {"content": text},
            "finish_reason": null}]})),
    }
}

/// Tool calls (arguments in two pieces where the wire allows), the usage and the end marker.
fn ending(wire: Wire, calls: &[(String, Value)], n: usize) -> Vec<Out> {
    let halves = |args: &Value| {
        let s = args.to_string();
        let mid = s.len() / 2;
        (s[..mid].to_string(), s[mid..].to_string())
    };
    let mut out = Vec::new();
    match wire {
        Wire::Claude => {
            out.push(named(
                "content_block_stop",
                json!({"type": "content_block_stop", "index": 0}),
            ));
            for (i, (name, args)) in calls.iter().enumerate() {
                let index = i + 1;
                out.push(named(
                    "content_block_start",
                    json!({"type": "content_block_start",
                    "index": index, "content_block": {"type": "tool_use",
                    "id": format!("toolu_{n}_{i}"), "name": name, "input": {}}}),
                ));
                let (a, b) = halves(args);
                for part in [a, b] {
                    out.push(named("content_block_delta", json!({"type": "content_block_delta",
                        "index": index, "delta": {"type": "input_json_delta", "partial_json": part}})));
                }
                out.push(named(
                    "content_block_stop",
                    json!({"type": "content_block_stop", "index": index}),
                ));
            }
            let stop = if calls.is_empty() {
                "end_turn"
            } else {
                "tool_use"
            };
            out.push(named(
                "message_delta",
                json!({"type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": null},
                "usage": {"output_tokens": FAKE_OUTPUT_TOKENS}}),
            ));
            out.push(named("message_stop", json!({"type": "message_stop"})));
        }
        Wire::Gemini => {
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
            let parts = if parts.is_empty() {
                vec![json!({"text": ""})]
            } else {
                parts
            };
            out.push(data(
                json!({"candidates": [{"content": {"role": "model", "parts": parts},
                "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": FAKE_INPUT_TOKENS,
                "candidatesTokenCount": FAKE_OUTPUT_TOKENS,
                "totalTokenCount": FAKE_INPUT_TOKENS + FAKE_OUTPUT_TOKENS},
                "modelVersion": "gemini-fake"}),
            ));
        }
        Wire::OpenAi => {
            let chunk = |delta: Value, finish: Value| {
                data(
                    json!({"id": "c1", "object": "chat.completion.chunk", "model": "openai-fake",
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}),
                )
            };
            for (i, (name, args)) in calls.iter().enumerate() {
                out.push(chunk(
                    json!({"tool_calls": [{"index": i, "id": format!("call_{n}_{i}"),
                    "type": "function", "function": {"name": name, "arguments": ""}}]}),
                    Value::Null,
                ));
                let (a, b) = halves(args);
                for part in [a, b] {
                    out.push(chunk(
                        json!({"tool_calls": [{"index": i,
                        "function": {"arguments": part}}]}),
                        Value::Null,
                    ));
                }
            }
            let finish = if calls.is_empty() {
                "stop"
            } else {
                "tool_calls"
            };
            out.push(chunk(json!({}), json!(finish)));
            out.push(data(json!({"id": "c1", "object": "chat.completion.chunk",
                "model": "openai-fake", "choices": [],
                "usage": {"prompt_tokens": FAKE_INPUT_TOKENS,
                "completion_tokens": FAKE_OUTPUT_TOKENS,
                "total_tokens": FAKE_INPUT_TOKENS + FAKE_OUTPUT_TOKENS}})));
            out.push(Out::Event("data: [DONE]\n\n".into()));
        }
    }
    out
}

/// A `text/event-stream` response writing `steps` in order.
fn sse_response(steps: Vec<Out>) -> Response {
    let body = futures::stream::iter(steps).then(|step| async move {
        match step {
            Out::Event(text) => Ok(Bytes::from(text)),
            Out::Wait(Piece::Pause(d)) => {
                tokio::time::sleep(d).await;
                Ok(Bytes::new())
            }
            Out::Wait(Piece::Gate(gate)) => {
                gate.acquire().await.map(|p| p.forget()).ok();
                Ok(Bytes::new())
            }
            Out::Wait(_) => Ok(Bytes::new()),
            Out::Cut => {
                // Let what came before reach the client before the connection breaks.
                tokio::time::sleep(Duration::from_millis(50)).await;
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "fake llm: stream cut off",
                ))
            }
        }
    });
    let mut response = Body::from_stream(body).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/event-stream"),
    );
    response
}
