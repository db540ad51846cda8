//! MCP servers (Model Context Protocol): users bring their own tools. The bot is an MCP client
//! (the official `rmcp` SDK) of every server in `MCP_CONFIG`; each server's tools join the tool
//! list as `<server>__<tool>` while it is up.
//!
//! Map: [`check`] is `doctor`'s check; [`stdio`] starts a command with a clean environment;
//! [`http`] is the streamable-HTTP transport over our reqwest client; [`connect`] opens a session;
//! [`supervisor`] keeps each server connected (restarts with backoff) and reports its state into
//! [`crate::health`]; [`tool`] turns a server tool into a [`crate::tools::Tool`]; [`names`] makes
//! tool names; [`McpTools`] is the live catalogue the registry consults (as [`LiveTools`]), and
//! `report` makes the text of `/mcp`. The servers file is read by [`crate::config::mcp_servers`].

pub mod check;
pub mod connect;
pub mod http;
pub mod names;
mod report;
pub mod stdio;
pub mod supervisor;
pub mod tool;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use crate::health::{McpServerStatus, ServerState};
pub use tool::McpTool;

use crate::config::McpConfig;
use crate::health::Health;
use crate::tools::{LiveTools, Tool};
use supervisor::{Server, Shared};
use tool::Link;

/// How long shutdown waits for the servers to be stopped.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(10);

/// The live catalogue of MCP tools, and the handle that owns the servers. Cheap to clone; when
/// the last clone is dropped (or [`McpTools::shutdown`] runs), every server is stopped and its
/// process killed.
#[derive(Clone, Default)]
pub struct McpTools {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    file: Option<PathBuf>,
    servers: Vec<Arc<Server>>,
    stop: CancellationToken,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl McpTools {
    /// Starts a supervisor task for every configured server (call inside the runtime). Their
    /// state changes are reported to `health`.
    pub fn start(config: &McpConfig, health: Health) -> Self {
        let shared = Arc::new(Shared {
            interner: names::Interner::default(),
            health: health.clone(),
        });
        let servers: Vec<Arc<Server>> = config
            .servers
            .iter()
            .map(|c| Arc::new(Server::new(Link::new(c.clone()))))
            .collect();
        let stop = CancellationToken::new();
        let tasks = servers
            .iter()
            .map(|server| {
                health.set_mcp_server(server.status());
                tokio::spawn(supervisor::supervise(
                    Arc::clone(server),
                    Arc::clone(&shared),
                    stop.child_token(),
                ))
            })
            .collect();
        Self {
            inner: Arc::new(Inner {
                file: config.file.clone(),
                servers,
                stop,
                tasks: Mutex::new(tasks),
            }),
        }
    }

    /// The file the servers came from (`None`: no MCP configured).
    pub fn file(&self) -> Option<&std::path::Path> {
        self.inner.file.as_deref()
    }

    /// Every server's status, in config order.
    pub fn statuses(&self) -> Vec<McpServerStatus> {
        self.inner.servers.iter().map(|s| s.status()).collect()
    }

    /// Every tool offered now, server by server.
    pub fn tools(&self) -> Vec<Arc<McpTool>> {
        self.inner
            .servers
            .iter()
            .flat_map(|s| s.tools.lock().unwrap_or_else(|p| p.into_inner()).clone())
            .collect()
    }

    /// The tool called `name` (`<server>__<tool>`), if its server offers it now.
    pub fn get(&self, name: &str) -> Option<Arc<McpTool>> {
        self.inner.servers.iter().find_map(|s| {
            s.tools
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .find(|t| t.name == name)
                .cloned()
        })
    }

    /// Stops every server (killing stdio processes) and waits for that, within a bound.
    pub async fn shutdown(&self) {
        self.inner.stop.cancel();
        let tasks =
            std::mem::take(&mut *self.inner.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        if tokio::time::timeout(SHUTDOWN_WAIT, futures::future::join_all(tasks))
            .await
            .is_err()
        {
            tracing::warn!("some MCP servers did not stop in time");
        }
    }
}

/// The registry and `/mcp` see the servers' tools through the tools' own trait.
impl LiveTools for McpTools {
    fn get(&self, name: &str) -> Option<Arc<dyn Tool>> {
        McpTools::get(self, name).map(|t| t as Arc<dyn Tool>)
    }

    fn tools(&self) -> Vec<Arc<dyn Tool>> {
        McpTools::tools(self)
            .into_iter()
            .map(|t| t as Arc<dyn Tool>)
            .collect()
    }

    fn report(&self) -> String {
        McpTools::report(self)
    }
}
