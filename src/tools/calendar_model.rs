//! The calendar as the model sees it (names fixed by ARCHITECTURE.md §9): `calendar_list`
//! (`from`, `to`) and `calendar_free_slots` (`from`, `to`, `minutes`) read; `calendar_create`
//! (`title`, `start`, `end`, local ISO 8601 such as `2026-12-24T18:00`) acts outside the bot, so
//! the model's call becomes a Confirm button whose message names the title, the day and time in
//! the user's zone, the calendar and any events it overlaps. The event's uid comes from the
//! call's key, so a replayed or repeated call makes it once.

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use super::{CallSource, Effect, Tool, ToolContext, ToolError, ToolOutput, str_arg};
use crate::calendar::event::event_uid;
use crate::calendar::local::{at_local, parse_bound, parse_local_datetime};
use crate::calendar::render::{agenda, moment_name, one_line};
use crate::calendar::slots::free_slots;
use crate::calendar::{CalendarAccounts, NewEvent};
use crate::users::User;

/// The longest range one list or free-slot call may cover.
const MAX_RANGE_DAYS: i64 = 62;
/// Length of an event created without an end.
const DEFAULT_LENGTH_MINUTES: i64 = 60;

fn range(args: &Value, tz: Tz, usage: &str) -> Result<(DateTime<Utc>, DateTime<Utc>), ToolError> {
    let bound = |key: &str, end: bool| {
        let text = str_arg(args, key, usage)?;
        parse_bound(text, tz, end).ok_or_else(|| {
            ToolError::InvalidArguments(format!(
                "{key} must be a local date or date-time like 2026-12-24 or 2026-12-24T18:00"
            ))
        })
    };
    let (from, to) = (bound("from", false)?, bound("to", true)?);
    if to <= from || to - from > TimeDelta::days(MAX_RANGE_DAYS) {
        return Err(ToolError::InvalidArguments(format!(
            "to must be after from, at most {MAX_RANGE_DAYS} days later"
        )));
    }
    Ok((from, to))
}

/// Lists events in a range.
pub struct CalendarList {
    accounts: CalendarAccounts,
}

impl CalendarList {
    /// The tool over the users' calendars.
    pub fn new(accounts: CalendarAccounts) -> Self {
        Self { accounts }
    }
}

const LIST_USAGE: &str = "calendar_list {from, to}";

#[async_trait]
impl Tool for CalendarList {
    fn name(&self) -> &'static str {
        "calendar_list"
    }
    fn description(&self) -> &'static str {
        "List the user's calendar events between two local dates or date-times (ISO 8601, e.g. 2026-12-24 or 2026-12-24T18:00)"
    }
    fn usage(&self) -> &'static str {
        LIST_USAGE
    }
    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "from": {"type": "string", "description": "Start, local: 2026-12-24 or 2026-12-24T08:00"},
                "to": {"type": "string", "description": "End, local; a date alone means the end of that day"}
            },
            "required": ["from", "to"]
        })
    }
    fn effect(&self) -> Effect {
        Effect::Read
    }
    fn listed(&self) -> bool {
        false
    }
    fn returns_untrusted(&self) -> bool {
        true
    }

    async fn call(&self, ctx: &ToolContext<'_>, args: Value) -> Result<ToolOutput, ToolError> {
        let tz = ctx.user.timezone.tz();
        let (from, to) = range(&args, tz, LIST_USAGE)?;
        let link = self.accounts.calendar_for(ctx.user).await?;
        let events = link.calendar.events(from, to).await?;
        let first = from.with_timezone(&tz).date_naive();
        let days = u32::try_from((to - from).num_days() + 2).unwrap_or(1);
        let shown = agenda(&events, first, days, tz);
        let shown = if shown.is_empty() {
            "(no events)".to_string()
        } else {
            shown
        };
        let text = format!(
            "Events in calendar “{}”, times in {}:\n{shown}",
            link.calendar.label(),
            tz.name()
        );
        Ok(ToolOutput::plain(match ctx.source {
            CallSource::Llm => crate::untrusted::quote(
                "the user's calendar (event titles may come from other people)",
                &text,
            ),
            _ => text,
        }))
    }
}

/// Finds free time in a range.
pub struct CalendarFreeSlots {
    accounts: CalendarAccounts,
}

impl CalendarFreeSlots {
    /// The tool over the users' calendars.
    pub fn new(accounts: CalendarAccounts) -> Self {
        Self { accounts }
    }
}

const SLOTS_USAGE: &str = "calendar_free_slots {from, to, minutes}";

#[async_trait]
impl Tool for CalendarFreeSlots {
    fn name(&self) -> &'static str {
        "calendar_free_slots"
    }
    fn description(&self) -> &'static str {
        "Free time of at least `minutes` in the user's calendar between two local date-times (ISO 8601)"
    }
    fn usage(&self) -> &'static str {
        SLOTS_USAGE
    }
    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "from": {"type": "string", "description": "Start, local: 2026-12-24T13:00"},
                "to": {"type": "string", "description": "End, local: 2026-12-24T18:00"},
                "minutes": {"type": "integer", "description": "Shortest useful slot, in minutes"}
            },
            "required": ["from", "to", "minutes"]
        })
    }
    fn effect(&self) -> Effect {
        Effect::Read
    }
    fn listed(&self) -> bool {
        false
    }

    async fn call(&self, ctx: &ToolContext<'_>, args: Value) -> Result<ToolOutput, ToolError> {
        let tz = ctx.user.timezone.tz();
        let (from, to) = range(&args, tz, SLOTS_USAGE)?;
        let minutes = super::int_arg(&args, "minutes", SLOTS_USAGE)?;
        if !(1..=24 * 60).contains(&minutes) {
            return Err(ToolError::InvalidArguments(
                "minutes must be between 1 and 1440".into(),
            ));
        }
        let link = self.accounts.calendar_for(ctx.user).await?;
        let busy = link.calendar.busy(from, to).await?;
        let free = free_slots(busy, from, to, TimeDelta::minutes(minutes));
        if free.is_empty() {
            return Ok(ToolOutput::plain(format!(
                "No free slot of {minutes} minutes in that range."
            )));
        }
        let lines: Vec<String> = free
            .iter()
            .map(|(s, e)| format!("{} – {}", moment_name(*s, tz), moment_name(*e, tz)))
            .collect();
        Ok(ToolOutput::plain(format!(
            "Free slots of at least {minutes} minutes (times in {}):\n{}",
            tz.name(),
            lines.join("\n")
        )))
    }
}

