//! Telegram `Update` → [`Incoming`]. Updates the bot does not handle map to `None` and are
//! recorded as skipped.

use teloxide::types::{Update, UpdateKind, User as TgUser};

use crate::message::{Content, Incoming};

/// The update types the bot asks Telegram for (`allowed_updates`).
pub const ALLOWED_UPDATES: [teloxide::types::AllowedUpdate; 2] = [
    teloxide::types::AllowedUpdate::Message,
    teloxide::types::AllowedUpdate::CallbackQuery,
];

/// Update kinds by their JSON field, for metric labels (anything else is `other`).
const KINDS: [&str; 12] = [
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "callback_query",
    "inline_query",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "message_reaction",
    "poll",
    "poll_answer",
];

/// The kind of a raw update (`message`, `callback_query`, ..., or `other`), read from its JSON
/// without decoding the body.
pub fn kind_of(payload: &str) -> &'static str {
    let fields: std::collections::BTreeMap<&str, serde::de::IgnoredAny> =
        serde_json::from_str(payload).unwrap_or_default();
    fields
        .keys()
        .find_map(|k| KINDS.iter().find(|kind| *kind == k).copied())
        .unwrap_or("other")
}

/// The chat an update belongs to, used to keep each chat's messages in order.
pub fn chat_of(update: &Update) -> Option<i64> {
    update
        .chat()
        .map(|c| c.id.0)
        .or_else(|| update.from().map(|u| u.id.0 as i64))
}

/// Converts a message or button press; `None` for anything else (photos, edits, joins, ...).
pub fn to_incoming(update: &Update) -> Option<Incoming> {
    let update_id = Some(i64::from(update.id.0));
    match &update.kind {
        UpdateKind::Message(msg) => {
            let text = msg.text()?;
            let from = msg.from.as_ref();
            Some(Incoming {
                update_id,
                chat_id: msg.chat.id.0,
                from_name: from
                    .map(display_name)
                    .unwrap_or_else(|| "there".to_string()),
                username: from.and_then(|u| u.username.clone()),
                content: Content::Text(text.to_string()),
            })
        }
        UpdateKind::CallbackQuery(q) => {
            let data = q.data.clone()?;
            let chat_id = q
                .message
                .as_ref()
                .map(|m| m.chat().id.0)
                .unwrap_or(q.from.id.0 as i64);
            Some(Incoming {
                update_id,
                chat_id,
                from_name: display_name(&q.from),
                username: q.from.username.clone(),
                content: Content::Callback {
                    id: q.id.0.clone(),
                    data,
                },
            })
        }
        _ => None,
    }
}

fn display_name(user: &TgUser) -> String {
    match &user.last_name {
        Some(last) => format!("{} {last}", user.first_name),
        None => user.first_name.clone(),
    }
}
