//! Splitting a long reply into chunks Telegram accepts (at most 4096 UTF-16 code units each).
//!
//! One walk over the text per chunk records the latest cut of each kind that still fits
//! (paragraph, line, sentence, space, anywhere), then takes the best kind. In HTML the walk steps
//! over whole tags and entities and tracks the open elements: cuts outside any element are
//! preferred, and an element that must be cut is closed at the end of the chunk and reopened,
//! with the same attributes, at the start of the next (those tags count toward the limit).

mod walk;

use super::format::{ChunkFormat, entity, tag_len};
use walk::next_cut;

/// Telegram's limit on a message text, in UTF-16 code units.
pub const TELEGRAM_MAX_UTF16: usize = 4096;

/// The length of `s` in UTF-16 code units, the unit of Telegram's limits.
pub fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// Splits `text` into chunks of at most `limit` UTF-16 code units, measured on the raw string.
///
/// Cuts go at the last paragraph break that fits, else the last line break, sentence end
/// (`. `, `! `, `? `, `。`), whitespace, else anywhere between two characters; the whitespace at a
/// cut is dropped (inside `<pre>`/`<code>` only the separator, so indentation survives), and so
/// is a run of whitespace too long for one chunk before any visible character. Text that
/// fits is returned unchanged as one chunk; text with nothing visible (empty, only whitespace or
/// tags) gives no chunk. For [`ChunkFormat::Html`] a cut never falls inside a tag or an entity, and
/// every chunk is well-formed when the input is. A `limit` too small for even one character plus
/// the reopened tags yields chunks of one character over the limit rather than no progress.
pub fn split_message(text: &str, format: ChunkFormat, limit: usize) -> Vec<String> {
    let html = format == ChunkFormat::Html;
    if !has_visible(text, html) {
        return Vec::new();
    }
    if utf16_len(text) <= limit {
        return vec![text.to_string()];
    }
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut open: Vec<OpenTag> = Vec::new();
    while start < text.len() {
        let cut = next_cut(text, start, &open, limit, html);
        let stack = stack_after(text, start, cut.end, &open, html);
        if has_visible(&text[start..cut.end], html) {
            chunks.push(render(&open, &text[start..cut.end], &stack));
        }
        start = cut.next;
        open = stack;
    }
    chunks
}

/// An element open at some point of the text: its lowercase name and its opening tag verbatim.
#[derive(Debug, Clone)]
struct OpenTag {
    name: String,
    raw: String,
}

/// One step of the walk over the text.
enum Token<'a> {
    /// A character of text.
    Char(char),
    /// An HTML entity such as `&amp;` (one visible character).
    Entity,
    /// An opening tag.
    Open(&'a str),
    /// A closing tag with its name.
    Close(&'a str),
    /// A comment or self-closing tag: no effect on nesting.
    Other,
}

/// The token starting at byte `p` and its byte length.
fn token_at(text: &str, p: usize, html: bool) -> (Token<'_>, usize) {
    let rest = &text[p..];
    let c = rest.chars().next().unwrap_or('\0');
    if html
        && c == '<'
        && let Some(len) = tag_len(rest)
    {
        let raw = &rest[..len];
        let token = if let Some(closing) = raw.strip_prefix("</") {
            Token::Close(tag_name(closing))
        } else if raw.starts_with("<!") || raw.ends_with("/>") {
            Token::Other
        } else {
            Token::Open(raw)
        };
        return (token, len);
    }
    if html
        && c == '&'
        && let Some((_, len)) = entity(rest)
    {
        return (Token::Entity, len);
    }
    (Token::Char(c), c.len_utf8())
}

/// The element name at the start of a tag body (`b`, `tg-spoiler`, ...).
fn tag_name(body: &str) -> &str {
    let body = body.strip_prefix('<').unwrap_or(body);
    let end = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .unwrap_or(body.len());
    &body[..end]
}

/// Applies a token to the stack of open elements; returns whether the stack changed.
fn apply(stack: &mut Vec<OpenTag>, token: &Token<'_>) -> bool {
    match token {
        Token::Open(raw) => {
            let name = tag_name(raw).to_ascii_lowercase();
            stack.push(OpenTag {
                name,
                raw: raw.to_string(),
            });
            true
        }
        Token::Close(name) => match stack
            .iter()
            .rposition(|t| t.name.eq_ignore_ascii_case(name))
        {
            Some(at) => {
                stack.truncate(at);
                true
            }
            None => false,
        },
        _ => false,
    }
}

/// UTF-16 length of the closing tags for `stack`.
fn closers_len(stack: &[OpenTag]) -> usize {
    stack.iter().map(|t| t.name.len() + 3).sum()
}

/// Whether the stack has a `<pre>` or `<code>` open (whitespace there is content).
fn in_code(stack: &[OpenTag]) -> bool {
    stack.iter().any(|t| t.name == "pre" || t.name == "code")
}

/// Whether `s` has a character a reader would see (not whitespace, not a tag).
fn has_visible(s: &str, html: bool) -> bool {
    let mut p = 0;
    while p < s.len() {
        let (token, len) = token_at(s, p, html);
        match token {
            Token::Char(c) if !c.is_whitespace() => return true,
            Token::Entity => return true,
            _ => p += len,
        }
    }
    false
}

/// The open elements after walking `text[start..end]` with `open` already open.
fn stack_after(text: &str, start: usize, end: usize, open: &[OpenTag], html: bool) -> Vec<OpenTag> {
    let mut stack = open.to_vec();
    let mut p = start;
    while p < end {
        let (token, len) = token_at(text, p, html);
        apply(&mut stack, &token);
        p += len;
    }
    stack
}

/// A chunk: the reopened tags, the slice, and the closing tags of what is still open.
fn render(open: &[OpenTag], body: &str, stack: &[OpenTag]) -> String {
    let mut out = String::with_capacity(body.len() + 64);
    open.iter().for_each(|t| out.push_str(&t.raw));
    out.push_str(body);
    for tag in stack.iter().rev() {
        out.push_str("</");
        out.push_str(&tag.name);
        out.push('>');
    }
    out
}

/// Kinds of cut, best first.
#[derive(Clone, Copy)]
enum Kind {
    Paragraph = 0,
    Line = 1,
    Sentence = 2,
    Space = 3,
    Anywhere = 4,
}

/// A possible cut: the chunk ends at `end`; the next chunk starts at `next`, after skipping
/// whitespace when `skip_space` (resolved by the walk before it returns a cut).
#[derive(Clone, Copy)]
struct Cut {
    end: usize,
    next: usize,
    skip_space: bool,
}

/// The latest fitting cut of each kind, outside any element (`[0]`) and anywhere (`[1]`).
#[derive(Default)]
struct Candidates {
    best: [[Option<Cut>; 5]; 2],
}

impl Candidates {
    fn offer(&mut self, kind: Kind, top_level: bool, cut: Cut) {
        self.best[1][kind as usize] = Some(cut);
        if top_level {
            self.best[0][kind as usize] = Some(cut);
        }
    }

    /// Cuts outside elements first (except "anywhere"), then any cut, best kind first.
    fn pick(&self) -> Option<Cut> {
        let outside = self.best[0][..4].iter();
        outside.chain(self.best[1].iter()).find_map(|c| *c)
    }
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
pub(crate) mod tests;
