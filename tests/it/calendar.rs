//! Calendars through the front door, with a real CalDAV server (Radicale) and a scripted model:
//! the model's event becomes a preview with Create / Cancel, a press makes it once, `/calendar`
//! shows it in the user's timezone, a conflict is named in the preview, and connecting in chat
//! deletes the message with the password and stores nothing when the password is wrong.

use chrono::{TimeDelta, Utc};
use minicrew::ids::ChatId;
use serde_json::json;

use crate::support::app::{OWNER, TestApp, WAIT};
use crate::support::fake_llm::{FakeLlm, Reply, Wire};
use crate::support::fake_telegram::{FakeTelegram, SentMessage};
use crate::support::radicale::{PASSWORD, Radicale, USER};

const ZONE: &str = "Europe/Berlin";

/// The app with a fake Claude, the owner in Berlin, and (when `radicale` is given) the owner's
/// calendar from the `CALDAV_*` keys.
async fn app(radicale: Option<&Radicale>) -> (TestApp, FakeLlm) {
    let claude = FakeLlm::start(Wire::Claude).await;
    let claude_url = claude.base_url().to_string();
    let mut env = vec![
        ("ANTHROPIC_API_KEY", "sk-ant-test-key".to_string()),
        ("ANTHROPIC_BASE_URL", claude_url),
        ("TIMEZONE", ZONE.to_string()),
    ];
    if let Some(server) = radicale {
        env.push(("CALDAV_URL", server.url()));
        env.push(("CALDAV_USERNAME", USER.to_string()));
        env.push(("CALDAV_PASSWORD", PASSWORD.to_string()));
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = TestApp::start_with(
        FakeTelegram::start().await,
        tempfile::tempdir().unwrap(),
        &env,
    )
    .await;
    (app, claude)
}

/// Tomorrow's date in Berlin, as `YYYY-MM-DD`.
fn tomorrow() -> String {
    let tz: chrono_tz::Tz = ZONE.parse().unwrap();
    (Utc::now().with_timezone(&tz).date_naive() + TimeDelta::days(1))
        .format("%Y-%m-%d")
        .to_string()
}

/// The callback data of the buttons under a message.
fn buttons(message: &SentMessage) -> Vec<String> {
    message.reply_markup.as_ref().expect("buttons")["inline_keyboard"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .map(|b| b["callback_data"].as_str().unwrap().to_string())
        .collect()
}

/// The model asks for dinner tomorrow 19:00–21:00; returns the confirm message.
async fn ask_for_dinner(app: &TestApp, claude: &FakeLlm) -> SentMessage {
    let day = tomorrow();
    claude.script([
        Reply::tool(
            "calendar_create",
            json!({"title": "Dinner with Ana", "start": format!("{day}T19:00"), "end": format!("{day}T21:00")}),
        ),
        Reply::text("I've put it up for your confirmation."),
    ]);
    app.fake
        .push_text(OWNER, "add dinner with Ana tomorrow 19:00");
    let sent = app.fake.wait_for_sent(2, WAIT).await;
    sent.into_iter()
        .find(|m| m.reply_markup.is_some())
        .expect("a message with Confirm / Cancel")
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    app.store
        .call(move |c| c.query_row(sql, [], |r| r.get(0)))
        .await
        .unwrap()
}

#[tokio::test]
async fn dinner_from_chat_waits_for_create_is_made_once_and_shows_in_the_week() {
    let server = Radicale::start().await;
    let (app, claude) = app(Some(&server)).await;
    let ask = ask_for_dinner(&app, &claude).await;
    for part in [
        "“Dinner with Ana”",
        "19:00–21:00 (Europe/Berlin)",
        "Calendar: Personal",
        "No conflicts",
    ] {
        assert!(ask.text.contains(part), "{part} missing in: {}", ask.text);
    }
    assert!(
        server.stored_events().is_empty(),
        "nothing before the press"
    );

    let [create, _cancel] = <[String; 2]>::try_from(buttons(&ask)).unwrap();
    app.fake.push_callback(OWNER, &create, ask.message_id);
    let sent = app.fake.wait_for_sent(3, WAIT).await;
    assert!(
        sent[2].text.starts_with("Added “Dinner with Ana”"),
        "{}",
        sent[2].text
    );
    assert_eq!(server.stored_events().len(), 1);

    app.fake.push_callback(OWNER, &create, ask.message_id);
    let sent = app.fake.wait_for_sent(4, WAIT).await;
    assert_eq!(
        sent[3].text,
        "This was already decided; nothing more happens."
    );
    assert_eq!(
        server.stored_events().len(),
        1,
        "a second press makes nothing"
    );

    app.fake.push_text(OWNER, "/calendar week");
    let sent = app.fake.wait_for_sent(5, WAIT).await;
    let week = &sent[4].text;
    assert!(week.contains("19:00–21:00 Dinner with Ana"), "{week}");
    assert!(week.contains("(times in Europe/Berlin)"), "{week}");
    app.fake.assert_no_violations();
    app.stop().await;
}

#[tokio::test]
async fn an_event_that_overlaps_is_named_in_the_preview() {
    let server = Radicale::start().await;
    let day = tomorrow().replace('-', "");
    server
        .put(
            "gym",
            &format!(
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:gym@t\r\n\
                 DTSTAMP:20261101T000000Z\r\nSUMMARY:Gym\r\nDTSTART;TZID=Europe/Berlin:{day}T183000\r\n\
                 DTEND;TZID=Europe/Berlin:{day}T193000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
            ),
        )
        .await;
    let (app, claude) = app(Some(&server)).await;
    let ask = ask_for_dinner(&app, &claude).await;
    assert!(ask.text.contains("Conflicts with"), "{}", ask.text);
    assert!(ask.text.contains("18:30 – 19:30 Gym"), "{}", ask.text);
    app.stop().await;
}

#[tokio::test]
async fn connecting_with_a_wrong_password_says_so_stores_nothing_and_deletes_the_message() {
    let server = Radicale::start().await;
    let (app, _claude) = app(None).await;
    let line = format!(
        "/calendar connect caldav {} {USER} wrong-secret-99",
        server.url()
    );
    let update_id = app.fake.push_text(OWNER, &line);
    let sent = app.fake.wait_for_sent(1, WAIT).await;
    assert!(
        sent[0]
            .text
            .contains("refused the username or app password"),
        "{}",
        sent[0].text
    );
    assert!(
        sent[0].text.contains("Nothing was stored"),
        "{}",
        sent[0].text
    );
    let deleted = app.fake.wait_for_call("deleteMessage", WAIT).await;
    assert_eq!(deleted.params["message_id"], json!(update_id));
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM calendar_accounts").await,
        0
    );
    let leaks = count(
        &app,
        "SELECT (SELECT COUNT(*) FROM inbox WHERE payload LIKE '%wrong-secret-99%') \
        + (SELECT COUNT(*) FROM tool_logs WHERE arguments LIKE '%wrong-secret-99%') \
        + (SELECT COUNT(*) FROM chat_history WHERE content LIKE '%wrong-secret-99%')",
    )
    .await;
    assert_eq!(leaks, 0, "the password is kept nowhere");
    app.fake.assert_no_violations();
    app.stop().await;
}

#[tokio::test]
async fn a_connected_calendar_takes_typed_events_at_once_and_can_be_disconnected() {
    let server = Radicale::start().await;
    let (app, _claude) = app(None).await;
    app.fake.push_text(OWNER, "/calendar");
    let sent = app.fake.wait_for_sent(1, WAIT).await;
    assert!(
        sent[0].text.contains("no calendar connected"),
        "{}",
        sent[0].text
    );

    let line = format!(
        "/calendar connect caldav {} {USER} {PASSWORD}",
        server.url()
    );
    app.fake.push_text(OWNER, &line);
    let sent = app.fake.wait_for_sent(2, WAIT).await;
    assert!(
        sent[1]
            .text
            .starts_with("Connected your calendar “Personal”"),
        "{}",
        sent[1].text
    );
    let stored: Vec<u8> = app
        .store
        .call(|c| c.query_row("SELECT secret FROM calendar_accounts", [], |r| r.get(0)))
        .await
        .unwrap();
    assert!(
        !stored
            .windows(PASSWORD.len())
            .any(|w| w == PASSWORD.as_bytes()),
        "sealed"
    );

    let day = tomorrow();
    app.fake.push_text(
        OWNER,
        &format!("/calendar add {day} 23:30 00:30 Night train"),
    );
    let sent = app.fake.wait_for_sent(3, WAIT).await;
    assert!(
        sent[2].text.starts_with("Added “Night train”"),
        "{}",
        sent[2].text
    );
    assert_eq!(server.stored_events().len(), 1);

    app.fake.push_text(OWNER, "/calendar week");
    let sent = app.fake.wait_for_sent(4, WAIT).await;
    assert!(sent[3].text.contains("23:30 – "), "{}", sent[3].text);
    assert!(
        sent[3].text.contains("until 00:30 Night train"),
        "{}",
        sent[3].text
    );

    app.fake.push_text(OWNER, "/calendar disconnect");
    let sent = app.fake.wait_for_sent(5, WAIT).await;
    assert!(sent[4].text.starts_with("Disconnected"), "{}", sent[4].text);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM calendar_accounts").await,
        0
    );
    app.stop().await;
}

