//! Telegram `Update` → [`Incoming`]. Updates the bot does not handle map to `None` and are
//! recorded as skipped.

use teloxide::types::{Update, UpdateKind, User as TgUser};

use crate::ids::ChatId;
use crate::message::{Content, GroupMessage, Incoming, VoiceClip};

/// The update types the bot asks Telegram for (`allowed_updates`).
pub const ALLOWED_UPDATES: [teloxide::types::AllowedUpdate; 3] = [
    teloxide::types::AllowedUpdate::Message,
    teloxide::types::AllowedUpdate::CallbackQuery,
    teloxide::types::AllowedUpdate::MyChatMember,
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

/// The kind of a decoded update, the same label [`kind_of`] reads from its JSON (without
/// reading the JSON again); an update teloxide could not decode is read from `payload`.
pub fn kind_of_update(update: &Update, payload: &str) -> &'static str {
    match &update.kind {
        UpdateKind::Message(_) => "message",
        UpdateKind::EditedMessage(_) => "edited_message",
        UpdateKind::ChannelPost(_) => "channel_post",
        UpdateKind::EditedChannelPost(_) => "edited_channel_post",
        UpdateKind::CallbackQuery(_) => "callback_query",
        UpdateKind::InlineQuery(_) => "inline_query",
        UpdateKind::MyChatMember(_) => "my_chat_member",
        UpdateKind::ChatMember(_) => "chat_member",
        UpdateKind::ChatJoinRequest(_) => "chat_join_request",
        UpdateKind::MessageReaction(_) => "message_reaction",
        UpdateKind::Poll(_) => "poll",
        UpdateKind::PollAnswer(_) => "poll_answer",
        UpdateKind::Error(_) => kind_of(payload),
        _ => "other",
    }
}

/// Why a stored or posted body did not decode into an [`Update`].
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not JSON, or not the shape of an update.
    #[error("not a Telegram update: {0}")]
    Invalid(#[from] serde_json::Error),
    /// teloxide panicked while decoding it (it unwraps a few fields Telegram always sends, such
    /// as a reaction's `user` or `actor_chat`); only a broken or hostile sender does that.
    #[error("the update makes the decoder panic")]
    Panicked,
}

/// Decodes an update from its JSON text (teloxide's `Update` decodes only from text), turning a
/// panic of the decoder into [`DecodeError::Panicked`] so no body can take a worker down.
pub fn decode_update(payload: &str) -> Result<Update, DecodeError> {
    std::panic::catch_unwind(|| serde_json::from_str::<Update>(payload))
        .map_err(|_| DecodeError::Panicked)?
        .map_err(DecodeError::from)
}

/// The chat an update belongs to, used to keep each chat's messages in order.
pub fn chat_of(update: &Update) -> Option<ChatId> {
    update
        .chat()
        .map(|c| ChatId(c.id.0))
        .or_else(|| update.from().and_then(|u| user_chat(u.id)))
}

/// A user's private chat id: the same number as the user id (see [`ChatId::private_chat_of`]).
fn user_chat(id: teloxide::types::UserId) -> Option<ChatId> {
    ChatId::private_chat_of(id.0)
}

/// Our chat id names the same chat to the Bot API: every send takes it directly.
impl From<ChatId> for teloxide::types::Recipient {
    fn from(id: ChatId) -> Self {
        Self::Id(teloxide::types::ChatId(id.0))
    }
}

/// Converts a message or button press; `None` for anything else (edits, joins, ...).
pub fn to_incoming(update: &Update) -> Option<Incoming> {
    let update_id = Some(i64::from(update.id.0));
    match &update.kind {
        UpdateKind::Message(msg) => {
            let content = match (msg.text(), voice_clip(msg)) {
                (Some(text), _) => Content::Text(text.to_string()),
                (None, Some(clip)) => Content::Voice(clip),
                (None, None) => media::content(msg)
                    .unwrap_or_else(|| Content::Unsupported(unsupported_kind(msg))),
            };
            let content = media::forwarded(msg, content);
            let from = msg.from.as_ref();
            Some(Incoming {
                update_id,
                chat_id: ChatId(msg.chat.id.0),
                from_name: from
                    .map(display_name)
                    .unwrap_or_else(|| "there".to_string()),
                username: from.and_then(|u| u.username.clone()),
                message_id: Some(msg.id.0),
                content,
                group: super::group_message::of_message(msg),
            })
        }
        UpdateKind::CallbackQuery(q) => {
            let data = q.data.clone()?;
            let chat_id = q
                .message
                .as_ref()
                .map(|m| ChatId(m.chat().id.0))
                .or_else(|| user_chat(q.from.id))?;
            let group: Option<GroupMessage> = q
                .regular_message()
                .and_then(|m| super::group_message::of_button(m, q.from.id));
            Some(Incoming {
                update_id,
                chat_id,
                from_name: display_name(&q.from),
                username: q.from.username.clone(),
                message_id: None,
                content: Content::Callback {
                    id: q.id.0.clone(),
                    data,
                },
                group,
            })
        }
        _ => None,
    }
}

