//! The `users` table: the owner, approved users and pending requests.

use rusqlite::{OptionalExtension, Row, params};

use super::{Store, StoreError, now_unix};
use super::{User, UserStatus};
use crate::ids::{ChatId, UserId};
use crate::timezone::Timezone;

const COLUMNS: &str =
    "id, chat_id, display_name, username, status, timezone, llm_provider, context_since";

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    let status: String = row.get(4)?;
    let tz: String = row.get(5)?;
    let provider: Option<String> = row.get(6)?;
    Ok(User {
        id: row.get(0)?,
        chat_id: row.get(1)?,
        display_name: row.get(2)?,
        username: row.get(3)?,
        // Values are written only by this module, so an unknown one means a corrupt row.
        status: status.parse().map_err(|e: String| conversion_error(4, e))?,
        timezone: tz.parse().map_or(Timezone::UTC, Timezone::new),
        llm_provider: provider.and_then(|p| p.parse().ok()),
        context_since: row.get(7)?,
    })
}

fn conversion_error(col: usize, msg: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(col, rusqlite::types::Type::Text, msg.into())
}

impl Store {
    /// Creates the owner on first start, or makes sure the configured chat is the owner.
    /// A previous owner (if `OWNER_TELEGRAM_CHAT_ID` changed) becomes an ordinary active user.
    pub async fn ensure_owner(
        &self,
        chat_id: ChatId,
        name: &str,
        timezone: &str,
    ) -> Result<User, StoreError> {
        let (name, timezone) = (name.to_string(), timezone.to_string());
        self.call(move |c| {
            let tx = c.transaction()?;
            let now = now_unix();
            tx.execute("UPDATE users SET status = 'active', updated_at = ?1 WHERE status = 'owner' AND chat_id != ?2", params![now, chat_id])?;
            tx.execute(
                "INSERT INTO users (chat_id, display_name, status, timezone, created_at, updated_at)
                 VALUES (?1, ?2, 'owner', ?3, ?4, ?4)
                 ON CONFLICT(chat_id) DO UPDATE SET status = 'owner', display_name = ?2, updated_at = ?4",
                params![chat_id, name, timezone, now],
            )?;
            let user = tx.query_row(&format!("SELECT {COLUMNS} FROM users WHERE chat_id = ?1"), [chat_id], user_from_row)?;
            tx.commit()?;
            Ok(user)
        })
        .await
    }

    /// The user of a chat, if known.
    pub async fn user_by_chat(&self, chat_id: ChatId) -> Result<Option<User>, StoreError> {
        self.call(move |c| {
            c.prepare_cached(&format!("SELECT {COLUMNS} FROM users WHERE chat_id = ?1"))?
                .query_row([chat_id], user_from_row)
                .optional()
        })
        .await
    }

