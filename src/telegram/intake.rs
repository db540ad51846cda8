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
        let kind = super::convert::kind_of(&payload);
        let inserted = self
            .store
            .insert_update(update_id, chat_id, payload.clone())
            .await?;
        crate::metrics::update_received(kind, !inserted);
        if !inserted {
            tracing::debug!(update_id, "repeated update ignored");
            return Ok(Accepted::Duplicate);
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
        Ok(Accepted::New)
    }

    /// Stores a decoded update (polling).
    pub async fn accept_update(&self, update: &Update) -> Result<Accepted, StoreError> {
        let payload = serde_json::to_string(update).unwrap_or_else(|_| "{}".to_string());
        self.accept(i64::from(update.id.0), chat_of(update), payload)
            .await
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
