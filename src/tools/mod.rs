//! Tools: everything the bot can do. A `/command` runs a tool directly (zero LLM tokens) and the
//! LLM can call the same tools. Adding a tool is one new file plus one line in [`all_tools`]; the
//! registry produces `/help`, Telegram's command menu and the LLM's tool specs from that list.

mod approve;
mod briefing;
mod calendar;
mod calendar_model;
mod cancel;
mod disable;
pub mod effect;
mod email;
mod export;
mod forget;
mod gmail_connect;
mod groups_list;
mod help;
mod history;
mod live;
mod mcp_status;
mod model;
mod new_chat;
mod note;
mod recall;
mod registry;
mod remind;
mod schedule;
mod tz;
mod usage;
mod users_list;
pub mod web_fetch;
pub mod web_search;

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use crate::cancellations::Cancellations;
use crate::config::Config;
use crate::gmail::GmailServices;
use crate::ids::ChatId;
use crate::llm::LlmRouter;
use crate::markup::Markup;
use crate::message::{Button, OutgoingFile, Reply};
use crate::store::{Store, StoreError};
use crate::users::User;

pub use effect::{ChatKind, Effect, Where, may_run};
pub use live::LiveTools;
pub use registry::{Catalogue, CommandInfo, ToolInfo, ToolRef, ToolRegistry};

/// The handles tools are built from; each tool keeps only the ones it uses.
#[derive(Clone)]
pub struct ToolHandles {
    /// Validated configuration.
    pub config: Arc<Config>,
    /// The database.
    pub store: Store,
    /// The LLM router (for tools that ask a model, like the email summary).
    pub llm: LlmRouter,
    /// Gmail accounts and mail.
    pub gmail: GmailServices,
    /// Users' calendars.
    pub calendar: crate::calendar::CalendarAccounts,
    /// Running LLM requests per chat, for `/cancel`.
    pub cancellations: Cancellations,
    /// The MCP servers' live tools (and the text of `/mcp`).
    pub live_tools: Arc<dyn LiveTools>,
}

/// Every tool, in the order `/help` lists them. One line per tool.
pub fn all_tools(h: &ToolHandles) -> Vec<Box<dyn Tool>> {
    vec![
        Box::new(help::Help),
        Box::new(email::EmailSummary::new(h)),
        Box::new(note::Note::new(h.store.clone())),
        Box::new(recall::Recall::new(h.store.clone())),
        Box::new(history::History::new(h.store.clone())),
        Box::new(export::Export::new(h.store.clone())),
        Box::new(forget::Forget::new(
            h.store.clone(),
            h.gmail.connect.clone(),
        )),
        Box::new(web_fetch::WebFetch::new(h.config.web_fetch_allow_private)),
        Box::new(web_search::WebSearch::new(h.config.web_search.clone())),
        Box::new(calendar::CalendarCommand::new(h.calendar.clone())),
        Box::new(calendar_model::CalendarList::new(h.calendar.clone())),
        Box::new(calendar_model::CalendarFreeSlots::new(h.calendar.clone())),
        Box::new(calendar_model::CalendarCreate::new(h.calendar.clone())),
        Box::new(model::Model::new(h)),
        Box::new(new_chat::NewChat::new(h.store.clone())),
        Box::new(cancel::Cancel::new(h.cancellations.clone())),
        Box::new(usage::Usage::new(h.store.clone())),
        Box::new(remind::Remind::new(h.store.clone())),
        Box::new(schedule::ScheduleTool::new(h.store.clone())),
        Box::new(tz::Tz::new(h.store.clone())),
        Box::new(gmail_connect::AuthGmail::new(h.gmail.connect.clone())),
        Box::new(gmail_connect::DisconnectGmail::new(h.gmail.connect.clone())),
        Box::new(users_list::UsersList::new(h.store.clone())),
        Box::new(approve::Approve::new(h.store.clone())),
        Box::new(disable::Disable::new(h.store.clone())),
        Box::new(groups_list::GroupsList::new(h.store.clone())),
        Box::new(mcp_status::McpStatus::new(Arc::clone(&h.live_tools))),
        Box::new(briefing::MorningBriefing::new(h)),
    ]
}

/// Where a tool call came from (recorded in `tool_logs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallSource {
    /// A `/command` typed by the user (or a button press that stands for one).
    Command,
    /// A tool call made by the LLM.
    Llm,
    /// A scheduled job.
    Schedule,
    /// The user pressed Confirm on an action the model asked for.
    Confirm,
}

