//! `/calendar`: today's events, the week's, adding one at once (typed by the user, so it runs
//! without a confirm button), and disconnecting. Connecting holds a password and is handled
//! before the tool path (`dispatch::calendar_connect`). The model uses `calendar_list`,
//! `calendar_free_slots` and `calendar_create` instead (see `calendar_model.rs`).

use async_trait::async_trait;
use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};

use super::{Effect, Tool, ToolContext, ToolError, ToolOutput, str_arg};
use crate::calendar::event::{event_uid, local_midnight};
use crate::calendar::local::{at_local, parse_date, parse_time, today};
use crate::calendar::render::{agenda, day_name};
use crate::calendar::{CalendarAccounts, CalendarError, NewEvent};

const USAGE: &str = "/calendar [today|week] | /calendar add <YYYY-MM-DD> <HH:MM> <HH:MM> <title> \
                     | /calendar connect caldav <url> <username> <app-password> | /calendar disconnect";

/// The `/calendar` command.
pub struct CalendarCommand {
    accounts: CalendarAccounts,
}

impl CalendarCommand {
    /// The command over the users' calendar accounts.
    pub fn new(accounts: CalendarAccounts) -> Self {
        Self { accounts }
    }
}

impl From<CalendarError> for ToolError {
    fn from(e: CalendarError) -> Self {
        match e {
            CalendarError::Store(e) => ToolError::Store(e),
            other => ToolError::Failed(other.to_string()),
        }
    }
}

#[async_trait]
impl Tool for CalendarCommand {
    fn name(&self) -> &'static str {
        "calendar"
    }

    fn description(&self) -> &'static str {
        "Your calendar: today, this week, add an event, connect or disconnect a calendar"
    }

    fn usage(&self) -> &'static str {
        USAGE
    }

    fn effect(&self) -> Effect {
        Effect::Outside
    }

    fn effect_of(&self, args: &Value) -> Effect {
        match args.get("action").and_then(Value::as_str) {
            Some("add") => Effect::Outside,
            Some("disconnect") => Effect::Write,
            _ => Effect::Read,
        }
    }

    fn llm_callable(&self) -> bool {
        false
    }

    fn parse_command(&self, args: &str) -> Result<Value, ToolError> {
        let words: Vec<&str> = args.split_whitespace().collect();
        let action = words.first().map(|w| w.to_ascii_lowercase());
        match action.as_deref() {
            None | Some("today") => Ok(json!({"action": "today"})),
            Some("week") => Ok(json!({"action": "week"})),
            Some("disconnect") => Ok(json!({"action": "disconnect"})),
            Some("add") if words.len() >= 5 => Ok(json!({
                "action": "add",
                "date": words[1],
                "start": words[2],
                "end": words[3],
                "title": words[4..].join(" "),
            })),
            Some("add") => Err(ToolError::InvalidArguments(
                "Usage: /calendar add <YYYY-MM-DD> <HH:MM> <HH:MM> <title>, e.g. /calendar add \
                 2026-12-24 18:00 20:00 Dinner with Ana"
                    .into(),
            )),
            Some(_) => Err(ToolError::InvalidArguments(format!("Usage: {USAGE}"))),
        }
    }

    async fn call(&self, ctx: &ToolContext<'_>, args: Value) -> Result<ToolOutput, ToolError> {
        let user = ctx.user;
        let tz = user.timezone.tz();
        match args
            .get("action")
            .and_then(Value::as_str)
            .unwrap_or("today")
        {
            "disconnect" => {
                let text = if self.accounts.disconnect(user.id).await? {
                    "Disconnected your calendar; I deleted its stored password."
                } else {
                    "You had no calendar connected."
                };
                Ok(ToolOutput::plain(text))
            }
            "add" => self.add(ctx, &args).await,
            action => {
                let days = if action == "week" { 7 } else { 1 };
                let first = today(tz, Utc::now());
                let from = local_midnight(tz, first);
                let to = local_midnight(tz, first + TimeDelta::days(days));
                let link = self.accounts.calendar_for(user).await?;
                let events = link.calendar.events(from, to).await?;
                let shown = agenda(&events, first, u32::try_from(days).unwrap_or(1), tz);
                let text = match (shown.is_empty(), days) {
                    (true, 1) => format!("Nothing in your calendar today ({}).", day_name(first)),
                    (true, _) => "Nothing in your calendar in the next 7 days.".to_string(),
                    (false, _) => format!("{shown}\n\n(times in {})", tz.name()),
                };
                Ok(ToolOutput::plain(text))
            }
        }
    }
}

impl CalendarCommand {
    /// `/calendar add`: runs at once (the user typed it); the same update makes it once.
    async fn add(&self, ctx: &ToolContext<'_>, args: &Value) -> Result<ToolOutput, ToolError> {
        let tz = ctx.user.timezone.tz();
        let bad = |what: &str| {
            ToolError::InvalidArguments(format!(
                "{what}. Usage: /calendar add <YYYY-MM-DD> <HH:MM> <HH:MM> <title>"
            ))
        };
        let day = parse_date(str_arg(args, "date", USAGE)?)
            .ok_or_else(|| bad("The date must look like 2026-12-24"))?;
        let start = parse_time(str_arg(args, "start", USAGE)?)
            .ok_or_else(|| bad("The start must look like 18:00"))?;
        let end = parse_time(str_arg(args, "end", USAGE)?)
            .ok_or_else(|| bad("The end must look like 20:00"))?;
        let title = str_arg(args, "title", USAGE)?.trim().to_string();
        let start = at_local(tz, day.and_time(start));
        let mut end_at = at_local(tz, day.and_time(end));
        if end_at <= start {
            // 23:00 01:00 ends the next day.
            end_at = at_local(tz, (day + TimeDelta::days(1)).and_time(end));
        }
        let event = NewEvent {
            uid: event_uid(ctx.user.id, ctx.once),
            title,
            start,
            end: end_at,
        };
        let link = self.accounts.calendar_for(ctx.user).await?;
        let created = link.calendar.create(&event).await?;
        Ok(ToolOutput::plain(super::calendar_model::created_text(
            &event,
            created,
            link.calendar.label(),
            tz,
        )))
    }
}
