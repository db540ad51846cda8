//! sendMessage and the edit methods: the text checks Telegram makes (empty, too long after
//! entity parsing, invalid HTML), the Message JSON it answers with, and edits of unknown or
//! unchanged messages.

use serde_json::{Map, Value, json};

use super::html;
use super::methods::{ApiError, Reply};
use super::multipart::Upload;
use super::state::{SentFile, SentMessage, State, TextEdit};
use super::updates::{bot_user, chat, unix_now};

/// Longest message text in UTF-16 code units, after entity parsing.
const MAX_TEXT_UTF16: usize = 4096;

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

/// Answers sendMessage: records the message and returns it as Telegram would.
pub fn send_message(state: &mut State, params: &Map<String, Value>) -> Reply {
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

/// Longest caption in UTF-16 code units, after entity parsing.
const MAX_CAPTION_UTF16: usize = 1024;

/// Answers sendDocument and sendPhoto sent as uploads: Telegram's checks (the file part is there
/// and not empty, the caption fits), then the message recorded with its caption as text and the
/// file kept for the test.
pub fn send_file(
    state: &mut State,
    method: &str,
    params: &Map<String, Value>,
    uploads: Vec<Upload>,
) -> Reply {
    let field = if method == "sendPhoto" {
        "photo"
    } else {
        "document"
    };
    let Some(upload) = uploads.into_iter().find(|u| u.field == field) else {
        return Err(ApiError::bad_request(format!(
            "there is no {field} in the request (the fake expects an upload)"
        )));
    };
    if upload.bytes.is_empty() {
        return Err(ApiError::bad_request("file must be non-empty"));
    }
    let caption = params.get("caption").and_then(Value::as_str).unwrap_or("");
    let mut as_text = params.clone();
    as_text.insert("text".into(), Value::String(caption.to_owned()));
    let rendered = if caption.trim().is_empty() {
        Rendered {
            visible: String::new(),
            entities: Vec::new(),
        }
    } else {
        render(&as_text, "Bad Request: message caption is too long")?
    };
    if rendered.visible.encode_utf16().count() > MAX_CAPTION_UTF16 {
        return Err(ApiError::bad_request("message caption is too long"));
    }
    state.last_message_id += 1;
    let chat_id = params.get("chat_id").and_then(Value::as_i64).unwrap_or(0);
    let message = SentMessage {
        chat_id,
        message_id: state.last_message_id,
        text: caption.to_owned(),
        visible_text: rendered.visible.clone(),
        entities: rendered.entities,
        parse_mode: params
            .get("parse_mode")
            .and_then(Value::as_str)
            .map(str::to_owned),
        reply_markup: params.get("reply_markup").cloned(),
        edits: 0,
    };
    let id = state.last_message_id;
    let media = json!({
        "file_id": format!("sent-file-{id}"),
        "file_unique_id": format!("u{id}"),
        "file_size": upload.bytes.len(),
    });
    let mut json = json!({
        "message_id": id,
        "from": bot_user(),
        "chat": chat(chat_id),
        "date": unix_now(),
    });
    if method == "sendPhoto" {
        let mut size = media;
        size["width"] = json!(1);
        size["height"] = json!(1);
        json["photo"] = json!([size]);
    } else {
        let mut document = media;
        document["file_name"] = json!(upload.file_name);
        json["document"] = document;
    }
    if !rendered.visible.is_empty() {
        json["caption"] = json!(rendered.visible);
    }
    state.sent.push(message);
    state.files_sent.push(SentFile {
        chat_id,
        message_id: id,
        method: method.to_owned(),
        file_name: upload.file_name,
        bytes: upload.bytes,
        caption: rendered.visible,
    });
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

/// Answers editMessageText: applies the edit to the recorded message.
pub fn edit_message_text(state: &mut State, params: &Map<String, Value>) -> Reply {
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
    let json = message_json(message);
    let edit = TextEdit {
        chat_id: message.chat_id,
        message_id: message.message_id,
        visible_text: message.visible_text.clone(),
        at: std::time::Instant::now(),
    };
    state.text_edits.push(edit);
    Ok(json)
}

/// Answers editMessageReplyMarkup.
pub fn edit_reply_markup(state: &mut State, params: &Map<String, Value>) -> Reply {
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