impl CallSource {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Command => "command",
            Self::Llm => "llm",
            Self::Schedule => "schedule",
            Self::Confirm => "confirm",
        }
    }
}

/// What a tool call gets besides the handles the tool holds: who, from where, and the list of
/// tools (names and effects only; nothing in it can run a tool).
pub struct ToolContext<'a> {
    /// The user running it (already checked by the invocation path).
    pub user: &'a User,
    /// Command, LLM, schedule or confirm button.
    pub source: CallSource,
    /// The chat kind the call came from.
    pub chat: ChatKind,
    /// Names, usage and effects of every tool (for `/help` and `/schedule add`).
    pub catalogue: &'a Catalogue,
    /// A key unique to this call: a row created with it twice (a replay after a crash) is
    /// created once. Tools that create rows pass it to the store.
    pub once: Option<&'a str>,
}

/// A tool's result.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutput {
    /// The answer: shown to the user for a command, returned to the model for an LLM call.
    pub text: String,
    /// Plain or Markdown (the model reads either as written).
    pub format: Markup,
    /// Inline buttons under the answer (commands only).
    pub buttons: Vec<Vec<Button>>,
    /// Messages to other chats, e.g. telling a user the owner approved them.
    pub notices: Vec<Reply>,
    /// The text holds a one-time secret: the stored copy is replaced once it is sent.
    pub forget_after_send: bool,
    /// This call's output holds outside content (a document's text), though the tool's usually
    /// does not: for the model, it marks the turn like [`Tool::returns_untrusted`].
    pub untrusted: bool,
    /// A file sent with the answer (the text is its caption when short enough).
    pub file: Option<OutgoingFile>,
}

impl ToolOutput {
    /// A plain-text answer.
    pub fn plain(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            format: Markup::Plain,
            buttons: Vec::new(),
            notices: Vec::new(),
            forget_after_send: false,
            untrusted: false,
            file: None,
        }
    }

    /// A Markdown answer (quote outside text with [`crate::markup::escape_markdown`]).
    pub fn markdown(text: impl Into<String>) -> Self {
        Self {
            format: Markup::Markdown,
            ..Self::plain(text)
        }
    }

    /// The replies to send for this output: the answer to `chat_id` (none when the text is
    /// empty, which means "nothing to say", e.g. a briefing with no news) plus the notices.
    pub fn into_replies(self, chat_id: ChatId) -> Vec<Reply> {
        let mut replies = Vec::new();
        if !self.text.trim().is_empty() || self.file.is_some() {
            replies.push(Reply {
                chat_id,
                text: self.text,
                format: self.format,
                buttons: self.buttons,
                forget_after_send: self.forget_after_send,
                reply_to_message_id: None,
                message_thread_id: None,
                file: self.file,
            });
        }
        replies.extend(self.notices);
        replies
    }

    /// Adds a message to another chat.
    pub fn with_notice(mut self, notice: Reply) -> Self {
        self.notices.push(notice);
        self
    }
}

