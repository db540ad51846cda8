//! The fake OpenAI-compatible provider of the crash test: chat completions and speech-to-text on
//! one server that outlives the daemon processes. Its answers depend only on the request, so a
//! replayed conversation gets the same answers: the message's token (`msg-00042`) decides
//! everything. A message marked `[note]` or `[remind]` gets a tool call in round 0 (so a side
//! effect happens), every other round gets the final text `answer to msg-00042`. Each answer
//! reports usage that encodes its (token, round), so an `llm_usage` row says which round it
//! billed; the fake also counts how often each round was asked.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures::StreamExt as _;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::mix::{find_token, token_text};

/// Output tokens every answer reports.
const OUTPUT_TOKENS: u64 = 7;

/// The `prompt_tokens` an answer to `(token, round)` reports: unique per round, so each
/// `llm_usage` row can be traced back to the round it billed.
pub fn usage_code(token: u32, round: u32) -> u64 {
    10 + u64::from(token) * 10 + u64::from(round)
}

/// The `(token, round)` a [`usage_code`] stands for.
pub fn decode_usage(code: i64) -> Option<(u32, u32)> {
    let rest = u64::try_from(code).ok()?.checked_sub(10)?;
    Some((u32::try_from(rest / 10).ok()?, (rest % 10) as u32))
}

#[derive(Default)]
struct Counts {
    /// How often each (token, round) was asked.
    rounds: BTreeMap<(u32, u32), u32>,
    /// How often each token's recording was transcribed.
    transcriptions: BTreeMap<u32, u32>,
    /// Requests the fake could not read (no token found): a wrong request shape.
    unreadable: u32,
}

/// The running fake; its server stops when it is dropped.
pub struct FakeProvider {
    counts: Arc<Mutex<Counts>>,
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(counts: &Mutex<Counts>) -> MutexGuard<'_, Counts> {
    counts.lock().unwrap_or_else(|p| p.into_inner())
}

impl FakeProvider {
    /// Binds 127.0.0.1 on a free port.
    pub async fn start() -> anyhow::Result<Self> {
        let counts = Arc::new(Mutex::new(Counts::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&counts));
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("crashtest: fake provider stopped: {e}");
            }
        });
        Ok(Self { counts, addr, task })
    }

    /// Base URL for `OPENAI_BASE_URL` and `TRANSCRIBE_BASE_URL`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// How often each (token, round) was asked.
    pub fn rounds(&self) -> BTreeMap<(u32, u32), u32> {
        lock(&self.counts).rounds.clone()
    }

    /// How often each token's recording was transcribed.
    pub fn transcriptions(&self) -> BTreeMap<u32, u32> {
        lock(&self.counts).transcriptions.clone()
    }

    /// Requests without a token the fake could answer.
    pub fn unreadable(&self) -> u32 {
        lock(&self.counts).unreadable
    }
}

async fn handle(
    AxumState(counts): AxumState<Arc<Mutex<Counts>>>,
    uri: Uri,
    body: Bytes,
) -> Response {
    match uri.path() {
        "/v1/chat/completions" => chat(&counts, &body).await,
        "/v1/audio/transcriptions" => transcribe(&counts, &body).await,
        _ => (StatusCode::NOT_FOUND, "unknown path").into_response(),
    }
}

/// A small delay that depends only on the request, so kills land inside provider calls too.
fn think(token: u32, salt: u32) -> Duration {
    Duration::from_millis(10 + u64::from((token * 7 + salt * 13) % 50))
}

