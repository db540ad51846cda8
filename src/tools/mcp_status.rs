//! `/mcp` (owner): the configured MCP servers, each with its state, tool count and last error,
//! and the names of the tools it offers now (the text comes from the live catalogue).

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::{Effect, LiveTools, Tool, ToolContext, ToolError, ToolOutput};

/// Shows the MCP servers.
pub struct McpStatus {
    live: Arc<dyn LiveTools>,
}

impl McpStatus {
    /// The tool, reading `live`.
    pub fn new(live: Arc<dyn LiveTools>) -> Self {
        Self { live }
    }
}

#[async_trait]
impl Tool for McpStatus {
    fn name(&self) -> &'static str {
        "mcp"
    }

    fn description(&self) -> &'static str {
        "MCP servers: state, tools and last error (owner)"
    }

    fn usage(&self) -> &'static str {
        "/mcp"
    }

    fn effect(&self) -> Effect {
        Effect::Admin
    }

    fn llm_callable(&self) -> bool {
        false
    }

    async fn call(&self, _ctx: &ToolContext<'_>, _args: Value) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::plain(self.live.report()))
    }
}
