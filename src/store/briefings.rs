//! The morning briefing rows of the `schedules` table (`system = 'briefing'`, one per user),
//! kept in step with the users by `scheduler::system_jobs::sync_briefings`.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::schedules::{COLUMNS, schedule_from_row};
use super::{Schedule, Store, StoreError, now_unix};
use crate::ids::UserId;
use crate::schedule_spec::ScheduleSpec;
use crate::timezone::Timezone;

/// The `system` value of the morning briefing rows.
pub const BRIEFING: &str = "briefing";

impl Store {
    /// Every morning briefing row.
    pub async fn briefing_schedules(&self) -> Result<Vec<Schedule>, StoreError> {
        self.call(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLUMNS} FROM schedules WHERE system = '{BRIEFING}'"
            ))?;
            let rows = stmt.query_map([], schedule_from_row)?;
            rows.collect()
        })
        .await
    }

    /// Creates or updates a user's morning briefing (running `tool`) and makes it active.
    pub async fn upsert_briefing(
        &self,
        user_id: UserId,
        spec: ScheduleSpec,
        tz: Timezone,
        tool: &str,
        next_run_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let tool = tool.to_string();
        self.call(move |c| {
            c.execute(
                "INSERT INTO schedules (user_id, kind, expression, timezone, tool, arguments,
                     system, next_run_at, active, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, '', ?6, ?7, ?8, ?9)
                 ON CONFLICT(user_id, system) WHERE system IS NOT NULL DO UPDATE SET
                     kind = ?2, expression = ?3, timezone = ?4, tool = ?5, next_run_at = ?7,
                     active = ?8",
                params![
                    user_id,
                    spec.kind().as_str(),
                    spec.expression(),
                    tz.name(),
                    tool,
                    BRIEFING,
                    next_run_at.map(|t| t.timestamp()),
                    next_run_at.is_some(),
                    now_unix()
                ],
            )?;
            Ok(())
        })
        .await
        .inspect(|_| self.wake_scheduler())
    }

    /// Removes a user's morning briefing (no Gmail token any more, user disabled, feature off).
    pub async fn delete_briefing(&self, user_id: UserId) -> Result<(), StoreError> {
        self.call(move |c| {
            c.execute(
                "DELETE FROM schedules WHERE user_id = ?1 AND system = ?2",
                params![user_id, BRIEFING],
            )?;
            Ok(())
        })
        .await
        .inspect(|_| self.wake_scheduler())
    }
}
