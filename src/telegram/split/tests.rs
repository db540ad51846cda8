//! Tests of message splitting, and a checker for Telegram HTML shared with the format tests.

use super::*;
use crate::telegram::format::{html_to_plain, markdown_to_html};

/// Elements Telegram's HTML parse mode accepts.
const TELEGRAM_TAGS: [&str; 16] = [
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-spoiler",
    "span",
    "tg-emoji",
];

/// Checks that `html` is what Telegram accepts: only its elements, every tag closed in order,
/// no bare `<`, `>` or `&`.
pub(crate) fn check_well_formed(html: &str) -> Result<(), String> {
    let mut stack: Vec<String> = Vec::new();
    let mut p = 0;
    while p < html.len() {
        let rest = &html[p..];
        let c = rest.chars().next().unwrap_or('\0');
        let len = match c {
            '<' => {
                let len = tag_len(rest).ok_or_else(|| format!("bare '<' at byte {p}"))?;
                let raw = &rest[..len];
                if let Some(body) = raw.strip_prefix("</") {
                    let name = tag_name(body);
                    match stack.pop() {
                        Some(open) if open == name => {}
                        other => return Err(format!("</{name}> closes {other:?} at byte {p}")),
                    }
                } else {
                    let name = tag_name(raw);
                    if !TELEGRAM_TAGS.contains(&name) {
                        return Err(format!("unsupported tag {raw:?} at byte {p}"));
                    }
                    stack.push(name.to_string());
                }
                len
            }
            '&' => {
                entity(rest)
                    .ok_or_else(|| format!("bare '&' at byte {p}"))?
                    .1
            }
            '>' => return Err(format!("bare '>' at byte {p}")),
            _ => c.len_utf8(),
        };
        p += len;
    }
    match stack.is_empty() {
        true => Ok(()),
        false => Err(format!("unclosed elements {stack:?}")),
    }
}

fn plain(text: &str, limit: usize) -> Vec<String> {
    split_message(text, ChunkFormat::Plain, limit)
}

fn words(s: &str) -> Vec<&str> {
    s.split_whitespace().collect()
}

/// Asserts the limit, non-emptiness and (for HTML) well-formedness of every chunk.
fn assert_chunks(chunks: &[String], format: ChunkFormat, limit: usize) {
    for (i, chunk) in chunks.iter().enumerate() {
        assert!(
            utf16_len(chunk) <= limit,
            "chunk {i} has {} units > {limit}",
            utf16_len(chunk)
        );
        assert!(!chunk.trim().is_empty(), "chunk {i} is empty");
        if format == ChunkFormat::Html {
            if let Err(e) = check_well_formed(chunk) {
                panic!("chunk {i} is malformed: {e}\n{chunk}");
            }
            assert!(
                !html_to_plain(chunk).trim().is_empty(),
                "chunk {i} shows nothing"
            );
        }
    }
}

#[test]
fn text_that_fits_is_one_unchanged_chunk() {
    assert_eq!(
        plain("  hello\n\nworld  ", 4096),
        vec!["  hello\n\nworld  "]
    );
    assert_eq!(plain("abcd", 4), vec!["abcd"]);
    assert_eq!(utf16_len("a😀é"), 4);
}

#[test]
fn empty_or_blank_text_gives_no_chunk() {
    assert!(plain("", 10).is_empty());
    assert!(plain(" \n\t ", 10).is_empty());
    assert!(split_message("<b> </b>", ChunkFormat::Html, 10).is_empty());
}

#[test]
fn long_reply_is_split_at_paragraphs() {
    let paragraph = "This is a sentence about nothing much. ".repeat(9);
    let text = vec![paragraph.trim_end(); 30].join("\n\n");
    assert!(text.len() >= 10_000);
    let chunks = plain(&text, TELEGRAM_MAX_UTF16);
    assert!(chunks.len() >= 3);
    assert_chunks(&chunks, ChunkFormat::Plain, TELEGRAM_MAX_UTF16);
    for chunk in &chunks {
        assert!(
            chunk.starts_with("This") && chunk.ends_with("much."),
            "{chunk:?}"
        );
    }
    assert_eq!(chunks.join("\n\n"), text);
}

#[test]
fn cut_prefers_line_then_sentence_then_space() {
    assert_eq!(
        plain("aaaa bbbb\ncccc. dddd eeee", 20),
        vec!["aaaa bbbb", "cccc. dddd eeee"]
    );
    assert_eq!(
        plain("aaaa bbbb. cccc dddd eeee", 20),
        vec!["aaaa bbbb.", "cccc dddd eeee"]
    );
    assert_eq!(
        plain("aaaa bbbb cccc dddd eeee", 12),
        vec!["aaaa bbbb", "cccc dddd", "eeee"]
    );
    assert_eq!(
        plain("一二三。四五六七八九", 8),
        vec!["一二三。", "四五六七八九"]
    );
}

#[test]
fn emoji_count_as_two_units_and_are_never_split() {
    let text = "😀".repeat(3_000);
    let chunks = plain(&text, TELEGRAM_MAX_UTF16);
    assert_eq!(
        chunks.iter().map(|c| utf16_len(c)).collect::<Vec<_>>(),
        vec![4096, 1904]
    );
    assert_eq!(chunks.concat(), text);
    let family = "👨‍👩‍👧".repeat(10);
    let chunks = plain(&family, 20);
    assert!(
        chunks
            .iter()
            .all(|c| c.starts_with('👨') && c.ends_with('👧')),
        "{chunks:?}"
    );
    assert_eq!(chunks.concat(), family);
}

