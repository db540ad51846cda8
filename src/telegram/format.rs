//! Text formats of outgoing messages: [`render`] turns a reply's channel-neutral text into what
//! Telegram reads (the [`ChunkFormat`] a chunk is sent with), HTML escaping, the Markdown →
//! Telegram-HTML conversion ([`markdown_to_html`]) and the way back to plain text
//! ([`html_to_plain`]) used when Telegram refuses a chunk with "can't parse entities".

mod markdown;

pub use markdown::markdown_to_html;

use crate::markup::Markup;
pub use crate::store::ChunkFormat;

/// Renders a reply's channel-neutral text for Telegram: Markdown becomes Telegram HTML, plain
/// text is sent as is. The one place where a reply turns into Telegram's markup.
pub fn render(text: &str, markup: Markup) -> (String, ChunkFormat) {
    match markup {
        Markup::Markdown => (markdown_to_html(text), ChunkFormat::Html),
        Markup::Plain => (text.to_string(), ChunkFormat::Plain),
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
    use crate::markup::escape_markdown;

    #[test]
    fn markdown_renders_to_html_and_plain_text_stays_as_is() {
        assert_eq!(
            render("**Hi** <you> & `x`", Markup::Markdown),
            (
                "<b>Hi</b> &lt;you&gt; &amp; <code>x</code>".to_string(),
                ChunkFormat::Html
            )
        );
        assert_eq!(
            render("**Hi** <you>", Markup::Plain),
            ("**Hi** <you>".to_string(), ChunkFormat::Plain)
        );
    }

    #[test]
    fn escaped_outside_text_renders_as_exactly_those_characters() {
        let subject = "*Sale* <b>now</b> & _more_";
        let md = format!("**{}** wrote", escape_markdown(subject));
        assert_eq!(
            render(&md, Markup::Markdown).0,
            "<b>*Sale* &lt;b&gt;now&lt;/b&gt; &amp; _more_</b> wrote"
        );
        let echo = format!("_{}_\n\n**Hi**", escape_markdown("🎤 “a *b* <i> & c”"));
        assert_eq!(
            render(&echo, Markup::Markdown).0,
            "<i>🎤 “a *b* &lt;i&gt; &amp; c”</i>\n\n<b>Hi</b>"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_escaped_text_shows_as_written_in_telegram(
            text in r"(?s)[^\r]{0,200}|[-#>+*_~`\\\[\]()!<>&h:/ \na-z]{0,80}"
        ) {
            let (html, format) = render(&escape_markdown(&text), Markup::Markdown);
            proptest::prop_assert_eq!(format, ChunkFormat::Html);
            proptest::prop_assert_eq!(html_to_plain(&html), text);
        }
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
