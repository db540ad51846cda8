//! The one invocation path. Every tool call, whoever asks (a typed command, the model's tool
//! loop, a schedule, a confirm button), goes through [`invoke`], which decides whether it may
//! run, runs it, and records it in `tool_logs` once:
//!
//! - the user must be allowed the call's effect (admin effects are the owner's);
//! - the model is never given an admin tool, nor a meta tool like `/help`;
//! - the tool must be allowed in this kind of chat;
//! - what the model asks for runs only on a Confirm button when it acts outside the bot, or
//!   when it writes after untrusted content (a web page, an email) entered the turn, or when,
//!   after such content, it would send to a third party (a URL to fetch) something that neither
//!   the user nor that content said word for word: a page cannot make the model smuggle the
//!   user's notes out in a URL. In a group no such button is shown (any member could press
//!   it): the call is refused.
//!
//! LLM budgets are checked by the router before every model call, so a tool that asks a model
//! (the email summary) is covered whoever called it.

use std::time::Instant;

use serde_json::Value;

use super::confirm::confirm_message;
use super::tool_error::error_reply;
use crate::message::Reply;
use crate::services::Services;
use crate::store::{NewPendingAction, ToolLog};
use crate::tools::{CallSource, ChatKind, Effect, Tool, ToolContext, ToolOutput, may_run};
use crate::users::User;

/// How long a confirm button stays valid.
pub const CONFIRM_TTL_SECS: i64 = 10 * 60;

/// Who asks for a tool call, and from where.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    /// The user the call runs as.
    pub user: &'a User,
    /// The chat kind it came from.
    pub chat: ChatKind,
    /// Command, model, schedule or confirm button.
    pub source: CallSource,
    /// Untrusted content (a page, an email) entered the current turn; model calls only.
    pub untrusted_turn: bool,
    /// What the turn has shown so far: the user's message and the outside content the model
    /// read (model calls only; empty otherwise).
    pub seen_text: &'a str,
    /// A key unique to this call (`<update>:command`, `<update>:tool:<n>`): a write made twice
    /// with it (a replay after a crash) is made once.
    pub once: Option<&'a str>,
}

/// What became of a call.
#[derive(Debug)]
pub enum Outcome {
    /// It ran.
    Ran(ToolOutput),
    /// It ran and failed, or was refused; the text is safe to show (internal errors are logged).
    NotRun(String),
    /// It waits for the user's decision: `reply` carries the Confirm / Cancel buttons.
    NeedsConfirm {
        /// What will happen, in words.
        preview: String,
        /// The message with the buttons.
        reply: Reply,
    },
}

/// Decides and runs one tool call for `caller`. See the module docs for the rules.
#[tracing::instrument(skip_all, fields(tool = tool.name(), user_id = %caller.user.id, source = caller.source.as_str()))]
pub async fn invoke(
    services: &Services,
    caller: &Caller<'_>,
    tool: &dyn Tool,
    args: Value,
) -> Outcome {
    if let Err(refusal) = check(caller, tool, &args) {
        tracing::info!(%refusal, "tool call refused");
        return Outcome::NotRun(refusal);
    }
    if needs_confirm(caller, tool, &args) {
        if caller.chat == ChatKind::Group {
            // A button in a group could be pressed by any member, not only the one who asked.
            return Outcome::NotRun(format!(
                "{} needs a Confirm button, which I show only in private chats; it was not run.",
                tool.command()
            ));
        }
        return ask_to_confirm(services, caller, tool, &args).await;
    }
    match run_and_log(services, caller, tool, args).await {
        Ok(out) => Outcome::Ran(out),
        Err(message) => Outcome::NotRun(message),
    }
}

/// Whether `caller` may make this call at all; the refusal to show otherwise.
fn check(caller: &Caller<'_>, tool: &dyn Tool, args: &Value) -> Result<(), String> {
    let effect = tool.effect_of(args);
    let from_model = caller.source == CallSource::Llm;
    if from_model
        && (!tool.llm_callable() || tool.effect() == Effect::Admin || effect == Effect::Admin)
    {
        return Err(format!(
            "there is no tool called {} available to this user",
            tool.name()
        ));
    }
    if !tool.offered_to(caller.user) {
        return Err(format!(
            "there is no tool called {} available to this user",
            tool.name()
        ));
    }
    // Where first: in a group, a personal or owner tool is refused the same way for everyone.
    if !tool.runs_in().allows(caller.chat) {
        return Err(format!(
            "/{} is personal: use this in our private chat.",
            tool.command()
        ));
    }
    if !may_run(caller.user, effect) {
        return Err(format!("/{} is only for the owner.", tool.command()));
    }
    Ok(())
}

