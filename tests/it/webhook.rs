//! The daemon end to end in webhook mode: updates are POSTed to the app's own HTTP server the way
//! Telegram posts them, with replies going out through the fake Telegram server.

use std::net::SocketAddr;
use std::time::Duration;

use minicrew::ids::ChatId;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::TempDir;

use minicrew::store::ChunkFormat;
use minicrew::telegram::split::{TELEGRAM_MAX_UTF16, split_message};

use crate::support::app::{OWNER, TestApp, WAIT};
use crate::support::fake_telegram::{FakeTelegram, Fault, text_update};

/// The webhook secret every test app is configured with.
pub const SECRET: &str = "test_secret-0123456789";

/// Env keys for webhook mode on a free local port.
pub const WEBHOOK_ENV: [(&str, &str); 5] = [
    ("BOT_MODE", "webhook"),
    ("WEBHOOK_HOST", "https://bot.example.org"),
    ("WEBHOOK_LISTEN", "127.0.0.1"),
    ("WEBHOOK_PORT", "0"),
    ("TELEGRAM_WEBHOOK_SECRET", SECRET),
];

/// The app in webhook mode and the address its HTTP server is bound to.
pub async fn start_webhook_app(fake: FakeTelegram, dir: TempDir) -> (TestApp, SocketAddr) {
    let app = TestApp::start_with(fake, dir, &WEBHOOK_ENV).await;
    let addr = app.health.http_addr(WAIT).await.expect("HTTP server bound");
    (app, addr)
}

