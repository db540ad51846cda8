//! `/export`: the user's own data (profile, history, notes, documents, schedules, usage) as a
//! JSON file sent with the reply. Only their rows; never tokens, secrets or credentials (the
//! store's export lists the columns it hands back).

use async_trait::async_trait;
use chrono::Utc;
use serde_json::Value;

use super::{Effect, Tool, ToolContext, ToolError, ToolOutput};
use crate::message::{FileKind, OutgoingFile};
use crate::store::Store;

/// Hands the user their data.
pub struct Export {
    store: Store,
}

impl Export {
    /// The tool over the user's rows.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

/// Largest file sent: Telegram takes documents up to 50 MB from bots.
const MAX_EXPORT_BYTES: usize = 45 * 1024 * 1024;

#[async_trait]
impl Tool for Export {
    fn name(&self) -> &'static str {
        "export"
    }

    fn description(&self) -> &'static str {
        "Get all your data (messages, notes, documents, schedules, usage) as a file"
    }

    fn usage(&self) -> &'static str {
        "/export"
    }

    fn effect(&self) -> Effect {
        Effect::Read
    }

    fn llm_callable(&self) -> bool {
        false
    }

    async fn call(&self, ctx: &ToolContext<'_>, _args: Value) -> Result<ToolOutput, ToolError> {
        let Some(data) = self.store.export_user(ctx.user.id).await? else {
            return Err(ToolError::Failed("I have no data about you.".into()));
        };
        let count = |section: &str| data[section].as_array().map_or(0, Vec::len);
        let caption = format!(
            "Your data: {} messages, {} notes, {} documents, {} schedules, {} usage records. \
             Tokens and passwords are never included.",
            count("history"),
            count("notes"),
            count("documents"),
            count("schedules"),
            count("usage")
        );
        let bytes = serde_json::to_vec_pretty(&data)
            .map_err(|e| ToolError::Unexpected(anyhow::anyhow!("export to JSON: {e}")))?;
        if bytes.len() > MAX_EXPORT_BYTES {
            return Err(ToolError::Failed(format!(
                "Your export is {} MB, more than Telegram lets a bot send (50 MB). Older \
                 history leaves with the daily cleanup; /forget deletes everything.",
                bytes.len() / (1024 * 1024)
            )));
        }
        let mut out = ToolOutput::plain(caption);
        out.file = Some(OutgoingFile {
            name: format!("minicrew-export-{}.json", Utc::now().format("%Y-%m-%d")),
            kind: FileKind::Document,
            bytes,
        });
        Ok(out)
    }
}
