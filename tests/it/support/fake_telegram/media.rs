//! Photos, documents and forwarded messages for tests to push, shaped as Telegram sends them:
//! a photo is several `PhotoSize`s of one picture, an album is several updates sharing a
//! `media_group_id`, a forwarded message carries `forward_origin`.

use serde_json::{Value, json};

use super::FakeTelegram;
use super::updates::{chat, human_user, unix_now};

/// One size of a photo: `(file_id, width and height in pixels, file_size)`.
pub type Size<'a> = (&'a str, u32, u64);

/// A photo message from user `chat_id` (message_id = update_id).
pub fn photo_update(
    update_id: i64,
    chat_id: i64,
    sizes: &[Size<'_>],
    caption: Option<&str>,
    media_group: Option<&str>,
) -> Value {
    let sizes: Vec<Value> = sizes
        .iter()
        .map(|(id, side, bytes)| {
            json!({"file_id": id, "file_unique_id": format!("u{id}"), "width": side,
                   "height": side, "file_size": bytes})
        })
        .collect();
    let mut message = json!({
        "message_id": update_id,
        "from": human_user(chat_id),
        "chat": chat(chat_id),
        "date": unix_now(),
        "photo": sizes,
    });
    if let Some(caption) = caption {
        message["caption"] = json!(caption);
    }
    if let Some(group) = media_group {
        message["media_group_id"] = json!(group);
    }
    json!({"update_id": update_id, "message": message})
}

/// A document message from user `chat_id` (message_id = update_id).
pub fn document_update(
    update_id: i64,
    chat_id: i64,
    file_id: &str,
    (name, mime, size): (&str, &str, u64),
    caption: Option<&str>,
) -> Value {
    let mut message = json!({
        "message_id": update_id,
        "from": human_user(chat_id),
        "chat": chat(chat_id),
        "date": unix_now(),
        "document": {"file_id": file_id, "file_unique_id": format!("u{file_id}"),
                     "file_name": name, "mime_type": mime, "file_size": size},
    });
    if let Some(caption) = caption {
        message["caption"] = json!(caption);
    }
    json!({"update_id": update_id, "message": message})
}

/// `update` as forwarded from the user `first_name` (id 4242, @`username`).
pub fn forwarded_from_user(mut update: Value, first_name: &str, username: &str) -> Value {
    update["message"]["forward_origin"] = json!({
        "type": "user",
        "date": unix_now() - 3600,
        "sender_user": {"id": 4242, "is_bot": false, "first_name": first_name,
                        "username": username},
    });
    update
}

impl FakeTelegram {
    /// Pushes a photo (the sizes of one picture) from `chat_id`; returns the update id.
    pub fn push_photo(&self, chat_id: i64, sizes: &[Size<'_>], caption: Option<&str>) -> i64 {
        let id = self.next_update_id();
        self.push_update(photo_update(id, chat_id, sizes, caption, None));
        id
    }

    /// Pushes an album: one update per photo, sharing `group`; the caption goes on the first,
    /// as Telegram does. Returns the update ids.
    pub fn push_album(
        &self,
        chat_id: i64,
        group: &str,
        photos: &[Size<'_>],
        caption: &str,
    ) -> Vec<i64> {
        let mut ids = Vec::new();
        for (i, size) in photos.iter().enumerate() {
            let id = self.next_update_id();
            let caption = (i == 0).then_some(caption);
            self.push_update(photo_update(id, chat_id, &[*size], caption, Some(group)));
            ids.push(id);
        }
        ids
    }

    /// Pushes a document `(name, mime, size)` from `chat_id`; returns the update id.
    pub fn push_document(
        &self,
        chat_id: i64,
        file_id: &str,
        file: (&str, &str, u64),
        caption: Option<&str>,
    ) -> i64 {
        let id = self.next_update_id();
        self.push_update(document_update(id, chat_id, file_id, file, caption));
        id
    }
}
