//! One MCP server tool as a minicrew [`Tool`]: named `<server>__<tool>`, effect `outside` unless
//! the server is configured `"effect": "read"`, private chats only, offered only to the users the
//! server allows. A call goes to the server's current connection with a timeout; the result
//! (text; images and other binary parts as a placeholder, since tool results reach the model as
//! text) is cut to a size cap and, for the model, quoted as untrusted content.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rmcp::model::{CallToolRequestParams, CallToolResult, ContentBlock, ResourceContents};
use rmcp::service::{Peer, RoleClient};
use serde_json::Value;

use crate::config::{McpServerConfig, McpUsers};
use crate::tools::{CallSource, Effect, Tool, ToolContext, ToolError, ToolOutput, shorten};
use crate::untrusted::quote;
use crate::users::User;

/// Most characters of a tool result kept.
pub const MAX_RESULT_CHARS: usize = 16_000;

/// A server's live connection, shared by its tools; `None` while it is down.
pub struct Link {
    /// The server's configuration.
    pub config: McpServerConfig,
    peer: Mutex<Option<Peer<RoleClient>>>,
    /// Woken when a call failed in a way that suggests the server is gone: the supervisor pings
    /// it at once instead of waiting for its next periodic ping.
    pub suspect: tokio::sync::Notify,
}

impl Link {
    /// A link with no connection yet.
    pub fn new(config: McpServerConfig) -> Self {
        Self {
            config,
            peer: Mutex::new(None),
            suspect: tokio::sync::Notify::new(),
        }
    }

    /// Sets (or clears) the connection.
    pub fn set_peer(&self, peer: Option<Peer<RoleClient>>) {
        *self.peer.lock().unwrap_or_else(|p| p.into_inner()) = peer;
    }

    fn peer(&self) -> Option<Peer<RoleClient>> {
        self.peer.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// One tool of one server.
pub struct McpTool {
    /// `<server>__<tool>`.
    pub name: &'static str,
    /// The tool's own name on the server.
    pub remote: String,
    /// Its description, for the model.
    pub description: String,
    /// Its input schema (JSON Schema of the arguments object).
    pub schema: Value,
    /// The server it belongs to.
    pub link: Arc<Link>,
}

impl McpTool {
    fn server(&self) -> &str {
        &self.link.config.name
    }

    async fn call_remote(&self, args: Value) -> Result<CallToolResult, ToolError> {
        let arguments = match args {
            Value::Object(map) => map,
            Value::Null => serde_json::Map::new(),
            _ => {
                return Err(ToolError::InvalidArguments(
                    "the arguments must be a JSON object".into(),
                ));
            }
        };
        let server = self.server();
        let peer = self.link.peer().ok_or_else(|| {
            ToolError::Failed(format!(
                "The MCP server '{server}' is not running right now (see /mcp); try again in a \
                 minute."
            ))
        })?;
        let request = CallToolRequestParams::new(self.remote.clone()).with_arguments(arguments);
        let timeout = self.link.config.call_timeout;
        match tokio::time::timeout(timeout, peer.call_tool(request)).await {
            Err(_) => {
                self.link.suspect.notify_one();
                Err(ToolError::Failed(format!(
                    "The MCP server '{server}' did not answer within {} s.",
                    timeout.as_secs()
                )))
            }
            Ok(Err(e)) => {
                tracing::info!(server, tool = %self.remote, error = %e, "MCP tool call failed");
                self.link.suspect.notify_one();
                Err(ToolError::Failed(format!(
                    "The MCP server '{server}' could not run {}: {}",
                    self.remote,
                    shorten(&e.to_string(), 300)
                )))
            }
            Ok(Ok(result)) => Ok(result),
        }
    }
}

#[async_trait]
impl Tool for McpTool {
    fn name(&self) -> &'static str {
        self.name
    }

    fn description(&self) -> &'static str {
        "A tool from an MCP server (see /mcp)"
    }

