//! `/tz`: show or set the user's timezone. Recurring schedules follow the user, so a new
//! timezone moves them to the same local times there; reminders keep their instant.

use async_trait::async_trait;
use chrono::Utc;
use serde_json::{Value, json};

use super::schedule::ScheduleHandles;
use super::{Effect, Tool, ToolContext, ToolError, ToolOutput};
use crate::schedule_spec::ScheduleSpec;
use crate::schedule_spec::local_time::format_local;
use crate::schedule_spec::next_run::next_run_after;
use crate::store::{ScheduleCategory, Store};
use crate::timezone::parse_timezone;

/// The user's timezone.
pub struct Tz {
    h: ScheduleHandles,
}

impl Tz {
    /// The tool over users' timezones and their schedules.
    pub fn new(store: Store) -> Self {
        Self {
            h: ScheduleHandles::new(store),
        }
    }
}

const USAGE: &str = "/tz <Area/City>, e.g. /tz Europe/Berlin; /tz alone shows the current one";

#[async_trait]
impl Tool for Tz {
    fn name(&self) -> &'static str {
        "timezone"
    }

    fn command(&self) -> &'static str {
        "tz"
    }

    fn description(&self) -> &'static str {
        "Show or set the user's timezone (IANA name like Europe/Berlin)"
    }

    fn usage(&self) -> &'static str {
        USAGE
    }

    fn effect(&self) -> Effect {
        Effect::Write
    }

    fn effect_of(&self, args: &Value) -> Effect {
        match args.get("timezone").and_then(Value::as_str) {
            Some(tz) if !tz.trim().is_empty() => Effect::Write,
            _ => Effect::Read,
        }
    }

    fn describe(&self, args: &Value) -> String {
        let tz = args.get("timezone").and_then(Value::as_str).unwrap_or("");
        format!("Change your timezone to {}", super::shorten(tz, 60))
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "timezone": {
                    "type": "string",
                    "description": "IANA timezone to set, e.g. Europe/Berlin; omit to show the current one"
                }
            }
        })
    }

    fn parse_command(&self, args: &str) -> Result<Value, ToolError> {
        Ok(match args.trim() {
            "" => json!({}),
            name => json!({"timezone": name}),
        })
    }

    async fn call(&self, ctx: &ToolContext<'_>, args: Value) -> Result<ToolOutput, ToolError> {
        let now = Utc::now();
        let requested = args
            .get("timezone")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty());
        let Some(requested) = requested else {
            let tz = ctx.user.timezone;
            return Ok(ToolOutput::plain(format!(
                "Your timezone is {tz}; it is {} there. Change it with {USAGE}.",
                format_local(now, tz)
            )));
        };
        let tz =
            parse_timezone(requested).map_err(|e| ToolError::InvalidArguments(e.to_string()))?;
        let store = &self.h.store;
        store.set_user_timezone(ctx.user.id, tz).await?;
        let schedules = store
            .user_schedules(ctx.user.id, ScheduleCategory::Tool)
            .await?;
        for s in &schedules {
            if let ScheduleSpec::Cron(cron) = &s.spec {
                let next = next_run_after(cron.as_str(), tz, now)
                    .map_err(|e| ToolError::Unexpected(e.into()))?;
                store
                    .retime_user_schedule(ctx.user.id, s.id, tz, next)
                    .await?;
            }
        }
        let moved = match schedules.len() {
            0 => String::new(),
            n => format!(" Your {n} schedule(s) now run on this local time."),
        };
        Ok(ToolOutput::plain(format!(
            "Your timezone is now {tz}; it is {} there.{moved}",
            format_local(now, tz)
        )))
    }
}
