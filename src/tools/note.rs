//! `/note`: a key-value memory. `save <title> <text>` replaces a note of that title, `get
//! <title>` finds it (or suggests the closest titles), `list`, `delete <title>`; `add <text>` and
//! numeric ids keep working. The model has the same operations (`action`, `title`, `text`).

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{Effect, Tool, ToolContext, ToolError, ToolOutput, shorten, str_arg};
use crate::ids::UserId;
use crate::store::{Note as StoredNote, Store, title_key};

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

const USAGE: &str = "/note save <title> <text> | /note get <title> | /note list | \
     /note delete <title> (a title of several words: quote it or end it with a colon)";

/// Longest title kept.
const MAX_TITLE_CHARS: usize = 100;
/// Longest note text accepted.
const MAX_TEXT_CHARS: usize = 20_000;
/// Titles suggested when none matches exactly.
const SUGGESTIONS: usize = 3;

#[async_trait]
impl Tool for Note {
    fn name(&self) -> &'static str {
        "note"
    }

    fn description(&self) -> &'static str {
        "Save notes by title, read, list or delete them"
    }

    fn usage(&self) -> &'static str {
        USAGE
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "action": {"type": "string", "enum": ["save", "get", "list", "delete", "add"],
                    "description": "save replaces a note of the same title"},
                "title": {"type": "string", "description": "The note's title (save, get, delete)"},
                "text": {"type": "string", "description": "The note's text (save, add)"},
                "id": {"type": "integer", "description": "A note's number instead of its title"}
            },
            "required": ["action"]
        })
    }

    fn effect(&self) -> Effect {
        Effect::Write
    }

    fn effect_of(&self, args: &Value) -> Effect {
        match args.get("action").and_then(Value::as_str) {
            Some("save" | "add" | "delete") => Effect::Write,
            _ => Effect::Read,
        }
    }

    fn describe(&self, args: &Value) -> String {
        let text = args.get("text").and_then(Value::as_str).unwrap_or("");
        let title = args.get("title").and_then(Value::as_str).unwrap_or("");
        let id = args.get("id").map(ToString::to_string).unwrap_or_default();
        match args.get("action").and_then(Value::as_str) {
            Some("add") => format!("Save a note: “{}”", shorten(text, 500)),
            Some("save") => format!(
                "Save a note titled “{}” (replacing one of that title): “{}”",
                shorten(title, 100),
                shorten(text, 500)
            ),
            Some("delete") if !title.is_empty() => {
                format!("Delete your note titled “{}”", shorten(title, 100))
            }
            Some("delete") => format!("Delete your note #{}", id.trim_matches('"')),
            _ => super::describe_call(self.command(), args),
        }
    }

    fn parse_command(&self, args: &str) -> Result<Value, ToolError> {
        let args = args.trim();
        let (action, rest) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
        let rest = rest.trim();
        Ok(match action.to_lowercase().as_str() {
            "" | "list" => json!({"action": "list"}),
            "add" => json!({"action": "add", "text": rest}),
            "save" => {
                let (title, text) = split_title(rest);
                json!({"action": "save", "title": title, "text": text})
            }
            verb @ ("get" | "delete") => match note_number(rest) {
                Some(id) => json!({"action": verb, "id": id}),
                None => json!({"action": verb, "title": unquote(rest)}),
            },
            // `/note buy milk` saves the whole text.
            _ => json!({"action": "add", "text": args}),
        })
    }

    async fn call(&self, ctx: &ToolContext<'_>, args: Value) -> Result<ToolOutput, ToolError> {
        let user_id = ctx.user.id;
        match args.get("action").and_then(Value::as_str).unwrap_or("list") {
            "add" => {
                let text = checked_text(&args)?;
                let title: String = text
                    .lines()
                    .next()
                    .unwrap_or(text)
                    .chars()
                    .take(60)
                    .collect();
                let once = ctx.once.map(str::to_string);
                let id = self
                    .store
                    .add_note_once(user_id, &title, text, once)
                    .await?;
                Ok(ToolOutput::plain(format!("Saved note #{id}.")))
            }
            "save" => {
                let title = checked_title(&args)?;
                let text = checked_text(&args)?;
                let once = ctx.once.map(str::to_string);
                let saved = self
                    .store
                    .save_note_once(user_id, &title, text, once)
                    .await?;
                Ok(ToolOutput::plain(if saved.replaced {
                    format!(
                        "Replaced your note “{title}” (#{}) with the new text.",
                        saved.id
                    )
                } else {
                    format!("Saved note “{title}” (#{}).", saved.id)
                }))
            }
            "list" => self.list(user_id).await,
            "get" => self.get(user_id, &args).await,
            "delete" => self.delete(user_id, &args).await,
            other => Err(ToolError::InvalidArguments(format!(
                "Unknown action '{}'. Usage: {USAGE}",
                shorten(other, 40)
            ))),
        }
    }
}

