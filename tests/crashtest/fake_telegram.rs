//! The fake Telegram Bot API of the crash test. It lives in the harness, so what Telegram
//! remembers survives every `kill -9` of the daemon: the updates not yet confirmed, the webhook,
//! and every message sent (chat, text, time, which daemon process sent it). Updates reach the
//! daemon the two ways Telegram delivers them: `getUpdates` (a later `offset` confirms them) or,
//! while a webhook is set, POSTed to it one at a time with the secret until it answers 200.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::updates::{bot_me, bot_user, chat, unix_now};

/// Token the fake accepts.
pub const BOT_TOKEN: &str = "123456:CRASH-TEST-TOKEN";
/// Longest the fake holds a long poll, whatever `timeout` the daemon asks for.
const LONG_POLL_CAP: Duration = Duration::from_secs(2);
/// Bound on one webhook POST.
const WEBHOOK_POST_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause after a webhook POST that was not answered 200 (no daemon listening, or it died).
const WEBHOOK_RETRY: Duration = Duration::from_millis(20);

/// One sendMessage the fake accepted.
#[derive(Debug, Clone)]
pub struct Sent {
    /// Destination chat.
    pub chat_id: i64,
    /// The `text` parameter as sent (HTML when the daemon sent HTML).
    pub text: String,
    /// Which daemon process sent it (see [`FakeTelegram::begin_generation`]).
    pub generation: u32,
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
        let pusher = tokio::spawn(push_to_webhook(Arc::clone(&shared)));
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

async fn handle(
    AxumState(shared): AxumState<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    if let Some(rest) = path.strip_prefix("/file/bot") {
        return download(&shared, &method, rest);
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
        Some(rest) => form_fields(rest, &body),
        None => serde_json::from_slice(&body).unwrap_or_default(),
    };
    {
        let mut state = shared.state();
        let generation = state.generation;
        state.generations.entry(generation).or_default().calls += 1;
    }
    let result = match name.to_ascii_lowercase().as_str() {
        "getme" => Ok(bot_me()),
        "getupdates" => get_updates(&shared, &params).await,
        "sendmessage" => Ok(send_message(&shared, &params)),
        "getfile" => get_file(&shared, &params),
        "setwebhook" => set_webhook(&shared, &params),
        "deletewebhook" => {
            shared.state().webhook = None;
            Ok(json!(true))
        }
        _ => Ok(json!(true)),
    };
    envelope(result)
}

/// The text fields of a `multipart/form-data` body (teloxide sends setWebhook that way, as it
/// may carry a certificate), each as a JSON string; `params` is what follows the media type.
fn form_fields(params: &str, body: &[u8]) -> Map<String, Value> {
    let mut fields = Map::new();
    let Some(boundary) = params
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
    else {
        return fields;
    };
    let text = String::from_utf8_lossy(body);
    for section in text
        .split(&format!("--{}", boundary.trim_matches('"')))
        .skip(1)
    {
        let Some((head, content)) = section.split_once("\r\n\r\n") else {
            continue;
        };
        let Some(name) = head
            .split("name=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
        else {
            continue;
        };
        let content = content.strip_suffix("\r\n").unwrap_or(content);
        fields.insert(name.to_owned(), Value::String(content.to_owned()));
    }
    fields
}

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

/// getUpdates: 409 while a webhook is set (as Telegram); an `offset` confirms every earlier
/// update; returns what is pending or waits for a push up to the (capped) `timeout`.
async fn get_updates(shared: &Shared, params: &Map<String, Value>) -> Result<Value, (u16, String)> {
    let offset = params.get("offset").and_then(Value::as_i64).unwrap_or(0);
    let limit = params.get("limit").and_then(Value::as_u64).unwrap_or(100) as usize;
    let timeout = params.get("timeout").and_then(Value::as_u64).unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(timeout).min(LONG_POLL_CAP);
    let confirmed = {
        let mut state = shared.state();
        if state.webhook.is_some() {
            let conflict = "Conflict: can't use getUpdates method while webhook is active";
            return Err((409, conflict.into()));
        }
        let before = state.pending.len();
        state
            .pending
            .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
        let confirmed = before - state.pending.len();
        state.acks.polling += confirmed as u64;
        confirmed
    };
    if confirmed > 0 {
        shared.bump();
    }
    loop {
        let changed = shared.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        {
            let state = shared.state();
            if state.webhook.is_some() {
                return Ok(json!([]));
            }
            let batch: Vec<Value> = state.pending.iter().take(limit).cloned().collect();
            if !batch.is_empty() {
                return Ok(Value::Array(batch));
            }
        }
        if tokio::time::timeout_at(deadline, changed).await.is_err() {
            return Ok(json!([]));
        }
    }
}

fn send_message(shared: &Shared, params: &Map<String, Value>) -> Value {
    let chat_id = params.get("chat_id").and_then(Value::as_i64).unwrap_or(0);
    let text = params
        .get("text")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let message_id = {
        let mut state = shared.state();
        state.last_message_id += 1;
        let generation = state.generation;
        state.generations.entry(generation).or_default().sends += 1;
        let sent = Sent {
            chat_id,
            text: text.clone(),
            generation,
        };
        state.sent.push(sent);
        state.last_message_id
    };
    shared.bump();
    json!({
        "message_id": message_id,
        "from": bot_user(),
        "chat": chat(chat_id),
        "date": unix_now(),
        "text": text,
    })
}

fn get_file(shared: &Shared, params: &Map<String, Value>) -> Result<Value, (u16, String)> {
    let id = params
        .get("file_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let state = shared.state();
    let (path, bytes) = state
        .files
        .get(id)
        .ok_or_else(|| (400, "Bad Request: invalid file_id".to_owned()))?;
    Ok(json!({
        "file_id": id,
        "file_unique_id": format!("u{id}"),
        "file_size": bytes.len(),
        "file_path": path,
    }))
}

/// `GET /file/bot<token>/<file_path>`; the crash test's file paths need no percent-decoding.
fn download(shared: &Shared, method: &Method, rest: &str) -> Response {
    let Some((token, path)) = rest.split_once('/') else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if token != BOT_TOKEN || method != Method::GET {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let state = shared.state();
    match state.files.values().find(|(p, _)| p == path) {
        Some((_, bytes)) => bytes.clone().into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn set_webhook(shared: &Shared, params: &Map<String, Value>) -> Result<Value, (u16, String)> {
    let text = |key: &str| params.get(key).and_then(Value::as_str).map(str::to_owned);
    let (Some(url), Some(secret)) = (text("url"), text("secret_token")) else {
        return Err((
            400,
            "Bad Request: url and secret_token are required here".into(),
        ));
    };
    shared.state().webhook = Some((url, secret));
    shared.bump();
    Ok(json!(true))
}

/// Telegram's side of webhook mode: while a webhook is set, POSTs the oldest unconfirmed update
/// to it (https replaced by http: no TLS terminator here) with the secret header, and confirms
/// it only on a 200. Anything else (nothing listening, the daemon killed mid-request) is retried.
async fn push_to_webhook(shared: Arc<Shared>) {
    let client = match reqwest::Client::builder()
        .timeout(WEBHOOK_POST_TIMEOUT)
        .pool_max_idle_per_host(0)
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            eprintln!("crashtest: cannot build the webhook client: {e}");
            return;
        }
    };
    loop {
        let changed = shared.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        let next = {
            let state = shared.state();
            match (&state.webhook, state.pending.front()) {
                (Some((url, secret)), Some(update)) => Some((
                    url.replacen("https://", "http://", 1),
                    secret.clone(),
                    update.clone(),
                )),
                _ => None,
            }
        };
        let Some((url, secret, update)) = next else {
            changed.await;
            continue;
        };
        let posted = client
            .post(&url)
            .header("X-Telegram-Bot-Api-Secret-Token", &secret)
            .json(&update)
            .send()
            .await;
        if posted.is_ok_and(|r| r.status() == reqwest::StatusCode::OK) {
            let id = update["update_id"].as_i64();
            let mut state = shared.state();
            let before = state.pending.len();
            state.pending.retain(|u| u["update_id"].as_i64() != id);
            state.acks.webhook += (before - state.pending.len()) as u64;
            drop(state);
            shared.bump();
        } else {
            tokio::time::sleep(WEBHOOK_RETRY).await;
        }
    }
}
