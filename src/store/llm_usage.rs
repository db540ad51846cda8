//! `llm_usage`: one row per LLM call attempt, and the sums `/usage` and the daily token limit
//! read from it.

use rusqlite::params;

use super::{Store, StoreError};
use crate::ids::UserId;

/// One LLM call attempt to record.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmUsageRow {
    /// The user the call was made for (a group's account for a group's calls).
    pub user_id: UserId,
    /// In a group, the member whose message it answered.
    pub speaker: Option<String>,
    /// Provider name (`claude`, `gemini`, `openai`).
    pub provider: String,
    /// Model id asked for.
    pub model: String,
    /// Prompt tokens (0 when the call failed).
    pub input_tokens: u64,
    /// Generated tokens (0 when the call failed).
    pub output_tokens: u64,
    /// Cost in USD from the price table.
    pub cost_usd: f64,
    /// Wall time of the attempt.
    pub latency_ms: u64,
    /// `None` on success, else the error kind (`LlmError::kind()`).
    pub error: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
}

/// Totals per provider and model.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageSummary {
    /// Provider name.
    pub provider: String,
    /// Model id.
    pub model: String,
    /// Attempts, failed ones included.
    pub calls: u64,
    /// Failed attempts.
    pub failed: u64,
    /// Sum of prompt tokens.
    pub input_tokens: u64,
    /// Sum of generated tokens.
    pub output_tokens: u64,
    /// Sum of cost in USD.
    pub cost_usd: f64,
}

impl Store {
    /// Appends one attempt.
    pub async fn record_llm_usage(&self, row: LlmUsageRow) -> Result<(), StoreError> {
        self.call(move |c| insert_usage(c, &row)).await
    }

    /// Records a successful round's usage row and its journal entry in one transaction, so a
    /// replayed update never asks (and bills) the same round twice.
    pub async fn record_llm_round(
        &self,
        row: LlmUsageRow,
        update_id: i64,
        step: String,
        value: String,
    ) -> Result<(), StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            insert_usage(&tx, &row)?;
            super::journal::put(&tx, update_id, &step, &value)?;
            tx.commit()
        })
        .await
    }

    /// Totals per provider and model since `since_unix`, for one user or (`None`) everyone.
    pub async fn usage_summary(
        &self,
        user_id: Option<UserId>,
        since_unix: i64,
    ) -> Result<Vec<UsageSummary>, StoreError> {
        self.call(move |c| {
            let mut stmt = c.prepare(
                "SELECT provider, model, COUNT(*), SUM(status = 'error'),
                        SUM(input_tokens), SUM(output_tokens), SUM(cost_usd)
                 FROM llm_usage
                 WHERE created_at >= ?1 AND (?2 IS NULL OR user_id = ?2)
                 GROUP BY provider, model
                 ORDER BY SUM(cost_usd) DESC, provider, model",
            )?;
            let rows = stmt.query_map(params![since_unix, user_id], |r| {
                Ok(UsageSummary {
                    provider: r.get(0)?,
                    model: r.get(1)?,
                    calls: to_u64(r.get(2)?),
                    failed: to_u64(r.get(3)?),
                    input_tokens: to_u64(r.get(4)?),
                    output_tokens: to_u64(r.get(5)?),
                    cost_usd: r.get(6)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    /// Input plus output tokens `user_id` spent since `since_unix` (for the daily limit).
    pub async fn tokens_used_since(
        &self,
        user_id: UserId,
        since_unix: i64,
    ) -> Result<u64, StoreError> {
        self.call(move |c| {
            c.query_row(
                "SELECT COALESCE(SUM(input_tokens + output_tokens), 0)
                 FROM llm_usage WHERE user_id = ?1 AND created_at >= ?2",
                params![user_id, since_unix],
                |r| r.get::<_, i64>(0),
            )
        })
        .await
        .map(to_u64)
    }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A count or sum read from SQLite (never negative; a negative reads as 0).
pub(super) fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Inserts one `llm_usage` row.
fn insert_usage(c: &rusqlite::Connection, row: &LlmUsageRow) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO llm_usage (user_id, provider, model, input_tokens, output_tokens,
             cost_usd, latency_ms, status, error, created_at, speaker)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        row.user_id,
        row.provider,
        row.model,
        to_i64(row.input_tokens),
        to_i64(row.output_tokens),
        row.cost_usd,
        to_i64(row.latency_ms),
        if row.error.is_none() { "ok" } else { "error" },
        row.error,
        row.created_at,
        row.speaker,
    ])
    .map(drop)
}

/// Test fixtures shared with the other usage queries' tests (`usage_days`).
#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A store with users 1 (the owner, Ada) and 2 (Bob).
    pub(in crate::store) async fn store_with_user() -> Store {
        let store = Store::open_in_memory().unwrap();
        store
            .call(|c| {
                c.execute(
                    "INSERT INTO users (id, chat_id, display_name, status, created_at, updated_at)
                     VALUES (1, 10, 'Ada', 'owner', 0, 0), (2, 20, 'Bob', 'active', 0, 0)",
                    [],
                )
            })
            .await
            .unwrap();
        store
    }

    /// A usage row of `tokens` in and `tokens` out, costing $0.50, made at `at`.
    pub(in crate::store) fn row(
        user_id: UserId,
        tokens: u64,
        error: Option<&str>,
        at: i64,
    ) -> LlmUsageRow {
        LlmUsageRow {
            user_id,
            speaker: None,
            provider: "claude".into(),
            model: "claude-haiku-4-5".into(),
            input_tokens: tokens,
            output_tokens: tokens,
            cost_usd: 0.5,
            latency_ms: 12,
            error: error.map(String::from),
            created_at: at,
        }
    }

    #[tokio::test]
    async fn summary_and_token_sums_filter_by_user_and_time() {
        let store = store_with_user().await;
        for r in [
            row(UserId(1), 10, None, 100),
            row(UserId(1), 0, Some("timeout"), 100),
            row(UserId(1), 50, None, 10),
            row(UserId(2), 7, None, 100),
        ] {
            store.record_llm_usage(r).await.unwrap();
        }
        assert_eq!(store.tokens_used_since(UserId(1), 50).await.unwrap(), 20);
        let mine = store.usage_summary(Some(UserId(1)), 50).await.unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!((mine[0].calls, mine[0].failed), (2, 1));
        assert_eq!(mine[0].input_tokens, 10);
        let all = store.usage_summary(None, 50).await.unwrap();
        assert_eq!(all[0].calls, 3);
        assert!((all[0].cost_usd - 1.5).abs() < 1e-9);
    }
}
