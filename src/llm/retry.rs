//! When to try the same provider again and how long to wait: exponential backoff with jitter,
//! honouring the server's requested delay up to a cap (beyond it, the next provider is faster),
//! and the one safe reading of a server's "wait N seconds" number.

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

/// The longest wait kept from a server's hint; anything longer is stored as this. Every such
/// wait is far beyond any [`RetryPolicy::max_server_wait`], so it means "this provider is out".
pub const LONGEST_SERVER_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// A server's requested wait of `secs` seconds, read safely from any number it may send.
///
/// `NaN` and negative values are no hint at all (`None`: our own backoff applies); a value too
/// large for a `Duration` (`1e20`, `inf`) or over [`LONGEST_SERVER_WAIT`] becomes
/// [`LONGEST_SERVER_WAIT`]. Never panics, unlike `Duration::from_secs_f64`.
pub fn server_wait(secs: f64) -> Option<Duration> {
    if secs.is_nan() || secs < 0.0 {
        return None;
    }
    // `abs` turns -0.0 into 0.0; what is left is either finite and >= 0 or +inf.
    let wait = Duration::try_from_secs_f64(secs.abs()).unwrap_or(Duration::MAX);
    Some(wait.min(LONGEST_SERVER_WAIT))
}

impl RetryPolicy {
    /// The decision after attempt number `attempt` (1-based) failed with `err`.
    ///
    /// A rate limit with a server wait up to [`RetryPolicy::max_server_wait`] is retried after
    /// exactly that wait. A longer wait (hours, `1e20` s, `inf`) is never slept: it means this
    /// provider is out for now, and the router falls back to the next one at once (or, when none
    /// is left, tells the user the providers are unavailable). Other retryable errors wait our
    /// own jittered backoff, which never exceeds [`RetryPolicy::max_delay`].
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
        // A NaN would make `mul_f64` panic; treat it as no jitter.
        let unit = if unit.is_nan() {
            0.0
        } else {
            unit.clamp(0.0, 1.0)
        };
        capped / 2 + capped.mul_f64(unit / 2.0)
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
    fn any_server_number_becomes_a_bounded_wait_or_no_hint() {
        assert_eq!(server_wait(2.5), Some(Duration::from_millis(2500)));
        assert_eq!(server_wait(0.0), Some(Duration::ZERO));
        assert_eq!(server_wait(-0.0), Some(Duration::ZERO));
        for huge in [1e20, f64::INFINITY, f64::MAX, 1e6] {
            assert_eq!(server_wait(huge), Some(LONGEST_SERVER_WAIT), "{huge}");
        }
        for none in [-1.0, f64::NEG_INFINITY, f64::NAN, -1e-9] {
            assert_eq!(server_wait(none), None, "{none}");
        }
    }

    #[test]
    fn a_server_wait_past_the_cap_falls_back_instead_of_sleeping() {
        let p = RetryPolicy::default();
        let wait = server_wait(1e20);
        let err = LlmError::RateLimited { retry_after: wait };
        assert_eq!(p.next(&err, 1), Next::NextProvider);
        let no_hint = LlmError::RateLimited {
            retry_after: server_wait(-1.0),
        };
        assert!(
            matches!(p.next(&no_hint, 1), Next::Retry(d) if d <= p.max_delay),
            "no hint means our own backoff"
        );
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
