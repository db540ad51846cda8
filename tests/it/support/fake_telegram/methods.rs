//! The fake's answers to each Bot API method (except getUpdates, see `polling.rs`), including
//! the checks Telegram itself makes: empty or too long text, bad HTML, edits of unknown or
//! unchanged messages, invalid command names, unknown callback query ids, plain-http webhooks.

use serde_json::{Map, Value, json};

use super::html;
use super::state::{SentMessage, State};
use super::updates::{bot_me, bot_user, chat, unix_now};

/// Longest message text in UTF-16 code units, after entity parsing.
const MAX_TEXT_UTF16: usize = 4096;

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
        "setMyCommands" => set_my_commands(state, params),
        "getMyCommands" => Ok(Value::Array(state.commands.clone())),
        "deleteMyCommands" => {
            state.commands.clear();
            Ok(json!(true))
        }
        "sendChatAction" => send_chat_action(params),
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

/// Visible text and entities of a message text, after Telegram's checks.
struct Rendered {
    visible: String,
    entities: Vec<Value>,
}

fn render(params: &Map<String, Value>, too_long: &str) -> Result<Rendered, ApiError> {
    let text = params.get("text").and_then(Value::as_str).unwrap_or("");
    let parse_mode = params.get("parse_mode").and_then(Value::as_str);
    let rendered = match parse_mode {
        None => Rendered {
            visible: text.to_owned(),
            entities: params
                .get("entities")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        },
        Some(mode) if mode.eq_ignore_ascii_case("html") => {
            let parsed = html::parse(text).map_err(|reason| {
                ApiError::bad_request(format!("can't parse entities: {reason}"))
            })?;
            Rendered {
                visible: parsed.text,
                entities: parsed.entities,
            }
        }
        // Markdown is not checked by the fake; its length is counted on the raw text.
        Some("MarkdownV2" | "Markdown") => Rendered {
            visible: text.to_owned(),
            entities: Vec::new(),
        },
        Some(_) => return Err(ApiError::bad_request("unsupported parse_mode")),
    };
    if rendered.visible.trim().is_empty() {
        return Err(ApiError::bad_request("message text is empty"));
    }
    if rendered.visible.encode_utf16().count() > MAX_TEXT_UTF16 {
        return Err(ApiError {
            code: 400,
            description: too_long.to_owned(),
            retry_after: None,
        });
    }
    Ok(rendered)
}

/// The Message JSON Telegram returns for a message the bot sent.
fn message_json(m: &SentMessage) -> Value {
    let mut json = json!({
        "message_id": m.message_id,
        "from": bot_user(),
        "chat": chat(m.chat_id),
        "date": unix_now(),
        "text": m.visible_text,
    });
    if !m.entities.is_empty() {
        json["entities"] = Value::Array(m.entities.clone());
    }
    if let Some(markup) = m
        .reply_markup
        .as_ref()
        .filter(|r| r.get("inline_keyboard").is_some())
    {
        json["reply_markup"] = markup.clone();
    }
    if m.edits > 0 {
        json["edit_date"] = json!(unix_now());
    }
    json
}

fn send_message(state: &mut State, params: &Map<String, Value>) -> Reply {
    let rendered = render(params, "Bad Request: message is too long")?;
    state.last_message_id += 1;
    let message = SentMessage {
        chat_id: params.get("chat_id").and_then(Value::as_i64).unwrap_or(0),
        message_id: state.last_message_id,
        text: params["text"].as_str().unwrap_or_default().to_owned(),
        visible_text: rendered.visible,
        entities: rendered.entities,
        parse_mode: params
            .get("parse_mode")
            .and_then(Value::as_str)
            .map(str::to_owned),
        reply_markup: params.get("reply_markup").cloned(),
        edits: 0,
    };
    let json = message_json(&message);
    state.sent.push(message);
    Ok(json)
}

const NOT_MODIFIED: &str = "message is not modified: specified new message content and reply \
     markup are exactly the same as a current content and reply markup of the message";

/// The message an edit targets; `Ok(None)` for inline messages (answered with `true`).
fn edit_target<'a>(
    state: &'a mut State,
    params: &Map<String, Value>,
) -> Result<Option<&'a mut SentMessage>, ApiError> {
    if params.contains_key("inline_message_id") {
        return Ok(None);
    }
    let chat_id = params.get("chat_id").and_then(Value::as_i64);
    let message_id = params.get("message_id").and_then(Value::as_i64);
    let (Some(chat_id), Some(message_id)) = (chat_id, message_id) else {
        return Err(ApiError::bad_request("message identifier is not specified"));
    };
    match state.message_mut(chat_id, message_id) {
        Some(message) => Ok(Some(message)),
        None => Err(ApiError::bad_request("message to edit not found")),
    }
}

fn edit_message_text(state: &mut State, params: &Map<String, Value>) -> Reply {
    let rendered = render(params, "Bad Request: MESSAGE_TOO_LONG")?;
    let Some(message) = edit_target(state, params)? else {
        return Ok(json!(true));
    };
    // Like Telegram, an edit without reply_markup removes the inline keyboard.
    let markup = params.get("reply_markup").cloned();
    if message.visible_text == rendered.visible
        && message.entities == rendered.entities
        && message.reply_markup == markup
    {
        return Err(ApiError::bad_request(NOT_MODIFIED));
    }
    message.text = params["text"].as_str().unwrap_or_default().to_owned();
    message.visible_text = rendered.visible;
    message.entities = rendered.entities;
    message.parse_mode = params
        .get("parse_mode")
        .and_then(Value::as_str)
        .map(str::to_owned);
    message.reply_markup = markup;
    message.edits += 1;
    Ok(message_json(message))
}

fn edit_reply_markup(state: &mut State, params: &Map<String, Value>) -> Reply {
    let Some(message) = edit_target(state, params)? else {
        return Ok(json!(true));
    };
    let markup = params.get("reply_markup").cloned();
    if message.reply_markup == markup {
        return Err(ApiError::bad_request(NOT_MODIFIED));
    }
    message.reply_markup = markup;
    message.edits += 1;
    Ok(message_json(message))
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
