//! Channel-neutral reply text: the [`Markup`] a reply's text is written in (plain or Markdown)
//! and [`escape_markdown`] for outside content quoted inside Markdown. The core writes these;
//! each channel renders them at its edge (Telegram HTML in `telegram/`, terminal text in
//! `terminal`), so nothing below the channels knows how a chat app shows text.

/// What a reply's text is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Markup {
    /// Shown exactly as written.
    Plain,
    /// Markdown as LLMs write it (`**bold**`, `` `code` ``, lists, fences, `[text](url)`);
    /// quote outside content in it with [`escape_markdown`].
    Markdown,
}

/// Characters that start inline Markdown anywhere in a line.
const INLINE_MARKERS: &[char] = &['\\', '`', '*', '_', '~', '[', ']'];
/// Characters that start a block (heading, quote, bullet, rule) at the start of a line.
const BLOCK_MARKERS: &[char] = &['#', '>', '-', '+'];

/// Backslash-escapes `text` so that, inside Markdown, it shows exactly as written: an email
/// subject `*Sale* <b>now</b>` stays those characters in every channel instead of turning into
/// emphasis. Inline markers are escaped everywhere; block markers only where they would start a
/// block (the first visible character of a line). HTML needs no escaping here: channels escape
/// `<` and `&` when they render.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut line_start = true;
    let mut url_end = 0;
    for (i, c) in text.char_indices() {
        if i < url_end {
            out.push(c);
            continue;
        }
        // Only an `h` can start a bare URL: the test is skipped for every other character.
        if let Some(len) = matches!(c, 'h' | 'H')
            .then(|| bare_url_len(text, i))
            .flatten()
        {
            // Shown verbatim by every renderer, so an escape would show.
            url_end = i + len;
            line_start = false;
            out.push(c);
            continue;
        }
        let block = line_start && BLOCK_MARKERS.contains(&c);
        if block || INLINE_MARKERS.contains(&c) {
            out.push('\\');
        }
        out.push(c);
        if c == '\n' {
            line_start = true;
        } else if !c.is_whitespace() {
            line_start = false;
        }
    }
    out
}

/// The byte length of the bare `http://` or `https://` URL starting at byte `i` of `text` (up
/// to the next whitespace), if one starts there and not inside a word. Markdown renderers copy
/// such a URL verbatim: no emphasis, no escapes.
pub fn bare_url_len(text: &str, i: usize) -> Option<usize> {
    let rest = text.get(i..)?;
    let starts = |scheme: &str| {
        rest.get(..scheme.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(scheme))
    };
    let after_word = text[..i]
        .chars()
        .next_back()
        .is_some_and(char::is_alphanumeric);
    if !(starts("http://") || starts("https://")) || after_word {
        return None;
    }
    Some(rest.find(char::is_whitespace).unwrap_or(rest.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_marks_inline_markers_everywhere_and_block_markers_at_line_starts() {
        assert_eq!(
            escape_markdown(r"*Sale* _now_ ~x~ `c` [a](b) \ <b>"),
            r"\*Sale\* \_now\_ \~x\~ \`c\` \[a\](b) \\ <b>"
        );
        assert_eq!(
            escape_markdown("# a - b\n  > q\n- x + y\n+ z"),
            "\\# a - b\n  \\> q\n\\- x + y\n\\+ z"
        );
        assert_eq!(escape_markdown("C++ 日本語 🎉"), "C++ 日本語 🎉");
        assert_eq!(
            escape_markdown("*see* https://x.y/a_b*c_ and_x"),
            r"\*see\* https://x.y/a_b*c_ and\_x"
        );
    }
}
