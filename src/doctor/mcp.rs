//! MCP checks: each configured server is started (or reached) and asked for its tools (see
//! `crate::mcp::check`); a failure names the server's entry in `MCP_CONFIG` to correct.

use super::check::Check;
use crate::config::Config;
use crate::config::{McpServerConfig, McpTransport};

/// One check per configured server.
pub async fn check(config: &Config) -> Vec<Check> {
    let results = crate::mcp::check::check_all(&config.mcp).await;
    results
        .into_iter()
        .zip(&config.mcp.servers)
        .map(|((name, result), server)| match result {
            Ok(text) => Check::ok(name, text),
            Err(text) => {
                let fix = fix(server, &text);
                Check::fail(name, text, fix)
            }
        })
        .collect()
}

/// What to change for a server that failed with `error`.
fn fix(server: &McpServerConfig, error: &str) -> String {
    let entry = format!("server \"{}\" in MCP_CONFIG (mcp.json)", server.name);
    let slow = error.contains("startup_timeout_secs") || error.contains("no answer in time");
    match &server.transport {
        McpTransport::Stdio { command, .. } if error.starts_with("cannot start") => format!(
            "install '{command}' or give its full path as \"command\" of {entry} (it runs with \
             only PATH, HOME and LANG from the bot's environment)"
        ),
        _ if slow => format!(
            "raise \"startup_timeout_secs\" of {entry}, or check that the server works when run by hand"
        ),
        McpTransport::Stdio { .. } => format!(
            "run the \"command\" and \"args\" of {entry} by hand to see its error, then correct them"
        ),
        McpTransport::Http { .. } => format!(
            "check the \"url\" (and \"headers\", e.g. the bearer token) of {entry} and that the server is up"
        ),
    }
}
