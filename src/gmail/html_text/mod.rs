//! HTML → readable plain text for emails and web pages, by html2text on html5ever's standard
//! parser (entities, broken markup and all): the head, scripts and styles dropped, blocks and
//! `<br>` become line breaks, list items get a dash or a number, table cells one line each, links keep
//! their text, blank runs collapse to one empty line, and the `<title>` is read apart.
//!
//! The parse goes through [`guard`], so the work stays linear in the input however hostile it
//! is. It is CPU work: call it off the async threads.

mod decorator;
mod guard;
mod guarded_dom;

use decorator::Readable;

/// Render width: wide enough that no paragraph is wrapped (Telegram and the model wrap it).
const WIDTH: usize = 10_000;

/// A document as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtmlText {
    /// The first `<title>`, on one line; `None` when missing or blank.
    pub title: Option<String>,
    /// The readable text of the body, without the title.
    pub text: String,
}

/// Converts an HTML document or fragment to plain text (the title left out).
pub fn html_to_text(html: &str) -> String {
    html_document(html).text
}

/// Converts an HTML document to its title and its text.
pub fn html_document(html: &str) -> HtmlText {
    // Defence in depth: html2text is not ours, and a bug in it must cost one page its text,
    // not the reply. The guard already keeps out every input known to panic it.
    std::panic::catch_unwind(|| convert(html)).unwrap_or_else(|_| {
        tracing::warn!(bytes = html.len(), "HTML to text conversion panicked");
        HtmlText {
            title: None,
            text: String::new(),
        }
    })
}

fn convert(html: &str) -> HtmlText {
    let parsed = guard::parse(html);
    let title = parsed
        .title
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|t| !t.is_empty());
    let config = html2text::config::with_decorator(Readable)
        .raw_mode(true)
        .unicode_strikeout(false)
        .allow_width_overflow();
    // html2text fails only on a document with nothing to render (or one too wide, which
    // `allow_width_overflow` rules out): either way there is no text.
    let text = config
        .dom_to_render_tree(&parsed.dom)
        .and_then(|tree| config.render_to_string(tree, WIDTH))
        .map(|text| collapse_whitespace(&text))
        .unwrap_or_default();
    HtmlText { title, text }
}

