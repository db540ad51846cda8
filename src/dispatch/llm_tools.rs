//! The bridge from the model's tool calls to the invocation path: every call goes through
//! [`invoke`] as `CallSource::Llm`, so the model gets exactly the rules a command gets plus its
//! own (no admin tools, confirm buttons). The runner remembers whether untrusted content (a web
//! page, an email) entered this turn, and the text the turn has shown (the user's message and
//! that content); from then on the turn's writes need a confirm button, and so do fetches of
//! addresses that text did not contain.
//! Confirm messages and messages a tool addresses to other chats are sent after the answer.
//!
//! Each call's outcome is journaled under the update (as `tool:<n>`, the n-th call of the turn):
//! a turn replayed after a crash gets the same calls in the same order (its rounds are replayed
//! too), reads each recorded outcome back with the state it changed (untrusted content seen,
//! messages to send) and runs no tool twice.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::invoke::{Caller, Outcome, invoke};
use super::once::{Begun, begin};
use crate::llm::ToolRunner;
use crate::message::Reply;
use crate::services::Services;
use crate::store::StepKey;
use crate::tools::{CallSource, ChatKind, Effect};
use crate::users::User;

/// Most confirm buttons one turn may produce; further requests are refused to the model.
pub const MAX_CONFIRMS_PER_TURN: usize = 3;

/// What a turn starts from.
#[derive(Debug, Clone, Copy)]
pub struct TurnInput<'a> {
    /// The chat kind it happens in.
    pub chat: ChatKind,
    /// The user's message.
    pub message: &'a str,
    /// The message itself carries outside content (a forwarded message, a document).
    pub untrusted: bool,
    /// The update it answers, for the journal; `None`: nothing is journaled.
    pub journal: Option<i64>,
}

/// Runs the model's tool calls as `user`.
pub struct RegistryRunner<'a> {
    services: &'a Services,
    user: &'a User,
    chat: ChatKind,
    journal: Option<i64>,
    calls: AtomicUsize,
    untrusted_turn: AtomicBool,
    seen_text: Mutex<String>,
    confirms: AtomicUsize,
    extra: Mutex<Vec<Reply>>,
}

/// One call's outcome as journaled.
#[derive(Debug, Serialize, Deserialize)]
struct CallRecord {
    /// What went back to the model (`Err`: as a failed tool result).
    result: Result<String, String>,
    /// The output was untrusted content.
    untrusted: bool,
    /// Messages it queued (a confirm message, notices to other chats).
    extra: Vec<Reply>,
}

impl<'a> RegistryRunner<'a> {
    /// A runner for `user`'s turn.
    pub fn new(services: &'a Services, user: &'a User, input: TurnInput<'_>) -> Self {
        Self {
            services,
            user,
            chat: input.chat,
            journal: input.journal,
            calls: AtomicUsize::new(0),
            untrusted_turn: AtomicBool::new(input.untrusted),
            seen_text: Mutex::new(input.message.to_string()),
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

impl RegistryRunner<'_> {
    /// Applies a call's outcome to the turn: untrusted content seen, messages to send.
    fn apply(&self, record: CallRecord) -> Result<String, String> {
        if record.untrusted {
            self.untrusted_turn.store(true, Ordering::SeqCst);
            if let Ok(text) = &record.result {
                let mut seen = self.seen_text.lock().unwrap_or_else(|p| p.into_inner());
                seen.push('\n');
                seen.push_str(text);
            }
        }
        self.push(record.extra);
        record.result
    }

    /// Runs one call through the invocation path; `once` keys the rows it creates.
    async fn run_fresh(&self, name: &str, arguments: Value, once: Option<&str>) -> CallRecord {
        let refused = |text: String| CallRecord {
            result: Err(text),
            untrusted: false,
            extra: Vec::new(),
        };
        let Some(tool) = self.services.tools.get(name) else {
            return refused(format!(
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
            once,
        };
        match invoke(self.services, &caller, &*tool, arguments).await {
            Outcome::Ran(out) => CallRecord {
                untrusted: tool.returns_untrusted() || out.untrusted,
                // Plain or Markdown: the model reads both as written.
                result: Ok(out.text),
                extra: out.notices,
            },
            Outcome::NotRun(text) => refused(text),
            Outcome::NeedsConfirm { preview, reply } => {
                if self.confirms.fetch_add(1, Ordering::SeqCst) >= MAX_CONFIRMS_PER_TURN {
                    return refused(
                        "too many actions are already waiting for the user's confirmation; \
                         do not ask for more in this turn"
                            .into(),
                    );
                }
                CallRecord {
                    result: Ok(format!(
                        "Not done yet. The user was shown a Confirm button for: {preview}. It \
                         happens only if they press it; do not call the tool again for this. \
                         Tell the user briefly what is waiting for their confirmation."
                    )),
                    untrusted: false,
                    extra: vec![reply],
                }
            }
        }
    }
}

#[async_trait]
impl ToolRunner for RegistryRunner<'_> {
    async fn run(&self, name: &str, arguments: Value) -> Result<String, String> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let key = self.journal.map(|id| StepKey::new(id, format!("tool:{n}")));
        let store = &self.services.store;
        if let Some(key) = &key
            && let Ok(Some(value)) = store.journal_get(key).await
            && let Ok(record) = serde_json::from_str::<CallRecord>(&value)
        {
            tracing::info!(
                tool = name,
                call = n,
                "tool call completed before the restart; not run again"
            );
            return self.apply(record);
        }
        // Writes are keyed by the call, so a replay makes them once; an action outside the bot
        // that a crash interrupted is not run again.
        let acts_outside = self
            .services
            .tools
            .get(name)
            .is_some_and(|t| t.effect_of(&arguments) == Effect::Outside);
        let once = key.as_ref().map(|k| format!("{}:{}", k.update_id, k.step));
        let record = match &key {
            Some(key) if acts_outside => match begin(store, key).await {
                Begun::Now => self.run_fresh(name, arguments, once.as_deref()).await,
                Begun::BeforeTheRestart => interrupted(name),
            },
            _ => self.run_fresh(name, arguments, once.as_deref()).await,
        };
        if let Some(key) = &key {
            let value = serde_json::to_string(&record).unwrap_or_default();
            if let Err(e) = store.journal_put(key, value).await {
                tracing::warn!(error = %e, "could not journal a tool call");
            }
        }
        self.apply(record)
    }
}

/// The outcome of a call that a restart interrupted.
fn interrupted(name: &str) -> CallRecord {
    tracing::warn!(
        tool = name,
        "a tool call was interrupted by a restart; not run again"
    );
    CallRecord {
        result: Err(format!(
            "this {name} call was interrupted by a restart: it may or may not have taken \
             effect, and it was not run again. Tell the user to check (for example with a \
             list command) before asking again."
        )),
        untrusted: false,
        extra: Vec::new(),
    }
}