async fn chat(counts: &Mutex<Counts>, body: &[u8]) -> Response {
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let messages = request["messages"].as_array().cloned().unwrap_or_default();
    let last_user = messages.iter().rposition(|m| m["role"] == "user");
    let asked = last_user.and_then(|at| {
        let text = messages[at]["content"].as_str()?;
        let token = find_token(text)?;
        let round = messages[at..]
            .iter()
            .filter(|m| m["role"] == "assistant")
            .count();
        Some((token, round as u32, text.to_owned()))
    });
    let Some((token, round, text)) = asked else {
        lock(counts).unreadable += 1;
        return (StatusCode::BAD_REQUEST, "no message token in the request").into_response();
    };
    *lock(counts).rounds.entry((token, round)).or_default() += 1;
    tokio::time::sleep(think(token, round)).await;
    let tag = token_text(token);
    let call = match round {
        0 if text.contains("[note]") => Some((
            "note",
            json!({"action": "add", "text": format!("llm note {tag}")}),
        )),
        0 if text.contains("[remind]") => Some((
            "remind",
            json!({"action": "add", "when": "1d", "text": format!("llm remind {tag}")}),
        )),
        _ => None,
    };
    let usage =
        json!({"prompt_tokens": usage_code(token, round), "completion_tokens": OUTPUT_TOKENS});
    let finish = if call.is_some() { "tool_calls" } else { "stop" };
    let message = match call {
        Some((name, args)) => json!({"role": "assistant", "content": null, "tool_calls": [{
            "id": format!("call_{token}_{round}"), "type": "function",
            "function": {"name": name, "arguments": args.to_string()}}]}),
        None => json!({"role": "assistant", "content": format!("answer to {tag}")}),
    };
    if request["stream"] == true {
        return streamed(message, finish, usage);
    }
    axum::Json(json!({
        "id": format!("chatcmpl-{token}-{round}"),
        "object": "chat.completion",
        "model": "crash-fake",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage,
    }))
    .into_response()
}

/// The same answer as server-sent events, as a real server streams it: the text or the tool
/// call in two pieces with a pause between (so kills land mid-stream too), the finish reason,
/// the usage, `[DONE]`.
fn streamed(message: Value, finish: &str, usage: Value) -> Response {
    let chunk = |delta: Value, finish: Value| {
        json!({"object": "chat.completion.chunk", "model": "crash-fake",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    let halves = |s: &str| {
        let mid = s
            .char_indices()
            .nth(s.chars().count() / 2)
            .map_or(0, |(i, _)| i);
        (s[..mid].to_string(), s[mid..].to_string())
    };
    let mut events = Vec::new();
    if let Some(call) = message["tool_calls"].get(0) {
        let (a, b) = halves(call["function"]["arguments"].as_str().unwrap_or_default());
        let mut first = call.clone();
        first["index"] = json!(0);
        first["function"]["arguments"] = json!(a);
        events.push(chunk(json!({"tool_calls": [first]}), Value::Null));
        events.push(chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": b}}]}),
            Value::Null,
        ));
    } else {
        let (a, b) = halves(message["content"].as_str().unwrap_or_default());
        events.push(chunk(
            json!({"role": "assistant", "content": a}),
            Value::Null,
        ));
        events.push(chunk(json!({"content": b}), Value::Null));
    }
    events.push(chunk(json!({}), json!(finish)));
    events.push(json!({"object": "chat.completion.chunk", "choices": [], "usage": usage}));
    let mut lines: Vec<String> = events.iter().map(|e| format!("data: {e}\n\n")).collect();
    lines.push("data: [DONE]\n\n".into());
    let body = futures::stream::iter(lines.into_iter().enumerate()).then(|(i, line)| async move {
        if i == 1 {
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
        Ok::<_, std::convert::Infallible>(Bytes::from(line))
    });
    let mut response = axum::body::Body::from_stream(body).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/event-stream"),
    );
    response
}

/// The "recording" is `OggS` followed by the words to hear; the multipart form is searched for
/// the token rather than parsed (no other field of the form holds one).
async fn transcribe(counts: &Mutex<Counts>, body: &[u8]) -> Response {
    let form = String::from_utf8_lossy(body);
    let Some(token) = find_token(&form) else {
        lock(counts).unreadable += 1;
        return (StatusCode::BAD_REQUEST, "no recording token in the form").into_response();
    };
    *lock(counts).transcriptions.entry(token).or_default() += 1;
    tokio::time::sleep(think(token, 99)).await;
    let marker = if form.contains("[note]") {
        " [note]"
    } else {
        ""
    };
    let text = format!("voice {}{marker}", token_text(token));
    axum::Json(json!({"text": text})).into_response()
}
