//! `/disable <chat id>` (owner): denies a pending request or switches a user off.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{Tool, ToolContext, ToolError, ToolOutput, int_arg};
use crate::users::{Access, UserStatus};

/// Disables a user (also the Deny button of an access request).
pub struct Disable;

const USAGE: &str = "/disable <chat id>";

#[async_trait]
impl Tool for Disable {
    fn name(&self) -> &'static str {
        "disable"
    }

    fn description(&self) -> &'static str {
        "Deny a request or switch a user off (owner)"
    }

    fn usage(&self) -> &'static str {
        USAGE
    }

    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {"chat_id": {"type": "integer"}}, "required": ["chat_id"]})
    }

    fn access(&self) -> Access {
        Access::Owner
    }

    fn parse_command(&self, args: &str) -> Result<Value, ToolError> {
        Ok(json!({"chat_id": args.trim()}))
    }

    async fn call(&self, ctx: &ToolContext<'_>, args: Value) -> Result<ToolOutput, ToolError> {
        let chat_id = int_arg(&args, "chat_id", USAGE)?;
        let store = &ctx.services.store;
        match store.user_by_chat(chat_id).await? {
            None => Err(ToolError::Failed(format!(
                "No user with chat id {chat_id}. See /users."
            ))),
            Some(u) if u.status == UserStatus::Owner => {
                Err(ToolError::Failed("The owner cannot be disabled.".into()))
            }
            Some(u) if u.status == UserStatus::Disabled => Ok(ToolOutput::plain(format!(
                "{} is already disabled.",
                u.display_name
            ))),
            Some(u) => {
                store.set_user_status(chat_id, UserStatus::Disabled).await?;
                Ok(ToolOutput::plain(format!(
                    "Disabled {}. They get no replies now.",
                    u.display_name
                )))
            }
        }
    }
}
