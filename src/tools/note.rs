//! `/note`: save, list, read and delete short notes.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{Effect, Tool, ToolContext, ToolError, ToolOutput, int_arg, shorten, str_arg};
use crate::store::Store;

/// Personal notes.
pub struct Note {
    store: Store,
}

impl Note {
    /// The tool over the notes table.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

const USAGE: &str = "/note add <text> | /note list | /note get <id> | /note delete <id>";

#[async_trait]
impl Tool for Note {
    fn name(&self) -> &'static str {
        "note"
    }

    fn description(&self) -> &'static str {
        "Save, list, read or delete your notes"
    }

    fn usage(&self) -> &'static str {
        USAGE
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "action": {"type": "string", "enum": ["add", "list", "get", "delete"]},
                "text": {"type": "string", "description": "The note to save (for add)"},
                "id": {"type": "integer", "description": "Note id (for get and delete)"}
            },
            "required": ["action"]
        })
    }

    fn effect(&self) -> Effect {
        Effect::Write
    }

    fn effect_of(&self, args: &Value) -> Effect {
        match args.get("action").and_then(Value::as_str) {
            Some("add" | "delete") => Effect::Write,
            _ => Effect::Read,
        }
    }

    fn describe(&self, args: &Value) -> String {
        let text = args.get("text").and_then(Value::as_str).unwrap_or("");
        let id = args.get("id").map(ToString::to_string).unwrap_or_default();
        match args.get("action").and_then(Value::as_str) {
            Some("add") => format!("Save a note: “{}”", shorten(text, 500)),
            Some("delete") => format!("Delete your note #{}", id.trim_matches('"')),
            _ => super::describe_call(self.command(), args),
        }
    }

    fn parse_command(&self, args: &str) -> Result<Value, ToolError> {
        let args = args.trim();
        let (action, rest) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
        Ok(match action.to_ascii_lowercase().as_str() {
            "" | "list" => json!({"action": "list"}),
            "add" => json!({"action": "add", "text": rest.trim()}),
            "get" | "delete" => json!({"action": action.to_ascii_lowercase(), "id": rest.trim()}),
            // `/note buy milk` saves the whole text.
            _ => json!({"action": "add", "text": args}),
        })
    }

    async fn call(&self, ctx: &ToolContext<'_>, args: Value) -> Result<ToolOutput, ToolError> {
        let store = &self.store;
        let user_id = ctx.user.id;
        match args.get("action").and_then(Value::as_str).unwrap_or("list") {
            "add" => {
                let text = str_arg(&args, "text", USAGE)?;
                let title: String = text
                    .lines()
                    .next()
                    .unwrap_or(text)
                    .chars()
                    .take(60)
                    .collect();
                let once = ctx.once.map(str::to_string);
                let id = store.add_note_once(user_id, &title, text, once).await?;
                Ok(ToolOutput::plain(format!("Saved note #{id}.")))
            }
            "list" => {
                let notes = store.list_notes(user_id).await?;
                if notes.is_empty() {
                    return Ok(ToolOutput::plain(
                        "No notes yet. Save one with /note add <text>.",
                    ));
                }
                let lines: Vec<String> = notes
                    .iter()
                    .map(|n| format!("#{} {}", n.id, n.title))
                    .collect();
                Ok(ToolOutput::plain(lines.join("\n")))
            }
            "get" => {
                let id = int_arg(&args, "id", USAGE)?;
                match store.note(user_id, id).await? {
                    Some(n) => Ok(ToolOutput::plain(format!("#{}\n{}", n.id, n.body))),
                    None => Err(ToolError::Failed(format!("You have no note #{id}."))),
                }
            }
            "delete" => {
                let id = int_arg(&args, "id", USAGE)?;
                match store.delete_note(user_id, id).await? {
                    true => Ok(ToolOutput::plain(format!("Deleted note #{id}."))),
                    false => Err(ToolError::Failed(format!("You have no note #{id}."))),
                }
            }
            other => Err(ToolError::InvalidArguments(format!(
                "Unknown action '{other}'. Usage: {USAGE}"
            ))),
        }
    }
}
