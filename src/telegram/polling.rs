//! Long polling: `deleteWebhook` once, then `getUpdates` in a loop. Each update is stored in the
//! inbox before the next call moves the offset past it. Network errors, and a database that
//! cannot store updates (busy, read-only, disk full), back off and are logged once per outage,
//! not per try, with what to do about them.

use std::time::{Duration, Instant};

use teloxide::prelude::*;
use teloxide::{ApiError, RequestError};
use tokio_util::sync::CancellationToken;

use super::convert::ALLOWED_UPDATES;
use super::intake::Intake;
use super::{POLL_TIMEOUT, describe_error, error_code};
use crate::health::Health;
use crate::store::{Store, StoreError};

/// Longest wait between retries while Telegram is unreachable.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Logged when getUpdates starts failing.
const UNREACHABLE: &str = "cannot get updates from Telegram; retrying with backoff, nothing is \
    lost (if this goes on, check the network and TELEGRAM_API_URL)";
/// Logged when Telegram says another getUpdates is running with the same token.
const CONFLICT: &str = "another instance is polling with this bot token; stop it (or switch \
    one to webhook mode); polling again with backoff";

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
    let (mut outage, mut store_outage) = (Outage::default(), StoreOutage::default());
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
                let (next, failed) = store_updates(&intake, updates).await;
                if let Some(next) = next {
                    offset = Some(next).max(offset);
                }
                match failed {
                    None => {
                        store_outage.recovered();
                        continue;
                    }
                    Some(e) => store_outage.failed(&e),
                }
            }
            Err(RequestError::RetryAfter(s)) => {
                let wait = super::retry_wait(s);
                tracing::warn!(
                    "Telegram rate limit on getUpdates; polling again in {}s",
                    wait.as_secs()
                );
                wait
            }
            Err(e @ RequestError::Api(ApiError::TerminatedByOtherGetUpdates)) => {
                health.poll_conflict();
                outage.failed_as(CONFLICT, &describe_error(&e));
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

/// Stores the batch (one durable commit); returns the offset that confirms the updates stored
/// before the first that failed (`None` if none was), and that failure, after which Telegram
/// sends the rest again.
async fn store_updates(
    intake: &Intake,
    updates: Vec<teloxide::types::Update>,
) -> (Option<i64>, Option<StoreError>) {
    let ids: Vec<i64> = updates.iter().map(|u| i64::from(u.id.0)).collect();
    let mut next = None;
    for (id, accepted) in ids.into_iter().zip(intake.accept_updates(updates).await) {
        if let Err(e) = accepted {
            // Do not confirm this or later updates: Telegram will send them again.
            return (next, Some(e));
        }
        next = Some(id + 1);
    }
    (next, None)
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
        self.failed_as(UNREACHABLE, reason);
    }

    /// Like [`Outage::failed`], with `what` as the first line instead of [`UNREACHABLE`].
    fn failed_as(&mut self, what: &str, reason: &str) {
        if self.failures == 0 {
            tracing::warn!(reason, "{what}");
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
        backoff(self.failures)
    }
}

/// 1, 2, 4, ... seconds after `failures` failures in a row, at most [`MAX_BACKOFF`].
fn backoff(failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(5);
    (Duration::from_secs(1) * 2u32.pow(exp)).min(MAX_BACKOFF)
}

/// Consecutive failures to store updates: one error line, with what to do, when they start; one
/// line when the database takes updates again. Updates wait at Telegram meanwhile.
#[derive(Default)]
struct StoreOutage {
    failures: u32,
}

impl StoreOutage {
    /// Logs the first failure; returns how long to wait before fetching the updates again.
    fn failed(&mut self, error: &StoreError) -> Duration {
        if self.failures == 0 {
            tracing::error!(%error, "cannot store the updates Telegram sent: {}; they wait at \
                Telegram and are fetched again until they are stored", store_hint(error));
        } else {
            tracing::debug!(%error, failures = self.failures, "still cannot store updates");
        }
        self.failures += 1;
        backoff(self.failures)
    }

    fn recovered(&mut self) {
        if self.failures > 0 {
            tracing::info!(failed_tries = self.failures, "updates are stored again");
            self.failures = 0;
        }
    }
}

/// What the operator can do about a database that refuses to store an update.
fn store_hint(error: &StoreError) -> &'static str {
    use rusqlite::ErrorCode;
    let code = match error {
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(failure, _)) => Some(failure.code),
        _ => None,
    };
    match code {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            "another process holds a write lock on the database (a second minicrew, a backup \
             or a sqlite3 shell); stop it"
        }
        Some(ErrorCode::ReadOnly) => {
            "the database is read-only; make DATA_DIR/minicrew.db, its folder and its \
             filesystem writable for the bot"
        }
        Some(ErrorCode::DiskFull) => "the disk is full; free space where DATA_DIR is",
        _ => "check the disk and the database file in DATA_DIR",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::ffi;

    fn sqlite(code: i32) -> StoreError {
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(ffi::Error::new(code), None))
    }

    #[test]
    fn a_database_that_refuses_an_update_is_explained_by_its_cause() {
        assert!(store_hint(&sqlite(ffi::SQLITE_BUSY)).contains("write lock"));
        assert!(store_hint(&sqlite(ffi::SQLITE_READONLY)).contains("read-only"));
        assert!(store_hint(&sqlite(ffi::SQLITE_FULL)).contains("disk is full"));
        assert!(store_hint(&StoreError::Task("gone".into())).contains("DATA_DIR"));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(4));
        assert_eq!(backoff(50), MAX_BACKOFF);
    }
}