impl Note {
    async fn list(&self, user_id: UserId) -> Result<ToolOutput, ToolError> {
        let notes = self.store.list_notes(user_id).await?;
        if notes.is_empty() {
            return Ok(ToolOutput::plain(
                "No notes yet. Save one with /note save <title> <text>.",
            ));
        }
        let lines: Vec<String> = notes
            .iter()
            .map(|n| format!("#{} {}", n.id, shorten(&n.title, 80)))
            .collect();
        Ok(ToolOutput::plain(lines.join("\n")))
    }

    async fn get(&self, user_id: UserId, args: &Value) -> Result<ToolOutput, ToolError> {
        if let Some(id) = id_arg(args) {
            // By number, the answer stays what it always was: the number, then the text.
            return match self.store.note(user_id, id).await? {
                Some(n) => Ok(ToolOutput::plain(format!("#{}\n{}", n.id, n.body))),
                None => Err(ToolError::Failed(format!("You have no note #{id}."))),
            };
        }
        let title = checked_title(args)?;
        if let Some(note) = self.store.notes_titled(user_id, &title).await?.first() {
            return Ok(ToolOutput::plain(show(note)));
        }
        let all = self.store.list_notes(user_id).await?;
        let close = closest_titles(&title, &all);
        Err(ToolError::Failed(if close.is_empty() {
            format!("You have no note titled “{title}”. See /note list.")
        } else {
            let names: Vec<String> = close.iter().map(|t| format!("“{t}”")).collect();
            format!(
                "You have no note titled “{title}”. Did you mean {}?",
                names.join(" or ")
            )
        }))
    }

    async fn delete(&self, user_id: UserId, args: &Value) -> Result<ToolOutput, ToolError> {
        if let Some(id) = id_arg(args) {
            return match self.store.delete_note(user_id, id).await? {
                true => Ok(ToolOutput::plain(format!("Deleted note #{id}."))),
                false => Err(ToolError::Failed(format!("You have no note #{id}."))),
            };
        }
        let title = checked_title(args)?;
        match self.store.delete_notes_titled(user_id, &title).await? {
            0 => Err(ToolError::Failed(format!(
                "You have no note titled “{title}”. See /note list."
            ))),
            1 => Ok(ToolOutput::plain(format!("Deleted your note “{title}”."))),
            n => Ok(ToolOutput::plain(format!(
                "Deleted your {n} notes titled “{title}”."
            ))),
        }
    }
}

/// A note as shown by `get`.
fn show(note: &StoredNote) -> String {
    format!("#{} {}\n{}", note.id, note.title, note.body)
}

/// The title argument, trimmed and within bounds.
fn checked_title(args: &Value) -> Result<String, ToolError> {
    let title = unquote(str_arg(args, "title", USAGE)?);
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(ToolError::InvalidArguments(format!(
            "A title may have at most {MAX_TITLE_CHARS} characters."
        )));
    }
    Ok(title.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// The text argument, within bounds.
fn checked_text(args: &Value) -> Result<&str, ToolError> {
    let text = str_arg(args, "text", USAGE)?.trim();
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(ToolError::InvalidArguments(format!(
            "A note may have at most {MAX_TEXT_CHARS} characters."
        )));
    }
    Ok(text)
}

/// A note number from `id` (number or numeric string), when given.
fn id_arg(args: &Value) -> Option<i64> {
    match args.get("id")? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => note_number(s),
        _ => None,
    }
}

