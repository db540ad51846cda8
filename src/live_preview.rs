//! Live previews of a reply being written, as the core sees them: the dispatcher asks for one and
//! feeds it the model's stream. The channel that shows them (Telegram: drafts in private chats,
//! edits of one message in groups) implements [`PreviewChannel`] and is attached when it starts.
//! `STREAM_REPLIES=false` and a channel without previews (the terminal) get none: their replies
//! arrive whole, exactly as without streaming.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;

use crate::ids::ChatId;
use crate::llm::ToolCall;
use crate::llm::stream::StreamObserver;
use crate::message::GroupTarget;
use crate::store::Store;
use crate::tools::ToolRegistry;

/// Words for what a tool call is doing ("Reading example.com…").
pub type DescribeCall<'a> = Box<dyn Fn(&ToolCall) -> String + Send + Sync + 'a>;

/// The preview of one reply: it watches the model's stream, and stops when dropped.
#[async_trait]
pub trait LivePreview: StreamObserver {
    /// Stops the preview and waits (within a bound) until what it sent is recorded, so nothing
    /// is shown after the final text is queued.
    async fn finish(self: Box<Self>);
}

/// A channel that can show previews.
pub trait PreviewChannel: Send + Sync {
    /// A preview of a reply in the private chat `chat_id`, or `None` when that chat's replies
    /// do not stream.
    fn start<'a>(
        &self,
        chat_id: ChatId,
        describe: DescribeCall<'a>,
    ) -> Option<Box<dyn LivePreview + 'a>>;

    /// A preview of the answer to `to` in a group.
    fn start_in_group<'a>(
        &self,
        store: Store,
        to: GroupTarget,
        describe: DescribeCall<'a>,
    ) -> Option<Box<dyn LivePreview + 'a>>;
}

/// Previews for the app's replies: on when `STREAM_REPLIES` is, once a channel is attached.
pub struct Previews {
    enabled: bool,
    channel: OnceLock<Arc<dyn PreviewChannel>>,
}

impl std::fmt::Debug for Previews {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Previews")
            .field("enabled", &self.enabled)
            .field("attached", &self.channel.get().is_some())
            .finish()
    }
}

impl Previews {
    /// Previews when `enabled` (`STREAM_REPLIES`), once a channel is attached.
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            channel: OnceLock::new(),
        }
    }

    /// Lets previews be shown through the running channel (set once, when it starts).
    pub fn attach(&self, channel: Arc<dyn PreviewChannel>) {
        if self.channel.set(channel).is_err() {
            tracing::debug!("a preview channel was attached already");
        }
    }

    /// A preview of the answer to `to` in a group, its tool rounds told in the words of
    /// `tools`; `None` when replies do not stream.
    pub fn start_in_group<'a>(
        &self,
        store: Store,
        to: GroupTarget,
        tools: &'a ToolRegistry,
    ) -> Option<Box<dyn LivePreview + 'a>> {
        if !self.enabled {
            return None;
        }
        self.channel
            .get()?
            .start_in_group(store, to, describe_with(tools))
    }

    /// A preview of a reply in `chat_id`, each tool round told in the words of the tools in
    /// `tools`; `None` when that chat's replies do not stream.
    pub fn start_for<'a>(
        &self,
        chat_id: ChatId,
        tools: &'a ToolRegistry,
    ) -> Option<Box<dyn LivePreview + 'a>> {
        if !self.enabled {
            return None;
        }
        self.channel.get()?.start(chat_id, describe_with(tools))
    }
}

/// Tells a tool call in the words of its tool in `tools`.
fn describe_with(tools: &ToolRegistry) -> DescribeCall<'_> {
    Box::new(move |call: &ToolCall| match tools.get(&call.name) {
        Some(tool) => tool.progress(&call.arguments),
        None => "Working…".to_string(),
    })
}
