//! `/groups` (owner): the groups the bot was added to, with their state and today's usage, and
//! Approve / Disable buttons. A group is approved with `/approve <group id>` and disabled (the
//! bot leaves it) with `/disable <group id>`.

use async_trait::async_trait;
use chrono::Utc;
use serde_json::Value;

use super::{Effect, Tool, ToolContext, ToolError, ToolOutput};
use crate::groups::GroupState;
use crate::groups::membership::describe;
use crate::llm::Budget;
use crate::message::Button;
use crate::store::Store;

/// Lists groups for the owner.
pub struct GroupsList {
    store: Store,
}

impl GroupsList {
    /// The tool over the groups table.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

#[async_trait]
impl Tool for GroupsList {
    fn name(&self) -> &'static str {
        "groups"
    }

    fn description(&self) -> &'static str {
        "List the groups I was added to, with state and usage (owner)"
    }

    fn usage(&self) -> &'static str {
        "/groups"
    }

    fn effect(&self) -> Effect {
        Effect::Admin
    }

    async fn call(&self, ctx: &ToolContext<'_>, _args: Value) -> Result<ToolOutput, ToolError> {
        let today = Budget::daily(0, false, ctx.user.timezone).day_start(Utc::now());
        let groups = self.store.list_groups(today).await?;
        if groups.is_empty() {
            return Ok(ToolOutput::plain(
                "I'm in no group yet. Add me to one from Telegram: if you add me, it is approved \
                 at once; if someone else does, I ask you first.",
            ));
        }
        let mut lines = Vec::new();
        let mut buttons = Vec::new();
        for g in &groups {
            lines.push(describe(&g.group, g.tokens, g.turns));
            let chat = g.group.chat_id;
            match (g.group.state, g.group.member) {
                (GroupState::Pending, true) => buttons.push(vec![
                    Button::new(
                        format!("Approve {}", g.group.title),
                        format!("/approve {chat}"),
                    ),
                    Button::new("Deny", format!("/disable {chat}")),
                ]),
                (GroupState::Active, _) => buttons.push(vec![Button::new(
                    format!("Disable {}", g.group.title),
                    format!("/disable {chat}"),
                )]),
                _ => {}
            }
        }
        lines.push(
            "Approve with /approve <group id>; /disable <group id> switches a group off and I \
             leave it."
                .into(),
        );
        Ok(ToolOutput {
            buttons,
            ..ToolOutput::markdown(lines.join("\n"))
        })
    }
}
