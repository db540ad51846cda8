//! `/help`: the commands this user may run here, generated from the tool registry.

use async_trait::async_trait;
use serde_json::Value;

use super::{ChatKind, Effect, Tool, ToolContext, ToolError, ToolOutput, Where};
use crate::markup::escape_markdown;

/// Lists the commands the user may run.
pub struct Help;

#[async_trait]
impl Tool for Help {
    fn name(&self) -> &'static str {
        "help"
    }

    fn description(&self) -> &'static str {
        "Show what I can do"
    }

    fn usage(&self) -> &'static str {
        "/help"
    }

    fn effect(&self) -> Effect {
        Effect::Read
    }

    fn runs_in(&self) -> Where {
        Where::Any
    }

    fn llm_callable(&self) -> bool {
        false
    }

    async fn call(&self, ctx: &ToolContext<'_>, _args: Value) -> Result<ToolOutput, ToolError> {
        let mut text = String::from("**Commands**\n");
        // In a group, only what works there: personal commands belong to private chats.
        let here = ctx
            .catalogue
            .visible_to(ctx.user)
            .filter(|t| t.runs_in.allows(ctx.chat));
        for tool in here {
            text.push_str(&format!(
                "{} — {}\n",
                escape_markdown(tool.usage),
                escape_markdown(tool.description)
            ));
        }
        if ctx.chat == ChatKind::Group {
            text.push_str(
                "\nMention me or reply to my messages to talk to me here; personal commands \
                 (email, notes, reminders) work in our private chat.",
            );
        } else {
            text.push_str("\nAnything else you write goes to the assistant.");
        }
        Ok(ToolOutput::markdown(text))
    }
}
