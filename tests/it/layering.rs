//! Dependencies point one way: the core (dispatch, tools, the store, the scheduler, the LLM
//! router, groups, media, calendar, Gmail, MCP) never names a channel. Replies leave the core as
//! channel-neutral text and each channel renders them at its edge, so a source file of the core
//! that mentions `telegram::`, `teloxide` or `terminal::` is a layering error.
//!
//! And no module points back up: the top-level modules under `src/` (`x.rs` and `x/` together)
//! form a graph by their `crate::<module>` mentions, which must have no cycle, so a reader can
//! follow an update from the webhook to the sender without meeting a module that points back.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Folders (and files) under `src/` that make up the core.
const CORE: &[&str] = &[
    "dispatch",
    "tools",
    "store",
    "scheduler",
    "llm",
    "groups",
    "media",
    "calendar",
    "gmail",
    "mcp",
    "markup.rs",
    "message.rs",
    "live_preview.rs",
    "outbound",
    "command_line.rs",
    "schedule_spec",
];

/// What a core file must not mention.
const CHANNEL_NAMES: &[&str] = &["crate::telegram", "telegram::", "teloxide", "terminal::"];

/// Every `.rs` file under `path` (or `path` itself), sorted.
fn rust_files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).unwrap() {
        let entry = entry.unwrap().path();
        if entry.is_dir() {
            files.extend(rust_files(&entry));
        } else if entry.extension().is_some_and(|e| e == "rs") {
            files.push(entry);
        }
    }
    files.sort();
    files
}

/// `file:line: name` for each mention of a channel in the files under `root`'s `parts`.
fn channel_mentions(root: &Path, parts: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for part in parts {
        let path = root.join(part);
        assert!(path.exists(), "{} does not exist", path.display());
        for file in rust_files(&path) {
            let text = std::fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                for name in CHANNEL_NAMES.iter().filter(|name| line.contains(**name)) {
                    let shown = file.strip_prefix(root).unwrap_or(&file).display();
                    found.push(format!("{shown}:{}: {name}", n + 1));
                }
            }
        }
    }
    found
}

#[test]
fn no_core_module_names_a_channel() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = channel_mentions(&src, CORE);
    assert!(
        found.is_empty(),
        "the core points up at a channel:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_layering_check_finds_a_channel_named_deep_in_a_core_folder() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("tools/deep");
    std::fs::create_dir_all(&nested).unwrap();
    std::fs::write(
        dir.path().join("tools/clean.rs"),
        "use crate::markup::Markup;\n",
    )
    .unwrap();
    std::fs::write(
        nested.join("leak.rs"),
        "//! x\n\nuse crate::telegram::format::escape_html;\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("message.rs"), "// see terminal::render\n").unwrap();
    let found = channel_mentions(dir.path(), &["tools", "message.rs"]);
    assert_eq!(
        found,
        vec![
            "tools/deep/leak.rs:3: crate::telegram".to_string(),
            "tools/deep/leak.rs:3: telegram::".to_string(),
            "message.rs:1: terminal::".to_string(),
        ]
    );
}

/// Where one module names another: `file:line` of the first mention.
type Edges = BTreeMap<String, BTreeMap<String, String>>;

/// The top-level modules under `src`: `x.rs` and `x/` are both module `x`; the crate roots
/// (`lib.rs`, `main.rs`) are not modules.
fn top_level_modules(src: &Path) -> BTreeSet<String> {
    let mut modules = BTreeSet::new();
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let module = if path.is_dir() {
            name
        } else if let Some(stem) = name.strip_suffix(".rs") {
            stem.to_string()
        } else {
            continue;
        };
        if module != "lib" && module != "main" {
            modules.insert(module);
        }
    }
    modules
}

