//! Live previews of a reply being written, in a group (where `sendMessageDraft` does not exist):
//! one real message, created at the first text as a reply to the question (in its forum topic)
//! and edited at most once every [`GROUP_EDIT_EVERY`]; an answer longer than one message
//! continues in new messages at the outbox's split points. Each message created is recorded in
//! `stream_messages` at once, so the final text goes through the outbox as edits of these
//! messages (see `stream_final`), and a replay after a crash edits them again instead of
//! creating new ones.
//!
//! The model's stream only records into a watch channel; one task per reply sends the latest
//! state when the throttle allows, using only send slots the chat has to spare (edits count
//! against the chat's rate limit and never make the final text wait). A 429 slows the edits,
//! a second one stops them; "message is not modified" is not an error. [`GroupPreview::finish`]
//! stops the task and waits for a request in flight, so no late edit can overwrite the final
//! text.

use std::time::Duration;

use teloxide::prelude::*;
use teloxide::types::{MessageId, ReplyParameters, ThreadId};
use teloxide::{ApiError, RequestError};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::format::{ChunkFormat, html_to_plain, markdown_to_html};
use super::rate_limit::RateLimiter;
use super::split::{TELEGRAM_MAX_UTF16, split_message};
use crate::ids::ChatId;
use crate::live_preview::{DescribeCall, LivePreview};
use crate::llm::ToolCall;
use crate::llm::stream::StreamObserver;
pub use crate::message::GroupTarget;
use crate::store::Store;

/// Shortest time between two rounds of edits of one reply (Telegram allows a group about 20
/// messages a minute, edits included).
pub const GROUP_EDIT_EVERY: Duration = Duration::from_secs(3);

/// How soon a round that found no spare send slot tries again.
const NO_SLOT_RETRY: Duration = Duration::from_millis(250);

/// Longest the final text waits for a preview request still in flight; then it is dropped.
const FINISH_WAIT: Duration = Duration::from_secs(5);

/// 429s after which a reply's edits stop.
const MAX_RATE_LIMITS: u32 = 2;

/// Other failures after which a reply's edits stop.
const MAX_FAILURES: u32 = 3;

/// Creates and edits streamed messages for one bot. Cheap to clone.
#[derive(Clone)]
pub struct GroupEditor {
    bot: Bot,
    limiter: RateLimiter,
}

impl std::fmt::Debug for GroupEditor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupEditor").finish_non_exhaustive()
    }
}

impl GroupEditor {
    /// Edits through `bot`, counted against `limiter` (the outbox's).
    pub fn new(bot: Bot, limiter: RateLimiter) -> Self {
        Self { bot, limiter }
    }

    /// Sends part `seq` of an answer as a new plain message; returns its id.
    async fn create(&self, to: GroupTarget, seq: usize, text: &str) -> Result<i64, RequestError> {
        let mut request = self.bot.send_message(to.chat_id, text);
        if let Some(thread) = to.thread_id {
            request = request.message_thread_id(ThreadId(MessageId(thread)));
        }
        if let Ok(id) = i32::try_from(to.reply_to)
            && seq == 0
        {
            request = request.reply_parameters(
                ReplyParameters::new(MessageId(id)).allow_sending_without_reply(),
            );
        }
        Ok(i64::from(request.await?.id.0))
    }

