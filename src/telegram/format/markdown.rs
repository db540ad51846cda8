//! Markdown as LLMs write it → the HTML subset Telegram accepts (`b i s a code pre blockquote`).
//!
//! Block level works line by line (fences, quotes, headings, bullets); inline markup is matched
//! opener-to-closer and converted recursively, so every emitted tag is closed in the same call
//! that opened it: the output is always well-formed, and a marker without a partner stays text.

use super::{escape_attr, escape_html};

/// Inline markup nested deeper than this is left as text (keeps recursion and time bounded).
const MAX_DEPTH: usize = 8;

/// What a horizontal rule (`---`, `***`, `___`) becomes.
const RULE: &str = "──────────";

/// URL schemes a `[text](url)` link may use; other links stay as text.
const LINK_SCHEMES: [&str; 4] = ["http://", "https://", "tg://", "mailto:"];

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
    let marks: Vec<char> = body.chars().filter(|c| !c.is_whitespace()).collect();
    marks.len() >= 3 && matches!(marks[0], '-' | '*' | '_') && marks.iter().all(|c| *c == marks[0])
}

/// Converts inline markup in `s`. `depth` bounds nesting; inside a link, links are not parsed.
fn inline(s: &str, depth: usize, in_link: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len() + 16);
    // Delimiters (char, run length) already known to have no closer in `s`.
    let mut unclosed: Vec<(u8, usize)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let next = match bytes[i] {
            b'\\' => backslash_escape(s, i, &mut out),
            b'`' => Some(code_span(s, i, &mut out)),
            b'[' if !in_link && depth < MAX_DEPTH => link(s, i, depth, &mut out),
            b'*' | b'_' | b'~' => Some(emphasis(s, i, depth, in_link, &mut unclosed, &mut out)),
            b'h' | b'H' => bare_url(s, i, &mut out),
            _ => None,
        };
        i = next.unwrap_or_else(|| {
            // `i` is always on a char boundary: markers are ASCII and other chars are taken whole.
            let c = s[i..].chars().next().unwrap_or(' ');
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                _ => out.push(c),
            }
            i + c.len_utf8()
        });
    }
    out
}

/// `\*` → a literal `*` (any ASCII punctuation); a lone backslash is left to the caller.
fn backslash_escape(s: &str, i: usize, out: &mut String) -> Option<usize> {
    let next = *s.as_bytes().get(i + 1)?;
    if !next.is_ascii_punctuation() {
        return None;
    }
    out.push_str(&escape_html(&s[i + 1..i + 2]));
    Some(i + 2)
}

/// Length of the run of `b` starting at `i`.
fn run_len(bytes: &[u8], i: usize, b: u8) -> usize {
    bytes[i..].iter().take_while(|x| **x == b).count()
}

/// Where a code span opened by the backtick run at `i` ends: `(content_end, after_closer)`.
fn code_span_end(bytes: &[u8], i: usize) -> Option<(usize, usize)> {
    let n = run_len(bytes, i, b'`');
    let mut j = i + n;
    while j < bytes.len() {
        if bytes[j] == b'`' {
            let m = run_len(bytes, j, b'`');
            if m == n {
                return Some((j, j + m));
            }
            j += m;
        } else {
            j += 1;
        }
    }
    None
}

/// Emits the code span at `i`, or its backticks as text when unclosed; returns the next index.
fn code_span(s: &str, i: usize, out: &mut String) -> usize {
    let n = run_len(s.as_bytes(), i, b'`');
    let Some((end, after)) = code_span_end(s.as_bytes(), i) else {
        out.push_str(&s[i..i + n]);
        return i + n;
    };
    let content = &s[i + n..end];
    let padded = content.len() > 2 && content.starts_with(' ') && content.ends_with(' ');
    let trimmed = if padded {
        &content[1..content.len() - 1]
    } else {
        content
    };
    out.push_str(&format!("<code>{}</code>", escape_html(trimmed)));
    after
}

