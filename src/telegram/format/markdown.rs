//! Markdown as LLMs write it → the HTML subset Telegram accepts (`b i s a code pre blockquote`).
//!
//! Block level works line by line here (fences, quotes, headings, bullets, rules); inline
//! markup is in the `inline` module. Every emitted tag is closed by the code that opened it, so
//! the output is always well-formed, and a marker without a partner stays text.

mod inline;

use super::escape_html;
use inline::inline;

/// What a horizontal rule (`---`, `***`, `___`) becomes.
const RULE: &str = "──────────";

/// Converts Markdown (as LLMs typically write it) into Telegram-safe HTML.
///
/// Supported: `**bold**`, `__bold__`, `*italic*`, `_italic_` (not inside words such as
/// `snake_case`), `~~strike~~`, `` `code` ``, fenced code blocks with an optional language,
/// `[text](url)` for http, https, tg and mailto URLs, `# headings` (bold line), `> quotes`,
/// `-`/`*`/`+` bullets (`• item`) and `---` rules. Numbered lists and everything else pass through,
/// HTML-escaped. An unclosed fence runs to the end of the text, as in CommonMark.
pub fn markdown_to_html(md: &str) -> String {
    let lines: Vec<&str> = md.split('\n').map(|l| l.trim_end_matches('\r')).collect();
    let mut blocks: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if let Some(fence) = Fence::open(lines[i]) {
            i = code_block(&lines, i, &fence, &mut blocks);
        } else if quote_body(lines[i]).is_some() {
            i = quote_block(&lines, i, &mut blocks);
        } else {
            blocks.push(convert_line(lines[i]));
            i += 1;
        }
    }
    blocks.join("\n")
}

/// An opening code fence: its character, length, indentation and language.
struct Fence {
    marker: char,
    len: usize,
    indent: usize,
    lang: Option<String>,
}

impl Fence {
    fn open(line: &str) -> Option<Fence> {
        let body = line.trim_start();
        let marker = body.chars().next().filter(|c| *c == '`' || *c == '~')?;
        let len = body.chars().take_while(|c| *c == marker).count();
        let info = body[len..].trim();
        if len < 3 || (marker == '`' && info.contains('`')) {
            return None;
        }
        let word = info.split_whitespace().next().unwrap_or("");
        let valid = |c: char| c.is_ascii_alphanumeric() || "+-#._".contains(c);
        let lang = (!word.is_empty() && word.len() <= 32 && word.chars().all(valid))
            .then(|| word.to_ascii_lowercase());
        let indent = line.len() - body.len();
        Some(Fence {
            marker,
            len,
            indent,
            lang,
        })
    }

    fn closes(&self, line: &str) -> bool {
        let body = line.trim();
        body.len() >= self.len && body.chars().all(|c| c == self.marker)
    }
}

/// Emits the fenced block starting at `lines[start]`; returns the index of the next line.
fn code_block(lines: &[&str], start: usize, fence: &Fence, blocks: &mut Vec<String>) -> usize {
    let mut end = start + 1;
    while end < lines.len() && !fence.closes(lines[end]) {
        end += 1;
    }
    let code: Vec<&str> = lines[start + 1..end.min(lines.len())]
        .iter()
        .map(|l| strip_indent(l, fence.indent))
        .collect();
    let code = escape_html(&code.join("\n"));
    blocks.push(match &fence.lang {
        Some(lang) => format!("<pre><code class=\"language-{lang}\">{code}</code></pre>"),
        None => format!("<pre>{code}</pre>"),
    });
    end + 1
}

/// Removes up to `n` leading spaces (the fence's own indentation) from a code line.
fn strip_indent(line: &str, n: usize) -> &str {
    let spaces = line.bytes().take(n).take_while(|b| *b == b' ').count();
    &line[spaces..]
}

/// The text after `>` when `line` is a quote line.
fn quote_body(line: &str) -> Option<&str> {
    let body = line.trim_start().strip_prefix('>')?;
    Some(body.strip_prefix(' ').unwrap_or(body))
}

/// Emits consecutive quote lines as one blockquote; returns the index of the next line.
fn quote_block(lines: &[&str], start: usize, blocks: &mut Vec<String>) -> usize {
    let mut end = start;
    let mut inner = Vec::new();
    while let Some(body) = lines.get(end).and_then(|l| quote_body(l)) {
        inner.push(convert_line(body));
        end += 1;
    }
    blocks.push(format!("<blockquote>{}</blockquote>", inner.join("\n")));
    end
}

/// Converts one line outside code blocks: heading, rule, bullet or plain text.
fn convert_line(line: &str) -> String {
    let body = line.trim_start();
    let indent = &line[..line.len() - body.len()];
    let hashes = body.bytes().take_while(|b| *b == b'#').count();
    if (1..=6).contains(&hashes) && (body.len() == hashes || body[hashes..].starts_with(' ')) {
        let title = body[hashes..].trim().trim_end_matches('#').trim_end();
        if title.is_empty() {
            return String::new();
        }
        return format!("<b>{}</b>", inline(title, 0, false));
    }
    if is_rule(body) {
        return RULE.to_string();
    }
    for bullet in ["- ", "* ", "+ "] {
        if let Some(item) = body.strip_prefix(bullet) {
            return format!("{indent}• {}", inline(item.trim_start(), 0, false));
        }
    }
    inline(line, 0, false)
}

/// `---`, `***`, `___` (spaces allowed between): three or more of one character.
fn is_rule(body: &str) -> bool {
    let mut marks = body.chars().filter(|c| !c.is_whitespace());
    // Most lines are text: the first mark already says no, without reading the rest.
    let Some(first @ ('-' | '*' | '_')) = marks.next() else {
        return false;
    };
    let mut count = 1;
    for c in marks {
        if c != first {
            return false;
        }
        count += 1;
    }
    count >= 3
}

#[cfg(test)]
mod tests;
