//! The dispatcher: the one place every message goes through, whatever channel it came from.
//! `/start` registers strangers; other chats that are not active users get nothing; a known
//! `/command` runs its tool directly (zero LLM tokens); anything else is free text for the LLM.

mod calendar_connect;
mod confirm;
mod document;
mod free_text;
mod gmail_paste;
mod group;
mod invoke;
mod llm_tools;
mod media;
mod once;
mod tool_error;
mod voice;

use std::sync::Arc;

use crate::message::{Content, Incoming, Reply};
use crate::services::Services;
use crate::store::StepKey;
use crate::store::StoreError;
use crate::tools::{CallSource, ChatKind, Effect};
use crate::users::{RateDecision, User, register_start};

pub use crate::command_line::{CommandLine, parse_command};
use once::{Begun, begin};

pub use confirm::{Press, parse_press};
pub use invoke::{CONFIRM_TTL_SECS, Caller, Outcome, invoke};
pub use tool_error::error_reply;

/// Routes incoming messages to tools or the LLM. Cheap to clone.
#[derive(Clone)]
pub struct Dispatcher {
    services: Arc<Services>,
}

impl Dispatcher {
    /// A dispatcher over the shared services.
    pub fn new(services: Arc<Services>) -> Self {
        Self { services }
    }

    /// The shared services.
    pub fn services(&self) -> &Arc<Services> {
        &self.services
    }

    /// Handles one message and returns the replies to send (possibly to several chats).
    /// Never fails: every error becomes one short reply, logged once.
    #[tracing::instrument(skip_all, fields(chat_id = %incoming.chat_id, update_id = incoming.update_id))]
    pub async fn handle(&self, incoming: &Incoming) -> Vec<Reply> {
        match self.route(incoming).await {
            Ok(replies) => replies,
            Err(e) => {
                tracing::error!(error = %e, "database error while handling a message");
                vec![Reply::plain(
                    incoming.chat_id,
                    "I couldn't reach my database just now; please try again in a moment.",
                )]
            }
        }
    }

    async fn route(&self, incoming: &Incoming) -> Result<Vec<Reply>, StoreError> {
        if let Some(group) = &incoming.group {
            return group::route(self, incoming, group).await;
        }
        let store = &self.services.store;
        let command = parse_command(incoming.command_text());
        if command.as_ref().is_some_and(|c| c.name == "start") {
            return register_start(
                store,
                self.services.config.owner_chat_id,
                incoming.chat_id,
                &incoming.from_name,
                incoming.username.as_deref(),
            )
            .await;
        }
        let user = match store.user_by_chat(incoming.chat_id).await? {
            Some(user) if user.is_active() => user,
            _ => {
                tracing::debug!(
                    chat_id = %incoming.chat_id,
                    "ignoring a chat that is not an active user"
                );
                return Ok(Vec::new());
            }
        };
        if !user.is_owner() {
            match self.services.user_rate_limit.check(user.id) {
                RateDecision::Allow => {}
                RateDecision::Warn => {
                    let text = "You're sending messages faster than I may answer; wait a minute and try again.";
                    return Ok(vec![Reply::plain(user.chat_id, text)]);
                }
                RateDecision::Drop => return Ok(Vec::new()),
            }
        }
        match &incoming.content {
            Content::Unsupported(kind) => {
                let text = format!("I can't read {kind} yet; please send text.");
                return Ok(vec![Reply::plain(user.chat_id, text)]);
            }
            Content::Voice(clip) => {
                return voice::answer(&self.services, &user, incoming.update_id, clip).await;
            }
            Content::Photos(photos) => {
                let update = incoming.update_id;
                return media::photos(&self.services, &user, update, photos, None).await;
            }
            Content::Document(doc) => {
                let update = incoming.update_id;
                return document::answer(&self.services, &user, update, doc, None).await;
            }
            Content::Forwarded { origin, inner } => {
                let update = incoming.update_id;
                return media::forwarded(&self.services, &user, update, origin, inner).await;
            }
            Content::Text(_) | Content::Callback { .. } => {}
        }
        if let Content::Text(text) = &incoming.content
            && let Some(reply) =
                gmail_paste::answer(&self.services, &user, incoming.update_id, text).await?
        {
            return Ok(vec![reply]);
        }
        if let Content::Text(text) = &incoming.content
            && let Some(reply) =
                calendar_connect::answer(&self.services, &user, incoming.update_id, text).await?
        {
            return Ok(vec![reply]);
        }
        if let Some(press) = parse_press(incoming.command_text()) {
            return confirm::decide(&self.services, &user, &press).await;
        }
        if let Some(command) = command
            && let Some(replies) = self
                .run_command(&user, incoming.update_id, &command, ChatKind::Private)
                .await?
        {
            return Ok(replies);
        }
        free_text::answer(
            &self.services,
            &user,
            incoming.update_id,
            incoming.command_text(),
        )
        .await
    }

    /// Runs a known command through the invocation path; `None` for an unknown `/word` (it is
    /// free text).
    /// A command runs once per update: a write is keyed by the update (a replay makes it once),
    /// and an action outside the bot that a crash interrupted is not run again: the user is told.
    async fn run_command(
        &self,
        user: &User,
        update_id: Option<i64>,
        command: &CommandLine<'_>,
        chat: ChatKind,
    ) -> Result<Option<Vec<Reply>>, StoreError> {
        let Some(tool) = self.services.tools.by_command(&command.name) else {
            return Ok(None);
        };
        let args = match tool.parse_command(command.args) {
            Ok(args) => args,
            Err(e) => {
                let text = error_reply(tool.name(), &e);
                return Ok(Some(vec![Reply::plain(user.chat_id, text)]));
            }
        };
        if let Some(update_id) = update_id
            && tool.effect_of(&args) == Effect::Outside
        {
            let key = StepKey::new(update_id, "command");
            if let Begun::BeforeTheRestart = begin(&self.services.store, &key).await {
                let line =
                    crate::tools::shorten(&format!("/{} {}", command.name, command.args), 200);
                let text = format!(
                    "I was restarted while running {}: it may or may not have happened, so I \
                     did not run it again. Please check, and send it again if it is missing.",
                    line.trim_end()
                );
                return Ok(Some(vec![Reply::plain(user.chat_id, text)]));
            }
        }
        let once = update_id.map(|id| format!("{id}:command"));
        let caller = Caller {
            user,
            chat,
            source: CallSource::Command,
            untrusted_turn: false,
            seen_text: "",
            once: once.as_deref(),
        };
        Ok(Some(
            match invoke(&self.services, &caller, tool, args).await {
                Outcome::Ran(out) => out.into_replies(user.chat_id),
                Outcome::NotRun(text) => vec![Reply::plain(user.chat_id, text)],
                Outcome::NeedsConfirm { reply, .. } => vec![reply],
            },
        ))
    }
}
