//! The `schedules` table: reminders, recurring tool runs and the per-user morning briefing, with
//! the next run (UTC), the last run and its outcome. Queries made for a user filter by `user_id`;
//! only the scheduler's own loop reads across users.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};

use super::{Store, StoreError, now_unix};
use crate::ids::UserId;
use crate::schedule_spec::ScheduleSpec;
use crate::timezone::{Timezone, parse_timezone};

/// What a schedule does when it fires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobAction {
    /// Send this text to the owner (a reminder).
    Text(String),
    /// Run a tool by its function name, with the text that would follow its `/command`.
    Tool {
        /// The tool's function name (`ToolRegistry::get`).
        name: String,
        /// The command arguments, parsed by the tool's `parse_command` at run time.
        args: String,
    },
}

/// Which of a user's schedules a command works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleCategory {
    /// `/remind`: schedules that send a text.
    Reminder,
    /// `/schedule`: schedules that run a tool.
    Tool,
}

impl ScheduleCategory {
    fn sql(self) -> &'static str {
        match self {
            Self::Reminder => "message IS NOT NULL",
            Self::Tool => "tool IS NOT NULL",
        }
    }
}

/// A stored schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Row id, shown to the user as `#id`.
    pub id: i64,
    /// The owner; the job runs under this user's identity and permissions.
    pub user_id: UserId,
    /// Cron expression or one-off instant.
    pub spec: ScheduleSpec,
    /// The timezone a cron expression is read in.
    pub timezone: Timezone,
    /// What to do.
    pub action: JobAction,
    /// `None` for a user's schedule, `Some("briefing")` for the morning briefing.
    pub system: Option<String>,
    /// When it runs next; `None` when finished.
    pub next_run_at: Option<DateTime<Utc>>,
    /// When it last ran.
    pub last_run_at: Option<DateTime<Utc>>,
    /// Inactive schedules never run.
    pub active: bool,
    /// The Telegram message_id the last run delivered.
    pub last_message_id: Option<i64>,
    /// Why the last run failed; cleared by a successful run.
    pub last_error: Option<String>,
}

/// A schedule to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSchedule {
    /// The owner.
    pub user_id: UserId,
    /// Cron expression or one-off instant.
    pub spec: ScheduleSpec,
    /// The timezone a cron expression is read in.
    pub timezone: Timezone,
    /// What to do.
    pub action: JobAction,
    /// The first run.
    pub next_run_at: DateTime<Utc>,
}

pub(super) const COLUMNS: &str = "id, user_id, kind, expression, timezone, tool, arguments, message, system, \
     next_run_at, last_run_at, active, last_message_id, last_error";

/// A Unix-seconds column as an instant.
pub(super) fn instant(secs: Option<i64>) -> Option<DateTime<Utc>> {
    secs.and_then(|s| DateTime::from_timestamp(s, 0))
}

fn bad_column(col: usize, msg: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(col, rusqlite::types::Type::Text, msg.into())
}

pub(super) fn schedule_from_row(r: &Row<'_>) -> rusqlite::Result<Schedule> {
    let (kind, expression): (String, String) = (r.get(2)?, r.get(3)?);
    let spec =
        ScheduleSpec::from_stored(&kind, &expression).map_err(|e| bad_column(3, e.to_string()))?;
    let tz: String = r.get(4)?;
    let timezone = parse_timezone(&tz).map_err(|e| bad_column(4, e.to_string()))?;
    let (tool, args, message): (Option<String>, Option<String>, Option<String>) =
        (r.get(5)?, r.get(6)?, r.get(7)?);
    let action = match (tool, message) {
        (Some(name), _) => JobAction::Tool {
            name,
            args: args.unwrap_or_default(),
        },
        (None, Some(text)) => JobAction::Text(text),
        // The table's CHECK constraint makes exactly one of them non-null.
        (None, None) => return Err(bad_column(5, "schedule without tool or message".into())),
    };
    Ok(Schedule {
        id: r.get(0)?,
        user_id: r.get(1)?,
        spec,
        timezone,
        action,
        system: r.get(8)?,
        next_run_at: instant(r.get(9)?),
        last_run_at: instant(r.get(10)?),
        active: r.get(11)?,
        last_message_id: r.get(12)?,
        last_error: r.get(13)?,
    })
}

