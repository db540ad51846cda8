//! `/cancel`: stops the user's running AI request. The stop itself happens in the channel's intake,
//! the moment the message arrives; this tool only answers when nothing was running.

use async_trait::async_trait;
use serde_json::Value;

use super::{Effect, Tool, ToolContext, ToolError, ToolOutput, Where};
use crate::cancellations::Cancellations;

/// Answers `/cancel`.
pub struct Cancel {
    cancellations: Cancellations,
}

impl Cancel {
    /// The tool over running requests.
    pub fn new(cancellations: Cancellations) -> Self {
        Self { cancellations }
    }
}

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
        if self.cancellations.take_cancelled(ctx.user.chat_id) {
            // The cancelled request already said "Stopped."; one message is enough.
            return Ok(ToolOutput::plain(""));
        }
        Ok(ToolOutput::plain(
            "Nothing to cancel: I'm not working on anything for you.",
        ))
    }
}
