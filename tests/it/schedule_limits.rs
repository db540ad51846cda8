//! What a user may schedule, through the chat: no recurring schedule under 15 minutes apart (the
//! owner included), at most 20 schedules and 50 reminders for a non-owner, none for the owner.

use chrono::{TimeDelta, Utc};
use minicrew::ids::{ChatId, UserId};
use minicrew::schedule_spec::{CronExpr, ScheduleSpec};
use minicrew::store::{JobAction, NewSchedule, Store};
use minicrew::timezone::Timezone;
use minicrew::users::UserStatus;

use crate::support::app::{OWNER, TestApp, WAIT};

/// An approved user who is not the owner.
const PAT: i64 = 4242;

/// Sends `text` as `chat` and returns the reply's visible text.
async fn ask(app: &TestApp, chat: i64, text: &str) -> String {
    let before = app.fake.sent_messages().len();
    app.fake.push_text(chat, text);
    let sent = app.fake.wait_for_sent(before + 1, WAIT).await;
    assert_eq!(sent[before].chat_id, chat);
    sent[before].visible_text.clone()
}

async fn start_with_pat() -> (TestApp, UserId) {
    // Pat sends more than the default messages per minute here.
    let app = TestApp::start_with(
        crate::support::fake_telegram::FakeTelegram::start().await,
        tempfile::tempdir().unwrap(),
        &[("USER_RATE_LIMIT_PER_MIN", "0")],
    )
    .await;
    app.store
        .register_pending_user(ChatId(PAT), "Pat", None, 0)
        .await
        .unwrap();
    let pat = app
        .store
        .set_user_status(ChatId(PAT), UserStatus::Active)
        .await
        .unwrap()
        .unwrap();
    (app, pat.id)
}

async fn active_schedules(store: &Store, user_id: UserId) -> i64 {
    store
        .call(move |c| {
            c.query_row(
                "SELECT COUNT(*) FROM schedules WHERE user_id = ?1 AND active = 1",
                [user_id],
                |r| r.get(0),
            )
        })
        .await
        .unwrap()
}

/// Stores `n` daily schedules of `user_id` directly.
async fn seed_schedules(store: &Store, user_id: UserId, n: usize) {
    for _ in 0..n {
        let next_run_at = Utc::now() + TimeDelta::days(1);
        store
            .insert_schedule_once(
                NewSchedule {
                    user_id,
                    spec: ScheduleSpec::Cron(CronExpr::parse("0 7 * * *").unwrap()),
                    timezone: Timezone::UTC,
                    action: JobAction::Tool {
                        name: "note".into(),
                        args: "list".into(),
                    },
                    next_run_at,
                },
                None,
            )
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn twenty_every_minute_email_schedules_are_all_refused_naming_the_minimum() {
    let (app, pat) = start_with_pat().await;
    for _ in 0..20 {
        let reply = ask(&app, PAT, "/schedule add \"* * * * *\" email force 30d").await;
        assert!(
            reply.contains("1 minute(s) apart") && reply.contains("every 15 minutes"),
            "{reply}"
        );
    }
    let reply = ask(&app, PAT, "/schedule add \"*/5 * * * *\" note list").await;
    assert!(reply.contains("every 15 minutes"), "{reply}");
    let reply = ask(&app, OWNER, "/schedule add \"*/5 * * * *\" note list").await;
    assert!(
        reply.contains("every 15 minutes"),
        "the owner keeps the minimum too: {reply}"
    );
    assert_eq!(active_schedules(&app.store, pat).await, 0);
    let reply = ask(&app, PAT, "/schedule add \"*/15 * * * *\" note list").await;
    assert!(reply.starts_with("Scheduled #"), "{reply}");
    app.stop().await;
}

#[tokio::test]
async fn the_twenty_first_schedule_is_refused_but_the_owner_has_no_cap() {
    let (app, pat) = start_with_pat().await;
    for n in 0..20 {
        let reply = ask(
            &app,
            PAT,
            &format!("/schedule add daily 07:{n:02} note list"),
        )
        .await;
        assert!(reply.starts_with("Scheduled #"), "schedule {n}: {reply}");
    }
    let reply = ask(&app, PAT, "/schedule add daily 08:00 note list").await;
    assert!(
        reply.contains("You already have 20 schedules; the most you may have is 20"),
        "{reply}"
    );
    assert_eq!(active_schedules(&app.store, pat).await, 20);
    // Removing one makes room again.
    let first: i64 = app
        .store
        .call(move |c| {
            c.query_row(
                "SELECT MIN(id) FROM schedules WHERE user_id = ?1",
                [pat],
                |r| r.get(0),
            )
        })
        .await
        .unwrap();
    ask(&app, PAT, &format!("/schedule remove {first}")).await;
    let reply = ask(&app, PAT, "/schedule add daily 08:00 note list").await;
    assert!(reply.starts_with("Scheduled #"), "{reply}");

    let owner = app
        .store
        .user_by_chat(ChatId(OWNER))
        .await
        .unwrap()
        .unwrap();
    seed_schedules(&app.store, owner.id, 20).await;
    let reply = ask(&app, OWNER, "/schedule add daily 08:00 note list").await;
    assert!(reply.starts_with("Scheduled #"), "{reply}");
    assert_eq!(active_schedules(&app.store, owner.id).await, 21);
    app.stop().await;
}

#[tokio::test]
async fn the_fifty_first_reminder_is_refused() {
    let (app, pat) = start_with_pat().await;
    for _ in 0..50 {
        let at = Utc::now() + TimeDelta::hours(2);
        app.store
            .insert_schedule_once(
                NewSchedule {
                    user_id: pat,
                    spec: ScheduleSpec::Once(at),
                    timezone: Timezone::UTC,
                    action: JobAction::Text("stretch".into()),
                    next_run_at: at,
                },
                None,
            )
            .await
            .unwrap();
    }
    let reply = ask(&app, PAT, "/remind 10m stand up").await;
    assert!(
        reply.contains("You already have 50 reminders") && reply.contains("/remind remove <id>"),
        "{reply}"
    );
    assert_eq!(active_schedules(&app.store, pat).await, 50);
    app.stop().await;
}
