//! `/recall <terms>`: searches the user's own history, notes and documents (`memory_fts`) and
//! answers with the best matches as short quoted snippets, each with its date and where it came
//! from. The model has the same tool (`recall`, `query`); for it, snippets of documents (files
//! from outside) are quoted as untrusted data and mark the turn.

use async_trait::async_trait;
use chrono::DateTime;
use serde_json::{Value, json};

use super::{CallSource, Effect, Tool, ToolContext, ToolError, ToolOutput, shorten, str_arg};
use crate::store::{MemoryKind, RecallQuery, Recalled, Store};
use crate::users::User;

/// Searches the user's memory.
pub struct Recall {
    store: Store,
}

impl Recall {
    /// The tool over `memory_fts`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

const USAGE: &str = "/recall <words> (\"exact phrase\", prefix*)";
/// Matches shown.
const RESULTS: usize = 5;

#[async_trait]
impl Tool for Recall {
    fn name(&self) -> &'static str {
        "recall"
    }

    fn description(&self) -> &'static str {
        "Search your past messages, notes and documents"
    }

    fn usage(&self) -> &'static str {
        USAGE
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "Words to look for in the user's \
                    past conversations, notes and documents; \"quotes\" for a phrase, word* for a prefix"}
            },
            "required": ["query"]
        })
    }

    fn effect(&self) -> Effect {
        Effect::Read
    }

    fn parse_command(&self, args: &str) -> Result<Value, ToolError> {
        Ok(json!({"query": args.trim()}))
    }

    async fn call(&self, ctx: &ToolContext<'_>, args: Value) -> Result<ToolOutput, ToolError> {
        let text = str_arg(&args, "query", USAGE)?;
        let Some(query) = RecallQuery::parse(text) else {
            return Err(ToolError::InvalidArguments(format!(
                "Give me some words to look for. Usage: {USAGE}"
            )));
        };
        let for_model = ctx.source == CallSource::Llm;
        // The model asks while answering a message, which always matches itself: leave it out.
        let skip = if for_model {
            self.store.last_user_turn_id(ctx.user.id).await?
        } else {
            None
        };
        let found = self.store.recall(ctx.user.id, query, RESULTS, skip).await?;
        if found.is_empty() {
            return Ok(ToolOutput::plain(format!(
                "Nothing in your history, notes or documents matches “{}”.",
                shorten(text.trim(), 100)
            )));
        }
        let lines: Vec<String> = found.iter().map(|r| line(ctx.user, r, for_model)).collect();
        let mut out = ToolOutput::plain(format!(
            "From your memory (best matches first):\n{}",
            lines.join("\n")
        ));
        out.untrusted = for_model && found.iter().any(|r| r.kind == MemoryKind::Document);
        Ok(out)
    }
}

/// One match: date in the user's timezone, where it came from, the snippet in quotes.
fn line(user: &User, r: &Recalled, for_model: bool) -> String {
    let date = DateTime::from_timestamp(r.created_at, 0)
        .map(|t| {
            t.with_timezone(&user.timezone.tz())
                .format("%Y-%m-%d")
                .to_string()
        })
        .unwrap_or_else(|| "undated".into());
    let origin = match r.kind {
        MemoryKind::You => "you said",
        MemoryKind::Assistant => "I said",
        MemoryKind::Note => "your note",
        MemoryKind::Document => "a document you sent",
    };
    if for_model && r.kind == MemoryKind::Document {
        let quoted = crate::untrusted::quote("a document the user sent earlier", &r.snippet);
        format!("• {date}, {origin}:\n{quoted}")
    } else {
        format!("• {date}, {origin}: “{}”", r.snippet)
    }
}
