//! The daily cleanup: deletes rows past their retention in one transaction, then lets SQLite
//! refresh its query statistics (`PRAGMA optimize`).

use chrono::{DateTime, TimeDelta, Utc};
use rusqlite::params;

use super::{Store, StoreError};

/// How long tool logs and processed-email markers are kept.
pub const LOG_RETENTION: TimeDelta = TimeDelta::days(90);
/// How long finished inbox rows (and the replies sent for them) are kept.
pub const INBOX_RETENTION: TimeDelta = TimeDelta::days(7);

/// What the cleanup removed, per table (for the log line).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CleanupReport {
    /// `chat_history` turns.
    pub history: usize,
    /// `tool_logs` rows.
    pub tool_logs: usize,
    /// `processed_emails` rows.
    pub processed_emails: usize,
    /// Finished `inbox` rows.
    pub inbox: usize,
    /// `outbox` rows of those updates, and delivered scheduled messages as old.
    pub outbox: usize,
    /// `pending_actions` (confirm buttons) that expired as long ago.
    pub pending_actions: usize,
    /// `update_journal` steps as old as finished inbox rows.
    pub journal: usize,
}

impl Store {
    /// Deletes, as of `now`: chat history older than `history_days` (the recall index, `memory_fts`,
    /// follows by its triggers), tool logs and processed
    /// emails older than [`LOG_RETENTION`], finished (`done`, `skipped`, `failed`) inbox rows older
    /// than [`INBOX_RETENTION`] with their outbox rows, and finished outbox rows of scheduled
    /// messages (no update) as old, and confirm buttons that expired as long ago. Pending inbox
    /// and outbox rows are never touched.
    pub async fn cleanup(
        &self,
        now: DateTime<Utc>,
        history_days: u32,
    ) -> Result<CleanupReport, StoreError> {
        // A retention longer than the calendar can hold keeps everything (no overflow panic).
        let history_before = now
            .checked_sub_signed(TimeDelta::days(i64::from(history_days)))
            .map_or(i64::MIN, |t| t.timestamp());
        let logs_before = (now - LOG_RETENTION).timestamp();
        let inbox_before = (now - INBOX_RETENTION).timestamp();
        let report = self
            .call(move |c| {
                let tx = c.transaction()?;
                let finished_inbox = "SELECT update_id FROM inbox WHERE received_at < ?1
                     AND status IN ('done', 'skipped', 'failed')";
                let report = CleanupReport {
                    history: tx.execute(
                        "DELETE FROM chat_history WHERE created_at < ?1",
                        [history_before],
                    )?,
                    tool_logs: tx
                        .execute("DELETE FROM tool_logs WHERE created_at < ?1", [logs_before])?,
                    processed_emails: tx.execute(
                        "DELETE FROM processed_emails WHERE processed_at < ?1",
                        [logs_before],
                    )?,
                    outbox: tx.execute(
                        &format!(
                            "DELETE FROM outbox WHERE update_id IN ({finished_inbox})
                             OR (update_id IS NULL AND status != 'pending' AND created_at < ?1)"
                        ),
                        params![inbox_before],
                    )?,
                    inbox: tx.execute(
                        &format!("DELETE FROM inbox WHERE update_id IN ({finished_inbox})"),
                        params![inbox_before],
                    )?,
                    pending_actions: tx.execute(
                        "DELETE FROM pending_actions WHERE expires_at < ?1",
                        [inbox_before],
                    )?,
                    journal: tx.execute(
                        "DELETE FROM update_journal WHERE created_at < ?1",
                        [inbox_before],
                    )?,
                };
                // Streamed group messages live as long as the journal of their update.
                tx.execute(
                    "DELETE FROM stream_messages WHERE created_at < ?1",
                    [inbox_before],
                )?;
                tx.commit()?;
                c.execute_batch("PRAGMA optimize")?;
                Ok(report)
            })
            .await?;
        Ok(report)
    }
}