    /// A user by internal id.
    pub async fn user_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.call(move |c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM users WHERE id = ?1"),
                [id],
                user_from_row,
            )
            .optional()
        })
        .await
    }

    /// Registers a stranger's `/start` as a pending request. `None` when the chat is already
    /// known (nothing changes); else how many users arrived since `since_unix`, this one included,
    /// counted in the same transaction so concurrent requests get distinct numbers.
    pub async fn register_pending_user(
        &self,
        chat_id: ChatId,
        name: &str,
        username: Option<&str>,
        since_unix: i64,
    ) -> Result<Option<u64>, StoreError> {
        let (name, username) = (name.to_string(), username.map(str::to_string));
        self.call(move |c| {
            let tx = c.transaction()?;
            let now = now_unix();
            let inserted = tx.execute(
                "INSERT INTO users (chat_id, display_name, username, status, created_at, updated_at)
                 VALUES (?1, ?2, ?3, 'pending', ?4, ?4) ON CONFLICT(chat_id) DO NOTHING",
                params![chat_id, name, username, now],
            )?;
            let arrived: i64 = tx.query_row(
                "SELECT COUNT(*) FROM users WHERE status != 'owner' AND created_at >= ?1",
                [since_unix],
                |r| r.get(0),
            )?;
            tx.commit()?;
            Ok((inserted > 0).then(|| u64::try_from(arrived).unwrap_or(0)))
        })
        .await
    }

    /// Whether a pending user's repeated `/start` should be answered: `true` (and recorded) when
    /// their request was last acknowledged `every_secs` or longer ago. A pending row's
    /// `updated_at` is when its request was last acknowledged (nothing else changes it until the
    /// owner decides).
    pub async fn acknowledge_pending_start(
        &self,
        chat_id: ChatId,
        every_secs: i64,
    ) -> Result<bool, StoreError> {
        self.call(move |c| {
            let now = now_unix();
            let n = c.execute(
                "UPDATE users SET updated_at = ?1
                 WHERE chat_id = ?2 AND status = 'pending' AND updated_at <= ?1 - ?3",
                params![now, chat_id, every_secs],
            )?;
            Ok(n > 0)
        })
        .await
    }

    /// Sets a user's status by chat id; returns the updated user, or `None` if the chat is unknown.
    /// The owner's status cannot be changed here.
    pub async fn set_user_status(
        &self,
        chat_id: ChatId,
        status: UserStatus,
    ) -> Result<Option<User>, StoreError> {
        self.call(move |c| {
            c.execute(
                "UPDATE users SET status = ?1, updated_at = ?2 WHERE chat_id = ?3 AND status != 'owner'",
                params![status.as_str(), now_unix(), chat_id],
            )?;
            c.query_row(&format!("SELECT {COLUMNS} FROM users WHERE chat_id = ?1"), [chat_id], user_from_row)
                .optional()
        })
        .await
        .inspect(|_| self.wake_scheduler())
    }

    /// Every user, owner first, then by when they arrived (a group's account is no user).
    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        self.call(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLUMNS} FROM users WHERE id NOT IN (SELECT account_id FROM groups)
                 ORDER BY status = 'owner' DESC, created_at, id"
            ))?;
            let rows = stmt.query_map([], user_from_row)?;
            rows.collect()
        })
        .await
    }

    /// Active users and the owner (for the morning briefing and broadcasts).
    pub async fn active_users(&self) -> Result<Vec<User>, StoreError> {
        Ok(self
            .list_users()
            .await?
            .into_iter()
            .filter(User::is_active)
            .collect())
    }

    /// Sets the user's timezone.
    pub async fn set_user_timezone(&self, user_id: UserId, tz: Timezone) -> Result<(), StoreError> {
        let tz = tz.name();
        self.call(move |c| {
            c.execute(
                "UPDATE users SET timezone = ?1, updated_at = ?2 WHERE id = ?3",
                params![tz, now_unix(), user_id],
            )?;
            Ok(())
        })
        .await
        .inspect(|_| self.wake_scheduler())
    }

    /// Sets (or clears) the user's preferred LLM provider.
    pub async fn set_user_provider(
        &self,
        user_id: UserId,
        provider: Option<&str>,
    ) -> Result<(), StoreError> {
        let provider = provider.map(str::to_string);
        self.call(move |c| {
            c.execute(
                "UPDATE users SET llm_provider = ?1, updated_at = ?2 WHERE id = ?3",
                params![provider, now_unix(), user_id],
            )?;
            Ok(())
        })
        .await
    }

    /// Starts a fresh conversation: the turns so far stay stored but leave the context window.
    pub async fn reset_context(&self, user_id: UserId) -> Result<(), StoreError> {
        self.call(move |c| {
            c.execute(
                "UPDATE users SET updated_at = ?1, context_since =
                    (SELECT COALESCE(MAX(id), 0) FROM chat_history WHERE user_id = ?2) WHERE id = ?2",
                params![now_unix(), user_id],
            )?;
            Ok(())
        })
        .await
    }
}
