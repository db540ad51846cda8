//! A pasted Gmail redirect address (polling mode's `/authgmail`) completes the connection
//! instead of going to the assistant. It holds a one-time `state` and code, so it is never kept:
//! not in the conversation, and the stored update's text is replaced once it is handled.

use crate::gmail::looks_like_pasted_redirect;
use crate::message::Reply;
use crate::services::Services;
use crate::store::StoreError;
use crate::users::User;

/// What the stored update keeps instead of the pasted address.
pub const FORGOTTEN_PASTE: &str = "(a pasted Gmail sign-in address, removed after use)";

/// The reply when `text` is a pasted redirect address; `None` for any other text.
pub async fn answer(
    services: &Services,
    user: &User,
    update_id: Option<i64>,
    text: &str,
) -> Result<Option<Reply>, StoreError> {
    if !looks_like_pasted_redirect(text) {
        return Ok(None);
    }
    let reply = match services
        .gmail
        .connect
        .complete_from_pasted_url(user.id, text)
        .await
    {
        Ok(connected) => Reply::plain(user.chat_id, connected.chat_message()),
        Err(e) => {
            tracing::info!(user_id = %user.id, error = %e, "pasted Gmail redirect rejected");
            Reply::plain(user.chat_id, e.to_string())
        }
    };
    if let Some(update_id) = update_id {
        services
            .store
            .replace_update_text(update_id, FORGOTTEN_PASTE)
            .await?;
    }
    Ok(Some(reply))
}
