//! Group chats (ARCHITECTURE.md §10): a group is not a user. The owner approves a group (adding
//! the bot yourself approves it); in an active group the bot answers only messages addressed to
//! it ([`gate`]), keeps one conversation and one budget per group, and runs only tools that may
//! run anywhere. Joining and leaving are in [`membership`]; the message path is
//! `dispatch::group`; the table is `store::groups`.

pub mod gate;
pub mod membership;

use std::sync::{Arc, OnceLock};

pub use crate::config::GroupsMode;
pub use crate::store::{AddedBy, Group, GroupState, GroupUsage};

/// Who the bot is on Telegram, from `getMe`: how messages address it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotIdentity {
    /// The bot's user id (for `text_mention` entities and replies to its messages).
    pub id: i64,
    /// Its `@username`, without the `@`, lowercase.
    pub username: String,
}

impl BotIdentity {
    /// The identity of a bot with this id and username (any case, with or without `@`).
    pub fn new(id: i64, username: &str) -> Self {
        Self {
            id,
            username: username.trim_start_matches('@').to_ascii_lowercase(),
        }
    }
}

/// The bot's identity, learnt once from `getMe` (at start, or at the first group message if
/// Telegram could not be reached then). Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct BotIdentityCell(Arc<OnceLock<BotIdentity>>);

impl BotIdentityCell {
    /// The identity, once known.
    pub fn get(&self) -> Option<&BotIdentity> {
        self.0.get()
    }

    /// Records the identity (the first one recorded stays).
    pub fn set(&self, identity: BotIdentity) {
        let _ = self.0.set(identity);
    }
}
