//! Long polling: `deleteWebhook` once, then `getUpdates` in a loop. Each update is stored in the
//! inbox before the next call moves the offset past it. Network errors back off and are logged
//! once per outage, not per try.

use std::time::{Duration, Instant};

use teloxide::prelude::*;
use teloxide::{ApiError, RequestError};
use tokio_util::sync::CancellationToken;

use super::convert::ALLOWED_UPDATES;
use super::intake::Intake;
use super::{POLL_TIMEOUT, describe_error, error_code};
use crate::health::Health;
use crate::store::Store;

/// Longest wait between retries while Telegram is unreachable.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Polls until `shutdown` fires.
pub async fn run_polling(
    bot: Bot,
    store: Store,
    intake: Intake,
    health: Health,
    shutdown: CancellationToken,
) {
    if !delete_webhook(&bot, &shutdown).await {
        return;
    }
    let mut offset = match store.last_update_id().await {
        Ok(last) => last.map(|id| id + 1),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the inbox; polling from Telegram's own offset");
            None
        }
    };
    let mut outage = Outage::default();
    health.polling_started(Instant::now());
    tracing::info!("polling Telegram for updates");
    loop {
        let mut request = bot
            .get_updates()
            .timeout(POLL_TIMEOUT.as_secs() as u32)
            .allowed_updates(ALLOWED_UPDATES);
        if let Some(o) = offset {
            // Telegram's offsets are 32-bit; saturate rather than wrap to a negative offset.
            request = request.offset(i32::try_from(o).unwrap_or(i32::MAX));
        }
        let result = tokio::select! {
            () = shutdown.cancelled() => return,
            result = request.send() => result,
        };
        if let Err(e) = &result {
            crate::metrics::telegram_error("getUpdates", error_code(e));
        }
        let wait = match result {
            Ok(updates) => {
                health.poll_succeeded(Instant::now());
                outage.recovered();
                // None: nothing new, or the store failed: ask again from the same offset.
                if let Some(next) = store_updates(&intake, &updates).await {
                    offset = Some(next).max(offset);
                }
                continue;
            }
            Err(RequestError::RetryAfter(s)) => super::retry_wait(s),
            Err(RequestError::Api(ApiError::TerminatedByOtherGetUpdates)) => {
                health.poll_conflict();
                outage.failed("another instance is polling with this bot token; stop it (or switch one to webhook mode)");
                outage.backoff()
            }
            Err(e) => {
                outage.failed(&describe_error(&e));
                outage.backoff()
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// Stores each update; returns the offset that confirms them, or `None` if none was stored.
async fn store_updates(intake: &Intake, updates: &[teloxide::types::Update]) -> Option<i64> {
    let mut next = None;
    for update in updates {
        if let Err(e) = intake.accept_update(update).await {
            // Do not confirm this or later updates: Telegram will send them again.
            tracing::error!(error = %e, update_id = update.id.0, "cannot store the update; will fetch it again");
            tokio::time::sleep(Duration::from_secs(1)).await;
            break;
        }
        next = Some(i64::from(update.id.0) + 1);
    }
    next
}

async fn delete_webhook(bot: &Bot, shutdown: &CancellationToken) -> bool {
    let mut outage = Outage::default();
    loop {
        let result = tokio::select! {
            () = shutdown.cancelled() => return false,
            r = bot.delete_webhook().send() => r,
        };
        match result {
            Ok(_) => {
                outage.recovered();
                return true;
            }
            Err(e) => outage.failed(&format!(
                "cannot remove the webhook: {}",
                describe_error(&e)
            )),
        }
        tokio::select! {
            () = shutdown.cancelled() => return false,
            () = tokio::time::sleep(outage.backoff()) => {}
        }
    }
}

/// Tracks consecutive failures so an outage is logged once when it starts and once when it ends.
#[derive(Default)]
struct Outage {
    failures: u32,
}

impl Outage {
    fn failed(&mut self, reason: &str) {
        if self.failures == 0 {
            tracing::warn!(reason, "Telegram unreachable; retrying with backoff");
        } else {
            tracing::debug!(reason, failures = self.failures, "still unreachable");
        }
        self.failures += 1;
    }

    fn recovered(&mut self) {
        if self.failures > 0 {
            tracing::info!(failed_tries = self.failures, "Telegram reachable again");
            self.failures = 0;
        }
    }

    fn backoff(&self) -> Duration {
        let exp = self.failures.saturating_sub(1).min(5);
        (Duration::from_secs(1) * 2u32.pow(exp)).min(MAX_BACKOFF)
    }
}
