//! The daemon end to end in polling mode, through the fake Telegram server.

use std::time::Duration;

use minicrew::ids::ChatId;
use minicrew::store::ChunkFormat;
use minicrew::store::{NewChunk, Store};
use minicrew::telegram::split::{TELEGRAM_MAX_UTF16, split_message};

use crate::support::app::{OWNER, STRANGER, TestApp, WAIT};
use crate::support::fake_telegram::{Fault, text_update};

#[tokio::test]
async fn owner_gets_help_generated_from_the_tool_registry() {
    let app = TestApp::start().await;
    app.fake.push_text(OWNER, "/help");
    let sent = app.fake.wait_for_sent(1, WAIT).await;
    assert_eq!(sent[0].chat_id, OWNER);
    assert_eq!(sent[0].parse_mode.as_deref(), Some("HTML"));
    for command in ["/help", "/note", "/users", "/approve"] {
        assert!(
            sent[0].visible_text.contains(command),
            "missing {command} in {}",
            sent[0].visible_text
        );
    }
    app.fake.assert_no_violations();
    app.stop().await;
}

#[tokio::test]
async fn polling_deletes_the_webhook_and_confirms_stored_updates() {
    let app = TestApp::start().await;
    app.fake.wait_for_call("deleteWebhook", WAIT).await;
    let id = app.fake.push_text(OWNER, "/help");
    app.fake.wait_for_confirmed(id, WAIT).await;
    let stored: i64 = app
        .store
        .call(move |c| {
            c.query_row(
                "SELECT COUNT(*) FROM inbox WHERE update_id = ?1",
                [id],
                |r| r.get(0),
            )
        })
        .await
        .unwrap();
    assert_eq!(
        stored, 1,
        "an update is stored before the offset moves past it"
    );
    app.stop().await;
}

#[tokio::test]
async fn stranger_gets_no_reply_and_costs_nothing() {
    let app = TestApp::start().await;
    app.fake.push_text(STRANGER, "hello, who are you?");
    app.fake.push_text(STRANGER, "/help");
    app.fake.push_text(OWNER, "/help"); // handled after the stranger's messages arrived
    app.fake.wait_for_sent(1, WAIT).await;
    app.fake
        .assert_no_messages_to(STRANGER, Duration::from_millis(300))
        .await;
    let users: i64 = app
        .store
        .call(|c| c.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0)))
        .await
        .unwrap();
    assert_eq!(users, 1, "only the owner exists");
    app.stop().await;
}

#[tokio::test]
async fn start_asks_the_owner_and_approve_button_lets_the_stranger_in() {
    let app = TestApp::start().await;
    app.fake.push_text(STRANGER, "/start");
    let sent = app.fake.wait_for_sent(2, WAIT).await;
    let to_owner = sent
        .iter()
        .find(|m| m.chat_id == OWNER)
        .expect("owner is asked");
    let markup = to_owner
        .reply_markup
        .as_ref()
        .expect("approve/deny buttons");
    assert!(markup.to_string().contains(&format!("/approve {STRANGER}")));
    assert!(
        sent.iter()
            .any(|m| m.chat_id == STRANGER && m.text.contains("owner"))
    );

    app.fake
        .push_callback(OWNER, &format!("/approve {STRANGER}"), to_owner.message_id);
    app.fake.wait_for_call("answerCallbackQuery", WAIT).await;
    let sent = app.fake.wait_for_sent(4, WAIT).await;
    assert!(
        sent.iter()
            .any(|m| m.chat_id == STRANGER && m.text.contains("approved"))
    );

    app.fake.push_text(STRANGER, "/note add remember the milk");
    let sent = app.fake.wait_for_sent(5, WAIT).await;
    assert_eq!(sent[4].chat_id, STRANGER);
    assert!(sent[4].text.contains("Saved note"));
    app.fake.assert_no_violations();
    app.stop().await;
}

