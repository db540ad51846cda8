//! `multipart/form-data` bodies, which teloxide uses for methods that may upload a file
//! (setWebhook, sendDocument, sendVoice, ...). Form values are strings on the wire; like Telegram,
//! the fake reads a value as JSON when the parameter's type is not a plain String.

use serde_json::{Map, Value};

use crate::support::bot_api_spec::Definition;

/// The form fields as JSON parameters; an uploaded file becomes the string `<file NAME>`.
/// `None` when the body is not well-formed multipart.
pub fn parse(
    content_type: &str,
    body: &[u8],
    method: Option<&Definition>,
) -> Option<Map<String, Value>> {
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))?
        .trim_matches('"');
    let text = String::from_utf8_lossy(body);
    let mut params = Map::new();
    for section in text.split(&format!("--{boundary}")).skip(1) {
        if section.starts_with("--") {
            return Some(params);
        }
        let (head, content) = section.strip_prefix("\r\n")?.split_once("\r\n\r\n")?;
        let content = content.strip_suffix("\r\n").unwrap_or(content);
        let name = quoted_param(head, "name")?;
        let value = match quoted_param(head, "filename") {
            Some(file) => Value::String(format!("<file {file}>")),
            None => typed(method, &name, content),
        };
        params.insert(name, value);
    }
    None
}

/// `key="value"` from a Content-Disposition header block.
fn quoted_param(head: &str, key: &str) -> Option<String> {
    let start = head.find(&format!(" {key}=\""))? + key.len() + 3;
    let len = head[start..].find('"')?;
    Some(head[start..start + len].to_owned())
}

/// The form value as JSON when the parameter is not a plain String and it parses.
fn typed(method: Option<&Definition>, name: &str, raw: &str) -> Value {
    let string_only = method
        .and_then(|m| m.fields.iter().find(|f| f.name == name))
        .is_some_and(|f| f.types.iter().all(|t| t == "String"));
    match serde_json::from_str::<Value>(raw) {
        Ok(parsed) if !string_only && !parsed.is_string() => parsed,
        _ => Value::String(raw.to_owned()),
    }
}
