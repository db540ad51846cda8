//! The Bot API methods the daemon calls, as Telegram answers them, and the file download URL.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use super::{BOT_TOKEN, Sent, Shared};
use crate::updates::{bot_user, chat, unix_now};

/// Longest the fake holds a long poll, whatever `timeout` the daemon asks for.
const LONG_POLL_CAP: Duration = Duration::from_secs(2);

/// The text fields of a `multipart/form-data` body (teloxide sends setWebhook that way, as it
/// may carry a certificate), each as a JSON string; `params` is what follows the media type.
pub fn form_fields(params: &str, body: &[u8]) -> Map<String, Value> {
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

/// getUpdates: 409 while a webhook is set (as Telegram); an `offset` confirms every earlier
/// update; returns what is pending or waits for a push up to the (capped) `timeout`.
pub async fn get_updates(
    shared: &Shared,
    params: &Map<String, Value>,
) -> Result<Value, (u16, String)> {
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

/// sendMessage: recorded with the process that sent it, answered with a Message.
pub fn send_message(shared: &Shared, params: &Map<String, Value>) -> Value {
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
            at: Instant::now(),
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

/// getFile: the File object of a file the harness added.
pub fn get_file(shared: &Shared, params: &Map<String, Value>) -> Result<Value, (u16, String)> {
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
pub fn download(shared: &Shared, method: &Method, rest: &str) -> Response {
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

/// setWebhook: remembers the URL and secret the webhook pusher posts with.
pub fn set_webhook(shared: &Shared, params: &Map<String, Value>) -> Result<Value, (u16, String)> {
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
