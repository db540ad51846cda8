//! `morning_briefing`: what the scheduled morning briefing runs. Today's calendar events (when
//! the user has a calendar) and the summary of new Gmail (when they connected Gmail), in one
//! message; nothing at all when the day is empty and no mail is new. Only schedules run it.

use async_trait::async_trait;
use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};

use super::email::EmailSummary;
use super::{Effect, Tool, ToolContext, ToolError, ToolHandles, ToolOutput};
use crate::calendar::event::local_midnight;
use crate::calendar::local::today;
use crate::calendar::render::{day_lines, day_name};
use crate::calendar::{CalendarAccounts, CalendarError};
use crate::gmail::TokenStore;
use crate::markup::{Markup, escape_markdown};
use crate::users::User;

/// The morning briefing.
pub struct MorningBriefing {
    email: EmailSummary,
    tokens: TokenStore,
    calendar: CalendarAccounts,
}

impl MorningBriefing {
    /// The briefing over Gmail and the users' calendars.
    pub fn new(h: &ToolHandles) -> Self {
        Self {
            email: EmailSummary::new(h),
            tokens: h.gmail.connect.tokens().clone(),
            calendar: h.calendar.clone(),
        }
    }

    /// Today's events as HTML lines; empty when there are none or no calendar.
    async fn today(&self, user: &User) -> String {
        let tz = user.timezone.tz();
        let day = today(tz, Utc::now());
        let (from, to) = (
            local_midnight(tz, day),
            local_midnight(tz, day + TimeDelta::days(1)),
        );
        let events = match self.calendar.calendar_for(user).await {
            Ok(link) => link.calendar.events(from, to).await,
            Err(e) => Err(e),
        };
        match events {
            Ok(events) => {
                let lines = day_lines(&events, day, tz);
                if lines.is_empty() {
                    return String::new();
                }
                let mut text = format!("📅 **Today, {}**\n", escape_markdown(&day_name(day)));
                for line in lines {
                    text.push_str(&format!("  {}\n", escape_markdown(&line)));
                }
                text
            }
            Err(CalendarError::NotConnected) => String::new(),
            Err(e) => {
                tracing::warn!(user_id = %user.id, error = %e, "briefing could not read the calendar");
                format!(
                    "📅 I couldn't read your calendar: {}\n",
                    escape_markdown(&e.to_string())
                )
            }
        }
    }
}

#[async_trait]
impl Tool for MorningBriefing {
    fn name(&self) -> &'static str {
        "morning_briefing"
    }
    fn description(&self) -> &'static str {
        "Your morning briefing: today's events and new mail"
    }
    fn usage(&self) -> &'static str {
        "(sent every morning at MORNING_BRIEFING_TIME)"
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {}})
    }
    fn effect(&self) -> Effect {
        Effect::Read
    }
    fn llm_callable(&self) -> bool {
        false
    }
    fn listed(&self) -> bool {
        false
    }

    async fn call(&self, ctx: &ToolContext<'_>, _args: Value) -> Result<ToolOutput, ToolError> {
        let events = self.today(ctx.user).await;
        let has_gmail = tokio::fs::try_exists(self.tokens.path(ctx.user.id))
            .await
            .unwrap_or(false);
        let mail = if has_gmail {
            let out = self.email.call(ctx, json!({"args": ""})).await?;
            match out.format {
                Markup::Markdown => out.text,
                Markup::Plain => escape_markdown(&out.text),
            }
        } else {
            String::new()
        };
        let text = [events.trim_end(), mail.trim()]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join("\n\n");
        Ok(ToolOutput::markdown(text))
    }
}
