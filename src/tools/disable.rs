//! `/disable <chat id>` (owner): denies a pending request or switches a user off; with a
//! group's (negative) id, disables the group and leaves it.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{Effect, Tool, ToolContext, ToolError, ToolOutput, user_by_chat_arg};
use crate::ids::ChatId;
use crate::store::Store;
use crate::users::UserStatus;

/// Disables a user (also the Deny button of an access request).
pub struct Disable {
    store: Store,
}

impl Disable {
    /// The tool over the users table.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

const USAGE: &str = "/disable <chat id>";

#[async_trait]
impl Tool for Disable {
    fn name(&self) -> &'static str {
        "disable"
    }

    fn description(&self) -> &'static str {
        "Deny a request, switch a user or a group off (owner)"
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

    async fn call(&self, _ctx: &ToolContext<'_>, args: Value) -> Result<ToolOutput, ToolError> {
        // A negative id names a group: it is disabled and the bot leaves it.
        let chat_id = ChatId(super::int_arg(&args, "chat_id", USAGE)?);
        if chat_id.0 < 0 {
            let text = crate::groups::membership::disable(&self.store, chat_id)
                .await?
                .map_err(ToolError::Failed)?;
            return Ok(ToolOutput::plain(text));
        }
        let u = user_by_chat_arg(&self.store, &args, USAGE).await?;
        match u.status {
            UserStatus::Owner => Err(ToolError::Failed("The owner cannot be disabled.".into())),
            UserStatus::Disabled => Ok(ToolOutput::plain(format!(
                "{} is already disabled.",
                u.display_name
            ))),
            UserStatus::Active | UserStatus::Pending => {
                let store = &self.store;
                store
                    .set_user_status(u.chat_id, UserStatus::Disabled)
                    .await?;
                Ok(ToolOutput::plain(format!(
                    "Disabled {}. They get no replies now.",
                    u.display_name
                )))
            }
        }
    }
}
