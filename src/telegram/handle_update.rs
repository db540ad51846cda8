//! Handling one stored update end to end: parse, dispatch, store the replies in the outbox,
//! deliver them, and close the inbox row. Re-running it after a crash is safe: an update that
//! already has outbox rows is not dispatched again, only its unsent chunks go out. A panic while
//! handling one update is caught here: it costs that chat one apology and closes the row as
//! failed, so it is never replayed.

use std::any::Any;
use std::borrow::Cow;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use futures::FutureExt as _;
use teloxide::prelude::*;
use teloxide::types::Update;

use super::album;
use super::convert::{decode_update, to_incoming};
use super::describe_error;
use super::intake::QueuedUpdate;
use super::send::TelegramSender;
use crate::dispatch::Dispatcher;
use crate::ids::ChatId;
use crate::message::{Content, Reply};
use crate::store::{InboxOutcome, StoreError};

/// How long a reply may take before "typing…" is shown.
const TYPING_AFTER: Duration = Duration::from_millis(400);
/// Telegram shows a chat action for about five seconds; refresh it before then.
const TYPING_EVERY: Duration = Duration::from_millis(4500);
/// What a chat is told when handling its message panicked (a bug on our side).
pub const PANIC_APOLOGY: &str = "Sorry, something went wrong on my side while handling that \
message, so I dropped it. Please try again, perhaps worded differently.";
/// Most characters of a panic message kept in the log and the inbox row.
const MAX_PANIC_CHARS: usize = 300;

/// Everything needed to handle a stored update. Cheap to clone.
#[derive(Clone)]
pub struct UpdateHandler {
    /// Routes the message.
    pub dispatcher: Dispatcher,
    /// Sends the replies.
    pub sender: TelegramSender,
    /// Answers button presses.
    pub bot: Bot,
}

