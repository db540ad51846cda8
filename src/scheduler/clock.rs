//! The scheduler's clock. Production reads the system clock; tests use a [`ManualClock`] they
//! advance by hand, so the loop's time logic runs at exact instants while the network (the fake
//! Telegram server) keeps real time. Under tokio's paused clock `Utc::now()` would not move and
//! real sockets would trip timeouts, so the clock is injected instead.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::Notify;

/// The longest the loop sleeps on the system clock before looking again, so a wall-clock jump
/// (NTP, suspend) delays a job by at most this much.
pub const MAX_NAP: Duration = Duration::from_secs(60);

/// Where the scheduler reads the time. Cheap to clone.
#[derive(Clone, Debug)]
pub enum Clock {
    /// The system's UTC clock.
    System,
    /// A clock that moves only when the test says so.
    Manual(ManualClock),
}

impl Clock {
    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Manual(manual) => manual.now(),
        }
    }

    /// Sleeps until `at` or a little less (at most [`MAX_NAP`] on the system clock); callers
    /// re-read [`Clock::now`] after waking.
    pub async fn sleep_until(&self, at: DateTime<Utc>) {
        match self {
            Clock::System => {
                let wait = (at - Utc::now()).to_std().unwrap_or_default();
                tokio::time::sleep(wait.min(MAX_NAP)).await;
            }
            Clock::Manual(manual) => manual.reached(at).await,
        }
    }
}

/// A hand-driven clock for tests. Cheap to clone; clones share the time.
#[derive(Clone, Debug)]
pub struct ManualClock {
    inner: Arc<ManualInner>,
}

#[derive(Debug)]
struct ManualInner {
    now: Mutex<DateTime<Utc>>,
    moved: Notify,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            inner: Arc::new(ManualInner {
                now: Mutex::new(start),
                moved: Notify::new(),
            }),
        }
    }

    /// The clock's time.
    pub fn now(&self) -> DateTime<Utc> {
        *self.inner.now.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Moves the clock forward by `by` and wakes every sleeper.
    pub fn advance(&self, by: TimeDelta) {
        *self.inner.now.lock().unwrap_or_else(|p| p.into_inner()) += by;
        self.inner.moved.notify_waiters();
    }

    /// Resolves once the clock reads `at` or later.
    async fn reached(&self, at: DateTime<Utc>) {
        loop {
            let moved = self.inner.moved.notified();
            tokio::pin!(moved);
            moved.as_mut().enable();
            if self.now() >= at {
                return;
            }
            moved.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn manual_sleep_ends_only_when_the_clock_is_advanced_past_the_instant() {
        let start = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        let manual = ManualClock::new(start);
        let clock = Clock::Manual(manual.clone());
        let sleeper =
            tokio::spawn(async move { clock.sleep_until(start + TimeDelta::minutes(10)).await });
        manual.advance(TimeDelta::minutes(9));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        manual.advance(TimeDelta::minutes(1));
        tokio::time::timeout(Duration::from_secs(5), sleeper)
            .await
            .expect("sleep ends after the clock reaches the instant")
            .unwrap();
    }
}
