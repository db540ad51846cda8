//! Telegram's live previews: drafts in private chats (see `preview`), edits of one message in
//! groups (see `group_preview`). Attached to the core's [`crate::live_preview::Previews`] when
//! the bot starts.

use super::draft::DraftClient;
use super::group_preview::{GroupEditor, GroupPreview, GroupTarget};
use super::preview::Preview;
use crate::ids::ChatId;
use crate::live_preview::{DescribeCall, LivePreview, PreviewChannel};
use crate::store::Store;

/// The clients previews are sent with.
#[derive(Debug)]
pub struct TelegramPreviews {
    client: DraftClient,
    group: GroupEditor,
}

impl TelegramPreviews {
    /// Previews through `client` (drafts) and `group` (edits in groups).
    pub fn new(client: DraftClient, group: GroupEditor) -> Self {
        Self { client, group }
    }
}

impl PreviewChannel for TelegramPreviews {
    fn start<'a>(
        &self,
        chat_id: ChatId,
        describe: DescribeCall<'a>,
    ) -> Option<Box<dyn LivePreview + 'a>> {
        // Drafts exist only in private chats (positive ids).
        if chat_id.0 <= 0 {
            return None;
        }
        Some(Box::new(Preview::start(
            self.client.clone(),
            chat_id,
            describe,
        )))
    }

    fn start_in_group<'a>(
        &self,
        store: Store,
        to: GroupTarget,
        describe: DescribeCall<'a>,
    ) -> Option<Box<dyn LivePreview + 'a>> {
        Some(Box::new(GroupPreview::start(
            self.group.clone(),
            store,
            to,
            describe,
        )))
    }
}