    fn usage(&self) -> &'static str {
        "called by the assistant; see /mcp"
    }

    fn parameters(&self) -> Value {
        self.schema.clone()
    }

    fn spec_description(&self) -> String {
        self.description.clone()
    }

    fn effect(&self) -> Effect {
        if self.link.config.read_only {
            Effect::Read
        } else {
            Effect::Outside
        }
    }

    fn returns_untrusted(&self) -> bool {
        true
    }

    fn sends_out(&self) -> bool {
        true
    }

    fn offered_to(&self, user: &User) -> bool {
        match self.link.config.users {
            McpUsers::All => true,
            McpUsers::Owner => user.is_owner(),
        }
    }

    fn describe(&self, args: &Value) -> String {
        let call = crate::tools::describe_call(&self.remote, args);
        format!(
            "Run the tool {} of the MCP server '{}'",
            call.trim_start_matches('/'),
            self.server()
        )
    }

    async fn call(&self, ctx: &ToolContext<'_>, args: Value) -> Result<ToolOutput, ToolError> {
        let result = self.call_remote(args).await?;
        let failed = result.is_error == Some(true);
        let text = render(&result, MAX_RESULT_CHARS);
        let text = match ctx.source {
            CallSource::Llm => {
                let origin = format!("MCP server {} (tool {})", self.server(), self.remote);
                let note = if failed {
                    "The tool reported an error.\n"
                } else {
                    ""
                };
                format!("{note}{}", quote(&origin, &text))
            }
            CallSource::Command | CallSource::Schedule | CallSource::Confirm => {
                let what = if failed {
                    "reported an error"
                } else {
                    "answered"
                };
                format!("{} {what}:\n{text}", self.name)
            }
        };
        Ok(ToolOutput::plain(text))
    }
}

/// The result as text: text parts as they are, other parts as a short placeholder, the
/// structured content when there is nothing else; cut to `max` characters.
pub fn render(result: &CallToolResult, max: usize) -> String {
    let mut parts: Vec<String> = result.content.iter().map(part).collect();
    if parts.is_empty()
        && let Some(structured) = &result.structured_content
    {
        parts.push(structured.to_string());
    }
    let text = parts.join("\n");
    if text.chars().count() > max {
        format!(
            "{}\n[… the result was cut to {max} characters]",
            text.chars().take(max).collect::<String>()
        )
    } else {
        text
    }
}

fn part(block: &ContentBlock) -> String {
    match block {
        ContentBlock::Text(t) => t.text.clone(),
        ContentBlock::Image(i) => format!(
            "[an image ({}, about {} bytes) that cannot be shown here]",
            shorten(&i.mime_type, 50),
            i.data.len() / 4 * 3
        ),
        ContentBlock::Audio(a) => format!(
            "[an audio clip ({}) that cannot be played here]",
            shorten(&a.mime_type, 50)
        ),
        ContentBlock::Resource(r) => match &r.resource {
            ResourceContents::TextResourceContents { uri, text, .. } => {
                format!("[resource {}]\n{text}", shorten(uri, 200))
            }
            ResourceContents::BlobResourceContents { uri, .. } => {
                format!("[a binary resource {}]", shorten(uri, 200))
            }
            _ => "[a resource of a kind not shown here]".to_string(),
        },
        ContentBlock::ResourceLink(l) => {
            format!("[a link to the resource {}]", shorten(&l.uri, 200))
        }
        _ => "[a part of a kind not shown here]".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(value: serde_json::Value) -> CallToolResult {
        serde_json::from_value(value).expect("a CallToolResult")
    }

    #[test]
    fn text_parts_are_kept_and_images_become_a_placeholder() {
        let r = result(serde_json::json!({"content": [
            {"type": "text", "text": "first"},
            {"type": "image", "data": "aGVsbG8h", "mimeType": "image/png"},
            {"type": "text", "text": "second"}
        ]}));
        assert_eq!(
            render(&r, 1000),
            "first\n[an image (image/png, about 6 bytes) that cannot be shown here]\nsecond"
        );
    }

    #[test]
    fn a_huge_result_is_cut_at_the_cap_and_says_so() {
        let r =
            result(serde_json::json!({"content": [{"type": "text", "text": "é".repeat(50_000)}]}));
        let text = render(&r, 100);
        assert!(text.starts_with(&"é".repeat(100)));
        assert!(text.ends_with("[… the result was cut to 100 characters]"));
        assert!(text.chars().count() < 150);
    }

    #[test]
    fn structured_content_is_used_when_there_is_no_content() {
        let r = result(serde_json::json!({"content": [], "structuredContent": {"sum": 42}}));
        assert_eq!(render(&r, 100), r#"{"sum":42}"#);
    }
}
