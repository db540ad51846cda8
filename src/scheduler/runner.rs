//! The scheduler loop: one task that sleeps until the earliest `next_run_at` (or the daily
//! cleanup), wakes early when a schedule changes (the store wakes it: `Store::schedule_changed`), and fires due
//! jobs. Each due schedule's next run is stored before its job runs, so a crash never repeats a
//! run and a job gets at most one catch-up run after downtime (see [`super::missed`]).
//!
//! Jobs run under the same bound as chats: each waits for a permit of the semaphore the chat
//! queues use (`ChatQueues::permits`), so a hundred due jobs never make a hundred LLM calls at once.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use futures::FutureExt as _;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::clock::Clock;
use super::jobs::{JobOutcome, run_job};
use super::missed::{MissedRun, decide};
use super::outlet::Outlet;
use super::system_jobs::{next_cleanup_after, run_cleanup, sync_briefings};
use crate::services::Services;
use crate::store::{Schedule, StoreError};

/// How long the loop waits after a failed database read before trying again.
const RETRY_AFTER_ERROR: TimeDelta = TimeDelta::seconds(5);
/// How long shutdown waits for jobs already running (their next run is already stored).
const JOBS_DRAIN: std::time::Duration = std::time::Duration::from_secs(10);

/// The running loop: await [`SchedulerHandle::stopped`] after cancelling its token.
pub struct SchedulerHandle {
    task: JoinHandle<()>,
    wake_at: watch::Receiver<Option<DateTime<Utc>>>,
}

impl SchedulerHandle {
    /// Waits for the loop to finish (after its shutdown token fired).
    pub async fn stopped(self) {
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "scheduler task failed");
        }
    }

    /// The instant the loop sleeps until, updated every time it goes to sleep (for tests and
    /// diagnostics); `None` before its first pass.
    pub fn wake_at(&self) -> watch::Receiver<Option<DateTime<Utc>>> {
        self.wake_at.clone()
    }
}

/// Starts the loop; each job it fires first takes one of `permits` (shared with the chat
/// queues). The loop stops when `shutdown` fires.
pub fn spawn(
    services: Arc<Services>,
    sender: impl Outlet + 'static,
    clock: Clock,
    permits: Arc<Semaphore>,
    shutdown: CancellationToken,
) -> SchedulerHandle {
    let (publish, wake_at) = watch::channel(None);
    let jobs = Jobs {
        services,
        sender: Arc::new(sender),
        permits,
        tracker: TaskTracker::new(),
    };
    let task = tokio::spawn(run_loop(jobs, clock, shutdown, publish));
    SchedulerHandle { task, wake_at }
}

/// What running jobs needs, and the tracker of those running beside the loop (so a slow one, an
/// LLM briefing, never delays the next due run).
struct Jobs {
    services: Arc<Services>,
    sender: Arc<dyn Outlet>,
    permits: Arc<Semaphore>,
    tracker: TaskTracker,
}

impl Jobs {
    /// Starts each claimed schedule's job in the tracker; each waits for a permit first.
    fn start(&self, due: Vec<Schedule>, now: DateTime<Utc>) {
        for schedule in due {
            let services = Arc::clone(&self.services);
            let (sender, permits) = (Arc::clone(&self.sender), Arc::clone(&self.permits));
            self.tracker.spawn(async move {
                run_bounded(&services, &*sender, &permits, &schedule, now).await
            });
        }
    }
}

async fn run_loop(
    jobs: Jobs,
    clock: Clock,
    shutdown: CancellationToken,
    publish: watch::Sender<Option<DateTime<Utc>>>,
) {
    let services = Arc::clone(&jobs.services);
    let system_tz = services.config.timezone;
    let mut next_cleanup = next_cleanup_after(system_tz, clock.now());
    tracing::info!(%next_cleanup, "scheduler started");
    loop {
        // Registered before the pass, so a change made during it still wakes the next sleep.
        let changed = services.store.schedule_changed();
        tokio::pin!(changed);
        changed.as_mut().enable();
        let now = clock.now();
        let pass = one_pass(&services, &jobs, now, &mut next_cleanup);
        let wake = tokio::select! {
            _ = shutdown.cancelled() => break,
            wake = pass => wake,
        };
        publish.send_replace(Some(wake));
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = &mut changed => {}
            _ = clock.sleep_until(wake) => {}
        }
    }
    jobs.tracker.close();
    if tokio::time::timeout(JOBS_DRAIN, jobs.tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!("scheduled jobs still running at shutdown were cut off");
    }
    tracing::info!("scheduler stopped");
}

