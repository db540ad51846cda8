//! The two identities the core passes around: a Telegram chat ([`ChatId`]) and a user row
//! ([`UserId`], `users.id`). Distinct types so the compiler, not a reviewer, rejects a swapped id:
//!
//! ```compile_fail,E0308
//! use minicrew::ids::{ChatId, UserId};
//! fn set_status(_chat: ChatId) {}
//! set_status(UserId(7));
//! ```
//!
//! The store's own methods: a user's status is set by chat, their timezone by user id.
//!
//! ```compile_fail,E0308
//! # use minicrew::{store::Store, users::{User, UserStatus}};
//! async fn swapped(store: &Store, user: &User) {
//!     let _ = store.set_user_status(user.id, UserStatus::Active).await;
//!     let _ = store.set_user_timezone(user.chat_id, user.timezone).await;
//! }
//! ```
//!
//! Raw `i64`s become ids only at the edges: the Telegram conversion and sender, the CLI, the
//! terminal channel, the HTTP callbacks, and rows read from SQLite.

use std::fmt;

use rusqlite::types::{FromSql, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::{Deserialize, Serialize};

/// A Telegram chat id: a user's private chat (the same number as their Telegram user id) or a
/// group (negative).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChatId(pub i64);

/// A user's internal id (`users.id`); every user-owned row carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

impl ChatId {
    /// The private chat of a Telegram user: Telegram gives it the same number as the user's id.
    /// `None` when the id does not fit a chat id (over `i64::MAX` it would wrap to a negative
    /// id, which names a group). This is the one place that equates the two.
    pub fn private_chat_of(telegram_user_id: u64) -> Option<Self> {
        i64::try_from(telegram_user_id).ok().map(Self)
    }
}

macro_rules! sql_and_display {
    ($t:ident) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl ToSql for $t {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                self.0.to_sql()
            }
        }

        impl FromSql for $t {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                i64::column_result(value).map(Self)
            }
        }
    };
}

sql_and_display!(ChatId);
sql_and_display!(UserId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_as_their_number_and_serialize_transparently() {
        assert_eq!(ChatId(-100).to_string(), "-100");
        assert_eq!(serde_json::to_string(&UserId(7)).ok().as_deref(), Some("7"));
    }

    #[test]
    fn a_user_id_over_i64_max_has_no_private_chat() {
        assert_eq!(ChatId::private_chat_of(42), Some(ChatId(42)));
        assert_eq!(ChatId::private_chat_of(u64::MAX), None);
    }
}
