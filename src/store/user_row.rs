//! A user of the bot as stored in `users`: the row type and its status. It lives with the store
//! that reads and writes it; the access rules that use it live in the users module, which
//! re-exports it.

use std::fmt;
use std::str::FromStr;

use crate::config::ProviderKind;
use crate::ids::{ChatId, UserId};
use crate::timezone::Timezone;

/// Where a user stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    /// The bot's owner (from `OWNER_TELEGRAM_CHAT_ID`): every command, no limits.
    Owner,
    /// Approved by the owner.
    Active,
    /// Sent `/start`, waiting for the owner.
    Pending,
    /// Denied or switched off by the owner; gets no replies.
    Disabled,
}

impl UserStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Active => "active",
            Self::Pending => "pending",
            Self::Disabled => "disabled",
        }
    }
}

impl fmt::Display for UserStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for UserStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "owner" => Ok(Self::Owner),
            "active" => Ok(Self::Active),
            "pending" => Ok(Self::Pending),
            "disabled" => Ok(Self::Disabled),
            other => Err(format!("unknown user status '{other}'")),
        }
    }
}

/// A user of the bot, as stored in `users`.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// Internal id (`users.id`); every user-owned row carries it.
    pub id: UserId,
    /// Telegram chat id of their private chat with the bot.
    pub chat_id: ChatId,
    /// Name used in replies and the system prompt.
    pub display_name: String,
    /// Telegram @username, if any.
    pub username: Option<String>,
    /// Owner, active, pending or disabled.
    pub status: UserStatus,
    /// The user's timezone (IANA).
    pub timezone: Timezone,
    /// The LLM provider this user prefers, if they chose one.
    pub llm_provider: Option<ProviderKind>,
    /// Chat history turns with an id up to this one are out of the LLM context (`/new`).
    pub context_since: i64,
}

impl User {
    /// Owner or approved user: may use the bot.
    pub fn is_active(&self) -> bool {
        matches!(self.status, UserStatus::Owner | UserStatus::Active)
    }

    /// The owner.
    pub fn is_owner(&self) -> bool {
        self.status == UserStatus::Owner
    }
}