impl UpdateHandler {
    /// Handles one queued update and records its outcome; errors are logged here.
    #[tracing::instrument(skip_all, fields(update_id = queued.update_id()))]
    pub async fn handle(&self, queued: QueuedUpdate) {
        let (started, kind) = (Instant::now(), queued.kind());
        let (update_id, chat_id) = (queued.update_id(), queued.chat_id());
        let store = &self.dispatcher.services().store;
        let processed = AssertUnwindSafe(self.process(&queued)).catch_unwind().await;
        let (outcome, error) = match processed {
            Err(panic) => {
                self.after_panic(update_id, chat_id, panic_message(panic.as_ref()))
                    .await;
                crate::metrics::update_finished(
                    kind,
                    Some(InboxOutcome::Failed),
                    started.elapsed(),
                );
                return;
            }
            Ok(Ok(outcome)) => (outcome, None),
            Ok(Err(HandleError::Send(reason))) => (InboxOutcome::Failed, Some(reason)),
            Ok(Err(HandleError::Stopped)) => {
                // Its replies are stored; the next start sends them.
                tracing::info!("shutting down; the update stays in the inbox");
                crate::metrics::update_finished(kind, None, started.elapsed());
                return;
            }
            Ok(Err(HandleError::Store(e))) => {
                // Leave the row pending: it is retried at the next start.
                tracing::error!(error = %e, "database error; the update stays in the inbox");
                crate::metrics::update_finished(kind, None, started.elapsed());
                return;
            }
        };
        // One trip to the database closes the row, unless a group the owner disabled still has
        // the bot in it: that is left first (a failed leave is retried after the next update).
        let closed = match store
            .finish_update_unless_groups_to_leave(update_id, outcome, error.clone())
            .await
        {
            Ok(groups) if groups.is_empty() => Ok(()),
            Ok(groups) => {
                super::group_events::leave_groups(&self.bot, store, groups).await;
                store.finish_update(update_id, outcome, error).await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = closed {
            tracing::error!(error = %e, "could not close the inbox row");
        }
        crate::metrics::update_finished(kind, Some(outcome), started.elapsed());
        self.dispatcher.services().health.update_handled();
    }

    /// After a panic in [`Self::process`]: logs it once, closes the row as failed (first, so
    /// that not even a panic while apologising can make it replay at the next start), then
    /// sends the chat one short apology.
    async fn after_panic(&self, update_id: i64, chat_id: Option<ChatId>, message: String) {
        tracing::error!(panic = %message, chat_id = ?chat_id,
            "handling the update panicked; it is marked failed and will not be replayed");
        let store = &self.dispatcher.services().store;
        let error = Some(format!("panicked: {message}"));
        if let Err(e) = store
            .finish_update(update_id, InboxOutcome::Failed, error)
            .await
        {
            tracing::error!(error = %e, "could not close the inbox row of the panicked update");
        }
        let Some(chat_id) = chat_id else {
            return;
        };
        let apology = vec![Reply::plain(chat_id, PANIC_APOLOGY)];
        let sent = AssertUnwindSafe(self.sender.send(Some(update_id), apology))
            .catch_unwind()
            .await;
        match sent {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "could not send the apology"),
            Err(_) => tracing::error!("sending the apology panicked too"),
        }
    }

    async fn process(&self, queued: &QueuedUpdate) -> Result<InboxOutcome, HandleError> {
        let store = &self.dispatcher.services().store;
        let update = match self.update_of(queued).await? {
            Ok(update) => update,
            Err(outcome) => return Ok(outcome),
        };
        let update = update.as_ref();
        let update_id = queued.update_id();
        let services = self.dispatcher.services();
        if let Some(replies) = super::group_events::handle(&self.bot, services, update).await? {
            return self.send_replies(update_id, replies).await;
        }
        let Some(mut incoming) = to_incoming(update) else {
            tracing::debug!("update type not handled; skipped");
            return Ok(InboxOutcome::Skipped);
        };
        if album::gather(store, update_id, &mut incoming).await?
            == album::Gathered::AnsweredWithAnother
        {
            tracing::debug!("a photo answered with its album");
            return Ok(InboxOutcome::Done);
        }
        if let Content::Callback { id, .. } = &incoming.content {
            let answer = self
                .bot
                .answer_callback_query(teloxide::types::CallbackQueryId(id.clone()));
            if let Err(e) = answer.await {
                tracing::debug!(error = %describe_error(&e), "could not answer the button press");
            }
        }
        if incoming.group.is_some() {
            super::group_events::ensure_identity(&self.bot, &services.bot_identity).await;
        }
        if let (Some(message_id), Content::Text(text)) = (incoming.message_id, &incoming.content)
            && crate::calendar::holds_password(text)
        {
            self.delete_message(incoming.chat_id, message_id).await;
        }
        let thread = incoming.group.as_ref().and_then(|g| g.thread_id);
        let handling =
            self.with_typing(incoming.chat_id, thread, self.dispatcher.handle(&incoming));
        let (replies, cut) = crate::shutdown_pause::watching_cuts(handling).await;
        if cut {
            // A retry pause ended at shutdown: the replies tell of that cut, not of the message.
            return Err(HandleError::Stopped);
        }
        self.send_replies(update_id, replies).await
    }

    /// The update to handle: the one intake decoded, or the stored row's. A stored row (a
    /// replay) whose replies an earlier run prepared only has them delivered. `Err(outcome)`
    /// when there is nothing more to do.
    async fn update_of<'a>(
        &self,
        queued: &'a QueuedUpdate,
    ) -> Result<Result<Cow<'a, Update>, InboxOutcome>, HandleError> {
        let pending = match queued {
            QueuedUpdate::Fresh {
                update: Some(update),
                ..
            } => return Ok(Ok(Cow::Borrowed(update.as_ref()))),
            QueuedUpdate::Fresh { update: None, .. } => {
                tracing::warn!("malformed update skipped");
                return Ok(Err(InboxOutcome::Skipped));
            }
            QueuedUpdate::Stored(pending) => pending,
        };
        let store = &self.dispatcher.services().store;
        let already = store.chunks_of_update(pending.update_id).await?;
        if !already.is_empty() {
            tracing::info!("resuming an update whose replies were already prepared");
            self.sender
                .deliver(&already)
                .await
                .map_err(HandleError::from_send)?;
            return Ok(Err(InboxOutcome::Done));
        }
        match decode_update(&pending.payload) {
            Ok(update) => Ok(Ok(Cow::Owned(update))),
            Err(e) => {
                tracing::warn!(error = %e, "malformed update skipped");
                Ok(Err(InboxOutcome::Skipped))
            }
        }
    }

    /// Stores an update's replies in the outbox and delivers them (any group the owner has just
    /// disabled is left once the update is closed, see [`Self::handle`]).
    async fn send_replies(
        &self,
        update_id: i64,
        replies: Vec<Reply>,
    ) -> Result<InboxOutcome, HandleError> {
        if !replies.is_empty() {
            let rows = self.sender.queue(Some(update_id), replies).await?;
            self.sender
                .deliver(&rows)
                .await
                .map_err(HandleError::from_send)?;
        }
        Ok(InboxOutcome::Done)
    }

    /// Deletes a message from the chat (one that holds a password), before it is handled.
    async fn delete_message(&self, chat_id: ChatId, message_id: i32) {
        let request = self
            .bot
            .delete_message(chat_id, teloxide::types::MessageId(message_id));
        if let Err(e) = request.await {
            tracing::warn!(error = %describe_error(&e), "could not delete a message holding a password");
        }
    }

    /// Runs `work`, showing "typing…" in the chat (in a group's forum topic, that topic) while
    /// it takes long.
    async fn with_typing<T>(
        &self,
        chat_id: ChatId,
        thread: Option<i32>,
        work: impl Future<Output = T>,
    ) -> T {
        tokio::pin!(work);
        let mut wait = TYPING_AFTER;
        loop {
            tokio::select! {
                out = &mut work => return out,
                () = tokio::time::sleep(wait) => {
                    self.sender.typing(chat_id, thread).await;
                    wait = TYPING_EVERY;
                }
            }
        }
    }
}

/// The text of a panic payload (`panic!` gives a `&str` or a `String`), shortened.
fn panic_message(panic: &(dyn Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message");
    match text.char_indices().nth(MAX_PANIC_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

enum HandleError {
    Store(StoreError),
    Send(String),
    /// Shutdown came while a reply waited to be sent, or cut a retry pause while handling the
    /// message: the update (and any stored replies) stay pending.
    Stopped,
}

impl From<StoreError> for HandleError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl HandleError {
    fn from_send(e: super::send::SendError) -> Self {
        match e {
            super::send::SendError::Store(e) => Self::Store(e),
            super::send::SendError::Telegram(reason) => Self::Send(reason),
            super::send::SendError::Stopped => Self::Stopped,
        }
    }
}
