//! The scheduler against the fake Telegram server: `run_job` delivering and recording, failing
//! jobs telling their owner once, the loop under a hand-driven clock, the missed-run policy on
//! restart.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Timelike, Utc};
use minicrew::app::App;
use minicrew::config::{Config, Purpose};
use minicrew::ids::{ChatId, UserId};
use minicrew::schedule_spec::{CronExpr, ScheduleSpec};
use minicrew::scheduler::{Clock, JobOutcome, ManualClock, run_job, spawn};
use minicrew::services::Services;
use minicrew::store::{JobAction, NewSchedule, Schedule, Store};
use minicrew::telegram::send::TelegramSender;
use minicrew::timezone::Timezone;
use minicrew::tools::Tool;
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

use crate::support::app::{OWNER, TestApp, WAIT, test_env};
use crate::support::fake_telegram::FakeTelegram;

/// The app's services and a sender on the fake, without the daemon running.
pub struct Harness {
    pub fake: FakeTelegram,
    _dir: TempDir,
    pub services: Arc<Services>,
    pub sender: TelegramSender,
    pub owner_id: UserId,
}

impl Harness {
    pub async fn new() -> Self {
        Self::with(&[], None).await
    }

    /// With extra env keys and, optionally, a tool list instead of `all_tools()`.
    pub async fn with(extra: &[(&str, &str)], tools: Option<Vec<Box<dyn Tool>>>) -> Self {
        let (fake, dir) = (FakeTelegram::start().await, tempfile::tempdir().unwrap());
        let config = Config::from_reader(&test_env(&fake, &dir, extra), Purpose::Daemon).unwrap();
        let app = match tools {
            None => App::build(config).await.unwrap(),
            Some(tools) => App::build_with_tools(config, move |_| tools).await.unwrap(),
        };
        let services = Arc::clone(app.services());

        let sender = TelegramSender::new(fake.bot(), services.store.clone(), 0, 0);
        let owner_id = app.owner().id;
        Self {
            fake,
            _dir: dir,
            services,
            sender,
            owner_id,
        }
    }

    pub fn store(&self) -> &Store {
        &self.services.store
    }

    pub async fn schedule(&self, id: i64) -> Schedule {
        self.store()
            .user_schedule(self.owner_id, id)
            .await
            .unwrap()
            .unwrap()
    }
}

/// A schedule of `user_id` due at `at`.
fn new_schedule(
    user_id: UserId,
    spec: ScheduleSpec,
    action: JobAction,
    at: DateTime<Utc>,
) -> NewSchedule {
    NewSchedule {
        user_id,
        spec,
        timezone: Timezone::UTC,
        action,
        next_run_at: at,
    }
}

fn reminder(user_id: UserId, text: &str, at: DateTime<Utc>) -> NewSchedule {
    new_schedule(
        user_id,
        ScheduleSpec::Once(at),
        JobAction::Text(text.into()),
        at,
    )
}

/// Where the hand-driven clock of the loop tests starts: a fixed noon on a whole minute, so the
/// 03:00 daily cleanup is never the next wake-up, whatever time the tests run at.
const LOOP_START: DateTime<Utc> = DateTime::from_timestamp(1_780_315_200, 0).unwrap();

/// Now, to the whole second (the table stores Unix seconds).
fn now_secs() -> DateTime<Utc> {
    DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap()
}

#[tokio::test]
async fn run_job_delivers_a_reminder_and_records_the_message_id() {
    let h = Harness::new().await;
    let now = now_secs();
    let id = h
        .store()
        .insert_schedule_once(reminder(h.owner_id, "drink water", now), None)
        .await
        .unwrap();
    let outcome = run_job(&h.services, &h.sender, &h.schedule(id).await, now)
        .await
        .unwrap();
    let sent = h.fake.wait_for_sent(1, WAIT).await;
    assert_eq!(sent[0].chat_id, OWNER);
    assert_eq!(sent[0].visible_text, "⏰ drink water");
    assert_eq!(
        outcome,
        JobOutcome::Delivered {
            message_id: sent[0].message_id
        }
    );
    let stored = h.schedule(id).await;
    assert_eq!(stored.last_message_id, Some(sent[0].message_id));
    assert_eq!(stored.last_run_at, Some(now));
    assert_eq!(stored.last_error, None);
    h.fake.assert_no_violations();
}

