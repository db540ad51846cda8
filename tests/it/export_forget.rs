//! `/export` hands a user exactly their own rows and no secret; `/forget` needs the Confirm
//! press and then leaves no row of the user in any table (the FTS index and a table added later
//! included) while other users keep theirs; the owner is reset, not forgotten.

use std::collections::BTreeMap;
use std::path::PathBuf;

use minicrew::ids::{ChatId, UserId};
use serde_json::Value;

use crate::memory::{SAM, add_sam, ask, user_id};
use crate::support::app::{OWNER, TestApp, WAIT};
use crate::support::fake_telegram::{FakeTelegram, SentMessage};
use minicrew::store::{NewDocument, NewTurn, Speaker, Store};

/// A string that appears only in the data of the user under test.
const MARK: &str = "zebracorn";

struct Setup {
    app: TestApp,
    credentials: PathBuf,
}

async fn start() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("tokens");
    let creds = credentials.display().to_string();
    let app = TestApp::start_with(
        FakeTelegram::start().await,
        dir,
        &[("CREDENTIALS_DIR", &creds)],
    )
    .await;
    Setup { app, credentials }
}

/// Gives the user of `chat_id` rows in every table a user can have, each holding [`MARK`]
/// (and `tag`), partly through the front door.
async fn fill(setup: &Setup, chat_id: i64, tag: &str) -> UserId {
    let (app, store) = (&setup.app, &setup.app.store);
    let id = user_id(store, chat_id).await;
    ask(
        app,
        chat_id,
        &format!("/note save {MARK}: {tag} locker 4711"),
    )
    .await;
    ask(app, chat_id, &format!("/remind 2h {MARK} {tag} dentist")).await;
    let turn = NewTurn {
        content: format!("{MARK} {tag} said this"),
        ..NewTurn::default()
    };
    store.add_turn(id, Speaker::User, turn).await.unwrap();
    let doc = NewDocument {
        user_id: id,
        name: format!("{tag}.txt"),
        mime: None,
        text: format!("{MARK} {tag} contract"),
        origin: None,
    };
    store.add_document(doc).await.unwrap();
    let sql = format!(
        "INSERT INTO llm_usage (user_id, provider, model, latency_ms, status, created_at)
             VALUES ({id}, 'claude', 'm', 5, 'ok', 1);
         INSERT INTO processed_emails (user_id, message_id, processed_at) VALUES ({id}, 'msg-{tag}', 1);
         INSERT INTO gmail_pending_auth (state_hash, user_id, verifier, redirect_uri, created_at, expires_at)
             VALUES ('secret-state-{tag}', {id}, x'00', 'http://127.0.0.1/secret-{tag}', 1, 9999999999);
         INSERT INTO calendar_accounts (user_id, provider, url, username, secret, created_at)
             VALUES ({id}, 'caldav', 'https://dav.example/{tag}', 'user-{tag}', CAST('secret-password-{tag}' AS BLOB), 1);"
    );
    store.call(move |c| c.execute_batch(&sql)).await.unwrap();
    std::fs::create_dir_all(&setup.credentials).unwrap();
    std::fs::write(
        setup.credentials.join(format!("gmail_{id}.json")),
        format!("secret-token-{tag}"),
    )
    .unwrap();
    id
}

