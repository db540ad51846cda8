//! `/mcp` (owner): the configured MCP servers, each with its state, tool count and last error,
//! and the names of the tools it offers now.

use async_trait::async_trait;
use serde_json::Value;

use super::{Effect, Tool, ToolContext, ToolError, ToolOutput};
use crate::mcp::McpTools;

/// Most tool names listed per server.
const MAX_NAMES_SHOWN: usize = 30;

/// Shows the MCP servers.
pub struct McpStatus {
    mcp: McpTools,
}

impl McpStatus {
    /// The tool, reading `mcp`.
    pub fn new(mcp: McpTools) -> Self {
        Self { mcp }
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
        let Some(file) = self.mcp.file() else {
            return Ok(ToolOutput::plain(
                "No MCP servers are configured. Put them in mcp.json (or the file MCP_CONFIG \
                 names) and restart; see \"MCP servers\" in the README.",
            ));
        };
        let statuses = self.mcp.statuses();
        let mut text = format!("MCP servers from {}:", file.display());
        if statuses.is_empty() {
            text.push_str("\n(none)");
        }
        for status in statuses {
            text.push_str(&format!("\n• {}", status.line()));
            if !status.tool_names.is_empty() {
                let shown: Vec<&str> = status
                    .tool_names
                    .iter()
                    .take(MAX_NAMES_SHOWN)
                    .copied()
                    .collect();
                let more = status.tool_names.len().saturating_sub(MAX_NAMES_SHOWN);
                text.push_str(&format!("\n  tools: {}", shown.join(", ")));
                if more > 0 {
                    text.push_str(&format!(" and {more} more"));
                }
            }
        }
        Ok(ToolOutput::plain(text))
    }
}
