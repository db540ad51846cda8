//! The bridge from the model's tool calls to the invocation path: every call goes through
//! [`invoke`] as `CallSource::Llm`, so the model gets exactly the rules a command gets plus its
//! own (no admin tools, confirm buttons). The runner remembers whether untrusted content (a web
//! page, an email) entered this turn, and the text the turn has shown (the user's message and
//! that content); from then on the turn's writes need a confirm button, and so do fetches of
//! addresses that text did not contain.
//! Confirm messages and messages a tool addresses to other chats are sent after the answer.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use serde_json::Value;

use super::invoke::{Caller, Outcome, invoke};
use crate::llm::ToolRunner;
use crate::message::Reply;
use crate::services::Services;
use crate::telegram::format::{TextFormat, html_to_plain};
use crate::tools::{CallSource, ChatKind};
use crate::users::User;

/// Most confirm buttons one turn may produce; further requests are refused to the model.
pub const MAX_CONFIRMS_PER_TURN: usize = 3;

/// Runs the model's tool calls as `user`.
pub struct RegistryRunner<'a> {
    services: &'a Services,
    user: &'a User,
    chat: ChatKind,
    untrusted_turn: AtomicBool,
    seen_text: Mutex<String>,
    confirms: AtomicUsize,
    extra: Mutex<Vec<Reply>>,
}

impl<'a> RegistryRunner<'a> {
    /// A runner for `user`'s `message`; `untrusted` when the message itself carries outside
    /// content (a forwarded message, a document).
    pub fn new(
        services: &'a Services,
        user: &'a User,
        chat: ChatKind,
        message: &str,
        untrusted: bool,
    ) -> Self {
        Self {
            services,
            user,
            chat,
            untrusted_turn: AtomicBool::new(untrusted),
            seen_text: Mutex::new(message.to_string()),
            confirms: AtomicUsize::new(0),
            extra: Mutex::new(Vec::new()),
        }
    }

    /// Confirm messages and messages to other chats, in the order the tools produced them.
    pub fn into_extra_replies(self) -> Vec<Reply> {
        self.extra.into_inner().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, replies: impl IntoIterator<Item = Reply>) {
        self.extra
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(replies);
    }
}

#[async_trait]
impl ToolRunner for RegistryRunner<'_> {
    async fn run(&self, name: &str, arguments: Value) -> Result<String, String> {
        let Some(tool) = self.services.tools.get(name) else {
            return Err(format!(
                "there is no tool called {name} available to this user"
            ));
        };
        let seen = self
            .seen_text
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let caller = Caller {
            user: self.user,
            chat: self.chat,
            source: CallSource::Llm,
            untrusted_turn: self.untrusted_turn.load(Ordering::SeqCst),
            seen_text: &seen,
        };
        match invoke(self.services, &caller, tool, arguments).await {
            Outcome::Ran(out) => {
                let text = match out.format {
                    TextFormat::Html => html_to_plain(&out.text),
                    TextFormat::Plain => out.text,
                };
                if tool.returns_untrusted() {
                    self.untrusted_turn.store(true, Ordering::SeqCst);
                    let mut seen = self.seen_text.lock().unwrap_or_else(|p| p.into_inner());
                    seen.push('\n');
                    seen.push_str(&text);
                }
                self.push(out.notices);
                Ok(text)
            }
            Outcome::NotRun(text) => Err(text),
            Outcome::NeedsConfirm { preview, reply } => {
                if self.confirms.fetch_add(1, Ordering::SeqCst) >= MAX_CONFIRMS_PER_TURN {
                    return Err(
                        "too many actions are already waiting for the user's confirmation; \
                        do not ask for more in this turn"
                            .into(),
                    );
                }
                self.push([reply]);
                Ok(format!(
                    "Not done yet. The user was shown a Confirm button for: {preview}. It happens \
                     only if they press it; do not call the tool again for this. Tell the user \
                     briefly what is waiting for their confirmation."
                ))
            }
        }
    }
}
