//! All of one user's rows, in one place: what `/export` hands back and what `/forget` deletes.
//! [`USER_TABLES`] is the one list of tables that hold a user's rows; a table added later (such
//! as `calendar_accounts`) is one line there, and a listed table this database does not have yet
//! is skipped.

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde_json::{Map, Value, json};

use super::{Store, StoreError, now_unix};
use crate::ids::{ChatId, UserId};

/// How a table names the user a row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// A `user_id` column.
    UserId,
    /// A `chat_id` column (the user's private chat): the inbox and outbox.
    ChatId,
    /// An `update_id` of one of the chat's inbox rows: the update journal.
    UpdateOfChat,
}

/// A table with rows of one user.
#[derive(Debug, Clone, Copy)]
pub struct UserTable {
    /// The table.
    pub name: &'static str,
    /// How its rows name their user.
    pub owner: Owner,
}

const fn by_user(name: &'static str) -> UserTable {
    UserTable {
        name,
        owner: Owner::UserId,
    }
}

/// Every table that holds a user's rows, in the order `/forget` deletes them (the journal before
/// the inbox rows it hangs on). The `users` row itself is handled apart. The FTS index
/// (`memory_fts`) follows history, notes and documents by its triggers.
pub const USER_TABLES: &[UserTable] = &[
    by_user("chat_history"),
    by_user("notes"),
    by_user("documents"),
    by_user("schedules"),
    by_user("llm_usage"),
    by_user("tool_logs"),
    by_user("pending_actions"),
    by_user("processed_emails"),
    by_user("gmail_pending_auth"),
    by_user("calendar_accounts"),
    UserTable {
        name: "update_journal",
        owner: Owner::UpdateOfChat,
    },
    UserTable {
        name: "outbox",
        owner: Owner::ChatId,
    },
    UserTable {
        name: "inbox",
        owner: Owner::ChatId,
    },
];

/// What `/export` holds: a section name, the table, and the columns handed back. Tokens,
/// secrets and credentials are never listed (no Gmail or calendar credentials, no OAuth state).
const EXPORT: &[(&str, &str, &str)] = &[
    (
        "history",
        "chat_history",
        "id, role, content, tool_used, llm_model, token_used, created_at",
    ),
    ("notes", "notes", "id, title, body, created_at, updated_at"),
    ("documents", "documents", "id, name, mime, text, created_at"),
    (
        "schedules",
        "schedules",
        "id, kind, expression, timezone, tool, arguments, message, system, next_run_at, \
         last_run_at, active, created_at",
    ),
    (
        "usage",
        "llm_usage",
        "id, provider, model, input_tokens, output_tokens, cost_usd, latency_ms, status, error, \
         created_at",
    ),
];

/// What `/forget` deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForgetReport {
    /// Rows deleted, per table (tables with none left out).
    pub deleted: Vec<(&'static str, usize)>,
    /// The `users` row went too (everyone but the owner).
    pub account_deleted: bool,
}

impl Store {
    /// The user's own data as one JSON object: profile, history, notes, documents, schedules
    /// and usage. `None` when there is no such user.
    pub async fn export_user(&self, user_id: UserId) -> Result<Option<Value>, StoreError> {
        self.call(move |c| {
            let Some(profile) = rows_as_json(
                c,
                "SELECT chat_id, display_name, username, status, timezone, llm_provider, created_at
                 FROM users WHERE id = ?1",
                user_id,
            )?
            .into_iter()
            .next() else {
                return Ok(None);
            };
            let mut out = Map::new();
            out.insert("exported_at".into(), json!(now_unix()));
            out.insert("profile".into(), profile);
            for (section, table, columns) in EXPORT {
                let sql = format!("SELECT {columns} FROM {table} WHERE user_id = ?1 ORDER BY id");
                out.insert(
                    (*section).into(),
                    Value::Array(rows_as_json(c, &sql, user_id)?),
                );
            }
            Ok(Some(Value::Object(out)))
        })
        .await
    }