/// Syncs system jobs, starts what is due (in `jobs`) and runs the cleanup if its time came;
/// returns when to wake next.
async fn one_pass(
    services: &Arc<Services>,
    jobs: &Jobs,
    now: DateTime<Utc>,
    next_cleanup: &mut DateTime<Utc>,
) -> DateTime<Utc> {
    if let Err(e) = sync_briefings(services, now).await {
        tracing::warn!(error = %e, "could not update the morning briefings");
    }
    match claim_due(services, now).await {
        Ok(due) => jobs.start(due, now),
        Err(e) => {
            tracing::error!(error = %e, "could not run due schedules");
            return now + RETRY_AFTER_ERROR;
        }
    }
    if now >= *next_cleanup {
        if let Err(e) = run_cleanup(services, now).await {
            tracing::error!(error = %e, "daily cleanup failed");
        }
        *next_cleanup = next_cleanup_after(services.config.timezone, now);
    }
    match services.store.earliest_next_run().await {
        // Never earlier than now: a row that could not be advanced must not spin the loop.
        Ok(Some(at)) => at.min(*next_cleanup).max(now + TimeDelta::seconds(1)),
        Ok(None) => *next_cleanup,
        Err(e) => {
            tracing::error!(error = %e, "could not read the next schedule");
            now + RETRY_AFTER_ERROR
        }
    }
}

/// Fires every schedule due at `now` under the missed-run policy (runs within
/// `SCHEDULE_GRACE_MINUTES` are made up once; older ones are skipped and logged), at most as
/// many at once as `permits` allows. Each schedule's next run is stored before its job runs.
/// Returns the outcomes of the jobs run.
pub async fn run_due(
    services: &Services,
    sender: &dyn Outlet,
    permits: &Semaphore,
    now: DateTime<Utc>,
) -> Result<Vec<(i64, JobOutcome)>, StoreError> {
    let due = claim_due(services, now).await?;
    let runs = due.iter().map(|s| async move {
        let outcome = run_bounded(services, sender, permits, s, now).await;
        outcome.map(|o| (s.id, o))
    });
    Ok(futures::future::join_all(runs)
        .await
        .into_iter()
        .flatten()
        .collect())
}

/// Decides every schedule due at `now` under the missed-run policy and stores each one's next
/// run; returns the schedules whose job should run now.
async fn claim_due(services: &Services, now: DateTime<Utc>) -> Result<Vec<Schedule>, StoreError> {
    let grace = TimeDelta::minutes(i64::from(services.config.schedule_grace_minutes));
    let mut to_run: Vec<Schedule> = Vec::new();
    for schedule in services.store.due_schedules(now).await? {
        let Some(next_run_at) = schedule.next_run_at else {
            continue;
        };
        let decision = match decide(&schedule.spec, schedule.timezone, next_run_at, now, grace) {
            Ok(decision) => decision,
            Err(e) => {
                tracing::error!(schedule_id = schedule.id, error = %e, "schedule cannot run; deactivated");
                services.store.advance_schedule(schedule.id, None).await?;
                continue;
            }
        };
        services
            .store
            .advance_schedule(schedule.id, decision.next_run_at)
            .await?;
        match decision.action {
            MissedRun::RunNow { scheduled_for } => {
                if scheduled_for != next_run_at {
                    tracing::warn!(schedule_id = schedule.id, %next_run_at, %scheduled_for, "older missed runs skipped; running the latest once");
                }
                to_run.push(schedule);
            }
            MissedRun::Skip { missed_at } => {
                tracing::warn!(schedule_id = schedule.id, %missed_at, grace_minutes = grace.num_minutes(), "missed run skipped: later than the grace period");
            }
            MissedRun::NotDue => {}
        }
    }
    Ok(to_run)
}

/// Runs one claimed schedule's job once a permit is free; its outcome, or `None` when it could
/// not run or not be recorded (logged here).
async fn run_bounded(
    services: &Services,
    sender: &dyn Outlet,
    permits: &Semaphore,
    schedule: &Schedule,
    now: DateTime<Utc>,
) -> Option<JobOutcome> {
    let Ok(_permit) = permits.acquire().await else {
        tracing::warn!(
            schedule_id = schedule.id,
            "job not run: the workers are closed"
        );
        return None;
    };
    let job = AssertUnwindSafe(run_job(services, sender, schedule, now)).catch_unwind();
    match job.await {
        Ok(Ok(outcome)) => Some(outcome),
        Ok(Err(e)) => {
            tracing::error!(schedule_id = schedule.id, error = %e, "scheduled job not recorded");
            None
        }
        Err(_) => {
            // The panic hook logged it; its next run is stored already, so it is not retried now.
            let error = Some("the job failed unexpectedly; it has been logged".to_string());
            if let Err(e) = services
                .store
                .record_schedule_run(schedule.id, now, None, error)
                .await
            {
                tracing::error!(schedule_id = schedule.id, error = %e, "scheduled job not recorded");
            }
            None
        }
    }
}
