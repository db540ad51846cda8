//! The `calendar_accounts` table: one calendar account per user (CalDAV address, user name and
//! sealed app password; or Google, whose token lives with Gmail's). Every query filters by
//! `user_id`.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, now_unix};
use crate::ids::UserId;

/// A stored calendar account. `Debug` never shows the sealed secret.
#[derive(Clone, PartialEq, Eq)]
pub struct CalendarAccountRow {
    /// The user it belongs to.
    pub user_id: UserId,
    /// `caldav` or `google`.
    pub provider: String,
    /// The CalDAV base URL (empty for Google).
    pub url: String,
    /// The CalDAV user name (empty for Google).
    pub username: String,
    /// The app password sealed with the secret key (none for Google).
    pub secret: Option<Vec<u8>>,
}

impl std::fmt::Debug for CalendarAccountRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CalendarAccountRow")
            .field("user_id", &self.user_id)
            .field("provider", &self.provider)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// `user_id`'s calendar account, if they connected one.
    pub async fn calendar_account(
        &self,
        user_id: UserId,
    ) -> Result<Option<CalendarAccountRow>, StoreError> {
        self.call(move |c| {
            c.query_row(
                "SELECT user_id, provider, url, username, secret FROM calendar_accounts
                 WHERE user_id = ?1",
                params![user_id],
                |r| {
                    Ok(CalendarAccountRow {
                        user_id: r.get(0)?,
                        provider: r.get(1)?,
                        url: r.get(2)?,
                        username: r.get(3)?,
                        secret: r.get(4)?,
                    })
                },
            )
            .optional()
        })
        .await
    }

    /// Stores `row` as its user's calendar account, replacing the one they had.
    pub async fn save_calendar_account(&self, row: CalendarAccountRow) -> Result<(), StoreError> {
        self.call(move |c| {
            c.execute(
                "INSERT INTO calendar_accounts (user_id, provider, url, username, secret, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(user_id) DO UPDATE SET provider = ?2, url = ?3, username = ?4,
                     secret = ?5, created_at = ?6",
                params![row.user_id, row.provider, row.url, row.username, row.secret, now_unix()],
            )?;
            Ok(())
        })
        .await
        .inspect(|_| self.wake_scheduler())
    }

    /// Deletes `user_id`'s calendar account; `false` when there was none.
    pub async fn delete_calendar_account(&self, user_id: UserId) -> Result<bool, StoreError> {
        self.call(move |c| {
            let n = c.execute(
                "DELETE FROM calendar_accounts WHERE user_id = ?1",
                params![user_id],
            )?;
            Ok(n > 0)
        })
        .await
        .inspect(|_| self.wake_scheduler())
    }
}
