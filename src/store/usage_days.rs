//! Per-day sums of one user's `llm_usage` rows between day boundaries the caller computes in
//! the user's timezone (SQLite knows nothing of time zones), for the `/usage` chart.

use rusqlite::params;

use super::{Store, StoreError};
use crate::ids::UserId;

/// One day's tokens (input plus output) and cost.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DayUsage {
    /// Input plus output tokens.
    pub tokens: u64,
    /// Cost in USD.
    pub cost_usd: f64,
}

impl Store {
    /// Sums of `user_id`'s rows per day, where day `i` runs from `bounds[i]` (inclusive) to
    /// `bounds[i + 1]` (exclusive), unix seconds in increasing order: one result per day, zero
    /// for days without usage. Rows are read one at a time, so memory stays at one sum per day.
    pub async fn usage_per_day(
        &self,
        user_id: UserId,
        bounds: Vec<i64>,
    ) -> Result<Vec<DayUsage>, StoreError> {
        self.call(move |c| {
            let days = bounds.len().saturating_sub(1);
            let mut sums = vec![DayUsage::default(); days];
            let (Some(&first), Some(&end)) = (bounds.first(), bounds.last()) else {
                return Ok(sums);
            };
            let mut stmt = c.prepare(
                "SELECT created_at, input_tokens + output_tokens, cost_usd FROM llm_usage
                 WHERE user_id = ?1 AND created_at >= ?2 AND created_at < ?3",
            )?;
            let mut rows = stmt.query(params![user_id, first, end])?;
            while let Some(r) = rows.next()? {
                let at: i64 = r.get(0)?;
                // The last boundary at or before `at` names its day.
                let day = bounds.partition_point(|&b| b <= at).saturating_sub(1);
                if let Some(sum) = sums.get_mut(day) {
                    sum.tokens += super::llm_usage::to_u64(r.get(1)?);
                    sum.cost_usd += r.get::<_, f64>(2)?;
                }
            }
            Ok(sums)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::llm_usage::tests::{row, store_with_user};

    #[tokio::test]
    async fn each_row_counts_on_its_own_day_and_only_for_its_user() {
        let store = store_with_user().await;
        for r in [
            row(UserId(1), 9, None, 99),   // before the first day
            row(UserId(1), 10, None, 100), // day 0, on its first second
            row(UserId(1), 20, None, 199), // day 0, last second
            row(UserId(1), 40, None, 200), // day 1
            row(UserId(2), 70, None, 250), // another user's, on day 2
            row(UserId(1), 80, None, 300), // the end boundary: outside
        ] {
            store.record_llm_usage(r).await.unwrap();
        }
        let days = store
            .usage_per_day(UserId(1), vec![100, 200, 250, 300])
            .await
            .unwrap();
        let tokens: Vec<u64> = days.iter().map(|d| d.tokens).collect();
        // Each row counts its tokens twice (in and out) and costs $0.50.
        assert_eq!(tokens, vec![60, 80, 0]);
        assert!((days[0].cost_usd - 1.0).abs() < 1e-9);
        assert_eq!(days[2], DayUsage::default());
    }
}
