//! Upgrades: migrations are append-only (a committed sha256 per migration), and a database made
//! by the 0.1 release (tests/fixtures/release-0.1, made by its make.sh) opens through the real
//! store path with every row intact and the newer tables in place.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use minicrew::store::{DB_FILE_NAME, Store, migrations, snapshot};
use rusqlite::Connection;
use sha2::{Digest, Sha256};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `migrations/*/*.sql`, relative to the crate root, with its sha256 (line endings
/// normalised, so a CRLF checkout is not a change).
fn migration_hashes() -> BTreeMap<String, String> {
    let mut hashes = BTreeMap::new();
    for dir in std::fs::read_dir(root().join("migrations")).unwrap() {
        let dir = dir.unwrap().path();
        for file in std::fs::read_dir(&dir).unwrap() {
            let file = file.unwrap().path();
            let text = std::fs::read_to_string(&file)
                .unwrap()
                .replace("\r\n", "\n");
            let rel = file
                .strip_prefix(root())
                .unwrap()
                .to_string_lossy()
                .into_owned();
            hashes.insert(rel, format!("{:x}", Sha256::digest(text.as_bytes())));
        }
    }
    hashes
}

#[test]
fn existing_migrations_never_change_and_each_new_one_is_recorded() {
    let list_path = root().join("tests/fixtures/migrations.sha256");
    let list = std::fs::read_to_string(&list_path).unwrap();
    let recorded: BTreeMap<String, String> = list
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (hash, path) = l
                .split_once("  ")
                .expect("sha256sum format: '<hash>  <path>'");
            (path.to_string(), hash.to_string())
        })
        .collect();
    let actual = migration_hashes();
    let mut problems = Vec::new();
    for (path, hash) in &recorded {
        match actual.get(path) {
            None => problems.push(format!(
                "{path} was removed: migrations are append-only (a database that applied it \
                 would no longer match this binary); put it back"
            )),
            Some(now) if now != hash => problems.push(format!(
                "{path} changed after it was released: databases that already applied it will \
                 never see the change. Restore it (git checkout -- {path}) and add a NEW \
                 migration migrations/NN-name/up.sql that makes the change instead"
            )),
            Some(_) => {}
        }
    }
    for path in actual.keys().filter(|p| !recorded.contains_key(*p)) {
        problems.push(format!(
            "{path} is new: record it once it is final with\n  sha256sum {path} >> \
             tests/fixtures/migrations.sha256"
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `(type, name, sql)` of every schema object, sorted.
fn schema(conn: &Connection) -> Vec<(String, String, Option<String>)> {
    let mut stmt = conn
        .prepare("SELECT type, name, sql FROM sqlite_master ORDER BY type, name")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn fixture() -> PathBuf {
    root().join("tests/fixtures/release-0.1/minicrew-0.1.db")
}

#[test]
fn the_0_1_fixture_has_exactly_the_schema_of_migrations_1_to_10() {
    let mut expected = Connection::open_in_memory().unwrap();
    migrations().to_version(&mut expected, 10).unwrap();
    let fixture =
        Connection::open_with_flags(fixture(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let version: i64 = fixture
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 10);
    assert_eq!(schema(&fixture), schema(&expected));
}

fn copy_fixture_into(dir: &Path) {
    std::fs::copy(fixture(), dir.join(DB_FILE_NAME)).unwrap();
}

async fn rows(store: &Store, sql: &'static str) -> Vec<String> {
    store
        .call(move |c| {
            let mut stmt = c.prepare(sql)?;
            let n = stmt.column_count();
            stmt.query_map([], |r| {
                (0..n)
                    .map(|i| {
                        r.get::<_, rusqlite::types::Value>(i)
                            .map(|v| format!("{v:?}"))
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(|cells| cells.join("|"))
            })?
            .collect()
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn a_database_from_the_0_1_release_opens_with_every_row_and_the_newer_tables() {
    let dir = tempfile::tempdir().unwrap();
    copy_fixture_into(dir.path());
    let store = Store::open(dir.path()).expect("the real open path upgrades a 0.1 database");

    let version = store
        .call(|c| c.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0)))
        .await
        .unwrap();
    assert_eq!(version as usize, snapshot::latest_schema_version());
    let integrity = rows(&store, "PRAGMA integrity_check").await;
    assert_eq!(integrity, ["Text(\"ok\")"]);

    for (sql, expected) in [
        (
            "SELECT id, chat_id, display_name, status, timezone, context_since FROM users ORDER BY id",
            vec![
                "Integer(1)|Integer(777000)|Text(\"Ana\")|Text(\"owner\")|Text(\"Europe/Berlin\")|Integer(0)",
                "Integer(2)|Integer(555001)|Text(\"Ben\")|Text(\"active\")|Text(\"UTC\")|Integer(3)",
                "Integer(3)|Integer(555002)|Text(\"Cleo\")|Text(\"pending\")|Text(\"UTC\")|Integer(0)",
            ],
        ),
        (
            "SELECT user_id, role, content, token_used FROM chat_history ORDER BY id",
            vec![
                "Integer(1)|Text(\"user\")|Text(\"My bike lock code is 4711, remember the locker\")|Integer(0)",
                "Integer(1)|Text(\"assistant\")|Text(\"Noted: the locker code is 4711.\")|Integer(42)",
                "Integer(2)|Text(\"user\")|Text(\"hello\")|Integer(0)",
                "Integer(2)|Text(\"assistant\")|Text(\"Hi Ben!\")|Integer(18)",
            ],
        ),
        (
            "SELECT user_id, title, body, origin FROM notes ORDER BY id",
            vec![
                "Integer(1)|Text(\"buy milk\")|Text(\"buy milk\")|Text(\"update:9001\")",
                "Integer(2)|Text(\"gate\")|Text(\"gate code 1234\")|Null",
            ],
        ),
        (
            "SELECT user_id, kind, expression, system, message, next_run_at, active FROM schedules ORDER BY id",
            vec![
                "Integer(1)|Text(\"cron\")|Text(\"0 7 * * *\")|Text(\"briefing\")|Null|Integer(1764050400)|Integer(1)",
                "Integer(1)|Text(\"once\")|Text(\"2026-12-24T18:00:00+01:00\")|Null|Text(\"call grandma\")|Integer(1766595600)|Integer(1)",
            ],
        ),
        (
            "SELECT update_id, chat_id, text, status, message_id, attempts FROM outbox ORDER BY id",
            vec![
                "Integer(9001)|Integer(777000)|Text(\"Saved note #1.\")|Text(\"sent\")|Integer(31)|Integer(1)",
            ],
        ),
        (
            "SELECT user_id, provider, model, input_tokens, output_tokens, status, error FROM llm_usage ORDER BY id",
            vec![
                "Integer(1)|Text(\"claude\")|Text(\"claude-haiku-4-5\")|Integer(30)|Integer(12)|Text(\"ok\")|Null",
                "Integer(2)|Text(\"gemini\")|Text(\"gemini-2.5-flash\")|Integer(10)|Integer(8)|Text(\"error\")|Text(\"rate_limited\")",
            ],
        ),
        (
            "SELECT update_id, status FROM inbox",
            vec!["Integer(9001)|Text(\"done\")"],
        ),
        (
            "SELECT key, value FROM settings",
            vec!["Text(\"telegram_commands_hash\")|Text(\"abc123\")"],
        ),
        (
            "SELECT (SELECT count(*) FROM tool_logs), (SELECT count(*) FROM pending_actions), \
             (SELECT count(*) FROM processed_emails), (SELECT count(*) FROM update_journal)",
            vec!["Integer(1)|Integer(1)|Integer(1)|Integer(1)"],
        ),
    ] {
        assert_eq!(rows(&store, sql).await, expected, "{sql}");
    }

    let tables = rows(
        &store,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('documents', 'groups', \
         'stream_messages', 'memory_fts', 'calendar_accounts', 'forget_after_update') ORDER BY name",
    )
    .await;
    assert_eq!(
        tables.len(),
        6,
        "the tables of migrations 11..15 exist: {tables:?}"
    );
    // The memory index (migration 14) covers what the 0.1 release stored, not only new rows.
    let recalled = rows(
        &store,
        "SELECT user_id, kind FROM memory_fts WHERE memory_fts MATCH 'locker' ORDER BY rowid",
    )
    .await;
    assert_eq!(
        recalled.len(),
        2,
        "both turns about the locker: {recalled:?}"
    );
    assert!(
        recalled.iter().all(|r| r.starts_with("Integer(1)|")),
        "{recalled:?}"
    );
}
