//! At most once for actions outside the bot (which no key of ours can make idempotent): before
//! such a step runs, its start is journaled under the update; a replay after a crash that finds
//! the start but no result knows the step was interrupted, and says so instead of doing it a
//! second time. Writes to the bot's own data are keyed by the call instead (`ToolContext::once`).

use crate::store::{StepKey, Store};

/// Whether an outside action was started before.
pub enum Begun {
    /// Not before: it starts now (and is marked as started).
    Now,
    /// It started before a restart and never finished: it may or may not have taken effect.
    BeforeTheRestart,
}

/// Marks the call of `key` as started, unless it was already: an outside action runs at most
/// once, so a crash in the middle never makes it happen twice.
pub async fn begin(store: &Store, key: &StepKey) -> Begun {
    let began = StepKey::new(key.update_id, format!("{}:began", key.step));
    match store.journal_get(&began).await {
        Ok(Some(_)) => Begun::BeforeTheRestart,
        Ok(None) | Err(_) => {
            if let Err(e) = store.journal_put(&began, String::new()).await {
                tracing::warn!(error = %e, "could not journal the start of a tool call");
            }
            Begun::Now
        }
    }
}
