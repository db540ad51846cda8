//! What `/mcp` shows: the servers file, each server's state, tool count and last error, and the
//! names of the tools it offers now.

use super::McpTools;

/// Most tool names listed per server.
const MAX_NAMES_SHOWN: usize = 30;

impl McpTools {
    /// The text of `/mcp`.
    pub fn report(&self) -> String {
        let Some(file) = self.file() else {
            return "No MCP servers are configured. Put them in mcp.json (or the file MCP_CONFIG \
                    names) and restart; see \"MCP servers\" in the README."
                .to_string();
        };
        let statuses = self.statuses();
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
        text
    }
}
