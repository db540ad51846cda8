//! `/history [n]`: the user's last n turns (default 10, at most 50), dated in their timezone.

use async_trait::async_trait;
use chrono::DateTime;
use serde_json::{Value, json};

use super::{Effect, Tool, ToolContext, ToolError, ToolOutput, shorten};
use crate::store::{Speaker, Store};

/// Shows recent conversation turns.
pub struct History {
    store: Store,
}

impl History {
    /// The tool over `chat_history`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

const USAGE: &str = "/history [n]";
/// Turns shown when no number is given.
const DEFAULT_TURNS: usize = 10;
/// Most turns shown.
const MAX_TURNS: usize = 50;
/// Most characters of one turn shown.
const TURN_CHARS: usize = 300;

#[async_trait]
impl Tool for History {
    fn name(&self) -> &'static str {
        "history"
    }

    fn description(&self) -> &'static str {
        "Show your last messages with me, dated"
    }

    fn usage(&self) -> &'static str {
        USAGE
    }

    fn effect(&self) -> Effect {
        Effect::Read
    }

    fn llm_callable(&self) -> bool {
        false
    }

    fn parse_command(&self, args: &str) -> Result<Value, ToolError> {
        let args = args.trim();
        if args.is_empty() {
            return Ok(json!({}));
        }
        match args.parse::<u64>() {
            Ok(n) if n > 0 => Ok(json!({"n": n})),
            _ => Err(ToolError::InvalidArguments(format!(
                "Expected a number of messages, e.g. /history 20. Usage: {USAGE}"
            ))),
        }
    }

    async fn call(&self, ctx: &ToolContext<'_>, args: Value) -> Result<ToolOutput, ToolError> {
        let asked = args.get("n").and_then(Value::as_u64);
        let n = asked.map_or(DEFAULT_TURNS, |n| {
            usize::try_from(n).unwrap_or(MAX_TURNS).min(MAX_TURNS)
        });
        let turns = self.store.last_turns(ctx.user.id, n).await?;
        if turns.is_empty() {
            return Ok(ToolOutput::plain("We haven't talked yet."));
        }
        let tz = ctx.user.timezone.tz();
        let mut lines = Vec::with_capacity(turns.len() + 1);
        if asked.is_some_and(|a| a > MAX_TURNS as u64) {
            lines.push(format!(
                "(showing the last {MAX_TURNS}, the most I show at once)"
            ));
        }
        for turn in &turns {
            let when = DateTime::from_timestamp(turn.created_at, 0)
                .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_else(|| "undated".into());
            let who = match turn.speaker {
                Speaker::User => "you",
                Speaker::Assistant => "me",
            };
            let text = turn
                .content
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            lines.push(format!("{when} {who}: {}", shorten(&text, TURN_CHARS)));
        }
        Ok(ToolOutput::plain(lines.join("\n")))
    }
}