#[tokio::test]
async fn ten_thousand_character_reply_arrives_as_valid_chunks_that_join_back() {
    let app = TestApp::start().await;
    let body = long_text(10_000);
    let owner = app
        .store
        .user_by_chat(ChatId(OWNER))
        .await
        .unwrap()
        .unwrap();
    let id = app.store.add_note(owner.id, "long", &body).await.unwrap();
    let reply = format!("#{id}\n{body}");
    let expected_chunks = split_message(&reply, ChunkFormat::Plain, TELEGRAM_MAX_UTF16).len();
    assert!(expected_chunks >= 3);
    app.fake.push_text(OWNER, &format!("/note get {id}"));
    let sent = app.fake.wait_for_sent(expected_chunks, WAIT).await;
    app.fake
        .assert_no_messages_to(OWNER, Duration::from_millis(300))
        .await;
    for m in &sent {
        assert!(m.text.encode_utf16().count() <= 4096);
    }
    let joined: Vec<String> = sent
        .iter()
        .map(|m| m.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
        .split_whitespace()
        .map(String::from)
        .collect();
    let expected: Vec<String> = reply.split_whitespace().map(String::from).collect();
    assert_eq!(
        joined, expected,
        "the chunks join back to the original words in order"
    );
    app.fake.assert_no_violations();
    app.stop().await;
}

#[tokio::test]
async fn rate_limited_send_waits_retry_after_and_resends() {
    let app = TestApp::start().await;
    app.fake
        .fail_next("sendMessage", Fault::TooManyRequests { retry_after: 1 });
    app.fake.push_text(OWNER, "/help");
    let sent = app.fake.wait_for_sent(1, WAIT).await;
    assert!(sent[0].visible_text.contains("/note"));
    let attempts = app.fake.calls_of("sendMessage");
    assert_eq!(attempts.len(), 2, "one 429, then the resend");
    assert_eq!(
        attempts[0].params, attempts[1].params,
        "the same chunk is resent"
    );
    app.stop().await;
}

#[tokio::test]
async fn unparseable_html_is_resent_as_plain_text() {
    let app = TestApp::start().await;
    app.fake.fail_next("sendMessage", Fault::CantParseEntities);
    app.fake.push_text(OWNER, "/help");
    let sent = app.fake.wait_for_sent(1, WAIT).await;
    assert_eq!(sent[0].parse_mode, None);
    assert!(sent[0].text.contains("Commands") && !sent[0].text.contains("<b>"));
    app.stop().await;
}

#[tokio::test]
async fn repeated_update_id_is_answered_once() {
    let app = TestApp::start().await;
    let update = text_update(4242, OWNER, "/help");
    app.fake.push_update(update.clone());
    app.fake.push_update(update); // delivered twice, as after a lost acknowledgement
    app.fake.push_text(OWNER, "/note list"); // a later message of the same chat marks the end
    app.fake.wait_for_sent(2, WAIT).await;
    app.fake
        .assert_no_messages_to(OWNER, Duration::from_millis(300))
        .await;
    let help_replies = app
        .fake
        .sent_to(OWNER)
        .iter()
        .filter(|m| m.visible_text.contains("Commands"))
        .count();
    assert_eq!(help_replies, 1);
    app.stop().await;
}

#[tokio::test]
async fn unfinished_inbox_row_is_answered_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let payload = text_update(9001, OWNER, "/help").to_string();
    assert!(
        store
            .insert_update(9001, Some(ChatId(OWNER)), payload)
            .await
            .unwrap()
    );
    drop(store);

    let fake = crate::support::fake_telegram::FakeTelegram::start().await;
    let app = TestApp::start_with(fake, dir, &[]).await;
    let sent = app.fake.wait_for_sent(1, WAIT).await;
    assert!(sent[0].visible_text.contains("Commands"));
    app.wait_for_db("SELECT status FROM inbox WHERE update_id = 9001", "done")
        .await;
    app.stop().await;
}

