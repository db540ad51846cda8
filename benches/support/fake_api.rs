//! A minimal fake Telegram Bot API for the daemon benchmark: `POST /bot<token>/<Method>` with a
//! JSON body, answered in Telegram's `{"ok": true, "result": ..}` envelope. getUpdates long-polls
//! a queue of pushed text updates (honouring `offset` and `limit`), sendMessage answers with a
//! Message and is counted with its arrival time, every other method answers `true`. No checks
//! beyond the token: the integration tests' fake does those; this one only has to be cheap.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

// The integration tests' Telegram JSON builders: one shape of a realistic update for both.
#[allow(dead_code)]
#[path = "../../tests/it/support/fake_telegram/updates.rs"]
mod updates;
use updates::{bot_me, bot_user, chat, text_update, unix_now};

/// Token the fake accepts; Telegram bot ids are the token's prefix.
pub const BOT_TOKEN: &str = "123456:BENCH-TOKEN";
/// Longest the fake holds a long poll, whatever `timeout` the bot asks for.
const LONG_POLL_CAP: Duration = Duration::from_secs(10);

/// Counters and timestamps of what the daemon did.
#[derive(Default)]
struct State {
    queue: VecDeque<Value>,
    last_update_id: i64,
    last_message_id: i64,
    /// When the first update pushed since the last [`FakeApi::push_texts`] was handed out.
    first_served: Option<Instant>,
    /// When the latest sendMessage arrived.
    last_sent: Option<Instant>,
    calls: BTreeMap<String, u64>,
}

struct Shared {
    state: Mutex<State>,
    pushed: Notify,
    sent: watch::Sender<u64>,
    polls: watch::Sender<u64>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic in a handler cannot leave the counters half-updated in a way that matters here.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The running fake; its server task stops when this is dropped.
pub struct FakeApi {
    shared: Arc<Shared>,
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeApi {
    /// Binds 127.0.0.1 on a free port and serves until dropped.
    pub async fn start() -> anyhow::Result<Self> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            pushed: Notify::new(),
            sent: watch::channel(0).0,
            polls: watch::channel(0).0,
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("fake Bot API stopped: {e}");
            }
        });
        Ok(Self { shared, addr, task })
    }

    /// Base URL for `TELEGRAM_API_URL`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Queues one private text update per `(chat_id, text)` and wakes a waiting long poll.
    pub fn push_texts(&self, messages: impl IntoIterator<Item = (i64, String)>) {
        {
            let mut state = self.shared.state();
            state.first_served = None;
            for (chat_id, text) in messages {
                state.last_update_id += 1;
                let update = text_update(state.last_update_id, chat_id, &text);
                state.queue.push_back(update);
            }
        }
        self.shared.pushed.notify_waiters();
    }

    /// The JSON body Telegram would post to a webhook for a private text message: the same
    /// shape getUpdates hands out. Ids are the caller's (they do not touch the poll queue).
    #[allow(
        dead_code,
        reason = "used by the per_message bench's webhook runs only"
    )]
    pub fn text_update_body(update_id: i64, chat_id: i64, text: &str) -> String {
        text_update(update_id, chat_id, text).to_string()
    }

    /// sendMessage calls answered so far.
    pub fn sent(&self) -> u64 {
        *self.shared.sent.borrow()
    }

    /// From the first update of the latest push handed out to the latest sendMessage.
    pub fn batch_window(&self) -> Option<Duration> {
        let state = self.shared.state();
        Some(
            state
                .last_sent?
                .saturating_duration_since(state.first_served?),
        )
    }

    /// Calls per method (lower case) so far.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        self.shared.state().calls.clone()
    }

    /// Waits until at least `count` getUpdates calls arrived, or fails at `deadline`.
    pub async fn wait_polls(&self, count: u64, deadline: Instant) -> anyhow::Result<()> {
        wait_count(&self.shared.polls, count, deadline, "getUpdates calls").await
    }

    /// Waits until at least `count` sendMessage calls were answered, or fails at `deadline`.
    pub async fn wait_sent(&self, count: u64, deadline: Instant) -> anyhow::Result<()> {
        wait_count(&self.shared.sent, count, deadline, "sendMessage calls").await
    }
}

