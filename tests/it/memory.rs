//! Memory that can be searched, through the front door: notes by title, `/recall` over history,
//! notes and documents (and the model's `recall` tool), `/history`, `/export` and `/forget`.

use minicrew::ids::{ChatId, UserId};
use serde_json::json;

use crate::support::app::{OWNER, STRANGER, TestApp, WAIT};
use crate::support::fake_llm::{FakeLlm, Reply, Wire};
use crate::support::fake_telegram::FakeTelegram;
use minicrew::store::{NewTurn, Speaker, Store};
use minicrew::users::UserStatus;

/// A second active user.
pub const SAM: i64 = STRANGER;

/// Makes `SAM` an active user; returns their user id.
pub async fn add_sam(store: &Store) -> UserId {
    store
        .register_pending_user(ChatId(SAM), "Sam", None, 0)
        .await
        .unwrap();
    store
        .set_user_status(ChatId(SAM), UserStatus::Active)
        .await
        .unwrap()
        .expect("Sam exists")
        .id
}

/// The user id of a chat.
pub async fn user_id(store: &Store, chat_id: i64) -> UserId {
    store
        .user_by_chat(ChatId(chat_id))
        .await
        .unwrap()
        .expect("a user")
        .id
}

/// Sends `text` from `chat_id` and returns the visible text of the next message to that chat.
pub async fn ask(app: &TestApp, chat_id: i64, text: &str) -> String {
    let before = app.fake.sent_to(chat_id).len();
    app.fake.push_text(chat_id, text);
    app.fake
        .wait_until(&format!("an answer to {text:?}"), WAIT, |tg| {
            tg.sent_to(chat_id).len() > before
        })
        .await;
    app.fake.sent_to(chat_id)[before].visible_text.clone()
}

/// Adds `n` filler turns to a user's history, straight into the database.
pub async fn chatter(store: &Store, user: UserId, n: usize) {
    for i in 0..n {
        let speaker = if i % 2 == 0 {
            Speaker::User
        } else {
            Speaker::Assistant
        };
        let turn = NewTurn {
            content: format!("small talk number {i} about the weather and lunch"),
            ..NewTurn::default()
        };
        store.add_turn(user, speaker, turn).await.unwrap();
    }
}

#[tokio::test]
async fn note_save_twice_replaces_the_note_and_says_so() {
    let app = TestApp::start().await;
    let first = ask(&app, OWNER, "/note save \"locker code\" 4711").await;
    assert!(first.starts_with("Saved note “locker code”"), "{first}");
    let second = ask(&app, OWNER, "/note save Locker Code: 4712").await;
    assert!(
        second.starts_with("Replaced your note “Locker Code”"),
        "{second}"
    );
    let got = ask(&app, OWNER, "/note get LOCKER CODE").await;
    assert!(got.contains("4712") && !got.contains("4711"), "{got}");
    let rows: i64 = app
        .store
        .call(|c| c.query_row("SELECT COUNT(*) FROM notes", [], |r| r.get(0)))
        .await
        .unwrap();
    assert_eq!(rows, 1);
    let deleted = ask(&app, OWNER, "/note delete locker code").await;
    assert_eq!(deleted, "Deleted your note “locker code”.");
    app.fake.assert_no_violations();
}

#[tokio::test]
async fn note_get_of_a_near_title_suggests_it_and_numbers_still_work() {
    let app = TestApp::start().await;
    ask(&app, OWNER, "/note save wifi-password: hunter2").await;
    let added = ask(&app, OWNER, "/note add buy milk").await;
    assert!(added.starts_with("Saved note #2"), "{added}");
    let near = ask(&app, OWNER, "/note get wifi pasword").await;
    assert!(
        near.contains("no note titled “wifi pasword”") && near.contains("“wifi-password”"),
        "{near}"
    );
    let by_number = ask(&app, OWNER, "/note get 2").await;
    assert!(by_number.contains("buy milk"), "{by_number}");
    let list = ask(&app, OWNER, "/note list").await;
    assert!(
        list.contains("#1 wifi-password") && list.contains("#2 buy milk"),
        "{list}"
    );
}

