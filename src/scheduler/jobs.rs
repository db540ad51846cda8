//! Running one scheduled job: re-read its owner (a disabled user's jobs do not run), run the tool
//! through the same path as a `/command` (access check, `tool_logs`) or take the reminder text,
//! send the result, and record the outcome. A run counts as delivered only when Telegram returned
//! a message_id.
//!
//! Convention for tools run by a schedule: an output whose text is empty (after trimming) and
//! that has no notices means "nothing to say" (e.g. no new email for the morning briefing); the
//! run is recorded as successful and nothing is sent.
//!
//! A failing job records its error and tells its owner once: only when the error differs from the
//! last run's (a success in between clears it), so a broken daily job does not nag every day.

use chrono::{DateTime, Utc};

use super::outlet::Outlet;
use crate::dispatch::{Caller, Outcome, error_reply, invoke};
use crate::ids::ChatId;
use crate::message::Reply;
use crate::services::Services;
use crate::store::{JobAction, Schedule, StoreError};
use crate::tools::{CallSource, ChatKind};
use crate::users::User;

/// What a job run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// The message went out; Telegram gave it this id (the last chunk's).
    Delivered {
        /// Telegram's message_id.
        message_id: i64,
    },
    /// The tool had nothing to say; nothing was sent.
    NothingToSend,
    /// The tool failed or the message could not be delivered.
    Failed {
        /// The recorded error (safe to show the owner).
        error: String,
        /// Whether the owner was told this time (only when the error is new).
        owner_told: bool,
    },
    /// The owner is unknown or no longer active; the job did not run.
    OwnerInactive,
}

/// Why a job could not even be attempted or recorded.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Runs `schedule` now under its owner's identity and records the outcome at `now`.
#[tracing::instrument(skip_all, fields(schedule_id = schedule.id, user_id = %schedule.user_id))]
pub async fn run_job(
    services: &Services,
    sender: &dyn Outlet,
    schedule: &Schedule,
    now: DateTime<Utc>,
) -> Result<JobOutcome, JobError> {
    let store = &services.store;
    let user = match store.user_by_id(schedule.user_id).await? {
        Some(user) if user.is_active() => user,
        _ => {
            tracing::info!("owner is not active; scheduled job not run");
            return Ok(JobOutcome::OwnerInactive);
        }
    };
    let replies = match &schedule.action {
        JobAction::Text(text) => Ok(vec![Reply::plain(user.chat_id, format!("⏰ {text}"))]),
        JobAction::Tool { name, args } => run_scheduled_tool(services, &user, name, args).await,
    };
    let delivered = match replies {
        Ok(replies) if replies.is_empty() => {
            store
                .record_schedule_run(schedule.id, now, None, None)
                .await?;
            return Ok(JobOutcome::NothingToSend);
        }
        Ok(replies) => deliver(sender, user.chat_id, replies).await,
        Err(error) => Err(error),
    };
    match delivered {
        Ok(message_id) => {
            let id = Some(message_id);
            store
                .record_schedule_run(schedule.id, now, id, None)
                .await?;
            tracing::info!(message_id, "scheduled job delivered");
            Ok(JobOutcome::Delivered { message_id })
        }
        Err(error) => {
            tracing::warn!(%error, "scheduled job failed");
            let owner_told = schedule.last_error.as_deref() != Some(error.as_str())
                && tell_owner(sender, &user, &job_label(services, schedule), &error).await;
            let recorded = Some(error.clone());
            store
                .record_schedule_run(schedule.id, now, None, recorded)
                .await?;
            Ok(JobOutcome::Failed { error, owner_told })
        }
    }
}

/// Runs a schedule's tool through the invocation path as `user`; the replies to send (empty
/// when the tool had nothing to say) or the error to record.
async fn run_scheduled_tool(
    services: &Services,
    user: &User,
    name: &str,
    args: &str,
) -> Result<Vec<Reply>, String> {
    let tool = services
        .tools
        .get(name)
        .ok_or_else(|| format!("the command behind this schedule ({name}) no longer exists"))?;
    let parsed = tool
        .parse_command(args)
        .map_err(|e| error_reply(tool.name(), &e))?;
    let caller = Caller {
        user,
        chat: ChatKind::Private,
        source: CallSource::Schedule,
        untrusted_turn: false,
        seen_text: "",
        once: None,
    };
    match invoke(services, &caller, &*tool, parsed).await {
        Outcome::Ran(out) => Ok(out.into_replies(user.chat_id)),
        Outcome::NotRun(text) => Err(text),
        Outcome::NeedsConfirm { preview, .. } => Err(format!("needs your confirmation: {preview}")),
    }
}

/// Sends `replies`; the message_id of the last chunk to `chat_id`, or why it did not arrive.
async fn deliver(sender: &dyn Outlet, chat_id: ChatId, replies: Vec<Reply>) -> Result<i64, String> {
    let rows = sender
        .send_now(replies)
        .await
        .map_err(|e| format!("not delivered: {e}"))?;
    let last = rows
        .iter()
        .rev()
        .find(|row| row.chat_id == chat_id)
        .or_else(|| rows.last())
        .ok_or_else(|| "not delivered: nothing was queued".to_string())?;
    last.message_id
        .ok_or_else(|| "not delivered: Telegram returned no message id".to_string())
}

/// How a job is named in a message to its owner, e.g. `Your schedule #4 (/note list)`.
pub fn job_label(services: &Services, schedule: &Schedule) -> String {
    match (&schedule.action, schedule.system.as_deref()) {
        (_, Some(_)) => "Your morning briefing".to_string(),
        (JobAction::Tool { name, args }, None) => {
            let command = services
                .tools
                .get(name)
                .map_or(name.as_str(), |t| t.command());
            let line = format!("/{command} {args}");
            format!("Your schedule #{} ({})", schedule.id, line.trim_end())
        }
        (JobAction::Text(_), None) => format!("Your reminder #{}", schedule.id),
    }
}

/// Tells the owner their job failed; whether Telegram accepted the message.
async fn tell_owner(sender: &dyn Outlet, user: &User, what: &str, error: &str) -> bool {
    let text =
        format!("⚠️ {what} failed: {error}\nI'll tell you again only if the problem changes.");
    sender
        .send_now(vec![Reply::plain(user.chat_id, text)])
        .await
        .is_ok()
}
