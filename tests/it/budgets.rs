//! `USER_DAILY_TOKEN_LIMIT` covers every model call, checked before each one: free text, a tool
//! loop that crosses the limit half-way, `/email`, a scheduled `/email` and the morning briefing.
//! The owner is exempt.

use chrono::Utc;
use minicrew::gmail::StoredToken;
use minicrew::ids::{ChatId, UserId};
use minicrew::llm::OVER_BUDGET_REPLY;
use minicrew::schedule_spec::{CronExpr, ScheduleSpec};
use minicrew::scheduler::system_jobs::sync_briefings;
use minicrew::scheduler::{JobOutcome, run_job};
use minicrew::store::llm_usage::LlmUsageRow;
use minicrew::store::{JobAction, NewSchedule, Store};
use minicrew::timezone::Timezone;
use minicrew::users::UserStatus;
use serde_json::json;

use crate::support::app::{OWNER, STRANGER, TestApp, WAIT};
use crate::support::fake_google::FakeGoogle;
use crate::support::fake_llm::{FakeLlm, Reply, Wire};
use crate::support::fake_telegram::FakeTelegram;

/// An approved user who is not the owner.
const PAT: i64 = 4242;
/// The allowance every test here sets.
const LIMIT: &str = "100";

/// Records `tokens` spent by the user of `chat_id` just now; returns the user's id.
async fn spend(store: &Store, chat_id: i64, tokens: u64) -> UserId {
    let user = store.user_by_chat(ChatId(chat_id)).await.unwrap().unwrap();
    let row = LlmUsageRow {
        speaker: None,
        user_id: user.id,
        provider: "claude".into(),
        model: "claude-haiku-4-5".into(),
        input_tokens: tokens,
        output_tokens: 0,
        cost_usd: 0.0,
        latency_ms: 1,
        error: None,
        created_at: Utc::now().timestamp(),
    };
    store.record_llm_usage(row).await.unwrap();
    user.id
}

/// Adds `chat_id` as an approved user.
async fn approve(store: &Store, chat_id: i64, name: &str) {
    store
        .register_pending_user(ChatId(chat_id), name, None, 0)
        .await
        .unwrap();
    store
        .set_user_status(ChatId(chat_id), UserStatus::Active)
        .await
        .unwrap();
}

/// The app with Claude on a fake and the allowance set, and Pat approved.
async fn chat_app() -> (TestApp, FakeLlm) {
    let claude = FakeLlm::start(Wire::Claude).await;
    let url = claude.base_url().to_string();
    let env = [
        ("ANTHROPIC_API_KEY", "sk-ant-test"),
        ("ANTHROPIC_BASE_URL", url.as_str()),
        ("USER_DAILY_TOKEN_LIMIT", LIMIT),
    ];
    let app = TestApp::start_with(
        FakeTelegram::start().await,
        tempfile::tempdir().unwrap(),
        &env,
    )
    .await;
    approve(&app.store, PAT, "Pat").await;
    (app, claude)
}

#[tokio::test]
async fn free_text_over_the_allowance_is_refused_without_a_model_call_but_not_for_the_owner() {
    let (app, claude) = chat_app().await;
    claude.always(Reply::text("Hello!"));
    spend(&app.store, PAT, 100).await;
    spend(&app.store, OWNER, 1_000).await;

    app.fake.push_text(PAT, "hello there");
    let sent = app.fake.wait_for_sent(1, WAIT).await;
    assert_eq!(sent[0].chat_id, PAT);
    assert_eq!(sent[0].text, OVER_BUDGET_REPLY);
    assert!(claude.requests().is_empty(), "no model call over the limit");
    app.wait_for_db(
        "SELECT COUNT(*) FROM chat_history WHERE content = 'hello there'",
        "1",
    )
    .await;

    app.fake.push_text(OWNER, "hello from the owner");
    let sent = app.fake.wait_for_sent(2, WAIT).await;
    assert_eq!((sent[1].chat_id, sent[1].text.as_str()), (OWNER, "Hello!"));
    app.stop().await;
}

