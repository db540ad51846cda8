//! `/forget`: deletes all of the user's data (history, notes, documents, schedules, usage, tool
//! logs, pending actions, sent replies, the Gmail token and calendar credentials) after a
//! Confirm button, even when typed. The owner cannot be forgotten, only reset: their account,
//! name, timezone and model choice stay (and the morning briefing is set up again).

use async_trait::async_trait;
use serde_json::Value;

use super::{Effect, Tool, ToolContext, ToolError, ToolOutput};
use crate::gmail::GmailConnect;
use crate::store::Store;

/// Erases a user.
pub struct Forget {
    store: Store,
    gmail: GmailConnect,
}

impl Forget {
    /// The tool over the user's rows, their Gmail token and the scheduler (their schedules go).
    pub fn new(store: Store, gmail: GmailConnect) -> Self {
        Self { store, gmail }
    }
}

#[async_trait]
impl Tool for Forget {
    fn name(&self) -> &'static str {
        "forget"
    }

    fn description(&self) -> &'static str {
        "Delete all your data (asks you to confirm first)"
    }

    fn usage(&self) -> &'static str {
        "/forget"
    }

    fn effect(&self) -> Effect {
        Effect::Write
    }

    fn llm_callable(&self) -> bool {
        false
    }

    fn always_confirm(&self) -> bool {
        true
    }

    fn leaves_no_trace(&self) -> bool {
        true
    }

    fn describe(&self, _args: &Value) -> String {
        "Delete ALL your data: every message, note, document, reminder and schedule, your usage \
         records, and your Gmail and calendar connections. This cannot be undone. (/export \
         first if you want a copy.) If you are the owner, you are reset instead: your account, \
         name, timezone and model choice stay."
            .into()
    }

    async fn call(&self, ctx: &ToolContext<'_>, _args: Value) -> Result<ToolOutput, ToolError> {
        let user = ctx.user;
        // The Gmail token file first: revoked at Google when possible, deleted in any case.
        if let Err(e) = self.gmail.disconnect(user.id).await {
            tracing::warn!(user_id = %user.id, error = %e, "could not revoke Gmail; deleting the token");
        }
        if let Err(e) = self.gmail.tokens().delete(user.id).await {
            tracing::error!(user_id = %user.id, error = %e, "could not delete the Gmail token file");
            return Err(ToolError::Failed(
                "I could not delete your Gmail token, so I deleted nothing. Please try again."
                    .into(),
            ));
        }
        let owner = user.is_owner();
        let report = self.store.forget_user(user.id, owner).await?;
        let rows: usize = report.deleted.iter().map(|(_, n)| n).sum();
        tracing::info!(
            user_id = %user.id,
            rows,
            owner,
            "user data deleted by /forget"
        );
        Ok(ToolOutput::plain(if owner {
            "Done: your messages, notes, documents, schedules, usage and connections are \
             deleted. As the owner you are reset, not forgotten: your account, name, timezone \
             and model choice stay, and the morning briefing is set up again."
        } else {
            "Done: everything I had about you is deleted, your account too. To use me again, \
             send /start and ask the owner to approve you."
        }))
    }
}