/// A call that cannot be undone always needs the button (except the press itself). The model's
/// say-so is not enough for actions outside the bot, nor for writes once untrusted
/// content entered the turn, nor for sending new text out once it did.
fn needs_confirm(caller: &Caller<'_>, tool: &dyn Tool, args: &Value) -> bool {
    if tool.always_confirm() {
        return caller.source != CallSource::Confirm;
    }
    if caller.source != CallSource::Llm {
        return false;
    }
    match tool.effect_of(args) {
        Effect::Outside => true,
        Effect::Write => caller.untrusted_turn,
        Effect::Read => {
            caller.untrusted_turn && tool.sends_out() && !all_strings_seen(args, caller.seen_text)
        }
        Effect::Admin => false,
    }
}

/// Whether every string in `args` appears word for word in `seen`.
fn all_strings_seen(args: &Value, seen: &str) -> bool {
    match args {
        Value::String(s) => s.trim().is_empty() || seen.contains(s.trim()),
        Value::Array(items) => items.iter().all(|v| all_strings_seen(v, seen)),
        Value::Object(map) => map.values().all(|v| all_strings_seen(v, seen)),
        Value::Null | Value::Bool(_) | Value::Number(_) => true,
    }
}

/// Stores the call as a pending action and returns the message with its buttons.
async fn ask_to_confirm(
    services: &Services,
    caller: &Caller<'_>,
    tool: &dyn Tool,
    args: &Value,
) -> Outcome {
    let preview = tool.preview(caller.user, args).await;
    let nonce = nonce();
    let action = NewPendingAction {
        user_id: caller.user.id,
        chat_id: caller.user.chat_id,
        tool: tool.name().to_string(),
        arguments: args.to_string(),
        preview: preview.clone(),
        nonce: nonce.clone(),
        ttl_secs: CONFIRM_TTL_SECS,
    };
    match services.store.add_pending_action(action).await {
        Ok(id) => {
            tracing::info!(
                action_id = id,
                "tool call waits for the user's confirmation"
            );
            let by_model = caller.source == CallSource::Llm;
            let reply = confirm_message(caller.user.chat_id, id, &nonce, &preview, by_model);
            Outcome::NeedsConfirm { preview, reply }
        }
        Err(e) => {
            tracing::error!(error = %e, "could not store a pending action");
            Outcome::NotRun(
                "I couldn't reach my database just now. Please try again in a moment.".into(),
            )
        }
    }
}

/// Runs the tool, records it in `tool_logs`, and turns an error into its one short reply.
async fn run_and_log(
    services: &Services,
    caller: &Caller<'_>,
    tool: &dyn Tool,
    args: Value,
) -> Result<ToolOutput, String> {
    let started = Instant::now();
    let ctx = ToolContext {
        user: caller.user,
        source: caller.source,
        chat: caller.chat,
        catalogue: services.tools.catalogue(),
        once: caller.once,
    };
    let arguments = args.to_string();
    let result = tool.call(&ctx, args).await;
    if tool.leaves_no_trace() && result.is_ok() {
        return result.map_err(|e| error_reply(tool.name(), &e));
    }
    let log = ToolLog {
        user_id: caller.user.id,
        tool: tool.name().to_string(),
        arguments,
        source: caller.source.as_str(),
        error: result.as_ref().err().map(ToString::to_string),
        duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
    };
    if let Err(e) = services.store.log_tool_call(log).await {
        tracing::warn!(error = %e, "could not record tool call");
    }
    result.map_err(|e| error_reply(tool.name(), &e))
}

/// A random word for a confirm button (URL- and callback-safe, 12 characters).
fn nonce() -> String {
    (0..12).map(|_| fastrand::alphanumeric()).collect()
}
