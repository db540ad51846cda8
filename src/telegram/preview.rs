//! Live previews of a reply being written, in a private chat: the text streamed so far shown
//! with `sendMessageDraft`, at most about once every [`PREVIEW_EVERY`], and what the bot is
//! doing during a tool round ("Reading example.com…"). The final text is not sent here: it goes
//! once through the outbox, which replaces the draft.
//!
//! The model's stream only records into a watch channel (never waits on Telegram); one task per
//! reply sends the latest state when the throttle allows. Previews only use send slots the chat
//! has to spare, so they never make the final message wait; a 429 slows them down, a second one
//! stops them, and dropping the [`Preview`] stops them at once.

use std::time::Duration;

use tokio::sync::watch;
use tokio_util::task::AbortOnDropHandle;

use super::draft::{DraftClient, DraftError};
use super::format::{html_to_plain, markdown_to_html};
use crate::ids::ChatId;
use crate::live_preview::{DescribeCall, LivePreview};
use crate::llm::ToolCall;
use crate::llm::stream::StreamObserver;

/// Shortest time between two previews of one reply.
pub const PREVIEW_EVERY: Duration = Duration::from_millis(700);

/// Most characters a preview shows (Telegram allows 4096): the end of a longer text.
const MAX_PREVIEW_CHARS: usize = 4000;

/// 429s after which a reply's previews stop.
const MAX_RATE_LIMITS: u32 = 2;

/// Other failures after which a reply's previews stop.
const MAX_FAILURES: u32 = 3;

/// What the preview should show now.
#[derive(Debug, Clone, Default)]
struct Shown {
    draft_id: i64,
    text: String,
    status: String,
    /// Something of this draft reached the screen (or was meant to).
    used: bool,
    /// The last call ended in a tool round: the next call continues the same draft.
    after_tools: bool,
}

impl Shown {
    /// The preview text: the answer so far as a reader will see it (Markdown applied, without
    /// its marks: a preview is sent without parse mode, so half-written formatting can never
    /// make Telegram refuse it), or else the tool status; a long text shows its end.
    fn visible(&self) -> String {
        let text = if self.text.trim().is_empty() {
            self.status.clone()
        } else {
            html_to_plain(&markdown_to_html(&self.text))
        };
        let count = text.chars().count();
        if count <= MAX_PREVIEW_CHARS {
            return text;
        }
        let tail: String = text.chars().skip(count - MAX_PREVIEW_CHARS + 1).collect();
        format!("…{tail}")
    }
}

/// The preview of one reply; previews stop when it is dropped.
pub struct Preview<'a> {
    state: watch::Sender<Shown>,
    describe: DescribeCall<'a>,
    _task: AbortOnDropHandle<()>,
}

impl<'a> Preview<'a> {
    /// Starts previews in `chat_id` through `client`.
    pub fn start(client: DraftClient, chat_id: ChatId, describe: DescribeCall<'a>) -> Self {
        let (state, changes) = watch::channel(Shown {
            draft_id: new_draft_id(),
            ..Shown::default()
        });
        let task = tokio::spawn(show(client, chat_id, changes));
        Self {
            state,
            describe,
            _task: AbortOnDropHandle::new(task),
        }
    }
}

impl StreamObserver for Preview<'_> {
    fn call_started(&self) {
        self.state.send_modify(|shown| {
            if !std::mem::take(&mut shown.after_tools) && shown.used {
                // A retry or a fallback: what was shown came from a call that failed.
                shown.draft_id = new_draft_id();
                shown.used = false;
                shown.status.clear();
            }
            shown.text.clear();
        });
    }

    fn text(&self, delta: &str) {
        if delta.is_empty() {
            return;
        }
        self.state.send_modify(|shown| {
            shown.text.push_str(delta);
            shown.used = true;
        });
    }

    fn tools_running(&self, calls: &[ToolCall]) {
        let status = calls
            .iter()
            .map(|call| (self.describe)(call))
            .collect::<Vec<_>>()
            .join("\n");
        self.state.send_modify(|shown| {
            shown.text.clear();
            shown.status = status;
            shown.used = true;
            shown.after_tools = true;
        });
    }
}

/// A draft needs no finishing: the final text replaces it, and dropping the preview stops it.
#[async_trait::async_trait]
impl LivePreview for Preview<'_> {
    async fn finish(self: Box<Self>) {}
}

/// A draft id: random, non-zero, so a fresh preview never animates from an old one.
fn new_draft_id() -> i64 {
    fastrand::i64(1..i64::from(i32::MAX))
}

/// Sends the latest state whenever it changed and the throttle allows, until dropped.
async fn show(client: DraftClient, chat_id: ChatId, mut changes: watch::Receiver<Shown>) {
    let mut every = PREVIEW_EVERY;
    let (mut rate_limits, mut failures) = (0, 0);
    let mut last_sent: Option<(i64, String)> = None;
    while changes.changed().await.is_ok() {
        let shown = changes.borrow_and_update().clone();
        let (draft_id, text) = (shown.draft_id, shown.visible());
        if text.trim().is_empty() || last_sent.as_ref() == Some(&(draft_id, text.clone())) {
            continue;
        }
        let sent = client.send(chat_id, draft_id, &text).await;
        if let Err(error) = &sent
            && *error != DraftError::NoSlot
        {
            crate::metrics::telegram_error("sendMessageDraft", error.code());
        }
        match sent {
            Ok(()) => last_sent = Some((draft_id, text)),
            Err(DraftError::NoSlot) => changes.mark_changed(),
            Err(DraftError::RateLimited(wait)) => {
                rate_limits += 1;
                tracing::info!(%chat_id, ?wait, "preview rate limited; slowing previews");
                if rate_limits >= MAX_RATE_LIMITS {
                    return;
                }
                every = (every * 2).max(wait);
                changes.mark_changed();
            }
            Err(error) => {
                failures += 1;
                tracing::info!(%chat_id, %error, "preview not shown");
                if failures >= MAX_FAILURES {
                    return;
                }
            }
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_text_previews_its_end_within_telegrams_limit() {
        let shown = Shown {
            text: format!("start{}end", "x".repeat(10_000)),
            ..Shown::default()
        };
        let visible = shown.visible();
        assert_eq!(visible.chars().count(), MAX_PREVIEW_CHARS);
        assert!(visible.starts_with('…') && visible.ends_with("end"));
        let status = Shown {
            status: "Reading example.com…".into(),
            ..Shown::default()
        };
        assert_eq!(status.visible(), "Reading example.com…");
        let marked = Shown {
            text: "**Rivers** run to ".into(),
            ..Shown::default()
        };
        assert_eq!(
            marked.visible(),
            "Rivers run to ",
            "marks applied, text kept"
        );
    }
}
