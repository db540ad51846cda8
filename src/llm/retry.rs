//! When to try the same provider again and how long to wait: exponential backoff with jitter,
//! honouring the server's requested delay up to a cap (beyond it, the next provider is faster).

use std::time::Duration;

use super::error::LlmError;

/// Retry settings for one provider within one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per provider, the first one included.
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubled for each further one.
    pub base_delay: Duration,
    /// Largest backoff we choose ourselves.
    pub max_delay: Duration,
    /// Largest wait a server may ask for (`retry-after`, `RetryInfo`); longer means move on.
    pub max_server_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
            max_server_wait: Duration::from_secs(30),
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Wait this long, then try the same provider again.
    Retry(Duration),
    /// Stop with this provider; fall back to the next one.
    NextProvider,
}

impl RetryPolicy {
    /// The decision after attempt number `attempt` (1-based) failed with `err`.
    pub fn next(&self, err: &LlmError, attempt: u32) -> Next {
        if !err.is_retryable() || attempt >= self.max_attempts {
            return Next::NextProvider;
        }
        match err {
            LlmError::RateLimited {
                retry_after: Some(wait),
            } if *wait > self.max_server_wait => Next::NextProvider,
            LlmError::RateLimited {
                retry_after: Some(wait),
            } => Next::Retry(*wait),
            _ => Next::Retry(self.backoff(attempt, fastrand::f64())),
        }
    }

    /// Backoff after attempt `attempt` with "equal jitter": half fixed, half `unit` (0..1)
    /// random, so concurrent clients spread out but never retry instantly.
    pub fn backoff(&self, attempt: u32, unit: f64) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
        let capped = exp.min(self.max_delay);
        capped / 2 + capped.mul_f64(unit.clamp(0.0, 1.0) / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(1, 1.0), Duration::from_secs(1));
        assert_eq!(p.backoff(2, 1.0), Duration::from_secs(2));
        assert_eq!(p.backoff(3, 0.0), Duration::from_secs(2));
        assert_eq!(p.backoff(10, 1.0), Duration::from_secs(8));
    }

    #[test]
    fn server_wait_is_honoured_up_to_the_cap() {
        let p = RetryPolicy::default();
        let asked = |s| LlmError::RateLimited {
            retry_after: Some(Duration::from_secs(s)),
        };
        assert_eq!(p.next(&asked(2), 1), Next::Retry(Duration::from_secs(2)));
        assert_eq!(p.next(&asked(31), 1), Next::NextProvider);
    }

    #[test]
    fn final_errors_and_last_attempt_move_on() {
        let p = RetryPolicy::default();
        assert_eq!(p.next(&LlmError::Auth(401), 1), Next::NextProvider);
        assert_eq!(p.next(&LlmError::Quota("q".into()), 1), Next::NextProvider);
        assert_eq!(p.next(&LlmError::Server(500), 3), Next::NextProvider);
        assert!(matches!(p.next(&LlmError::Overloaded, 1), Next::Retry(_)));
        assert!(matches!(p.next(&LlmError::Timeout, 2), Next::Retry(_)));
    }
}
