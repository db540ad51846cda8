//! `/cancel`: stops the user's running AI request. The stop itself happens at intake, the moment
//! the message arrives (see `telegram::intake`); this tool only answers when nothing was running.

use async_trait::async_trait;
use serde_json::Value;

use super::{Tool, ToolContext, ToolError, ToolOutput};

/// Answers `/cancel`.
pub struct Cancel;

#[async_trait]
impl Tool for Cancel {
    fn name(&self) -> &'static str {
        "cancel"
    }

    fn description(&self) -> &'static str {
        "Stop the answer I'm working on"
    }

    fn usage(&self) -> &'static str {
        "/cancel"
    }

    fn llm_callable(&self) -> bool {
        false
    }

    async fn call(&self, ctx: &ToolContext<'_>, _args: Value) -> Result<ToolOutput, ToolError> {
        if ctx.services.cancellations.take_cancelled(ctx.user.chat_id) {
            // The cancelled request already said "Stopped."; one message is enough.
            return Ok(ToolOutput::plain(""));
        }
        Ok(ToolOutput::plain(
            "Nothing to cancel: I'm not working on anything for you.",
        ))
    }
}
