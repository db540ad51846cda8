//! The morning briefing: rows follow the users with a Gmail token, at `MORNING_BRIEFING_TIME` in
//! each user's timezone, and a briefing with nothing to say sends nothing.

use async_trait::async_trait;
use chrono::Utc;
use minicrew::schedule_spec::next_run::next_run_after;
use minicrew::scheduler::JobOutcome;
use minicrew::scheduler::run_job;
use minicrew::scheduler::system_jobs::{BRIEFING_TOOL, sync_briefings};
use minicrew::store::{BRIEFING, JobAction};
use minicrew::timezone::Timezone;
use minicrew::tools::{Effect, Tool, ToolContext, ToolError, ToolOutput};
use serde_json::{Value, json};

use crate::scheduler::Harness;

/// A stand-in `email_summary` with no new mail: the "nothing to say" convention (empty text).
struct NothingNew;

#[async_trait]
impl Tool for NothingNew {
    fn name(&self) -> &'static str {
        BRIEFING_TOOL
    }
    fn description(&self) -> &'static str {
        "Summarise new email"
    }
    fn usage(&self) -> &'static str {
        "/email_summary"
    }

    fn effect(&self) -> Effect {
        Effect::Read
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {}})
    }
    fn parse_command(&self, _args: &str) -> Result<Value, ToolError> {
        Ok(json!({}))
    }
    async fn call(&self, _ctx: &ToolContext<'_>, _args: Value) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::plain(""))
    }
}

#[tokio::test]
async fn briefing_follows_the_gmail_token_and_stays_quiet_with_nothing_new() {
    let creds = tempfile::tempdir().unwrap();
    let creds_dir = creds.path().display().to_string();
    let extra = [
        ("CREDENTIALS_DIR", creds_dir.as_str()),
        ("TIMEZONE", "Asia/Tokyo"),
        ("MORNING_BRIEFING_TIME", "07:15"),
    ];
    let tools: Vec<Box<dyn Tool>> = vec![Box::new(NothingNew)];
    let h = Harness::with(&extra, Some(tools)).await;
    let now = Utc::now();

    sync_briefings(&h.services, now).await.unwrap();
    assert!(
        h.store().briefing_schedules().await.unwrap().is_empty(),
        "no token, no briefing"
    );

    let token = creds.path().join(format!("gmail_{}.json", h.owner_id));
    std::fs::write(&token, "{}").unwrap();
    sync_briefings(&h.services, now).await.unwrap();
    let rows = h.store().briefing_schedules().await.unwrap();
    assert_eq!(rows.len(), 1);
    let tokyo = Timezone::new(chrono_tz::Asia::Tokyo);
    let expected = next_run_after("15 7 * * *", tokyo, now).unwrap();
    assert_eq!(
        rows[0].next_run_at.map(|t| t.timestamp()),
        expected.map(|t| t.timestamp())
    );
    assert_eq!(rows[0].system.as_deref(), Some(BRIEFING));
    assert!(matches!(&rows[0].action, JobAction::Tool { name, .. } if name == BRIEFING_TOOL));

    let outcome = run_job(&h.services, &h.sender, &rows[0], now)
        .await
        .unwrap();
    assert_eq!(outcome, JobOutcome::NothingToSend);
    assert!(h.fake.sent_messages().is_empty());

    std::fs::remove_file(&token).unwrap();
    sync_briefings(&h.services, now).await.unwrap();
    assert!(
        h.store().briefing_schedules().await.unwrap().is_empty(),
        "token gone, briefing gone"
    );
}
