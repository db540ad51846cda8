//! The scheduler's wake-up, owned by the store: every store method that changes when something
//! runs (a schedule, a briefing row, a user's timezone or status, a calendar connection, a
//! forgotten user) wakes the scheduler loop itself, so no caller has to remember to, the way
//! mini-redis's `Db::set` wakes its purge task. The scheduler's own bookkeeping
//! (`advance_schedule`, `record_schedule_run`) does not: the loop already knows.

use tokio::sync::futures::Notified;

use super::Store;

impl Store {
    /// Resolves at the next change the scheduler plans from. A change made before this future is
    /// polled still counts once (the wake-up is remembered), so the loop registers it before a
    /// pass and misses nothing made during the pass.
    pub fn schedule_changed(&self) -> Notified<'_> {
        self.schedule_changes.notified()
    }

    /// Wakes the scheduler loop. Called by the store's writers, and by the one writer whose state
    /// lives beside the database: a Gmail connection (its token file), see `GmailConnect`.
    pub fn wake_scheduler(&self) {
        self.schedule_changes.notify_one();
    }
}
