//! Telegram's `parse_mode: "HTML"` as the fake enforces it: the supported tags, proper nesting,
//! escaped `<`, `>` and `&` outside tags (stricter than Telegram, which lets a lone `&` or `>`
//! through, so an escaping bug in our formatter cannot hide), and only the named entities
//! `&lt; &gt; &amp; &quot;` plus numeric ones. The result is the text a user sees and its entities.

use serde_json::{Value, json};

/// Text after tags were removed and entities decoded, with Telegram-style message entities.
pub struct Parsed {
    /// What the user sees.
    pub text: String,
    /// MessageEntity JSON objects (offsets and lengths in UTF-16 code units).
    pub entities: Vec<Value>,
}

struct Open {
    name: String,
    start: usize,
    entity: Value,
}

/// Parses Telegram HTML; the error is the reason that follows "can't parse entities: ".
pub fn parse(html: &str) -> Result<Parsed, String> {
    let mut text = String::new();
    let mut utf16 = 0;
    let mut stack: Vec<Open> = Vec::new();
    let mut entities = Vec::new();
    let mut i = 0;
    while let Some(c) = html[i..].chars().next() {
        match c {
            '<' => {
                let end = html[i..]
                    .find('>')
                    .map(|e| i + e)
                    .ok_or_else(|| format!("Unclosed start tag at byte offset {i}"))?;
                let inner = &html[i + 1..end];
                if let Some(name) = inner.strip_prefix('/') {
                    let open = close_tag(&mut stack, name.trim(), i)?;
                    if let Some(entity) = finish(open, utf16, &mut stack) {
                        entities.push(entity);
                    }
                } else {
                    let (name, entity) = open_tag(inner, i)?;
                    stack.push(Open {
                        name,
                        start: utf16,
                        entity,
                    });
                }
                i = end + 1;
            }
            '&' => {
                let (decoded, len) = entity_at(&html[i..])
                    .ok_or_else(|| format!("Unescaped \"&\" at byte offset {i}, use &amp;"))?;
                text.push(decoded);
                utf16 += decoded.len_utf16();
                i += len;
            }
            '>' => return Err(format!("Unescaped \">\" at byte offset {i}, use &gt;")),
            _ => {
                text.push(c);
                utf16 += c.len_utf16();
                i += c.len_utf8();
            }
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!(
            "Can't find end tag corresponding to start tag \"{}\"",
            open.name
        ));
    }
    entities.sort_by_key(|e| {
        (
            e["offset"].as_u64(),
            std::cmp::Reverse(e["length"].as_u64()),
        )
    });
    Ok(Parsed { text, entities })
}

fn close_tag(stack: &mut Vec<Open>, name: &str, at: usize) -> Result<Open, String> {
    let name = name.to_ascii_lowercase();
    let open = stack
        .pop()
        .ok_or_else(|| format!("Unexpected end tag at byte offset {at}"))?;
    if open.name != name {
        return Err(format!(
            "Unmatched end tag at byte offset {at}, expected \"</{}>\", found \"</{name}>\"",
            open.name
        ));
    }
    Ok(open)
}

/// Turns a closed tag into its entity; `<code class="language-x">` inside `<pre>` sets the
/// language of the `pre` entity instead of producing an entity of its own.
fn finish(open: Open, end: usize, stack: &mut [Open]) -> Option<Value> {
    let mut entity = open.entity;
    if open.name == "code"
        && let Some(language) = entity.as_object_mut()?.remove("language")
        && let Some(pre) = stack.last_mut().filter(|p| p.name == "pre")
    {
        pre.entity["language"] = language;
        return None;
    }
    let length = end - open.start;
    if length == 0 {
        return None;
    }
    entity["offset"] = json!(open.start);
    entity["length"] = json!(length);
    Some(entity)
}

