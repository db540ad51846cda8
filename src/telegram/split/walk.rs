//! The walk that finds where the next chunk ends: one pass over at most `limit` code units.

use super::{
    Candidates, Cut, Kind, OpenTag, Token, apply, closers_len, in_code, token_at, utf16_len,
};

/// Finds the cut for the chunk that starts at `start` with the `open` elements reopened in front.
/// The returned `next` is final (whitespace already skipped); `end > start` always holds.
pub(super) fn next_cut(
    text: &str,
    start: usize,
    open: &[OpenTag],
    limit: usize,
    html: bool,
) -> Cut {
    let prefix: usize = open.iter().map(|t| utf16_len(&t.raw)).sum();
    let mut walk = Walk {
        prefix,
        limit,
        stack: open.to_vec(),
        close: closers_len(open),
        used: 0,
        visible: 0,
        solid_end: start,
        solid_used: 0,
        prev: None,
        found: Candidates::default(),
        fallback: None,
    };
    let mut p = start;
    while p < text.len() {
        let (token, len) = token_at(text, p, html);
        let size = match token {
            Token::Char(c) => c.len_utf16(),
            _ => utf16_len(&text[p..p + len]),
        };
        walk.offer_before(text, p, &token);
        if prefix + walk.used + size > limit {
            break;
        }
        walk.consume(&token, size, p + len);
        p += len;
    }
    if p >= text.len() && walk.fits(walk.used) {
        return Cut {
            end: text.len(),
            next: text.len(),
            skip_space: false,
        };
    }
    if let Some(cut) = walk.found.pick().or(walk.fallback) {
        return resolve(text, cut);
    }
    if walk.visible == 0 && p > start {
        // Only whitespace and tags fit (say, a reply opening with thousands of spaces): end
        // this chunk, which shows nothing and is dropped, before the first visible character,
        // rather than forcing that character in and going over the limit.
        return Cut {
            end: p,
            next: p,
            skip_space: false,
        };
    }
    resolve(text, forced(text, start, html))
}

/// State of the walk at the current position.
struct Walk {
    prefix: usize,
    limit: usize,
    stack: Vec<OpenTag>,
    /// UTF-16 length of the closing tags the chunk would need here.
    close: usize,
    /// UTF-16 length of the text walked so far.
    used: usize,
    /// Visible characters walked so far.
    visible: usize,
    /// End of the last token that is not whitespace, and `used` there.
    solid_end: usize,
    solid_used: usize,
    /// The previous character, when the previous token was one.
    prev: Option<char>,
    found: Candidates,
    /// The latest "anywhere" cut, even one that splits a grapheme (used only when nothing else fits).
    fallback: Option<Cut>,
}

impl Walk {
    /// Whether a chunk holding `used` code units of text, plus the tags, fits the limit.
    fn fits(&self, used: usize) -> bool {
        self.prefix + used + self.close <= self.limit
    }

    /// Records the cuts possible just before the token at `p`.
    fn offer_before(&mut self, text: &str, p: usize, token: &Token<'_>) {
        if self.visible == 0 {
            return;
        }
        let top = self.stack.is_empty();
        if self.fits(self.used) {
            let cut = Cut {
                end: p,
                next: p,
                skip_space: false,
            };
            self.fallback = Some(cut);
            if !glued(self.prev, token) {
                self.found.offer(Kind::Anywhere, top, cut);
            }
        }
        let Token::Char(c) = *token else { return };
        if !c.is_whitespace() {
            return;
        }
        let code = in_code(&self.stack);
        let (kind, sep) = classify(&text[p..], c, self.prev);
        let (end, used) = if code {
            (p, self.used)
        } else {
            (self.solid_end, self.solid_used)
        };
        if self.fits(used) {
            let cut = Cut {
                end,
                next: p + sep,
                skip_space: !code,
            };
            self.found.offer(kind, top, cut);
        }
    }

    /// Steps over a token that fits; `after` is the byte offset just past it.
    fn consume(&mut self, token: &Token<'_>, size: usize, after: usize) {
        self.used += size;
        self.prev = None;
        match *token {
            Token::Char(c) if c.is_whitespace() => {
                self.prev = Some(c);
                return;
            }
            Token::Char(c) => {
                self.visible += 1;
                self.prev = Some(c);
            }
            Token::Entity => self.visible += 1,
            _ => {
                if apply(&mut self.stack, token) {
                    self.close = closers_len(&self.stack);
                }
            }
        }
        self.solid_end = after;
        self.solid_used = self.used;
        if matches!(self.prev, Some('。' | '！' | '？')) && self.fits(self.used) {
            let cut = Cut {
                end: after,
                next: after,
                skip_space: !in_code(&self.stack),
            };
            self.found.offer(Kind::Sentence, self.stack.is_empty(), cut);
        }
    }
}

/// The kind of cut at whitespace `c` (the start of `rest`) and the separator's byte length.
fn classify(rest: &str, c: char, prev: Option<char>) -> (Kind, usize) {
    if rest.starts_with("\n\n") {
        (Kind::Paragraph, 2)
    } else if rest.starts_with("\r\n\r\n") {
        (Kind::Paragraph, 4)
    } else if rest.starts_with("\r\n") {
        (Kind::Line, 2)
    } else if c == '\n' {
        (Kind::Line, 1)
    } else if matches!(prev, Some('.' | '!' | '?')) {
        (Kind::Sentence, c.len_utf8())
    } else {
        (Kind::Space, c.len_utf8())
    }
}

/// Whether a cut between `prev` and `token` would split one visible symbol (a ZWJ emoji
/// sequence, a skin tone, a variation selector, a combining accent, a keycap).
fn glued(prev: Option<char>, token: &Token<'_>) -> bool {
    let Token::Char(c) = *token else { return false };
    prev == Some('\u{200D}')
        || matches!(c,
            '\u{200D}' | '\u{FE00}'..='\u{FE0F}' | '\u{0300}'..='\u{036F}' | '\u{20E3}'
            | '\u{1F3FB}'..='\u{1F3FF}' | '\u{E0020}'..='\u{E007F}')
}

/// The cut when not even one character fits beside the reopened tags: one visible token.
fn forced(text: &str, start: usize, html: bool) -> Cut {
    let mut p = start;
    while p < text.len() {
        let (token, len) = token_at(text, p, html);
        p += len;
        if matches!(token, Token::Entity) || matches!(token, Token::Char(c) if !c.is_whitespace()) {
            break;
        }
    }
    Cut {
        end: p,
        next: p,
        skip_space: false,
    }
}

/// Applies `skip_space`: moves `next` past the whitespace that follows the cut.
fn resolve(text: &str, cut: Cut) -> Cut {
    let next = if cut.skip_space {
        let rest = &text[cut.next..];
        cut.next + (rest.len() - rest.trim_start().len())
    } else {
        cut.next
    };
    Cut {
        end: cut.end,
        next,
        skip_space: false,
    }
}
