//! Dependencies point one way: the core (dispatch, tools, the store, the scheduler, the LLM
//! router, groups, media, calendar, Gmail, MCP) never names a channel. Replies leave the core as
//! channel-neutral text and each channel renders them at its edge, so a source file of the core
//! that mentions `telegram::`, `teloxide` or `terminal::` is a layering error.

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
