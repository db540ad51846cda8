//! `/schedule`: run one of the user's commands on a recurring schedule (daily, weekdays, weekly,
//! or a cron expression) in their timezone; list and remove schedules.

use async_trait::async_trait;
use chrono::Utc;
use serde_json::{Value, json};

use super::{Effect, Tool, ToolContext, ToolError, ToolOutput, int_arg, may_run};
use crate::schedule_spec::ScheduleSpec;
use crate::schedule_spec::limits::{Quota, check_count, check_interval};
use crate::schedule_spec::local_time::format_local;
use crate::schedule_spec::next_run::next_run_after;
use crate::schedule_spec::recurrence::parse_recurrence;
use crate::store::{JobAction, NewSchedule, Schedule, ScheduleCategory, Store};
use crate::timezone::Timezone;

/// Recurring commands.
pub struct ScheduleTool {
    h: ScheduleHandles,
}

/// What the schedule, reminder and timezone tools touch: the schedules (whose writes wake the
/// scheduler themselves).
pub(super) struct ScheduleHandles {
    /// The database.
    pub store: Store,
}

impl ScheduleHandles {
    /// From the store.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

impl ScheduleTool {
    /// The tool over the schedules table.
    pub fn new(store: Store) -> Self {
        Self {
            h: ScheduleHandles::new(store),
        }
    }
}

const USAGE: &str = "/schedule add <daily HH:MM | weekdays HH:MM | weekly <day> HH:MM | \
     \"<cron>\"> <command> [args] | /schedule list | /schedule remove <id>. \
     Example: /schedule add weekdays 07:30 email today";

/// Tools a schedule may not run: schedules that create schedules would multiply.
const NOT_SCHEDULABLE: [&str; 2] = ["schedule", "remind"];

#[async_trait]
impl Tool for ScheduleTool {
    fn name(&self) -> &'static str {
        "schedule"
    }

    fn description(&self) -> &'static str {
        "Run one of the user's commands on a recurring schedule in their timezone; list or remove schedules"
    }

    fn usage(&self) -> &'static str {
        USAGE
    }

    fn describe(&self, args: &Value) -> String {
        match args.get("action").and_then(Value::as_str) {
            Some("add") => format!(
                "Add a recurring schedule that runs as you: {}",
                super::shorten(&add_line(args), 300)
            ),
            _ => super::describe_call(self.command(), args),
        }
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "action": {"type": "string", "enum": ["add", "list", "remove"]},
                "when": {
                    "type": "string",
                    "description": "Recurrence in the user's local time: 'daily HH:MM', \
                        'weekdays HH:MM', 'weekends HH:MM', 'weekly <mon..sun> HH:MM', or a \
                        quoted five-field cron expression like '\"0 7 * * 1-5\"'"
                },
                "command": {
                    "type": "string",
                    "description": "The command to run, without the slash, e.g. email or note"
                },
                "args": {"type": "string", "description": "The command's arguments, e.g. 'today'"},
                "id": {"type": "integer", "description": "Schedule id (for remove)"}
            },
            "required": ["action"]
        })
    }

    fn effect(&self) -> Effect {
        Effect::Write
    }

    fn effect_of(&self, args: &Value) -> Effect {
        list_is_read(args)
    }

    fn parse_command(&self, args: &str) -> Result<Value, ToolError> {
        let args = args.trim();
        let (first, rest) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
        Ok(match first.to_ascii_lowercase().as_str() {
            "" | "list" => json!({"action": "list"}),
            "remove" | "delete" | "rm" => json!({"action": "remove", "id": rest.trim()}),
            "add" => json!({"action": "add", "line": rest.trim()}),
            // `/schedule daily 07:30 note list` reads as an add.
            _ => json!({"action": "add", "line": args}),
        })
    }

    async fn call(&self, ctx: &ToolContext<'_>, args: Value) -> Result<ToolOutput, ToolError> {
        match args.get("action").and_then(Value::as_str).unwrap_or("add") {
            "add" => add(&self.h, ctx, &args).await,
            "list" => list(&self.h, ctx).await,
            "remove" | "delete" => {
                remove_own(&self.h, ctx, &args, ScheduleCategory::Tool, USAGE).await
            }
            other => Err(ToolError::InvalidArguments(format!(
                "Unknown action '{other}'. Usage: {USAGE}"
            ))),
        }
    }
}

/// Removes one of the user's own schedules of `category` (a user never reaches another's) and
/// wakes the scheduler loop.
pub(super) async fn remove_own(
    h: &ScheduleHandles,
    ctx: &ToolContext<'_>,
    args: &Value,
    category: ScheduleCategory,
    usage: &str,
) -> Result<ToolOutput, ToolError> {
    let id = int_arg(args, "id", usage)?;
    let noun = match category {
        ScheduleCategory::Reminder => "reminder",
        ScheduleCategory::Tool => "schedule",
    };
    if h.store
        .delete_user_schedule(ctx.user.id, id, category)
        .await?
    {
        Ok(ToolOutput::plain(format!("Removed {noun} #{id}.")))
    } else {
        Err(ToolError::Failed(format!("You have no {noun} #{id}.")))
    }
}

/// The command line after `add`: typed by the user, or assembled from the LLM's fields.
fn add_line(args: &Value) -> String {
    if let Some(line) = args.get("line").and_then(Value::as_str) {
        return line.to_string();
    }
    let field = |key| args.get(key).and_then(Value::as_str).unwrap_or("").trim();
    let command = field("command").trim_start_matches('/');
    format!("{} {command} {}", field("when"), field("args"))
        .trim()
        .to_string()
}

