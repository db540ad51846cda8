//! The daily AI allowance (`USER_DAILY_TOKEN_LIMIT`): one rule, kept here and checked by the
//! router before every model call of every caller (free text, `/email`, the morning briefing,
//! scheduled jobs), once per round of the tool loop. A caller only says whose allowance applies
//! by putting a [`Budget`] in its `ChatRequest`.
//!
//! "Today" is the calendar day in the user's timezone. Usage is read from `llm_usage`, which the
//! router writes after every attempt, so a loop that crosses the limit stops before its next call.
//! A call already made is finished, so a day can end at most one call's tokens over the limit.

use crate::timezone::Timezone;
use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use super::router_error::RouterError;
use crate::ids::UserId;
use crate::store::Store;

/// Whose allowance a request spends, and how large it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Tokens (input plus output) per local day; `None` is unlimited.
    daily_tokens: Option<u64>,
    /// The timezone whose midnight starts a new day.
    timezone: Timezone,
}

impl Budget {
    /// No limit at all (the owner, or `USER_DAILY_TOKEN_LIMIT=0`).
    pub fn unlimited() -> Self {
        Self {
            daily_tokens: None,
            timezone: Timezone::UTC,
        }
    }

    /// `limit` tokens per day in `timezone`; unlimited when `exempt` (the owner) or `limit` is 0.
    pub fn daily(limit: u64, exempt: bool, timezone: Timezone) -> Self {
        Self {
            daily_tokens: (limit > 0 && !exempt).then_some(limit),
            timezone,
        }
    }

    /// The daily limit, if there is one.
    pub fn limit(&self) -> Option<u64> {
        self.daily_tokens
    }

    /// The Unix second at which the local day containing `now` began.
    pub fn day_start(&self, now: DateTime<Utc>) -> i64 {
        let tz = self.timezone.tz();
        let midnight = now.with_timezone(&tz).date_naive().and_hms_opt(0, 0, 0);
        // Where midnight does not exist (a DST change at 00:00), the day starts at the first
        // valid local time after it; an hour later always is one.
        midnight
            .and_then(|m| {
                tz.from_local_datetime(&m).earliest().or_else(|| {
                    tz.from_local_datetime(&(m + TimeDelta::hours(1)))
                        .earliest()
                })
            })
            .map_or(now.timestamp() - 86_400, |t| t.timestamp())
    }

    /// Whether `user_id` may make another model call now: `Err(OverBudget)` once today's usage
    /// reached the limit. A usage read that fails refuses the call (logged here, once).
    pub(super) async fn check(&self, store: &Store, user_id: UserId) -> Result<(), RouterError> {
        let Some(limit) = self.daily_tokens else {
            return Ok(());
        };
        let since = self.day_start(Utc::now());
        match store.tokens_used_since(user_id, since).await {
            // Not logged here: the caller logs the refusal where it answers the user.
            Ok(used) if used >= limit => Err(RouterError::OverBudget),
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::error!(%user_id, error = %e, "cannot read today's AI usage");
                Err(RouterError::BudgetUnknown)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ChatId;
    use crate::store::llm_usage::LlmUsageRow;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn the_owner_and_a_zero_limit_are_unlimited() {
        let berlin = Timezone::new(chrono_tz::Europe::Berlin);
        assert_eq!(Budget::daily(1000, true, berlin).limit(), None);
        assert_eq!(Budget::daily(0, false, berlin).limit(), None);
        assert_eq!(Budget::daily(1000, false, berlin).limit(), Some(1000));
    }

    #[test]
    fn the_day_starts_at_local_midnight() {
        let budget = Budget::daily(1, false, Timezone::new(chrono_tz::Asia::Tokyo));
        // 01:30 in Tokyo on the 2nd is 16:30 UTC on the 1st; the day began at 15:00 UTC.
        let now = at("2026-03-01T16:30:00Z");
        assert_eq!(
            budget.day_start(now),
            at("2026-03-01T15:00:00Z").timestamp()
        );
    }

    #[test]
    fn a_missing_midnight_starts_the_day_an_hour_later() {
        // Santiago springs forward at 00:00 on 2026-09-06: that day has no midnight.
        let budget = Budget::daily(1, false, Timezone::new(chrono_tz::America::Santiago));
        let now = at("2026-09-06T15:00:00Z");
        assert_eq!(
            budget.day_start(now),
            at("2026-09-06T04:00:00Z").timestamp()
        );
    }

    #[tokio::test]
    async fn a_user_at_the_limit_is_refused_and_below_it_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let owner = store.ensure_owner(ChatId(1), "Olga", "UTC").await.unwrap();
        let row = LlmUsageRow {
            user_id: owner.id,
            speaker: None,
            provider: "claude".into(),
            model: "claude-haiku-4-5".into(),
            input_tokens: 60,
            output_tokens: 40,
            cost_usd: 0.0,
            latency_ms: 1,
            error: None,
            created_at: crate::store::now_unix(),
        };
        store.record_llm_usage(row).await.unwrap();
        let utc = Timezone::UTC;
        assert_eq!(
            Budget::daily(100, false, utc).check(&store, owner.id).await,
            Err(RouterError::OverBudget)
        );
        assert_eq!(
            Budget::daily(101, false, utc).check(&store, owner.id).await,
            Ok(())
        );
        assert_eq!(
            Budget::daily(100, true, utc).check(&store, owner.id).await,
            Ok(())
        );
    }
}
