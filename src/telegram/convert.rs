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
            let content = match msg.text() {
                Some(text) => Content::Text(text.to_string()),
                None => Content::Unsupported(unsupported_kind(msg)),
            };
            let from = msg.from.as_ref();
            Some(Incoming {
                update_id,
                chat_id: msg.chat.id.0,
                from_name: from
                    .map(display_name)
                    .unwrap_or_else(|| "there".to_string()),
                username: from.and_then(|u| u.username.clone()),
                content,
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

/// What a non-text message is, for the "text only" reply. teloxide leaves media it cannot decode
/// fully as an empty message; that still deserves an answer, so the fallback is generic.
fn unsupported_kind(msg: &teloxide::types::Message) -> &'static str {
    if msg.voice().is_some() || msg.audio().is_some() {
        "voice and audio messages"
    } else if msg.photo().is_some() {
        "photos"
    } else if msg.sticker().is_some() {
        "stickers"
    } else if msg.document().is_some() || msg.video().is_some() || msg.animation().is_some() {
        "files and videos"
    } else {
        "this kind of message"
    }
}

fn display_name(user: &TgUser) -> String {
    match &user.last_name {
        Some(last) => format!("{} {last}", user.first_name),
        None => user.first_name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message_update(extra: serde_json::Value) -> Update {
        let mut message = json!({
            "message_id": 9, "date": 1_700_000_000,
            "chat": {"id": 5, "type": "private", "first_name": "Ada"},
            "from": {"id": 5, "is_bot": false, "first_name": "Ada", "last_name": "L"}
        });
        message
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        // teloxide's flattened Update only decodes from text, as Telegram's bytes arrive.
        serde_json::from_str(&json!({"update_id": 1, "message": message}).to_string()).unwrap()
    }

    #[test]
    fn text_becomes_incoming_text_with_the_full_name() {
        let incoming = to_incoming(&message_update(json!({"text": "hi"}))).unwrap();
        assert_eq!(incoming.content, Content::Text("hi".into()));
        assert_eq!(
            (incoming.chat_id, incoming.from_name.as_str()),
            (5, "Ada L")
        );
    }

    #[test]
    fn voice_is_unsupported_and_named() {
        let voice = json!({"voice": {"file_id": "v", "file_unique_id": "u", "duration": 3, "file_size": 2048, "mime_type": "audio/ogg"}});

        let incoming = to_incoming(&message_update(voice)).unwrap();

        assert_eq!(
            incoming.content,
            Content::Unsupported("voice and audio messages")
        );
    }
}
