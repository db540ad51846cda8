//! Tools that join and leave while the bot runs: each MCP server's tools while it is up. Their
//! source is above this module (the MCP client implements [`LiveTools`] and its tools implement
//! [`Tool`]), so the registry and `/mcp` reach them through this trait and tools never name it.

use std::sync::Arc;

use super::Tool;

/// A live catalogue of tools, consulted by name and for the model's tool list.
pub trait LiveTools: Send + Sync {
    /// The tool called `name`, if it is offered now.
    fn get(&self, name: &str) -> Option<Arc<dyn Tool>>;

    /// Every tool offered now.
    fn tools(&self) -> Vec<Arc<dyn Tool>>;

    /// What `/mcp` shows: where the tools come from, each source's state and its tools.
    fn report(&self) -> String;
}