async fn wait_count(
    counter: &watch::Sender<u64>,
    count: u64,
    deadline: Instant,
    what: &str,
) -> anyhow::Result<()> {
    let mut rx = counter.subscribe();
    let reached = tokio::time::timeout_at(deadline, rx.wait_for(|n| *n >= count))
        .await
        .is_ok_and(|r| r.is_ok());
    anyhow::ensure!(
        reached,
        "timed out waiting for {count} {what} (got {})",
        *counter.borrow()
    );
    Ok(())
}

async fn handle(AxumState(shared): AxumState<Arc<Shared>>, uri: Uri, body: Bytes) -> Response {
    let Some((token, method)) = uri
        .path()
        .strip_prefix("/bot")
        .and_then(|p| p.rsplit_once('/'))
    else {
        return envelope(Err((404, "Not Found")));
    };
    if token != BOT_TOKEN {
        return envelope(Err((401, "Unauthorized")));
    }
    let params: Map<String, Value> = serde_json::from_slice(&body).unwrap_or_default();
    let method = method.to_ascii_lowercase();
    *shared.state().calls.entry(method.clone()).or_default() += 1;
    let result = match method.as_str() {
        "getme" => bot_me(),
        "getupdates" => get_updates(&shared, &params).await,
        "sendmessage" => send_message(&shared, &params),
        _ => json!(true),
    };
    envelope(Ok(result))
}

fn envelope(reply: Result<Value, (u16, &str)>) -> Response {
    match reply {
        Ok(result) => axum::Json(json!({"ok": true, "result": result})).into_response(),
        Err((code, description)) => {
            let status = axum::http::StatusCode::from_u16(code)
                .unwrap_or(axum::http::StatusCode::BAD_REQUEST);
            let body = json!({"ok": false, "error_code": code, "description": description});
            (status, axum::Json(body)).into_response()
        }
    }
}

/// getUpdates: confirms ids below `offset`, returns up to `limit` queued updates, or waits for
/// a push until the (capped) `timeout`.
async fn get_updates(shared: &Shared, params: &Map<String, Value>) -> Value {
    shared.polls.send_modify(|n| *n += 1);
    let offset = params.get("offset").and_then(Value::as_i64).unwrap_or(0);
    let limit = params.get("limit").and_then(Value::as_u64).unwrap_or(100);
    let timeout = params.get("timeout").and_then(Value::as_u64).unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(timeout).min(LONG_POLL_CAP);
    loop {
        let pushed = shared.pushed.notified();
        tokio::pin!(pushed);
        pushed.as_mut().enable();
        {
            let mut state = shared.state();
            state
                .queue
                .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
            if !state.queue.is_empty() {
                state.first_served.get_or_insert_with(Instant::now);
                let batch: Vec<Value> = state.queue.iter().take(limit as usize).cloned().collect();
                return Value::Array(batch);
            }
        }
        if tokio::time::timeout_at(deadline, pushed).await.is_err() {
            return json!([]);
        }
    }
}

fn send_message(shared: &Shared, params: &Map<String, Value>) -> Value {
    let chat_id = params.get("chat_id").and_then(Value::as_i64).unwrap_or(0);
    let text = params.get("text").cloned().unwrap_or_else(|| json!(""));
    let message_id = {
        let mut state = shared.state();
        state.last_message_id += 1;
        state.last_sent = Some(Instant::now());
        state.last_message_id
    };
    shared.sent.send_modify(|n| *n += 1);
    json!({
        "message_id": message_id,
        "from": bot_user(),
        "chat": chat(chat_id),
        "date": unix_now(),
        "text": text,
    })
}
