//! `/remind`, `/schedule` and `/tz` through the running daemon and the fake Telegram server.

use chrono::{DateTime, Utc};
use minicrew::ids::ChatId;
use minicrew::schedule_spec::local_time::format_local;
use minicrew::schedule_spec::next_run::next_run_after;
use minicrew::store::Store;
use minicrew::timezone::Timezone;
use minicrew::users::UserStatus;

use crate::support::app::{OWNER, TestApp, WAIT};

const BERLIN: &[(&str, &str)] = &[("TIMEZONE", "Europe/Berlin")];

fn berlin() -> Timezone {
    Timezone::new(chrono_tz::Europe::Berlin)
}

/// The newest schedule row's id and next run.
async fn last_schedule(store: &Store) -> (i64, DateTime<Utc>) {
    let (id, at): (i64, i64) = store
        .call(|c| {
            c.query_row(
                "SELECT id, next_run_at FROM schedules ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })
        .await
        .unwrap();
    (id, DateTime::from_timestamp(at, 0).unwrap())
}

/// Sends `text` as `chat` and returns the reply's visible text.
async fn ask(app: &TestApp, chat: i64, text: &str) -> String {
    let before = app.fake.sent_messages().len();
    app.fake.push_text(chat, text);
    let sent = app.fake.wait_for_sent(before + 1, WAIT).await;
    assert_eq!(sent[before].chat_id, chat);
    sent[before].visible_text.clone()
}

#[tokio::test]
async fn remind_in_ten_minutes_stores_the_instant_and_replies_in_local_time() {
    let app = TestApp::start_with(
        crate::support::fake_telegram::FakeTelegram::start().await,
        tempfile::tempdir().unwrap(),
        BERLIN,
    )
    .await;
    let before = Utc::now().timestamp();
    let reply = ask(&app, OWNER, "/remind 10m stand up").await;
    let after = Utc::now().timestamp();
    let (id, at) = last_schedule(&app.store).await;
    assert!(
        (before + 600..=after + 600).contains(&at.timestamp()),
        "{at}"
    );
    assert!(
        reply.contains(&format_local(at, berlin())),
        "{reply} should show {}",
        format_local(at, berlin())
    );
    assert!(reply.contains(&format!("#{id}")) && reply.contains("stand up"));
    let listed = ask(&app, OWNER, "/remind list").await;
    assert!(listed.contains("stand up"), "{listed}");
    app.fake.assert_no_violations();
    app.stop().await;
}

#[tokio::test]
async fn bad_reminder_time_gets_a_clear_reply_with_an_example() {
    let app = TestApp::start().await;
    let reply = ask(&app, OWNER, "/remind 25:00 lunch").await;
    assert!(
        reply.contains("'25:00'") && reply.contains("07:30"),
        "{reply}"
    );
    let reply = ask(&app, OWNER, "/schedule add daily 07:30 nosuchcommand").await;
    assert!(reply.contains("/nosuchcommand"), "{reply}");
    let reply = ask(&app, OWNER, "/schedule add \"61 7 * * *\" note list").await;
    assert!(reply.contains("\"0 7 * * 1-5\""), "{reply}");
    app.stop().await;
}

#[tokio::test]
async fn daily_schedule_is_listed_in_local_time_and_survives_a_restart() {
    let app = TestApp::start_with(
        crate::support::fake_telegram::FakeTelegram::start().await,
        tempfile::tempdir().unwrap(),
        BERLIN,
    )
    .await;
    let reply = ask(&app, OWNER, "/schedule add daily 07:30 note list").await;
    assert!(reply.starts_with("Scheduled #"), "{reply}");
    let expected = next_run_after("30 7 * * *", berlin(), Utc::now())
        .unwrap()
        .unwrap();
    let (id, at) = last_schedule(&app.store).await;
    assert_eq!(at, expected);
    let (fake, dir) = app.stop().await;

    let app = TestApp::start_with(fake, dir, BERLIN).await;
    let listed = ask(&app, OWNER, "/schedule list").await;
    assert!(listed.contains(&format!("#{id} /note list")), "{listed}");
    let local = format_local(expected, berlin());
    assert!(
        listed.contains(&local) && local.contains("07:30"),
        "{listed}"
    );
    app.stop().await;
}

#[tokio::test]
async fn tz_suggests_a_near_miss_and_sets_a_valid_zone() {
    let app = TestApp::start().await;
    let reply = ask(&app, OWNER, "/tz Europe/Berlim").await;
    assert!(reply.contains("did you mean Europe/Berlin?"), "{reply}");
    let owner = app
        .store
        .user_by_chat(ChatId(OWNER))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        owner.timezone,
        Timezone::UTC,
        "a rejected zone changes nothing"
    );
    let reply = ask(&app, OWNER, "/tz europe/berlin").await;
    assert!(reply.contains("now Europe/Berlin"), "{reply}");
    let reply = ask(&app, OWNER, "/tz").await;
    assert!(reply.contains("Your timezone is Europe/Berlin"), "{reply}");
    app.stop().await;
}

#[tokio::test]
async fn another_user_cannot_see_or_remove_my_schedules() {
    let app = TestApp::start().await;
    const PAT: i64 = 4242;
    app.store
        .register_pending_user(ChatId(PAT), "Pat", None, 0)
        .await
        .unwrap();
    app.store
        .set_user_status(ChatId(PAT), UserStatus::Active)
        .await
        .unwrap();
    ask(&app, OWNER, "/remind 2h water the plants").await;
    ask(&app, OWNER, "/schedule add weekly mon 09:00 note list").await;
    let ids: Vec<i64> = app
        .store
        .call(|c| {
            let mut stmt = c.prepare("SELECT id FROM schedules ORDER BY id")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect()
        })
        .await
        .unwrap();
    let (reminder, schedule) = (ids[0], ids[1]);
    let reply = ask(&app, PAT, &format!("/remind remove {reminder}")).await;
    assert_eq!(reply, format!("You have no reminder #{reminder}."));
    let reply = ask(&app, PAT, &format!("/schedule remove {schedule}")).await;
    assert_eq!(reply, format!("You have no schedule #{schedule}."));
    assert!(
        ask(&app, PAT, "/remind list")
            .await
            .starts_with("No reminders")
    );
    assert!(
        ask(&app, PAT, "/schedule list")
            .await
            .starts_with("No schedules")
    );
    let left: i64 = app
        .store
        .call(|c| {
            c.query_row("SELECT COUNT(*) FROM schedules WHERE active = 1", [], |r| {
                r.get(0)
            })
        })
        .await
        .unwrap();
    assert_eq!(left, 2);
    let reply = ask(&app, OWNER, &format!("/remind remove {reminder}")).await;
    assert_eq!(reply, format!("Removed reminder #{reminder}."));
    app.stop().await;
}