#[tokio::test]
async fn restart_sends_only_the_chunks_not_yet_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store
        .insert_update(
            77,
            Some(ChatId(OWNER)),
            text_update(77, OWNER, "/note get 1").to_string(),
        )
        .await
        .unwrap();
    let chunk = |text: &str| NewChunk {
        chat_id: ChatId(OWNER),
        text: text.into(),
        format: ChunkFormat::Plain,
        buttons: vec![],
        forget_text: false,
        reply_to_message_id: None,
        message_thread_id: None,
        edit_message_id: None,
        file: None,
    };
    let rows = store
        .queue_chunks(Some(77), vec![chunk("part one"), chunk("part two")])
        .await
        .unwrap();
    store.mark_chunk_sent(rows[0].id, 5).await.unwrap(); // delivered before the crash
    drop(store);

    let fake = crate::support::fake_telegram::FakeTelegram::start().await;
    let app = TestApp::start_with(fake, dir, &[]).await;
    let sent = app.fake.wait_for_sent(1, WAIT).await;
    assert_eq!(sent[0].text, "part two");
    app.fake
        .assert_no_messages_to(OWNER, Duration::from_millis(300))
        .await;
    app.stop().await;
}

#[tokio::test]
async fn command_menu_is_sent_once_and_not_again_on_an_unchanged_restart() {
    let app = TestApp::start().await;
    app.fake.wait_for_call("setMyCommands", WAIT).await;
    let stored = "SELECT COUNT(*) FROM settings WHERE key = 'telegram_commands_hash'";
    app.wait_for_db(stored, "1").await; // the menu counts as sent once its hash is stored
    let menu = app.fake.my_commands();
    assert!(menu.iter().any(|(c, _)| c == "help"));
    assert!(
        !menu.iter().any(|(c, _)| c == "approve"),
        "owner-only commands stay out of everyone's menu"
    );
    let (fake, dir) = app.stop().await;
    let app = TestApp::start_with(fake, dir, &[]).await;
    app.fake.push_text(OWNER, "/help");
    app.fake.wait_for_sent(1, WAIT).await;
    assert_eq!(app.fake.calls_of("setMyCommands").len(), 1);
    app.stop().await;
}

fn long_text(chars: usize) -> String {
    let sentence = "The quick brown fox jumps over the lazy dog near the quiet river bank. ";
    let mut text = String::new();
    let mut n = 0;
    while text.len() < chars {
        text.push_str(sentence);
        n += 1;
        if n % 6 == 0 {
            text.push_str("\n\n");
        }
    }
    text.trim_end().to_string()
}

#[tokio::test]
async fn a_user_over_the_per_minute_limit_is_told_once_and_the_owner_is_exempt() {
    let fake = crate::support::fake_telegram::FakeTelegram::start().await;
    let app = TestApp::start_with(
        fake,
        tempfile::tempdir().unwrap(),
        &[("USER_RATE_LIMIT_PER_MIN", "2")],
    )
    .await;
    app.store
        .register_pending_user(ChatId(STRANGER), "Sam", None, 0)
        .await
        .unwrap();
    app.store
        .set_user_status(ChatId(STRANGER), minicrew::users::UserStatus::Active)
        .await
        .unwrap();
    for _ in 0..4 {
        app.fake.push_text(STRANGER, "/note list");
    }
    for _ in 0..3 {
        app.fake.push_text(OWNER, "/note list");
    }
    app.fake
        .wait_until("owner's three replies", WAIT, |f| {
            f.sent_to(OWNER).len() == 3
        })
        .await;
    let sam = app.fake.wait_for_sent(6, WAIT).await;
    let sam: Vec<_> = sam
        .iter()
        .filter(|m| m.chat_id == STRANGER)
        .map(|m| m.text.clone())
        .collect();
    assert_eq!(sam.len(), 3, "two answers and one warning: {sam:?}");
    assert!(sam[2].contains("wait a minute"), "{sam:?}");
    app.fake
        .assert_no_messages_to(STRANGER, Duration::from_millis(300))
        .await;
    app.stop().await;
}

