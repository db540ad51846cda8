//! Property tests of the splitter on generated text: it never panics, every chunk fits the limit,
//! and the chunks are the text itself in order, less only the whitespace dropped at the cuts.

use proptest::prelude::*;

use super::tests::check_well_formed;
use super::*;
use crate::telegram::format::{html_to_plain, markdown_to_html};

/// Pieces that stress every boundary the splitter knows: words, each kind of whitespace and
/// sentence end, wide and glued characters, Markdown markers, HTML specials, any character.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "a", "word", "Telegram", "x1", "supercalifragilistic", "naïve", "42", "é",
        ])
        .prop_map(String::from),
        1 => prop::sample::select(vec![
            " ", "  ", "\n", "\n\n", "\r\n", "\r\n\r\n", "\t", "\u{3000}", "\u{a0}", "\u{2028}",
        ])
        .prop_map(String::from),
        1 => prop::sample::select(vec![". ", "! ", "? ", "。", "！"]).prop_map(String::from),
        1 => prop::sample::select(vec![
            "😀", "👨‍👩‍👧", "e\u{301}", "🏳️‍🌈", "1\u{fe0f}\u{20e3}", "👍🏽", "日本語", "\u{200d}",
        ])
        .prop_map(String::from),
        2 => prop::sample::select(vec![
            "**", "_", "`", "```", "```rust\n", "~~", "[", "](", ")", "[a](https://x.org/a_b)",
            "https://example.org/a_b", "> ", "- ", "# ", "\\", "    ",
        ])
        .prop_map(String::from),
        1 => prop::sample::select(vec!["<", ">", "&", "&amp;", "&#x1F600;", "<b>", "</b>", "&lt"])
            .prop_map(String::from),
        1 => any::<char>().prop_map(String::from),
    ]
}

/// Text of up to `max` fragments.
fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..max).prop_map(|parts| parts.concat())
}

/// Text long enough to need several Telegram messages: generated text repeated.
fn long_text() -> impl Strategy<Value = String> {
    (text(400), 1usize..40).prop_map(|(t, n)| t.repeat(n))
}

/// Checks that `chunks` are slices of `text`, in order, with only whitespace between them and
/// around them.
fn assert_pieces_of(text: &str, chunks: &[String]) -> Result<(), TestCaseError> {
    let mut pos = 0;
    for (n, chunk) in chunks.iter().enumerate() {
        let rest = &text[pos..];
        let mut found = None;
        for (i, c) in rest.char_indices() {
            if rest[i..].starts_with(chunk.as_str()) {
                found = Some(i);
                break;
            }
            if !c.is_whitespace() {
                break;
            }
        }
        let Some(at) = found else {
            return Err(TestCaseError::fail(format!(
                "chunk {n} {chunk:?} is not the next piece of the text after byte {pos}"
            )));
        };
        pos += at + chunk.len();
    }
    prop_assert!(
        text[pos..].trim().is_empty(),
        "text after the last chunk was dropped: {:?}",
        &text[pos..]
    );
    Ok(())
}

/// The words of `s` run together (whitespace removed), to compare text across cuts.
fn solid(s: &str) -> String {
    s.split_whitespace().collect()
}

/// The checks every HTML split must pass; `strict` asks for the limit with no exception.
fn assert_html_split(html: &str, limit: usize, strict: bool) -> Result<(), TestCaseError> {
    let chunks = split_message(html, ChunkFormat::Html, limit);
    for (i, chunk) in chunks.iter().enumerate() {
        if let Err(e) = check_well_formed(chunk) {
            return Err(TestCaseError::fail(format!(
                "chunk {i} malformed: {e}: {chunk:?}"
            )));
        }
        let shown = html_to_plain(chunk);
        prop_assert!(!shown.trim().is_empty(), "chunk {i} shows nothing");
        // The documented exception: reopened tags too long for even one character beside them.
        let forced = !strict && shown.trim().chars().count() == 1;
        prop_assert!(
            utf16_len(chunk) <= limit || forced,
            "chunk {i} has {} units > {limit}: {chunk:?}",
            utf16_len(chunk)
        );
    }
    let shown: String = chunks.iter().map(|c| html_to_plain(c)).collect();
    prop_assert_eq!(solid(&shown), solid(&html_to_plain(html)));
    Ok(())
}

proptest! {
    #[test]
    fn plain_chunks_fit_and_are_the_text_in_order(text in text(300), limit in 2usize..120) {
        let chunks = split_message(&text, ChunkFormat::Plain, limit);
        for chunk in &chunks {
            prop_assert!(utf16_len(chunk) <= limit, "{} > {limit}: {chunk:?}", utf16_len(chunk));
            prop_assert!(!chunk.trim().is_empty());
        }
        assert_pieces_of(&text, &chunks)?;
        if utf16_len(&text) <= limit && !text.trim().is_empty() {
            prop_assert_eq!(chunks, vec![text.clone()]);
        }
    }

    #[test]
    fn html_from_markdown_splits_well_formed_and_keeps_the_words(
        md in text(300),
        limit in 30usize..400,
    ) {
        assert_html_split(&markdown_to_html(&md), limit, false)?;
    }

    #[test]
    fn any_string_at_any_limit_never_panics_and_always_ends(
        text in any::<String>(),
        limit in 0usize..40,
        html in any::<bool>(),
    ) {
        let format = if html { ChunkFormat::Html } else { ChunkFormat::Plain };
        let chunks = split_message(&text, format, limit);
        prop_assert!(chunks.len() <= text.chars().count().max(1));
    }
}

proptest! {
    // Each case is a multi-kilobyte reply; fewer cases keep the suite quick.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn long_plain_replies_fit_telegram(text in long_text()) {
        let chunks = split_message(&text, ChunkFormat::Plain, TELEGRAM_MAX_UTF16);
        for chunk in &chunks {
            prop_assert!(utf16_len(chunk) <= TELEGRAM_MAX_UTF16);
        }
        assert_pieces_of(&text, &chunks)?;
    }

    #[test]
    fn long_html_replies_fit_telegram(md in long_text()) {
        assert_html_split(&markdown_to_html(&md), TELEGRAM_MAX_UTF16, true)?;
    }
}