    /// Shows `text` (plain) in message `id`; an unchanged text is no error.
    async fn edit(&self, chat_id: ChatId, id: i64, text: &str) -> Result<(), RequestError> {
        let Ok(id) = i32::try_from(id) else {
            return Ok(());
        };
        match self
            .bot
            .edit_message_text(chat_id, MessageId(id), text)
            .await
        {
            Ok(_) | Err(RequestError::Api(ApiError::MessageNotModified)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// What the messages should show now.
#[derive(Debug, Clone, Default)]
struct Shown {
    text: String,
    status: String,
    /// The last call ended in a tool round: the next call continues the same answer.
    after_tools: bool,
}

impl Shown {
    /// The answer so far cut where the outbox will cut it, each part as a reader sees it
    /// (Markdown applied without its marks: edits go without parse mode, so half-written
    /// formatting can never make Telegram refuse them); the tool status while there is no text.
    fn pages(&self) -> Vec<String> {
        if self.text.trim().is_empty() {
            return (!self.status.trim().is_empty())
                .then(|| self.status.clone())
                .into_iter()
                .collect();
        }
        split_message(
            &markdown_to_html(&self.text),
            ChunkFormat::Html,
            TELEGRAM_MAX_UTF16,
        )
        .iter()
        .map(|page| html_to_plain(page))
        .filter(|page| !page.trim().is_empty())
        .collect()
    }
}

/// The live preview of one group reply.
pub struct GroupPreview<'a> {
    state: watch::Sender<Shown>,
    describe: DescribeCall<'a>,
    stop: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl<'a> GroupPreview<'a> {
    /// Starts previews of the answer to `to` through `editor`.
    pub fn start(
        editor: GroupEditor,
        store: Store,
        to: GroupTarget,
        describe: DescribeCall<'a>,
    ) -> Self {
        let (state, changes) = watch::channel(Shown::default());
        let stop = CancellationToken::new();
        let task = tokio::spawn(show(editor, store, to, changes, stop.clone()));
        Self {
            state,
            describe,
            stop,
            task: Some(task),
        }
    }

    /// Stops the edits and waits (at most [`FINISH_WAIT`]) for one in flight, so that every
    /// message created is recorded and nothing is edited after the final text is queued.
    pub async fn finish(mut self) {
        self.stop.cancel();
        let Some(mut task) = self.task.take() else {
            return;
        };
        match tokio::time::timeout(FINISH_WAIT, &mut task).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "the group preview task ended abnormally"),
            Err(_) => {
                task.abort();
                tracing::warn!("a slow group preview request was dropped for the final text");
            }
        }
    }
}

#[async_trait::async_trait]
impl LivePreview for GroupPreview<'_> {
    async fn finish(self: Box<Self>) {
        GroupPreview::finish(*self).await;
    }
}

impl Drop for GroupPreview<'_> {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl StreamObserver for GroupPreview<'_> {
    fn call_started(&self) {
        self.state.send_modify(|shown| {
            if !std::mem::take(&mut shown.after_tools) {
                // A first call, a retry or a fallback: the same messages show the new answer.
                shown.status.clear();
            }
            shown.text.clear();
        });
    }

    fn text(&self, delta: &str) {
        if !delta.is_empty() {
            self.state.send_modify(|shown| shown.text.push_str(delta));
        }
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
            shown.after_tools = true;
        });
    }
}

/// How a round of edits ended.
enum Round {
    /// Everything shown; whether anything had to be sent for it.
    Done(bool),
    /// The chat has no send slot to spare: the rest waits (a moment, if nothing was sent).
    NoSlot(bool),
    /// Telegram said 429: wait at least this long.
    RateLimited(Duration),
    /// Creating the first message failed: no preview (the final text is sent as usual).
    Stop,
}

