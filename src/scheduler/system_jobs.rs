//! System jobs: the daily cleanup at 03:00 in `TIMEZONE`, and keeping the per-user morning
//! briefing rows in step with the users, their timezones and their Gmail tokens.
//!
//! The briefing runs the `morning_briefing` tool (today's calendar and new Gmail) at
//! `MORNING_BRIEFING_TIME` in each active user's own timezone, for users with a Gmail token or a
//! calendar. It is a row in `schedules` (`system = 'briefing'`) so
//! it shares the loop, the missed-run policy and the outcome record with user schedules. When the
//! tool is not registered, or the briefing is switched off, no briefing rows exist.

use std::collections::HashMap;

use chrono::{DateTime, NaiveTime, TimeDelta, Timelike, Utc};

use crate::config::Config;
use crate::ids::UserId;
use crate::schedule_spec::CronError;
use crate::schedule_spec::next_run::next_run_after;
use crate::schedule_spec::{CronExpr, ScheduleSpec};
use crate::services::Services;
use crate::store::StoreError;
use crate::timezone::Timezone;
use crate::users::User;

/// The daily cleanup's cron expression, read in `TIMEZONE`.
pub const CLEANUP_CRON: &str = "0 3 * * *";
/// The tool the morning briefing runs (looked up by its function name).
pub const BRIEFING_TOOL: &str = "morning_briefing";

/// Why a system job failed.
#[derive(Debug, thiserror::Error)]
pub enum SystemJobError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A system cron expression could not be evaluated.
    #[error(transparent)]
    Cron(#[from] CronError),
}

/// The next daily cleanup strictly after `now`, at 03:00 in `tz`.
pub fn next_cleanup_after(tz: Timezone, now: DateTime<Utc>) -> DateTime<Utc> {
    match next_run_after(CLEANUP_CRON, tz, now) {
        Ok(Some(at)) => at,
        // A fixed daily time always has a next run; a day later is a safe fallback regardless.
        _ => now + TimeDelta::days(1),
    }
}

/// Runs the daily cleanup as of `now` and logs what it removed.
pub async fn run_cleanup(services: &Services, now: DateTime<Utc>) -> Result<(), SystemJobError> {
    let days = services.config.history_retention_days;
    let report = services.store.cleanup(now, days).await?;
    tracing::info!(?report, "daily cleanup done");
    Ok(())
}

/// Creates, updates or removes briefing rows so that exactly the active users with a Gmail token
/// or a calendar have one, at the configured time in their current timezone.
pub async fn sync_briefings(services: &Services, now: DateTime<Utc>) -> Result<(), SystemJobError> {
    let store = &services.store;
    let mut existing: HashMap<UserId, _> = store
        .briefing_schedules()
        .await?
        .into_iter()
        .map(|s| (s.user_id, s))
        .collect();
    let enabled = services.tools.get(BRIEFING_TOOL).is_some();
    if let (true, Some(time)) = (enabled, services.config.morning_briefing_time) {
        let cron = briefing_cron(time)?;
        let spec = ScheduleSpec::Cron(cron.clone());
        for user in store.active_users().await? {
            if !has_gmail_token(&services.config, &user).await
                && !services.calendar.has_account(&user).await
            {
                continue;
            }
            let tz = user.timezone;
            let current = existing.remove(&user.id);
            if current.is_some_and(|s| s.active && s.spec == spec && s.timezone == tz) {
                continue;
            }
            let next = next_run_after(cron.as_str(), tz, now)?;
            store
                .upsert_briefing(user.id, spec.clone(), tz, BRIEFING_TOOL, next)
                .await?;
            tracing::info!(user_id = %user.id, timezone = %tz, "morning briefing scheduled");
        }
    }
    for user_id in existing.into_keys() {
        store.delete_briefing(user_id).await?;
        tracing::info!(%user_id, "morning briefing removed");
    }
    Ok(())
}

/// `M H * * *` for a time of day.
fn briefing_cron(time: NaiveTime) -> Result<CronExpr, CronError> {
    CronExpr::parse(&format!("{} {} * * *", time.minute(), time.hour()))
}

/// Whether the user connected Gmail (`CREDENTIALS_DIR/gmail_<user_id>.json` exists).
async fn has_gmail_token(config: &Config, user: &User) -> bool {
    let path = config
        .gmail
        .credentials_dir
        .join(format!("gmail_{}.json", user.id));
    tokio::fs::try_exists(path).await.unwrap_or(false)
}
