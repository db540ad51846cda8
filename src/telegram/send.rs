//! The outbox sender: replies are split into ≤4096-unit chunks, stored in the outbox, then sent
//! under the global and per-chat rate limits. A 429 waits `retry_after` and resends; a "can't
//! parse entities" 400 resends the chunk as plain text; a request that never reached Telegram
//! backs off and retries; a permanent refusal (blocked, chat gone) is recorded. Each sent chunk
//! keeps its message_id. A chunk with `edit_message_id` finalises a streamed group message by
//! editing it instead (see `group_preview`); if that message is gone, it is sent anew.
//!
//! The one case Telegram gives no way to check is a send whose outcome is unknown: a timeout or
//! a connection lost after the request was written. Such a chunk is resent once (logged as
//! "send outcome unknown"): the only window in which a reply can arrive twice. A second unknown
//! outcome is recorded as failed rather than risking a third copy.

use std::time::Duration;

use teloxide::prelude::*;
use teloxide::types::{
    InlineKeyboardButton, InlineKeyboardMarkup, InputFile, MessageId, ParseMode, ReplyParameters,
    ThreadId,
};
use teloxide::{ApiError, RequestError};
use tokio_util::sync::CancellationToken;

use crate::ids::ChatId;

use super::format::{ChunkFormat, html_to_plain, render};
use super::rate_limit::RateLimiter;
use super::split::{TELEGRAM_MAX_UTF16, split_message};
use super::{describe_error, error_code, is_permanent};
use crate::message::{Button, FileKind, OutgoingFile, Reply};
use crate::scheduler::Outlet;
use crate::store::{NewChunk, OutboxRow, Store, StoreError};

/// Network failures tolerated per chunk before it is given up (backoff 1, 2, 4, 8, 16 s).
const MAX_NETWORK_RETRIES: u32 = 5;
/// 429s tolerated per chunk before it is given up.
const MAX_RATE_LIMIT_RETRIES: u32 = 10;
/// Resends of a chunk whose send had an unknown outcome (it may have arrived).
const MAX_UNKNOWN_OUTCOME_RESENDS: u32 = 1;
/// Longest caption of a file, in UTF-16 units; a longer text goes before the file.
const TELEGRAM_MAX_CAPTION_UTF16: usize = 1024;

/// Why a chunk could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Telegram refused it for good, or retries ran out; the text never holds the token.
    #[error("{0}")]
    Telegram(String),
    /// The outbox could not be written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Shutdown came while the chunk waited to be (re)sent; it stays pending in the outbox and
    /// goes out at the next start.
    #[error("shutting down; the message stays in the outbox for the next start")]
    Stopped,
}

/// Sends replies through Telegram. Cheap to clone.
#[derive(Clone)]
pub struct TelegramSender {
    bot: Bot,
    limiter: RateLimiter,
    store: Store,
    /// Ends a wait for a rate-limit slot or a retry backoff at shutdown.
    shutdown: CancellationToken,
}

impl TelegramSender {
    /// A sender with the given limits (messages per second; 0 = unlimited).
    pub fn new(bot: Bot, store: Store, rate_global: u32, rate_per_chat: u32) -> Self {
        Self {
            bot,
            limiter: RateLimiter::new(rate_global, rate_per_chat),
            store,
            shutdown: CancellationToken::new(),
        }
    }

    /// Stops waiting (for a rate-limit slot or before a retry) when `shutdown` fires: the chunk
    /// stays pending, [`SendError::Stopped`].
    pub fn with_shutdown(mut self, shutdown: CancellationToken) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// Waits for `wait` unless shutdown comes first.
    async fn pause(&self, wait: impl Future<Output = ()>) -> Result<(), SendError> {
        crate::shutdown_pause::pause(&self.shutdown, wait)
            .await
            .map_err(|_| SendError::Stopped)
    }

    /// The rate limiter every message to Telegram goes through (previews included).
    pub fn limiter(&self) -> RateLimiter {
        self.limiter.clone()
    }

