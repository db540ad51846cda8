//! `USER_RATE_LIMIT_PER_MIN`: how many messages a non-owner may send per minute. A user over the
//! limit gets one "slow down" reply per minute, then silence until the window frees up.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::ids::UserId;

const WINDOW: Duration = Duration::from_secs(60);

/// What to do with a user's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    /// Handle it.
    Allow,
    /// Over the limit: tell the user (once per window).
    Warn,
    /// Over the limit and already told.
    Drop,
}

/// Sliding one-minute windows per user.
#[derive(Debug)]
pub struct UserRateLimit {
    per_minute: u32,
    windows: Mutex<HashMap<UserId, Window>>,
}

#[derive(Debug, Default)]
struct Window {
    sent: VecDeque<Instant>,
    warned_at: Option<Instant>,
}

impl UserRateLimit {
    /// A limiter allowing `per_minute` messages per user per minute (0 = unlimited).
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Records a message from `user_id` and decides whether to handle it.
    pub fn check(&self, user_id: UserId) -> RateDecision {
        if self.per_minute == 0 {
            return RateDecision::Allow;
        }
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        // Keep memory bounded: forget users idle for a whole window.
        windows.retain(|_, w| {
            w.sent
                .back()
                .is_some_and(|t| now.duration_since(*t) < WINDOW)
        });
        let window = windows.entry(user_id).or_default();
        while window
            .sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            window.sent.pop_front();
        }
        if window.sent.len() < self.per_minute as usize {
            window.sent.push_back(now);
            return RateDecision::Allow;
        }
        match window.warned_at {
            Some(t) if now.duration_since(t) < WINDOW => RateDecision::Drop,
            _ => {
                window.warned_at = Some(now);
                RateDecision::Warn
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn over_the_limit_warns_once_then_drops_until_the_window_frees() {
        let limit = UserRateLimit::new(3);
        for _ in 0..3 {
            assert_eq!(limit.check(UserId(1)), RateDecision::Allow);
        }
        assert_eq!(limit.check(UserId(1)), RateDecision::Warn);
        assert_eq!(limit.check(UserId(1)), RateDecision::Drop);
        assert_eq!(
            limit.check(UserId(2)),
            RateDecision::Allow,
            "other users are not affected"
        );
        tokio::time::advance(WINDOW).await;
        assert_eq!(limit.check(UserId(1)), RateDecision::Allow);
    }

    #[test]
    fn zero_means_unlimited() {
        let limit = UserRateLimit::new(0);
        assert!((0..1000).all(|_| limit.check(UserId(1)) == RateDecision::Allow));
    }
}
