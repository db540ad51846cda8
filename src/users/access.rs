//! What `/start` does for a stranger (which tools a user may run is `tools::effect::may_run`).

use crate::markup::escape_markdown;
use crate::message::{Button, Reply};
use crate::store::{Store, StoreError};

use super::UserStatus;
use crate::ids::ChatId;

/// How often a pending user's repeated `/start` is answered; repeats in between get no reply.
pub const START_REPLY_EVERY_SECS: i64 = 3600;
/// New access requests per hour the owner is told about; later ones wait in `/users`.
pub const OWNER_NOTICES_PER_HOUR: u64 = 10;

/// Handles `/start` from any chat: greets known users, registers strangers as pending and asks
/// the owner with Approve / Deny buttons. Disabled users get no reply. What strangers can make the
/// bot send is bounded: a pending user's repeated `/start` is answered once per
/// [`START_REPLY_EVERY_SECS`], and the owner hears of at most [`OWNER_NOTICES_PER_HOUR`] new
/// requests an hour, then once that more are waiting; every request is stored either way.
pub async fn register_start(
    store: &Store,
    owner_chat_id: ChatId,
    chat_id: ChatId,
    name: &str,
    username: Option<&str>,
) -> Result<Vec<Reply>, StoreError> {
    if let Some(user) = store.user_by_chat(chat_id).await? {
        return Ok(match user.status {
            UserStatus::Owner | UserStatus::Active => vec![Reply::plain(
                chat_id,
                format!(
                    "Hi {}! I'm ready. Send /help to see what I can do.",
                    user.display_name
                ),
            )],
            UserStatus::Pending => {
                if store
                    .acknowledge_pending_start(chat_id, START_REPLY_EVERY_SECS)
                    .await?
                {
                    vec![Reply::plain(
                        chat_id,
                        "Your request is still waiting for the owner's approval.",
                    )]
                } else {
                    Vec::new()
                }
            }
            UserStatus::Disabled => Vec::new(),
        });
    }
    let hour_ago = crate::store::now_unix() - 3600;
    let Some(arrived) = store
        .register_pending_user(chat_id, name, username, hour_ago)
        .await?
    else {
        return Ok(Vec::new()); // registered a moment ago by the same chat's other update
    };
    let mut replies = vec![Reply::plain(
        chat_id,
        "Hi! I've asked the owner to approve you; I'll tell you when they do.",
    )];
    if arrived <= OWNER_NOTICES_PER_HOUR {
        replies.push(ask_owner(owner_chat_id, chat_id, name, username));
    } else if arrived == OWNER_NOTICES_PER_HOUR + 1 {
        replies.push(Reply::plain(
            owner_chat_id,
            format!(
                "More than {OWNER_NOTICES_PER_HOUR} people asked for access in the last hour, so \
                 I'll stop announcing new requests for now. See /users for every pending request."
            ),
        ));
    }
    Ok(replies)
}

/// The owner's Approve / Deny message for a new request.
fn ask_owner(owner_chat_id: ChatId, chat_id: ChatId, name: &str, username: Option<&str>) -> Reply {
    let who = match username {
        Some(u) => format!("{} (@{})", escape_markdown(name), escape_markdown(u)),
        None => escape_markdown(name),
    };
    Reply::markdown(
        owner_chat_id,
        format!("**{who}** wants to use the bot (chat id `{chat_id}`)."),
    )
    .with_buttons(vec![vec![
        Button::new("Approve", format!("/approve {chat_id}")),
        Button::new("Deny", format!("/disable {chat_id}")),
    ]])
}
