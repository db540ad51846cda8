//! Whether a reply gets live previews, and the clients they use once the bot runs: drafts in
//! private chats, edits of one message in groups (see `group_preview`). `STREAM_REPLIES=false`
//! and a channel without Telegram get none: their replies arrive whole, exactly as without
//! streaming.

use std::sync::OnceLock;

use super::draft::DraftClient;
use super::group_preview::{GroupEditor, GroupPreview, GroupTarget};
use super::preview::{DescribeCall, Preview};
use crate::ids::ChatId;
use crate::llm::ToolCall;
use crate::store::Store;
use crate::tools::ToolRegistry;

/// Previews for the app's replies.
#[derive(Debug)]
pub struct Previews {
    enabled: bool,
    client: OnceLock<DraftClient>,
    group: OnceLock<GroupEditor>,
}

impl Previews {
    /// Previews when `enabled` (`STREAM_REPLIES`), once a client is attached.
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            client: OnceLock::new(),
            group: OnceLock::new(),
        }
    }

    /// Lets previews be sent through the running bot (set once, when it starts).
    pub fn attach(&self, client: DraftClient) {
        if self.client.set(client).is_err() {
            tracing::debug!("the draft client was attached already");
        }
    }

    /// Lets group previews be sent through the running bot (set once, when it starts).
    pub fn attach_group(&self, editor: GroupEditor) {
        if self.group.set(editor).is_err() {
            tracing::debug!("the group editor was attached already");
        }
    }

    /// A preview of the answer to `to` in a group, its tool rounds told in the words of
    /// `tools`; `None` when replies do not stream.
    pub fn start_in_group<'a>(
        &self,
        store: Store,
        to: GroupTarget,
        tools: &'a ToolRegistry,
    ) -> Option<GroupPreview<'a>> {
        if !self.enabled {
            return None;
        }
        let editor = self.group.get()?.clone();
        Some(GroupPreview::start(editor, store, to, describe_with(tools)))
    }

    /// A preview of a reply in `chat_id`, or `None` when that chat's replies do not stream.
    pub fn start<'a>(&self, chat_id: ChatId, describe: DescribeCall<'a>) -> Option<Preview<'a>> {
        if !self.enabled || chat_id.0 <= 0 {
            return None;
        }
        let client = self.client.get()?.clone();
        Some(Preview::start(client, chat_id, describe))
    }

    /// [`Previews::start`] with each tool round told in the words of the tools in `tools`.
    pub fn start_for<'a>(&self, chat_id: ChatId, tools: &'a ToolRegistry) -> Option<Preview<'a>> {
        self.start(chat_id, describe_with(tools))
    }
}

/// Tells a tool call in the words of its tool in `tools`.
fn describe_with(tools: &ToolRegistry) -> DescribeCall<'_> {
    Box::new(move |call: &ToolCall| match tools.get(&call.name) {
        Some(tool) => tool.progress(&call.arguments),
        None => "Working…".to_string(),
    })
}
