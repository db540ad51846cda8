//! Intake: the one door every Telegram update comes through, whether polled or posted to the
//! webhook. The update is stored in the inbox first; only then is it acknowledged, and a
//! repeated update_id is a no-op.

use teloxide::types::Update;

use super::convert::{chat_of, decode_update, to_incoming};
use crate::cancellations::Cancellations;
use crate::dispatch::parse_command;
use crate::ids::ChatId;
use crate::queue::ChatQueues;
use crate::store::{PendingUpdate, Store, StoreError};

/// Stores updates and hands new ones to the per-chat queues. Cheap to clone.
#[derive(Clone)]
pub struct Intake {
    store: Store,
    queues: ChatQueues<PendingUpdate>,
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

impl Intake {
    /// An intake over the store and queues.
    pub fn new(
        store: Store,
        queues: ChatQueues<PendingUpdate>,
        cancellations: Cancellations,
    ) -> Self {
        Self {
            store,
            queues,
            cancellations,
        }
    }

    /// Stores a raw update (`payload` is its JSON) and queues it if it is new.
    pub async fn accept(
        &self,
        update_id: i64,
        chat_id: Option<ChatId>,
        payload: String,
    ) -> Result<Accepted, StoreError> {
        let inserted = self
            .store
            .insert_update(update_id, chat_id, payload.clone())
            .await?;
        Ok(self.queue_if_new(inserted, update_id, chat_id, payload))
    }

    /// Stores the decoded updates of one `getUpdates` batch (polling) and queues the new ones,
    /// in order. Their inserts go to the database together, so the batch costs one durable
    /// commit, not one per update. Returns each update's outcome, in order; an update stored
    /// after one that failed is queued too (it is in the inbox; a redelivery is a no-op).
    pub async fn accept_updates(&self, updates: &[Update]) -> Vec<Result<Accepted, StoreError>> {
        let rows: Vec<(i64, Option<ChatId>, String)> = updates
            .iter()
            .map(|u| {
                let payload = serde_json::to_string(u).unwrap_or_else(|_| "{}".to_string());
                (i64::from(u.id.0), chat_of(u), payload)
            })
            .collect();
        let inserted = self.store.insert_updates(rows.clone()).await;
        rows.into_iter()
            .zip(inserted)
            .map(|((update_id, chat_id, payload), inserted)| {
                Ok(self.queue_if_new(inserted?, update_id, chat_id, payload))
            })
            .collect()
    }

    /// After the insert: counts the update and, if it was new, queues it.
    fn queue_if_new(
        &self,
        inserted: bool,
        update_id: i64,
        chat_id: Option<ChatId>,
        payload: String,
    ) -> Accepted {
        crate::metrics::update_received(super::convert::kind_of(&payload), !inserted);
        if !inserted {
            tracing::debug!(update_id, "repeated update ignored");
            return Accepted::Duplicate;
        }
        self.cancel_if_asked(&payload);
        let pending = PendingUpdate {
            update_id,
            chat_id,
            payload,
        };
        if chat_id.is_none() {
            tracing::debug!(
                update_id,
                "update names no chat: queued on the chatless lane"
            );
        }
        self.queues.submit(chat_id, pending);
        Accepted::New
    }

    /// `/cancel` must not wait behind the request it cancels: stop that request now; the
    /// command itself is still queued, in order, to answer the user.
    fn cancel_if_asked(&self, payload: &str) {
        if !payload.contains("/cancel") {
            return;
        }
        let Ok(update) = decode_update(payload) else {
            return;
        };
        if let Some(incoming) = to_incoming(&update)
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
            self.queues.submit(p.chat_id, p);
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