#[tokio::test]
async fn the_model_is_offered_the_calendar_tools_and_help_lists_only_the_command() {
    let (app, claude) = app(None).await;
    claude.script([Reply::text("Hello!")]);
    app.fake.push_text(OWNER, "hi");
    app.fake.wait_for_sent(1, WAIT).await;
    let offered: Vec<String> = claude.requests()[0].body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str().map(str::to_string))
        .collect();
    for name in ["calendar_list", "calendar_free_slots", "calendar_create"] {
        assert!(
            offered.iter().any(|n| n == name),
            "{name} not in {offered:?}"
        );
    }
    assert!(
        !offered.iter().any(|n| n == "calendar"),
        "the command holds connect: {offered:?}"
    );
    app.fake.push_text(OWNER, "/help");
    let sent = app.fake.wait_for_sent(2, WAIT).await;
    let help = &sent[1].visible_text;
    assert!(help.contains("/calendar [today|week]"), "{help}");
    assert!(!help.contains("calendar_create"), "{help}");
    app.stop().await;
}

#[tokio::test]
async fn the_morning_briefing_names_todays_event_and_is_quiet_on_an_empty_day() {
    use minicrew::scheduler::{JobOutcome, run_job, system_jobs::sync_briefings};

    let server = Radicale::start().await;
    let creds = tempfile::tempdir().unwrap();
    let (url, creds_dir) = (server.url(), creds.path().display().to_string());
    let extra = [
        ("CALDAV_URL", url.as_str()),
        ("CALDAV_USERNAME", USER),
        ("CALDAV_PASSWORD", PASSWORD),
        ("TIMEZONE", ZONE),
        ("MORNING_BRIEFING_TIME", "07:00"),
        ("CREDENTIALS_DIR", creds_dir.as_str()),
    ];
    let h = crate::scheduler::Harness::with(&extra, None).await;
    let now = Utc::now();
    sync_briefings(&h.services, now).await.unwrap();
    let rows = h.services.store.briefing_schedules().await.unwrap();
    assert_eq!(rows.len(), 1, "a calendar alone earns a briefing");

    let outcome = run_job(&h.services, &h.sender, &rows[0], now)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        JobOutcome::NothingToSend,
        "an empty day and no mail: quiet"
    );

    let tz: chrono_tz::Tz = ZONE.parse().unwrap();
    let day = now.with_timezone(&tz).date_naive().format("%Y%m%d");
    server
        .put(
            "lunch",
            &format!(
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:lunch@t\r\n\
                 DTSTAMP:20261101T000000Z\r\nSUMMARY:Lunch with Ana\r\nDTSTART;TZID=Europe/Berlin:{day}T120000\r\n\
                 DTEND;TZID=Europe/Berlin:{day}T130000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
            ),
        )
        .await;
    let outcome = run_job(&h.services, &h.sender, &rows[0], now)
        .await
        .unwrap();
    assert!(
        matches!(outcome, JobOutcome::Delivered { .. }),
        "{outcome:?}"
    );
    let sent = h.fake.sent_messages();
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].visible_text.contains("12:00–13:00 Lunch with Ana"),
        "{}",
        sent[0].visible_text
    );
}

#[tokio::test]
async fn another_user_cannot_point_the_bot_at_a_loopback_server() {
    const FRIEND: i64 = 888_000;
    let server = Radicale::start().await;
    let (app, _claude) = app(None).await;
    app.store
        .register_pending_user(ChatId(FRIEND), "Fred", None, 0)
        .await
        .unwrap();
    app.store
        .set_user_status(ChatId(FRIEND), minicrew::users::UserStatus::Active)
        .await
        .unwrap();
    let line = format!(
        "/calendar connect caldav {} {USER} {PASSWORD}",
        server.url()
    );
    app.fake.push_text(FRIEND, &line);
    let sent = app.fake.wait_for_sent(1, WAIT).await;
    assert!(
        sent[0].text.contains("I can't use that address"),
        "{}",
        sent[0].text
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM calendar_accounts").await,
        0
    );
    app.fake.wait_for_call("deleteMessage", WAIT).await;
    app.stop().await;
}