/// POSTs `body` to the webhook route like Telegram does, with `secret` in the header.
pub async fn post(
    addr: SocketAddr,
    secret: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> StatusCode {
    let mut request = reqwest::Client::new()
        .post(format!("http://{addr}/bot/webhook"))
        .header("content-type", "application/json")
        .timeout(WAIT)
        .body(body);
    if let Some(secret) = secret {
        request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
    }
    request.send().await.expect("webhook answers").status()
}

/// POSTs an update with the right secret.
pub async fn deliver(addr: SocketAddr, update: &Value) -> StatusCode {
    post(addr, Some(SECRET), update.to_string()).await
}

async fn inbox_rows(app: &TestApp) -> i64 {
    app.store
        .call(|c| c.query_row("SELECT COUNT(*) FROM inbox", [], |r| r.get(0)))
        .await
        .unwrap()
}

#[tokio::test]
async fn start_registers_the_webhook_with_url_secret_and_allowed_updates() {
    let (app, _) =
        start_webhook_app(FakeTelegram::start().await, tempfile::tempdir().unwrap()).await;
    app.fake.wait_for_call("setWebhook", WAIT).await;
    let hook = app.fake.webhook().expect("a webhook is set");
    assert_eq!(hook["url"], "https://bot.example.org/bot/webhook");
    assert_eq!(hook["secret_token"], SECRET);
    assert_eq!(
        hook["allowed_updates"],
        json!(["message", "callback_query", "my_chat_member"])
    );
    assert_eq!(hook["drop_pending_updates"], json!(false));
    assert!(
        app.fake.calls_of("deleteWebhook").is_empty(),
        "webhook mode never deletes it"
    );
    app.fake.assert_no_violations();
    app.stop().await;
}

#[tokio::test]
async fn missing_or_wrong_secret_is_rejected_and_nothing_is_stored() {
    let (app, addr) =
        start_webhook_app(FakeTelegram::start().await, tempfile::tempdir().unwrap()).await;
    let update = text_update(1, OWNER, "/help").to_string();
    assert_eq!(
        post(addr, None, update.clone()).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post(addr, Some("wrong"), update.clone()).await,
        StatusCode::FORBIDDEN
    );
    let almost = &SECRET[..SECRET.len() - 1];
    assert_eq!(
        post(addr, Some(almost), update.clone()).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(inbox_rows(&app).await, 0);
    // The same update with the secret goes through, so the rejections were about the secret.
    assert_eq!(post(addr, Some(SECRET), update).await, StatusCode::OK);
    app.fake.wait_for_sent(1, WAIT).await;
    assert_eq!(inbox_rows(&app).await, 1);
    app.stop().await;
}

#[tokio::test]
async fn update_is_acknowledged_without_waiting_for_a_slow_reply() {
    let fake = FakeTelegram::start().await;
    fake.fail_next("sendMessage", Fault::Delay(Duration::from_secs(120)));
    let (app, addr) = start_webhook_app(fake, tempfile::tempdir().unwrap()).await;
    assert_eq!(
        deliver(addr, &text_update(1, OWNER, "/help")).await,
        StatusCode::OK
    );
    app.fake
        .wait_until("the reply in flight", WAIT, |tg| {
            !tg.calls_of("sendMessage").is_empty()
        })
        .await;
    // The reply hangs in the fake; another message of the same chat, queued behind it, is
    // still stored and acknowledged.
    assert_eq!(
        deliver(addr, &text_update(2, OWNER, "/help")).await,
        StatusCode::OK
    );
    let reply = &app.fake.calls_of("sendMessage")[0];
    assert_eq!(
        reply.status, None,
        "acknowledged while the reply is still in flight"
    );
    assert_eq!(app.fake.calls_of("sendMessage").len(), 1);
    app.wait_for_db("SELECT COUNT(*) FROM inbox WHERE status = 'pending'", "2")
        .await;
    app.kill().await;
}

#[tokio::test]
async fn an_update_delivered_three_times_is_answered_once() {
    let (app, addr) =
        start_webhook_app(FakeTelegram::start().await, tempfile::tempdir().unwrap()).await;
    let update = text_update(41, OWNER, "/help");
    let (a, b, c) = tokio::join!(
        deliver(addr, &update),
        deliver(addr, &update),
        deliver(addr, &update)
    );
    assert_eq!([a, b, c], [StatusCode::OK; 3]);
    app.fake.wait_for_sent(1, WAIT).await;
    app.wait_for_db("SELECT status FROM inbox WHERE update_id = 41", "done")
        .await;
    assert_eq!(deliver(addr, &update).await, StatusCode::OK);
    app.fake
        .assert_no_messages_to(OWNER, Duration::from_millis(300))
        .await;
    assert_eq!(app.fake.sent_to(OWNER).len(), 1);
    assert_eq!(inbox_rows(&app).await, 1);
    app.stop().await;
}

#[tokio::test]
async fn bad_bodies_and_unknown_kinds_send_nothing_and_leave_the_server_healthy() {
    let (app, addr) =
        start_webhook_app(FakeTelegram::start().await, tempfile::tempdir().unwrap()).await;
    assert_eq!(
        post(addr, Some(SECRET), "{not json").await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(post(addr, Some(SECRET), "").await, StatusCode::BAD_REQUEST);
    assert_eq!(
        post(addr, Some(SECRET), r#"{"message":{}}"#).await,
        StatusCode::BAD_REQUEST
    );
    let huge = format!(
        r#"{{"update_id":5,"pad":"{}"}}"#,
        "x".repeat(2 * 1024 * 1024)
    );
    assert_eq!(
        post(addr, Some(SECRET), huge).await,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let reaction = json!({"update_id": 6, "message_reaction": {
        "chat": {"id": OWNER, "type": "private", "first_name": "O"},
        "user": {"id": OWNER, "is_bot": false, "first_name": "O"},
        "message_id": 3, "date": 0, "old_reaction": [], "new_reaction": [{"type": "emoji", "emoji": "👍"}],
    }});
    assert_eq!(deliver(addr, &reaction).await, StatusCode::OK);
    let future = json!({"update_id": 7, "some_future_kind": {"x": 1}});
    assert_eq!(deliver(addr, &future).await, StatusCode::OK);
    app.wait_for_db("SELECT COUNT(*) FROM inbox WHERE status = 'skipped'", "2")
        .await;
    assert_eq!(inbox_rows(&app).await, 2, "only real updates are stored");
    assert!(app.fake.sent_messages().is_empty());
    // Still serving: a normal message is answered.
    assert_eq!(
        deliver(addr, &text_update(8, OWNER, "/help")).await,
        StatusCode::OK
    );
    app.fake.wait_for_sent(1, WAIT).await;
    app.stop().await;
}

#[tokio::test]
async fn killed_while_replying_resumes_after_restart_without_resending() {
    let fake = FakeTelegram::start().await;
    // First chunk goes out; the second hangs in the fake past the crash.
    fake.fail_next("sendMessage", Fault::Delay(Duration::ZERO));
    fake.fail_next("sendMessage", Fault::Delay(Duration::from_secs(120)));
    let (app, addr) = start_webhook_app(fake, tempfile::tempdir().unwrap()).await;
    let owner = app
        .store
        .user_by_chat(ChatId(OWNER))
        .await
        .unwrap()
        .unwrap();
    let body: String = (0..400)
        .map(|i| format!("line {i} of a long note\n"))
        .collect();
    let note = app.store.add_note(owner.id, "long", &body).await.unwrap();
    let expected = split_message(
        &format!("#{note}\n{body}"),
        ChunkFormat::Plain,
        TELEGRAM_MAX_UTF16,
    );
    assert_eq!(expected.len(), 3);
    let update = text_update(90, OWNER, &format!("/note get {note}"));
    assert_eq!(deliver(addr, &update).await, StatusCode::OK);
    app.fake
        .wait_until("the second chunk in flight", WAIT, |tg| {
            tg.calls_of("sendMessage").len() >= 2
        })
        .await;
    assert_eq!(app.fake.sent_messages().len(), 1);
    let (fake, dir) = app.kill().await;

    let (app, addr) = start_webhook_app(fake, dir).await;
    let sent = app.fake.wait_for_sent(3, WAIT).await;
    app.wait_for_db("SELECT status FROM inbox WHERE update_id = 90", "done")
        .await;
    let texts: Vec<&str> = sent.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, expected, "each chunk exactly once, in order");
    // Telegram retrying the same update after the restart changes nothing.
    assert_eq!(deliver(addr, &update).await, StatusCode::OK);
    app.fake
        .assert_no_messages_to(OWNER, Duration::from_millis(300))
        .await;
    app.stop().await;
}
