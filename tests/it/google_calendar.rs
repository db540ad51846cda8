//! Google Calendar through the front door, against the fake Google (same consent and token as
//! Gmail): the model's event waits for Create and is inserted once, `/calendar week` shows it in
//! the user's timezone, an expired access token is refreshed, free slots come from freeBusy, and
//! a user whose consent predates the calendar scope is asked to connect again only when they use
//! the calendar.

use chrono::{TimeDelta, Utc};
use minicrew::ids::ChatId;
use serde_json::json;

use crate::email::{Mail, connect_sam, start_with};
use crate::support::app::{STRANGER, WAIT};
use crate::support::fake_llm::Reply;
use crate::support::fake_telegram::SentMessage;

const ZONE: &str = "Europe/Berlin";

/// Sam, in Berlin, with Gmail (and so Google Calendar) connected; two messages sent so far.
async fn sam_connected() -> Mail {
    let m = start_with(&[]).await;
    let sam = m
        .app
        .store
        .user_by_chat(ChatId(STRANGER))
        .await
        .unwrap()
        .unwrap();
    m.app
        .store
        .set_user_timezone(sam.id, ZONE.parse().unwrap())
        .await
        .unwrap();
    connect_sam(&m).await;
    m
}

fn tomorrow() -> String {
    let tz: chrono_tz::Tz = ZONE.parse().unwrap();
    (Utc::now().with_timezone(&tz).date_naive() + TimeDelta::days(1))
        .format("%Y-%m-%d")
        .to_string()
}

fn buttons(message: &SentMessage) -> Vec<String> {
    message.reply_markup.as_ref().expect("buttons")["inline_keyboard"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .map(|b| b["callback_data"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_google_event_from_chat_is_inserted_once_on_create_and_listed_in_the_users_zone() {
    let m = sam_connected().await;
    let day = tomorrow();
    m.claude.script([
        Reply::tool(
            "calendar_create",
            json!({"title": "Dinner with Ana", "start": format!("{day}T19:00"), "end": format!("{day}T21:00")}),
        ),
        Reply::text("Waiting for your confirmation."),
    ]);
    m.app
        .fake
        .push_text(STRANGER, "dinner with Ana tomorrow at 7pm");
    let sent = m.app.fake.wait_for_sent(4, WAIT).await;
    let ask = sent
        .iter()
        .find(|s| s.reply_markup.is_some())
        .expect("confirm")
        .clone();
    assert!(
        ask.text.contains("Calendar: Google Calendar"),
        "{}",
        ask.text
    );
    assert!(
        ask.text.contains("19:00–21:00 (Europe/Berlin)"),
        "{}",
        ask.text
    );
    assert!(m.google.state().calendar_events.is_empty());

    let create = buttons(&ask).remove(0);
    m.app.fake.push_callback(STRANGER, &create, ask.message_id);
    let sent = m.app.fake.wait_for_sent(5, WAIT).await;
    assert!(
        sent[4].text.starts_with("Added “Dinner with Ana”"),
        "{}",
        sent[4].text
    );
    m.app.fake.push_callback(STRANGER, &create, ask.message_id);
    m.app.fake.wait_for_sent(6, WAIT).await;
    {
        let state = m.google.state();
        assert_eq!(state.calendar_events.len(), 1, "inserted once");
        let start = state.calendar_events[0]["start"]["dateTime"]
            .as_str()
            .unwrap()
            .to_string();
        let winter = start.ends_with("T18:00:00+00:00");
        let summer = start.ends_with("T17:00:00+00:00");
        assert!(
            winter || summer,
            "19:00 in Berlin sent as an instant: {start}"
        );
    }

    m.app.fake.push_text(STRANGER, "/calendar week");
    let sent = m.app.fake.wait_for_sent(7, WAIT).await;
    assert!(
        sent[6].text.contains("19:00–21:00 Dinner with Ana"),
        "{}",
        sent[6].text
    );
    m.app.fake.assert_no_violations();
}

#[tokio::test]
async fn an_expired_google_token_is_refreshed_and_free_slots_come_from_free_busy() {
    let m = sam_connected().await;
    let day = tomorrow();
    let tz: chrono_tz::Tz = ZONE.parse().unwrap();
    let local = |hour: u32| {
        let date = chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d").unwrap();
        date.and_hms_opt(hour, 0, 0)
            .unwrap()
            .and_local_timezone(tz)
            .unwrap()
            .to_rfc3339()
    };
    m.google.state().calendar_events.push(json!({
        "id": "gym1", "summary": "Gym", "status": "confirmed",
        "start": {"dateTime": local(14)}, "end": {"dateTime": local(15)},
    }));
    m.google.expire_access_tokens();
    m.claude.script([
        Reply::tool(
            "calendar_free_slots",
            json!({"from": format!("{day}T13:00"), "to": format!("{day}T17:00"), "minutes": 60}),
        ),
        Reply::text("You're free 13:00–14:00 and 15:00–17:00."),
    ]);
    m.app
        .fake
        .push_text(STRANGER, "find me an hour tomorrow afternoon");
    m.app.fake.wait_for_sent(3, WAIT).await;
    let requests = m.claude.requests();
    let result = requests[1].body["messages"].to_string();
    assert!(
        result.contains("Free slots of at least 60 minutes"),
        "{result}"
    );
    assert!(
        result.contains("13:00 – ") && result.contains("15:00 – ") && !result.contains("14:00 – "),
        "free slots around the gym in Berlin time: {result}"
    );
    assert!(
        m.google.state().grants.iter().any(|g| g == "refresh_token"),
        "the expired token was refreshed"
    );
}

#[tokio::test]
async fn a_consent_from_before_the_calendar_is_asked_again_only_when_the_calendar_is_used() {
    let m = start_with(&[]).await;
    m.google.state().grant_gmail_only = true;
    connect_sam(&m).await;
    m.app.fake.push_text(STRANGER, "/calendar");
    let sent = m.app.fake.wait_for_sent(3, WAIT).await;
    assert!(
        sent[2].text.contains("Google needs your permission again")
            && sent[2].text.contains("/authgmail"),
        "{}",
        sent[2].text
    );
}
