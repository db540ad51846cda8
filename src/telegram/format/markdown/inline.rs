//! Inline Markdown (emphasis, code spans, links, bare URLs, backslash escapes) → Telegram HTML.
//!
//! Each opener is matched with its closer before anything is emitted, and the content between
//! them is converted recursively, so tags always nest and close; unmatched markers stay text.

use std::collections::HashMap;

use crate::telegram::format::{escape_attr, escape_html};

/// Inline markup nested deeper than this is left as text (keeps recursion and time bounded).
const MAX_DEPTH: usize = 8;

/// URL schemes a `[text](url)` link may use; other links stay as text.
const LINK_SCHEMES: [&str; 4] = ["http://", "https://", "tg://", "mailto:"];

/// Converts inline markup in `s`. `depth` bounds nesting; inside a link, links are not parsed.
pub(super) fn inline(s: &str, depth: usize, in_link: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len() + 16);
    // Delimiters (char, run length) already known to have no closer in `s`.
    let mut unclosed: Vec<(u8, usize)> = Vec::new();
    // Bracket partners, found once for the whole of `s` the first time a `[` is met.
    let mut pairs: Option<HashMap<usize, usize>> = None;
    let mut i = 0;
    while i < bytes.len() {
        let next = match bytes[i] {
            b'\\' => backslash_escape(s, i, &mut out),
            b'`' => Some(code_span(s, i, &mut out)),
            b'[' if !in_link && depth < MAX_DEPTH => {
                let pairs = pairs.get_or_insert_with(|| bracket_pairs(bytes));
                link(s, i, depth, pairs, &mut out)
            }
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
fn link(
    s: &str,
    i: usize,
    depth: usize,
    pairs: &HashMap<usize, usize>,
    out: &mut String,
) -> Option<usize> {
    let bytes = s.as_bytes();
    let close = *pairs.get(&i)?;
    if bytes.get(close + 1) != Some(&b'(') {
        return None;
    }
    let end = *pairs.get(&(close + 1))?;
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

/// The partner of every matched `[`…`]` and `(`…`)` in `bytes`, by the opener's index (one pass,
/// so text full of brackets stays linear).
fn bracket_pairs(bytes: &[u8]) -> HashMap<usize, usize> {
    let mut pairs = HashMap::new();
    let (mut squares, mut rounds) = (Vec::new(), Vec::new());
    for (j, &b) in bytes.iter().enumerate() {
        match b {
            b'[' => squares.push(j),
            b'(' => rounds.push(j),
            b']' => pairs.extend(squares.pop().map(|open| (open, j))),
            b')' => pairs.extend(rounds.pop().map(|open| (open, j))),
            _ => {}
        }
    }
    pairs
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