    /// Deletes every row of the user in [`USER_TABLES`] in one transaction, and their `users` row
    /// unless `keep_account` (the owner is reset, not forgotten: their account, name, timezone
    /// and model choice stay). Rows of updates still being handled (the button press asking for
    /// this) stay until that update is finished, then go too (see `finish_update`).
    pub async fn forget_user(
        &self,
        user_id: UserId,
        keep_account: bool,
    ) -> Result<ForgetReport, StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let chat_id: ChatId =
                tx.query_row("SELECT chat_id FROM users WHERE id = ?1", [user_id], |r| r.get(0))?;
            let mut report = ForgetReport::default();
            for table in USER_TABLES {
                if !table_exists(&tx, table.name)? {
                    continue;
                }
                let n = delete_rows(&tx, table, Some(user_id), chat_id)?;
                if n > 0 {
                    report.deleted.push((table.name, n));
                }
            }
            if keep_account {
                tx.execute(
                    "UPDATE users SET context_since = 0, updated_at = ?2 WHERE id = ?1",
                    params![user_id, now_unix()],
                )?;
            } else {
                tx.execute("DELETE FROM users WHERE id = ?1", [user_id])?;
                report.account_deleted = true;
            }
            tx.execute(
                "INSERT OR IGNORE INTO forget_after_update (chat_id)
                 SELECT ?1 WHERE EXISTS (SELECT 1 FROM inbox WHERE chat_id = ?1 AND status = 'pending')",
                [chat_id],
            )?;
            tx.commit()?;
            Ok(report)
        })
        .await
        .inspect(|_| self.wake_scheduler())
    }
}

/// After an update of a chat that asked to be forgotten is finished: deletes what is left of the
/// chat's finished updates (that one included: the press, its journal, the reply once sent).
pub(super) fn purge_forgotten_chat(c: &Connection, update_id: i64) -> rusqlite::Result<()> {
    let chat_id: Option<ChatId> = c
        .prepare_cached(
            "SELECT f.chat_id FROM forget_after_update f JOIN inbox i ON i.chat_id = f.chat_id
             WHERE i.update_id = ?1",
        )?
        .query_row([update_id], |r| r.get(0))
        .optional()?;
    let Some(chat_id) = chat_id else {
        return Ok(());
    };
    for table in USER_TABLES.iter().filter(|t| t.owner != Owner::UserId) {
        delete_rows(c, table, None, chat_id)?;
    }
    c.execute(
        "DELETE FROM forget_after_update WHERE chat_id = ?1 AND NOT EXISTS
             (SELECT 1 FROM inbox WHERE chat_id = ?1 AND status = 'pending')",
        [chat_id],
    )?;
    Ok(())
}

/// Deletes one table's rows of a user; rows of updates still pending (being handled) stay.
fn delete_rows(
    c: &Connection,
    table: &UserTable,
    user_id: Option<UserId>,
    chat_id: ChatId,
) -> rusqlite::Result<usize> {
    let finished = "SELECT update_id FROM inbox WHERE chat_id = ?1 AND status != 'pending'";
    let name = table.name;
    match table.owner {
        Owner::UserId => c.execute(&format!("DELETE FROM {name} WHERE user_id = ?1"), [user_id]),
        Owner::UpdateOfChat => c.execute(
            &format!("DELETE FROM {name} WHERE update_id IN ({finished})"),
            [chat_id],
        ),
        Owner::ChatId => c.execute(
            &format!("DELETE FROM {name} WHERE chat_id = ?1 AND status != 'pending'"),
            [chat_id],
        ),
    }
}

/// Whether the database has `table` (a table listed for a later migration may not exist yet).
fn table_exists(tx: &Transaction<'_>, table: &str) -> rusqlite::Result<bool> {
    tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
        [table],
        |r| r.get(0),
    )
}

/// Every row of `sql` (one `?1` parameter) as a JSON object keyed by column name.
fn rows_as_json(c: &Connection, sql: &str, param: UserId) -> rusqlite::Result<Vec<Value>> {
    let mut stmt = c.prepare(sql)?;
    let names: Vec<String> = stmt.column_names().iter().map(|n| n.to_string()).collect();
    let mut rows = stmt.query([param])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut object = Map::new();
        for (i, name) in names.iter().enumerate() {
            let value = match row.get_ref(i)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => json!(n),
                ValueRef::Real(x) => json!(x),
                ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
                ValueRef::Blob(_) => continue,
            };
            object.insert(name.clone(), value);
        }
        out.push(Value::Object(object));
    }
    Ok(out)
}
