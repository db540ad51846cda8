//! Telegram `Update` → [`Incoming`]. Updates the bot does not handle map to `None` and are
//! recorded as skipped.

use teloxide::types::{Update, UpdateKind, User as TgUser};

use crate::message::{Content, Incoming};

/// The update types the bot asks Telegram for (`allowed_updates`).
pub const ALLOWED_UPDATES: [teloxide::types::AllowedUpdate; 2] = [
    teloxide::types::AllowedUpdate::Message,
    teloxide::types::AllowedUpdate::CallbackQuery,
];

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
