//! `/authgmail` and `/disconnectgmail`: each user connects (or removes) their own Gmail.

use async_trait::async_trait;
use serde_json::Value;

use super::{Effect, Tool, ToolContext, ToolError, ToolOutput};
use crate::gmail::{Disconnect, GmailConnect};

/// Sends a one-time consent link for the user's Gmail.
pub struct AuthGmail {
    connect: GmailConnect,
}

impl AuthGmail {
    /// The tool over Gmail connections.
    pub fn new(connect: GmailConnect) -> Self {
        Self { connect }
    }
}

/// Revokes the user's Gmail token and deletes it.
pub struct DisconnectGmail {
    connect: GmailConnect,
}

impl DisconnectGmail {
    /// The tool over Gmail connections.
    pub fn new(connect: GmailConnect) -> Self {
        Self { connect }
    }
}

#[async_trait]
impl Tool for AuthGmail {
    fn name(&self) -> &'static str {
        "authgmail"
    }

    fn description(&self) -> &'static str {
        "Connect your Gmail (read-only)"
    }

    fn usage(&self) -> &'static str {
        "/authgmail"
    }

    fn effect(&self) -> Effect {
        Effect::Write
    }

    fn llm_callable(&self) -> bool {
        false
    }

    async fn call(&self, ctx: &ToolContext<'_>, _args: Value) -> Result<ToolOutput, ToolError> {
        let link = self
            .connect
            .begin(ctx.user.id)
            .await
            .map_err(|e| ToolError::Failed(e.to_string()))?;
        Ok(ToolOutput {
            forget_after_send: true, // the link carries the OAuth state
            ..ToolOutput::plain(link.instructions())
        })
    }
}

#[async_trait]
impl Tool for DisconnectGmail {
    fn name(&self) -> &'static str {
        "disconnectgmail"
    }

    fn description(&self) -> &'static str {
        "Disconnect your Gmail and delete its token"
    }

    fn usage(&self) -> &'static str {
        "/disconnectgmail"
    }

    fn effect(&self) -> Effect {
        Effect::Write
    }

    fn llm_callable(&self) -> bool {
        false
    }

    async fn call(&self, ctx: &ToolContext<'_>, _args: Value) -> Result<ToolOutput, ToolError> {
        let outcome = self
            .connect
            .disconnect(ctx.user.id)
            .await
            .map_err(|e| ToolError::Failed(e.to_string()))?;
        Ok(ToolOutput::plain(match outcome {
            Disconnect::NotConnected => "Your Gmail was not connected.",
            Disconnect::Revoked => {
                "Gmail disconnected: Google revoked my access and the token is deleted."
            }
            Disconnect::RemovedLocally => {
                "Gmail token deleted. Google could not be reached to revoke it; you can remove access at myaccount.google.com/permissions."
            }
        }))
    }
}