    /// Splits and stores `replies` (answering `update_id`, if any) in the outbox.
    pub async fn queue(
        &self,
        update_id: Option<i64>,
        replies: Vec<Reply>,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        match update_id {
            // A streamed group answer finalises the messages it already shows.
            Some(id) => super::stream_final::queue_finalising(&self.store, id, replies).await,
            None => self.store.queue_chunks(None, to_chunks(replies)).await,
        }
    }

    /// Sends every row that has no message_id yet, in order. Returns the first failure, after
    /// trying the rest (one blocked chat does not stop replies to others).
    pub async fn deliver(&self, rows: &[OutboxRow]) -> Result<(), SendError> {
        let mut first_error = None;
        for row in rows
            .iter()
            .filter(|r| r.message_id.is_none() && r.status == "pending")
        {
            if let Err(e) = self.deliver_one(row).await {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Queues and sends `replies` now (scheduled jobs, notices); returns the stored rows.
    pub async fn send(
        &self,
        update_id: Option<i64>,
        replies: Vec<Reply>,
    ) -> Result<Vec<OutboxRow>, SendError> {
        let rows = self.queue(update_id, replies).await?;
        let result = self.deliver(&rows).await;
        // Read them back: delivery filled in the message ids.
        let rows = self
            .store
            .chunks_by_id(rows.iter().map(|r| r.id).collect())
            .await?;
        result.map(|()| rows)
    }

    /// Shows "typing…" in a chat (best effort).
    pub async fn typing(&self, chat_id: ChatId, thread: Option<i32>) {
        let mut action = self
            .bot
            .send_chat_action(chat_id, teloxide::types::ChatAction::Typing);
        if let Some(thread) = thread {
            action = action.message_thread_id(ThreadId(MessageId(thread)));
        }
        if let Err(e) = action.await {
            tracing::debug!(%chat_id, error = %describe_error(&e), "typing action failed");
        }
    }

    #[tracing::instrument(skip_all, fields(chat_id = %row.chat_id, outbox_id = row.id))]
    async fn deliver_one(&self, row: &OutboxRow) -> Result<i64, SendError> {
        let (mut text, mut format) = (row.text.clone(), row.format);
        let (mut network_failures, mut rate_limits, mut unknown_outcomes) = (0, 0, 0);
        let earlier = self.store.note_send_attempt(row.id).await?;
        if earlier > 0 {
            // A previous process started this chunk and died before recording the outcome:
            // Telegram may have it. That counts as the one resend.
            unknown_outcomes = 1;
            if earlier > i64::from(MAX_UNKNOWN_OUTCOME_RESENDS) {
                let reason = "send outcome unknown after restarts; not resent again".to_string();
                tracing::error!(error = %reason, "giving up on a chunk to avoid a duplicate");
                self.store.mark_chunk_failed(row.id, &reason).await?;
                return Err(SendError::Telegram(reason));
            }
            tracing::warn!(
                "send outcome unknown (a restart cut the last try); resending once (the one case a reply can arrive twice)"
            );
        }
        loop {
            if rate_limits == 0 {
                // A first try waits its turn even at shutdown: replies still being finished in
                // the shutdown grace go out.
                self.limiter.acquire(row.chat_id).await;
            } else {
                self.pause(self.limiter.acquire(row.chat_id)).await?;
            }
            match self
                .send_chunk(row, &text, format)
                .await
                .inspect_err(|e| crate::metrics::telegram_error(method_of(row), error_code(e)))
            {
                Ok(message_id) => {
                    crate::metrics::message_sent();
                    self.store.mark_chunk_sent(row.id, message_id).await?;
                    tracing::info!(message_id, update_id = row.update_id, "reply sent");
                    return Ok(message_id);
                }
                Err(RequestError::RetryAfter(wait)) if rate_limits < MAX_RATE_LIMIT_RETRIES => {
                    rate_limits += 1;
                    tracing::warn!(
                        retry_after = wait.seconds(),
                        "Telegram rate limit; pausing this chat"
                    );
                    self.limiter
                        .pause_chat(row.chat_id, super::retry_wait(wait));
                }
                Err(RequestError::Api(ApiError::CantParseEntities(_)))
                    if format == ChunkFormat::Html =>
                {
                    tracing::warn!("Telegram could not parse the HTML; resending as plain text");
                    (text, format) = (html_to_plain(&text), ChunkFormat::Plain);
                }
                Err(e) if outcome_unknown(&e) => {
                    if unknown_outcomes >= MAX_UNKNOWN_OUTCOME_RESENDS {
                        let reason = format!("{}; not resent again", describe_error(&e));
                        tracing::error!(error = %reason, "send outcome unknown twice; giving up to avoid a duplicate");
                        self.store.mark_chunk_failed(row.id, &reason).await?;
                        return Err(SendError::Telegram(reason));
                    }
                    unknown_outcomes += 1;
                    tracing::warn!(error = %describe_error(&e),
                        "send outcome unknown; resending once (the one case a reply can arrive twice)");
                    self.pause(tokio::time::sleep(Duration::from_secs(1)))
                        .await?;
                }
                Err(e) if !is_permanent(&e) && network_failures < MAX_NETWORK_RETRIES => {
                    let backoff = Duration::from_secs(1 << network_failures);
                    network_failures += 1;
                    tracing::warn!(error = %describe_error(&e), backoff_secs = backoff.as_secs(), "send failed; retrying");
                    self.pause(tokio::time::sleep(backoff)).await?;
                }
                Err(e) => {
                    let reason = describe_error(&e);
                    tracing::error!(error = %reason, "reply could not be delivered");
                    self.store.mark_chunk_failed(row.id, &reason).await?;
                    return Err(SendError::Telegram(reason));
                }
            }
        }
    }

    async fn send_chunk(
        &self,
        row: &OutboxRow,
        text: &str,
        format: ChunkFormat,
    ) -> Result<i64, RequestError> {
        if let Some(id) = row.edit_message_id.and_then(|id| i32::try_from(id).ok()) {
            match self.edit_chunk(row, MessageId(id), text, format).await {
                Ok(()) | Err(RequestError::Api(ApiError::MessageNotModified)) => {
                    return Ok(i64::from(id));
                }
                Err(RequestError::Api(
                    ApiError::MessageToEditNotFound | ApiError::MessageCantBeEdited,
                )) => {
                    // The streamed message is gone: the text goes out as a new message.
                    tracing::warn!("streamed message cannot be edited; sending the text anew");
                }
                Err(e) => return Err(e),
            }
        }
        if let Some(file) = &row.file {
            return self
                .send_file(row.chat_id, text, format, &row.buttons, file)
                .await;
        }
        let mut request = self.bot.send_message(row.chat_id, text);
        if format == ChunkFormat::Html {
            request = request.parse_mode(ParseMode::Html);
        }
        if !row.buttons.is_empty() {
            request = request.reply_markup(keyboard(&row.buttons));
        }
        if let Some(thread) = row.message_thread_id {
            request = request.message_thread_id(ThreadId(MessageId(thread)));
        }
        if let Some(id) = row
            .reply_to_message_id
            .and_then(|id| i32::try_from(id).ok())
        {
            // A message deleted meanwhile must not cost the answer.
            request = request.reply_parameters(
                ReplyParameters::new(MessageId(id)).allow_sending_without_reply(),
            );
        }
        Ok(i64::from(request.await?.id.0))
    }

    /// A file with `text` as its caption (none when empty), by sendDocument or sendPhoto.
    async fn send_file(
        &self,
        chat_id: ChatId,
        text: &str,
        format: ChunkFormat,
        buttons: &[Vec<Button>],
        file: &OutgoingFile,
    ) -> Result<i64, RequestError> {
        let input = InputFile::memory(file.bytes.clone()).file_name(file.name.clone());
        let caption = (!text.trim().is_empty()).then(|| text.to_string());
        let parse_mode =
            (format == ChunkFormat::Html && caption.is_some()).then_some(ParseMode::Html);
        let markup = (!buttons.is_empty()).then(|| keyboard(buttons));
        let message = match file.kind {
            FileKind::Document => {
                let mut request = self.bot.send_document(chat_id, input);
                request.caption = caption;
                request.parse_mode = parse_mode;
                request.reply_markup = markup.map(Into::into);
                request.await?
            }
            FileKind::Photo => {
                let mut request = self.bot.send_photo(chat_id, input);
                request.caption = caption;
                request.parse_mode = parse_mode;
                request.reply_markup = markup.map(Into::into);
                request.await?
            }
        };
        Ok(i64::from(message.id.0))
    }
}

/// The scheduler's messages go out through the outbox like every other reply.
#[async_trait::async_trait]
impl Outlet for TelegramSender {
    async fn send_now(&self, replies: Vec<Reply>) -> Result<Vec<OutboxRow>, String> {
        self.send(None, replies).await.map_err(|e| e.to_string())
    }
}

impl TelegramSender {
    /// Finalises streamed message `id` by editing it to this chunk (an edit is idempotent: a
    /// retry after an unknown outcome cannot make a second copy).
    async fn edit_chunk(
        &self,
        row: &OutboxRow,
        id: MessageId,
        text: &str,
        format: ChunkFormat,
    ) -> Result<(), RequestError> {
        let mut request = self.bot.edit_message_text(row.chat_id, id, text);
        if format == ChunkFormat::Html {
            request = request.parse_mode(ParseMode::Html);
        }
        if !row.buttons.is_empty() {
            request = request.reply_markup(keyboard(&row.buttons));
        }
        request.await.map(drop)
    }
}

/// Renders replies for Telegram (Markdown → HTML) and splits them into outbox chunks; a reply's
/// buttons go on its last chunk. A reply with a file
/// becomes one chunk with the text as caption, or, when the text is too long for a caption, its
/// text chunks followed by the file.
pub fn to_chunks(replies: Vec<Reply>) -> Vec<NewChunk> {
    let mut chunks = Vec::new();
    for reply in replies {
        let (rendered, format) = render(&reply.text, reply.format);
        if let Some(file) = reply.file.clone() {
            let caption = split_message(&rendered, format, TELEGRAM_MAX_CAPTION_UTF16);
            let text = if caption.len() <= 1 {
                caption.into_iter().next().unwrap_or_default()
            } else {
                let text_only = Reply {
                    file: None,
                    buttons: Vec::new(),
                    ..reply.clone()
                };
                chunks.extend(to_chunks(vec![text_only]));
                String::new()
            };
            chunks.push(NewChunk {
                chat_id: reply.chat_id,
                text,
                format,
                buttons: reply.buttons,
                forget_text: reply.forget_after_send,
                reply_to_message_id: reply.reply_to_message_id,
                message_thread_id: reply.message_thread_id,
                edit_message_id: None,
                file: Some(file),
            });
            continue;
        }
        let parts = split_message(&rendered, format, TELEGRAM_MAX_UTF16);
        let last = parts.len().saturating_sub(1);
        for (i, text) in parts.into_iter().enumerate() {
            let buttons = if i == last {
                reply.buttons.clone()
            } else {
                Vec::new()
            };
            chunks.push(NewChunk {
                chat_id: reply.chat_id,
                text,
                format,
                buttons,
                forget_text: reply.forget_after_send,
                // Only the first chunk quotes the message it answers; all stay in its topic.
                reply_to_message_id: reply.reply_to_message_id.filter(|_| i == 0),
                message_thread_id: reply.message_thread_id,
                edit_message_id: None,
                file: None,
            });
        }
    }
    chunks
}

/// The Bot API method a row is delivered with (for the `telegram_errors` metric).
fn method_of(row: &OutboxRow) -> &'static str {
    match (&row.edit_message_id, &row.file) {
        (Some(_), _) => "editMessageText",
        (None, Some(f)) if f.kind == FileKind::Photo => "sendPhoto",
        (None, Some(_)) => "sendDocument",
        (None, None) => "sendMessage",
    }
}

/// Whether Telegram may have accepted a send that failed: the request was written but no
/// answer came back (a timeout, a connection lost mid-response). A refused connection or an
/// HTTP error status means it was not sent.
fn outcome_unknown(err: &RequestError) -> bool {
    match err {
        RequestError::Network(e) => !e.is_connect() && e.status().is_none(),
        RequestError::Io(_) => true,
        _ => false,
    }
}

fn keyboard(rows: &[Vec<Button>]) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(rows.iter().map(|row| {
        row.iter()
            .map(|b| InlineKeyboardButton::callback(b.label.clone(), b.command.clone()))
            .collect::<Vec<_>>()
    }))
}
