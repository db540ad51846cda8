//! The bot joining and leaving groups (Telegram's `my_chat_member`), channel-neutral: the owner
//! adding the bot approves the group at once; anyone else adding it asks the owner with
//! Approve / Deny buttons naming the group, its size and who added it; a group the owner said
//! no to (or any group under `GROUPS=off`) is left. Owner decisions are `/approve <group id>`
//! and `/disable <group id>`, which end in [`approve`] and [`disable`].

use super::{AddedBy, BotIdentity, Group, GroupState, GroupsMode};
use crate::ids::ChatId;
use crate::markup::escape_markdown;
use crate::message::{Button, Reply};
use crate::store::{Store, StoreError};

/// Approval requests for groups the owner hears of per hour; later ones wait in `/groups`.
pub const OWNER_GROUP_NOTICES_PER_HOUR: u64 = 10;

/// The bot's membership of a group changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipEvent {
    /// The group's chat id.
    pub chat_id: ChatId,
    /// Its title.
    pub title: String,
    /// The private chat of whoever made the change: its number is their Telegram user id (see
    /// [`ChatId::private_chat_of`]); `None` when Telegram's id does not fit a chat id.
    pub by_id: Option<ChatId>,
    /// Their display name.
    pub by_name: String,
    /// Their @username, if any.
    pub by_username: Option<String>,
    /// `true`: the bot was added; `false`: it was removed or left.
    pub joined: bool,
    /// How many members the group has, when Telegram said.
    pub member_count: Option<u32>,
}

/// What joining and leaving need to know.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// The owner's chat id (their Telegram user id).
    pub owner_chat_id: ChatId,
    /// `GROUPS`.
    pub mode: GroupsMode,
    /// Timezone of the group's account (the default timezone).
    pub timezone: &'a str,
    /// The bot's identity, for the greeting.
    pub me: Option<&'a BotIdentity>,
}

/// Records a membership change and returns the messages it causes (a greeting in a group the
/// owner added the bot to, or the owner's Approve / Deny request).
pub async fn on_membership(
    store: &Store,
    rules: Rules<'_>,
    event: &MembershipEvent,
) -> Result<Vec<Reply>, StoreError> {
    if !event.joined {
        if let Some(group) = store.group_gone(event.chat_id).await? {
            tracing::info!(chat_id = %group.chat_id, state = %group.state, "the bot is out of a group");
        }
        return Ok(Vec::new());
    }
    let added_by = event.by_id.map(|by| AddedBy {
        chat_id: by,
        name: event.by_name.clone(),
        is_owner: by == rules.owner_chat_id,
    });
    let group = store
        .group_joined(event.chat_id, &event.title, added_by, rules.timezone)
        .await?;
    tracing::info!(chat_id = %group.chat_id, state = %group.state, "the bot was added to a group");
    if rules.mode == GroupsMode::Off {
        store
            .set_group_state(event.chat_id, GroupState::Disabled, None)
            .await?;
        return Ok(Vec::new());
    }
    Ok(match group.state {
        GroupState::Active => vec![Reply::plain(group.chat_id, greeting(rules.me))],
        GroupState::Pending => ask_owner_bounded(store, rules, event).await?,
        GroupState::Disabled | GroupState::Left => Vec::new(),
    })
}

/// A group the bot has no record of addressed it (it was added before groups were kept apart
/// from users, or its join was never delivered): the group is recorded as pending and the
/// owner asked, as if someone unknown had just added the bot.
pub async fn on_unknown_group(
    store: &Store,
    rules: Rules<'_>,
    chat_id: ChatId,
    title: &str,
) -> Result<Vec<Reply>, StoreError> {
    store
        .group_joined(chat_id, title, None, rules.timezone)
        .await?;
    if rules.mode == GroupsMode::Off {
        store
            .set_group_state(chat_id, GroupState::Disabled, None)
            .await?;
        return Ok(Vec::new());
    }
    let event = MembershipEvent {
        chat_id,
        title: title.to_string(),
        by_id: None,
        by_name: "Someone (I did not see who)".into(),
        by_username: None,
        joined: true,
        member_count: None,
    };
    ask_owner_bounded(store, rules, &event).await
}

