//! `minicrew backup` and `minicrew restore` as a self-hoster runs them: the real binary, a
//! backup taken while the real daemon answers messages (fake Bot API, fake Claude), and each
//! refusal of restore.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::cli::{chat_with, minicrew};
use crate::support::app::{OWNER, WAIT};
use crate::support::fake_llm::{FakeLlm, Reply, Wire};
use crate::support::fake_telegram::FakeTelegram;

/// Runs `minicrew <args>` in `dir` with `env`; returns (exit code, stdout, stderr).
async fn run(dir: &tempfile::TempDir, env: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let out = tokio::process::Command::from(minicrew(dir, env))
        .args(args)
        .output()
        .await
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The daemon against `fake` (and `claude` when given), its log in `dir/daemon.log`.
fn start_daemon(dir: &tempfile::TempDir, env: &str) -> tokio::process::Child {
    let log = std::fs::File::create(dir.path().join("daemon.log")).unwrap();
    tokio::process::Command::from(minicrew(dir, env))
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

async fn stop_daemon(mut child: tokio::process::Child) {
    let pid = child.id().unwrap().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .expect("the daemon stops within its shutdown grace")
        .unwrap();
    assert_eq!(exit.code(), Some(0));
}

fn open_read_only(path: &Path) -> Connection {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

fn integrity(conn: &Connection) -> String {
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

fn assistant_turns(conn: &Connection) -> Vec<String> {
    let mut stmt = conn
        .prepare("SELECT content FROM chat_history WHERE role = 'assistant' ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test]
async fn a_backup_taken_while_the_bot_answers_opens_and_holds_the_last_answer_sent_before_it() {
    let fake = FakeTelegram::start().await;
    let claude = FakeLlm::start(Wire::Claude).await;
    claude.script((1..=40).map(|i| Reply::text(&format!("Answer number {i} is here."))));
    let dir = tempfile::tempdir().unwrap();
    let env = format!(
        "TELEGRAM_BOT_TOKEN={}\nTELEGRAM_API_URL={}\nOWNER_TELEGRAM_CHAT_ID={OWNER}\nDATA_DIR=data\n\
         ANTHROPIC_API_KEY=sk-ant-backup\nANTHROPIC_BASE_URL={}\nSTREAM_REPLIES=false\n\
         TELEGRAM_RATE_GLOBAL=0\nTELEGRAM_RATE_PER_CHAT=0\n",
        fake.token(),
        fake.url(),
        claude.base_url()
    );
    let daemon = start_daemon(&dir, &env);
    fake.wait_for_call("getUpdates", WAIT).await;
    for i in 1..=5 {
        fake.push_text(OWNER, &format!("question {i}"));
    }
    let sent = fake.wait_for_sent(5, WAIT).await;
    let last_before = sent.last().unwrap().visible_text.clone();
    assert_eq!(last_before, "Answer number 5 is here.");

    // More questions keep the bot busy while the backup runs.
    for i in 6..=30 {
        fake.push_text(OWNER, &format!("question {i}"));
    }
    let (code, stdout, stderr) = run(&dir, &env, &["backup", "snapshot.db"]).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("Backed up") && stdout.contains("snapshot.db"),
        "{stdout}"
    );
    assert!(
        stdout.contains("secret.key") && stdout.contains("WARNING"),
        "the key reminder: {stdout}"
    );
    fake.wait_for_sent(30, WAIT).await;

    let copy = open_read_only(&dir.path().join("snapshot.db"));
    assert_eq!(integrity(&copy), "ok");
    let turns = assistant_turns(&copy);
    assert!(
        turns.contains(&last_before),
        "the copy holds the answer sent before it began: {turns:?}"
    );
    let mode: String = copy
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete", "a backup is one self-contained file");
    stop_daemon(daemon).await;
    fake.assert_no_violations();
}

/// A data folder with a database holding the owner's note `name`, made by `minicrew chat`.
async fn database_with_note(dir: &tempfile::TempDir, env: &str, name: &str) {
    let mut command = minicrew(dir, env);
    command.arg("chat");
    chat_with(
        command,
        &format!("/note save {name} kept in the database\n"),
    )
    .await;
}

fn note_titles(db: &Path) -> Vec<String> {
    let conn = open_read_only(db);
    let mut stmt = conn.prepare("SELECT title FROM notes ORDER BY id").unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

const LOCAL_ENV: &str = "DATA_DIR=data\nOWNER_TELEGRAM_CHAT_ID=777000\n";

fn live_db(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("data/minicrew.db")
}

#[tokio::test]
async fn backup_refuses_to_replace_a_file_unless_forced_and_with_key_copies_the_key_privately() {
    let dir = tempfile::tempdir().unwrap();
    database_with_note(&dir, LOCAL_ENV, "first").await;
    std::fs::write(dir.path().join("taken.db"), b"precious").unwrap();
    let (code, _, stderr) = run(&dir, LOCAL_ENV, &["backup", "taken.db"]).await;
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("already exists") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("taken.db")).unwrap(),
        b"precious"
    );

    let (code, stdout, stderr) = run(
        &dir,
        LOCAL_ENV,
        &["backup", "taken.db", "--force", "--with-key"],
    )
    .await;
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(note_titles(&dir.path().join("taken.db")), ["first"]);
    let key_copy = dir.path().join("taken.db.secret.key");
    assert!(stdout.contains("taken.db.secret.key"), "{stdout}");
    assert_eq!(
        std::fs::read(&key_copy).unwrap(),
        std::fs::read(dir.path().join("data/secret.key")).unwrap()
    );
    #[cfg(unix)]
    for file in [&key_copy, &dir.path().join("taken.db")] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "no temp files left: {leftovers:?}");
}

/// Sets up `data/` with the note "current" and a backup `backup.db` holding "from-backup".
async fn current_and_backup(dir: &tempfile::TempDir) -> PathBuf {
    database_with_note(dir, LOCAL_ENV, "from-backup").await;
    let (code, _, stderr) = run(dir, LOCAL_ENV, &["backup", "backup.db"]).await;
    assert_eq!(code, Some(0), "{stderr}");
    let conn = Connection::open(live_db(dir)).unwrap();
    conn.execute("UPDATE notes SET title = 'current'", [])
        .unwrap();
    drop(conn);
    dir.path().join("backup.db")
}

/// Restores `file`, expecting a refusal that mentions every word of `says`; the database is
/// left as it was and no copy of it was made.
async fn assert_refused(dir: &tempfile::TempDir, env: &str, file: &Path, says: &[&str]) {
    let (code, stdout, stderr) = run(dir, env, &["restore", file.to_str().unwrap()]).await;
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    for word in says {
        assert!(stderr.contains(word), "{word:?} in: {stderr}");
    }
    assert_eq!(note_titles(&live_db(dir)), ["current"]);
    let kept = std::fs::read_dir(dir.path().join("data"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("before-restore")
        })
        .count();
    assert_eq!(kept, 0);
}

#[tokio::test]
async fn restore_refuses_a_file_that_is_not_a_sqlite_database() {
    let dir = tempfile::tempdir().unwrap();
    current_and_backup(&dir).await;
    let text = dir.path().join("notes.txt");
    std::fs::write(
        &text,
        "this is not a database, just some text\n".repeat(200),
    )
    .unwrap();
    assert_refused(
        &dir,
        LOCAL_ENV,
        &text,
        &["notes.txt", "not a readable SQLite database"],
    )
    .await;
}

#[tokio::test]
async fn restore_refuses_a_damaged_database() {
    let dir = tempfile::tempdir().unwrap();
    let backup = current_and_backup(&dir).await;
    let mut bytes = std::fs::read(&backup).unwrap();
    let page = 4096;
    assert!(bytes.len() > 4 * page);
    // Wipe the b-tree header of every page after the first (which keeps the file recognisable
    // as SQLite): the tables are damaged, the file is still a database.
    for start in (page..bytes.len()).step_by(page) {
        bytes[start..start + 8].fill(0);
    }
    std::fs::write(&backup, bytes).unwrap();
    assert_refused(&dir, LOCAL_ENV, &backup, &["backup.db", "damaged"]).await;
}

#[tokio::test]
async fn restore_refuses_a_backup_made_by_a_newer_minicrew() {
    let dir = tempfile::tempdir().unwrap();
    let backup = current_and_backup(&dir).await;
    let newer = minicrew::store::snapshot::latest_schema_version() + 1;
    Connection::open(&backup)
        .unwrap()
        .pragma_update(None, "user_version", newer as i64)
        .unwrap();
    assert_refused(
        &dir,
        LOCAL_ENV,
        &backup,
        &[
            &format!("schema version {newer}"),
            "newer than this minicrew knows",
        ],
    )
    .await;
}

#[tokio::test]
async fn restore_refuses_a_sqlite_file_that_minicrew_did_not_make() {
    let dir = tempfile::tempdir().unwrap();
    current_and_backup(&dir).await;
    let other = dir.path().join("other.db");
    Connection::open(&other)
        .unwrap()
        .execute_batch(
            "CREATE TABLE photos (id INTEGER PRIMARY KEY); INSERT INTO photos DEFAULT VALUES;",
        )
        .unwrap();
    assert_refused(&dir, LOCAL_ENV, &other, &["other.db", "not a minicrew one"]).await;
}

#[tokio::test]
async fn restore_refuses_while_the_bot_runs_on_the_database() {
    let fake = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let backup = current_and_backup(&dir).await;
    let env = format!(
        "{LOCAL_ENV}TELEGRAM_BOT_TOKEN={}\nTELEGRAM_API_URL={}\n",
        fake.token(),
        fake.url()
    );
    let daemon = start_daemon(&dir, &env);
    fake.wait_for_call("getUpdates", WAIT).await;
    assert_refused(
        &dir,
        &env,
        &backup,
        &["minicrew is running on", "stop it first"],
    )
    .await;
    stop_daemon(daemon).await;
}

#[tokio::test]
async fn restore_keeps_the_current_database_and_brings_a_0_1_backup_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    current_and_backup(&dir).await;
    let old = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/release-0.1/minicrew-0.1.db");
    let (code, stdout, stderr) = run(&dir, LOCAL_ENV, &["restore", old.to_str().unwrap()]).await;
    assert_eq!(code, Some(0), "{stderr}");
    let latest = minicrew::store::snapshot::latest_schema_version();
    assert!(
        stdout.contains("(schema version 10)")
            && stdout.contains(&format!("upgraded it to schema version {latest}")),
        "{stdout}"
    );
    assert!(stdout.contains("secret.key must be that key"), "{stdout}");

    let kept: Vec<PathBuf> = std::fs::read_dir(dir.path().join("data"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("minicrew.db.before-restore-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(stdout.contains(&kept[0].file_name().unwrap().to_string_lossy().into_owned()));
    assert_eq!(
        note_titles(&kept[0]),
        ["current"],
        "the replaced database is kept whole"
    );
    assert_eq!(integrity(&open_read_only(&kept[0])), "ok");
    assert_eq!(note_titles(&live_db(&dir)), ["buy milk", "gate"]);
    assert!(
        !dir.path().join("data/minicrew.db-wal").exists() || {
            // A WAL beside the restored file may only be the new file's own (empty after open).
            std::fs::metadata(dir.path().join("data/minicrew.db-wal"))
                .unwrap()
                .len()
                == 0
        }
    );

    // Through the front door: the owner of the 0.1 database finds their old note.
    let mut command = minicrew(&dir, LOCAL_ENV);
    command.arg("chat");
    let out = chat_with(command, "/recall locker\n").await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("4711"),
        "the restored history is searchable: {stdout}"
    );
}