/// A voice message, audio file or round video note as a clip to transcribe.
fn voice_clip(msg: &teloxide::types::Message) -> Option<VoiceClip> {
    let (file, duration) = if let Some(v) = msg.voice() {
        (&v.file, v.duration)
    } else if let Some(a) = msg.audio() {
        (&a.file, a.duration)
    } else if let Some(n) = msg.video_note() {
        (&n.file, n.duration)
    } else {
        return None;
    };
    Some(VoiceClip {
        file_id: file.id.0.clone(),
        duration_secs: duration.seconds(),
        // teloxide fills a missing size with u32::MAX; 0 is not a real size either.
        size: (file.size != 0 && file.size != u32::MAX).then_some(u64::from(file.size)),
    })
}

/// What a message the bot cannot read is, for the "can't read … yet" reply. teloxide leaves media it cannot decode
/// fully as an empty message; that still deserves an answer, so the fallback is generic.
fn unsupported_kind(msg: &teloxide::types::Message) -> &'static str {
    if msg.sticker().is_some() {
        "stickers"
    } else if msg.video().is_some() || msg.animation().is_some() {
        "videos and animations"
    } else {
        "this kind of message"
    }
}

/// A user's first and last name.
pub(super) fn display_name(user: &TgUser) -> String {
    match &user.last_name {
        Some(last) => format!("{} {last}", user.first_name),
        None => user.first_name.clone(),
    }
}

mod media;

#[cfg(test)]
mod proptests;

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
            (ChatId(5), "Ada L")
        );
    }

    #[test]
    fn voice_becomes_a_clip_with_its_file_id_duration_and_size() {
        let voice = json!({"voice": {"file_id": "v", "file_unique_id": "u", "duration": 3, "file_size": 2048, "mime_type": "audio/ogg"}});

        let incoming = to_incoming(&message_update(voice)).unwrap();

        let clip = VoiceClip {
            file_id: "v".into(),
            duration_secs: 3,
            size: Some(2048),
        };
        assert_eq!(incoming.content, Content::Voice(clip));
    }

    #[test]
    fn video_note_without_a_size_becomes_a_clip_of_unknown_size() {
        let note = json!({"video_note": {"file_id": "n", "file_unique_id": "u", "length": 240, "duration": 5}});

        let incoming = to_incoming(&message_update(note)).unwrap();

        let clip = VoiceClip {
            file_id: "n".into(),
            duration_secs: 5,
            size: None,
        };
        assert_eq!(incoming.content, Content::Voice(clip));
    }

    #[test]
    fn a_user_id_beyond_i64_is_no_chat_instead_of_a_wrapped_negative_one() {
        let huge = u64::MAX;
        let raw = json!({"update_id": 3, "callback_query": {"id": "q", "chat_instance": "c",
            "data": "/help", "from": {"id": huge, "is_bot": false, "first_name": "Eve"}}});
        let update: Update = serde_json::from_str(&raw.to_string()).unwrap();
        assert_eq!(chat_of(&update), None);
        assert_eq!(to_incoming(&update), None);
    }

    #[test]
    fn photo_becomes_photos_with_every_size_caption_and_album() {
        let photo = json!({"photo": [{"file_id": "p", "file_unique_id": "u", "width": 90, "height": 90, "file_size": 900}],
            "caption": "what is this?", "media_group_id": "g1"});

        let incoming = to_incoming(&message_update(photo)).unwrap();

        let Content::Photos(photos) = incoming.content else {
            panic!("not photos: {:?}", incoming.content);
        };
        assert_eq!(photos.photos[0].sizes[0].file_id, "p");
        assert_eq!(photos.photos[0].sizes[0].size, Some(900));
        assert_eq!(photos.caption.as_deref(), Some("what is this?"));
        assert_eq!(photos.media_group.as_deref(), Some("g1"));
    }

    #[test]
    fn a_forwarded_text_names_its_origin() {
        let forward = json!({"text": "lunch at 1?", "forward_origin": {"type": "user", "date": 1_700_000_000,
            "sender_user": {"id": 8, "is_bot": false, "first_name": "Bob", "username": "bobby"}}});

        let incoming = to_incoming(&message_update(forward)).unwrap();

        assert_eq!(
            incoming.content,
            Content::Forwarded {
                origin: "Bob (@bobby)".into(),
                inner: Box::new(Content::Text("lunch at 1?".into())),
            }
        );
    }
}