/// The owner's request, unless strangers already caused [`OWNER_GROUP_NOTICES_PER_HOUR`] this
/// hour (the group then waits in `/groups`).
async fn ask_owner_bounded(
    store: &Store,
    rules: Rules<'_>,
    event: &MembershipEvent,
) -> Result<Vec<Reply>, StoreError> {
    let hour_ago = crate::store::now_unix() - 3600;
    Ok(
        if store.groups_pending_since(hour_ago).await? <= OWNER_GROUP_NOTICES_PER_HOUR {
            vec![ask_owner(rules.owner_chat_id, event)]
        } else {
            Vec::new()
        },
    )
}

/// What the bot says in a group once it may talk there.
fn greeting(me: Option<&BotIdentity>) -> String {
    let address = me.map_or_else(
        || "Mention me".to_string(),
        |m| format!("Mention @{}", m.username),
    );
    format!(
        "Hi everyone! {address} or reply to one of my messages and I'll answer here; I ignore \
         everything else. Personal things (email, notes, reminders) stay in private chats."
    )
}

/// The owner's Approve / Deny message for a group someone else added the bot to.
fn ask_owner(owner_chat_id: ChatId, event: &MembershipEvent) -> Reply {
    let who = match &event.by_username {
        Some(u) => format!(
            "{} (@{})",
            escape_markdown(&event.by_name),
            escape_markdown(u)
        ),
        None => escape_markdown(&event.by_name),
    };
    let size = event
        .member_count
        .map_or_else(String::new, |n| format!("{n} members, "));
    let chat = event.chat_id;
    Reply::markdown(
        owner_chat_id,
        format!(
            "**{who}** added me to the group **{}** ({size}chat id `{chat}`). \
             If you approve it, anyone in it can talk to me there by mentioning me; none of them \
             becomes a user. Deny makes me leave.",
            escape_markdown(&event.title)
        ),
    )
    .with_buttons(vec![vec![
        Button::new("Approve", format!("/approve {chat}")),
        Button::new("Deny", format!("/disable {chat}")),
    ]])
}

/// `/approve <group id>`: the group becomes active; its members do not become users. Returns
/// the owner's answer and the group's notice.
pub async fn approve(
    store: &Store,
    chat_id: ChatId,
    owner_chat_id: ChatId,
) -> Result<Result<(String, Option<Reply>), String>, StoreError> {
    let Some(group) = store.group_by_chat(chat_id).await? else {
        return Ok(Err(format!(
            "No group with chat id {chat_id}. See /groups."
        )));
    };
    let title = &group.title;
    match (group.state, group.member) {
        (GroupState::Active, _) => Ok(Ok((format!("{title} is already approved."), None))),
        (_, false) => Ok(Err(format!(
            "I'm no longer in {title}; add me to it again to use it."
        ))),
        (GroupState::Pending | GroupState::Disabled | GroupState::Left, true) => {
            store
                .set_group_state(chat_id, GroupState::Active, Some(owner_chat_id))
                .await?;
            let notice = Reply::plain(
                chat_id,
                "The owner approved this group. Mention me or reply to one of my messages and \
                 I'll answer here.",
            );
            Ok(Ok((
                format!(
                    "Approved the group {title}. Its members are not users: they get nothing in private."
                ),
                Some(notice),
            )))
        }
    }
}

/// `/disable <group id>` (also Deny): the group is disabled and the bot leaves it.
pub async fn disable(store: &Store, chat_id: ChatId) -> Result<Result<String, String>, StoreError> {
    let Some(group) = store.group_by_chat(chat_id).await? else {
        return Ok(Err(format!(
            "No group with chat id {chat_id}. See /groups."
        )));
    };
    if group.state == GroupState::Disabled {
        return Ok(Ok(format!("{} is already disabled.", group.title)));
    }
    store
        .set_group_state(chat_id, GroupState::Disabled, None)
        .await?;
    Ok(Ok(format!(
        "Disabled the group {}{}.",
        group.title,
        if group.member { "; I'm leaving it" } else { "" }
    )))
}

/// One line of `/groups` for a group.
pub fn describe(group: &Group, tokens_today: u64, turns_today: u64) -> String {
    let by = group
        .added_by_name
        .as_deref()
        .map_or_else(String::new, |n| {
            format!(", added by {}", escape_markdown(n))
        });
    format!(
        "**{}** `{}`: {}{}; today {} tokens, {} messages",
        escape_markdown(&group.title),
        group.chat_id,
        group.state,
        by,
        tokens_today,
        turns_today
    )
}