impl Store {
    /// Stores a schedule made by the call `origin` (see `ToolContext::once`); the same call made
    /// again (a replay after a crash) returns the schedule it made the first time.
    pub async fn insert_schedule_once(
        &self,
        new: NewSchedule,
        origin: Option<String>,
    ) -> Result<i64, StoreError> {
        self.call(move |c| {
            let (tool, args, message) = match new.action {
                JobAction::Text(text) => (None, None, Some(text)),
                JobAction::Tool { name, args } => (Some(name), Some(args), None),
            };
            let inserted = c.execute(
                "INSERT INTO schedules (user_id, kind, expression, timezone, tool, arguments,
                     message, next_run_at, created_at, origin)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO NOTHING",
                params![
                    new.user_id,
                    new.spec.kind().as_str(),
                    new.spec.expression(),
                    new.timezone.name(),
                    tool,
                    args,
                    message,
                    new.next_run_at.timestamp(),
                    now_unix(),
                    origin
                ],
            )?;
            if inserted == 1 {
                return Ok(c.last_insert_rowid());
            }
            c.query_row(
                "SELECT id FROM schedules WHERE origin = ?1 AND user_id = ?2",
                params![origin, new.user_id],
                |r| r.get(0),
            )
        })
        .await
        .inspect(|_| self.wake_scheduler())
    }

    /// A user's active schedules of one category, soonest first.
    pub async fn user_schedules(
        &self,
        user_id: UserId,
        category: ScheduleCategory,
    ) -> Result<Vec<Schedule>, StoreError> {
        self.call(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLUMNS} FROM schedules WHERE user_id = ?1 AND active = 1
                 AND system IS NULL AND {} ORDER BY next_run_at, id",
                category.sql()
            ))?;
            let rows = stmt.query_map([user_id], schedule_from_row)?;
            rows.collect()
        })
        .await
    }

    /// How many active schedules of one category the user has (for the per-user caps).
    pub async fn count_user_schedules(
        &self,
        user_id: UserId,
        category: ScheduleCategory,
    ) -> Result<u64, StoreError> {
        self.call(move |c| {
            c.query_row(
                &format!(
                    "SELECT COUNT(*) FROM schedules WHERE user_id = ?1 AND active = 1
                     AND system IS NULL AND {}",
                    category.sql()
                ),
                [user_id],
                |r| r.get::<_, i64>(0),
            )
        })
        .await
        .map(|n| u64::try_from(n).unwrap_or(0))
    }

    /// Deletes one of the user's own schedules; `false` if the user has no such schedule.
    pub async fn delete_user_schedule(
        &self,
        user_id: UserId,
        id: i64,
        category: ScheduleCategory,
    ) -> Result<bool, StoreError> {
        self.call(move |c| {
            let n = c.execute(
                &format!(
                    "DELETE FROM schedules WHERE id = ?1 AND user_id = ?2 AND system IS NULL
                     AND active = 1 AND {}",
                    category.sql()
                ),
                params![id, user_id],
            )?;
            Ok(n > 0)
        })
        .await
        .inspect(|_| self.wake_scheduler())
    }

    /// Moves one of the user's schedules to another timezone with its recomputed next run.
    pub async fn retime_user_schedule(
        &self,
        user_id: UserId,
        id: i64,
        tz: Timezone,
        next_run_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        self.call(move |c| {
            c.execute(
                "UPDATE schedules SET timezone = ?1, next_run_at = ?2, active = ?3
                 WHERE id = ?4 AND user_id = ?5",
                params![
                    tz.name(),
                    next_run_at.map(|t| t.timestamp()),
                    next_run_at.is_some(),
                    id,
                    user_id
                ],
            )?;
            Ok(())
        })
        .await
        .inspect(|_| self.wake_scheduler())
    }

    /// Every active schedule (all users) whose next run is at or before `now`: the loop's work.
    pub async fn due_schedules(&self, now: DateTime<Utc>) -> Result<Vec<Schedule>, StoreError> {
        self.call(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLUMNS} FROM schedules WHERE active = 1 AND next_run_at <= ?1
                 ORDER BY next_run_at, id"
            ))?;
            let rows = stmt.query_map([now.timestamp()], schedule_from_row)?;
            rows.collect()
        })
        .await
    }

    /// The earliest next run of any active schedule: how long the loop may sleep.
    pub async fn earliest_next_run(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let secs: Option<i64> = self
            .call(|c| {
                c.query_row(
                    "SELECT MIN(next_run_at) FROM schedules WHERE active = 1",
                    [],
                    |r| r.get(0),
                )
            })
            .await?;
        Ok(instant(secs))
    }

    /// Sets the next run before a job fires (so a crash never repeats it); `None` finishes it.
    pub async fn advance_schedule(
        &self,
        id: i64,
        next_run_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        self.call(move |c| {
            c.execute(
                "UPDATE schedules SET next_run_at = ?1, active = ?2 WHERE id = ?3",
                params![
                    next_run_at.map(|t| t.timestamp()),
                    next_run_at.is_some(),
                    id
                ],
            )?;
            Ok(())
        })
        .await
    }

    /// Records a run's outcome: the message_id delivered, or the error (success clears it).
    pub async fn record_schedule_run(
        &self,
        id: i64,
        at: DateTime<Utc>,
        message_id: Option<i64>,
        error: Option<String>,
    ) -> Result<(), StoreError> {
        self.call(move |c| {
            c.execute(
                "UPDATE schedules SET last_run_at = ?1, last_message_id = ?2, last_error = ?3
                 WHERE id = ?4",
                params![at.timestamp(), message_id, error, id],
            )?;
            Ok(())
        })
        .await
    }

    /// One schedule of a user (`None` if it is not theirs).
    pub async fn user_schedule(
        &self,
        user_id: UserId,
        id: i64,
    ) -> Result<Option<Schedule>, StoreError> {
        self.call(move |c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM schedules WHERE id = ?1 AND user_id = ?2"),
                params![id, user_id],
                schedule_from_row,
            )
            .optional()
        })
        .await
    }
}
