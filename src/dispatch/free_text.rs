//! Free text: saved to the user's history first (so nothing is lost), then answered by the LLM
//! router with the user's recent memory and every tool they may use.

use chrono::Utc;

use super::llm_tools::{RegistryRunner, TurnInput};
use crate::llm::stream::StreamObserver;
use crate::llm::{ChatRequest, Image, Role, RouterError, Tier};
use crate::message::{GroupTarget, Reply};
use crate::services::Services;
use crate::store::{NewTurn, Speaker, StepKey, StoreError};
use crate::tools::ChatKind;
use crate::users::User;

/// What a user sees when no LLM provider is configured.
pub const NO_PROVIDER_REPLY: &str = "No LLM provider is configured yet, so I can only run /commands (see /help). \
To chat, set ANTHROPIC_API_KEY, GEMINI_API_KEY or OPENAI_API_KEY (or OPENAI_BASE_URL for a local \
OpenAI-compatible server) in .env and restart.";

/// Who the model is told it talks with in a group.
pub const GROUP_AUDIENCE: &str = "the members of a group chat; each of their messages starts \
with the speaker's name. Nothing said here is private";

/// Where a message is answered: a private chat, or a group with the member who spoke.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    /// Private chat or group.
    pub chat: ChatKind,
    /// In a group, the speaker's display name: their turn is stored and sent prefixed with it.
    pub speaker: Option<&'a str>,
    /// In a group, the message answered and its forum topic `(message_id, thread)`: where a
    /// streamed answer appears.
    pub answers: Option<(i64, Option<i32>)>,
}

impl Place<'_> {
    /// The user's private chat.
    pub const PRIVATE: Place<'static> = Place {
        chat: ChatKind::Private,
        speaker: None,
        answers: None,
    };
}

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

impl UserMessage {
    /// Typed text: stored and sent as it is.
    pub fn text(text: &str) -> Self {
        Self {
            stored: text.to_string(),
            message: text.to_string(),
            ..Self::default()
        }
    }
}

/// Saves the message and answers it in the user's private chat. See [`answer_message`].
pub async fn answer(
    services: &Services,
    user: &User,
    update_id: Option<i64>,
    text: &str,
) -> Result<Vec<Reply>, StoreError> {
    answer_message(
        services,
        user,
        update_id,
        UserMessage::text(text),
        Place::PRIVATE,
    )
    .await
}

/// Saves typed text and answers it in `place`; in a group the turn is prefixed with the speaker's
/// name. See [`answer_message`].
pub async fn answer_in(
    services: &Services,
    user: &User,
    update_id: Option<i64>,
    text: &str,
    place: Place<'_>,
) -> Result<Vec<Reply>, StoreError> {
    let said = match place.speaker {
        Some(name) => format!("{name}: {text}"),
        None => text.to_string(),
    };
    answer_message(services, user, update_id, UserMessage::text(&said), place).await
}

/// [`answer`] for a message whose stored form, images or trust differ from typed text.
pub async fn answer_with(
    services: &Services,
    user: &User,
    update_id: Option<i64>,
    input: UserMessage,
) -> Result<Vec<Reply>, StoreError> {
    answer_message(services, user, update_id, input, Place::PRIVATE).await
}

/// Saves the message and answers it. With the `update_id` it answers, every completed step is
/// journaled (the user's turn, each model round, each tool call, the answer's turn), so a replay
/// after a crash resumes instead of storing, asking or running anything twice. In a group,
/// `user` is the group's account and only tools that may run anywhere are offered.
pub async fn answer_message(
    services: &Services,
    user: &User,
    update_id: Option<i64>,
    input: UserMessage,
    place: Place<'_>,
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
        // A group's title is chosen by its members: it stays out of the instructions.
        user_name: match place.speaker {
            Some(_) => GROUP_AUDIENCE.to_string(),
            None => user.display_name.clone(),
        },
        timezone: user.timezone,
        now: Utc::now(),
        preferred: user.llm_provider.or(config.default),
        history,
        message: input.message.clone(),
        tools: services.tools.llm_specs_in(user, place.chat),
        tier: Tier::Cheap,
        allow_tools: true,
        budget: user.llm_budget(services.config.user_daily_token_limit),
        journal: update_id,
        speaker: place.speaker.map(str::to_string),
    };
    let running = services.cancellations.start(user.chat_id);
    let turn_input = TurnInput {
        chat: place.chat,
        message: &input.message,
        untrusted: input.untrusted,
        journal: update_id,
    };
    let runner = RegistryRunner::new(services, user, turn_input);
    let preview = services.previews.start_for(user.chat_id, &services.tools);
    let in_group = match (place.answers, update_id) {
        (Some((reply_to, thread_id)), Some(update_id)) => services.previews.start_in_group(
            store.clone(),
            GroupTarget {
                chat_id: user.chat_id,
                update_id,
                reply_to,
                thread_id,
            },
            &services.tools,
        ),
        _ => None,
    };
    let observer = match (&preview, &in_group) {
        (Some(p), _) => Some(p as &dyn StreamObserver),
        (None, Some(g)) => Some(g as &dyn StreamObserver),
        (None, None) => None,
    };
    let result = services
        .llm
        .reply_with(request, input.images, &runner, running.token(), observer)
        .await;
    drop((running, preview));
    if let Some(in_group) = in_group {
        // Every streamed message is recorded before the final text is queued against them.
        in_group.finish().await;
    }
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
            vec![Reply::markdown(user.chat_id, reply.text)]
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
