//! The `settings` table: small durable facts about the process, e.g. the hash of the command
//! menu last sent to Telegram, so `setMyCommands` runs only when the menu changed.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

impl Store {
    /// The value stored under `key`.
    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let key = key.to_string();
        self.call(move |c| {
            c.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
        })
        .await
    }

    /// Stores `value` under `key`.
    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let (key, value) = (key.to_string(), value.to_string());
        self.call(move |c| {
            c.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2",
                params![key, value],
            )?;
            Ok(())
        })
        .await
    }
}
