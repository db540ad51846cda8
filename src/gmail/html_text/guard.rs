//! html5ever's parser behind a guard that keeps hostile documents linear in their size.
//!
//! html5ever follows the HTML standard, whose tree building scans the stack of open elements
//! for many tags, and html2text's DOM finds a node among its siblings by a linear search when
//! the parser inserts before a sibling or moves a node (misnested tables and formatting). Both
//! are fine on real pages and quadratic on crafted ones (100k nested `<ul><li>`, 100k
//! `<table>x`). So this module sits between html5ever's tokenizer and tree builder:
//! - start tags that would nest deeper than [`MAX_DEPTH`] elements, or [`MAX_INDENTS`] lists and
//!   quotes, are dropped (a block becomes a line break, the text is kept), so every stack scan
//!   is bounded, and so is html2text's renderer, which copies each line once per enclosing block
//!   and indents it once per enclosing list or quote;
//! - after [`MAX_ELEMENTS`] elements, start tags are dropped and only text is added, which
//!   bounds the renderer's work per block (scripts and styles still pass, to stay hidden);
//!   comments are never added;
//! - numbers html2text reads from attributes are kept small (a `colspan` near `usize::MAX`
//!   panics it, a huge one allocates a column per unit);
//! - tree edits that search a child list draw on a budget proportional to the input; once it
//!   is spent, the rest of the document is ignored.
//!
//! This file is the token side; [`super::guarded_dom`] keeps the levels, the work done and the
//! title.

use html2text::{Handle, RcDom};
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use html5ever::tree_builder::{TreeBuilder, TreeBuilderOpts};
use html5ever::{LocalName, TokenizerResult, local_name};

use super::guarded_dom::GuardedDom;

/// Deepest element nesting kept; deeper start tags are dropped. Real pages and emails (a few
/// nested layout tables, four levels each) stay below it.
pub const MAX_DEPTH: usize = 32;
/// Deepest nesting of lists and quotes (each indents its lines) kept.
pub const MAX_INDENTS: usize = 6;
/// Most elements built; later start tags are dropped (their text is kept). A long article has
/// a few thousand, and the text shown is cut long before the end of a page that has more.
pub const MAX_ELEMENTS: usize = 50_000;
/// Largest `<ol start>` kept, so numbering never overflows.
const MAX_LIST_START: u64 = 1_000_000;

/// A parsed document: the tree (without title elements) and the first title's text.
pub struct Parsed {
    /// The document tree, ready for html2text's renderer.
    pub dom: RcDom,
    /// The raw text of the first `<title>`, if any (entities decoded, whitespace as written).
    pub title: Option<String>,
}

/// Parses `html` as a whole document through the guard.
pub fn parse(html: &str) -> Parsed {
    let opts = TreeBuilderOpts {
        scripting_enabled: false,
        ..TreeBuilderOpts::default()
    };
    let guard = Guard {
        builder: TreeBuilder::new(GuardedDom::for_input(html.len()), opts),
    };
    let tokenizer = Tokenizer::new(guard, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from(html));
    // `Script` asks the caller to run a script before going on; there is none to run.
    while let TokenizerResult::Script(_) = tokenizer.feed(&input) {}
    tokenizer.end();
    let (dom, title) = tokenizer.sink.builder.sink.into_parts();
    Parsed { dom, title }
}

/// The token stream from the tokenizer, filtered before the tree builder sees it.
struct Guard {
    builder: TreeBuilder<Handle, GuardedDom>,
}

impl TokenSink for Guard {
    type Handle = Handle;

    fn process_token(&self, mut token: Token, line_number: u64) -> TokenSinkResult<Handle> {
        let sink = &self.builder.sink;
        let ignored = match token {
            Token::EOFToken => false,
            // html2text never shows comments; a page of them would only fill memory.
            Token::CommentToken(_) => true,
            _ => sink.budget_spent(),
        };
        if ignored {
            return TokenSinkResult::Continue;
        }
        // `<script>` and `<style>` always pass: they nest nothing, html2text hides them, and
        // dropping one would let its code be read as page text.
        if let Token::TagToken(tag) = &mut token
            && tag.kind == TagKind::StartTag
            && !matches!(tag.name, local_name!("script") | local_name!("style"))
        {
            if sink.elements() >= MAX_ELEMENTS {
                return TokenSinkResult::Continue;
            }
            if sink.too_deep_for(&tag.name) {
                if !is_block(&tag.name) {
                    return TokenSinkResult::Continue;
                }
                make_line_break(tag);
            }
            keep_numbers_small(tag);
        }
        self.builder.process_token(token, line_number)
    }

    fn end(&self) {
        self.builder.end();
    }

    fn adjusted_current_node_present_but_not_in_html_namespace(&self) -> bool {
        self.builder
            .adjusted_current_node_present_but_not_in_html_namespace()
    }
}

/// Turns a start tag into a bare `<br>`, which stands in for a block dropped for depth.
fn make_line_break(tag: &mut Tag) {
    tag.name = local_name!("br");
    tag.self_closing = false;
    tag.attrs.clear();
}

/// Elements that start a new line, so dropping one leaves a `<br>` instead.
fn is_block(name: &LocalName) -> bool {
    is_indenting(name)
        || matches!(
            *name,
            local_name!("p")
                | local_name!("div")
                | local_name!("li")
                | local_name!("dt")
                | local_name!("dd")
                | local_name!("table")
                | local_name!("tr")
                | local_name!("td")
                | local_name!("th")
                | local_name!("h1")
                | local_name!("h2")
                | local_name!("h3")
                | local_name!("h4")
                | local_name!("h5")
                | local_name!("h6")
                | local_name!("pre")
                | local_name!("section")
                | local_name!("article")
                | local_name!("header")
                | local_name!("footer")
                | local_name!("center")
        )
}

/// Elements whose content html2text indents.
pub fn is_indenting(name: &LocalName) -> bool {
    matches!(
        *name,
        local_name!("ul")
            | local_name!("ol")
            | local_name!("dl")
            | local_name!("menu")
            | local_name!("dir")
            | local_name!("blockquote")
    )
}

/// Drops `colspan` and `rowspan` (html2text lays tables out in one column anyway) and an `ol`
/// `start` beyond [`MAX_LIST_START`].
fn keep_numbers_small(tag: &mut Tag) {
    let is_ol = tag.name == local_name!("ol");
    tag.attrs.retain(|attr| match attr.name.local {
        local_name!("colspan") | local_name!("rowspan") => false,
        local_name!("start") if is_ol => attr
            .value
            .trim()
            .parse::<i64>()
            .is_ok_and(|n| n.unsigned_abs() <= MAX_LIST_START),
        _ => true,
    });
}
