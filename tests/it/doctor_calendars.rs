//! `minicrew doctor` on the calendars users connected: a CalDAV account connected in chat (on a
//! real Radicale) and Google Calendar through a Gmail consent (the fake Google) each answer a
//! one-day list; when the server later refuses the password or the consent, the line fails and
//! its fix names what the user sends again (`/calendar connect …`, `/authgmail`).

use crate::doctor::doctor;
use crate::email::{connect_sam, start_with};
use crate::support::app::{OWNER, TestApp, WAIT};
use crate::support::fake_telegram::FakeTelegram;
use crate::support::radicale::{PASSWORD, Radicale, USER};

#[tokio::test]
async fn a_calendar_connected_in_chat_is_checked_and_a_refused_password_names_calendar_connect() {
    let server = Radicale::start().await;
    let app = TestApp::start_with(
        FakeTelegram::start().await,
        tempfile::tempdir().unwrap(),
        &[],
    )
    .await;
    let line = format!(
        "/calendar connect caldav {} {USER} {PASSWORD}",
        server.url()
    );
    app.fake.push_text(OWNER, &line);
    app.fake.wait_for_sent(1, WAIT).await;
    app.wait_for_db("SELECT COUNT(*) FROM calendar_accounts", "1")
        .await;
    let (fake, dir) = app.stop().await;
    let data = dir.path().display().to_string();
    let env = [
        ("DATA_DIR", data),
        ("OWNER_DISPLAY_NAME", "Olga".to_string()),
    ];

    let run = doctor(dir.path(), &fake, &env).await;
    assert!(
        run.stdout.contains(
            "ok   calendar Olga (CalDAV): \"Personal\" answered (0 event(s) in the next 24 h)"
        ),
        "{}",
        run.stdout
    );

    server.change_password("a-new-app-password");
    let run = doctor(dir.path(), &fake, &env).await;
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    let fix =
        run.fix_under("FAIL calendar Olga (CalDAV): the server refused the username or password");
    assert_eq!(
        fix,
        "Olga sends /calendar connect caldav <url> <username> <app-password> again (or /calendar disconnect)"
    );
    assert!(!run.stdout.contains(PASSWORD), "{}", run.stdout);
}

#[tokio::test]
async fn google_calendar_through_gmail_is_checked_and_a_revoked_consent_names_authgmail() {
    let m = start_with(&[]).await;
    connect_sam(&m).await;
    let google_env = m.google.env(m.app.dir.path());
    let (fake, dir) = m.app.stop().await;
    let mut env: Vec<(&str, String)> = google_env;
    env.push(("DATA_DIR", dir.path().display().to_string()));

    let run = doctor(dir.path(), &fake, &env).await;
    assert!(
        run.stdout.contains(
            "ok   calendar Sam (Google): \"Google Calendar\" answered (0 event(s) in the next 24 h)"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("ok   gmail: client file found; 1 user(s) connected"),
        "{}",
        run.stdout
    );

    m.google.expire_access_tokens();
    m.google.state().invalid_grant = true;
    let run = doctor(dir.path(), &fake, &env).await;
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    let fix = run.fix_under("FAIL calendar Sam (Google): Google needs a new consent");
    assert!(
        fix.starts_with("Sam sends /authgmail (or run minicrew --auth-gmail --user "),
        "{fix}"
    );
    for secret in [
        "ya29.access",
        "1//refresh-secret",
        "GOCSPX-fake-client-secret",
    ] {
        assert!(
            !run.stdout.contains(secret),
            "{secret} printed:\n{}",
            run.stdout
        );
    }
}
