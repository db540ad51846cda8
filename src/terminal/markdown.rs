//! A reply's Markdown as terminal text: the Markdown itself is readable as it is, so it is kept,
//! and only what exists for the renderer goes: backslash escapes (`\*` shows `*`). Code spans and
//! fenced blocks (and bare URLs) are copied untouched, since a backslash there is meant literally.

use crate::markup::bare_url_len;

/// The terminal text of Markdown `md`.
pub fn markdown_for_terminal(md: &str) -> String {
    let mut out = String::with_capacity(md.len());
    let mut fence: Option<String> = None;
    for (i, line) in md.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let marker = fence_marker(line);
        match (&fence, marker) {
            (Some(open), Some(m)) if m.starts_with(open.as_str()) && line.trim() == m => {
                fence = None;
                out.push_str(line);
            }
            (Some(_), _) => out.push_str(line),
            (None, Some(m)) => {
                fence = Some(m.to_string());
                out.push_str(line);
            }
            (None, None) => unescape_line(line, &mut out),
        }
    }
    out
}

/// The run of three or more backticks or tildes a fence line starts with.
fn fence_marker(line: &str) -> Option<&str> {
    let body = line.trim_start();
    let first = body.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = body.chars().take_while(|c| *c == first).count();
    (len >= 3).then(|| &body[..len])
}

/// Copies `line`, dropping the backslash of each escape outside code spans.
fn unescape_line(line: &str, out: &mut String) {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < line.len() {
        if let Some(len) = bare_url_len(line, i) {
            out.push_str(&line[i..i + len]);
            i += len;
            continue;
        }
        match bytes[i] {
            b'\\' if bytes.get(i + 1).is_some_and(u8::is_ascii_punctuation) => {
                out.push(char::from(bytes[i + 1]));
                i += 2;
            }
            b'`' => {
                let n = bytes[i..].iter().take_while(|b| **b == b'`').count();
                let end = code_span_end(line, i + n, n).unwrap_or(i + n);
                out.push_str(&line[i..end]);
                i = end;
            }
            _ => {
                // Markers are ASCII, so `i` is on a char boundary here.
                let c = line[i..].chars().next().unwrap_or(' ');
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
}

/// The byte index just after the run of exactly `n` backticks that closes a span from `from`.
fn code_span_end(line: &str, from: usize, n: usize) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut j = from;
    while j < bytes.len() {
        if bytes[j] == b'`' {
            let m = bytes[j..].iter().take_while(|b| **b == b'`').count();
            if m == n {
                return Some(j + m);
            }
            j += m;
        } else {
            j += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markup::escape_markdown;

    #[test]
    fn escapes_are_dropped_and_markdown_is_kept() {
        assert_eq!(
            markdown_for_terminal(r"**Ann \*the\* \<b\>** wrote `a\*b` \\ done"),
            r"**Ann *the* <b>** wrote `a\*b` \ done"
        );
    }

    #[test]
    fn fenced_code_is_copied_untouched() {
        let md = "before \\*\n```rust\nlet s = \"\\*\";\n```\nafter \\_";
        assert_eq!(
            markdown_for_terminal(md),
            "before *\n```rust\nlet s = \"\\*\";\n```\nafter _"
        );
    }

    #[test]
    fn escaped_outside_text_reads_exactly_as_written() {
        for text in [
            "*Sale* <b>now</b> & more",
            "# not a heading\n- not a bullet\n> not a quote",
            r"C:\Users\ann `tick` [link](x) ~~s~~ __u__",
            "日本語 🎉 ``` fence-like",
            "*see* https://x.y/a_b\\*c_ and_x",
        ] {
            assert_eq!(markdown_for_terminal(&escape_markdown(text)), text);
        }
    }
}
