//! The system prompt: the configured (or built-in) instructions plus who the user is and their
//! local date, time and timezone, so "tomorrow at 9" means the user's 9.

use crate::timezone::Timezone;
use chrono::{DateTime, Utc};

/// Used when `SYSTEM_PROMPT` is not set.
pub const DEFAULT_SYSTEM_PROMPT: &str = "You are minicrew, a personal assistant that chats in \
Telegram. Answer briefly and plainly. Use the tools you are given when they help, and never \
invent a tool's result. If you cannot do something, say so in one sentence.";

/// Told to the model whatever the base prompt: its memory reaches beyond the last turns.
pub const MEMORY_HINT: &str = "You remember more than the recent messages: the recall tool \
searches everything the user said to you before (also before a /new), their notes and the \
documents they sent. When they ask about something from earlier that is not in this \
conversation, recall it before saying you don't know, and say when it was from.";

/// `base` (or the built-in prompt), the memory hint, then the user's name and local time.
pub fn system_prompt(
    base: Option<&str>,
    user_name: &str,
    tz: Timezone,
    now: DateTime<Utc>,
) -> String {
    let local = now.with_timezone(&tz.tz());
    format!(
        "{}\n\n{MEMORY_HINT}\n\nYou are talking with {}. Their local date and time is {} ({}, UTC{}).",
        base.unwrap_or(DEFAULT_SYSTEM_PROMPT),
        user_name,
        local.format("%A %Y-%m-%d %H:%M"),
        tz.name(),
        local.format("%:z"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn prompt_names_the_user_and_their_local_time() {
        let now = Utc.with_ymd_and_hms(2025, 3, 4, 8, 15, 0).unwrap();
        let p = system_prompt(
            Some("Be nice."),
            "Ada",
            Timezone::new(chrono_tz::Europe::Berlin),
            now,
        );
        assert!(p.starts_with("Be nice."));
        assert!(p.contains("Ada"));
        assert!(p.contains("recall tool"), "{p}");
        assert!(
            p.contains("Tuesday 2025-03-04 09:15 (Europe/Berlin, UTC+01:00)"),
            "{p}"
        );
    }
}