/// Creates an event (after the user's Confirm when the model asks).
pub struct CalendarCreate {
    accounts: CalendarAccounts,
}

impl CalendarCreate {
    /// The tool over the users' calendars.
    pub fn new(accounts: CalendarAccounts) -> Self {
        Self { accounts }
    }
}

const CREATE_USAGE: &str = "calendar_create {title, start, end}";

/// The event a call asks for, in `tz`.
fn requested(args: &Value, tz: Tz, uid: String) -> Result<NewEvent, ToolError> {
    let title = str_arg(args, "title", CREATE_USAGE)?.trim().to_string();
    let local = |key: &str| {
        parse_local_datetime(str_arg(args, key, CREATE_USAGE)?).ok_or_else(|| {
            ToolError::InvalidArguments(format!(
                "{key} must be a local date-time like 2026-12-24T18:00"
            ))
        })
    };
    let start = at_local(tz, local("start")?);
    let end = match args
        .get("end")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
    {
        Some(_) => at_local(tz, local("end")?),
        None => start + TimeDelta::minutes(DEFAULT_LENGTH_MINUTES),
    };
    if end <= start {
        return Err(ToolError::InvalidArguments(
            "end must be after start".into(),
        ));
    }
    Ok(NewEvent {
        uid,
        title,
        start,
        end,
    })
}

/// What the user is told after a create.
pub fn created_text(event: &NewEvent, created: bool, calendar: &str, tz: Tz) -> String {
    let when = when_text(event, tz);
    if created {
        format!(
            "Added “{}” on {when} to your calendar “{calendar}”.",
            event.title
        )
    } else {
        format!(
            "“{}” on {when} was already in your calendar “{calendar}”; nothing changed.",
            event.title
        )
    }
}

fn when_text(event: &NewEvent, tz: Tz) -> String {
    let (s, e) = (event.start.with_timezone(&tz), event.end.with_timezone(&tz));
    let end = if s.date_naive() == e.date_naive() {
        e.format("%H:%M").to_string()
    } else {
        moment_name(event.end, tz)
    };
    format!("{}–{end} ({})", moment_name(event.start, tz), tz.name())
}

#[async_trait]
impl Tool for CalendarCreate {
    fn name(&self) -> &'static str {
        "calendar_create"
    }
    fn description(&self) -> &'static str {
        "Add an event to the user's calendar (they confirm it with a button); local ISO 8601 times like 2026-12-24T18:00"
    }
    fn usage(&self) -> &'static str {
        CREATE_USAGE
    }
    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "title": {"type": "string"},
                "start": {"type": "string", "description": "Local start: 2026-12-24T18:00"},
                "end": {"type": "string", "description": "Local end: 2026-12-24T20:00"}
            },
            "required": ["title", "start", "end"]
        })
    }
    fn effect(&self) -> Effect {
        Effect::Outside
    }
    fn listed(&self) -> bool {
        false
    }

    async fn preview(&self, user: &User, args: &Value) -> String {
        let tz = user.timezone.tz();
        let event = match requested(args, tz, String::new()) {
            Ok(event) => event,
            Err(e) => return format!("Create a calendar event ({e})"),
        };
        let mut text = format!(
            "Create a calendar event:\n“{}”\n{}",
            event.title,
            when_text(&event, tz)
        );
        match self.accounts.calendar_for(user).await {
            Ok(link) => {
                text.push_str(&format!("\nCalendar: {}", link.calendar.label()));
                match link.calendar.events(event.start, event.end).await {
                    Ok(events) => {
                        let clashes: Vec<String> = events
                            .iter()
                            .filter(|e| {
                                matches!(e.time, crate::calendar::EventTime::Timed { .. })
                                    && !e.free
                            })
                            .map(|e| format!("• {}", one_line(e, tz)))
                            .collect();
                        if clashes.is_empty() {
                            text.push_str("\nNo conflicts with other events.");
                        } else {
                            text.push_str(&format!("\n⚠️ Conflicts with:\n{}", clashes.join("\n")));
                        }
                    }
                    Err(e) => text.push_str(&format!("\n(I couldn't check for conflicts: {e})")),
                }
            }
            Err(e) => text.push_str(&format!("\n({e})")),
        }
        text
    }

    async fn call(&self, ctx: &ToolContext<'_>, args: Value) -> Result<ToolOutput, ToolError> {
        let tz = ctx.user.timezone.tz();
        let event = requested(&args, tz, event_uid(ctx.user.id, ctx.once))?;
        let link = self.accounts.calendar_for(ctx.user).await?;
        let created = link.calendar.create(&event).await?;
        Ok(ToolOutput::plain(created_text(
            &event,
            created,
            link.calendar.label(),
            tz,
        )))
    }
}
