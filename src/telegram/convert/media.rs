//! Photos, documents and forwarded messages of a Telegram `Message` → [`Content`].

use teloxide::types::{Chat, Message, MessageOrigin};

use crate::media::{DocumentFile, Photo, PhotoSize, Photos};
use crate::message::Content;

/// A photo or a document, with its caption; `None` for other messages.
pub fn content(msg: &Message) -> Option<Content> {
    let caption = msg.caption().map(str::to_string);
    if let Some(sizes) = msg.photo() {
        let sizes = sizes
            .iter()
            .map(|s| PhotoSize {
                file_id: s.file.id.0.clone(),
                width: s.width,
                height: s.height,
                size: known_size(s.file.size),
            })
            .collect();
        return Some(Content::Photos(Photos {
            photos: vec![Photo { sizes }],
            caption,
            media_group: msg.media_group_id().map(|g| g.0.clone()),
        }));
    }
    let doc = msg.document()?;
    Some(Content::Document(DocumentFile {
        file_id: doc.file.id.0.clone(),
        name: doc.file_name.clone(),
        mime: doc.mime_type.as_ref().map(|m| m.essence_str().to_string()),
        size: known_size(doc.file.size),
        caption,
    }))
}

/// teloxide fills a missing size with `u32::MAX`; 0 is not a real size either.
fn known_size(size: u32) -> Option<u64> {
    (size != 0 && size != u32::MAX).then_some(u64::from(size))
}

/// `content` wrapped as forwarded when `msg` was forwarded, naming where it came from.
pub fn forwarded(msg: &Message, content: Content) -> Content {
    match msg.forward_origin() {
        Some(origin) => Content::Forwarded {
            origin: origin_name(origin),
            inner: Box::new(content),
        },
        None => content,
    }
}

/// Who a forwarded message came from, in words.
fn origin_name(origin: &MessageOrigin) -> String {
    match origin {
        MessageOrigin::User { sender_user, .. } => {
            let mut name = sender_user.first_name.clone();
            if let Some(last) = &sender_user.last_name {
                name.push(' ');
                name.push_str(last);
            }
            if let Some(username) = &sender_user.username {
                name.push_str(&format!(" (@{username})"));
            }
            name
        }
        MessageOrigin::HiddenUser {
            sender_user_name, ..
        } => sender_user_name.clone(),
        MessageOrigin::Chat {
            sender_chat,
            author_signature,
            ..
        } => signed(
            &format!("the chat {}", chat_name(sender_chat)),
            author_signature,
        ),
        MessageOrigin::Channel {
            chat,
            author_signature,
            ..
        } => signed(
            &format!("the channel {}", chat_name(chat)),
            author_signature,
        ),
    }
}

fn signed(name: &str, signature: &Option<String>) -> String {
    match signature {
        Some(author) => format!("{name} (signed {author})"),
        None => name.to_string(),
    }
}

fn chat_name(chat: &Chat) -> String {
    chat.title()
        .map(str::to_string)
        .or_else(|| chat.username().map(|u| format!("@{u}")))
        .unwrap_or_else(|| "without a name".to_string())
}
