//! A panic while handling one message costs that chat one apology: the update is closed as
//! failed (never replayed at the next start) and the chat's next message is answered as usual.

use async_trait::async_trait;
use minicrew::telegram::handle_update::PANIC_APOLOGY;
use minicrew::tools::{Effect, Tool, ToolContext, ToolError, ToolHandles, ToolOutput, all_tools};
use serde_json::Value;

use crate::support::app::{OWNER, TestApp, WAIT};
use crate::support::fake_telegram::FakeTelegram;

/// A tool that panics, standing in for a bug anywhere in the handling of a message.
struct PanicTool;

#[async_trait]
impl Tool for PanicTool {
    fn name(&self) -> &'static str {
        "panic_tool"
    }
    fn description(&self) -> &'static str {
        "Panics (test only)"
    }
    fn usage(&self) -> &'static str {
        "/panic_tool"
    }
    fn effect(&self) -> Effect {
        Effect::Read
    }
    async fn call(&self, _ctx: &ToolContext<'_>, _args: Value) -> Result<ToolOutput, ToolError> {
        panic!("the test tool panics on purpose")
    }
}

fn tools(handles: &ToolHandles) -> Vec<Box<dyn Tool>> {
    let mut tools = all_tools(handles);
    tools.push(Box::new(PanicTool));
    tools
}

async fn inbox_status(app: &TestApp, update_id: i64) -> (String, Option<String>) {
    app.store
        .call(move |c| {
            c.query_row(
                "SELECT status, error FROM inbox WHERE update_id = ?1",
                [update_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })
        .await
        .unwrap()
}

fn apologies(fake: &FakeTelegram) -> usize {
    fake.sent_to(OWNER)
        .iter()
        .filter(|m| m.text == PANIC_APOLOGY)
        .count()
}

#[tokio::test]
async fn a_panicking_handler_apologises_once_and_the_update_is_failed_not_replayed() {
    let (fake, dir) = (FakeTelegram::start().await, tempfile::tempdir().unwrap());
    let app = TestApp::start_with_tools(fake, dir, &[], tools).await;

    let panicked = app.fake.push_text(OWNER, "/panic_tool");
    let sent = app.fake.wait_for_sent(1, WAIT).await;
    assert_eq!(sent[0].text, PANIC_APOLOGY);
    let (status, error) = inbox_status(&app, panicked).await;
    assert_eq!(status, "failed");
    assert_eq!(
        error.as_deref(),
        Some("panicked: the test tool panics on purpose")
    );

    app.fake.push_text(OWNER, "/help");
    let sent = app.fake.wait_for_sent(2, WAIT).await;
    assert!(sent[1].visible_text.contains("/note"), "{}", sent[1].text);

    let (fake, dir) = app.stop().await;
    let app = TestApp::start_with_tools(fake, dir, &[], tools).await;
    // Replayed updates are queued before polling starts, so a replay would come first.
    app.fake.push_text(OWNER, "/help");
    let sent = app.fake.wait_for_sent(3, WAIT).await;
    assert!(sent[2].visible_text.contains("/note"), "{}", sent[2].text);
    assert_eq!(
        apologies(&app.fake),
        1,
        "the failed update was not replayed"
    );
    assert_eq!(inbox_status(&app, panicked).await.0, "failed");
    app.fake.assert_no_violations();
    app.stop().await;
}

#[tokio::test]
async fn a_panicking_scheduled_job_is_recorded_and_the_other_due_jobs_still_run() {
    use chrono::{DateTime, Utc};
    use minicrew::schedule_spec::ScheduleSpec;
    use minicrew::scheduler::run_due;
    use minicrew::store::{JobAction, NewSchedule};
    use minicrew::timezone::Timezone;

    let h = crate::scheduler::Harness::with(&[], Some(vec![Box::new(PanicTool)])).await;
    let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    let once = |action| NewSchedule {
        user_id: h.owner_id,
        spec: ScheduleSpec::Once(now),
        timezone: Timezone::UTC,
        action,
        next_run_at: now,
    };
    let store = h.store();
    let panicking = once(JobAction::Tool {
        name: "panic_tool".into(),
        args: String::new(),
    });
    let panicking = store.insert_schedule_once(panicking, None).await.unwrap();
    let reminder = once(JobAction::Text("still here".into()));
    store.insert_schedule_once(reminder, None).await.unwrap();
    let permits = tokio::sync::Semaphore::new(4);
    let outcomes = run_due(&h.services, &h.sender, &permits, now)
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 1, "the reminder ran: {outcomes:?}");
    let sent = h.fake.wait_for_sent(1, WAIT).await;
    assert_eq!(sent[0].visible_text, "⏰ still here");
    let failed = store
        .user_schedule(h.owner_id, panicking)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        failed.last_error.as_deref(),
        Some("the job failed unexpectedly; it has been logged")
    );
}
