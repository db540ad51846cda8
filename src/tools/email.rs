//! `email_summary` (`/email [today|Nd] [force] [search terms]`): summarises the user's recent
//! Gmail with the mid-tier model in one call. Email content is untrusted: it goes to the model
//! as quoted data with tools disabled, so an email cannot make the bot run tools; when the
//! assistant asked for the summary, the summary goes back to it quoted as untrusted data too.

use async_trait::async_trait;
use chrono::Utc;
use serde_json::{Value, json};

use super::{CallSource, Effect, Tool, ToolContext, ToolError, ToolHandles, ToolOutput};
use crate::gmail::{EmailArgs, GmailClient, parse_email_args, summary_prompt};
use crate::llm::{ChatRequest, LlmRouter, NoTools, ProviderKind, Tier};

/// Summarises recent email.
pub struct EmailSummary {
    gmail: GmailClient,
    llm: LlmRouter,
    default_provider: Option<ProviderKind>,
    daily_token_limit: u64,
}

impl EmailSummary {
    /// The tool over Gmail and the LLM router.
    pub fn new(h: &ToolHandles) -> Self {
        Self {
            gmail: h.gmail.client.clone(),
            llm: h.llm.clone(),
            default_provider: h.config.llm.default,
            daily_token_limit: h.config.user_daily_token_limit,
        }
    }
}

#[async_trait]
impl Tool for EmailSummary {
    fn name(&self) -> &'static str {
        "email_summary"
    }

    fn command(&self) -> &'static str {
        "email"
    }

    fn description(&self) -> &'static str {
        "Summarise your recent Gmail"
    }

    fn usage(&self) -> &'static str {
        "/email [today|3d|7d] [force] [search terms, e.g. from:bank]"
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "range": {"type": "string", "description": "today, or a number of days like 3d (default today)"},
                "force": {"type": "boolean", "description": "include read and already summarised mail"},
                "search": {"type": "string", "description": "Gmail search terms, e.g. from:bank"}
            }
        })
    }

    fn effect(&self) -> Effect {
        Effect::Read
    }

    fn returns_untrusted(&self) -> bool {
        true
    }

    fn parse_command(&self, args: &str) -> Result<Value, ToolError> {
        Ok(json!({"args": args}))
    }

    async fn call(&self, ctx: &ToolContext<'_>, args: Value) -> Result<ToolOutput, ToolError> {
        let args = email_args(&args);
        let gmail = &self.gmail;
        let user = ctx.user;
        let messages = gmail
            .fetch_recent(user.id, &args)
            .await
            .map_err(|e| ToolError::Failed(e.to_string()))?;
        if messages.is_empty() {
            if ctx.source == CallSource::Schedule {
                return Ok(ToolOutput::plain("")); // a briefing with nothing to say stays quiet
            }
            let span = if args.days <= 1 {
                "today".to_string()
            } else {
                format!("in the last {} days", args.days)
            };
            return Ok(ToolOutput::plain(format!(
                "Nothing new in your Gmail {span}. Try /email 3d, or add force to see mail I already summarised."
            )));
        }
        let request = ChatRequest {
            user_id: user.id,
            user_name: user.display_name.clone(),
            timezone: user.timezone,
            now: Utc::now(),
            preferred: user.llm_provider.or(self.default_provider),
            history: Vec::new(),
            message: summary_prompt(&messages),
            tools: Vec::new(),
            tier: Tier::Mid,
            allow_tools: false,
            budget: user.llm_budget(self.daily_token_limit),
            journal: None, // the tool call as a whole is journaled by its caller
            speaker: None,
        };
        let never = tokio_util::sync::CancellationToken::new();
        let reply = self
            .llm
            .reply(request, &NoTools, &never)
            .await
            .map_err(|e| ToolError::Failed(e.user_message()))?;
        gmail
            .mark_processed(user.id, &messages)
            .await
            .map_err(|e| ToolError::Failed(e.to_string()))?;
        if ctx.source == CallSource::Llm {
            // Written from the emails' content, so it is as untrusted as they are.
            let origin = format!("a summary of {} of the user's emails", messages.len());
            return Ok(ToolOutput::plain(crate::untrusted::quote(
                &origin,
                &reply.text,
            )));
        }
        let header = format!("📬 {} email(s)\n\n", messages.len());
        Ok(ToolOutput::markdown(format!("{header}{}", reply.text)))
    }
}

/// Reads the arguments of a command (`args` string) or an LLM call (range/force/search).
fn email_args(args: &Value) -> EmailArgs {
    if let Some(text) = args.get("args").and_then(Value::as_str) {
        return parse_email_args(text);
    }
    let mut words = Vec::new();
    if let Some(range) = args.get("range").and_then(Value::as_str) {
        words.push(range.to_string());
    }
    if args.get("force").and_then(Value::as_bool).unwrap_or(false) {
        words.push("force".to_string());
    }
    if let Some(search) = args.get("search").and_then(Value::as_str) {
        words.push(search.to_string());
    }
    parse_email_args(&words.join(" "))
}
