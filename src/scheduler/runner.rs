//! The scheduler loop: one task that sleeps until the earliest `next_run_at` (or the daily
//! cleanup), wakes early when a schedule changes (`Services::schedule_changed`), and fires due
//! jobs. Each due schedule's next run is stored before its job runs, so a crash never repeats a
//! run and a job gets at most one catch-up run after downtime (see [`super::missed`]).

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::clock::Clock;
use super::jobs::{JobOutcome, run_job};
use super::missed::{MissedRun, decide};
use super::system_jobs::{next_cleanup_after, run_cleanup, sync_briefings};
use super::timezone::Timezone;
use crate::services::Services;
use crate::store::{Schedule, StoreError};
use crate::telegram::send::TelegramSender;

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

/// Starts the loop; it stops when `shutdown` fires.
pub fn spawn(
    services: Arc<Services>,
    sender: TelegramSender,
    clock: Clock,
    shutdown: CancellationToken,
) -> SchedulerHandle {
    let (publish, wake_at) = watch::channel(None);
    let task = tokio::spawn(run_loop(services, sender, clock, shutdown, publish));
    SchedulerHandle { task, wake_at }
}

async fn run_loop(
    services: Arc<Services>,
    sender: TelegramSender,
    clock: Clock,
    shutdown: CancellationToken,
    publish: watch::Sender<Option<DateTime<Utc>>>,
) {
    let system_tz = Timezone::new(services.config.timezone);
    let mut next_cleanup = next_cleanup_after(system_tz, clock.now());
    // Jobs run beside the loop, so a slow one (an LLM briefing) never delays the next due run.
    let jobs = TaskTracker::new();
    tracing::info!(%next_cleanup, "scheduler started");
    loop {
        // Registered before the pass, so a change made during it still wakes the next sleep.
        let changed = services.schedule_changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        let now = clock.now();
        let pass = one_pass(&services, &sender, &jobs, now, &mut next_cleanup);
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
    jobs.close();
    if tokio::time::timeout(JOBS_DRAIN, jobs.wait()).await.is_err() {
        tracing::warn!("scheduled jobs still running at shutdown were cut off");
    }
    tracing::info!("scheduler stopped");
}

/// Syncs system jobs, starts what is due (in `jobs`) and runs the cleanup if its time came;
/// returns when to wake next.
async fn one_pass(
    services: &Arc<Services>,
    sender: &TelegramSender,
    jobs: &TaskTracker,
    now: DateTime<Utc>,
    next_cleanup: &mut DateTime<Utc>,
) -> DateTime<Utc> {
    if let Err(e) = sync_briefings(services, now).await {
        tracing::warn!(error = %e, "could not update the morning briefings");
    }
    match claim_due(services, now).await {
        Ok(due) if !due.is_empty() => {
            let (services, sender) = (Arc::clone(services), sender.clone());
            jobs.spawn(async move { run_claimed(&services, &sender, &due, now).await });
        }
        Ok(_) => {}
        Err(e) => {
            tracing::error!(error = %e, "could not run due schedules");
            return now + RETRY_AFTER_ERROR;
        }
    }
    if now >= *next_cleanup {
        if let Err(e) = run_cleanup(services, now).await {
            tracing::error!(error = %e, "daily cleanup failed");
        }
        *next_cleanup = next_cleanup_after(Timezone::new(services.config.timezone), now);
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
/// `SCHEDULE_GRACE_MINUTES` are made up once; older ones are skipped and logged). Each
/// schedule's next run is stored before its job runs. Returns the outcomes of the jobs run.
pub async fn run_due(
    services: &Services,
    sender: &TelegramSender,
    now: DateTime<Utc>,
) -> Result<Vec<(i64, JobOutcome)>, StoreError> {
    let due = claim_due(services, now).await?;
    Ok(run_claimed(services, sender, &due, now).await)
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

/// Runs the jobs of claimed schedules side by side; returns their outcomes.
async fn run_claimed(
    services: &Services,
    sender: &TelegramSender,
    to_run: &[Schedule],
    now: DateTime<Utc>,
) -> Vec<(i64, JobOutcome)> {
    let runs = to_run.iter().map(|s| async move {
        let outcome = run_job(services, sender, s, now).await;
        (s.id, outcome)
    });
    let mut outcomes = Vec::new();
    for (id, outcome) in futures::future::join_all(runs).await {
        match outcome {
            Ok(outcome) => outcomes.push((id, outcome)),
            Err(e) => tracing::error!(schedule_id = id, error = %e, "scheduled job not recorded"),
        }
    }
    outcomes
}