/// Trims each line, joins runs of spaces, and keeps at most one empty line in a row.
fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_pending = false;
    for line in text.lines() {
        let mut words = line.split_whitespace().peekable();
        if words.peek().is_none() {
            blank_pending = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_pending { "\n\n" } else { "\n" });
        }
        blank_pending = false;
        for (i, word) in words.enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Longest text the converter may make of `html`: a line per tag at most, each with a few
    /// list or quote markers, so a small multiple of the input.
    fn text_bound(html: &str) -> usize {
        8 * html.len() + 64
    }

    /// Pieces of tag soup: tags html2text and html5ever treat specially (with hostile numbers
    /// in attributes), entities, comments and stray markup characters.
    fn soup_piece() -> impl Strategy<Value = String> {
        let names = prop::sample::select(vec![
            "p",
            "div",
            "ul",
            "ol",
            "li",
            "dl",
            "dt",
            "dd",
            "table",
            "tr",
            "td",
            "th",
            "thead",
            "caption",
            "blockquote",
            "pre",
            "a",
            "b",
            "i",
            "s",
            "sup",
            "q",
            "code",
            "h1",
            "h6",
            "title",
            "head",
            "body",
            "html",
            "script",
            "style",
            "textarea",
            "plaintext",
            "xmp",
            "select",
            "option",
            "svg",
            "math",
            "template",
            "iframe",
            "noscript",
            "frameset",
            "button",
            "form",
            "br",
            "img",
            "hr",
            "span",
            "font",
            "nobr",
        ]);
        let attrs = prop::sample::select(vec![
            "",
            " colspan=18446744073709551615",
            " rowspan=0",
            " colspan=-1",
            " start=9223372036854775807",
            " start=-9223372036854775808",
            " start=-5",
            " value=99",
            " href='https://x.example/'",
            " alt='an image'",
            " title=\"",
            " id=a name=b",
        ]);
        let tag = (names, attrs, any::<bool>()).prop_map(|(name, attrs, close)| {
            if close {
                format!("</{name}>")
            } else {
                format!("<{name}{attrs}>")
            }
        });
        let other = prop::sample::select(vec![
            "&amp;",
            "&lt;",
            "&#x110000;",
            "&#0;",
            "&#9999999999;",
            "&nbsp;",
            "&",
            "&nGt;",
            "<!--",
            "-->",
            "<![CDATA[",
            "]]>",
            "<!DOCTYPE html>",
            "\0",
            "<",
            ">",
            "\"",
            "</",
        ])
        .prop_map(str::to_string);
        prop_oneof![tag, other, "[a-zA-Z \n\t]{0,8}"]
    }

    proptest! {
        #[test]
        fn any_string_converts_without_panic_to_bounded_text(html in any::<String>()) {
            let doc = convert(&html);
            prop_assert!(doc.text.len() <= text_bound(&html), "{} from {}", doc.text.len(), html.len());
        }

        #[test]
        fn any_tag_soup_converts_without_panic_to_bounded_text(
            pieces in prop::collection::vec(soup_piece(), 0..300)
        ) {
            let html = pieces.concat();
            let doc = convert(&html);
            prop_assert!(doc.text.len() <= text_bound(&html), "{} from {}", doc.text.len(), html.len());
            prop_assert!(doc.title.is_none_or(|t| t.len() <= html.len()));
        }
    }

    #[test]
    fn html_becomes_readable_text_without_scripts_or_styles() {
        let html = "<html><head><style>p{color:red}</style><script>alert('x<y')</script></head>\
            <body><p>Hello&nbsp;<b>Ann</b>,</p><p>Total: 5 &lt; 6 &amp; &#8364;3 &#x41;</p>\
            <br/><div>  Bye   </div></body></html>";
        assert_eq!(
            html_to_text(html),
            "Hello Ann,\n\nTotal: 5 < 6 & €3 A\n\nBye"
        );
    }

    #[test]
    fn stray_ampersands_and_unclosed_tags_do_not_break_the_text() {
        assert_eq!(
            html_to_text("Tom & Jerry &unknown; ok"),
            "Tom & Jerry &unknown; ok"
        );
        assert_eq!(html_to_text("text <b unclosed"), "text");
    }

    #[test]
    fn lists_tables_links_and_quotes_read_as_plain_lines() {
        let html = "<h1>News</h1><ul><li>one<li>two</ul><ol start=3><li>three</ol>\
            <p>See <a href='https://x.example/a'>the offer</a> <img src=a.png alt=logo></p>\
            <table><tr><td>Total</td><td>5 EUR</td></tr></table><blockquote>quoted</blockquote>";
        assert_eq!(
            html_to_text(html),
            "News\n- one\n- two\n3. three\n\nSee the offer logo\n\nTotal\n5 EUR\n\n> quoted"
        );
    }

    #[test]
    fn the_title_is_read_apart_and_left_out_of_the_text() {
        let doc = html_document(
            "<html><head><title> Cats\n &amp; Dogs </title></head><body><p>Pets</p>\
             <title>Second</title></body></html>",
        );
        assert_eq!(doc.title.as_deref(), Some("Cats & Dogs"));
        assert_eq!(doc.text, "Pets");
        assert_eq!(html_document("<p>x</p>").title, None);
        assert_eq!(html_document("<title> </title>x").title, None);
    }

    #[test]
    fn past_the_limits_text_is_kept_and_scripts_stay_hidden() {
        let deep = format!("{}<p>deep<p>text", "<div>".repeat(guard::MAX_DEPTH));
        assert_eq!(html_to_text(&deep), "deep\ntext");
        let many = format!(
            "{}<p>late<script>var hidden;</script><p>end",
            "<i>x</i>".repeat(guard::MAX_ELEMENTS)
        );
        let text = html_to_text(&many);
        assert!(text.ends_with("lateend"), "{}", &text[text.len() - 20..]);
        assert!(!text.contains("hidden"));
        let quotes = format!("{}<blockquote>q", "<blockquote>".repeat(guard::MAX_INDENTS));
        let markers = "> ".repeat(guard::MAX_INDENTS);
        assert_eq!(
            html_to_text(&quotes),
            format!("{}\n{markers}q", markers.trim_end()),
            "the quote too many becomes a line break"
        );
    }

    #[test]
    fn long_paragraphs_are_not_wrapped() {
        let words = "word ".repeat(2_000);
        assert_eq!(html_to_text(&format!("<p>{words}</p>")), words.trim_end());
    }

    #[test]
    fn blank_runs_collapse_to_one_empty_line() {
        assert_eq!(
            collapse_whitespace("\n \n a  b \n\n\n\t\nc\n\n"),
            "a b\n\nc"
        );
    }
}
