//! Tests of the rate limiter on tokio's paused clock (virtual time, deterministic).

use std::time::Duration;

use futures::future::join_all;
use tokio::time::Instant;

use super::RateLimiter;
use crate::ids::ChatId;

impl RateLimiter {
    /// How many chats currently have a bucket or a pause in memory.
    fn tracked_chats(&self) -> usize {
        self.inner.lock().chats.len()
    }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

#[tokio::test(start_paused = true)]
async fn one_chat_gets_a_burst_of_three_then_one_message_per_second() {
    let limiter = RateLimiter::new(30, 1);
    let start = Instant::now();
    let mut sent_at = Vec::new();
    for _ in 0..10 {
        limiter.acquire(ChatId(42)).await;
        sent_at.push(start.elapsed());
    }
    assert_eq!(&sent_at[..3], &[Duration::ZERO; 3]);
    let expected: Vec<Duration> = (1..=7).map(Duration::from_secs).collect();
    assert_eq!(&sent_at[3..], &expected[..]);
}

#[tokio::test(start_paused = true)]
async fn many_chats_share_the_global_rate() {
    let limiter = RateLimiter::new(30, 1);
    let start = Instant::now();
    let sends = (0..100).map(|chat| {
        let limiter = limiter.clone();
        async move {
            limiter.acquire(ChatId(chat)).await;
            start.elapsed()
        }
    });
    let mut sent_at = join_all(sends).await;
    sent_at.sort();
    assert!(
        sent_at[..30].iter().all(|t| t.is_zero()),
        "the burst of 30 goes at once"
    );
    assert!(sent_at[30] > Duration::ZERO);
    let last = sent_at[99];
    assert!(
        last >= secs(2.3) && last < secs(2.4),
        "70 messages after the burst at 30/s: {last:?}"
    );
    for pair in sent_at[30..].windows(2) {
        assert!(pair[1] - pair[0] >= Duration::from_millis(33), "{pair:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn zero_rates_never_wait() {
    let limiter = RateLimiter::new(0, 0);
    let start = Instant::now();
    for i in 0..1_000 {
        limiter.acquire(ChatId(i % 3)).await;
    }
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(limiter.tracked_chats(), 0);
}

#[tokio::test(start_paused = true)]
async fn pause_chat_delays_only_that_chat() {
    let limiter = RateLimiter::new(30, 1);
    let start = Instant::now();
    limiter
        .clone()
        .pause_chat(ChatId(1), Duration::from_secs(5));
    limiter.acquire(ChatId(2)).await;
    assert_eq!(start.elapsed(), Duration::ZERO);
    limiter.acquire(ChatId(1)).await;
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    limiter.acquire(ChatId(1)).await;
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(5),
        "the burst is available after the pause"
    );
}

#[tokio::test(start_paused = true)]
async fn a_shorter_chat_pause_does_not_shorten_a_longer_one() {
    let limiter = RateLimiter::new(0, 0);
    let start = Instant::now();
    limiter.pause_chat(ChatId(1), Duration::from_secs(3));
    limiter.pause_chat(ChatId(1), Duration::from_secs(1));
    limiter.acquire(ChatId(1)).await;
    assert_eq!(start.elapsed(), Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn pause_set_while_waiting_is_honoured() {
    let limiter = RateLimiter::new(30, 1);
    let start = Instant::now();
    for _ in 0..3 {
        limiter.acquire(ChatId(1)).await;
    }
    let waiting = tokio::spawn({
        let limiter = limiter.clone();
        async move {
            limiter.acquire(ChatId(1)).await;
            start.elapsed()
        }
    });
    // Virtual time only moves once the spawned task is parked on its 1 s slot.
    tokio::time::sleep(Duration::from_millis(100)).await;
    limiter.pause_chat(ChatId(1), Duration::from_secs(10));
    let sent = waiting.await.expect("the acquiring task does not panic");
    assert_eq!(sent, Duration::from_millis(10_100));
}

#[tokio::test(start_paused = true)]
async fn idle_chats_are_pruned() {
    let limiter = RateLimiter::new(0, 1);
    for chat in 0..1_000 {
        limiter.acquire(ChatId(chat)).await;
    }
    limiter.pause_chat(ChatId(5_000), Duration::from_secs(600));
    assert_eq!(limiter.tracked_chats(), 1_001);
    tokio::time::advance(Duration::from_secs(65)).await;
    limiter.acquire(ChatId(-1)).await;
    assert_eq!(
        limiter.tracked_chats(),
        2,
        "only the new chat and the paused one remain"
    );
}

#[tokio::test(start_paused = true)]
async fn previews_take_spare_slots_only_and_the_real_message_goes_at_once() {
    let limiter = RateLimiter::new(30, 1);
    let taken = (0..10)
        .filter(|_| limiter.try_acquire_leaving_one(ChatId(1)))
        .count();
    assert_eq!(
        taken, 2,
        "a burst of 3 leaves one slot for the real message"
    );
    let start = Instant::now();
    limiter.acquire(ChatId(1)).await;
    assert_eq!(
        start.elapsed(),
        Duration::ZERO,
        "the real message did not wait"
    );
    assert!(!limiter.try_acquire_leaving_one(ChatId(1)));
    tokio::time::advance(Duration::from_secs(2)).await;
    assert!(
        limiter.try_acquire_leaving_one(ChatId(1)),
        "slots come back with time"
    );
    limiter.pause_chat(ChatId(1), Duration::from_secs(5));
    tokio::time::advance(Duration::from_secs(3)).await;
    assert!(
        !limiter.try_acquire_leaving_one(ChatId(1)),
        "a paused chat gets no previews"
    );
}