#[tokio::test]
async fn a_voice_message_gets_a_text_only_reply_and_a_strangers_photo_gets_nothing() {
    use crate::support::fake_telegram::text_message;
    let app = TestApp::start().await;
    let media = |update_id: i64, chat: i64, key: &str, value: serde_json::Value| {
        let mut message = text_message(update_id, chat, "x");
        let fields = message.as_object_mut().unwrap();
        fields.remove("text");
        fields.remove("entities");
        fields.insert(key.to_string(), value);
        serde_json::json!({"update_id": update_id, "message": message})
    };
    let voice = serde_json::json!({"file_id": "v1", "file_unique_id": "u1", "duration": 3, "mime_type": "audio/ogg"});
    let photo =
        serde_json::json!([{"file_id": "p1", "file_unique_id": "u2", "width": 90, "height": 90}]);
    app.fake.push_update(media(501, STRANGER, "photo", photo));
    app.fake.push_update(media(502, OWNER, "voice", voice));
    let sent = app.fake.wait_for_sent(1, WAIT).await;
    assert_eq!(sent[0].chat_id, OWNER);
    assert!(sent[0].text.contains("voice"), "{}", sent[0].text);
    app.fake
        .assert_no_messages_to(STRANGER, Duration::from_millis(300))
        .await;
    app.fake.assert_no_violations();
    app.stop().await;
}

#[tokio::test]
async fn a_menu_update_that_fails_at_start_is_retried_in_the_background() {
    let fake = crate::support::fake_telegram::FakeTelegram::start().await;
    fake.fail_next("setMyCommands", Fault::TooManyRequests { retry_after: 1 });
    let app = TestApp::start_with(fake, tempfile::tempdir().unwrap(), &[]).await;
    app.fake.wait_for_calls("setMyCommands", 2, WAIT).await;
    app.fake
        .wait_until("menu stored", WAIT, |f| !f.my_commands().is_empty())
        .await;
    app.stop().await;
}

#[tokio::test]
async fn a_scheduled_message_left_unsent_by_a_crash_goes_out_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let chunk = NewChunk {
        chat_id: ChatId(OWNER),
        text: "⏰ stand up".into(),
        format: ChunkFormat::Plain,
        buttons: vec![],
        forget_text: false,
        reply_to_message_id: None,
        message_thread_id: None,
        edit_message_id: None,
        file: None,
    };
    store.queue_chunks(None, vec![chunk]).await.unwrap();
    drop(store);
    let fake = crate::support::fake_telegram::FakeTelegram::start().await;
    let app = TestApp::start_with(fake, dir, &[]).await;
    let sent = app.fake.wait_for_sent(1, WAIT).await;
    assert_eq!(sent[0].text, "⏰ stand up");
    app.wait_for_db("SELECT status FROM outbox", "sent").await;
    app.stop().await;
}

#[tokio::test]
async fn the_owner_disables_a_user_who_then_gets_nothing_and_an_unknown_id_is_named() {
    let app = TestApp::start().await;
    app.store
        .register_pending_user(ChatId(STRANGER), "Sam", None, 0)
        .await
        .unwrap();
    app.store
        .set_user_status(ChatId(STRANGER), minicrew::users::UserStatus::Active)
        .await
        .unwrap();
    app.fake.push_text(OWNER, "/disable 123");
    app.fake.push_text(OWNER, &format!("/disable {STRANGER}"));
    app.fake.push_text(OWNER, "/disable");
    let sent = app.fake.wait_for_sent(3, WAIT).await;
    assert_eq!(sent[0].text, "No user with chat id 123. See /users.");
    assert_eq!(sent[1].text, "Disabled Sam. They get no replies now.");
    assert!(
        sent[2].text.contains("/disable <chat id>"),
        "usage on a missing id: {}",
        sent[2].text
    );
    app.fake.push_text(STRANGER, "/help");
    app.fake
        .assert_no_messages_to(STRANGER, Duration::from_millis(300))
        .await;
    app.stop().await;
}