#[test]
fn single_huge_word_is_hard_cut() {
    let word = "x".repeat(9_000);
    let chunks = plain(&word, TELEGRAM_MAX_UTF16);
    assert_eq!(
        chunks.iter().map(String::len).collect::<Vec<_>>(),
        vec![4096, 4096, 808]
    );
    assert_eq!(chunks.concat(), word);
}

#[test]
fn html_prefers_cuts_outside_elements() {
    let html = "Intro line. <b>bold text here</b>";
    assert_eq!(
        split_message(html, ChunkFormat::Html, 30),
        vec!["Intro line.", "<b>bold text here</b>"]
    );
}

#[test]
fn html_cut_never_falls_inside_a_tag_or_entity() {
    let html = "a&amp;&amp;&amp;<a href=\"https://example.org/\">x</a>";
    for limit in 1..html.len() {
        let chunks = split_message(html, ChunkFormat::Html, limit);
        for chunk in &chunks {
            check_well_formed(chunk).unwrap_or_else(|e| panic!("limit {limit}: {e} in {chunk:?}"));
        }
        let shown: String = chunks.iter().map(|c| html_to_plain(c)).collect();
        assert_eq!(shown, "a&&&x", "limit {limit}");
    }
}

#[test]
fn huge_code_block_is_closed_and_reopened_in_each_chunk() {
    let code: String = (0..200)
        .map(|i| format!("    let v{i} = compute({i}) * 2; // step\n"))
        .collect();
    assert!(code.len() >= 6_000);
    let html = format!(
        "Here:\n<pre><code class=\"language-rust\">{}</code></pre>",
        escape_code(&code)
    );
    let chunks = split_message(&html, ChunkFormat::Html, TELEGRAM_MAX_UTF16);
    assert_chunks(&chunks, ChunkFormat::Html, TELEGRAM_MAX_UTF16);
    assert_eq!(chunks[0], "Here:");
    assert!(chunks.len() >= 3);
    for chunk in &chunks[1..] {
        assert!(
            chunk.starts_with("<pre><code class=\"language-rust\">    let v"),
            "{chunk:.60}"
        );
        assert!(chunk.ends_with("</code></pre>"));
    }
    let shown: Vec<String> = chunks[1..].iter().map(|c| html_to_plain(c)).collect();
    assert!(
        shown.join("\n").trim_end() == code.trim_end(),
        "code lines lost or changed"
    );
}

fn escape_code(code: &str) -> String {
    code.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[test]
fn leading_whitespace_longer_than_the_limit_is_dropped_not_sent_over_it() {
    // Found by the property tests: "  . " at limit 2 gave the chunk "  .".
    assert_eq!(plain("  . ", 2), vec![". "]);
    let text = format!("{}Hello there.", " ".repeat(5_000));
    let chunks = plain(&text, TELEGRAM_MAX_UTF16);
    assert_eq!(chunks.len(), 1, "the spaces alone make no message");
    assert_chunks(&chunks, ChunkFormat::Plain, TELEGRAM_MAX_UTF16);
    assert_eq!(chunks[0].trim(), "Hello there.");
    let html = format!("<b>{}bold</b>", "\n".repeat(5_000));
    let chunks = split_message(&html, ChunkFormat::Html, TELEGRAM_MAX_UTF16);
    assert_eq!(chunks.len(), 1);
    assert_chunks(&chunks, ChunkFormat::Html, TELEGRAM_MAX_UTF16);
    assert_eq!(html_to_plain(&chunks[0]).trim(), "bold");
}

#[test]
fn tiny_limit_still_makes_progress() {
    assert_eq!(plain("ab😀", 1), vec!["a", "b", "😀"]);
    let chunks = split_message("<b>xyz</b>", ChunkFormat::Html, 3);
    assert_eq!(chunks, vec!["<b>x</b>", "<b>y</b>", "<b>z</b>"]);
}

/// Random text from pieces that stress every kind of boundary.
fn random_markdown(rng: &mut fastrand::Rng) -> String {
    const PIECES: [&str; 20] = [
        "word ",
        "**bold words** ",
        "_it_ ",
        "`code` ",
        "Sentence ends. ",
        "Why? ",
        "\n",
        "\n\n",
        "> quoted line\n",
        "- item\n",
        "[link](https://example.org/a_b) ",
        "😀",
        "👨‍👩‍👧 ",
        "日本語。",
        "a&b<c> ",
        "~~gone~~ ",
        "```rust\nfn x() {}\n",
        "    indented\n",
        "```\n",
        "x",
    ];
    let len = rng.usize(0..600);
    (0..len)
        .map(|_| PIECES[rng.usize(..PIECES.len())])
        .collect()
}

#[test]
fn generated_inputs_respect_limits_and_stay_well_formed() {
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    for round in 0..300 {
        let md = random_markdown(&mut rng);
        let limit = rng.usize(60..700);
        let plain_chunks = plain(&md, limit);
        assert_chunks(&plain_chunks, ChunkFormat::Plain, limit);
        assert_eq!(
            words(&plain_chunks.concat()).concat(),
            words(&md).concat(),
            "round {round}"
        );
        let html = markdown_to_html(&md);
        let chunks = split_message(&html, ChunkFormat::Html, limit);
        assert_chunks(&chunks, ChunkFormat::Html, limit);
        let shown: String = chunks.iter().map(|c| html_to_plain(c)).collect();
        let expected = html_to_plain(&html);
        assert_eq!(
            words(&shown).concat(),
            words(&expected).concat(),
            "round {round}"
        );
    }
}
