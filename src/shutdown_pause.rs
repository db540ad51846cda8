//! Retry pauses that end at shutdown. Every pause before trying an outside call again (the
//! outbox sender's backoff, Gmail's 5xx pause, `getFile`'s) waits through [`pause`], which
//! returns [`Stopped`] as soon as the shutdown token fires instead of keeping the process alive.
//!
//! Work cut that way must stay pending, never be answered with an error: the outbox sender says
//! so itself (its `SendError::Stopped`); a pause deeper down (in a tool or a
//! download, whose error becomes reply text on its way up) is also recorded for the update being
//! handled, so [`watching_cuts`] lets the update handler drop that reply and leave the update in
//! the inbox for the next start.

use std::cell::Cell;

use tokio_util::sync::CancellationToken;

tokio::task_local! {
    /// Set when shutdown cut a pause inside the work [`watching_cuts`] runs.
    static CUT: Cell<bool>;
}

/// Shutdown came during a retry pause: the work it belonged to stays pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("shutting down; the work stays pending for the next start")]
pub struct Stopped;

/// Waits for `wait` (a sleep, a rate-limit slot) unless `shutdown` fires first; then records the
/// cut for [`watching_cuts`] and returns [`Stopped`].
pub async fn pause(
    shutdown: &CancellationToken,
    wait: impl Future<Output = ()>,
) -> Result<(), Stopped> {
    tokio::select! {
        // Once shutdown has begun, no pause runs its course.
        biased;
        () = shutdown.cancelled() => {
            // Outside `watching_cuts` (a scheduled job, the terminal) there is nothing to record.
            let _ = CUT.try_with(|cut| cut.set(true));
            Err(Stopped)
        }
        () = wait => Ok(()),
    }
}

/// Runs `work` and says whether shutdown cut a retry pause inside it (on this task), in which case
/// its output is an error made by the cut and should not reach the user.
pub async fn watching_cuts<F: Future>(work: F) -> (F::Output, bool) {
    CUT.scope(Cell::new(false), async move {
        let output = work.await;
        (output, CUT.try_with(Cell::get).unwrap_or(false))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_pause_ends_at_shutdown_and_the_cut_is_seen_only_by_its_own_work() {
        let shutdown = CancellationToken::new();
        shutdown.cancel();
        let long = tokio::time::sleep(Duration::from_secs(3600));
        let (result, cut) = watching_cuts(pause(&shutdown, long)).await;
        assert_eq!(result, Err(Stopped));
        assert!(cut);

        let running = CancellationToken::new();
        let (result, cut) = watching_cuts(pause(&running, async {})).await;
        assert_eq!(result, Ok(()));
        assert!(!cut, "a pause that ran its course is no cut");
        assert_eq!(
            pause(&shutdown, async {}).await,
            Err(Stopped),
            "after shutdown even a pause with nothing to wait for is cut"
        );
    }
}
