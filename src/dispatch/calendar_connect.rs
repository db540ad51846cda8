//! `/calendar connect caldav <url> <username> <app-password>` holds a password, so it never
//! takes the tool path (which logs arguments in `tool_logs`) and is never kept: the Telegram
//! layer deletes the message from the chat before it is handled, and here the stored update's
//! text is replaced before the credentials are checked and, if they work, stored sealed.

use crate::calendar::{holds_password, parse_connect};
use crate::message::Reply;
use crate::services::Services;
use crate::store::StoreError;
use crate::users::User;

/// What the stored update keeps instead of the connect line.
pub const FORGOTTEN_CONNECT: &str = "(a /calendar connect message with a password, removed)";

/// The reply when `text` is a connect line; `None` for any other text.
pub async fn answer(
    services: &Services,
    user: &User,
    update_id: Option<i64>,
    text: &str,
) -> Result<Option<Reply>, StoreError> {
    if !holds_password(text) {
        return Ok(None);
    }
    if let Some(update_id) = update_id {
        services
            .store
            .replace_update_text(update_id, FORGOTTEN_CONNECT)
            .await?;
    }
    let words = text
        .split_whitespace()
        .skip(2)
        .collect::<Vec<_>>()
        .join(" ");
    let reply = match parse_connect(&words) {
        Err(usage) => usage,
        Ok(request) => match services.calendar.connect_caldav(user, request).await {
            Ok(name) => format!(
                "Connected your calendar “{name}”. I deleted your message with the password. \
                 Try /calendar, /calendar week, or just tell me about an appointment."
            ),
            Err(e) => {
                tracing::info!(user_id = %user.id, error = %e, "calendar connect failed");
                format!("{e} Nothing was stored. (I deleted your message with the password.)")
            }
        },
    };
    Ok(Some(Reply::plain(user.chat_id, reply)))
}
