//! Connecting to one server with rmcp: start the command (or reach the URL), shake hands, and
//! list its tools, all within the server's startup timeout. The connection's
//! `notifications/tools/list_changed` wake the supervisor, which lists the tools again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::{ClientConfig, Implementation};
use rmcp::service::{NotificationContext, RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::async_rw::AsyncRwTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, ServiceExt as _};
use secrecy::ExposeSecret as _;
use tokio::sync::Notify;

use super::http::McpHttpClient;
use super::stdio;
use crate::config::{McpServerConfig, McpTransport};

/// Largest single message read from a stdio server.
const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;
/// Time to open a TCP (and TLS) connection to an HTTP server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Most tools taken from one server.
pub const MAX_TOOLS_PER_SERVER: usize = 128;

/// Our side of the MCP session: says who we are and passes tool-list changes on.
#[derive(Clone)]
pub struct Handler {
    tools_changed: Arc<Notify>,
}

impl ClientHandler for Handler {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.tools_changed.notify_one();
    }

    fn get_info(&self) -> ClientConfig {
        let mut info = ClientConfig::default();
        let mut me = Implementation::default();
        me.name = "minicrew".into();
        me.version = env!("CARGO_PKG_VERSION").into();
        info.client_info = me;
        info
    }
}

/// A live session with a server.
pub struct Connection {
    /// The rmcp service (dropping it closes the session).
    pub service: RunningService<RoleClient, Handler>,
    /// The process of a stdio server (its process group is killed on drop).
    pub child: Option<stdio::OwnedChild>,
    /// Woken by `notifications/tools/list_changed`.
    pub tools_changed: Arc<Notify>,
}

/// Connects to `config`'s server; the error is one line for `/mcp` (never a header value).
pub async fn connect(
    config: &McpServerConfig,
    last_stderr: Arc<Mutex<Option<String>>>,
) -> Result<Connection, String> {
    let tools_changed = Arc::new(Notify::new());
    let handler = Handler {
        tools_changed: Arc::clone(&tools_changed),
    };
    let started = async {
        match &config.transport {
            McpTransport::Stdio { command, .. } => {
                let spawned =
                    stdio::spawn(&config.name, &config.transport, Arc::clone(&last_stderr))
                        .map_err(|e| format!("cannot start '{command}': {e}"))?;
                let transport = AsyncRwTransport::new(spawned.stdout, spawned.stdin)
                    .with_max_line_length(MAX_MESSAGE_BYTES);
                let mut child = spawned.child;
                match handler.serve(transport).await {
                    Ok(service) => Ok((service, Some(child))),
                    Err(e) => {
                        stdio::kill_group(&mut child.0);
                        let _ = child.0.wait().await;
                        Err(with_stderr(
                            format!("the handshake failed: {e}"),
                            &last_stderr,
                        ))
                    }
                }
            }
            McpTransport::Http { url, headers } => {
                let client = McpHttpClient::new(CONNECT_TIMEOUT, config.call_timeout)
                    .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
                let transport = StreamableHttpClientTransport::with_client(
                    client,
                    StreamableHttpClientTransportConfig::with_uri(url.as_str())
                        .custom_headers(header_map(headers)?),
                );
                handler
                    .serve(transport)
                    .await
                    .map(|service| (service, None))
                    .map_err(|e| format!("the handshake with {} failed: {e}", redacted(url)))
            }
        }
    };
    let (service, child) = tokio::time::timeout(config.startup_timeout, started)
        .await
        .map_err(|_| {
            format!(
                "no answer within {} s (startup_timeout_secs)",
                config.startup_timeout.as_secs()
            )
        })??;
    Ok(Connection {
        service,
        child,
        tools_changed,
    })
}

/// The configured headers, marked sensitive so they never show in debug output.
fn header_map(
    headers: &[(String, secrecy::SecretString)],
) -> Result<HashMap<http::HeaderName, http::HeaderValue>, String> {
    headers
        .iter()
        .map(|(name, value)| {
            let name = http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("the header name '{name}' is invalid"))?;
            let mut value = http::HeaderValue::from_str(value.expose_secret())
                .map_err(|_| format!("the value of header '{name}' is not a valid header value"))?;
            value.set_sensitive(true);
            Ok((name, value))
        })
        .collect()
}

/// A URL without its query and credentials, for messages.
pub fn redacted(url: &url::Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    let _ = shown.set_password(None);
    let _ = shown.set_username("");
    shown.to_string()
}

/// `error`, with the server's last stderr line when it wrote one (why it did not start).
pub fn with_stderr(error: String, last_stderr: &Mutex<Option<String>>) -> String {
    match last_stderr
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_deref()
    {
        Some(line) => format!("{error} (its last words: {line})"),
        None => error,
    }
}
