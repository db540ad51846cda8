//! `/approve <chat id>` (owner): lets a pending (or disabled) user in and tells them; with a
//! group's (negative) id, approves the group.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{Effect, Tool, ToolContext, ToolError, ToolOutput, user_by_chat_arg};
use crate::ids::ChatId;
use crate::message::Reply;
use crate::store::Store;
use crate::users::UserStatus;

/// Approves a user.
pub struct Approve {
    store: Store,
}

impl Approve {
    /// The tool over the users table.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

const USAGE: &str = "/approve <chat id>";

#[async_trait]
impl Tool for Approve {
    fn name(&self) -> &'static str {
        "approve"
    }

    fn description(&self) -> &'static str {
        "Approve a user's or a group's request (owner)"
    }

    fn usage(&self) -> &'static str {
        USAGE
    }

    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {"chat_id": {"type": "integer"}}, "required": ["chat_id"]})
    }

    fn effect(&self) -> Effect {
        Effect::Admin
    }

    fn parse_command(&self, args: &str) -> Result<Value, ToolError> {
        Ok(json!({"chat_id": args.trim()}))
    }

    async fn call(&self, ctx: &ToolContext<'_>, args: Value) -> Result<ToolOutput, ToolError> {
        // A negative id names a group: approving it makes none of its members a user.
        let chat_id = ChatId(super::int_arg(&args, "chat_id", USAGE)?);
        if chat_id.0 < 0 {
            let (text, notice) =
                crate::groups::membership::approve(&self.store, chat_id, ctx.user.chat_id)
                    .await?
                    .map_err(ToolError::Failed)?;
            let out = ToolOutput::plain(text);
            return Ok(notice.into_iter().fold(out, ToolOutput::with_notice));
        }
        let before = user_by_chat_arg(&self.store, &args, USAGE).await?;
        let (store, chat_id) = (&self.store, before.chat_id);
        match before.status {
            UserStatus::Owner => return Err(ToolError::Failed("That's you, the owner.".into())),
            UserStatus::Active => {
                return Ok(ToolOutput::plain(format!(
                    "{} is already approved.",
                    before.display_name
                )));
            }
            UserStatus::Pending | UserStatus::Disabled => {}
        }
        store.set_user_status(chat_id, UserStatus::Active).await?;
        Ok(
            ToolOutput::plain(format!("Approved {}.", before.display_name)).with_notice(
                Reply::plain(chat_id, "You're approved! Send /help to see what I can do."),
            ),
        )
    }
}