/// The per-reply task: sends the latest pages whenever they changed and the throttle allows.
async fn show(
    editor: GroupEditor,
    store: Store,
    to: GroupTarget,
    mut changes: watch::Receiver<Shown>,
    stop: CancellationToken,
) {
    // A replay after a crash continues the messages the first run created.
    let mut ids = match store.stream_messages_of(to.update_id, to.chat_id).await {
        Ok(ids) => ids,
        Err(e) => {
            tracing::warn!(error = %e, "streamed messages unreadable; no group preview");
            return;
        }
    };
    let mut shown: Vec<String> = Vec::new();
    let (mut every, mut rate_limits, mut failures) = (GROUP_EDIT_EVERY, 0, 0);
    loop {
        tokio::select! {
            biased;
            () = stop.cancelled() => return,
            changed = changes.changed() => if changed.is_err() { return },
        }
        let pages = changes.borrow_and_update().pages();
        let round = show_round(&editor, &store, to, &pages, &mut ids, &mut shown).await;
        let mut pause = every;
        match round {
            // Nothing to show yet (a call started): wait for text, not for the throttle.
            Ok(Round::Done(false)) => continue,
            Ok(Round::Done(true)) => {}
            Ok(Round::NoSlot(sent)) => {
                changes.mark_changed();
                if !sent {
                    // Try again soon, not a whole throttle period later.
                    pause = NO_SLOT_RETRY;
                }
            }
            Ok(Round::Stop) => return,
            Ok(Round::RateLimited(wait)) => {
                rate_limits += 1;
                tracing::info!(chat_id = %to.chat_id, ?wait, "group preview rate limited");
                if rate_limits >= MAX_RATE_LIMITS {
                    return;
                }
                every = (every * 2).max(wait);
                pause = every;
                changes.mark_changed();
            }
            Err(error) => {
                failures += 1;
                crate::metrics::telegram_error("editMessageText", super::error_code(&error));
                tracing::info!(chat_id = %to.chat_id, error = %super::describe_error(&error),
                    "group preview not shown");
                if failures >= MAX_FAILURES {
                    return;
                }
            }
        }
        tokio::select! {
            biased;
            () = stop.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// Shows each page that changed: edits the messages that exist, creates the next one.
async fn show_round(
    editor: &GroupEditor,
    store: &Store,
    to: GroupTarget,
    pages: &[String],
    ids: &mut Vec<i64>,
    shown: &mut Vec<String>,
) -> Result<Round, RequestError> {
    let mut sent_any = false;
    for (seq, page) in pages.iter().enumerate() {
        if shown.get(seq) == Some(page) {
            continue;
        }
        if !editor.limiter.try_acquire_leaving_one(to.chat_id) {
            return Ok(Round::NoSlot(sent_any));
        }
        sent_any = true;
        let sent = match ids.get(seq) {
            Some(&id) => editor.edit(to.chat_id, id, page).await,
            None => match editor.create(to, seq, page).await {
                Ok(id) => {
                    ids.push(id);
                    if let Err(e) = store
                        .record_stream_message(to.update_id, seq, to.chat_id, id)
                        .await
                    {
                        tracing::error!(error = %e, "a streamed message could not be recorded");
                    }
                    Ok(())
                }
                Err(e) if seq == 0 => {
                    tracing::info!(error = %super::describe_error(&e),
                        "group preview message not created; the answer is sent whole");
                    return Ok(Round::Stop);
                }
                Err(e) => Err(e),
            },
        };
        match sent {
            Ok(()) => {
                shown.truncate(seq);
                shown.resize(seq, String::new());
                shown.push(page.clone());
            }
            Err(RequestError::RetryAfter(wait)) => {
                return Ok(Round::RateLimited(super::retry_wait(wait)));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Round::Done(sent_any))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_answer_is_previewed_in_pages_cut_where_the_outbox_cuts() {
        let paragraph = "word ".repeat(150);
        let text = [paragraph.trim(); 12].join("\n\n");
        let shown = Shown {
            text: text.clone(),
            ..Shown::default()
        };
        let pages = shown.pages();
        let finals = split_message(
            &markdown_to_html(&text),
            ChunkFormat::Html,
            TELEGRAM_MAX_UTF16,
        );
        assert!(pages.len() > 1, "{} chars in one page", text.len());
        assert_eq!(pages.len(), finals.len());
        for (page, last) in pages.iter().zip(&finals) {
            assert_eq!(page, &html_to_plain(last));
        }
        let status = Shown {
            status: "Reading example.com…".into(),
            ..Shown::default()
        };
        assert_eq!(status.pages(), vec!["Reading example.com…".to_string()]);
        assert!(Shown::default().pages().is_empty());
    }
}
