//! Tests of the Markdown → Telegram HTML conversion.

use super::markdown_to_html as md;
use crate::telegram::format::html_to_plain;
use crate::telegram::split::tests::check_well_formed;

/// Converts and asserts that the result is well-formed Telegram HTML.
fn html(input: &str) -> String {
    let out = md(input);
    if let Err(e) = check_well_formed(&out) {
        panic!("{e}\ninput:  {input:?}\noutput: {out:?}");
    }
    out
}

#[test]
fn bold_italic_strike_and_code_become_tags() {
    assert_eq!(
        html("**b** __b__ *i* _i_ ~~s~~ `c`"),
        "<b>b</b> <b>b</b> <i>i</i> <i>i</i> <s>s</s> <code>c</code>"
    );
    assert_eq!(html("***both***"), "<b><i>both</i></b>");
    assert_eq!(
        html("**bold with *italic* inside**"),
        "<b>bold with <i>italic</i> inside</b>"
    );
    assert_eq!(
        html("*italic with **bold** inside*"),
        "<i>italic with <b>bold</b> inside</i>"
    );
}

#[test]
fn underscores_inside_words_stay_text() {
    assert_eq!(html("call snake_case_name now"), "call snake_case_name now");
    assert_eq!(
        html("__init__ is _special_"),
        "<b>init</b> is <i>special</i>"
    );
    assert_eq!(
        html("see https://x.org/a_b_c/*x*"),
        "see https://x.org/a_b_c/*x*"
    );
}

#[test]
fn code_spans_escape_and_hide_markup() {
    assert_eq!(
        html("`a < b && *c*`"),
        "<code>a &lt; b &amp;&amp; *c*</code>"
    );
    assert_eq!(html("``has ` tick``"), "<code>has ` tick</code>");
    assert_eq!(
        html("*not `closed* here` x*"),
        "<i>not <code>closed* here</code> x</i>"
    );
}

#[test]
fn fenced_blocks_keep_code_verbatim_with_language() {
    let input = "Intro:\n```Rust\nfn main() { println!(\"<hi> & **x**\"); }\n```\nDone";
    assert_eq!(
        html(input),
        "Intro:\n<pre><code class=\"language-rust\">fn main() { println!(\"&lt;hi&gt; &amp; **x**\"); }</code></pre>\nDone"
    );
    assert_eq!(html("```\nplain\n```"), "<pre>plain</pre>");
    assert_eq!(
        html("  ```py\n    indented\n  ```"),
        "<pre><code class=\"language-py\">  indented</code></pre>"
    );
    assert_eq!(html("```x\"><script>\ny\n```"), "<pre>y</pre>");
}

#[test]
fn links_allow_only_safe_schemes() {
    assert_eq!(
        html("[Docs](https://a.b/c?x=1&y=\"2\") and [me](tg://user?id=1)"),
        "<a href=\"https://a.b/c?x=1&amp;y=&quot;2&quot;\">Docs</a> and <a href=\"tg://user?id=1\">me</a>"
    );
    assert_eq!(
        html("[**bold** link](http://x.y/(z))"),
        "<a href=\"http://x.y/(z)\"><b>bold</b> link</a>"
    );
    assert_eq!(html("[x](javascript:alert(1))"), "[x](javascript:alert(1))");
    assert_eq!(
        html("[mail](mailto:a@b.c \"title\")"),
        "<a href=\"mailto:a@b.c\">mail</a>"
    );
    assert_eq!(
        html("[[nested](https://a)](https://b)"),
        "<a href=\"https://b\">[nested](https://a)</a>"
    );
    assert_eq!(html("see [1] and [2]"), "see [1] and [2]");
}

#[test]
fn block_elements_become_telegram_equivalents() {
    let input = "# Title\n## Sub *it* ##\n> quoted **b**\n> - in quote\nafter\n- one\n* two\n  + nested\n1. first\n2) second\n---";
    let expected = "<b>Title</b>\n<b>Sub <i>it</i></b>\n<blockquote>quoted <b>b</b>\n• in quote</blockquote>\nafter\n• one\n• two\n  • nested\n1. first\n2) second\n──────────";
    assert_eq!(html(input), expected);
}

#[test]
fn unmatched_markers_stay_literal() {
    assert_eq!(html("**"), "**");
    assert_eq!(html("a ** b"), "a ** b");
    assert_eq!(html("**unclosed bold"), "**unclosed bold");
    assert_eq!(html("2 * 3 * 4 = 24"), "2 * 3 * 4 = 24");
    assert_eq!(html("~about 5~ minutes"), "~about 5~ minutes");
    assert_eq!(html("`unclosed code"), "`unclosed code");
    assert_eq!(html("****x****"), "****x****");
    assert_eq!(html("**a *b** c*"), "<b>a *b</b> c*");
}

#[test]
fn raw_html_is_escaped() {
    assert_eq!(
        html("<script>alert('x')</script> & <b>not bold</b>"),
        "&lt;script&gt;alert('x')&lt;/script&gt; &amp; &lt;b&gt;not bold&lt;/b&gt;"
    );
    assert_eq!(html("\\*not italic\\* and \\<"), "*not italic* and &lt;");
}

#[test]
fn unclosed_fence_runs_to_the_end() {
    assert_eq!(
        html("text\n```js\nlet a = 1 < 2;\n**x**"),
        "text\n<pre><code class=\"language-js\">let a = 1 &lt; 2;\n**x**</code></pre>"
    );
    assert_eq!(html("```"), "<pre></pre>");
}

#[test]
fn emoji_and_cjk_pass_through() {
    assert_eq!(
        html("**你好** 👋🏽 _日本語_ 🇺🇦 *é*"),
        "<b>你好</b> 👋🏽 <i>日本語</i> 🇺🇦 <i>é</i>"
    );
    assert_eq!(html("*👨‍👩‍👧*_"), "<i>👨‍👩‍👧</i>_");
}

#[test]
fn plain_text_survives_the_round_trip() {
    let text = "Just a sentence with 3 < 4, a&b, \"quotes\" and 日本語.";
    assert_eq!(html_to_plain(&html(text)), text);
}

#[test]
fn deep_nesting_is_bounded_and_well_formed() {
    let deep = "*a _b ".repeat(2_000) + &" c_ d*".repeat(2_000);
    let out = html(&deep);
    assert!(out.contains("<i>"));
    let brackets = "[".repeat(5_000) + "x" + &"](https://a)".repeat(5_000);
    html(&brackets);
}

#[test]
fn random_markdown_soup_never_breaks_the_output() {
    let pieces = [
        "*",
        "**",
        "***",
        "_",
        "__",
        "~~",
        "~",
        "`",
        "```",
        "```rust\n",
        "[",
        "]",
        "(",
        ")",
        "](https://x.y)",
        "](javascript:x)",
        "\n",
        "\n\n",
        "> ",
        "# ",
        "- ",
        "* ",
        "1. ",
        "<",
        ">",
        "&",
        "&amp;",
        "\"",
        "\\",
        "word",
        "snake_case",
        " ",
        "👋",
        "日本",
        "é",
        "\r\n",
        "https://a.b/_c_",
        "---",
    ];
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..3_000 {
        let len = rng.usize(0..40);
        let input: String = (0..len)
            .map(|_| pieces[rng.usize(..pieces.len())])
            .collect();
        let out = html(&input);
        let visible = html_to_plain(&out);
        let letters = |s: &str| s.chars().filter(|c| c.is_alphabetic()).count();
        assert!(letters(&visible) <= letters(&input), "{input:?} -> {out:?}");
    }
}
