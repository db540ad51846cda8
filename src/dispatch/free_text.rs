//! Free text: saved to the user's history first (so nothing is lost), then answered by the LLM
//! router with the user's recent memory and every tool they may use.

use chrono::Utc;

use super::llm_tools::{RegistryRunner, TurnInput};
use crate::llm::{ChatRequest, Image, Role, RouterError, Tier};
use crate::message::Reply;
use crate::services::Services;
use crate::store::{NewTurn, Speaker, StepKey, StoreError};
use crate::telegram::format::markdown_to_html;
use crate::tools::ChatKind;
use crate::users::User;

/// What a user sees when no LLM provider is configured.
pub const NO_PROVIDER_REPLY: &str = "No LLM provider is configured yet, so I can only run /commands (see /help). \
To chat, set ANTHROPIC_API_KEY, GEMINI_API_KEY or OPENAI_API_KEY (or OPENAI_BASE_URL for a local \
OpenAI-compatible server) in .env and restart.";

/// A user's message as the model sees it and as history keeps it (they differ for photos,
/// documents and forwarded messages, whose content is not kept in history).
#[derive(Debug, Clone, Default)]
pub struct UserMessage {
    /// What history stores (a photo becomes "[photo: caption]", never its bytes).
    pub stored: String,
    /// What the model is sent.
    pub message: String,
    /// Images sent with it.
    pub images: Vec<Image>,
    /// It carries outside content (a photo, a document, a forwarded message): the turn is
    /// untrusted from the start.
    pub untrusted: bool,
}

/// Saves the message and answers it. With the `update_id` it answers, every completed step is
/// journaled (the user's turn, each model round, each tool call, the answer's turn), so a replay
/// after a crash resumes instead of storing, asking or running anything twice.
pub async fn answer(
    services: &Services,
    user: &User,
    update_id: Option<i64>,
    text: &str,
) -> Result<Vec<Reply>, StoreError> {
    let input = UserMessage {
        stored: text.to_string(),
        message: text.to_string(),
        ..UserMessage::default()
    };
    answer_with(services, user, update_id, input).await
}

/// [`answer`] for a message whose stored form, images or trust differ from typed text.
pub async fn answer_with(
    services: &Services,
    user: &User,
    update_id: Option<i64>,
    input: UserMessage,
) -> Result<Vec<Reply>, StoreError> {
    let store = &services.store;
    let turn = NewTurn {
        content: input.stored.clone(),
        ..NewTurn::default()
    };
    let step = |name: &str| update_id.map(|id| StepKey::new(id, name));
    let turn_id = store
        .add_turn_once(step("user_turn"), user.id, Speaker::User, turn)
        .await?;
    if services.llm.configured().is_empty() {
        return Ok(vec![Reply::plain(user.chat_id, NO_PROVIDER_REPLY)]);
    }
    let config = &services.config.llm;
    let history = store
        .recent_turns(
            user.id,
            user.context_since,
            config.max_context_messages,
            Some(turn_id),
        )
        .await?
        .into_iter()
        .map(|t| {
            (
                if t.speaker == Speaker::User {
                    Role::User
                } else {
                    Role::Assistant
                },
                t.content,
            )
        })
        .collect();
    let request = ChatRequest {
        user_id: user.id,
        user_name: user.display_name.clone(),
        timezone: user.timezone,
        now: Utc::now(),
        preferred: user.llm_provider.or(config.default),
        history,
        message: input.message.clone(),
        tools: services.tools.llm_specs(user),
        tier: Tier::Cheap,
        allow_tools: true,
        budget: user.llm_budget(services.config.user_daily_token_limit),
        journal: update_id,
    };
    let running = services.cancellations.start(user.chat_id);
    let turn_input = TurnInput {
        chat: ChatKind::Private,
        message: &input.message,
        untrusted: input.untrusted,
        journal: update_id,
    };
    let runner = RegistryRunner::new(services, user, turn_input);
    let result = services
        .llm
        .reply_with_images(request, input.images, &runner, running.token())
        .await;
    drop(running);
    let mut replies = match result {
        Ok(reply) => {
            let turn = NewTurn {
                content: reply.text.clone(),
                tool_used: (!reply.tools_used.is_empty()).then(|| reply.tools_used.join(",")),
                llm_model: Some(reply.model.clone()),
                token_used: i64::try_from(reply.input_tokens.saturating_add(reply.output_tokens))
                    .unwrap_or(i64::MAX),
            };
            store
                .add_turn_once(step("assistant_turn"), user.id, Speaker::Assistant, turn)
                .await?;
            vec![Reply::html(user.chat_id, markdown_to_html(&reply.text))]
        }
        Err(RouterError::Cancelled) => vec![Reply::plain(
            user.chat_id,
            "Stopped. Your message is saved.",
        )],
        Err(e) => {
            tracing::warn!(error = %e, "no LLM answer");
            vec![Reply::plain(user.chat_id, e.user_message())]
        }
    };
    replies.extend(runner.into_extra_replies());
    Ok(replies)
}
