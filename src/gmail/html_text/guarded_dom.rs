//! The tree side of the guard: html2text's DOM as html5ever's tree sink, plus what the token
//! side asks before each start tag: how deep the parser is inserting (elements, and lists or
//! quotes among them), how many elements exist, and whether the child-list work budget is
//! spent. It also reads the first `<title>` and keeps title elements out of the tree, so a
//! page's title is not repeated in its text.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use html2text::{Handle, RcDom};
use html5ever::interface::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::tendril::StrTendril;
use html5ever::{Attribute, ExpandedName, LocalName, QualName, local_name, ns};

use super::guard::{MAX_DEPTH, MAX_INDENTS, is_indenting};

/// Child-list work allowed per input byte (plus [`BASE_WORK`]) before the rest is ignored.
const WORK_PER_BYTE: usize = 8;
/// Child-list work always allowed, so small documents are never cut.
const BASE_WORK: usize = 1 << 20;
/// Most bytes of title text kept.
const TITLE_BYTES: usize = 2_048;

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
pub struct GuardedDom {
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
    /// An empty document whose work budget suits an input of `bytes`.
    pub fn for_input(bytes: usize) -> Self {
        let budget = bytes
            .saturating_mul(WORK_PER_BYTE)
            .saturating_add(BASE_WORK);
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

    /// The tree and the first title's text.
    pub fn into_parts(self) -> (RcDom, Option<String>) {
        (self.dom, self.title.into_inner().map(|(_, text)| text))
    }

    /// Whether tree edits have searched more child lists than the input allows.
    pub fn budget_spent(&self) -> bool {
        self.work.get() > self.budget
    }

    /// Elements built so far.
    pub fn elements(&self) -> usize {
        self.elements.get()
    }

    /// Charges the length of `node`'s child list, which the DOM is about to search or shift.
    fn charge_children(&self, node: &Handle) {
        let len = node.children.borrow().len();
        self.work.set(self.work.get().saturating_add(len));
    }

    /// Whether a `name` element opened now would nest too deep.
    pub fn too_deep_for(&self, name: &LocalName) -> bool {
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
