//! `/remind`: one-off reminders sent at a time given in the user's timezone; list and remove them.

use async_trait::async_trait;
use chrono::Utc;
use serde_json::{Value, json};

use super::schedule::{ScheduleHandles, list_is_read, remove_own};
use super::{Effect, Tool, ToolContext, ToolError, ToolOutput, str_arg};
use crate::schedule_spec::ScheduleSpec;
use crate::schedule_spec::limits::{Quota, check_count};
use crate::schedule_spec::local_time::format_local;
use crate::schedule_spec::when::parse_when;
use crate::store::{JobAction, NewSchedule, ScheduleCategory, Store};

/// Reminders.
pub struct Remind {
    h: ScheduleHandles,
}

impl Remind {
    /// The tool over the schedules table.
    pub fn new(store: Store) -> Self {
        Self {
            h: ScheduleHandles::new(store),
        }
    }
}

const USAGE: &str = "/remind <when> <text> (when: 10m, 2h, 1d, HH:MM, tomorrow HH:MM or \
     YYYY-MM-DD HH:MM) | /remind list | /remind remove <id>. Example: /remind 10m stand up";

#[async_trait]
impl Tool for Remind {
    fn name(&self) -> &'static str {
        "remind"
    }

    fn description(&self) -> &'static str {
        "Remind the user of something at a given time (in their timezone); list or remove reminders"
    }

    fn usage(&self) -> &'static str {
        USAGE
    }

    fn describe(&self, args: &Value) -> String {
        let field = |key| args.get(key).and_then(Value::as_str).unwrap_or("");
        match args.get("action").and_then(Value::as_str) {
            Some("add") => format!(
                "Set a reminder for {}: “{}”",
                field("when"),
                super::shorten(field("text"), 300)
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
                    "description": "When to remind, in the user's local time: a duration from \
                        now (10m, 2h, 1d, 1h30m), HH:MM (next time the clock shows it), \
                        'tomorrow HH:MM', or 'YYYY-MM-DD HH:MM'"
                },
                "text": {"type": "string", "description": "What to remind of (for add)"},
                "id": {"type": "integer", "description": "Reminder id (for remove)"}
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
            // The `<when>` takes one or two words; `call` splits it off with the user's timezone.
            _ => json!({"action": "add", "when": args}),
        })
    }

    async fn call(&self, ctx: &ToolContext<'_>, args: Value) -> Result<ToolOutput, ToolError> {
        match args.get("action").and_then(Value::as_str).unwrap_or("add") {
            "add" => add(&self.h, ctx, &args).await,
            "list" => list(&self.h, ctx).await,
            "remove" | "delete" => {
                remove_own(&self.h, ctx, &args, ScheduleCategory::Reminder, USAGE).await
            }
            other => Err(ToolError::InvalidArguments(format!(
                "Unknown action '{other}'. Usage: {USAGE}"
            ))),
        }
    }
}

/// Reads `when` (possibly followed by the text, as typed after `/remind`) and stores the reminder.
async fn add(
    h: &ScheduleHandles,
    ctx: &ToolContext<'_>,
    args: &Value,
) -> Result<ToolOutput, ToolError> {
    let tz = ctx.user.timezone;
    let when = str_arg(args, "when", USAGE)?;
    let (at, rest) = parse_when(when, tz, Utc::now())
        .map_err(|e| ToolError::InvalidArguments(format!("{e} Example: /remind 10m stand up")))?;
    let extra = args.get("text").and_then(Value::as_str).unwrap_or("");
    let text = format!("{rest} {extra}").trim().to_string();
    if text.is_empty() {
        return Err(ToolError::InvalidArguments(
            "What should I remind you of? Example: /remind 10m stand up".into(),
        ));
    }
    let active = h
        .store
        .count_user_schedules(ctx.user.id, ScheduleCategory::Reminder)
        .await?;
    check_count(Quota::Reminders, active, ctx.user.is_owner())
        .map_err(|e| ToolError::Failed(e.to_string()))?;
    let id = h
        .store
        .insert_schedule_once(
            NewSchedule {
                user_id: ctx.user.id,
                spec: ScheduleSpec::Once(at),
                timezone: tz,
                action: JobAction::Text(text.clone()),
                next_run_at: at,
            },
            ctx.once.map(str::to_string),
        )
        .await?;
    Ok(ToolOutput::plain(format!(
        "⏰ Reminder #{id} set for {}: {text}",
        format_local(at, tz)
    )))
}

/// The user's pending reminders, soonest first.
async fn list(h: &ScheduleHandles, ctx: &ToolContext<'_>) -> Result<ToolOutput, ToolError> {
    let tz = ctx.user.timezone;
    let reminders = h
        .store
        .user_schedules(ctx.user.id, ScheduleCategory::Reminder)
        .await?;
    if reminders.is_empty() {
        return Ok(ToolOutput::plain(
            "No reminders. Set one with /remind 10m stand up.",
        ));
    }
    let lines: Vec<String> = reminders
        .iter()
        .map(|r| {
            let when = r
                .next_run_at
                .map_or_else(String::new, |at| format_local(at, tz));
            let text = match &r.action {
                JobAction::Text(text) => text.as_str(),
                JobAction::Tool { name, .. } => name.as_str(),
            };
            format!("#{} {when}: {text}", r.id)
        })
        .collect();
    Ok(ToolOutput::plain(lines.join("\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_forms_become_arguments() {
        let store = Store::open_in_memory().unwrap();
        let r = Remind::new(store);
        assert_eq!(r.parse_command("").unwrap(), json!({"action": "list"}));
        assert_eq!(
            r.parse_command("remove 7").unwrap(),
            json!({"action": "remove", "id": "7"})
        );
        assert_eq!(
            r.parse_command("tomorrow 09:00 call mom").unwrap(),
            json!({"action": "add", "when": "tomorrow 09:00 call mom"})
        );
    }
}