#[tokio::test]
async fn a_tool_loop_that_crosses_the_allowance_stops_before_the_next_model_call() {
    let (app, claude) = chat_app().await;
    // The first round asks for a tool and reports more tokens than the whole allowance.
    let tool_round = json!({"type": "message", "role": "assistant", "model": "claude-fake",
        "content": [{"type": "tool_use", "id": "toolu_1", "name": "note",
                     "input": {"action": "add", "text": "buy milk"}}],
        "stop_reason": "tool_use", "usage": {"input_tokens": 70, "output_tokens": 40}});
    claude.script([Reply::Raw {
        status: 200,
        body: tool_round,
    }]);
    claude.always(Reply::text("a second round that must not happen"));

    app.fake.push_text(PAT, "note that I need milk");
    let sent = app.fake.wait_for_sent(1, WAIT).await;
    assert_eq!(sent[0].text, OVER_BUDGET_REPLY);
    assert_eq!(claude.requests().len(), 1, "stopped before round two");
    app.wait_for_db(
        "SELECT COUNT(*) FROM tool_logs WHERE source = 'llm' AND status = 'ok'",
        "1",
    )
    .await;
    app.wait_for_db(
        "SELECT SUM(input_tokens + output_tokens) FROM llm_usage",
        "110",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn email_over_the_allowance_is_refused_and_the_mail_stays_new() {
    let m = crate::email::start_with(&[("USER_DAILY_TOKEN_LIMIT", LIMIT)]).await;
    crate::email::connect_sam(&m).await;
    m.google.add_message(
        "m1",
        crate::email::text_mail("Your statement", "Pay by Friday."),
    );
    m.claude
        .always(Reply::text("a summary that must not be asked for"));
    spend(&m.app.store, STRANGER, 250).await;

    m.app.fake.push_text(STRANGER, "/email today");
    let sent = m.app.fake.wait_for_sent(3, WAIT).await;
    assert_eq!(sent[2].chat_id, STRANGER);
    assert_eq!(sent[2].text, OVER_BUDGET_REPLY);
    assert!(m.claude.requests().is_empty());
    m.app
        .wait_for_db("SELECT COUNT(*) FROM processed_emails", "0")
        .await;
    m.app.stop().await;
}

/// Harness env for Gmail on `google` and Claude on `claude`, with the allowance set.
fn gmail_env(
    google: &FakeGoogle,
    claude: &FakeLlm,
    dir: &std::path::Path,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = google
        .env(dir)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    env.extend([
        ("ANTHROPIC_API_KEY".into(), "sk-ant-test".into()),
        ("ANTHROPIC_BASE_URL".into(), claude.base_url().to_string()),
        ("USER_DAILY_TOKEN_LIMIT".into(), LIMIT.into()),
        ("MORNING_BRIEFING_TIME".into(), "07:00".into()),
    ]);
    env
}

#[tokio::test]
async fn a_scheduled_email_and_the_briefing_over_the_allowance_fail_without_a_model_call() {
    let (google, claude) = (
        FakeGoogle::start().await,
        FakeLlm::start(Wire::Claude).await,
    );
    let dir = tempfile::tempdir().unwrap();
    let env = gmail_env(&google, &claude, dir.path());
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let h = crate::scheduler::Harness::with(&env, None).await;
    let store = h.store();
    approve(store, PAT, "Pat").await;
    let pat = spend(store, PAT, 100).await;
    let token = StoredToken {
        access_token: "ya29.pat-access".to_string().into(),
        refresh_token: "1//pat-refresh".to_string().into(),
        expires_at: None,
        scope: None,
    };
    h.services
        .gmail
        .connect
        .tokens()
        .save(pat, &token)
        .await
        .unwrap();
    google
        .state()
        .access_tokens
        .insert("ya29.pat-access".into());
    google.add_message("m1", crate::email::text_mail("Invoice", "Due Monday."));
    claude.always(Reply::text("a summary that must not be asked for"));

    let now = Utc::now();
    let id = store
        .insert_schedule_once(
            NewSchedule {
                user_id: pat,
                spec: ScheduleSpec::Cron(CronExpr::parse("0 7 * * *").unwrap()),
                timezone: Timezone::UTC,
                action: JobAction::Tool {
                    name: "email_summary".into(),
                    args: "force 30d".into(),
                },
                next_run_at: now,
            },
            None,
        )
        .await
        .unwrap();
    let schedule = store.user_schedule(pat, id).await.unwrap().unwrap();
    let outcome = run_job(&h.services, &h.sender, &schedule, now)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        JobOutcome::Failed {
            error: OVER_BUDGET_REPLY.into(),
            owner_told: true
        }
    );
    let told = h.fake.sent_to(PAT);
    assert!(told[0].text.contains(OVER_BUDGET_REPLY), "{}", told[0].text);

    sync_briefings(&h.services, now).await.unwrap();
    let briefing = store
        .briefing_schedules()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.user_id == pat)
        .expect("Pat has a Gmail token, so a briefing");
    let outcome = run_job(&h.services, &h.sender, &briefing, now)
        .await
        .unwrap();
    assert!(
        matches!(&outcome, JobOutcome::Failed { error, .. } if error == OVER_BUDGET_REPLY),
        "{outcome:?}"
    );
    assert!(claude.requests().is_empty(), "no model call for either job");
    assert!(
        !google.state().bearers.is_empty(),
        "the mail was read, so the refusal came from the allowance"
    );
}
