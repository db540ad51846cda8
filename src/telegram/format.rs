//! Text formats of outgoing messages: the [`TextFormat`] a chunk is sent with, HTML escaping, the
//! Markdown → Telegram-HTML conversion ([`markdown_to_html`]) and the way back to plain text
//! ([`html_to_plain`]) used when Telegram refuses a chunk with "can't parse entities".

mod markdown;

use std::fmt;
use std::str::FromStr;

pub use markdown::markdown_to_html;

/// How Telegram should read a message text (`parse_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum TextFormat {
    /// Sent as is, no `parse_mode`.
    Plain,
    /// Telegram's HTML subset (`parse_mode=HTML`).
    Html,
}

impl TextFormat {
    /// The stable lowercase name: `"plain"` or `"html"` (stored in the outbox, used in config).
    pub fn as_str(self) -> &'static str {
        match self {
            TextFormat::Plain => "plain",
            TextFormat::Html => "html",
        }
    }
}

impl fmt::Display for TextFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Errors of this module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// A format name other than `plain` or `html` (case-insensitive) was given.
    #[error("unknown text format {0:?} (expected \"plain\" or \"html\")")]
    UnknownFormat(String),
}

impl FromStr for TextFormat {
    type Err = FormatError;

    /// Parses `"plain"` or `"html"`, ignoring ASCII case and surrounding whitespace.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        if name.eq_ignore_ascii_case("plain") {
            Ok(TextFormat::Plain)
        } else if name.eq_ignore_ascii_case("html") {
            Ok(TextFormat::Html)
        } else {
            Err(FormatError::UnknownFormat(name.to_string()))
        }
    }
}

/// Escapes text for use between HTML tags: `&`, `<` and `>`.
pub fn escape_html(s: &str) -> String {
    escape(s, false)
}

/// Escapes text for use inside a double-quoted HTML attribute: `&`, `<`, `>` and `"`.
pub fn escape_attr(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, quotes: bool) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if quotes => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// Turns Telegram HTML back into the text a reader would see: tags are removed and the entities
/// `&lt; &gt; &amp; &quot; &apos; &#NN; &#xNN;` are decoded. A `<` that does not start a tag and an
/// unknown or malformed entity are kept as they are.
pub fn html_to_plain(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        let taken = match c {
            '<' => tag_len(rest),
            '&' => entity(rest).map(|(decoded, len)| {
                out.push(decoded);
                len
            }),
            _ => None,
        };
        match taken {
            Some(len) => rest = &rest[len..],
            None => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

/// The byte length of the tag at the start of `s` (`<b>`, `</a>`, `<a href="x>y">`, `<!-- -->`),
/// or `None` when `s` does not start with a complete tag.
pub(crate) fn tag_len(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let first = *bytes.get(1)?;
    if !(first.is_ascii_alphabetic() || first == b'/' || first == b'!') {
        return None;
    }
    let mut quote: Option<u8> = None;
    for (i, &b) in bytes.iter().enumerate().skip(1) {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'>') => return Some(i + 1),
            (None, b'<') => return None,
            _ => {}
        }
    }
    None
}

/// Decodes the entity at the start of `s`, returning the character and the entity's byte length.
pub(crate) fn entity(s: &str) -> Option<(char, usize)> {
    let end = s.as_bytes().iter().take(12).position(|&b| b == b';')?;
    let body = &s[1..end];
    let decoded = match body {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        "apos" => '\'',
        _ => {
            let num = body.strip_prefix('#')?;
            let (digits, radix) = match num.strip_prefix(['x', 'X']) {
                Some(hex) => (hex, 16),
                None => (num, 10),
            };
            if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
                return None;
            }
            let code = u32::from_str_radix(digits, radix).ok()?;
            char::from_u32(code)?
        }
    };
    Some((decoded, end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_format_round_trips_through_its_name() {
        for format in [TextFormat::Plain, TextFormat::Html] {
            assert_eq!(format.as_str().parse::<TextFormat>(), Ok(format));
            assert_eq!(format.to_string(), format.as_str());
        }
        assert_eq!(" HTML ".parse::<TextFormat>(), Ok(TextFormat::Html));
        assert_eq!(
            "markdown".parse::<TextFormat>(),
            Err(FormatError::UnknownFormat("markdown".into()))
        );
    }

    #[test]
    fn escaping_covers_markup_characters_and_quotes_only_in_attributes() {
        assert_eq!(
            escape_html(r#"a < b && c > "d""#),
            r#"a &lt; b &amp;&amp; c &gt; "d""#
        );
        assert_eq!(escape_attr(r#"x"y&z"#), "x&quot;y&amp;z");
        assert_eq!(escape_html("héllo 👋 世界"), "héllo 👋 世界");
    }

    #[test]
    fn html_to_plain_strips_tags_and_decodes_entities() {
        let html = r#"<b>Bold</b> &amp; <a href="https://x.y/?a=1&amp;b=2">link</a> &lt;tag&gt; &quot;q&quot; &#65;&#x42;&#X1F600;"#;
        assert_eq!(html_to_plain(html), r#"Bold & link <tag> "q" AB😀"#);
    }

    #[test]
    fn html_to_plain_keeps_what_is_not_markup() {
        assert_eq!(html_to_plain("1 < 2 & 3 > 2"), "1 < 2 & 3 > 2");
        assert_eq!(
            html_to_plain("&bogus; &#xZZ; &#1114112; &"),
            "&bogus; &#xZZ; &#1114112; &"
        );
        assert_eq!(html_to_plain("<b unclosed"), "<b unclosed");
        assert_eq!(html_to_plain(r#"<a href="a>b">x</a>"#), "x");
    }

    #[test]
    fn html_to_plain_inverts_escape_html() {
        let text = "if a<b && c>d { \"s\" } — 日本語 🎉";
        assert_eq!(html_to_plain(&escape_html(text)), text);
        assert_eq!(html_to_plain(&escape_attr(text)), text);
    }
}
