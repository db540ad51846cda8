//! Streamed replies in groups through the front door: the real app against the fake Bot API
//! (every call checked against api.json) and a fake model streaming in Anthropic's real wire
//! format. In a group the answer is one message, created as a reply in the question's topic,
//! edited while the model writes and finalised through the outbox by its last edit.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::support::app::{OWNER, TestApp, WAIT};
use crate::support::fake_llm::{FakeLlm, Reply, Wire};
use crate::support::fake_llm_stream::Piece;
use crate::support::fake_telegram::{BOT_USERNAME, FakeTelegram, Fault, group_text_message};

/// A forum supergroup.
const FORUM: i64 = -1_000_000_004_002;
/// A member of the group who is no user of the bot.
const MEMBER: i64 = 555_111;
/// The forum topic questions are asked in.
const TOPIC: i32 = 7;

/// The app with Claude (and Gemini, when given) behind fakes, and `extra` keys.
async fn app_with(
    fake: FakeTelegram,
    dir: tempfile::TempDir,
    claude: &FakeLlm,
    gemini: Option<&FakeLlm>,
    extra: &[(&str, &str)],
) -> TestApp {
    let claude_url = claude.base_url().to_string();
    let gemini_url = gemini.map(|g| g.base_url().to_string());
    let mut env = vec![
        ("ANTHROPIC_API_KEY", "sk-ant-test"),
        ("ANTHROPIC_BASE_URL", claude_url.as_str()),
        ("LLM_TIMEOUT_SECS", "10"),
    ];
    if let Some(url) = &gemini_url {
        env.push(("GEMINI_API_KEY", "gemini-test"));
        env.push(("GEMINI_BASE_URL", url.as_str()));
        env.push(("LLM_FALLBACK_ORDER", "claude,gemini"));
    }
    env.extend_from_slice(extra);
    TestApp::start_with(fake, dir, &env).await
}

/// A started app with an active forum group (the owner added the bot).
async fn forum_app(claude: &FakeLlm, gemini: Option<&FakeLlm>, extra: &[(&str, &str)]) -> TestApp {
    let fake = FakeTelegram::start().await;
    let app = app_with(fake, tempfile::tempdir().unwrap(), claude, gemini, extra).await;
    app.fake.push_my_chat_member(FORUM, OWNER, true);
    app.fake
        .wait_until("the group greeting", WAIT, |f| f.sent_to(FORUM).len() == 1)
        .await;
    app
}

fn gate() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(0))
}

/// A member asks the bot `text` by mention in [`TOPIC`]; returns the update (= message) id.
fn ask(app: &TestApp, text: &str) -> i64 {
    let id = app.fake.next_update_id();
    let mut message = group_text_message(id, FORUM, MEMBER, &format!("@{BOT_USERNAME} {text}"));
    message["message_thread_id"] = json!(TOPIC);
    message["is_topic_message"] = json!(true);
    app.fake
        .push_update(json!({"update_id": id, "message": message}));
    id
}

/// The params of every sendMessage to the forum after the greeting.
fn answers(fake: &FakeTelegram) -> Vec<Value> {
    fake.calls_of("sendMessage")
        .into_iter()
        .map(|c| c.params)
        .filter(|p| p["chat_id"].as_i64() == Some(FORUM))
        .skip(1)
        .collect()
}

/// Waits until the forum shows `count` answer messages; returns them as they are now.
async fn wait_for_answers(app: &TestApp, count: usize) -> Vec<Value> {
    app.fake
        .wait_until(&format!("{count} answer messages"), WAIT, |f| {
            answers(f).len() >= count
        })
        .await;
    answers(&app.fake)
}

/// Waits until message `id` shows exactly `text`.
async fn wait_for_text(app: &TestApp, id: i64, text: &str) {
    app.fake
        .wait_until(&format!("message {id} showing {text:?}"), WAIT, |f| {
            f.sent_to(FORUM)
                .iter()
                .any(|m| m.message_id == id && m.visible_text == text)
        })
        .await;
}

