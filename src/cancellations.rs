//! In-flight LLM requests per chat, so `/cancel` can stop one at once instead of waiting behind
//! it in the chat's queue.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

use crate::ids::ChatId;

/// The cancellation token of each chat's running request. Cheap to clone.
#[derive(Clone, Default)]
pub struct Cancellations {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    running: HashMap<ChatId, CancellationToken>,
    /// Chats whose request was cancelled and whose `/cancel` has not been answered yet.
    cancelled: HashSet<ChatId>,
}

impl Cancellations {
    /// Registers a new running request for `chat_id`; the guard unregisters it when dropped.
    pub fn start(&self, chat_id: ChatId) -> RunningRequest {
        let token = CancellationToken::new();
        self.lock().running.insert(chat_id, token.clone());
        RunningRequest {
            chat_id,
            token,
            owner: self.clone(),
        }
    }

    /// Cancels `chat_id`'s running request; returns whether there was one.
    pub fn cancel(&self, chat_id: ChatId) -> bool {
        let mut state = self.lock();
        match state.running.remove(&chat_id) {
            Some(token) => {
                token.cancel();
                state.cancelled.insert(chat_id);
                true
            }
            None => false,
        }
    }

    /// Whether a request of `chat_id` was cancelled since the last call (answers `/cancel`).
    pub fn take_cancelled(&self, chat_id: ChatId) -> bool {
        self.lock().cancelled.remove(&chat_id)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A registered request; dropping it unregisters it (unless a newer one replaced it).
pub struct RunningRequest {
    chat_id: ChatId,
    token: CancellationToken,
    owner: Cancellations,
}

impl RunningRequest {
    /// Fires when the request is cancelled.
    pub fn token(&self) -> &CancellationToken {
        &self.token
    }
}

impl Drop for RunningRequest {
    fn drop(&mut self) {
        let mut state = self.owner.lock();
        if state
            .running
            .get(&self.chat_id)
            .is_some_and(|t| *t == self.token)
        {
            state.running.remove(&self.chat_id);
        }
    }
}
