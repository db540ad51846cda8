//! `/users` (owner): everyone who has talked to the bot, with their status.

use async_trait::async_trait;
use serde_json::Value;

use super::{Effect, Tool, ToolContext, ToolError, ToolOutput};
use crate::message::Button;
use crate::store::Store;
use crate::users::UserStatus;

/// Lists users for the owner, with Approve buttons for pending requests.
pub struct UsersList {
    store: Store,
}

impl UsersList {
    /// The tool over the users table.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

#[async_trait]
impl Tool for UsersList {
    fn name(&self) -> &'static str {
        "users"
    }

    fn description(&self) -> &'static str {
        "List users and pending requests (owner)"
    }

    fn usage(&self) -> &'static str {
        "/users"
    }

    fn effect(&self) -> Effect {
        Effect::Admin
    }

    async fn call(&self, _ctx: &ToolContext<'_>, _args: Value) -> Result<ToolOutput, ToolError> {
        let users = self.store.list_users().await?;
        let mut lines = Vec::new();
        let mut buttons = Vec::new();
        for u in &users {
            let handle = u
                .username
                .as_deref()
                .map(|n| format!(" @{n}"))
                .unwrap_or_default();
            lines.push(format!(
                "{} {}{} — {} (chat {})",
                marker(u.status),
                u.display_name,
                handle,
                u.status,
                u.chat_id
            ));
            if u.status == UserStatus::Pending {
                buttons.push(vec![Button::new(
                    format!("Approve {}", u.display_name),
                    format!("/approve {}", u.chat_id),
                )]);
            }
        }
        Ok(ToolOutput {
            buttons,
            ..ToolOutput::plain(lines.join("\n"))
        })
    }
}

fn marker(status: UserStatus) -> &'static str {
    match status {
        UserStatus::Owner => "★",
        UserStatus::Active => "●",
        UserStatus::Pending => "…",
        UserStatus::Disabled => "○",
    }
}
