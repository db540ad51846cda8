//! `/model [name]`: shows the configured LLM providers with the user's current one marked, with
//! a button per provider; `/model gemini` switches, and the choice persists in `users`.

use async_trait::async_trait;
use serde_json::{Value, json};

use std::sync::Arc;

use super::{Effect, Tool, ToolContext, ToolError, ToolHandles, ToolOutput};
use crate::config::LlmConfig;
use crate::llm::ProviderKind;
use crate::message::Button;
use crate::store::Store;

/// Shows or switches the user's LLM provider.
pub struct Model {
    llm: Arc<LlmConfig>,
    store: Store,
}

impl Model {
    /// The tool over the configured providers and users' choices.
    pub fn new(h: &ToolHandles) -> Self {
        Self {
            llm: Arc::new(h.config.llm.clone()),
            store: h.store.clone(),
        }
    }
}

const USAGE: &str = "/model [claude|gemini|openai]";

#[async_trait]
impl Tool for Model {
    fn name(&self) -> &'static str {
        "model"
    }

    fn description(&self) -> &'static str {
        "Show or switch the AI model provider"
    }

    fn usage(&self) -> &'static str {
        USAGE
    }

    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {"provider": {"type": "string", "enum": ["claude", "gemini", "openai"]}}})
    }

    fn effect(&self) -> Effect {
        Effect::Write
    }

    fn llm_callable(&self) -> bool {
        false
    }

    fn parse_command(&self, args: &str) -> Result<Value, ToolError> {
        Ok(if args.trim().is_empty() {
            json!({})
        } else {
            json!({"provider": args.trim()})
        })
    }

    async fn call(&self, ctx: &ToolContext<'_>, args: Value) -> Result<ToolOutput, ToolError> {
        let llm = &self.llm;
        if llm.providers.is_empty() {
            return Err(ToolError::Failed(
                "No LLM provider is configured; set ANTHROPIC_API_KEY, GEMINI_API_KEY or OPENAI_API_KEY in .env.".into(),
            ));
        }
        let current = ctx
            .user
            .llm_provider
            .filter(|k| llm.provider(*k).is_some())
            .or(llm.default);
        let Some(name) = args.get("provider").and_then(Value::as_str) else {
            let mut lines = vec!["AI providers (current marked ●):".to_string()];
            for p in &llm.providers {
                let mark = if Some(p.kind) == current {
                    "●"
                } else {
                    "○"
                };
                lines.push(format!(
                    "{mark} {} — {}",
                    p.kind.display_name(),
                    p.model_cheap
                ));
            }
            let buttons = vec![
                llm.providers
                    .iter()
                    .map(|p| Button::new(p.kind.display_name(), format!("/model {}", p.kind)))
                    .collect(),
            ];
            return Ok(ToolOutput {
                buttons,
                ..ToolOutput::plain(lines.join("\n"))
            });
        };
        let kind: ProviderKind = name
            .parse()
            .map_err(|e| ToolError::InvalidArguments(format!("{e}. Usage: {USAGE}")))?;
        if llm.provider(kind).is_none() {
            return Err(ToolError::Failed(format!(
                "{} is not configured on this bot.",
                kind.display_name()
            )));
        }
        self.store
            .set_user_provider(ctx.user.id, Some(kind.as_str()))
            .await?;
        Ok(ToolOutput::plain(format!(
            "Switched to {}. Other providers stay as fallback.",
            kind.display_name()
        )))
    }
}
