//! The final text of a streamed group answer, as outbox rows: the first parts of the answer
//! finalise the messages the stream created (rows with `edit_message_id`), the rest are new
//! messages. Queued in one transaction with the update's other replies, so a crash before or
//! after the final edits is completed by the outbox, never by a second copy of the answer.

use super::send::to_chunks;
use crate::message::Reply;
use crate::store::{NewChunk, OutboxRow, Store, StoreError};

/// What a streamed message the final answer no longer needs shows (a retry wrote less).
pub const UNUSED_PART: &str = "…";

/// Stores `replies` answering `update_id` in the outbox: the first reply to the chat a stream
/// wrote in finalises the streamed messages (see the module docs). The replies are rendered
/// here; the streamed messages are read in the same trip to the database as the insert.
pub async fn queue_finalising(
    store: &Store,
    update_id: i64,
    replies: Vec<Reply>,
) -> Result<Vec<OutboxRow>, StoreError> {
    let Some(chat_id) = replies.first().map(|r| r.chat_id) else {
        return store.queue_chunks(Some(update_id), Vec::new()).await;
    };
    let mut replies = replies.into_iter();
    let first = replies
        .next()
        .map(|first| to_chunks(vec![first]))
        .unwrap_or_default();
    let rest = to_chunks(replies.collect());
    store
        .queue_chunks_after_stream(update_id, chat_id, move |streamed| {
            let mut chunks = if streamed.is_empty() {
                first
            } else {
                finalising(first, streamed)
            };
            chunks.extend(rest);
            chunks
        })
        .await
}

/// `parts` of one reply, the first ones editing the streamed messages `ids` in order; a streamed
/// message left over gets [`UNUSED_PART`].
fn finalising(mut parts: Vec<NewChunk>, ids: &[i64]) -> Vec<NewChunk> {
    for (part, &id) in parts.iter_mut().zip(ids) {
        part.edit_message_id = Some(id);
    }
    let Some(template) = parts.first().cloned() else {
        return parts;
    };
    for &id in ids.iter().skip(parts.len()) {
        parts.push(NewChunk {
            text: UNUSED_PART.to_string(),
            format: crate::telegram::format::ChunkFormat::Plain,
            buttons: Vec::new(),
            reply_to_message_id: None,
            edit_message_id: Some(id),
            ..template.clone()
        });
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ChatId;

    fn part(text: &str) -> NewChunk {
        to_chunks(vec![Reply::plain(ChatId(-5), text)]).remove(0)
    }

    #[test]
    fn streamed_messages_are_finalised_in_order_and_extra_parts_are_new_messages() {
        let parts = finalising(vec![part("a"), part("b"), part("c")], &[10, 11]);
        let edits: Vec<_> = parts.iter().map(|p| p.edit_message_id).collect();
        assert_eq!(edits, vec![Some(10), Some(11), None]);
        let fewer = finalising(vec![part("a")], &[10, 11]);
        assert_eq!(fewer.len(), 2);
        assert_eq!(fewer[1].edit_message_id, Some(11));
        assert_eq!(fewer[1].text, UNUSED_PART);
    }
}