#[tokio::test]
async fn recall_finds_a_fact_said_500_turns_and_a_new_ago_and_never_another_users_identical_one() {
    let app = TestApp::start().await;
    let owner = user_id(&app.store, OWNER).await;
    let sam = add_sam(&app.store).await;
    let fact = NewTurn {
        content: "My locker code at the gym is 4711".into(),
        ..NewTurn::default()
    };
    app.store
        .add_turn(owner, Speaker::User, fact.clone())
        .await
        .unwrap();
    // Sam said the very same words, and something else.
    app.store
        .add_turn(sam, Speaker::User, fact.clone())
        .await
        .unwrap();
    let sams = NewTurn {
        content: "My bike lock code is 9999".into(),
        ..NewTurn::default()
    };
    app.store.add_turn(sam, Speaker::User, sams).await.unwrap();
    chatter(&app.store, owner, 500).await;
    ask(&app, OWNER, "/new").await;

    let found = ask(&app, OWNER, "/recall locker code").await;
    assert!(found.contains("4711"), "{found}");
    assert!(found.contains("you said"), "{found}");
    assert_eq!(
        found.matches("• ").count(),
        1,
        "only the owner's own copy of the fact: {found}"
    );
    let lock = ask(&app, OWNER, "/recall lock*").await;
    assert!(!lock.contains("9999"), "another user's fact leaked: {lock}");
    let phrase = ask(&app, OWNER, "/recall \"gym is\" lock*").await;
    assert!(phrase.contains("4711"), "{phrase}");
    let sam_sees = ask(&app, SAM, "/recall code").await;
    assert!(sam_sees.contains("9999"), "{sam_sees}");
    assert_eq!(
        sam_sees.matches("• ").count(),
        2,
        "Sam's two, not the owner's: {sam_sees}"
    );
    app.fake.assert_no_violations();
}

#[tokio::test]
async fn fts_syntax_in_a_query_neither_errors_nor_reaches_other_columns() {
    let app = TestApp::start().await;
    let owner = user_id(&app.store, OWNER).await;
    let sam = add_sam(&app.store).await;
    let turn = |t: &str| NewTurn {
        content: t.into(),
        ..NewTurn::default()
    };
    app.store
        .add_turn(owner, Speaker::User, turn("the near future"))
        .await
        .unwrap();
    app.store
        .add_turn(sam, Speaker::User, turn("sam secret 42"))
        .await
        .unwrap();
    let hostile = [
        "\"unbalanced",
        "NEAR(near future, 2)",
        "near -future",
        "user_id:2",
        "text:secret OR user_id:*",
        "(( ))\" * : -",
        "future\" OR \"secret",
        "* OR 1=1 --",
        "NOT",
    ];
    for query in hostile {
        let answer = ask(&app, OWNER, &format!("/recall {query}")).await;
        assert!(
            !answer.contains("sam secret") && !answer.contains("42"),
            "{query}: {answer}"
        );
        assert!(
            answer.starts_with("From your memory")
                || answer.starts_with("Nothing in your history")
                || answer.starts_with("Give me some words"),
            "{query} gave an error: {answer}"
        );
    }
    let near = ask(&app, OWNER, "/recall NEAR(near future, 2)").await;
    assert!(near.contains("«near» «future»"), "{near}");
    app.fake.assert_no_violations();
}