#[tokio::test]
async fn failing_tool_job_tells_its_owner_once_until_it_succeeds() {
    let h = Harness::new().await;
    let now = now_secs();
    let cron = ScheduleSpec::Cron(CronExpr::parse("0 7 * * *").unwrap());
    let job = |args: &str| JobAction::Tool {
        name: "note".into(),
        args: args.into(),
    };
    let id = h
        .store()
        .insert_schedule_once(new_schedule(h.owner_id, cron, job("get 1"), now), None)
        .await
        .unwrap();
    for expect_told in [true, false] {
        let outcome = run_job(&h.services, &h.sender, &h.schedule(id).await, now)
            .await
            .unwrap();
        let JobOutcome::Failed { error, owner_told } = outcome else {
            panic!("expected a failure, got {outcome:?}");
        };
        assert_eq!(error, "You have no note #1.");
        assert_eq!(owner_told, expect_told);
    }
    let sent = h.fake.sent_to(OWNER);
    assert_eq!(sent.len(), 1, "told once: {sent:?}");
    assert!(
        sent[0].visible_text.contains("schedule #"),
        "{}",
        sent[0].visible_text
    );
    assert!(sent[0].visible_text.contains("You have no note #1."));
    let stored = h.schedule(id).await;
    assert_eq!(stored.last_error.as_deref(), Some("You have no note #1."));
    let logged: i64 = h
        .store()
        .call(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM tool_logs WHERE source = 'schedule' AND status = 'error'",
                [],
                |r| r.get(0),
            )
        })
        .await
        .unwrap();
    assert_eq!(logged, 2, "each run goes through run_tool and is logged");

    // A success clears the error, so the next failure is news again.
    let note = h
        .store()
        .add_note(h.owner_id, "milk", "buy milk")
        .await
        .unwrap();
    assert_eq!(note, 1);
    let outcome = run_job(&h.services, &h.sender, &h.schedule(id).await, now)
        .await
        .unwrap();
    assert!(
        matches!(outcome, JobOutcome::Delivered { .. }),
        "{outcome:?}"
    );
    assert_eq!(h.schedule(id).await.last_error, None);
    h.store().delete_note(h.owner_id, 1).await.unwrap();
    let outcome = run_job(&h.services, &h.sender, &h.schedule(id).await, now)
        .await
        .unwrap();
    assert!(
        matches!(
            outcome,
            JobOutcome::Failed {
                owner_told: true,
                ..
            }
        ),
        "{outcome:?}"
    );
    assert_eq!(h.fake.sent_to(OWNER).len(), 3, "told, the note, told again");
}

#[tokio::test]
async fn job_of_a_disabled_user_does_not_run() {
    let h = Harness::new().await;
    let store = h.store();
    store
        .register_pending_user(ChatId(4242), "Pat", None, 0)
        .await
        .unwrap();
    let pat = store.user_by_chat(ChatId(4242)).await.unwrap().unwrap();
    let now = now_secs();
    let id = store
        .insert_schedule_once(reminder(pat.id, "hidden", now), None)
        .await
        .unwrap();
    let schedule = store.user_schedule(pat.id, id).await.unwrap().unwrap();
    let outcome = run_job(&h.services, &h.sender, &schedule, now)
        .await
        .unwrap();
    assert_eq!(outcome, JobOutcome::OwnerInactive);
    assert!(h.fake.sent_messages().is_empty());
}

#[tokio::test]
async fn loop_fires_a_near_reminder_when_its_time_comes_on_the_clock() {
    let h = Harness::new().await;
    let start = LOOP_START;
    let clock = ManualClock::new(start);
    let shutdown = CancellationToken::new();
    let handle = spawn(
        Arc::clone(&h.services),
        h.sender.clone(),
        Clock::Manual(clock.clone()),
        Arc::new(tokio::sync::Semaphore::new(16)),
        shutdown.clone(),
    );
    let mut wake_at = handle.wake_at();
    wake_at.wait_for(Option::is_some).await.unwrap();

    // A new schedule wakes the sleeping loop, which then plans to wake at its time.
    let due = start + TimeDelta::minutes(10);
    let id = h
        .store()
        .insert_schedule_once(reminder(h.owner_id, "stretch", due), None)
        .await
        .unwrap();
    tokio::time::timeout(WAIT, wake_at.wait_for(|w| *w == Some(due)))
        .await
        .unwrap()
        .unwrap();

    clock.advance(TimeDelta::minutes(9));
    tokio::task::yield_now().await;
    assert!(h.fake.sent_messages().is_empty(), "nothing is due yet");
    clock.advance(TimeDelta::minutes(1));
    let sent = h.fake.wait_for_sent(1, WAIT).await;
    assert_eq!(sent[0].visible_text, "⏰ stretch");
    tokio::time::timeout(WAIT, wake_at.wait_for(|w| w.is_some_and(|w| w > due)))
        .await
        .unwrap()
        .unwrap();
    // The job runs beside the loop; stopping the loop drains it, so its record is complete then.
    shutdown.cancel();
    tokio::time::timeout(WAIT, handle.stopped()).await.unwrap();
    let stored = h.schedule(id).await;
    assert!(!stored.active, "a one-off is finished after it ran");
    assert_eq!(stored.last_message_id, Some(sent[0].message_id));
    assert_eq!(stored.last_run_at, Some(due));
}

