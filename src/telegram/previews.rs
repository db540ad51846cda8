//! Whether a reply gets live previews, and the draft client they use once the bot runs.
//! `STREAM_REPLIES=false`, a channel without Telegram, and chats that are not private (drafts
//! exist only there) get none: their replies arrive whole, exactly as without streaming.

use std::sync::OnceLock;

use super::draft::DraftClient;
use super::preview::{DescribeCall, Preview};
use crate::llm::ToolCall;
use crate::tools::ToolRegistry;

/// Previews for the app's replies.
#[derive(Debug)]
pub struct Previews {
    enabled: bool,
    client: OnceLock<DraftClient>,
}

impl Previews {
    /// Previews when `enabled` (`STREAM_REPLIES`), once a client is attached.
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            client: OnceLock::new(),
        }
    }

    /// Lets previews be sent through the running bot (set once, when it starts).
    pub fn attach(&self, client: DraftClient) {
        if self.client.set(client).is_err() {
            tracing::debug!("the draft client was attached already");
        }
    }

    /// A preview of a reply in `chat_id`, or `None` when that chat's replies do not stream.
    pub fn start<'a>(&self, chat_id: i64, describe: DescribeCall<'a>) -> Option<Preview<'a>> {
        if !self.enabled || chat_id <= 0 {
            return None;
        }
        let client = self.client.get()?.clone();
        Some(Preview::start(client, chat_id, describe))
    }

    /// [`Previews::start`] with each tool round told in the words of the tools in `tools`.
    pub fn start_for<'a>(&self, chat_id: i64, tools: &'a ToolRegistry) -> Option<Preview<'a>> {
        self.start(
            chat_id,
            Box::new(move |call: &ToolCall| match tools.get(&call.name) {
                Some(tool) => tool.progress(&call.arguments),
                None => "Working…".to_string(),
            }),
        )
    }
}
