//! `multipart/form-data` bodies, which teloxide uses for methods that may upload a file
//! (setWebhook, sendDocument, sendPhoto, ...). Form values are strings on the wire; like Telegram,
//! the fake reads a value as JSON when the parameter's type is not a plain String. Uploaded files
//! keep their bytes, so a test can read what the bot sent.

use serde_json::{Map, Value};

use crate::support::bot_api_spec::Definition;

/// A file part of a form.
#[derive(Clone, Debug)]
pub struct Upload {
    /// The form field (`document`, `photo`, `certificate`).
    pub field: String,
    /// The file name the client gave.
    pub file_name: String,
    /// The content, byte for byte.
    pub bytes: Vec<u8>,
}

/// The form fields as JSON parameters (an uploaded file becomes the string `<file NAME>`) and
/// the uploaded files. `None` when the body is not well-formed multipart.
pub fn parse(
    content_type: &str,
    body: &[u8],
    method: Option<&Definition>,
) -> Option<(Map<String, Value>, Vec<Upload>)> {
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))?
        .trim_matches('"');
    let delimiter = format!("--{boundary}").into_bytes();
    let mut params = Map::new();
    let mut uploads = Vec::new();
    let mut sections = split(body, &delimiter).into_iter().skip(1);
    for section in sections.by_ref() {
        if section.starts_with(b"--") {
            resolve_attachments(&mut params, &mut uploads);
            return Some((params, uploads));
        }
        let section = section.strip_prefix(b"\r\n")?;
        let head_end = find(section, b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&section[..head_end]);
        let content = &section[head_end + 4..];
        let content = content.strip_suffix(b"\r\n").unwrap_or(content);
        let name = quoted_param(&head, "name")?;
        let value = match quoted_param(&head, "filename") {
            Some(file) => {
                uploads.push(Upload {
                    field: name.clone(),
                    file_name: file.clone(),
                    bytes: content.to_vec(),
                });
                Value::String(format!("<file {file}>"))
            }
            None => typed(method, &name, &String::from_utf8_lossy(content)),
        };
        params.insert(name, value);
    }
    None
}

/// teloxide sends a file as its own part under a random name and sets the parameter to
/// `attach://<name>`, which Telegram accepts: the part becomes that parameter's upload.
fn resolve_attachments(params: &mut Map<String, Value>, uploads: &mut [Upload]) {
    let attached: Vec<(String, String)> = params
        .iter()
        .filter_map(|(key, value)| {
            let part = value.as_str()?.strip_prefix("attach://")?;
            Some((key.clone(), part.to_owned()))
        })
        .collect();
    for (key, part) in attached {
        if let Some(upload) = uploads.iter_mut().find(|u| u.field == part) {
            params.remove(&part);
            params.insert(
                key.clone(),
                Value::String(format!("<file {}>", upload.file_name)),
            );
            upload.field = key;
        }
    }
}

/// `body` cut at every occurrence of `delimiter` (the delimiters left out).
fn split<'a>(body: &'a [u8], delimiter: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut rest = body;
    while let Some(at) = find(rest, delimiter) {
        parts.push(&rest[..at]);
        rest = &rest[at + delimiter.len()..];
    }
    parts.push(rest);
    parts
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
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
