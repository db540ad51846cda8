//! Intake: the one door every Telegram update comes through, whether polled or posted to the
//! webhook. The update is stored in the inbox first; only then is it acknowledged, and a
//! repeated update_id is a no-op.

use teloxide::types::{Update, UpdateKind};

use super::convert::{chat_of, kind_of, kind_of_update, to_incoming};
use super::webhook::PostedUpdate;
use crate::cancellations::Cancellations;
use crate::dispatch::parse_command;
use crate::ids::ChatId;
use crate::queue::ChatQueues;
use crate::store::{PendingUpdate, Store, StoreError};

/// Stores updates and hands new ones to the per-chat queues. Cheap to clone.
#[derive(Clone)]
pub struct Intake {
    store: Store,
    queues: ChatQueues<QueuedUpdate>,
    cancellations: Cancellations,
}

/// What happened to an offered update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// Stored and queued.
    New,
    /// Already stored earlier (a redelivery); nothing more is done.
    Duplicate,
}

/// An update on its way to the handler.
#[derive(Debug)]
pub enum QueuedUpdate {
    /// Stored by intake just now, with what intake already read from it: the handler neither
    /// decodes it again nor looks for replies of an earlier run (a row that was not in the inbox
    /// has none: outbox rows of an update are written only while it is handled, and are deleted
    /// with its inbox row).
    Fresh {
        /// Telegram's update id.
        update_id: i64,
        /// The chat it belongs to (`None` for updates without one).
        chat_id: Option<ChatId>,
        /// The decoded update (`None`: teloxide could not decode it; it is skipped).
        update: Option<Box<Update>>,
        /// Its kind, for the metrics.
        kind: &'static str,
    },
    /// Read back from the inbox (left unfinished by a previous run): handled from its row.
    Stored(PendingUpdate),
}

impl QueuedUpdate {
    /// Telegram's update id.
    pub fn update_id(&self) -> i64 {
        match self {
            Self::Fresh { update_id, .. } => *update_id,
            Self::Stored(p) => p.update_id,
        }
    }

    /// The chat it belongs to.
    pub fn chat_id(&self) -> Option<ChatId> {
        match self {
            Self::Fresh { chat_id, .. } => *chat_id,
            Self::Stored(p) => p.chat_id,
        }
    }

    /// Its kind (`message`, `callback_query`, ...), for the metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Fresh { kind, .. } => kind,
            Self::Stored(p) => kind_of(&p.payload),
        }
    }
}

impl Intake {
    /// An intake over the store and queues.
    pub fn new(
        store: Store,
        queues: ChatQueues<QueuedUpdate>,
        cancellations: Cancellations,
    ) -> Self {
        Self {
            store,
            queues,
            cancellations,
        }
    }

    /// Stores a posted update (webhook) and queues it if it is new.
    pub async fn accept(&self, posted: PostedUpdate) -> Result<Accepted, StoreError> {
        let PostedUpdate {
            update_id,
            chat_id,
            payload,
            decoded,
        } = posted;
        let read = Read::of(decoded, &payload);
        let inserted = self
            .store
            .insert_update(update_id, chat_id, payload)
            .await?;
        Ok(self.queue_if_new(inserted, update_id, chat_id, read))
    }

    /// Stores the decoded updates of one `getUpdates` batch (polling) and queues the new ones,
    /// in order. Their inserts go to the database together, so the batch costs one durable
    /// commit, not one per update. Returns each update's outcome, in order; an update stored
    /// after one that failed is queued too (it is in the inbox; a redelivery is a no-op).
    pub async fn accept_updates(&self, updates: Vec<Update>) -> Vec<Result<Accepted, StoreError>> {
        let mut rows = Vec::with_capacity(updates.len());
        let mut reads = Vec::with_capacity(updates.len());
        for update in updates {
            let payload = serde_json::to_string(&update).unwrap_or_else(|_| "{}".to_string());
            let key = (i64::from(update.id.0), chat_of(&update));
            reads.push(Read::of(Some(update), &payload));
            rows.push((key.0, key.1, payload));
        }
        let keys: Vec<_> = rows.iter().map(|(id, chat, _)| (*id, *chat)).collect();
        let inserted = self.store.insert_updates(rows).await;
        keys.into_iter()
            .zip(reads)
            .zip(inserted)
            .map(|(((update_id, chat_id), read), inserted)| {
                Ok(self.queue_if_new(inserted?, update_id, chat_id, read))
            })
            .collect()
    }

    /// After the insert: counts the update and, if it was new, queues it.
    fn queue_if_new(
        &self,
        inserted: bool,
        update_id: i64,
        chat_id: Option<ChatId>,
        read: Read,
    ) -> Accepted {
        crate::metrics::update_received(read.kind, !inserted);
        if !inserted {
            tracing::debug!(update_id, "repeated update ignored");
            return Accepted::Duplicate;
        }
        if read.asks_to_cancel
            && let Some(update) = &read.update
        {
            self.cancel_if_asked(update);
        }
        if chat_id.is_none() {
            tracing::debug!(
                update_id,
                "update names no chat: queued on the chatless lane"
            );
        }
        let queued = QueuedUpdate::Fresh {
            update_id,
            chat_id,
            update: read.update.map(Box::new),
            kind: read.kind,
        };
        self.queues.submit(chat_id, queued);
        Accepted::New
    }

    /// `/cancel` must not wait behind the request it cancels: stop that request now; the
    /// command itself is still queued, in order, to answer the user.
    fn cancel_if_asked(&self, update: &Update) {
        if let Some(incoming) = to_incoming(update)
            && parse_command(incoming.command_text()).is_some_and(|c| c.name == "cancel")
            && self.cancellations.cancel(incoming.chat_id)
        {
            tracing::info!(chat_id = %incoming.chat_id, "running request cancelled");
        }
    }

    /// Queues every update left unfinished by a previous run, oldest first.
    pub async fn replay_pending(&self) -> Result<usize, StoreError> {
        let pending = self.store.pending_updates().await?;
        let count = pending.len();
        for p in pending {
            // The chat was stored with the update; no need to decode the payload again.
            if p.chat_id.is_none() {
                tracing::debug!(
                    update_id = p.update_id,
                    "replayed update names no chat: queued on the chatless lane"
                );
            }
            self.queues.submit(p.chat_id, QueuedUpdate::Stored(p));
        }
        if count > 0 {
            tracing::info!(
                count,
                "replaying updates left unfinished by the previous run"
            );
        }
        Ok(count)
    }
}

/// What intake reads from an update before storing it (the store then owns its text).
struct Read {
    update: Option<Update>,
    kind: &'static str,
    /// Its text mentions `/cancel` (a cheap test before the decoded update is looked at).
    asks_to_cancel: bool,
}

impl Read {
    /// Reads `update`, whose JSON text is `payload` (`None`: teloxide could not decode it).
    fn of(update: Option<Update>, payload: &str) -> Self {
        let kind = match &update {
            Some(update) => kind_of_update(update, payload),
            None => kind_of(payload),
        };
        let asks_to_cancel = match &update {
            Some(update) => mentions_cancel(update),
            None => false,
        };
        Self {
            update,
            kind,
            asks_to_cancel,
        }
    }
}

/// Whether the text or button data of `update` mentions `/cancel`: a cheap test before
/// [`Intake::cancel_if_asked`] reads the update as a message.
fn mentions_cancel(update: &Update) -> bool {
    let said = match &update.kind {
        UpdateKind::Message(msg) => msg.text(),
        UpdateKind::CallbackQuery(q) => q.data.as_deref(),
        _ => None,
    };
    said.is_some_and(|s| s.contains("/cancel"))
}
