//! `minicrew doctor`'s MCP check: each configured server is started (or reached), asked for its
//! tools and stopped again, within its startup timeout.

use std::sync::{Arc, Mutex};

use super::connect::connect;
use crate::config::{McpConfig, McpServerConfig, McpTransport};
use crate::tools::shorten;

/// One line per server: `Ok("2 tools (stdio): get_current_time, convert_time")` or the error.
pub async fn check_all(config: &McpConfig) -> Vec<(String, Result<String, String>)> {
    let checks = config
        .servers
        .iter()
        .map(|server| async move { (format!("mcp {}", server.name), check(server).await) });
    futures::future::join_all(checks).await
}

async fn check(server: &McpServerConfig) -> Result<String, String> {
    let connection = connect(server, Arc::new(Mutex::new(None))).await?;
    let listed = tokio::time::timeout(
        server.startup_timeout,
        connection.service.peer().list_all_tools(),
    )
    .await;
    if let Some(mut child) = connection.child {
        super::stdio::kill_group(&mut child.0);
        let _ = child.0.wait().await;
    }
    let _ = connection.service.cancel().await;
    let tools = listed
        .map_err(|_| "tools/list got no answer in time".to_string())?
        .map_err(|e| format!("tools/list failed: {}", shorten(&e.to_string(), 300)))?;
    let kind = match server.transport {
        McpTransport::Stdio { .. } => "stdio",
        McpTransport::Http { .. } => "http",
    };
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    Ok(shorten(
        &format!("{} tools ({kind}): {}", names.len(), names.join(", ")),
        300,
    ))
}
