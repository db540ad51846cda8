//! What a message in a group or supergroup says about where it was said and whom it
//! addresses ([`GroupMessage`]): mentions, text mentions, the author of the message it replies
//! to, its forum topic. `None` for private chats.

use teloxide::types::{Message, MessageEntityKind, UserId};

use crate::message::GroupMessage;

/// Longest list of mentions kept from one message (a hostile message may hold thousands).
const MAX_MENTIONS: usize = 50;

/// The group facts of a message, or `None` outside groups.
pub fn of_message(msg: &Message) -> Option<GroupMessage> {
    if !(msg.chat.is_group() || msg.chat.is_supergroup()) {
        return None;
    }
    let entities = msg
        .parse_entities()
        .or_else(|| msg.parse_caption_entities())
        .unwrap_or_default();
    let mut group = base(msg);
    for entity in entities.iter().take(MAX_MENTIONS) {
        match entity.kind() {
            MessageEntityKind::Mention => {
                let name = entity.text().trim_start_matches('@').to_ascii_lowercase();
                group.mentions.push(name);
            }
            MessageEntityKind::TextMention { user } => {
                group.text_mentions.extend(user_id(user.id));
            }
            _ => {}
        }
    }
    group.sender_id = msg.from.as_ref().and_then(|u| user_id(u.id));
    group.reply_to_user = msg
        .reply_to_message()
        .and_then(|r| r.from.as_ref())
        .and_then(|u| user_id(u.id));
    Some(group)
}

/// The group facts of a button press on the bot's message `msg`, pressed by `from`.
pub fn of_button(msg: &Message, from: UserId) -> Option<GroupMessage> {
    if !(msg.chat.is_group() || msg.chat.is_supergroup()) {
        return None;
    }
    Some(GroupMessage {
        sender_id: user_id(from),
        ..base(msg)
    })
}

fn base(msg: &Message) -> GroupMessage {
    GroupMessage {
        title: msg.chat.title().unwrap_or("a group").to_string(),
        message_id: i64::from(msg.id.0),
        // Outside forums a thread id names a reply thread, which is no place to send to.
        thread_id: msg
            .is_topic_message
            .then_some(msg.thread_id)
            .flatten()
            .map(|t| t.0.0),
        ..GroupMessage::default()
    }
}

fn user_id(id: UserId) -> Option<i64> {
    i64::try_from(id.0).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn group_msg(extra: serde_json::Value) -> Message {
        let mut message = json!({
            "message_id": 9, "date": 1_700_000_000,
            "chat": {"id": -1005, "type": "supergroup", "title": "Family", "is_forum": true},
            "from": {"id": 5, "is_bot": false, "first_name": "Ada"}
        });
        message
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        serde_json::from_str(&message.to_string()).unwrap()
    }

    #[test]
    fn mentions_text_mentions_replies_and_the_topic_are_read() {
        let msg = group_msg(json!({
            "text": "hey @Mini_Bot and Bob, see this",
            "entities": [
                {"type": "mention", "offset": 4, "length": 9},
                {"type": "text_mention", "offset": 18, "length": 3,
                 "user": {"id": 66, "is_bot": false, "first_name": "Bob"}}
            ],
            "message_thread_id": 3, "is_topic_message": true,
            "reply_to_message": {"message_id": 2, "date": 1_700_000_000,
                "chat": {"id": -1005, "type": "supergroup", "title": "Family"},
                "from": {"id": 99, "is_bot": true, "first_name": "Mini"}, "text": "hi"}
        }));
        let g = of_message(&msg).unwrap();
        assert_eq!(g.mentions, vec!["mini_bot".to_string()]);
        assert_eq!(g.text_mentions, vec![66]);
        assert_eq!(
            (g.reply_to_user, g.thread_id, g.sender_id),
            (Some(99), Some(3), Some(5))
        );
        assert_eq!((g.title.as_str(), g.message_id), ("Family", 9));
    }

    #[test]
    fn a_private_message_has_no_group_facts() {
        let msg: Message = serde_json::from_str(
            &json!({
                "message_id": 1, "date": 1_700_000_000, "text": "hi",
                "chat": {"id": 5, "type": "private", "first_name": "Ada"},
                "from": {"id": 5, "is_bot": false, "first_name": "Ada"}
            })
            .to_string(),
        )
        .unwrap();
        assert_eq!(of_message(&msg), None);
    }
}
