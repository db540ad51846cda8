//! Due jobs share the chats' bound: with two permits, five due jobs run at most two at a time,
//! and all five run. The test tool holds each job until the test releases it, so the count of
//! jobs inside it at once is exact, not a matter of timing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use minicrew::schedule_spec::{CronExpr, ScheduleSpec};
use minicrew::scheduler::{Clock, ManualClock, spawn};
use minicrew::store::{JobAction, NewSchedule};
use minicrew::timezone::Timezone;
use minicrew::tools::{Effect, Tool, ToolContext, ToolError, ToolOutput};
use serde_json::Value;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::scheduler::Harness;
use crate::support::app::WAIT;

/// A fixed noon on a whole minute, so the daily cleanup is never what the loop waits for.
const START: DateTime<Utc> = DateTime::from_timestamp(1_780_315_200, 0).unwrap();

/// What the gate saw.
struct Counts {
    inside: AtomicUsize,
    peak: AtomicUsize,
    finished: AtomicUsize,
    release: Semaphore,
    changed: Notify,
}

impl Counts {
    fn new() -> Self {
        Self {
            inside: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            finished: AtomicUsize::new(0),
            release: Semaphore::new(0),
            changed: Notify::new(),
        }
    }

    /// Waits until `cond` holds, up to [`WAIT`].
    async fn wait_until(&self, what: &str, cond: impl Fn(&Self) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if cond(self) {
                return;
            }
            let timed_out = tokio::time::timeout_at(deadline, changed).await.is_err();
            assert!(!timed_out, "timed out waiting until {what}");
        }
    }
}

/// A tool that counts the jobs inside it and keeps each there until the test releases one.
struct Gate(Arc<Counts>);

#[async_trait::async_trait]
impl Tool for Gate {
    fn name(&self) -> &'static str {
        "gate"
    }
    fn description(&self) -> &'static str {
        "Waits for the test"
    }
    fn usage(&self) -> &'static str {
        "/gate"
    }

    fn effect(&self) -> Effect {
        Effect::Read
    }
    async fn call(&self, _ctx: &ToolContext<'_>, _args: Value) -> Result<ToolOutput, ToolError> {
        let counts = &self.0;
        let now = counts.inside.fetch_add(1, Ordering::SeqCst) + 1;
        counts.peak.fetch_max(now, Ordering::SeqCst);
        counts.changed.notify_waiters();
        counts
            .release
            .acquire()
            .await
            .expect("the test never closes the gate")
            .forget();
        counts.inside.fetch_sub(1, Ordering::SeqCst);
        counts.finished.fetch_add(1, Ordering::SeqCst);
        counts.changed.notify_waiters();
        Ok(ToolOutput::plain(""))
    }
}

#[tokio::test]
async fn due_jobs_never_run_more_than_the_shared_bound_at_once() {
    const JOBS: usize = 5;
    const BOUND: usize = 2;
    let counts = Arc::new(Counts::new());
    let tools: Vec<Box<dyn Tool>> = vec![Box::new(Gate(Arc::clone(&counts)))];
    let h = Harness::with(&[], Some(tools)).await;
    for _ in 0..JOBS {
        h.store()
            .insert_schedule_once(
                NewSchedule {
                    user_id: h.owner_id,
                    spec: ScheduleSpec::Cron(CronExpr::parse("* * * * *").unwrap()),
                    timezone: Timezone::UTC,
                    action: JobAction::Tool {
                        name: "gate".into(),
                        args: String::new(),
                    },
                    next_run_at: START,
                },
                None,
            )
            .await
            .unwrap();
    }
    let shutdown = CancellationToken::new();
    let handle = spawn(
        Arc::clone(&h.services),
        h.sender.clone(),
        Clock::Manual(ManualClock::new(START)),
        Arc::new(Semaphore::new(BOUND)),
        shutdown.clone(),
    );
    for done in 0..JOBS {
        let expected_inside = BOUND.min(JOBS - done);
        counts
            .wait_until("the bound is used", |c| {
                c.inside.load(Ordering::SeqCst) == expected_inside
            })
            .await;
        assert!(counts.peak.load(Ordering::SeqCst) <= BOUND);
        counts.release.add_permits(1);
        counts
            .wait_until("one more job finished", |c| {
                c.finished.load(Ordering::SeqCst) == done + 1
            })
            .await;
    }
    assert_eq!(counts.peak.load(Ordering::SeqCst), BOUND);
    assert_eq!(counts.finished.load(Ordering::SeqCst), JOBS);
    shutdown.cancel();
    tokio::time::timeout(WAIT, handle.stopped()).await.unwrap();
}