/// The id of the message the fake assigned to the `n`th answer message.
fn answer_id(fake: &FakeTelegram, n: usize) -> i64 {
    fake.sent_to(FORUM)[n + 1].message_id
}

#[tokio::test]
async fn a_mention_gets_one_message_edited_while_the_model_writes_and_finalised_with_the_whole_answer()
 {
    let model = FakeLlm::start(Wire::Claude).await;
    let app = forum_app(&model, None, &[]).await;
    let (more, end) = (gate(), gate());
    model.script([Reply::Streamed(vec![
        Piece::text("Rivers "),
        Piece::Gate(Arc::clone(&more)),
        Piece::text("run to "),
        Piece::Gate(Arc::clone(&end)),
        Piece::text("the **sea**."),
    ])]);
    let asked = Instant::now();
    let question = ask(&app, "where do rivers go?");
    let first = wait_for_answers(&app, 1).await;
    let created = Instant::now();
    assert!(
        created - asked < Duration::from_secs(2),
        "the first text shows at once, not a throttle period later: {:?}",
        created - asked
    );
    assert_eq!(first[0]["text"], "Rivers ");
    assert_eq!(first[0]["reply_parameters"]["message_id"], json!(question));
    assert_eq!(first[0]["message_thread_id"], json!(TOPIC));
    let id = answer_id(&app.fake, 0);
    more.add_permits(1);
    wait_for_text(&app, id, "Rivers run to ").await;
    let edit = app.fake.text_edits()[0].clone();
    let waited = edit.at.duration_since(created.into_std());
    assert!(
        waited >= Duration::from_millis(2500),
        "edits are throttled (2–3 s): the first came after {waited:?}"
    );
    end.add_permits(1);
    wait_for_text(&app, id, "Rivers run to the sea.").await;
    app.wait_for_db(
        "SELECT COUNT(*) || ':' || group_concat(edit_message_id) || ':' || group_concat(status) \
         FROM outbox WHERE edit_message_id IS NOT NULL",
        &format!("1:{id}:sent"),
    )
    .await;
    app.wait_for_db(
        "SELECT COUNT(*) FROM outbox WHERE chat_id = -1000000004002",
        "2",
    )
    .await;
    let (fake, _dir) = app.stop().await;
    let all = answers(&fake);
    assert_eq!(all.len(), 1, "one message, never a second copy: {all:?}");
    let message = &fake.sent_to(FORUM)[1];
    assert_eq!(
        message.text, "Rivers run to the <b>sea</b>.",
        "formatted as today"
    );
    assert_eq!(message.parse_mode.as_deref(), Some("HTML"));
    let edits = fake.text_edits();
    assert!(
        edits.len() >= 2,
        "edited while streaming, then finalised: {edits:?}"
    );
    assert!(edits.iter().all(|e| e.message_id == id));
    fake.assert_no_violations();
}

#[tokio::test]
async fn a_long_answer_continues_in_new_messages_at_the_split_points() {
    let model = FakeLlm::start(Wire::Claude).await;
    let app = forum_app(&model, None, &[]).await;
    let paragraph = "Water finds its way down to the sea. ".repeat(20);
    let paragraphs: Vec<String> = (0..12)
        .map(|i| format!("{i}. {}", paragraph.trim()))
        .collect();
    let (head, tail) = paragraphs.split_at(8);
    let head = format!("{}\n\n", head.join("\n\n"));
    let tail = tail.join("\n\n");
    let rest = gate();
    model.script([Reply::Streamed(vec![
        Piece::text(&head),
        Piece::Gate(Arc::clone(&rest)),
        Piece::text(&tail),
    ])]);
    ask(&app, "tell me everything about rivers");
    let streamed = wait_for_answers(&app, 2).await;
    assert_eq!(
        streamed.len(),
        2,
        "past 4096 the stream continues in a new message"
    );
    assert!(streamed[1].get("reply_parameters").is_none());
    assert_eq!(streamed[1]["message_thread_id"], json!(TOPIC));
    rest.add_permits(1);
    let full = format!("{head}{tail}");
    let squeeze = |s: &str| s.split_whitespace().collect::<String>();
    app.fake
        .wait_until("the whole answer shown", WAIT, |f| {
            let shown: String = f.sent_to(FORUM)[1..]
                .iter()
                .map(|m| m.visible_text.clone())
                .collect();
            squeeze(&shown) == squeeze(&full)
        })
        .await;
    app.wait_for_db(
        "SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND edit_message_id IS NOT NULL",
        "2",
    )
    .await;
    let (fake, _dir) = app.stop().await;
    let messages = fake.sent_to(FORUM);
    let all = answers(&fake);
    assert_eq!(all.len(), 3, "two streamed parts, the third new at the end");
    assert_eq!(all[2]["parse_mode"], "HTML");
    assert!(all[2].get("reply_parameters").is_none());
    assert_eq!(all[2]["message_thread_id"], json!(TOPIC));
    for m in &messages[1..] {
        assert!(m.visible_text.encode_utf16().count() <= 4096);
    }
    fake.assert_no_violations();
}

