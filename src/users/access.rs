//! What `/start` does for a stranger (which tools a user may run is `tools::effect::may_run`).

use crate::message::{Button, Reply};
use crate::store::{Store, StoreError};
use crate::telegram::format::escape_html;

use super::UserStatus;

/// Handles `/start` from any chat: greets known users, registers strangers as pending and asks
/// the owner with Approve / Deny buttons. Disabled users get no reply.
pub async fn register_start(
    store: &Store,
    owner_chat_id: i64,
    chat_id: i64,
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
            UserStatus::Pending => vec![Reply::plain(
                chat_id,
                "Your request is still waiting for the owner's approval.",
            )],
            UserStatus::Disabled => Vec::new(),
        });
    }
    store.insert_pending_user(chat_id, name, username).await?;
    let who = match username {
        Some(u) => format!("{} (@{})", escape_html(name), escape_html(u)),
        None => escape_html(name),
    };
    let ask_owner = Reply::html(
        owner_chat_id,
        format!("<b>{who}</b> wants to use the bot (chat id <code>{chat_id}</code>)."),
    )
    .with_buttons(vec![vec![
        Button::new("Approve", format!("/approve {chat_id}")),
        Button::new("Deny", format!("/disable {chat_id}")),
    ]]);
    Ok(vec![
        Reply::plain(
            chat_id,
            "Hi! I've asked the owner to approve you; I'll tell you when they do.",
        ),
        ask_owner,
    ])
}
