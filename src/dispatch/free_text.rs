//! Free text: saved to the user's history first (so nothing is lost), then answered by the LLM
//! router. Until a provider is configured, the reply says which keys to set.

use crate::message::Reply;
use crate::services::Services;
use crate::store::{NewTurn, Speaker, StoreError};
use crate::users::User;

/// What a user sees when no LLM provider is configured.
pub const NO_PROVIDER_REPLY: &str = "No LLM provider is configured yet, so I can only run /commands (see /help). \
To chat, set ANTHROPIC_API_KEY, GEMINI_API_KEY or OPENAI_API_KEY (or OPENAI_BASE_URL for a local \
OpenAI-compatible server) in .env and restart.";

/// Saves the message and answers it.
pub async fn answer(
    services: &Services,
    user: &User,
    text: &str,
) -> Result<Vec<Reply>, StoreError> {
    services
        .store
        .add_turn(
            user.id,
            Speaker::User,
            NewTurn {
                content: text.to_string(),
                ..NewTurn::default()
            },
        )
        .await?;
    Ok(vec![Reply::plain(user.chat_id, NO_PROVIDER_REPLY)])
}
