//! Tools: everything the bot can do. A `/command` runs a tool directly (zero LLM tokens) and the
//! LLM can call the same tools. Adding a tool is one new file plus one line in [`all_tools`]; the
//! registry produces `/help`, Telegram's command menu and the LLM's tool specs from that list.

mod approve;
mod cancel;
mod disable;
mod email;
mod gmail_connect;
mod help;
mod model;
mod new_chat;
mod note;
mod registry;
mod remind;
mod schedule;
mod tz;
mod usage;
mod users_list;
pub mod web_fetch;

use async_trait::async_trait;
use serde_json::Value;

use crate::message::{Button, Reply};
use crate::services::Services;
use crate::store::StoreError;
use crate::telegram::format::TextFormat;
use crate::users::{Access, User};

pub use registry::{CommandInfo, ToolRegistry};

/// Every tool, in the order `/help` lists them. One line per tool.
pub fn all_tools() -> Vec<Box<dyn Tool>> {
    vec![
        Box::new(help::Help),
        Box::new(email::EmailSummary),
        Box::new(note::Note),
        Box::new(web_fetch::WebFetch::new()),
        Box::new(model::Model),
        Box::new(new_chat::NewChat),
        Box::new(cancel::Cancel),
        Box::new(usage::Usage),
        Box::new(remind::Remind),
        Box::new(schedule::ScheduleTool),
        Box::new(tz::Tz),
        Box::new(gmail_connect::AuthGmail),
        Box::new(gmail_connect::DisconnectGmail),
        Box::new(users_list::UsersList),
        Box::new(approve::Approve),
        Box::new(disable::Disable),
    ]
}

/// Where a tool call came from (recorded in `tool_logs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallSource {
    /// A `/command` typed by the user (or a button press).
    Command,
    /// A tool call made by the LLM.
    Llm,
    /// A scheduled job.
    Schedule,
}

impl CallSource {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Command => "command",
            Self::Llm => "llm",
            Self::Schedule => "schedule",
        }
    }
}

/// What a tool gets to work with.
pub struct ToolContext<'a> {
    /// The user running it (already checked against the tool's [`Access`]).
    pub user: &'a User,
    /// Shared handles: config, store, registry, LLM router.
    pub services: &'a Services,
    /// Command, LLM or schedule.
    pub source: CallSource,
}

/// A tool's result.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutput {
    /// The answer: shown to the user for a command, returned to the model for an LLM call.
    pub text: String,
    /// Plain or HTML (HTML is turned into plain text for the model).
    pub format: TextFormat,
    /// Inline buttons under the answer (commands only).
    pub buttons: Vec<Vec<Button>>,
    /// Messages to other chats, e.g. telling a user the owner approved them.
    pub notices: Vec<Reply>,
}

impl ToolOutput {
    /// A plain-text answer.
    pub fn plain(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            format: TextFormat::Plain,
            buttons: Vec::new(),
            notices: Vec::new(),
        }
    }

    /// An HTML answer.
    pub fn html(text: impl Into<String>) -> Self {
        Self {
            format: TextFormat::Html,
            ..Self::plain(text)
        }
    }

    /// The replies to send for this output: the answer to `chat_id` (none when the text is
    /// empty, which means "nothing to say", e.g. a briefing with no news) plus the notices.
    pub fn into_replies(self, chat_id: i64) -> Vec<Reply> {
        let mut replies = Vec::new();
        if !self.text.trim().is_empty() {
            replies.push(Reply {
                chat_id,
                text: self.text,
                format: self.format,
                buttons: self.buttons,
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

    /// Who may run it.
    fn access(&self) -> Access {
        Access::User
    }

    /// Whether the LLM is offered this tool (meta commands like `/help` are not).
    fn llm_callable(&self) -> bool {
        true
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
pub async fn user_by_chat_arg(
    ctx: &ToolContext<'_>,
    args: &Value,
    usage: &str,
) -> Result<User, ToolError> {
    let chat_id = int_arg(args, "chat_id", usage)?;
    ctx.services
        .store
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
