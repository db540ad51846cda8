//! One task per server keeps it connected: connect, list the tools, offer them, list them again
//! on `notifications/tools/list_changed`. When the process dies, the connection closes or the
//! server stops answering pings (every 30 s, and at once after a call failed), its tools are
//! withdrawn and it is started again after a backoff (1 s doubling to 60 s; reset once it
//! stayed up for a minute). A server that cannot start is retried the same way; nothing here
//! can stop the bot. On shutdown the child is killed and waited for.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::stdio::{OwnedChild, kill_group};
use rmcp::model::{ClientRequest, PingRequest};
use rmcp::service::{Peer, RoleClient};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::connect::{Connection, MAX_TOOLS_PER_SERVER, connect, with_stderr};
use super::names::{Interner, tool_name};
use super::tool::{Link, McpTool};
use crate::config::McpTransport;
use crate::health::Health;
use crate::health::{McpServerStatus, ServerState};
use crate::tools::shorten;

/// First wait before starting a failed server again.
const BACKOFF_START: Duration = Duration::from_secs(1);
/// Longest wait between attempts.
const BACKOFF_MAX: Duration = Duration::from_secs(60);
/// A server that stayed up this long starts again from the shortest backoff when it fails; one
/// that crashes soon after every start keeps backing off.
const STABLE_AFTER: Duration = Duration::from_secs(60);
/// Longest tool description kept.
const MAX_DESCRIPTION_CHARS: usize = 1_000;
/// Largest input schema kept (serialized); a tool with a larger one is left out.
const MAX_SCHEMA_BYTES: usize = 32 * 1024;
/// How often a connected server is pinged (a dead HTTP server is noticed no later than this).
const PING_EVERY: Duration = Duration::from_secs(30);
/// How long a ping may take.
const PING_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a closed connection waits to learn whether the process exited.
const EXIT_WAIT: Duration = Duration::from_secs(1);
/// How long a killed child may take to exit.
const KILL_WAIT: Duration = Duration::from_secs(5);

/// One server: its link (used by its tools), its status and its current tools.
pub struct Server {
    /// The connection its tools call through.
    pub link: Arc<Link>,
    /// What `/mcp` shows.
    pub status: Mutex<McpServerStatus>,
    /// The tools offered now (empty while it is down).
    pub tools: Mutex<Vec<Arc<McpTool>>>,
    /// The last line it wrote to stderr.
    pub last_stderr: Arc<Mutex<Option<String>>>,
}

impl Server {
    /// A server not started yet.
    pub fn new(link: Link) -> Self {
        let transport = match link.config.transport {
            McpTransport::Stdio { .. } => "stdio",
            McpTransport::Http { .. } => "http",
        };
        let status = McpServerStatus::starting(&link.config.name, transport);
        Self {
            link: Arc::new(link),
            status: Mutex::new(status),
            tools: Mutex::new(Vec::new()),
            last_stderr: Arc::new(Mutex::new(None)),
        }
    }

    fn name(&self) -> &str {
        &self.link.config.name
    }

