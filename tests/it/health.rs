//! `/health` and `/metrics` through the front door, in webhook and polling mode.

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::app::{OWNER, TestApp, WAIT};
use crate::support::fake_telegram::{FakeTelegram, Fault, text_update};
use crate::webhook::{SECRET, WEBHOOK_ENV, deliver, post, start_webhook_app};

async fn get(addr: SocketAddr, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("http://{addr}{path}"))
        .timeout(WAIT)
        .send()
        .await
        .expect("HTTP server answers")
}

async fn health(addr: SocketAddr) -> (StatusCode, Value) {
    let response = get(addr, "/health").await;
    let status = response.status();
    (status, response.json().await.expect("JSON health report"))
}

/// Polls `/health` until `done` holds for its body, up to [`WAIT`]; returns the last answer.
async fn health_until(
    addr: SocketAddr,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> (StatusCode, Value) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (status, body) = health(addr).await;
        if done(&body) {
            return (status, body);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited for {what}; last /health: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn webhook_health_reports_mode_database_backlog_and_last_update() {
    let (app, addr) =
        start_webhook_app(FakeTelegram::start().await, tempfile::tempdir().unwrap()).await;
    let (status, body) =
        health_until(addr, "the webhook registered", |b| b["status"] == "ok").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["bot_mode"], "webhook");
    assert_eq!(body["database_ok"], true);
    assert_eq!(body["inbox_backlog"], 0);
    assert!(body["uptime_secs"].is_u64());
    assert_eq!(body["last_update_at"], Value::Null);
    assert_eq!(body["reasons"], serde_json::json!([]));

    assert_eq!(
        deliver(addr, &text_update(3, OWNER, "/help")).await,
        StatusCode::OK
    );
    app.fake.wait_for_sent(1, WAIT).await;
    let (_, body) = health_until(addr, "the update recorded", |b| {
        b["last_update_at"].is_string()
    })
    .await;
    assert_eq!(body["inbox_backlog"], 0);
    app.stop().await;
}

#[tokio::test]
async fn metrics_count_updates_messages_and_webhook_answers() {
    let (app, addr) =
        start_webhook_app(FakeTelegram::start().await, tempfile::tempdir().unwrap()).await;
    assert_eq!(
        deliver(addr, &text_update(4, OWNER, "/help")).await,
        StatusCode::OK
    );
    app.fake.wait_for_sent(1, WAIT).await;
    app.wait_for_db("SELECT status FROM inbox WHERE update_id = 4", "done")
        .await;
    let response = get(addr, "/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = response.text().await.unwrap();
    // The recorder is process-wide and tests run in parallel, so only presence is checked here;
    // exact values are checked by the unit test in src/metrics.rs.
    for series in [
        "minicrew_updates_received_total{kind=\"message\"}",
        "minicrew_updates_handled_total{kind=\"message\",outcome=\"done\"}",
        "minicrew_update_handling_seconds_bucket{kind=\"message\",le=\"0.005\"}",
        "minicrew_messages_sent_total",
        "minicrew_webhook_requests_total{status=\"200\"}",
        "minicrew_inbox_backlog",
    ] {
        assert!(text.contains(series), "missing {series} in:\n{text}");
    }
    app.stop().await;
}

#[tokio::test]
async fn broken_database_makes_health_503_and_the_webhook_answer_500() {
    let (app, addr) =
        start_webhook_app(FakeTelegram::start().await, tempfile::tempdir().unwrap()).await;
    app.store
        .call(|c| c.execute_batch("ALTER TABLE inbox RENAME TO inbox_gone"))
        .await
        .unwrap();
    let (status, body) = health(addr).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["database_ok"], false);
    let update = text_update(5, OWNER, "/help");
    assert_eq!(
        deliver(addr, &update).await,
        StatusCode::INTERNAL_SERVER_ERROR,
        "never 200 for an update not stored"
    );
    // Back to normal: Telegram's retry of the same update is stored and answered.
    app.store
        .call(|c| c.execute_batch("ALTER TABLE inbox_gone RENAME TO inbox"))
        .await
        .unwrap();
    assert_eq!(deliver(addr, &update).await, StatusCode::OK);
    app.fake.wait_for_sent(1, WAIT).await;
    app.stop().await;
}

#[tokio::test]
async fn polling_health_reports_another_instance_polling_the_same_token() {
    let fake = FakeTelegram::start().await;
    let conflict = Fault::Status {
        code: 409,
        description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running".into(),
    };
    fake.fail_next("getUpdates", conflict.clone());
    fake.fail_next("getUpdates", conflict);
    let app = TestApp::start_with(
        fake,
        tempfile::tempdir().unwrap(),
        &[("HTTP_LISTEN", "127.0.0.1:0")],
    )
    .await;
    let addr = app
        .health
        .http_addr(WAIT)
        .await
        .expect("HTTP_LISTEN is served in polling mode");
    let (status, body) =
        health_until(addr, "the conflict reported", |b| b["status"] == "degraded").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["bot_mode"], "polling");
    assert!(
        body["reasons"][0]
            .as_str()
            .unwrap()
            .contains("another instance"),
        "{body}"
    );
    // Once the other instance is gone, the next successful poll clears it.
    let (status, _) = health_until(addr, "recovery", |b| b["status"] == "ok").await;
    assert_eq!(status, StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn with_http_listen_in_webhook_mode_health_and_metrics_leave_the_public_webhook_port() {
    let mut env = WEBHOOK_ENV.to_vec();
    env.push(("HTTP_LISTEN", "127.0.0.1:0"));
    let app = TestApp::start_with(
        FakeTelegram::start().await,
        tempfile::tempdir().unwrap(),
        &env,
    )
    .await;
    let public = app
        .health
        .http_addr(WAIT)
        .await
        .expect("webhook port bound");
    let status = app
        .health
        .status_addr(WAIT)
        .await
        .expect("HTTP_LISTEN bound");
    assert_ne!(public, status);
    for path in ["/health", "/metrics"] {
        assert_eq!(
            get(public, path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let (code, body) =
        health_until(status, "the webhook registered", |b| b["status"] == "ok").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(body["bot_mode"], "webhook");
    assert_eq!(get(status, "/metrics").await.status(), StatusCode::OK);
    // The webhook route and the Gmail callback stay on the public port only.
    let update = text_update(9, OWNER, "/help");
    assert_eq!(
        post(status, Some(SECRET), update.to_string()).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(status, "/auth/gmail/callback").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(deliver(public, &update).await, StatusCode::OK);
    app.fake.wait_for_sent(1, WAIT).await;
    app.stop().await;
}

#[tokio::test]
async fn without_http_listen_in_webhook_mode_health_is_served_beside_the_webhook() {
    let (app, addr) =
        start_webhook_app(FakeTelegram::start().await, tempfile::tempdir().unwrap()).await;
    assert_eq!(app.health.status_addr(WAIT).await, Some(addr));
    assert_ne!(get(addr, "/health").await.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}
