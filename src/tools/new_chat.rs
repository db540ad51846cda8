//! `/new`: starts a fresh conversation; earlier turns stay stored but leave the LLM's context.

use async_trait::async_trait;
use serde_json::Value;

use super::{Tool, ToolContext, ToolError, ToolOutput};

/// Clears the conversation context.
pub struct NewChat;

#[async_trait]
impl Tool for NewChat {
    fn name(&self) -> &'static str {
        "new"
    }

    fn description(&self) -> &'static str {
        "Start a fresh conversation"
    }

    fn usage(&self) -> &'static str {
        "/new"
    }

    fn llm_callable(&self) -> bool {
        false
    }

    async fn call(&self, ctx: &ToolContext<'_>, _args: Value) -> Result<ToolOutput, ToolError> {
        ctx.services.store.reset_context(ctx.user.id).await?;
        Ok(ToolOutput::plain(
            "Fresh start: I won't use our earlier messages as context (they stay saved).",
        ))
    }
}