#[tokio::test]
async fn the_model_recalls_a_fact_from_before_a_new_and_is_told_it_can() {
    let openai = FakeLlm::start(Wire::OpenAi).await;
    let url = openai.base_url().to_string();
    let extra = [
        ("OPENAI_API_KEY", "sk-test-key"),
        ("OPENAI_BASE_URL", url.as_str()),
        ("OPENAI_MODEL_CHEAP", "test-model"),
    ];
    let app = TestApp::start_with(
        FakeTelegram::start().await,
        tempfile::tempdir().unwrap(),
        &extra,
    )
    .await;
    openai.script([Reply::text("Noted.")]);
    ask(&app, OWNER, "My locker code at the gym is 4711").await;
    ask(&app, OWNER, "/new").await;
    openai.script([
        Reply::tool("recall", json!({"query": "locker code"})),
        Reply::text("It was 4711."),
    ]);
    let answer = ask(&app, OWNER, "What was my locker code?").await;
    assert_eq!(answer, "It was 4711.");
    let requests = openai.requests();
    let asked = requests[1].body.to_string();
    assert!(
        asked.contains("recall tool"),
        "the system prompt names recall: {asked}"
    );
    let messages = requests[2].body["messages"].as_array().unwrap().clone();
    let result = messages
        .iter()
        .find(|m| m["role"] == "tool")
        .expect("a tool result")["content"]
        .to_string();
    assert!(
        result.contains("«locker» «code» at the gym is 4711"),
        "{result}"
    );
    assert!(
        !result.contains("What was my locker code"),
        "the question itself is not recalled: {result}"
    );
}

#[tokio::test]
async fn history_shows_the_last_turns_dated_in_the_users_timezone() {
    let app = TestApp::start().await;
    let owner = user_id(&app.store, OWNER).await;
    app.store
        .set_user_timezone(owner, "Asia/Tokyo".parse().unwrap())
        .await
        .unwrap();
    chatter(&app.store, owner, 60).await;
    app.store
        .call(|c| c.execute("UPDATE chat_history SET created_at = 1767225600", []))
        .await
        .unwrap();
    let shown = ask(&app, OWNER, "/history 3").await;
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines.len(), 3, "{shown}");
    // 2026-01-01 00:00 UTC is 09:00 in Tokyo.
    assert!(
        lines[0].starts_with("2026-01-01 09:00 me: small talk number 57"),
        "{shown}"
    );
    assert!(
        lines[2].starts_with("2026-01-01 09:00 me: small talk number 59"),
        "{shown}"
    );
    let default = ask(&app, OWNER, "/history").await;
    assert_eq!(default.lines().count(), 10);
    let capped = ask(&app, OWNER, "/history 100000").await;
    assert!(capped.starts_with("(showing the last 50"), "{capped}");
    assert_eq!(capped.lines().count(), 51);
}

#[tokio::test]
async fn the_daily_cleanup_removes_old_history_from_the_recall_index_too() {
    let app = TestApp::start().await;
    let owner = user_id(&app.store, OWNER).await;
    let now = chrono::Utc::now();
    let old = (now - chrono::TimeDelta::days(40)).timestamp();
    app.store
        .call(move |c| {
            for (text, at) in [("kiwi passport number 123", old), ("kiwi visa renewed", 0)] {
                let at = if at == 0 {
                    chrono::Utc::now().timestamp()
                } else {
                    at
                };
                c.execute(
                    "INSERT INTO chat_history (user_id, role, content, created_at)
                     VALUES (?1, 'user', ?2, ?3)",
                    rusqlite::params![owner, text, at],
                )?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let before = ask(&app, OWNER, "/recall kiwi").await;
    assert!(
        before.contains("passport") && before.contains("visa"),
        "{before}"
    );
    let report = app.store.cleanup(now, 30).await.unwrap();
    assert_eq!(report.history, 1);
    let after = ask(&app, OWNER, "/recall kiwi").await;
    assert!(
        !after.contains("passport") && after.contains("visa"),
        "{after}"
    );
    let (fts, history): (i64, i64) = app
        .store
        .call(move |c| {
            let fts = c.query_row(
                "SELECT COUNT(*) FROM memory_fts WHERE user_id = ?1 AND kind IN ('you', 'assistant')",
                [owner],
                |r| r.get(0),
            )?;
            let history =
                c.query_row("SELECT COUNT(*) FROM chat_history WHERE user_id = ?1", [owner], |r| r.get(0))?;
            Ok((fts, history))
        })
        .await
        .unwrap();
    assert_eq!(
        (fts, history),
        (1, 1),
        "the index holds exactly the history left"
    );
}
