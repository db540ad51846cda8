//! The `stream_messages` table: the messages a streamed group answer created, by the update it
//! answers, recorded as soon as Telegram gave their ids. A replay of the update after a crash
//! edits them again instead of creating new ones, and the final text is stored in the outbox as
//! edits of them (the channel's group previews).

use rusqlite::{Connection, params};

use super::{Store, StoreError, now_unix};
use crate::ids::ChatId;

impl Store {
    /// Records message `message_id` in `chat_id` as part `seq` of the streamed answer to
    /// `update_id` (recording the same part again keeps the first id).
    pub async fn record_stream_message(
        &self,
        update_id: i64,
        seq: usize,
        chat_id: ChatId,
        message_id: i64,
    ) -> Result<(), StoreError> {
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        self.call(move |c| {
            c.execute(
                "INSERT OR IGNORE INTO stream_messages (update_id, seq, chat_id, message_id, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![update_id, seq, chat_id, message_id, now_unix()],
            )?;
            Ok(())
        })
        .await
    }

    /// The messages streamed in `chat_id` for `update_id`, in order (empty when none).
    pub async fn stream_messages_of(
        &self,
        update_id: i64,
        chat_id: ChatId,
    ) -> Result<Vec<i64>, StoreError> {
        self.call(move |c| stream_messages_of(c, update_id, chat_id))
            .await
    }
}

/// The messages streamed in `chat_id` for `update_id`, in order.
pub(super) fn stream_messages_of(
    c: &Connection,
    update_id: i64,
    chat_id: ChatId,
) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = c.prepare_cached(
        "SELECT message_id FROM stream_messages WHERE update_id = ?1 AND chat_id = ?2
         ORDER BY seq",
    )?;
    let rows = stmt.query_map(params![update_id, chat_id], |r| r.get(0))?;
    rows.collect()
}