/// Emits `[text](url)` at `i` as a link when the URL's scheme is allowed.
fn link(s: &str, i: usize, depth: usize, out: &mut String) -> Option<usize> {
    let bytes = s.as_bytes();
    let close = matching(bytes, i, b'[', b']')?;
    if bytes.get(close + 1) != Some(&b'(') {
        return None;
    }
    let end = matching(bytes, close + 1, b'(', b')')?;
    let target = s[close + 2..end].trim();
    let url = target.split_whitespace().next().unwrap_or("");
    let lower = url.to_ascii_lowercase();
    if !LINK_SCHEMES.iter().any(|scheme| lower.starts_with(scheme)) {
        return None;
    }
    let text = match s[i + 1..close].trim() {
        "" => escape_html(url),
        label => inline(label, depth + 1, true),
    };
    out.push_str(&format!("<a href=\"{}\">{text}</a>", escape_attr(url)));
    Some(end + 1)
}

/// Index of the bracket closing the one at `i`, counting nesting.
fn matching(bytes: &[u8], i: usize, open: u8, close: u8) -> Option<usize> {
    let mut level = 0usize;
    for (j, &b) in bytes.iter().enumerate().skip(i) {
        if b == open {
            level += 1;
        } else if b == close {
            level -= 1;
            if level == 0 {
                return Some(j);
            }
        }
    }
    None
}

/// Copies a bare `http(s)://` URL verbatim (escaped), so `_` and `*` inside it stay text.
fn bare_url(s: &str, i: usize, out: &mut String) -> Option<usize> {
    let rest = &s[i..];
    let is_url = rest
        .get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("http://"))
        || rest
            .get(..8)
            .is_some_and(|p| p.eq_ignore_ascii_case("https://"));
    let after_word = s[..i]
        .chars()
        .next_back()
        .is_some_and(char::is_alphanumeric);
    if !is_url || after_word {
        return None;
    }
    let len = rest.find(char::is_whitespace).unwrap_or(rest.len());
    out.push_str(&escape_html(&rest[..len]));
    Some(i + len)
}

/// Emits the emphasis opened by the delimiter run at `i` (`*`, `_`, `~~`), or the run as text
/// when it cannot open or has no closer; returns the index after what was consumed.
fn emphasis(
    s: &str,
    i: usize,
    depth: usize,
    in_link: bool,
    unclosed: &mut Vec<(u8, usize)>,
    out: &mut String,
) -> usize {
    let bytes = s.as_bytes();
    let mark = bytes[i];
    let n = run_len(bytes, i, mark);
    let body = i + n;
    let usable = if mark == b'~' { n == 2 } else { n <= 3 };
    let openable = usable && depth < MAX_DEPTH && can_open(s, i, body, mark);
    let mut closer = None;
    if openable && !unclosed.contains(&(mark, n)) {
        closer = find_closer(s, body, mark, n);
        if closer.is_none() {
            unclosed.push((mark, n));
        }
    }
    let Some(close) = closer else {
        out.push_str(&s[i..body]);
        return body;
    };
    let (open_tags, close_tags) = match (mark, n) {
        (b'~', _) => ("<s>", "</s>"),
        (_, 1) => ("<i>", "</i>"),
        (_, 2) => ("<b>", "</b>"),
        _ => ("<b><i>", "</i></b>"),
    };
    out.push_str(open_tags);
    out.push_str(&inline(&s[body..close], depth + 1, in_link));
    out.push_str(close_tags);
    close + n
}

/// A run may open when followed by a non-space; `_` must also not follow a letter or digit.
fn can_open(s: &str, i: usize, body: usize, mark: u8) -> bool {
    let next_ok = s[body..].chars().next().is_some_and(|c| !c.is_whitespace());
    let prev_word = s[..i]
        .chars()
        .next_back()
        .is_some_and(char::is_alphanumeric);
    next_ok && !(mark == b'_' && prev_word)
}

/// The start of a run of exactly `n` × `mark` after `from` that can close (preceded by a
/// non-space; for `_`, not followed by a letter or digit). Code spans are skipped.
fn find_closer(s: &str, from: usize, mark: u8, n: usize) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut j = from;
    while j < bytes.len() {
        match bytes[j] {
            b'`' => match code_span_end(bytes, j) {
                Some((_, after)) => j = after,
                None => j += run_len(bytes, j, b'`'),
            },
            b'\\' => j += 2,
            b if b == mark => {
                let m = run_len(bytes, j, mark);
                let prev_space = s[..j].chars().next_back().is_none_or(char::is_whitespace);
                let next_word = s[j + m..].chars().next().is_some_and(char::is_alphanumeric);
                if m == n && !prev_space && !(mark == b'_' && next_word) {
                    return Some(j);
                }
                j += m;
            }
            _ => j += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests;
