//! A Gmail `format=full` message → [`EmailMessage`]: subject, from, date and a bounded text body
//! (text/plain preferred, else HTML turned into text; base64url decoded; multipart walked).
//! CPU work on outside input: callers run it off the async threads.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use super::html_text::html_to_text;

/// Most characters of body text kept per message.
pub const BODY_CHAR_LIMIT: usize = 4_000;
/// Most characters kept of a header (subject, from, date).
const HEADER_CHAR_LIMIT: usize = 300;
/// Most bytes of an HTML body converted to text: far more than [`BODY_CHAR_LIMIT`] characters
/// need, and it bounds the work on a 25 MB message.
pub const HTML_BYTE_LIMIT: usize = 2 * 1024 * 1024;

/// One email as the summariser sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailMessage {
    /// Gmail message id.
    pub id: String,
    /// `Subject` header (empty when missing).
    pub subject: String,
    /// `From` header.
    pub from: String,
    /// `Date` header as sent.
    pub date: String,
    /// Body text, at most [`BODY_CHAR_LIMIT`] characters (Gmail's snippet when there is none).
    pub body: String,
}

#[derive(Deserialize)]
struct RawMessage {
    id: String,
    #[serde(default)]
    snippet: String,
    payload: Option<Part>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Part {
    #[serde(default)]
    mime_type: String,
    #[serde(default)]
    filename: String,
    #[serde(default)]
    headers: Vec<Header>,
    body: Option<Body>,
    #[serde(default)]
    parts: Vec<Part>,
}

#[derive(Deserialize)]
struct Header {
    name: String,
    value: String,
}

#[derive(Deserialize)]
struct Body {
    data: Option<String>,
}

/// Parses the JSON of `users.messages.get?format=full`.
pub fn parse_message(json: &[u8]) -> Result<EmailMessage, serde_json::Error> {
    let raw: RawMessage = serde_json::from_slice(json)?;
    let header = |name: &str| {
        raw.payload
            .as_ref()
            .and_then(|p| p.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)))
            .map(|h| truncate_chars(h.value.trim(), HEADER_CHAR_LIMIT))
            .unwrap_or_default()
    };
    let body = raw
        .payload
        .as_ref()
        .and_then(|p| {
            first_text(p, "text/plain").or_else(|| {
                first_text(p, "text/html")
                    .map(|html| html_to_text(&html[..html.floor_char_boundary(HTML_BYTE_LIMIT)]))
            })
        })
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| html_to_text(&raw.snippet));
    Ok(EmailMessage {
        subject: header("Subject"),
        from: header("From"),
        date: header("Date"),
        body: truncate_chars(body.trim(), BODY_CHAR_LIMIT),
        id: raw.id,
    })
}

/// The decoded body of the first inline part of `mime` type, depth first.
fn first_text(part: &Part, mime: &str) -> Option<String> {
    if part.mime_type.eq_ignore_ascii_case(mime) && part.filename.is_empty() {
        let data = part.body.as_ref()?.data.as_deref()?;
        return decode_base64url(data);
    }
    part.parts.iter().find_map(|p| first_text(p, mime))
}

/// Decodes Gmail's base64url (with or without padding) into text, replacing invalid UTF-8.
pub fn decode_base64url(data: &str) -> Option<String> {
    let cleaned: String = data
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    let bytes = URL_SAFE_NO_PAD.decode(cleaned).ok()?;
    Some(String::from_utf8_lossy(&bytes).replace("\r\n", "\n"))
}

fn truncate_chars(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(text: &str) -> String {
        URL_SAFE_NO_PAD.encode(text)
    }

    #[test]
    fn plain_text_is_preferred_in_multipart_alternative() {
        let json = serde_json::json!({
            "id": "m1", "snippet": "snip",
            "payload": {"mimeType": "multipart/mixed", "headers": [
                {"name": "Subject", "value": "Invoice"}, {"name": "from", "value": "Bank <b@bank.example>"},
                {"name": "Date", "value": "Mon, 3 Mar 2025 10:00:00 +0000"}],
              "body": {"size": 0},
              "parts": [
                {"mimeType": "multipart/alternative", "body": {"size": 0}, "parts": [
                    {"mimeType": "text/html", "body": {"data": b64("<p>HTML version</p>")}},
                    {"mimeType": "text/plain", "body": {"data": b64("Plain → version?\r\n")}}]},
                {"mimeType": "text/plain", "filename": "a.txt", "body": {"attachmentId": "x"}}]}
        });
        let msg = parse_message(json.to_string().as_bytes()).unwrap();
        assert_eq!(msg.subject, "Invoice");
        assert_eq!(msg.from, "Bank <b@bank.example>");
        assert_eq!(msg.date, "Mon, 3 Mar 2025 10:00:00 +0000");
        assert_eq!(msg.body, "Plain → version?");
    }

    #[test]
    fn html_only_body_is_stripped_and_long_bodies_are_capped() {
        let long = "x".repeat(BODY_CHAR_LIMIT + 50);
        let json = serde_json::json!({"id": "m2", "payload": {"mimeType": "text/html",
            "headers": [], "body": {"data": b64(&format!("<div>Hi &amp; bye</div><p>{long}</p>"))}}});
        let msg = parse_message(json.to_string().as_bytes()).unwrap();
        assert!(
            msg.body.starts_with("Hi & bye\n\nxxx"),
            "{}",
            &msg.body[..20]
        );
        assert_eq!(msg.body.chars().count(), BODY_CHAR_LIMIT + 1);
        assert!(msg.body.ends_with('…'));
    }

    #[test]
    fn padded_base64_decodes_and_missing_body_falls_back_to_snippet() {
        assert_eq!(decode_base64url("aGk_Pz8=").unwrap(), "hi???");
        let json = serde_json::json!({"id": "m3", "snippet": "It&#39;s here",
            "payload": {"mimeType": "text/plain", "headers": [], "body": {"size": 0}}});
        assert_eq!(
            parse_message(json.to_string().as_bytes()).unwrap().body,
            "It's here"
        );
    }
}