#[tokio::test]
async fn a_429_on_an_edit_neither_loses_nor_delays_the_final_text() {
    let model = FakeLlm::start(Wire::Claude).await;
    let app = forum_app(&model, None, &[]).await;
    let (more, end) = (gate(), gate());
    model.script([Reply::Streamed(vec![
        Piece::text("Rivers "),
        Piece::Gate(Arc::clone(&more)),
        Piece::text("run to "),
        Piece::Gate(Arc::clone(&end)),
        Piece::text("the sea."),
    ])]);
    app.fake.fail_next(
        "editMessageText",
        Fault::TooManyRequests { retry_after: 30 },
    );
    ask(&app, "where do rivers go?");
    wait_for_answers(&app, 1).await;
    let id = answer_id(&app.fake, 0);
    more.add_permits(1);
    app.fake
        .wait_until("an edit refused with 429", WAIT, |f| {
            f.calls_of("editMessageText")
                .iter()
                .any(|c| c.status == Some(429))
        })
        .await;
    let asked = Instant::now();
    end.add_permits(1);
    wait_for_text(&app, id, "Rivers run to the sea.").await;
    assert!(
        asked.elapsed() < Duration::from_secs(3),
        "the final text does not wait out the 429: {:?}",
        asked.elapsed()
    );
    let (fake, _dir) = app.stop().await;
    assert_eq!(answers(&fake).len(), 1, "{}", fake.summary());
    assert_eq!(
        fake.calls_of("editMessageText").len(),
        2,
        "after the 429 the previews wait (retry_after), only the final edit goes"
    );
    fake.assert_no_violations();
}

#[tokio::test]
async fn when_the_streamed_message_cannot_be_created_the_answer_is_sent_whole_once() {
    let model = FakeLlm::start(Wire::Claude).await;
    let app = forum_app(&model, None, &[]).await;
    let end = gate();
    model.script([Reply::Streamed(vec![
        Piece::text("Rivers "),
        Piece::Gate(Arc::clone(&end)),
        Piece::text("run to the **sea**."),
    ])]);
    app.fake
        .fail_next("sendMessage", Fault::TooManyRequests { retry_after: 30 });
    let question = ask(&app, "where do rivers go?");
    app.fake
        .wait_until("the first message refused with 429", WAIT, |f| {
            f.calls_of("sendMessage")
                .iter()
                .any(|c| c.status == Some(429))
        })
        .await;
    let asked = Instant::now();
    end.add_permits(1);
    let sent = wait_for_answers(&app, 2).await;
    assert!(
        asked.elapsed() < Duration::from_secs(3),
        "the answer does not wait out the preview's 429: {:?}",
        asked.elapsed()
    );
    let (fake, _dir) = app.stop().await;
    let delivered: Vec<_> = answers(&fake)
        .into_iter()
        .zip(fake.calls_of("sendMessage").into_iter().skip(1))
        .filter(|(_, call)| call.status == Some(200))
        .map(|(params, _)| params)
        .collect();
    assert_eq!(delivered.len(), 1, "sent whole, once: {sent:?}");
    assert_eq!(delivered[0]["text"], "Rivers run to the <b>sea</b>.");
    assert_eq!(
        delivered[0]["reply_parameters"]["message_id"],
        json!(question)
    );
    assert_eq!(delivered[0]["message_thread_id"], json!(TOPIC));
    assert!(fake.text_edits().is_empty());
    fake.assert_no_violations();
}