#[tokio::test]
async fn after_downtime_a_recent_miss_runs_once_and_an_old_one_is_skipped() {
    let (fake, dir) = (FakeTelegram::start().await, tempfile::tempdir().unwrap());
    let store = Store::open(dir.path()).unwrap();
    let owner = store
        .ensure_owner(ChatId(OWNER), "Olga", "UTC")
        .await
        .unwrap();
    let now = now_secs().with_second(0).unwrap();
    let recent = now - TimeDelta::minutes(30);
    let old = now - TimeDelta::hours(3);
    let daily_old = CronExpr::parse(&format!("{} {} * * *", old.minute(), old.hour())).unwrap();
    let catch_up = store
        .insert_schedule_once(reminder(owner.id, "catch up", recent), None)
        .await
        .unwrap();
    let too_late = store
        .insert_schedule_once(reminder(owner.id, "too late", old), None)
        .await
        .unwrap();
    let daily = store
        .insert_schedule_once(
            new_schedule(
                owner.id,
                ScheduleSpec::Cron(daily_old),
                JobAction::Text("daily".into()),
                old,
            ),
            None,
        )
        .await
        .unwrap();
    drop(store);

    let app = TestApp::start_with(fake, dir, &[]).await;
    let sent = app.fake.wait_for_sent(1, WAIT).await;
    assert_eq!(sent[0].visible_text, "⏰ catch up");
    app.wait_for_db(
        "SELECT COUNT(*) FROM schedules WHERE last_message_id IS NOT NULL",
        "1",
    )
    .await;
    let get = |id| app.store.user_schedule(owner.id, id);
    let ran = get(catch_up).await.unwrap().unwrap();
    assert_eq!(ran.last_message_id, Some(sent[0].message_id));
    assert!(!ran.active);
    let skipped = get(too_late).await.unwrap().unwrap();
    assert!(
        !skipped.active && skipped.last_run_at.is_none(),
        "{skipped:?}"
    );
    let moved = get(daily).await.unwrap().unwrap();
    assert_eq!(
        moved.next_run_at,
        Some(old + TimeDelta::days(1)),
        "moved to the next occurrence"
    );
    assert!(moved.active && moved.last_run_at.is_none(), "{moved:?}");
    app.fake
        .assert_no_messages_to(OWNER, std::time::Duration::from_millis(300))
        .await;
    assert_eq!(app.fake.sent_to(OWNER).len(), 1);
    app.stop().await;
}

/// A tool that never finishes, standing in for a slow LLM briefing.
struct Stall;

#[async_trait::async_trait]
impl minicrew::tools::Tool for Stall {
    fn name(&self) -> &'static str {
        "stall"
    }
    fn description(&self) -> &'static str {
        "Never answers"
    }
    fn usage(&self) -> &'static str {
        "/stall"
    }
    fn effect(&self) -> minicrew::tools::Effect {
        minicrew::tools::Effect::Read
    }
    async fn call(
        &self,
        _ctx: &minicrew::tools::ToolContext<'_>,
        _args: serde_json::Value,
    ) -> Result<minicrew::tools::ToolOutput, minicrew::tools::ToolError> {
        std::future::pending().await
    }
}

#[tokio::test]
async fn a_slow_job_does_not_hold_back_a_reminder_due_after_it() {
    let h = Harness::with(&[], Some(vec![Box::new(Stall)])).await;
    // On a whole minute, so the every-minute job's next run (start + 1 min) comes after `due`.
    let start = LOOP_START;
    let clock = ManualClock::new(start);
    let shutdown = CancellationToken::new();
    let every_minute = ScheduleSpec::Cron(CronExpr::parse("* * * * *").unwrap());
    let stall = JobAction::Tool {
        name: "stall".into(),
        args: String::new(),
    };
    let store = h.store();
    store
        .insert_schedule_once(new_schedule(h.owner_id, every_minute, stall, start), None)
        .await
        .unwrap();
    let due = start + TimeDelta::seconds(30);
    store
        .insert_schedule_once(reminder(h.owner_id, "still on time", due), None)
        .await
        .unwrap();
    let handle = spawn(
        Arc::clone(&h.services),
        h.sender.clone(),
        Clock::Manual(clock.clone()),
        Arc::new(tokio::sync::Semaphore::new(16)),
        shutdown.clone(),
    );
    let mut wake_at = handle.wake_at();
    tokio::time::timeout(WAIT, wake_at.wait_for(|w| *w == Some(due)))
        .await
        .unwrap()
        .unwrap();
    clock.advance(TimeDelta::seconds(30));
    let sent = h.fake.wait_for_sent(1, WAIT).await;
    assert_eq!(sent[0].visible_text, "⏰ still on time");
    shutdown.cancel();
    tokio::time::timeout(WAIT * 2, handle.stopped())
        .await
        .expect("shutdown cuts the stalled job off");
}
