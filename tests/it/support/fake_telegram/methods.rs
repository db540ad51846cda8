//! The fake's answers to each Bot API method (getUpdates is in `polling.rs`, messages in
//! `messages.rs`, file downloads in `files.rs`), including checks Telegram makes: invalid command names, unknown callback
//! query ids, webhooks that are not https on an allowed port.

use serde_json::{Map, Value, json};

use super::messages::{edit_message_text, edit_reply_markup, send_message};
use super::state::{Draft, State};
use super::updates::bot_me;

/// Telegram's `ok: false` answer.
pub struct ApiError {
    /// HTTP status and `error_code`.
    pub code: u16,
    /// `description`.
    pub description: String,
    /// `parameters.retry_after`, for 429.
    pub retry_after: Option<u32>,
}

impl ApiError {
    /// 400 "Bad Request: {reason}".
    pub fn bad_request(reason: impl std::fmt::Display) -> Self {
        Self {
            code: 400,
            description: format!("Bad Request: {reason}"),
            retry_after: None,
        }
    }
}

/// The `result` of a successful call or the error Telegram would give.
pub type Reply = Result<Value, ApiError>;

/// Answers a call of `method` (api.json spelling) whose parameters already passed validation.
pub fn answer(state: &mut State, method: &str, params: &Map<String, Value>) -> Reply {
    match method {
        "getMe" => Ok(bot_me()),
        "sendMessage" => send_message(state, params),
        "editMessageText" => edit_message_text(state, params),
        "editMessageReplyMarkup" => edit_reply_markup(state, params),
        "setWebhook" => set_webhook(state, params),
        "deleteWebhook" => {
            state.webhook = None;
            drop_pending_if_asked(state, params);
            Ok(json!(true))
        }
        "getWebhookInfo" => Ok(webhook_info(state)),
        "getFile" => get_file(state, params),
        "setMyCommands" => set_my_commands(state, params),
        "getMyCommands" => Ok(Value::Array(state.commands.clone())),
        "deleteMyCommands" => {
            state.commands.clear();
            Ok(json!(true))
        }
        "sendChatAction" => send_chat_action(params),
        "sendMessageDraft" => send_message_draft(state, params),
        "getChatMemberCount" => {
            let chat = params.get("chat_id").and_then(Value::as_i64).unwrap_or(0);
            if chat >= 0 {
                return Err(ApiError::bad_request("chat not found"));
            }
            Ok(json!(state.member_counts.get(&chat).copied().unwrap_or(3)))
        }
        "leaveChat" => match params.get("chat_id").and_then(Value::as_i64) {
            Some(chat) if chat < 0 => Ok(json!(true)),
            _ => Err(ApiError::bad_request("chat not found")),
        },
        "answerCallbackQuery" => {
            let id = params.get("callback_query_id").and_then(Value::as_str);
            match id.and_then(|id| state.open_callbacks.take(id)) {
                Some(_) => Ok(json!(true)),
                None => Err(ApiError::bad_request(
                    "query is too old and response timeout expired or query id is invalid",
                )),
            }
        }
        _ => Ok(json!(true)),
    }
}

/// Telegram's File object; files over the 20 MB bot limit are refused as Telegram does.
fn get_file(state: &State, params: &Map<String, Value>) -> Reply {
    let id = params
        .get("file_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let file = state
        .files
        .get(id)
        .ok_or_else(|| ApiError::bad_request("invalid file_id"))?;
    if file.bytes.len() > 20 * 1024 * 1024 {
        return Err(ApiError::bad_request("file is too big"));
    }
    Ok(json!({
        "file_id": id,
        "file_unique_id": format!("u{id}"),
        "file_size": file.bytes.len(),
        "file_path": file.path,
    }))
}

fn drop_pending_if_asked(state: &mut State, params: &Map<String, Value>) {
    if params.get("drop_pending_updates") == Some(&json!(true)) {
        state.updates.clear();
    }
}

fn set_webhook(state: &mut State, params: &Map<String, Value>) -> Reply {
    let url = params
        .get("url")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if url.is_empty() {
        state.webhook = None;
    } else {
        let parsed = url::Url::parse(url)
            .map_err(|_| ApiError::bad_request("bad webhook: Failed to resolve host"))?;
        if parsed.scheme() != "https" {
            return Err(ApiError::bad_request(
                "bad webhook: An HTTPS URL must be provided for webhook",
            ));
        }
        if !matches!(parsed.port_or_known_default(), Some(80 | 88 | 443 | 8443)) {
            return Err(ApiError::bad_request(
                "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
            ));
        }
        state.webhook = Some(Value::Object(params.clone()));
    }
    drop_pending_if_asked(state, params);
    Ok(json!(true))
}

fn webhook_info(state: &State) -> Value {
    let mut info = json!({
        "url": "",
        "has_custom_certificate": false,
        "pending_update_count": state.updates.len(),
    });
    if let Some(webhook) = &state.webhook {
        for key in ["url", "max_connections", "allowed_updates", "ip_address"] {
            if let Some(value) = webhook.get(key) {
                info[key] = value.clone();
            }
        }
        if let Some((date, message)) = &state.webhook_error {
            info["last_error_date"] = json!(date);
            info["last_error_message"] = json!(message);
        }
    }
    info
}

fn set_my_commands(state: &mut State, params: &Map<String, Value>) -> Reply {
    let commands = params
        .get("commands")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if commands.len() > 100 {
        return Err(ApiError::bad_request("too many commands"));
    }
    for command in &commands {
        let name = command["command"].as_str().unwrap_or_default();
        let valid_name = (1..=32).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid_name {
            return Err(ApiError::bad_request("BOT_COMMAND_INVALID"));
        }
        let description = command["description"].as_str().unwrap_or_default();
        if !(1..=256).contains(&description.chars().count()) {
            return Err(ApiError::bad_request("BOT_COMMAND_DESCRIPTION_INVALID"));
        }
    }
    state.commands = commands;
    Ok(json!(true))
}

const CHAT_ACTIONS: &[&str] = &[
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
];

fn send_chat_action(params: &Map<String, Value>) -> Reply {
    let action = params
        .get("action")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if CHAT_ACTIONS.contains(&action) {
        Ok(json!(true))
    } else {
        Err(ApiError::bad_request("wrong parameter action in request"))
    }
}

/// Drafts exist only in private chats (positive ids), need a non-zero `draft_id`, and hold at
/// most 4096 characters, as for sendMessage.
fn send_message_draft(state: &mut State, params: &Map<String, Value>) -> Reply {
    let chat_id = params.get("chat_id").and_then(Value::as_i64).unwrap_or(0);
    let draft_id = params.get("draft_id").and_then(Value::as_i64).unwrap_or(0);
    let text = params
        .get("text")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if chat_id <= 0 {
        return Err(ApiError::bad_request("TEXTDRAFT_PEER_INVALID"));
    }
    if draft_id == 0 {
        return Err(ApiError::bad_request("draft_id must be non-zero"));
    }
    if text.chars().count() > 4096 {
        return Err(ApiError::bad_request("message is too long"));
    }
    state.drafts.push(Draft {
        chat_id,
        draft_id,
        text: text.to_owned(),
    });
    Ok(json!(true))
}