#[tokio::test]
async fn a_stream_cut_in_the_middle_falls_back_and_the_same_message_shows_one_complete_answer() {
    let (claude, gemini) = (
        FakeLlm::start(Wire::Claude).await,
        FakeLlm::start(Wire::Gemini).await,
    );
    let app = forum_app(&claude, Some(&gemini), &[]).await;
    let cut = gate();
    claude.script([Reply::Streamed(vec![
        Piece::text("The first half of"),
        Piece::Gate(Arc::clone(&cut)),
        Piece::Cut,
    ])]);
    claude.always(Reply::status(401));
    let open = gate();
    gemini.script([Reply::Streamed(vec![
        Piece::text("A whole answer"),
        Piece::Gate(Arc::clone(&open)),
        Piece::text(", from Gemini."),
    ])]);
    ask(&app, "tell me");
    wait_for_answers(&app, 1).await;
    let id = answer_id(&app.fake, 0);
    assert_eq!(app.fake.sent_to(FORUM)[1].visible_text, "The first half of");
    cut.add_permits(1);
    wait_for_text(&app, id, "A whole answer").await;
    open.add_permits(1);
    wait_for_text(&app, id, "A whole answer, from Gemini.").await;
    app.wait_for_db(
        "SELECT group_concat(x, ',') FROM \
         (SELECT provider || ':' || status AS x FROM llm_usage ORDER BY id)",
        "claude:error,claude:error,gemini:ok",
    )
    .await;
    let (fake, _dir) = app.stop().await;
    assert_eq!(answers(&fake).len(), 1, "one answer, no second copy");
    fake.assert_no_violations();
}

#[tokio::test]
async fn a_crash_before_the_final_edit_is_completed_by_that_edit_at_restart_not_a_new_message() {
    let model = FakeLlm::start(Wire::Claude).await;
    let app = forum_app(&model, None, &[]).await;
    let end = gate();
    model.script([Reply::Streamed(vec![
        Piece::text("Rivers "),
        Piece::Gate(Arc::clone(&end)),
        Piece::text("run to the sea."),
    ])]);
    ask(&app, "where do rivers go?");
    wait_for_answers(&app, 1).await;
    let id = answer_id(&app.fake, 0);
    // The final edit meets a server in trouble (teloxide waits before reading a 5xx): the app
    // is killed while the edit is stored but not done.
    app.fake.fail_next(
        "editMessageText",
        Fault::Status {
            code: 502,
            description: "Bad Gateway".into(),
        },
    );
    end.add_permits(1);
    app.fake
        .wait_until("the final edit tried", WAIT, |f| {
            !f.calls_of("editMessageText").is_empty()
        })
        .await;
    let (fake, dir) = app.kill().await;
    assert_eq!(
        fake.sent_to(FORUM)[1].visible_text,
        "Rivers ",
        "left half-written"
    );
    let app = app_with(fake, dir, &model, None, &[]).await;
    wait_for_text(&app, id, "Rivers run to the sea.").await;
    let (fake, _dir) = app.stop().await;
    assert_eq!(
        answers(&fake).len(),
        1,
        "completed by the edit: {}",
        fake.summary()
    );
    assert_eq!(model.requests().len(), 1, "the model is not asked again");
    fake.assert_no_violations();
}

