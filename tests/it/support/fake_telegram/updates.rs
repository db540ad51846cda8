//! Realistic Bot API JSON for tests to push and for the fake to answer with: users, chats,
//! messages and updates shaped like the ones Telegram sends (teloxide decodes them strictly).

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// Numeric id of the fake bot; Telegram bot ids are the token's prefix.
pub const BOT_ID: i64 = 123456;
/// Token of the fake bot (its prefix is [`BOT_ID`]).
pub const BOT_TOKEN: &str = "123456:TEST-TOKEN";
/// `@username` of the fake bot, without the `@`.
pub const BOT_USERNAME: &str = "minicrew_test_bot";

/// Current Unix time in seconds, as Telegram's `date` fields.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The bot as `getMe` returns it, with every field teloxide's `Me` requires.
pub fn bot_me() -> Value {
    json!({
        "id": BOT_ID,
        "is_bot": true,
        "first_name": "Minicrew Test",
        "username": BOT_USERNAME,
        "can_join_groups": true,
        "can_read_all_group_messages": false,
        "supports_inline_queries": false,
        "can_connect_to_business": false,
        "has_main_web_app": false,
        "has_topics_enabled": false,
        "allows_users_to_create_topics": false,
    })
}

/// The bot as the `from` of a message it sent.
pub fn bot_user() -> Value {
    json!({"id": BOT_ID, "is_bot": true, "first_name": "Minicrew Test", "username": BOT_USERNAME})
}

/// A human user whose private chat with the bot has the same id (as in Telegram).
pub fn human_user(user_id: i64) -> Value {
    json!({
        "id": user_id,
        "is_bot": false,
        "first_name": format!("User{user_id}"),
        "username": format!("user{user_id}"),
        "language_code": "en",
    })
}

/// A chat: private for positive ids, a supergroup for negative ones.
pub fn chat(chat_id: i64) -> Value {
    if chat_id > 0 {
        json!({
            "id": chat_id,
            "type": "private",
            "first_name": format!("User{chat_id}"),
            "username": format!("user{chat_id}"),
        })
    } else {
        json!({"id": chat_id, "type": "supergroup", "title": format!("Group{chat_id}")})
    }
}

/// A text message from user `chat_id` in their private chat; a leading `/word` gets the
/// `bot_command` entity Telegram adds.
pub fn text_message(message_id: i64, chat_id: i64, text: &str) -> Value {
    let mut message = json!({
        "message_id": message_id,
        "from": human_user(chat_id),
        "chat": chat(chat_id),
        "date": unix_now(),
        "text": text,
    });
    if text.starts_with('/') {
        let command = text.split_whitespace().next().unwrap_or(text);
        message["entities"] = json!([{
            "type": "bot_command",
            "offset": 0,
            "length": command.encode_utf16().count(),
        }]);
    }
    message
}

/// An update carrying [`text_message`] (message_id = update_id).
pub fn text_update(update_id: i64, chat_id: i64, text: &str) -> Value {
    json!({"update_id": update_id, "message": text_message(update_id, chat_id, text)})
}

/// An update carrying a voice message from user `chat_id` (message_id = update_id); `size` is
/// the `file_size` Telegram reports.
pub fn voice_update(update_id: i64, chat_id: i64, file_id: &str, size: u64) -> Value {
    json!({"update_id": update_id, "message": {
        "message_id": update_id,
        "from": human_user(chat_id),
        "chat": chat(chat_id),
        "date": unix_now(),
        "voice": {
            "file_id": file_id,
            "file_unique_id": format!("u{file_id}"),
            "duration": 3,
            "mime_type": "audio/ogg",
            "file_size": size,
        },
    }})
}

/// An update for a press on an inline button with `data`, attached to the bot's message
/// `message_id` in `chat_id`; the query id is `cb<update_id>`.
pub fn callback_update(update_id: i64, chat_id: i64, data: &str, message_id: i64) -> Value {
    json!({
        "update_id": update_id,
        "callback_query": {
            "id": format!("cb{update_id}"),
            "from": human_user(chat_id),
            "message": {
                "message_id": message_id,
                "from": bot_user(),
                "chat": chat(chat_id),
                "date": unix_now(),
                "text": "(message with buttons)",
            },
            "chat_instance": format!("ci{chat_id}"),
            "data": data,
        }
    })
}

/// A group chat: a basic `group` for ids above -10^12, else a `supergroup` (as Telegram
/// numbers them).
pub fn group_chat(chat_id: i64) -> Value {
    let kind = if chat_id > -1_000_000_000_000 {
        "group"
    } else {
        "supergroup"
    };
    json!({"id": chat_id, "type": kind, "title": format!("Group{chat_id}")})
}

/// A text message from user `from` in group `chat_id`, with the entities Telegram adds: a
/// `bot_command` for a leading `/word`, a `mention` for every `@username` (UTF-16 offsets).
pub fn group_text_message(message_id: i64, chat_id: i64, from: i64, text: &str) -> Value {
    let mut entities = Vec::new();
    if text.starts_with('/') {
        let command = text.split_whitespace().next().unwrap_or(text);
        entities.push(json!({"type": "bot_command", "offset": 0,
            "length": command.encode_utf16().count()}));
    }
    let mut offset = 0;
    for word in text.split_inclusive(char::is_whitespace) {
        let trimmed = word.trim_end();
        let name = trimmed.trim_end_matches(|c: char| !(c.is_alphanumeric() || c == '_'));
        if name.starts_with('@') && name.len() > 1 {
            entities.push(json!({"type": "mention", "offset": offset,
                "length": name.encode_utf16().count()}));
        }
        offset += word.encode_utf16().count();
    }
    let mut message = json!({
        "message_id": message_id,
        "from": human_user(from),
        "chat": group_chat(chat_id),
        "date": unix_now(),
        "text": text,
    });
    if !entities.is_empty() {
        message["entities"] = Value::Array(entities);
    }
    message
}

/// A `my_chat_member` update: user `by` added the bot to group `chat_id` (`joined`: the bot
/// goes from `left` to `member`) or removed it (from `member` to `left`).
pub fn my_chat_member_update(update_id: i64, chat_id: i64, by: i64, joined: bool) -> Value {
    let (old, new) = if joined {
        ("left", "member")
    } else {
        ("member", "left")
    };
    json!({"update_id": update_id, "my_chat_member": {
        "chat": group_chat(chat_id),
        "from": human_user(by),
        "date": unix_now(),
        "old_chat_member": {"user": bot_user(), "status": old},
        "new_chat_member": {"user": bot_user(), "status": new},
    }})
}

/// The kind of an update (`message`, `callback_query`, ...): its key other than `update_id`.
pub fn update_kind(update: &Value) -> Option<&str> {
    update
        .as_object()?
        .keys()
        .map(String::as_str)
        .find(|k| *k != "update_id")
}