/// Parses the inside of a start tag into its name and the entity it will produce.
fn open_tag(inner: &str, at: usize) -> Result<(String, Value), String> {
    let name_end = inner
        .find(|c: char| c.is_whitespace())
        .unwrap_or(inner.len());
    let name = inner[..name_end].to_ascii_lowercase();
    let attrs = attributes(&inner[name_end..], at)?;
    let attr = |key: &str| attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let kind = match name.as_str() {
        "b" | "strong" => json!({"type": "bold"}),
        "i" | "em" => json!({"type": "italic"}),
        "u" | "ins" => json!({"type": "underline"}),
        "s" | "strike" | "del" => json!({"type": "strikethrough"}),
        "tg-spoiler" => json!({"type": "spoiler"}),
        "span" if attr("class").as_deref() == Some("tg-spoiler") => json!({"type": "spoiler"}),
        "span" => {
            return Err(format!(
                "Tag \"span\" must have class \"tg-spoiler\" at byte offset {at}"
            ));
        }
        "a" => match attr("href") {
            Some(url) => json!({"type": "text_link", "url": url}),
            None => {
                return Err(format!(
                    "Tag \"a\" must have attribute \"href\" at byte offset {at}"
                ));
            }
        },
        "code" => {
            match attr("class").and_then(|c| c.strip_prefix("language-").map(str::to_owned)) {
                Some(language) => json!({"type": "code", "language": language}),
                None => json!({"type": "code"}),
            }
        }
        "pre" => json!({"type": "pre"}),
        "blockquote" if attrs.iter().any(|(k, _)| k == "expandable") => {
            json!({"type": "expandable_blockquote"})
        }
        "blockquote" => json!({"type": "blockquote"}),
        "tg-emoji" => match attr("emoji-id") {
            Some(id) => json!({"type": "custom_emoji", "custom_emoji_id": id}),
            None => {
                return Err(format!(
                    "Tag \"tg-emoji\" must have attribute \"emoji-id\" at byte offset {at}"
                ));
            }
        },
        _ => {
            return Err(format!(
                "Unsupported start tag \"{name}\" at byte offset {at}"
            ));
        }
    };
    Ok((name, kind))
}

/// `key="value"`, `key='value'`, `key=value` or a bare `key`; values are entity-decoded.
fn attributes(mut rest: &str, at: usize) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return Ok(out);
        }
        let key_end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let key = rest[..key_end].to_ascii_lowercase();
        rest = rest[key_end..].trim_start();
        let Some(after_eq) = rest.strip_prefix('=') else {
            out.push((key, String::new()));
            continue;
        };
        let after_eq = after_eq.trim_start();
        let (raw, remaining) = match after_eq.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let close = after_eq[1..]
                    .find(q)
                    .ok_or_else(|| format!("Unclosed attribute value at byte offset {at}"))?;
                (&after_eq[1..=close], &after_eq[close + 2..])
            }
            _ => {
                let end = after_eq.find(char::is_whitespace).unwrap_or(after_eq.len());
                (&after_eq[..end], &after_eq[end..])
            }
        };
        out.push((key, decode_value(raw, at)?));
        rest = remaining;
    }
}

fn decode_value(raw: &str, at: usize) -> Result<String, String> {
    let mut out = String::new();
    let mut i = 0;
    while let Some(c) = raw[i..].chars().next() {
        if c == '&' {
            let (decoded, len) = entity_at(&raw[i..])
                .ok_or_else(|| format!("Unescaped \"&\" in attribute at byte offset {at}"))?;
            out.push(decoded);
            i += len;
        } else {
            out.push(c);
            i += c.len_utf8();
        }
    }
    Ok(out)
}

/// Decodes the entity at the start of `s` (which begins with `&`): the char and bytes consumed.
fn entity_at(s: &str) -> Option<(char, usize)> {
    let semi = s.get(..12).unwrap_or(s).find(';')?;
    let body = &s[1..semi];
    let decoded = match body {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        _ => {
            let num = body.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse().ok()?,
            };
            char::from_u32(code)?
        }
    };
    Some((decoded, semi + 1))
}
