//! The CalDAV client against a real server (Radicale): discovery, create (twice: once), list in
//! a range, a recurring event expanded, delete, and a wrong password.

use chrono::{TimeZone, Utc};
use minicrew::calendar::caldav::{CalDavCalendar, CalDavClient};
use minicrew::calendar::{Calendar, CalendarError, EventTime, NewEvent};
use secrecy::SecretString;

use crate::support::radicale::{CALENDAR_NAME, PASSWORD, Radicale, USER};

fn client(server: &Radicale, password: &str) -> CalDavClient {
    CalDavClient::new(
        reqwest::Client::new(),
        server.url().parse().unwrap(),
        USER.to_string(),
        SecretString::from(password.to_string()),
    )
}

#[tokio::test]
async fn discovery_finds_the_users_calendar_from_the_server_address() {
    let server = Radicale::start().await;
    let found = client(&server, PASSWORD).discover().await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].name, CALENDAR_NAME);
    assert_eq!(found[0].url.as_str(), server.calendar_url());
}

#[tokio::test]
async fn an_event_is_created_once_listed_in_its_range_and_deleted() {
    let server = Radicale::start().await;
    let tz: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    let calendar = CalDavCalendar::open(client(&server, PASSWORD), tz)
        .await
        .unwrap();
    let event = NewEvent {
        uid: "dinner-1@minicrew".into(),
        title: "Dinner with Ana".into(),
        start: Utc.with_ymd_and_hms(2026, 12, 24, 17, 0, 0).unwrap(),
        end: Utc.with_ymd_and_hms(2026, 12, 24, 19, 0, 0).unwrap(),
    };
    assert!(
        calendar.create(&event).await.unwrap(),
        "first create makes it"
    );
    assert!(
        !calendar.create(&event).await.unwrap(),
        "second create finds it"
    );
    assert_eq!(server.stored_events().len(), 1);

    let day = |d| Utc.with_ymd_and_hms(2026, 12, d, 0, 0, 0).unwrap();
    let listed = calendar.events(day(24), day(25)).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].title, "Dinner with Ana");
    assert_eq!(
        listed[0].time,
        EventTime::Timed {
            start: event.start,
            end: event.end
        }
    );
    assert!(calendar.events(day(25), day(26)).await.unwrap().is_empty());

    assert!(calendar.delete(&event.uid).await.unwrap());
    assert!(!calendar.delete(&event.uid).await.unwrap());
    assert!(calendar.events(day(24), day(25)).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_recurring_event_stored_as_a_master_is_expanded_in_the_range() {
    let server = Radicale::start().await;
    server
        .put(
            "standup",
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//other client//EN\r\nBEGIN:VEVENT\r\n\
             UID:standup@elsewhere\r\nDTSTAMP:20261101T000000Z\r\nSUMMARY:Standup\r\n\
             DTSTART;TZID=Europe/Berlin:20261102T093000\r\nDTEND;TZID=Europe/Berlin:20261102T094500\r\n\
             RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        )
        .await;
    let tz: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    let calendar = CalDavCalendar::open(client(&server, PASSWORD), tz)
        .await
        .unwrap();
    // Mon 14 to Mon 21 December: five working days.
    let from = Utc.with_ymd_and_hms(2026, 12, 14, 0, 0, 0).unwrap();
    let to = Utc.with_ymd_and_hms(2026, 12, 21, 0, 0, 0).unwrap();
    let events = calendar.events(from, to).await.unwrap();
    let starts: Vec<_> = events
        .iter()
        .map(|e| match e.time {
            EventTime::Timed { start, .. } => {
                start.with_timezone(&tz).format("%a %H:%M").to_string()
            }
            EventTime::AllDay { .. } => "all day".into(),
        })
        .collect();
    assert_eq!(
        starts,
        [
            "Mon 09:30",
            "Tue 09:30",
            "Wed 09:30",
            "Thu 09:30",
            "Fri 09:30"
        ]
    );
}

#[tokio::test]
async fn a_wrong_password_is_a_clear_error_that_does_not_contain_it() {
    let server = Radicale::start().await;
    let err = client(&server, "not-the-password")
        .discover()
        .await
        .unwrap_err();
    assert!(matches!(err, CalendarError::WrongPassword), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("app password") && !text.contains("not-the-password"),
        "{text}"
    );
}

#[tokio::test]
async fn a_server_that_answers_without_end_is_cut_off_at_the_size_cap() {
    use axum::http::StatusCode;
    let huge = format!(
        "<?xml version=\"1.0\"?><multistatus xmlns=\"DAV:\">{}</multistatus>",
        "<response><href>/x/</href></response>".repeat(400_000)
    );
    let app = axum::Router::new().fallback(move || {
        let body = huge.clone();
        async move { (StatusCode::MULTI_STATUS, body) }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = CalDavClient::new(
        reqwest::Client::new(),
        format!("http://{addr}/").parse().unwrap(),
        USER.to_string(),
        SecretString::from(PASSWORD.to_string()),
    );
    let err = client.discover().await.unwrap_err();
    assert!(
        matches!(&err, CalendarError::BadResponse(why) if why.contains("larger than")),
        "{err:?}"
    );
}