    /// A copy of its status now.
    pub fn status(&self) -> McpServerStatus {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Changes the status and reports it to `/health`.
    fn update(&self, health: &Health, change: impl FnOnce(&mut McpServerStatus)) {
        let mut status = self.status.lock().unwrap_or_else(|p| p.into_inner());
        change(&mut status);
        health.set_mcp_server(status.clone());
    }

    fn set_tools(&self, health: &Health, tools: Vec<Arc<McpTool>>) {
        let names: Vec<&'static str> = tools.iter().map(|t| t.name).collect();
        *self.tools.lock().unwrap_or_else(|p| p.into_inner()) = tools;
        self.update(health, |s| {
            s.tools = names.len();
            s.tool_names = names;
        });
    }
}

/// What the supervisors share.
pub struct Shared {
    /// Interned tool names.
    pub interner: Interner,
    /// Where status changes are reported.
    pub health: Health,
}

/// Keeps `server` connected until `stop` fires.
pub async fn supervise(server: Arc<Server>, shared: Arc<Shared>, stop: CancellationToken) {
    let health = &shared.health;
    let mut backoff = BACKOFF_START;
    loop {
        let attempt = tokio::select! {
            () = stop.cancelled() => return,
            attempt = connect(&server.link.config, Arc::clone(&server.last_stderr)) => attempt,
        };
        let reason = match attempt {
            Ok(connection) => {
                match serve(&server, &shared, connection, &stop, &mut backoff).await {
                    Ended::Stopped => return,
                    Ended::Failed(reason) => reason,
                }
            }
            Err(reason) => reason,
        };
        server.link.set_peer(None);
        server.set_tools(health, Vec::new());
        tracing::warn!(server = server.name(), error = %reason, retry_in_secs = backoff.as_secs(), "MCP server is down; retrying");
        server.update(health, |s| {
            s.state = ServerState::Failed;
            s.last_error = Some(reason);
            s.pid = None;
        });
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
        server.update(health, |s| {
            s.state = ServerState::Restarting;
            s.restarts += 1;
        });
    }
}

/// How a connection ended.
enum Ended {
    /// The bot is shutting down.
    Stopped,
    /// It failed or closed; why.
    Failed(String),
}

/// Lists the tools, offers them, and watches the connection until it ends.
async fn serve(
    server: &Server,
    shared: &Shared,
    connection: Connection,
    stop: &CancellationToken,
    backoff: &mut Duration,
) -> Ended {
    let Connection {
        service,
        mut child,
        tools_changed,
    } = connection;
    let peer = service.peer().clone();
    let health = &shared.health;
    if let Err(reason) = relist(server, shared, &peer).await {
        kill(&mut child).await;
        return Ended::Failed(reason);
    }
    server.link.set_peer(Some(peer.clone()));
    let pid = child.as_ref().and_then(|c| c.0.id());
    let ready_at = tokio::time::Instant::now();
    server.update(health, |s| {
        s.state = ServerState::Ready;
        s.pid = pid;
    });
    tracing::info!(
        server = server.name(),
        tools = server.tools.lock().map(|t| t.len()).unwrap_or(0),
        "MCP server ready"
    );
    let quit = service.waiting();
    tokio::pin!(quit);
    let mut pings = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    let ended = loop {
        let ping_now = tokio::select! {
            () = stop.cancelled() => break Ended::Stopped,
            _ = pings.tick() => true,
            () = server.link.suspect.notified() => true,
            _ = &mut quit => {
                // A dead process closes the pipe first; say so when that is what happened.
                let exited = tokio::time::timeout(EXIT_WAIT, wait(&mut child)).await;
                break Ended::Failed(match exited {
                    Ok(status) => with_stderr(format!("the process exited ({status})"), &server.last_stderr),
                    Err(_) => "the connection closed".into(),
                });
            }
            status = wait(&mut child) => break Ended::Failed(with_stderr(
                format!("the process exited ({status})"),
                &server.last_stderr,
            )),
            () = tools_changed.notified() => {
                if let Err(reason) = relist(server, shared, &peer).await {
                    tracing::warn!(server = server.name(), error = %reason, "MCP server's new tool list could not be read");
                }
                false
            }
        };
        if ping_now && let Err(reason) = ping(&peer).await {
            break Ended::Failed(reason);
        }
    };
    if ready_at.elapsed() >= STABLE_AFTER {
        *backoff = BACKOFF_START;
    }
    server.link.set_peer(None);
    kill(&mut child).await;
    ended
}

/// Whether the server still answers.
async fn ping(peer: &Peer<RoleClient>) -> Result<(), String> {
    let request = ClientRequest::PingRequest(PingRequest::default());
    match tokio::time::timeout(PING_TIMEOUT, peer.send_request(request)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!(
            "it stopped answering ({})",
            shorten(&e.to_string(), 200)
        )),
        Err(_) => Err(format!(
            "it did not answer a ping within {} s",
            PING_TIMEOUT.as_secs()
        )),
    }
}

/// Waits for the child to exit (forever when there is none).
async fn wait(child: &mut Option<OwnedChild>) -> String {
    match child {
        Some(child) => match child.0.wait().await {
            Ok(status) => status.to_string(),
            Err(e) => e.to_string(),
        },
        None => std::future::pending().await,
    }
}

/// Kills the child, if any, and waits a moment for it to exit.
async fn kill(child: &mut Option<OwnedChild>) {
    if let Some(child) = child {
        kill_group(&mut child.0);
        let _ = tokio::time::timeout(KILL_WAIT, child.0.wait()).await;
    }
}

/// Reads the server's tools and offers them.
async fn relist(server: &Server, shared: &Shared, peer: &Peer<RoleClient>) -> Result<(), String> {
    let timeout = server.link.config.startup_timeout;
    let listed = tokio::time::timeout(timeout, peer.list_all_tools())
        .await
        .map_err(|_| format!("tools/list got no answer within {} s", timeout.as_secs()))?
        .map_err(|e| format!("tools/list failed: {}", shorten(&e.to_string(), 300)))?;
    let mut tools: Vec<Arc<McpTool>> = Vec::new();
    for remote in listed.into_iter().take(MAX_TOOLS_PER_SERVER) {
        let Some(tool) = build(server, shared, remote) else {
            continue;
        };
        if tools.iter().all(|t| t.name != tool.name) {
            tools.push(Arc::new(tool));
        }
    }
    server.set_tools(&shared.health, tools);
    Ok(())
}

/// One listed tool as ours; `None` (logged) when its name or schema cannot be used.
fn build(server: &Server, shared: &Shared, remote: rmcp::model::Tool) -> Option<McpTool> {
    let name = tool_name(server.name(), &remote.name).and_then(|n| shared.interner.intern(&n));
    let schema = Value::Object((*remote.input_schema).clone());
    let size = serde_json::to_string(&schema)
        .map(|s| s.len())
        .unwrap_or(usize::MAX);
    let (Some(name), true) = (name, size <= MAX_SCHEMA_BYTES) else {
        tracing::warn!(server = server.name(), tool = %shorten(&remote.name, 80), "MCP tool left out: unusable name or schema too large");
        return None;
    };
    let description = remote
        .description
        .as_deref()
        .or(remote.title.as_deref())
        .unwrap_or(&remote.name);
    Some(McpTool {
        name,
        remote: remote.name.to_string(),
        description: shorten(description, MAX_DESCRIPTION_CHARS),
        schema,
        link: Arc::clone(&server.link),
    })
}