/// The module names after each `crate::` on `line` (not `$crate::` or `foo_crate::`).
fn crate_paths(line: &str) -> Vec<&str> {
    let mut found = Vec::new();
    for (at, _) in line.match_indices("crate::") {
        let before = line[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let rest = &line[at + "crate::".len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        found.push(&rest[..end]);
    }
    found
}

/// Which top-level module names which, from every `crate::<module>` on a line that is not a
/// comment, in the code before a file's first `#[cfg(test)]` (tests may reach anywhere).
fn module_graph(src: &Path) -> Edges {
    let modules = top_level_modules(src);
    let mut edges = Edges::new();
    for module in &modules {
        let mut files = Vec::new();
        for part in [src.join(format!("{module}.rs")), src.join(module)] {
            if part.exists() {
                files.extend(rust_files(&part));
            }
        }
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for (n, line) in code.lines().enumerate() {
                if line.trim_start().starts_with("//") {
                    continue;
                }
                for target in crate_paths(line) {
                    if target != module && modules.contains(target) {
                        let shown = file.strip_prefix(src).unwrap_or(&file).display();
                        edges
                            .entry(module.clone())
                            .or_default()
                            .entry(target.to_string())
                            .or_insert_with(|| format!("src/{shown}:{}", n + 1));
                    }
                }
            }
        }
    }
    edges
}

/// A cycle in `edges`, as `a -> b -> c -> a` followed by one `file:line` per edge, or `None`.
fn find_cycle(edges: &Edges) -> Option<String> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &str,
        edges: &Edges,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        marks.insert(node.to_string(), Mark::Open);
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flat_map(|e| e.keys()) {
            match marks.get(next.as_str()) {
                Some(Mark::Open) => {
                    let start = path.iter().position(|m| m == next).unwrap();
                    let mut cycle = path[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Some(Mark::Done) => {}
                None => {
                    if let Some(cycle) = visit(next, edges, marks, path) {
                        return Some(cycle);
                    }
                }
            }
        }
        path.pop();
        marks.insert(node.to_string(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in edges.keys() {
        if marks.contains_key(node) {
            continue;
        }
        if let Some(cycle) = visit(node, edges, &mut marks, &mut Vec::new()) {
            let mut shown = cycle.join(" -> ");
            for pair in cycle.windows(2) {
                let at = &edges[&pair[0]][&pair[1]];
                shown.push_str(&format!("\n  {} -> {}: {at}", pair[0], pair[1]));
            }
            return Some(shown);
        }
    }
    None
}

#[test]
fn no_top_level_module_points_back_up() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = module_graph(&src);
    assert!(
        edges.len() > 10,
        "the module graph is suspiciously small: {edges:?}"
    );
    if let Some(cycle) = find_cycle(&edges) {
        panic!("the top-level modules form a cycle (move the shared part down):\n{cycle}");
    }
}

#[test]
fn the_module_graph_check_finds_a_cycle_through_a_folder_and_a_re_export() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("b/deep")).unwrap();
    std::fs::write(src.join("lib.rs"), "pub mod a;\npub mod b;\npub mod c;\n").unwrap();
    std::fs::write(
        src.join("a.rs"),
        "//! names crate::c only here\nuse crate::b::B;\n",
    )
    .unwrap();
    std::fs::write(src.join("b.rs"), "mod deep;\n").unwrap();
    std::fs::write(
        src.join("b/deep/inner.rs"),
        "//! x\n\n/// see crate::a\nfn f() -> crate::c::C { todo!() }\n",
    )
    .unwrap();
    std::fs::write(
        src.join("c.rs"),
        "pub struct C;\n#[cfg(test)]\nmod tests { use crate::b::B; }\n",
    )
    .unwrap();
    assert_eq!(find_cycle(&module_graph(src)), None, "no cycle yet");

    std::fs::write(src.join("c.rs"), "pub use crate::a::A;\n").unwrap();
    assert_eq!(
        find_cycle(&module_graph(src)).unwrap(),
        "a -> b -> c -> a\n  a -> b: src/a.rs:2\n  b -> c: src/b/deep/inner.rs:4\n  c -> a: src/c.rs:1"
    );
}
