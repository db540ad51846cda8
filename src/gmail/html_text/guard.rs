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
//! It also reads the first `<title>` and keeps title elements out of the tree, so a page's
//! title is not repeated in its text.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use html2text::{Handle, RcDom};
use html5ever::interface::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use html5ever::tree_builder::{TreeBuilder, TreeBuilderOpts};
use html5ever::{Attribute, ExpandedName, LocalName, QualName, TokenizerResult, local_name, ns};

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
/// Child-list work allowed per input byte (plus [`BASE_WORK`]) before the rest is ignored.
const WORK_PER_BYTE: usize = 8;
/// Child-list work always allowed, so small documents are never cut.
const BASE_WORK: usize = 1 << 20;
/// Most bytes of title text kept.
const TITLE_BYTES: usize = 2_048;

/// A parsed document: the tree (without title elements) and the first title's text.
pub struct Parsed {
    /// The document tree, ready for html2text's renderer.
    pub dom: RcDom,
    /// The raw text of the first `<title>`, if any (entities decoded, whitespace as written).
    pub title: Option<String>,
}

/// Parses `html` as a whole document through the guard.
pub fn parse(html: &str) -> Parsed {
    let budget = html.len().saturating_mul(WORK_PER_BYTE) + BASE_WORK;
    let opts = TreeBuilderOpts {
        scripting_enabled: false,
        ..TreeBuilderOpts::default()
    };
    let guard = Guard {
        builder: TreeBuilder::new(GuardedDom::new(budget), opts),
    };
    let tokenizer = Tokenizer::new(guard, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from(html));
    // `Script` asks the caller to run a script before going on; there is none to run.
    while let TokenizerResult::Script(_) = tokenizer.feed(&input) {}
    tokenizer.end();
    let dom = tokenizer.sink.builder.sink;
    let title = dom.title.into_inner().map(|(_, text)| text);
    Parsed {
        dom: dom.dom,
        title,
    }
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
            if sink.elements.get() >= MAX_ELEMENTS {
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
fn is_indenting(name: &LocalName) -> bool {
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

/// How deep a node sits: elements above it, and lists or quotes among them.
#[derive(Clone, Copy, Debug, Default)]
struct Level {
    depth: usize,
    indents: usize,
}

impl Level {
    /// The level of a child element named `name` under a node at this level.
    fn child(self, name: &LocalName) -> Self {
        Self {
            depth: self.depth + 1,
            indents: self.indents + usize::from(is_indenting(name)),
        }
    }
}

/// html2text's DOM, plus the level of each element, the child-list work done, and the title.
struct GuardedDom {
    dom: RcDom,
    /// Level of each element (the document is level 0), keyed by node address. `created` keeps
    /// every element alive until the parse ends, so no address is reused meanwhile.
    levels: RefCell<HashMap<usize, Level>>,
    created: RefCell<Vec<Handle>>,
    /// Elements built so far.
    elements: Cell<usize>,
    /// Level of the node the parser most likely inserts into next.
    current: Cell<Level>,
    work: Cell<usize>,
    budget: usize,
    /// The first title element and its text so far.
    title: RefCell<Option<(Handle, String)>>,
}

impl GuardedDom {
    fn new(budget: usize) -> Self {
        Self {
            dom: RcDom::default(),
            levels: RefCell::new(HashMap::new()),
            created: RefCell::new(Vec::new()),
            elements: Cell::new(0),
            current: Cell::new(Level::default()),
            work: Cell::new(0),
            budget,
            title: RefCell::new(None),
        }
    }

    fn budget_spent(&self) -> bool {
        self.work.get() > self.budget
    }

    /// Charges the length of `node`'s child list, which the DOM is about to search or shift.
    fn charge_children(&self, node: &Handle) {
        let len = node.children.borrow().len();
        self.work.set(self.work.get().saturating_add(len));
    }

    /// Whether a `name` element opened now would nest too deep.
    fn too_deep_for(&self, name: &LocalName) -> bool {
        let current = self.current.get();
        current.depth >= MAX_DEPTH || (is_indenting(name) && current.indents >= MAX_INDENTS)
    }

    fn level(&self, node: &Handle) -> Level {
        self.levels
            .borrow()
            .get(&address(node))
            .copied()
            .unwrap_or_default()
    }

    fn set_level(&self, node: &Handle, level: Level) {
        self.levels.borrow_mut().insert(address(node), level);
    }

    /// Records where `child` goes under `parent`; `true` when it was a title (or title text)
    /// that must stay out of the tree.
    fn place(&self, parent: &Handle, child: &NodeOrText<Handle>) -> bool {
        let parent_level = self.level(parent);
        match child {
            NodeOrText::AppendNode(node) => {
                if self.is_title(node) {
                    let mut title = self.title.borrow_mut();
                    if title.is_none() {
                        *title = Some((node.clone(), String::new()));
                    }
                    return true;
                }
                if let html2text::Element { name, .. } = &node.data {
                    let level = parent_level.child(&name.local);
                    self.set_level(node, level);
                    self.current.set(level);
                }
                false
            }
            NodeOrText::AppendText(text) => {
                if !self.is_title(parent) {
                    self.current.set(parent_level);
                    return false;
                }
                if let Some((first, kept)) = self.title.borrow_mut().as_mut()
                    && Rc::ptr_eq(first, parent)
                {
                    let room = TITLE_BYTES.saturating_sub(kept.len());
                    kept.push_str(&text[..text.floor_char_boundary(room)]);
                }
                true
            }
        }
    }

    fn is_title(&self, node: &Handle) -> bool {
        matches!(&node.data, html2text::Element { name, .. }
            if name.expanded() == ExpandedName { ns: &ns!(html), local: &local_name!("title") })
    }
}

/// A node's address, to key the level map.
fn address(node: &Handle) -> usize {
    Rc::as_ptr(node).cast::<()>() as usize
}

impl TreeSink for GuardedDom {
    type Handle = Handle;
    type Output = Self;
    type ElemName<'a> = ExpandedName<'a>;

    fn finish(self) -> Self {
        self
    }

    fn parse_error(&self, _msg: Cow<'static, str>) {
        // Errors are not kept: a hostile page could make one per byte.
    }

    fn get_document(&self) -> Handle {
        self.dom.get_document()
    }

    fn elem_name<'a>(&'a self, target: &'a Handle) -> ExpandedName<'a> {
        self.dom.elem_name(target)
    }

    fn create_element(&self, name: QualName, attrs: Vec<Attribute>, flags: ElementFlags) -> Handle {
        let node = self.dom.create_element(name, attrs, flags);
        self.created.borrow_mut().push(node.clone());
        self.elements.set(self.elements.get() + 1);
        node
    }

    fn create_comment(&self, text: StrTendril) -> Handle {
        self.dom.create_comment(text)
    }

    fn create_pi(&self, target: StrTendril, data: StrTendril) -> Handle {
        self.dom.create_pi(target, data)
    }

    fn append(&self, parent: &Handle, child: NodeOrText<Handle>) {
        if !self.place(parent, &child) {
            self.dom.append(parent, child);
        }
    }

    fn append_based_on_parent_node(
        &self,
        element: &Handle,
        prev_element: &Handle,
        child: NodeOrText<Handle>,
    ) {
        if element.get_parent().is_some() {
            self.append_before_sibling(element, child);
        } else {
            self.append(prev_element, child);
        }
    }

    fn append_doctype_to_document(&self, name: StrTendril, public: StrTendril, system: StrTendril) {
        self.dom.append_doctype_to_document(name, public, system);
    }

    fn get_template_contents(&self, target: &Handle) -> Handle {
        let contents = self.dom.get_template_contents(target);
        self.set_level(&contents, self.level(target));
        contents
    }

    fn same_node(&self, x: &Handle, y: &Handle) -> bool {
        self.dom.same_node(x, y)
    }

    fn set_quirks_mode(&self, mode: QuirksMode) {
        self.dom.set_quirks_mode(mode);
    }

    fn append_before_sibling(&self, sibling: &Handle, child: NodeOrText<Handle>) {
        let Some(parent) = sibling.get_parent() else {
            return; // html5ever never asks this of a node without a parent
        };
        self.charge_children(&parent);
        if !self.place(&parent, &child) {
            self.dom.append_before_sibling(sibling, child);
        }
    }

    fn add_attrs_if_missing(&self, target: &Handle, attrs: Vec<Attribute>) {
        self.dom.add_attrs_if_missing(target, attrs);
    }

    fn remove_from_parent(&self, target: &Handle) {
        if let Some(parent) = target.get_parent() {
            self.charge_children(&parent);
        }
        self.dom.remove_from_parent(target);
    }

    fn reparent_children(&self, node: &Handle, new_parent: &Handle) {
        self.charge_children(node);
        self.charge_children(new_parent);
        let parent_level = self.level(new_parent);
        for child in node.children.borrow().iter() {
            if let html2text::Element { name, .. } = &child.data {
                self.set_level(child, parent_level.child(&name.local));
            }
        }
        self.dom.reparent_children(node, new_parent);
    }

    fn pop(&self, node: &Handle) {
        if let Some(parent) = node.get_parent() {
            self.current.set(self.level(&parent));
        }
    }

    fn is_mathml_annotation_xml_integration_point(&self, handle: &Handle) -> bool {
        self.dom.is_mathml_annotation_xml_integration_point(handle)
    }
}