/// Validates the recurrence and the command (it exists, the user may use it, its arguments
/// parse), then stores the schedule.
async fn add(
    h: &ScheduleHandles,
    ctx: &ToolContext<'_>,
    args: &Value,
) -> Result<ToolOutput, ToolError> {
    let line = add_line(args);
    let (cron, rest) =
        parse_recurrence(&line).map_err(|e| ToolError::InvalidArguments(e.to_string()))?;
    let local_now = Utc::now()
        .with_timezone(&ctx.user.timezone.tz())
        .naive_local();
    check_interval(&cron, local_now).map_err(|e| ToolError::InvalidArguments(e.to_string()))?;
    let active = h
        .store
        .count_user_schedules(ctx.user.id, ScheduleCategory::Tool)
        .await?;
    check_count(Quota::Schedules, active, ctx.user.is_owner())
        .map_err(|e| ToolError::Failed(e.to_string()))?;
    let (word, tool_args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let word = word.trim_start_matches('/').to_ascii_lowercase();
    let tool = ctx
        .catalogue
        .find(&word)
        .filter(|t| may_run(ctx.user, t.effect))
        .ok_or_else(|| {
            ToolError::InvalidArguments(format!(
                "There is no /{word} command you can schedule; see /help. {USAGE}"
            ))
        })?;
    if NOT_SCHEDULABLE.contains(&tool.name) {
        return Err(ToolError::InvalidArguments(format!(
            "/{} can't run on a schedule.",
            tool.command
        )));
    }
    let tool_args = tool_args.trim();
    refuse_passwords(tool.command, tool_args)?;
    let tz = ctx.user.timezone;
    let next = next_run_after(cron.as_str(), tz, Utc::now())
        .map_err(|e| ToolError::InvalidArguments(e.to_string()))?
        .ok_or_else(|| ToolError::InvalidArguments(format!("'{cron}' never runs again.")))?;
    let id = h
        .store
        .insert_schedule_once(
            NewSchedule {
                user_id: ctx.user.id,
                spec: ScheduleSpec::Cron(cron.clone()),
                timezone: tz,
                action: JobAction::Tool {
                    name: tool.name.to_string(),
                    args: tool_args.to_string(),
                },
                next_run_at: next,
            },
            ctx.once.map(str::to_string),
        )
        .await?;
    let line = format!("/{} {tool_args}", tool.command);
    Ok(ToolOutput::plain(format!(
        "Scheduled #{id}: {} at cron '{cron}' ({tz}). Next run: {}.",
        line.trim_end(),
        format_local(next, tz)
    )))
}

/// The user's recurring schedules, soonest first, in their timezone.
async fn list(h: &ScheduleHandles, ctx: &ToolContext<'_>) -> Result<ToolOutput, ToolError> {
    let tz = ctx.user.timezone;
    let schedules = h
        .store
        .user_schedules(ctx.user.id, ScheduleCategory::Tool)
        .await?;
    if schedules.is_empty() {
        return Ok(ToolOutput::plain(
            "No schedules. Add one with /schedule add daily 07:30 note list.",
        ));
    }
    let lines: Vec<String> = schedules.iter().map(|s| describe(ctx, s, tz)).collect();
    Ok(ToolOutput::plain(lines.join("\n")))
}

/// One line of `/schedule list`.
fn describe(ctx: &ToolContext<'_>, s: &Schedule, tz: Timezone) -> String {
    let line = match &s.action {
        JobAction::Tool { name, args } => {
            let command = ctx
                .catalogue
                .find(name)
                .map_or(name.as_str(), |t| t.command);
            format!("/{command} {args}").trim_end().to_string()
        }
        JobAction::Text(text) => text.clone(),
    };
    let next = s
        .next_run_at
        .map_or_else(|| "never".to_string(), |at| format_local(at, tz));
    let failed = s
        .last_error
        .as_deref()
        .map_or_else(String::new, |e| format!(" (last run failed: {e})"));
    format!(
        "#{} {line} — {}, next {next}{failed}",
        s.id,
        s.spec.expression()
    )
}

/// `list` only reads; everything else writes.
pub(super) fn list_is_read(args: &Value) -> Effect {
    match args.get("action").and_then(Value::as_str) {
        Some("list") => Effect::Read,
        _ => Effect::Write,
    }
}

/// A command that carries a password (`/calendar connect …`) is never stored in a schedule: it is
/// sent on its own, where its message is deleted and the password sealed.
fn refuse_passwords(command: &str, args: &str) -> Result<(), ToolError> {
    if crate::calendar::holds_password(&format!("/{command} {args}")) {
        return Err(ToolError::InvalidArguments(format!(
            "/{command} connect holds a password, so it can't run on a schedule; send it on its \
             own (I delete that message at once)."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_calendar_connect_line_is_never_scheduled_but_other_calendar_lines_are() {
        let err = refuse_passwords("calendar", "connect caldav https://dav.example u secret")
            .unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(refuse_passwords("calendar", "CONNECT caldav https://x u p").is_err());
        assert!(refuse_passwords("calendar", "week").is_ok());
        assert!(refuse_passwords("note", "save connect caldav").is_ok());
    }
}