/// Rows per table that belong to `user`/`chat`: by `user_id` or `chat_id` column, journal steps
/// of the chat's updates, and any text cell holding `needle` (FTS shadow tables are checked
/// through `memory_fts` itself).
async fn rows_of(store: &Store, user: UserId, chat: i64, needle: &str) -> BTreeMap<String, i64> {
    let needle = needle.to_string();
    store
        .call(move |c| {
            let tables: Vec<String> = c
                .prepare(
                    "SELECT name FROM sqlite_master WHERE type = 'table'
                     AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'memory_fts_%'",
                )?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut out = BTreeMap::new();
            for table in tables {
                let columns: Vec<String> = c
                    .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?
                    .query_map([], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                let mut rows = 0i64;
                for column in &columns {
                    let (sql, value): (String, rusqlite::types::Value) = match column.as_str() {
                        "user_id" => (format!("SELECT COUNT(*) FROM {table} WHERE user_id = ?1"), user.0.into()),
                        "chat_id" => (format!("SELECT COUNT(*) FROM {table} WHERE chat_id = ?1"), chat.into()),
                        _ => (
                            format!("SELECT COUNT(*) FROM {table} WHERE typeof(\"{column}\") = 'text' AND instr(\"{column}\", ?1) > 0"),
                            needle.clone().into(),
                        ),
                    };
                    rows += c.query_row(&sql, [value], |r| r.get::<_, i64>(0))?;
                }
                out.insert(table, rows);
            }
            Ok(out)
        })
        .await
        .unwrap()
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

/// Types /forget, checks nothing is gone yet, presses Confirm; returns the final answer.
async fn forget(
    setup: &Setup,
    chat_id: i64,
    before: &BTreeMap<String, i64>,
    user: UserId,
    needle: &str,
) -> String {
    let app = &setup.app;
    let asked = ask(app, chat_id, "/forget").await;
    assert!(
        asked.starts_with("Please confirm:") && asked.contains("Delete ALL your data"),
        "{asked}"
    );
    let ask_message = app.fake.sent_to(chat_id).last().unwrap().clone();
    let still = rows_of(&app.store, user, chat_id, needle).await;
    assert_eq!(
        still["notes"], before["notes"],
        "nothing is deleted before the press"
    );
    assert_eq!(still["chat_history"], before["chat_history"]);
    let confirm = buttons(&ask_message)[0].clone();
    let count = app.fake.sent_to(chat_id).len();
    app.fake
        .push_callback(chat_id, &confirm, ask_message.message_id);
    app.fake
        .wait_until("the /forget answer", WAIT, |tg| {
            tg.sent_to(chat_id).len() > count
        })
        .await;
    app.wait_for_db("SELECT COUNT(*) FROM inbox WHERE status = 'pending'", "0")
        .await;
    app.fake.sent_to(chat_id)[count].visible_text.clone()
}

#[tokio::test]
async fn export_holds_exactly_the_users_rows_and_no_token_or_secret() {
    let setup = start().await;
    let app = &setup.app;
    let owner = fill(&setup, OWNER, "olgatag").await;
    add_sam(&app.store).await;
    fill(&setup, SAM, "samtag").await;
    ask(app, OWNER, "/export").await;
    let file = app.fake.sent_files().pop().expect("an export file");
    assert!(file.file_name.starts_with("minicrew-export-") && file.file_name.ends_with(".json"));
    assert!(file.caption.starts_with("Your data:"), "{}", file.caption);
    let text = String::from_utf8(file.bytes.clone()).unwrap();
    for secret in ["samtag", "secret", "SECRET", app.fake.token()] {
        assert!(!text.contains(secret), "the export holds {secret:?}");
    }
    let data: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(data["profile"]["chat_id"], OWNER);
    for (section, table) in [
        ("history", "chat_history"),
        ("notes", "notes"),
        ("documents", "documents"),
        ("schedules", "schedules"),
        ("usage", "llm_usage"),
    ] {
        let sql = format!("SELECT id FROM {table} WHERE user_id = ?1 ORDER BY id");
        let in_db: Vec<i64> = app
            .store
            .call(move |c| {
                c.prepare(&sql)?
                    .query_map([owner], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()
            })
            .await
            .unwrap();
        let exported: Vec<i64> = data[section]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row["id"].as_i64().unwrap())
            .collect();
        assert!(!in_db.is_empty(), "{table} has rows of the owner to export");
        assert_eq!(exported, in_db, "{section}");
    }
    app.fake.assert_no_violations();
}

#[tokio::test]
async fn forget_needs_the_confirm_press_then_leaves_no_row_of_the_user_and_others_keep_theirs() {
    let setup = start().await;
    let app = &setup.app;
    fill(&setup, OWNER, "olgatag").await;
    let owner_before = rows_of(
        &app.store,
        user_id(&app.store, OWNER).await,
        OWNER,
        "olgatag",
    )
    .await;
    let sam = add_sam(&app.store).await;
    fill(&setup, SAM, "samtag").await;
    ask(app, SAM, "/recall zebracorn").await;
    let before = rows_of(&app.store, sam, SAM, "samtag").await;
    assert!(before["memory_fts"] > 0 && before["calendar_accounts"] > 0 && before["inbox"] > 0);

    let done = forget(&setup, SAM, &before, sam, "samtag").await;
    assert!(
        done.starts_with("Done: everything I had about you is deleted"),
        "{done}"
    );
    let after = rows_of(&app.store, sam, SAM, "samtag").await;
    let left: Vec<_> = after.iter().filter(|(_, n)| **n > 0).collect();
    assert!(
        left.is_empty(),
        "rows of the forgotten user remain: {left:?}"
    );
    assert!(!setup.credentials.join(format!("gmail_{sam}.json")).exists());
    assert!(app.store.user_by_chat(ChatId(SAM)).await.unwrap().is_none());

    let owner_after = rows_of(
        &app.store,
        user_id(&app.store, OWNER).await,
        OWNER,
        "olgatag",
    )
    .await;
    // (The morning briefing schedule is made by the scheduler when it gets to it: not compared.)
    for table in [
        "notes",
        "chat_history",
        "documents",
        "llm_usage",
        "memory_fts",
        "calendar_accounts",
    ] {
        assert_eq!(
            owner_after[table], owner_before[table],
            "the owner's {table} is untouched"
        );
    }
    let owner_id = user_id(&app.store, OWNER).await;
    let reminders: i64 = app
        .store
        .call(move |c| {
            c.query_row(
                "SELECT COUNT(*) FROM schedules WHERE user_id = ?1 AND system IS NULL",
                [owner_id],
                |r| r.get(0),
            )
        })
        .await
        .unwrap();
    assert_eq!(reminders, 1, "the owner's reminder is untouched");
    assert!(
        setup
            .credentials
            .join(format!("gmail_{owner_id}.json"))
            .exists()
    );
    app.fake.assert_no_violations();
}

#[tokio::test]
async fn the_owners_forget_resets_and_keeps_the_account() {
    let setup = start().await;
    let app = &setup.app;
    let owner = fill(&setup, OWNER, "olgatag").await;
    app.store
        .set_user_timezone(owner, "Europe/Berlin".parse().unwrap())
        .await
        .unwrap();
    let before = rows_of(&app.store, owner, OWNER, MARK).await;
    let done = forget(&setup, OWNER, &before, owner, MARK).await;
    assert!(
        done.contains("As the owner you are reset, not forgotten"),
        "{done}"
    );
    let after = rows_of(&app.store, owner, OWNER, MARK).await;
    for table in [
        "notes",
        "chat_history",
        "documents",
        "llm_usage",
        "tool_logs",
        "memory_fts",
        "inbox",
        "outbox",
        "pending_actions",
        "processed_emails",
        "gmail_pending_auth",
        "calendar_accounts",
    ] {
        assert_eq!(after[table], 0, "{table} still holds the owner's rows");
    }
    let user = app
        .store
        .user_by_chat(ChatId(OWNER))
        .await
        .unwrap()
        .expect("the owner stays");
    assert!(user.is_owner());
    assert_eq!(user.timezone.name(), "Europe/Berlin");
    let list = ask(app, OWNER, "/note list").await;
    assert!(list.starts_with("No notes yet"), "{list}");
}
