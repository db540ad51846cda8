//! `/new`: starts a fresh conversation; earlier turns stay stored but leave the LLM's context.
//! In a group it is the group's conversation.

use async_trait::async_trait;
use serde_json::Value;

use super::{Effect, Tool, ToolContext, ToolError, ToolOutput, Where};
use crate::store::Store;

/// Clears the conversation context.
pub struct NewChat {
    store: Store,
}

impl NewChat {
    /// The tool over the conversation memory.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

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

    fn effect(&self) -> Effect {
        Effect::Write
    }

    /// In a group it resets the group's conversation (any member may).
    fn runs_in(&self) -> Where {
        Where::Any
    }

    fn llm_callable(&self) -> bool {
        false
    }

    async fn call(&self, ctx: &ToolContext<'_>, _args: Value) -> Result<ToolOutput, ToolError> {
        self.store.reset_context(ctx.user.id).await?;
        Ok(ToolOutput::plain(
            "Fresh start: I won't use our earlier messages as context (they stay saved).",
        ))
    }
}