/// Why a tool call failed; the dispatcher turns each into one clear reply.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The arguments do not fit; the message says what is expected (with an example).
    #[error("{0}")]
    InvalidArguments(String),
    /// The tool ran but could not do what was asked; the message is safe to show the user.
    #[error("{0}")]
    Failed(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Anything else; logged, and the user gets a generic apology.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// A capability of the bot, callable as `/name` and by the LLM.
#[async_trait]
pub trait Tool: Send + Sync {
    /// The function name the LLM calls (lowercase letters, digits, underscores).
    fn name(&self) -> &'static str;

    /// The chat command, without the slash; the name unless a shorter word reads better
    /// (`email_summary` is `/email`).
    fn command(&self) -> &'static str {
        self.name()
    }

    /// One line for `/help`, the command menu and the LLM.
    fn description(&self) -> &'static str;

    /// How to call it as a command, e.g. `/note add <text> | list | get <id> | delete <id>`.
    fn usage(&self) -> &'static str;

    /// JSON schema of the arguments object (default: no arguments).
    fn parameters(&self) -> Value {
        serde_json::json!({"type": "object", "properties": {}})
    }

    /// What running it does in general: admin tools are the owner's and never offered to the
    /// model; write and outside tools may need a confirm button (see `dispatch::invoke`).
    fn effect(&self) -> Effect;

    /// What this particular call does, when its arguments change that (`note list` only reads;
    /// `usage all` is an owner power). The invocation path checks this one.
    fn effect_of(&self, _args: &Value) -> Effect {
        self.effect()
    }

    /// Where it may run: `Private` for anything touching the user's own data.
    fn runs_in(&self) -> Where {
        Where::Private
    }

    /// Whether its output comes from outside (web pages, email): once such output enters a
    /// conversation turn, the turn is untrusted and write tools need a confirm button.
    fn returns_untrusted(&self) -> bool {
        false
    }

    /// Whether its arguments travel to a third party (a URL to fetch, a search query): after
    /// untrusted content, the model could use it to send the user's data out, so such a call
    /// needs a confirm button unless its arguments were said word for word in the turn.
    fn sends_out(&self) -> bool {
        false
    }

    /// Exactly what a call will do, in words, for a confirm button's message.
    fn describe(&self, args: &Value) -> String {
        describe_call(self.command(), args)
    }

    /// What the bot is doing while the call runs, for a reply's live preview ("Reading
    /// example.com…"). Short and in the user's words.
    fn progress(&self, _args: &Value) -> String {
        format!("Running /{}…", self.command())
    }

    /// Whether every call waits for the user's Confirm button, however it was asked for (even
    /// typed): for calls that cannot be undone, like deleting all of a user's data.
    fn always_confirm(&self) -> bool {
        false
    }

    /// Whether the call erases the user's data, so that nothing about it may be written after
    /// it runs (no `tool_logs` row, no note in the conversation).
    fn leaves_no_trace(&self) -> bool {
        false
    }

    /// Whether the LLM is offered this tool (meta commands like `/help` are not).
    fn llm_callable(&self) -> bool {
        true
    }

    /// Whether `user` may use it at all beyond its effect (an MCP server's tools are the owner's
    /// unless its config says `"users": "all"`). Checked by the invocation path.
    fn offered_to(&self, _user: &User) -> bool {
        true
    }

    /// The description the model sees (an MCP tool's own, which is not `'static`).
    fn spec_description(&self) -> String {
        self.description().to_string()
    }

    /// Whether `/help` and the command menu list it (tools only the model calls, like
    /// `calendar_create`, are not: people use their command, e.g. `/calendar`).
    fn listed(&self) -> bool {
        true
    }

    /// The confirm button's message for a call by `user`: [`Tool::describe`] unless the tool
    /// can say more by looking (a calendar event's conflicts).
    async fn preview(&self, _user: &User, args: &Value) -> String {
        self.describe(args)
    }

    /// Turns the text after `/name` into the arguments object (default: no arguments; any text
    /// after the command is ignored).
    fn parse_command(&self, _args: &str) -> Result<Value, ToolError> {
        Ok(serde_json::json!({}))
    }

    /// Runs the tool.
    async fn call(&self, ctx: &ToolContext<'_>, args: Value) -> Result<ToolOutput, ToolError>;
}

/// Reads a string argument, or says it is missing with the tool's usage.
pub fn str_arg<'v>(args: &'v Value, key: &str, usage: &str) -> Result<&'v str, ToolError> {
    args.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ToolError::InvalidArguments(format!("Missing {key}. Usage: {usage}")))
}

/// The user named by the `chat_id` argument of an owner tool, or a reply saying there is none.
pub async fn user_by_chat_arg(store: &Store, args: &Value, usage: &str) -> Result<User, ToolError> {
    let chat_id = ChatId(int_arg(args, "chat_id", usage)?);
    store
        .user_by_chat(chat_id)
        .await?
        .ok_or_else(|| ToolError::Failed(format!("No user with chat id {chat_id}. See /users.")))
}

/// Reads an integer argument (a JSON number or a numeric string).
pub fn int_arg(args: &Value, key: &str, usage: &str) -> Result<i64, ToolError> {
    match args.get(key) {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| {
        ToolError::InvalidArguments(format!("Expected a number for {key}. Usage: {usage}"))
    })
}

/// `/command key: value, …` for a confirm message; long values are shortened.
pub fn describe_call(command: &str, args: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(map) = args.as_object() {
        for (key, value) in map {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            parts.push(format!("{key}: {}", shorten(&text, 300)));
        }
    }
    if parts.is_empty() {
        format!("/{command}")
    } else {
        format!("/{command} ({})", parts.join(", "))
    }
}

/// `text` cut to `max` characters, with `…` when cut.
pub fn shorten(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}
