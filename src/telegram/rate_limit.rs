//! Send-rate limiting for Telegram: one global bucket (Telegram's ~30 messages/s broadcast limit)
//! and one bucket per chat (~1 message/s, short bursts allowed), plus pauses after a 429.
//!
//! Buckets are GCRA token buckets: each keeps a "theoretical arrival time" and `acquire` reserves
//! the earliest slot both buckets allow, then sleeps until it. Reservations are handed out in call
//! order, so waiting senders are served fairly. Time is `tokio::time::Instant`, so tests run on
//! tokio's paused clock.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::{Instant, sleep_until};

use crate::ids::ChatId;

/// Messages a chat may receive at once before its rate applies (when the rate is below it).
const CHAT_BURST: u32 = 3;

/// A chat bucket idle (full, unpaused) this long is forgotten; pruning runs this often.
const IDLE_AFTER: Duration = Duration::from_secs(60);

/// Waits before each outgoing message so Telegram's limits are respected.
///
/// Cheap to clone: clones share the same buckets.
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    global: Option<Gcra>,
    per_chat: Option<Gcra>,
    /// Never held across an `.await`.
    state: Mutex<State>,
}

struct State {
    global_tat: Instant,
    chats: HashMap<ChatId, ChatState>,
    last_prune: Instant,
}

struct ChatState {
    tat: Instant,
    pause: Option<Instant>,
}

/// Parameters of one bucket: the spacing of messages and how far ahead a burst may run.
#[derive(Clone, Copy)]
struct Gcra {
    interval: Duration,
    tolerance: Duration,
}

impl Gcra {
    /// `None` when `per_sec` is 0 (no limit).
    fn new(per_sec: u32, burst: u32) -> Option<Gcra> {
        (per_sec > 0).then(|| {
            let interval = Duration::from_secs(1) / per_sec;
            Gcra {
                interval,
                tolerance: interval * (burst.max(1) - 1),
            }
        })
    }

    /// The earliest instant (not before `now`) this bucket allows a message, given its `tat`.
    fn earliest(&self, tat: Instant, now: Instant) -> Instant {
        tat.checked_sub(self.tolerance).map_or(now, |t| t.max(now))
    }

    /// The bucket's `tat` after a message sent `at`.
    fn advance(&self, tat: Instant, at: Instant) -> Instant {
        tat.max(at) + self.interval
    }
}

impl RateLimiter {
    /// A limiter allowing `global_per_sec` messages per second overall (burst of the same size)
    /// and `per_chat_per_sec` per chat (burst of 3, or the rate when higher); 0 turns a limit off.
    pub fn new(global_per_sec: u32, per_chat_per_sec: u32) -> Self {
        let now = Instant::now();
        let state = State {
            global_tat: now,
            chats: HashMap::new(),
            last_prune: now,
        };
        RateLimiter {
            inner: Arc::new(Inner {
                global: Gcra::new(global_per_sec, global_per_sec),
                per_chat: Gcra::new(per_chat_per_sec, per_chat_per_sec.max(CHAT_BURST)),
                state: Mutex::new(state),
            }),
        }
    }

    /// Waits until one more message may be sent to `chat_id`, and counts it as sent.
    ///
    /// Honours both buckets and any pause of this chat, including a pause set while this call
    /// was already waiting.
    pub async fn acquire(&self, chat_id: ChatId) {
        loop {
            match self.inner.reserve(chat_id, Instant::now()) {
                Err(paused_until) => sleep_until(paused_until).await,
                Ok(slot) => {
                    sleep_until(slot).await;
                    let state = self.inner.lock();
                    if state.paused_until(chat_id, Instant::now()).is_none() {
                        return;
                    }
                }
            }
        }
    }

    /// Counts one message to `chat_id` and returns `true` only when it may go at once *and*
    /// one more could still go at once after it; otherwise counts nothing and returns `false`.
    /// For messages that may be skipped (previews): they never make a real message wait.
    pub fn try_acquire_leaving_one(&self, chat_id: ChatId) -> bool {
        let now = Instant::now();
        let mut state = self.inner.lock();
        state.prune(now);
        if state.paused_until(chat_id, now).is_some() {
            return false;
        }
        let room_for_two = |g: &Gcra, tat: Instant| g.earliest(g.advance(tat, now), now) <= now;
        let chat_tat = state.chats.get(&chat_id).map_or(now, |c| c.tat);
        if self
            .inner
            .global
            .is_some_and(|g| !room_for_two(&g, state.global_tat))
            || self
                .inner
                .per_chat
                .is_some_and(|g| !room_for_two(&g, chat_tat))
        {
            return false;
        }
        if let Some(global) = self.inner.global {
            state.global_tat = global.advance(state.global_tat, now);
        }
        if let Some(per_chat) = self.inner.per_chat {
            let chat = state.chats.entry(chat_id).or_insert(ChatState {
                tat: now,
                pause: None,
            });
            chat.tat = per_chat.advance(chat.tat, now);
        }
        true
    }

    /// Holds back messages to `chat_id` for `d` (Telegram answered 429 with `retry_after`).
    pub fn pause_chat(&self, chat_id: ChatId, d: Duration) {
        let now = Instant::now();
        let mut state = self.inner.lock();
        state.prune(now);
        let chat = state.chats.entry(chat_id).or_insert(ChatState {
            tat: now,
            pause: None,
        });
        chat.pause = Some(chat.pause.map_or(now + d, |p| p.max(now + d)));
    }
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let every = |g: &Option<Gcra>| g.map(|g| g.interval);
        f.debug_struct("RateLimiter")
            .field("global_interval", &every(&self.inner.global))
            .field("per_chat_interval", &every(&self.inner.per_chat))
            .finish_non_exhaustive()
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked: every update is a single store.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reserves the earliest slot both buckets allow (`Ok`), or reports a pause (`Err(until)`).
    fn reserve(&self, chat_id: ChatId, now: Instant) -> Result<Instant, Instant> {
        let mut state = self.lock();
        state.prune(now);
        if let Some(until) = state.paused_until(chat_id, now) {
            return Err(until);
        }
        let mut slot = now;
        if let Some(global) = self.global {
            slot = slot.max(global.earliest(state.global_tat, now));
        }
        if let Some(per_chat) = self.per_chat {
            let chat = state.chats.entry(chat_id).or_insert(ChatState {
                tat: now,
                pause: None,
            });
            slot = slot.max(per_chat.earliest(chat.tat, now));
            chat.tat = per_chat.advance(chat.tat, slot);
        }
        if let Some(global) = self.global {
            state.global_tat = global.advance(state.global_tat, slot);
        }
        Ok(slot)
    }
}

impl State {
    /// The end of the pause that applies to `chat_id` at `now`, if any.
    fn paused_until(&self, chat_id: ChatId, now: Instant) -> Option<Instant> {
        self.chats
            .get(&chat_id)
            .and_then(|c| c.pause)
            .filter(|p| *p > now)
    }

    /// Forgets chats whose bucket is full and idle and whose pause is over (at most once per
    /// [`IDLE_AFTER`]), so memory follows the number of recently active chats.
    fn prune(&mut self, now: Instant) {
        if now < self.last_prune + IDLE_AFTER {
            return;
        }
        self.last_prune = now;
        self.chats
            .retain(|_, c| c.tat + IDLE_AFTER > now || c.pause.is_some_and(|p| p > now));
    }
}

#[cfg(test)]
mod tests;
