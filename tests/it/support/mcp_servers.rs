//! The reference MCP servers the MCP tests use, as real processes: `mcp-server-time` (stdio;
//! the app starts it from its `mcp.json`) and `@modelcontextprotocol/server-everything` in its
//! streamable-HTTP mode, started here on a free port (it reads `PORT`) and killed on drop.
//! Waits are on a deadline; a server that is not installed fails the test with the reason.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use minicrew::health::Health;
use minicrew::mcp::{McpServerStatus, ServerState};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use super::servers::{node_package_file, python};

/// Bound on a server becoming ready (node and Python start in well under this).
pub const READY_WAIT: Duration = Duration::from_secs(30);

/// The `mcp.json` entry that runs `mcp-server-time` over stdio.
pub fn time_server(extra: Value) -> Value {
    let mut entry = json!({
        "command": python().display().to_string(),
        "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"],
    });
    merge(&mut entry, extra);
    entry
}

/// The `mcp.json` entry for `tests/servers/scripts/mcp_grow.py`, a stdio server whose `grow`
/// tool adds a tool `extra` and sends `notifications/tools/list_changed`.
pub fn grow_server(extra: Value) -> Value {
    let script = super::servers::servers_dir().join("scripts/mcp_grow.py");
    let mut entry = json!({
        "command": python().display().to_string(),
        "args": [script.display().to_string()],
    });
    merge(&mut entry, extra);
    entry
}

/// The `mcp.json` entry for a streamable-HTTP server at `url`.
pub fn http_server(url: &str, extra: Value) -> Value {
    let mut entry = json!({"url": url});
    merge(&mut entry, extra);
    entry
}

fn merge(entry: &mut Value, extra: Value) {
    if let (Some(entry), Value::Object(extra)) = (entry.as_object_mut(), extra) {
        entry.extend(extra);
    }
}

/// Writes `{"mcpServers": servers}` into `dir/mcp.json` and returns its path.
pub fn write_config(dir: &Path, servers: Value) -> PathBuf {
    let path = dir.join("mcp.json");
    std::fs::write(&path, json!({ "mcpServers": servers }).to_string()).unwrap();
    path
}

/// `server-everything` serving streamable HTTP on 127.0.0.1; killed on drop.
pub struct Everything {
    /// The process.
    child: Child,
    /// Its port.
    pub port: u16,
}

impl Everything {
    /// Starts it on a free port and waits until it accepts connections.
    pub async fn start() -> Self {
        Self::start_on(free_port()).await
    }

    /// Starts it on `port` and waits until it accepts connections.
    pub async fn start_on(port: u16) -> Self {
        let script = node_package_file("@modelcontextprotocol/server-everything/dist/index.js");
        let child = Command::new("node")
            .arg(&script)
            .arg("streamableHttp")
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs (is Node.js installed?)");
        let deadline = tokio::time::Instant::now() + READY_WAIT;
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "server-everything did not listen on port {port} within {READY_WAIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { child, port }
    }

    /// Its MCP endpoint.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp", self.port)
    }

    /// Stops it now.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Waits until `check` holds for the status of server `name`, and returns that status.
pub async fn wait_for_server(
    health: &Health,
    name: &str,
    what: &str,
    check: impl Fn(&McpServerStatus) -> bool,
) -> McpServerStatus {
    let deadline = tokio::time::Instant::now() + READY_WAIT;
    loop {
        let all: BTreeMap<String, McpServerStatus> = health.mcp_servers();
        if let Some(status) = all.get(name)
            && check(status)
        {
            return status.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "MCP server {name} did not become {what} within {READY_WAIT:?}: {:?}",
            all.get(name)
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Waits until server `name` is ready and offers tools.
pub async fn wait_ready(health: &Health, name: &str) -> McpServerStatus {
    wait_for_server(health, name, "ready", |s| {
        s.state == ServerState::Ready && s.tools > 0
    })
    .await
}