#[tokio::test]
async fn a_crash_mid_stream_is_answered_at_restart_in_the_same_message() {
    let model = FakeLlm::start(Wire::Claude).await;
    let app = forum_app(&model, None, &[]).await;
    let never = gate();
    model.script([Reply::Streamed(vec![
        Piece::text("Rivers "),
        Piece::Gate(Arc::clone(&never)),
    ])]);
    ask(&app, "where do rivers go?");
    wait_for_answers(&app, 1).await;
    let id = answer_id(&app.fake, 0);
    let (fake, dir) = app.kill().await;
    model.script([Reply::Streamed(vec![Piece::text("Rivers run to the sea.")])]);
    let app = app_with(fake, dir, &model, None, &[]).await;
    wait_for_text(&app, id, "Rivers run to the sea.").await;
    let (fake, _dir) = app.stop().await;
    assert_eq!(
        answers(&fake).len(),
        1,
        "the replay continues the same message"
    );
    fake.assert_no_violations();
}

#[tokio::test]
async fn cancel_in_a_group_during_a_stream_stops_it_and_says_so_in_the_same_message() {
    let model = FakeLlm::start(Wire::Claude).await;
    let app = forum_app(&model, None, &[]).await;
    let never = gate();
    model.script([Reply::Streamed(vec![
        Piece::text("Once upon a time"),
        Piece::Gate(Arc::clone(&never)),
        Piece::text(" there was no end."),
    ])]);
    ask(&app, "write us a novel");
    wait_for_answers(&app, 1).await;
    let id = answer_id(&app.fake, 0);
    let asked = Instant::now();
    let cancel = app.fake.push_group_text(FORUM, MEMBER, "/cancel");
    app.fake.wait_for_confirmed(cancel, WAIT).await;
    app.fake
        .wait_until("the stream stopped", WAIT, |f| {
            f.sent_to(FORUM)
                .iter()
                .any(|m| m.message_id == id && m.visible_text.starts_with("Stopped"))
        })
        .await;
    assert!(
        asked.elapsed() < Duration::from_secs(3),
        "stopped at once: {:?}",
        asked.elapsed()
    );
    app.wait_for_db("SELECT COUNT(*) FROM inbox WHERE status = 'pending'", "0")
        .await;
    let (fake, _dir) = app.stop().await;
    let all = answers(&fake);
    assert_eq!(
        all.len(),
        1,
        "said in the streamed message: {}",
        fake.summary()
    );
    fake.assert_no_violations();
}

#[tokio::test]
async fn with_stream_replies_off_a_group_answer_arrives_whole_and_chatter_costs_nothing() {
    let model = FakeLlm::start(Wire::Claude).await;
    let app = forum_app(&model, None, &[("STREAM_REPLIES", "false")]).await;
    model.script([Reply::text("Rivers run to the sea.")]);
    let chatter = app.fake.push_group_text(FORUM, MEMBER, "lunch at noon?");
    app.fake.wait_for_confirmed(chatter, WAIT).await;
    ask(&app, "where do rivers go?");
    let sent = wait_for_answers(&app, 1).await;
    assert_eq!(sent[0]["text"], "Rivers run to the sea.");
    let (fake, _dir) = app.stop().await;
    assert!(fake.text_edits().is_empty(), "no edits without streaming");
    assert_eq!(answers(&fake).len(), 1);
    assert_eq!(model.requests().len(), 1, "the chatter cost no model call");
}

#[tokio::test]
async fn unaddressed_chatter_in_a_streaming_group_costs_nothing() {
    let model = FakeLlm::start(Wire::Claude).await;
    let app = forum_app(&model, None, &[]).await;
    let chatter = app.fake.push_group_text(FORUM, MEMBER, "lunch at noon?");
    app.fake.wait_for_confirmed(chatter, WAIT).await;
    app.wait_for_db("SELECT COUNT(*) FROM inbox WHERE status = 'pending'", "0")
        .await;
    let (fake, _dir) = app.stop().await;
    assert!(answers(&fake).is_empty(), "{}", fake.summary());
    assert!(fake.text_edits().is_empty());
    assert!(model.requests().is_empty());
    let edits: Vec<_> = fake.calls_of("editMessageText");
    assert!(edits.is_empty());
}
