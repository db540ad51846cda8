//! What strangers can make the bot send: a pending user's repeated `/start` is answered once an
//! hour, and the owner hears of ten new requests an hour, then once that more are waiting in
//! `/users`. Every request is still stored.

use crate::support::app::{OWNER, STRANGER, TestApp, WAIT};

/// Waits until `n` updates were handled (their replies are sent before the row closes).
async fn wait_handled(app: &TestApp, n: usize) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let done: i64 = app
            .store
            .call(|c| {
                c.query_row(
                    "SELECT COUNT(*) FROM inbox WHERE status = 'done'",
                    [],
                    |r| r.get(0),
                )
            })
            .await
            .unwrap();
        if done as usize >= n {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{done} of {n} updates handled"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_pending_strangers_repeated_start_is_answered_once_an_hour() {
    let app = TestApp::start().await;
    for _ in 0..5 {
        app.fake.push_text(STRANGER, "/start");
    }
    wait_handled(&app, 5).await;
    let to_stranger = app.fake.sent_to(STRANGER);
    assert_eq!(to_stranger.len(), 1, "{to_stranger:?}");
    assert!(to_stranger[0].text.contains("asked the owner"));
    assert_eq!(app.fake.sent_to(OWNER).len(), 1, "the owner is asked once");

    // An hour later the stranger may ask again, once.
    app.store
        .call(|c| {
            c.execute(
                "UPDATE users SET updated_at = updated_at - 3600 WHERE chat_id = ?1",
                [STRANGER],
            )
        })
        .await
        .unwrap();
    app.fake.push_text(STRANGER, "/start");
    app.fake.push_text(STRANGER, "/start");
    wait_handled(&app, 7).await;
    let to_stranger = app.fake.sent_to(STRANGER);
    assert_eq!(to_stranger.len(), 2, "{to_stranger:?}");
    assert!(to_stranger[1].text.contains("still waiting"));
    assert_eq!(app.fake.sent_to(OWNER).len(), 1);
    app.fake.assert_no_violations();
    app.stop().await;
}

#[tokio::test]
async fn the_owner_hears_of_ten_requests_an_hour_then_once_that_more_wait_in_users() {
    let app = TestApp::start().await;
    let strangers: Vec<i64> = (1..=13).map(|n| 900_000 + n).collect();
    for chat in &strangers {
        app.fake.push_text(*chat, "/start");
    }
    wait_handled(&app, strangers.len()).await;
    for chat in &strangers {
        assert_eq!(
            app.fake.sent_to(*chat).len(),
            1,
            "every stranger is greeted"
        );
    }
    let to_owner = app.fake.sent_to(OWNER);
    assert_eq!(
        to_owner.len(),
        11,
        "ten requests and one notice: {to_owner:?}"
    );
    let asks = to_owner
        .iter()
        .filter(|m| m.text.contains("wants to use the bot"))
        .count();
    assert_eq!(asks, 10);
    let notice = to_owner
        .iter()
        .find(|m| m.text.contains("See /users"))
        .expect("one notice that more are waiting");
    assert!(
        notice.text.contains("More than 10 people"),
        "{}",
        notice.text
    );

    app.fake.push_text(OWNER, "/users");
    let listed = app.fake.wait_for_sent(strangers.len() + 12, WAIT).await;
    let users = &listed.last().unwrap().text;
    for chat in &strangers {
        assert!(
            users.contains(&chat.to_string()),
            "{chat} is listed: {users}"
        );
    }
    app.stop().await;
}
