//! The final text of a streamed group answer, as outbox rows: the first parts of the answer
//! finalise the messages the stream created (rows with `edit_message_id`), the rest are new
//! messages. Queued in one transaction with the update's other replies, so a crash before or
//! after the final edits is completed by the outbox, never by a second copy of the answer.

use super::send::to_chunks;
use crate::message::Reply;
use crate::store::{NewChunk, Store, StoreError};

/// What a streamed message the final answer no longer needs shows (a retry wrote less).
pub const UNUSED_PART: &str = "…";

/// The outbox chunks of `replies` answering `update_id`: the first reply to the chat a stream
/// wrote in finalises the streamed messages (see the module docs).
pub async fn chunks_finalising(
    store: &Store,
    update_id: i64,
    replies: Vec<Reply>,
) -> Result<Vec<NewChunk>, StoreError> {
    let Some(chat_id) = replies.first().map(|r| r.chat_id) else {
        return Ok(Vec::new());
    };
    let ids = store.stream_messages_of(update_id, chat_id).await?;
    if ids.is_empty() {
        return Ok(to_chunks(replies));
    }
    let mut chunks = Vec::new();
    let mut replies = replies.into_iter();
    if let Some(first) = replies.next() {
        chunks.extend(finalising(to_chunks(vec![first]), &ids));
    }
    chunks.extend(to_chunks(replies.collect()));
    Ok(chunks)
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
