//! The `inbox` table: every Telegram update is stored here before it is acknowledged, so nothing
//! is lost, and its `update_id` key makes a repeated delivery a no-op.

use rusqlite::params;

use super::{Store, StoreError, now_unix};
use crate::ids::ChatId;

/// A stored update that has not been handled yet.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingUpdate {
    /// Telegram's update id.
    pub update_id: i64,
    /// The chat it belongs to, as stored at intake (`None` for updates without one).
    pub chat_id: Option<ChatId>,
    /// The raw Update JSON as Telegram sent it.
    pub payload: String,
}

/// Final state of an inbox row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxOutcome {
    /// Handled; any replies were delivered.
    Done,
    /// Not a kind of update the bot handles (or unparseable); acknowledged and ignored.
    Skipped,
    /// Handling failed for good (the user blocked the bot, or handling panicked); never replayed.
    Failed,
}

impl InboxOutcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Skipped => "skipped",
            Self::Failed => "failed",
        }
    }
}

impl Store {
    /// Stores an update; returns `false` when this update_id was already stored (a redelivery).
    pub async fn insert_update(
        &self,
        update_id: i64,
        chat_id: Option<ChatId>,
        payload: String,
    ) -> Result<bool, StoreError> {
        self.call(move |c| {
            // The caller acknowledges the update to Telegram next: it must survive a power loss,
            // not only a crash, so this one commit waits for the disk (the rest stay NORMAL).
            c.pragma_update(None, "synchronous", "FULL")?;
            let inserted = c.execute(
                "INSERT INTO inbox (update_id, chat_id, payload, received_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(update_id) DO NOTHING",
                params![update_id, chat_id, payload, now_unix()],
            );
            c.pragma_update(None, "synchronous", "NORMAL")?;
            Ok(inserted? == 1)
        })
        .await
    }

    /// Updates not yet handled, oldest first (replayed at start-up). Done, skipped and failed
    /// rows are final and never come back here.
    pub async fn pending_updates(&self) -> Result<Vec<PendingUpdate>, StoreError> {
        self.call(|c| {
            let mut stmt = c.prepare(
                "SELECT update_id, chat_id, payload FROM inbox WHERE status = 'pending' ORDER BY update_id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(PendingUpdate {
                    update_id: r.get(0)?,
                    chat_id: r.get(1)?,
                    payload: r.get(2)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    /// Records how an update ended. If its chat was forgotten (`/forget`) while it was being
    /// handled, what is left of the chat's finished updates goes now (`user_data`).
    pub async fn finish_update(
        &self,
        update_id: i64,
        outcome: InboxOutcome,
        error: Option<String>,
    ) -> Result<(), StoreError> {
        self.call(move |c| {
            c.execute(
                "UPDATE inbox SET status = ?1, error = ?2, handled_at = ?3 WHERE update_id = ?4",
                params![outcome.as_str(), error, now_unix(), update_id],
            )?;
            super::user_data::purge_forgotten_chat(c, update_id)
        })
        .await
    }

    /// The highest update_id stored, so polling can resume after it.
    pub async fn last_update_id(&self) -> Result<Option<i64>, StoreError> {
        self.call(|c| c.query_row("SELECT MAX(update_id) FROM inbox", [], |r| r.get(0)))
            .await
    }

    /// How many updates wait to be handled.
    pub async fn inbox_backlog(&self) -> Result<i64, StoreError> {
        self.call(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM inbox WHERE status = 'pending'",
                [],
                |r| r.get(0),
            )
        })
        .await
    }
}

impl Store {
    /// Replaces the text of stored update `update_id` (a message that held a one-time secret),
    /// keeping the update decodable.
    pub async fn replace_update_text(&self, update_id: i64, text: &str) -> Result<(), StoreError> {
        let text = text.to_string();
        self.call(move |c| {
            c.execute(
                "UPDATE inbox SET payload = json_set(payload, '$.message.text', ?1)
                 WHERE update_id = ?2 AND json_extract(payload, '$.message.text') IS NOT NULL",
                params![text, update_id],
            )?;
            Ok(())
        })
        .await
    }
}
