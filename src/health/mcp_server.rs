//! What is known about one MCP server while the bot runs: its state, how many tools it offers,
//! its last error and restarts. `/mcp`, `/health` and the logs read it. The MCP supervisor
//! reports into it; it lives in health so that health knows nothing of MCP.

use serde::Serialize;

/// Where a server is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ServerState {
    /// Being started for the first time (command started or URL contacted, handshake, tool list).
    Starting,
    /// Connected; its tools are offered.
    Ready,
    /// The last attempt failed; another one follows after a backoff.
    Failed,
    /// It was ready and stopped (the process died, the connection closed); being started again.
    Restarting,
}

impl ServerState {
    /// The word shown in `/mcp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Ready => "ready",
            Self::Failed => "failed",
            Self::Restarting => "restarting",
        }
    }
}

/// One server as `/mcp` and `/health` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct McpServerStatus {
    /// Its configured name.
    pub name: String,
    /// `stdio` or `http`.
    pub transport: &'static str,
    /// Its state.
    pub state: ServerState,
    /// Tools offered from it now.
    pub tools: usize,
    /// Names of those tools as the model sees them (`<server>__<tool>`).
    #[serde(skip)]
    pub tool_names: Vec<&'static str>,
    /// The last error (start, handshake, listing or a crash), never a header value or secret.
    pub last_error: Option<String>,
    /// How many times it was started again after a failure or a crash.
    pub restarts: u32,
    /// The process id of a running stdio server.
    pub pid: Option<u32>,
}

impl McpServerStatus {
    /// A server about to start.
    pub fn starting(name: &str, transport: &'static str) -> Self {
        Self {
            name: name.to_string(),
            transport,
            state: ServerState::Starting,
            tools: 0,
            tool_names: Vec::new(),
            last_error: None,
            restarts: 0,
            pid: None,
        }
    }

    /// One line for `/mcp` and `doctor`, e.g. `time (stdio): ready, 2 tools`.
    pub fn line(&self) -> String {
        let mut line = format!(
            "{} ({}): {}, {} tool{}",
            self.name,
            self.transport,
            self.state.as_str(),
            self.tools,
            if self.tools == 1 { "" } else { "s" }
        );
        if self.restarts > 0 {
            line.push_str(&format!(", {} restarts", self.restarts));
        }
        if let Some(error) = &self.last_error {
            line.push_str(&format!("; last error: {error}"));
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_line_names_state_tools_and_the_last_error() {
        let mut status = McpServerStatus::starting("time", "stdio");
        assert_eq!(status.line(), "time (stdio): starting, 0 tools");
        status.state = ServerState::Failed;
        status.tools = 1;
        status.restarts = 2;
        status.last_error = Some("cannot start 'x'".into());
        assert_eq!(
            status.line(),
            "time (stdio): failed, 1 tool, 2 restarts; last error: cannot start 'x'"
        );
    }
}
