//! The fake Telegram Bot API of the crash test. It lives in the harness, so what Telegram
//! remembers survives every `kill -9` of the daemon: the updates not yet confirmed, the webhook,
//! and every message sent (chat, text, time, which daemon process sent it). Updates reach the
//! daemon the two ways Telegram delivers them: `getUpdates` (a later `offset` confirms them) or,
//! while a webhook is set, POSTed to it one at a time with the secret until it answers 200.

mod methods;
mod webhook;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::updates::bot_me;

/// Token the fake accepts.
pub const BOT_TOKEN: &str = "123456:CRASH-TEST-TOKEN";

/// One sendMessage the fake accepted.
#[derive(Debug, Clone)]
pub struct Sent {
    /// Destination chat.
    pub chat_id: i64,
    /// The `text` parameter as sent (HTML when the daemon sent HTML).
    pub text: String,
    /// Which daemon process sent it (see [`FakeTelegram::begin_generation`]).
    pub generation: u32,
    /// When the fake accepted it.
    pub at: Instant,
}

/// What one daemon process did at the fake.
#[derive(Debug, Clone, Copy, Default)]
pub struct GenerationStats {
    /// Bot API calls of any kind.
    pub calls: u64,
    /// sendMessage calls accepted.
    pub sends: u64,
}

/// How updates were confirmed (acknowledged) by the daemon.
#[derive(Debug, Clone, Copy, Default)]
pub struct Acks {
    /// By a getUpdates offset past them.
    pub polling: u64,
    /// By a 200 answer to the webhook POST.
    pub webhook: u64,
}

#[derive(Default)]
struct State {
    /// Updates not yet confirmed, oldest first.
    pending: VecDeque<Value>,
    last_update_id: i64,
    last_message_id: i64,
    /// `(url, secret)` from setWebhook; cleared by deleteWebhook.
    webhook: Option<(String, String)>,
    /// file_id → (file_path, bytes).
    files: HashMap<String, (String, Vec<u8>)>,
    sent: Vec<Sent>,
    generation: u32,
    generations: BTreeMap<u32, GenerationStats>,
    acks: Acks,
}

struct Shared {
    state: Mutex<State>,
    /// Woken on anything a long poll or the webhook pusher waits for.
    changed: Notify,
    /// Bumped on every send and confirmation, for [`FakeTelegram::changed`] waiters.
    version: watch::Sender<u64>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panicking handler leaves nothing half-done that matters to the checks.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn bump(&self) {
        self.version.send_modify(|v| *v += 1);
        self.changed.notify_waiters();
    }
}

/// The running fake; its tasks stop when it is dropped.
pub struct FakeTelegram {
    shared: Arc<Shared>,
    addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for FakeTelegram {
    fn drop(&mut self) {
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

impl FakeTelegram {
    /// Binds 127.0.0.1 on a free port and starts the webhook pusher.
    pub async fn start() -> anyhow::Result<Self> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Notify::new(),
            version: watch::channel(0).0,
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("crashtest: fake Bot API stopped: {e}");
            }
        });
        let pusher = tokio::spawn(webhook::push(Arc::clone(&shared)));
        Ok(Self {
            shared,
            addr,
            tasks: vec![server, pusher],
        })
    }

    /// Base URL for `TELEGRAM_API_URL`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Calls from now on are counted for daemon process `generation`.
    pub fn begin_generation(&self, generation: u32) {
        let mut state = self.shared.state();
        state.generation = generation;
        state.generations.entry(generation).or_default();
    }

    /// Queues the update `make(update_id)` builds for delivery; returns its id.
    pub fn push(&self, make: impl FnOnce(i64) -> Value) -> i64 {
        let id = {
            let mut state = self.shared.state();
            state.last_update_id += 1;
            let update = make(state.last_update_id);
            state.pending.push_back(update);
            state.last_update_id
        };
        self.shared.bump();
        id
    }

    /// Makes `file_id` downloadable at `file_path` with `bytes`.
    pub fn add_file(&self, file_id: &str, file_path: &str, bytes: Vec<u8>) {
        let file = (file_path.to_owned(), bytes);
        self.shared.state().files.insert(file_id.to_owned(), file);
    }

    /// Every message sent so far, in order.
    pub fn sent(&self) -> Vec<Sent> {
        self.shared.state().sent.clone()
    }

    /// How many messages were sent so far.
    pub fn sent_count(&self) -> usize {
        self.shared.state().sent.len()
    }

    /// Updates pushed but not yet confirmed by the daemon.
    pub fn unconfirmed(&self) -> usize {
        self.shared.state().pending.len()
    }

    /// Confirmations so far, by route.
    pub fn acks(&self) -> Acks {
        self.shared.state().acks
    }

    /// What daemon process `generation` did.
    pub fn generation(&self, generation: u32) -> GenerationStats {
        let state = self.shared.state();
        state
            .generations
            .get(&generation)
            .copied()
            .unwrap_or_default()
    }

    /// Resolves at the next send or confirmation (or after `at_most`, whichever is first).
    pub async fn changed(&self, at_most: Duration) {
        let mut rx = self.shared.version.subscribe();
        let _ = tokio::time::timeout(at_most, rx.changed()).await;
    }
}

/// Routes `/bot<token>/<Method>` and `/file/bot<token>/<path>`; bodies are JSON or multipart.
async fn handle(
    AxumState(shared): AxumState<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    if let Some(rest) = path.strip_prefix("/file/bot") {
        return methods::download(&shared, &method, rest);
    }
    let Some((token, name)) = path.strip_prefix("/bot").and_then(|p| p.rsplit_once('/')) else {
        return envelope(Err((404, "Not Found".into())));
    };
    if token != BOT_TOKEN {
        return envelope(Err((401, "Unauthorized".into())));
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let params = match content_type.strip_prefix("multipart/form-data") {
        Some(rest) => methods::form_fields(rest, &body),
        None => serde_json::from_slice(&body).unwrap_or_default(),
    };
    {
        let mut state = shared.state();
        let generation = state.generation;
        state.generations.entry(generation).or_default().calls += 1;
    }
    let result = match name.to_ascii_lowercase().as_str() {
        "getme" => Ok(bot_me()),
        "getupdates" => methods::get_updates(&shared, &params).await,
        "sendmessage" => Ok(methods::send_message(&shared, &params)),
        "getfile" => methods::get_file(&shared, &params),
        "setwebhook" => methods::set_webhook(&shared, &params),
        "deletewebhook" => {
            shared.state().webhook = None;
            Ok(json!(true))
        }
        _ => Ok(json!(true)),
    };
    envelope(result)
}

/// Telegram's `{"ok": .., "result" | "error_code", "description"}` envelope.
fn envelope(reply: Result<Value, (u16, String)>) -> Response {
    match reply {
        Ok(result) => axum::Json(json!({"ok": true, "result": result})).into_response(),
        Err((code, description)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
            let body = json!({"ok": false, "error_code": code, "description": description});
            (status, axum::Json(body)).into_response()
        }
    }
}
