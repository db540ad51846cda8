//! Approving bench chats as active users with plain SQL: the daemon has already created the
//! schema and reads users from the database on every message, so no restart is needed.

use std::path::Path;
use std::time::Duration;

/// Makes each of `chats` an active user of the database at `db`, in one transaction.
pub fn approve_users(db: &Path, chats: impl IntoIterator<Item = i64>) -> rusqlite::Result<()> {
    let mut conn = rusqlite::Connection::open(db)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let tx = conn.transaction()?;
    for chat_id in chats {
        tx.execute(
            "INSERT INTO users (chat_id, display_name, status, created_at, updated_at)
             VALUES (?1, ?2, 'active', unixepoch(), unixepoch())",
            rusqlite::params![chat_id, format!("User{chat_id}")],
        )?;
    }
    tx.commit()
}