/// `12` or `#12` as a note number.
fn note_number(text: &str) -> Option<i64> {
    let digits = text.trim().strip_prefix('#').unwrap_or(text.trim());
    (!digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// Splits `save`'s arguments into title and text: a quoted title (`"locker code" 4711`), a title
/// ended by a colon or a line break (`locker code: 4711`), or else the first word.
fn split_title(rest: &str) -> (String, String) {
    for (open, close) in [('"', '"'), ('“', '”'), ('\'', '\'')] {
        if let Some(inner) = rest.strip_prefix(open)
            && let Some((title, text)) = inner.split_once(close)
        {
            return (title.trim().to_string(), text.trim().to_string());
        }
    }
    let first_line = rest.lines().next().unwrap_or("");
    if let Some((title, _)) = first_line.split_once(':')
        && !title.trim().is_empty()
    {
        let text = &rest[title.len() + 1..];
        return (title.trim().to_string(), text.trim().to_string());
    }
    if rest.contains('\n') && !first_line.trim().is_empty() {
        let text = &rest[first_line.len()..];
        return (first_line.trim().to_string(), text.trim().to_string());
    }
    let (title, text) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    (title.to_string(), text.trim().to_string())
}

/// `text` without one pair of surrounding quotes.
fn unquote(text: &str) -> String {
    let t = text.trim();
    for (open, close) in [('"', '"'), ('“', '”'), ('\'', '\'')] {
        if let Some(inner) = t.strip_prefix(open).and_then(|s| s.strip_suffix(close)) {
            return inner.trim().to_string();
        }
    }
    t.to_string()
}

/// Up to [`SUGGESTIONS`] titles close to `wanted`: similar spelling (Jaro-Winkler) or one
/// containing the other.
fn closest_titles(wanted: &str, notes: &[StoredNote]) -> Vec<String> {
    let key = title_key(wanted);
    let mut scored: Vec<(f64, &str)> = notes
        .iter()
        .map(|n| {
            let other = title_key(&n.title);
            let mut score = strsim::jaro_winkler(&key, &other);
            if !key.is_empty() && (other.contains(&key) || key.contains(&other)) {
                score = score.max(0.9);
            }
            (score, n.title.as_str())
        })
        .filter(|(score, _)| *score >= 0.75)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut out: Vec<String> = Vec::new();
    for (_, title) in scored {
        if !out.iter().any(|t| title_key(t) == title_key(title)) {
            out.push(shorten(title, 80));
        }
        if out.len() == SUGGESTIONS {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_takes_a_quoted_colon_ended_line_ended_or_one_word_title() {
        let cases = [
            ("\"locker code\" 4711", ("locker code", "4711")),
            (
                "locker code: 4711 at the gym",
                ("locker code", "4711 at the gym"),
            ),
            ("wifi\npassword is hunter2", ("wifi", "password is hunter2")),
            ("wifi hunter2 at home", ("wifi", "hunter2 at home")),
        ];
        for (input, (title, text)) in cases {
            assert_eq!(
                split_title(input),
                (title.to_string(), text.to_string()),
                "{input}"
            );
        }
    }

    #[test]
    fn get_by_number_or_by_title() {
        let note = Note::new(Store::open_in_memory().unwrap());
        assert_eq!(
            note.parse_command("get 12").unwrap(),
            json!({"action": "get", "id": 12})
        );
        assert_eq!(
            note.parse_command("get #3").unwrap(),
            json!({"action": "get", "id": 3})
        );
        assert_eq!(
            note.parse_command("delete Locker Code").unwrap(),
            json!({"action": "delete", "title": "Locker Code"})
        );
        assert_eq!(note.effect_of(&json!({"action": "get"})), Effect::Read);
        assert_eq!(note.effect_of(&json!({"action": "list"})), Effect::Read);
        assert_eq!(note.effect_of(&json!({"action": "save"})), Effect::Write);
        assert_eq!(note.effect_of(&json!({"action": "delete"})), Effect::Write);
    }

    #[test]
    fn a_near_title_is_suggested_and_a_far_one_is_not() {
        let note = |title: &str| StoredNote {
            id: 1,
            title: title.into(),
            body: String::new(),
        };
        let notes = [note("Locker code"), note("Dentist"), note("wifi password")];
        assert_eq!(closest_titles("locker cod", &notes), vec!["Locker code"]);
        assert_eq!(closest_titles("wifi", &notes), vec!["wifi password"]);
        assert!(closest_titles("zebra", &notes).is_empty());
    }
}
