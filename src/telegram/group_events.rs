//! The Telegram side of group chats: the bot's identity from `getMe`, `my_chat_member` updates
//! (with `getChatMemberCount` for the owner's request), a group becoming a supergroup
//! (`migrate_to_chat_id`), and leaving the groups the owner disabled (`leaveChat`). The rules
//! themselves are in `crate::groups`.

use teloxide::prelude::*;
use teloxide::types::{ChatMemberUpdated, Me, Update, UpdateKind};

use super::convert::display_name;
use super::describe_error;
use crate::groups::membership::{MembershipEvent, Rules, on_membership};
use crate::groups::{BotIdentity, BotIdentityCell};
use crate::ids::ChatId;
use crate::message::Reply;
use crate::services::Services;
use crate::store::{Store, StoreError};

/// Records the bot's identity from a `getMe` answer.
pub fn remember_identity(cell: &BotIdentityCell, me: &Me) {
    if let Ok(id) = i64::try_from(me.id.0) {
        cell.set(BotIdentity::new(id, me.username()));
    }
}

/// Makes sure the bot's identity is known (asks `getMe` if it could not at start).
pub async fn ensure_identity(bot: &Bot, cell: &BotIdentityCell) {
    if cell.get().is_some() {
        return;
    }
    match bot.get_me().await {
        Ok(me) => remember_identity(cell, &me),
        Err(e) => tracing::warn!(error = %describe_error(&e), "cannot learn the bot's username"),
    }
}

/// Handles the group updates that are not messages to answer: the bot added to or removed from
/// a group, a group becoming a supergroup. `None` for any other update.
pub async fn handle(
    bot: &Bot,
    services: &Services,
    update: &Update,
) -> Result<Option<Vec<Reply>>, StoreError> {
    match &update.kind {
        UpdateKind::MyChatMember(change) => {
            let Some(event) = membership_event(bot, change).await else {
                return Ok(Some(Vec::new()));
            };
            ensure_identity(bot, &services.bot_identity).await;
            let config = &services.config;
            let timezone = config.timezone.to_string();
            let rules = Rules {
                owner_chat_id: config.owner_chat_id,
                mode: config.groups,
                timezone: &timezone,
                me: services.bot_identity.get(),
            };
            on_membership(&services.store, rules, &event)
                .await
                .map(Some)
        }
        UpdateKind::Message(msg) => {
            let (old, new) = match (msg.migrate_to_chat_id(), msg.migrate_from_chat_id()) {
                (Some(to), _) => (ChatId(msg.chat.id.0), ChatId(to.0)),
                (None, Some(from)) => (ChatId(from.0), ChatId(msg.chat.id.0)),
                (None, None) => return Ok(None),
            };
            if services.store.migrate_group(old, new).await? {
                tracing::info!(
                    %old,
                    %new,
                    "a group became a supergroup; its conversation moved"
                );
            }
            Ok(Some(Vec::new()))
        }
        _ => Ok(None),
    }
}

/// The bot's own membership change in a group, with the group's size when it joined; `None`
/// for private chats, channels, and changes that are neither a join nor a leave (a promotion).
async fn membership_event(bot: &Bot, change: &ChatMemberUpdated) -> Option<MembershipEvent> {
    let chat = &change.chat;
    if !(chat.is_group() || chat.is_supergroup()) {
        return None;
    }
    let (was, is) = (
        change.old_chat_member.kind.is_present(),
        change.new_chat_member.kind.is_present(),
    );
    if was == is {
        return None;
    }
    let member_count = if is {
        match bot.get_chat_member_count(chat.id).await {
            Ok(n) => Some(n),
            Err(e) => {
                tracing::debug!(error = %describe_error(&e), "cannot count the group's members");
                None
            }
        }
    } else {
        None
    };
    Some(MembershipEvent {
        chat_id: ChatId(chat.id.0),
        title: chat.title().unwrap_or("a group").to_string(),
        by_id: ChatId::private_chat_of(change.from.id.0),
        by_name: display_name(&change.from),
        by_username: change.from.username.clone(),
        joined: is,
        member_count,
    })
}

/// Leaves `chats`, the groups the owner disabled that the bot is still in (read when the last
/// update was closed). A group Telegram says the bot is no longer in counts as left; other
/// failures are retried after the next update.
pub async fn leave_groups(bot: &Bot, store: &Store, chats: Vec<ChatId>) {
    for chat in chats {
        let left = match bot.leave_chat(chat).await {
            Ok(_) => true,
            Err(e) if super::is_permanent(&e) => {
                tracing::info!(chat_id = %chat, error = %describe_error(&e), "the group is gone already");
                true
            }
            Err(e) => {
                tracing::warn!(chat_id = %chat, error = %describe_error(&e), "could not leave a group; will retry");
                false
            }
        };
        if left {
            tracing::info!(chat_id = %chat, "left a disabled group");
            if let Err(e) = store.group_gone(chat).await {
                tracing::warn!(error = %e, "could not record leaving a group");
            }
        }
    }
}
