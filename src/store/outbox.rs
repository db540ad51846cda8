//! The `outbox` table: every outgoing Telegram message (one row per chunk) is written before it
//! is sent and marked with Telegram's message_id after. After a crash only unsent rows go out,
//! so a reply is never sent twice and never lost. A row holds a chunk as the sender rendered
//! it for Telegram, with its [`ChunkFormat`]; replies themselves stay channel-neutral.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{Store, StoreError, now_unix};
use crate::ids::ChatId;
use crate::message::{Button, FileKind, OutgoingFile};

/// One message to send (a chunk of a reply), before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewChunk {
    /// Destination chat.
    pub chat_id: ChatId,
    /// Text of this chunk (≤ 4096 UTF-16 units).
    pub text: String,
    /// How Telegram reads the text.
    pub format: ChunkFormat,
    /// Inline buttons (only on a reply's last chunk).
    pub buttons: Vec<Vec<Button>>,
    /// Replace the stored text once Telegram accepted it (it holds a one-time secret).
    pub forget_text: bool,
    /// The message it answers (a reply in a group).
    pub reply_to_message_id: Option<i64>,
    /// The forum topic it goes to.
    pub message_thread_id: Option<i32>,
    /// Not a new message: finalise this (streamed) message by editing it to the text.
    pub edit_message_id: Option<i64>,
    /// A file sent with this chunk, the text as its caption.
    pub file: Option<OutgoingFile>,
}

/// A stored outgoing message.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    /// Row id.
    pub id: i64,
    /// The update it answers, if any.
    pub update_id: Option<i64>,
    /// Destination chat.
    pub chat_id: ChatId,
    /// Position within the update's replies.
    pub seq: i64,
    /// Text of this chunk.
    pub text: String,
    /// How Telegram reads the text.
    pub format: ChunkFormat,
    /// Inline buttons.
    pub buttons: Vec<Vec<Button>>,
    /// Telegram's message id once sent.
    pub message_id: Option<i64>,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    /// The message it answers (a reply in a group).
    pub reply_to_message_id: Option<i64>,
    /// The forum topic it goes to.
    pub message_thread_id: Option<i32>,
    /// Not a new message: finalise this (streamed) message by editing it to the text.
    pub edit_message_id: Option<i64>,
    /// The file to send with the text as caption; its bytes are kept only until it is sent.
    pub file: Option<OutgoingFile>,
}

/// How Telegram reads a stored chunk's text (its `parse_mode`), as the channel's sender rendered
/// it; stored in the `format` column as `plain` or `html`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChunkFormat {
    /// Sent as is, no `parse_mode`.
    Plain,
    /// Telegram's HTML subset (`parse_mode=HTML`).
    Html,
}

impl ChunkFormat {
    /// The stored name: `"plain"` or `"html"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChunkFormat::Plain => "plain",
            ChunkFormat::Html => "html",
        }
    }

    /// Reads a stored name; anything but `html` is sent as plain text, which always shows.
    pub fn parse(name: &str) -> Self {
        if name.trim().eq_ignore_ascii_case("html") {
            ChunkFormat::Html
        } else {
            ChunkFormat::Plain
        }
    }
}

/// What a sent chunk that held a one-time secret keeps instead of its text.
pub const FORGOTTEN_TEXT: &str = "(sent; removed because it held a one-time link)";

const COLUMNS: &str = "id, update_id, chat_id, seq, text, format, buttons, message_id, status, \
                       reply_to_message_id, message_thread_id, edit_message_id, \
                       file_name, file_kind, file_bytes";

/// The query of one row by id.
fn by_id() -> String {
    format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1")
}

fn row_from(r: &Row<'_>) -> rusqlite::Result<OutboxRow> {
    let format: String = r.get(5)?;
    let buttons: Option<String> = r.get(6)?;
    Ok(OutboxRow {
        id: r.get(0)?,
        update_id: r.get(1)?,
        chat_id: r.get(2)?,
        seq: r.get(3)?,
        text: r.get(4)?,
        format: ChunkFormat::parse(&format),
        buttons: buttons
            .and_then(|b| serde_json::from_str(&b).ok())
            .unwrap_or_default(),
        message_id: r.get(7)?,
        status: r.get(8)?,
        reply_to_message_id: r.get(9)?,
        message_thread_id: r.get(10)?,
        edit_message_id: r.get(11)?,
        file: file_from(r.get(12)?, r.get(13)?, r.get(14)?),
    })
}

/// The stored file, when the row has one whose bytes are still kept.
fn file_from(
    name: Option<String>,
    kind: Option<String>,
    bytes: Option<Vec<u8>>,
) -> Option<OutgoingFile> {
    Some(OutgoingFile {
        name: name?,
        kind: FileKind::parse(&kind?)?,
        bytes: bytes?,
    })
}

/// Inserts `chunks` (answering `update_id`, if any) in one transaction; returns the rows.
fn insert_chunks(
    c: &mut Connection,
    update_id: Option<i64>,
    chunks: Vec<NewChunk>,
) -> rusqlite::Result<Vec<OutboxRow>> {
    let tx = c.transaction()?;
    let now = now_unix();
    let mut ids = Vec::with_capacity(chunks.len());
    for (seq, chunk) in chunks.into_iter().enumerate() {
        let buttons = (!chunk.buttons.is_empty())
            .then(|| serde_json::to_string(&chunk.buttons).unwrap_or_default());
        let (file_name, file_kind, file_bytes) = match chunk.file {
            Some(f) => (Some(f.name), Some(f.kind.as_str()), Some(f.bytes)),
            None => (None, None, None),
        };
        tx.prepare_cached(
            "INSERT INTO outbox (update_id, chat_id, seq, text, format, buttons, created_at, forget_text,
                 reply_to_message_id, message_thread_id, edit_message_id,
                 file_name, file_kind, file_bytes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )?.execute(params![update_id, chunk.chat_id, seq as i64, chunk.text, chunk.format.as_str(), buttons, now, chunk.forget_text,
                chunk.reply_to_message_id, chunk.message_thread_id, chunk.edit_message_id,
                file_name, file_kind, file_bytes],
        )?;
        ids.push(tx.last_insert_rowid());
    }
    let rows = {
        let mut stmt = tx.prepare_cached(&by_id())?;
        ids.iter()
            .map(|id| stmt.query_row([id], row_from))
            .collect::<rusqlite::Result<Vec<_>>>()?
    };
    tx.commit()?;
    Ok(rows)
}

impl Store {
    /// Stores the chunks of an update's replies in one transaction and returns the rows.
    pub async fn queue_chunks(
        &self,
        update_id: Option<i64>,
        chunks: Vec<NewChunk>,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        self.call(move |c| insert_chunks(c, update_id, chunks))
            .await
    }

    /// Stores the chunks answering `update_id` that `chunks_for` makes from the messages
    /// already streamed for it in `chat_id` (in order; empty when none), in one trip to the
    /// database and one transaction; returns the rows.
    pub async fn queue_chunks_after_stream(
        &self,
        update_id: i64,
        chat_id: ChatId,
        chunks_for: impl FnOnce(&[i64]) -> Vec<NewChunk> + Send + 'static,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        self.call(move |c| {
            let streamed = super::stream_messages::stream_messages_of(c, update_id, chat_id)?;
            insert_chunks(c, Some(update_id), chunks_for(&streamed))
        })
        .await
    }

    /// Every outbox row of an update, in order (empty if it was never dispatched).
    pub async fn chunks_of_update(&self, update_id: i64) -> Result<Vec<OutboxRow>, StoreError> {
        self.call(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM outbox WHERE update_id = ?1 ORDER BY seq"
            ))?;
            let rows = stmt.query_map([update_id], row_from)?;
            rows.collect()
        })
        .await
    }

    /// Outbox rows by id, in the order given (rows that no longer exist are left out).
    pub async fn chunks_by_id(&self, ids: Vec<i64>) -> Result<Vec<OutboxRow>, StoreError> {
        self.call(move |c| {
            let mut stmt = c.prepare_cached(&by_id())?;
            let mut rows = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(row) = stmt.query_row([id], row_from).optional()? {
                    rows.push(row);
                }
            }
            Ok(rows)
        })
        .await
    }

    /// Unsent chunks that answer no update (scheduled messages, notices) left by a previous run,
    /// oldest first; update replies are resumed through the inbox instead.
    pub async fn unsent_chunks_without_update(&self) -> Result<Vec<OutboxRow>, StoreError> {
        self.call(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLUMNS} FROM outbox WHERE update_id IS NULL AND status = 'pending' ORDER BY id"
            ))?;
            let rows = stmt.query_map([], row_from)?;
            rows.collect()
        })
        .await
    }

    /// Notes that this process starts sending chunk `id`; returns how many processes started
    /// it before (more than zero: a crash cut an earlier try whose outcome is unknown).
    pub async fn note_send_attempt(&self, id: i64) -> Result<i64, StoreError> {
        self.call(move |c| {
            c.prepare_cached(
                "UPDATE outbox SET attempts = attempts + 1 WHERE id = ?1 RETURNING attempts - 1",
            )?
            .query_row([id], |r| r.get(0))
        })
        .await
    }

    /// Records a delivered chunk; a chunk holding a one-time secret keeps no copy of its text,
    /// and a file's bytes are dropped (Telegram has them; an export holds all of a user's data).
    pub async fn mark_chunk_sent(&self, id: i64, message_id: i64) -> Result<(), StoreError> {
        self.call(move |c| {
            c.prepare_cached(
                "UPDATE outbox SET status = 'sent', message_id = ?1, sent_at = ?2, error = NULL,
                     text = CASE WHEN forget_text THEN ?4 ELSE text END, file_bytes = NULL
                 WHERE id = ?3",
            )?
            .execute(params![message_id, now_unix(), id, FORGOTTEN_TEXT])?;
            Ok(())
        })
        .await
    }

    /// Records a chunk that cannot be delivered (e.g. the user blocked the bot).
    pub async fn mark_chunk_failed(&self, id: i64, error: &str) -> Result<(), StoreError> {
        let error = error.to_string();
        self.call(move |c| {
            c.execute(
                "UPDATE outbox SET status = 'failed', error = ?1, file_bytes = NULL WHERE id = ?2",
                params![error, id],
            )?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_formats_read_back_from_their_stored_names() {
        for format in [ChunkFormat::Plain, ChunkFormat::Html] {
            assert_eq!(ChunkFormat::parse(format.as_str()), format);
        }
        assert_eq!(ChunkFormat::parse(" HTML "), ChunkFormat::Html);
        assert_eq!(ChunkFormat::parse("markdown"), ChunkFormat::Plain);
    }
}
