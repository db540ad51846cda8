//! Configuration as documentation: the keys the code knows (the known-keys list, and every key
//! the config code reads) are exactly the keys in `.env.example` and in the README's
//! configuration table.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use minicrew::config::KNOWN_KEYS;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn is_key(word: &str) -> bool {
    word.len() > 3
        && word.starts_with(|c: char| c.is_ascii_uppercase())
        && word
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// `KEY=value` lines, and `# KEY=value` lines for keys read from the environment only.
fn env_example_keys() -> BTreeSet<String> {
    std::fs::read_to_string(root().join(".env.example"))
        .unwrap()
        .lines()
        .filter_map(|line| line.strip_prefix("# ").or(Some(line)))
        .filter_map(|line| line.split_once('=').map(|(k, _)| k))
        .filter(|k| is_key(k))
        .map(str::to_string)
        .collect()
}

/// The backticked keys in the first column of the README's "## Configuration" table.
fn readme_keys() -> BTreeSet<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = readme
        .split("\n## Configuration\n")
        .nth(1)
        .expect("the README has a Configuration section")
        .split("\n## ")
        .next()
        .unwrap_or_default();
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .filter_map(|l| l.split('|').nth(1))
        .flat_map(|cell| cell.split('`').skip(1).step_by(2))
        .filter(|k| is_key(k))
        .map(str::to_string)
        .collect()
}

/// Keys passed as literals to the config reader anywhere in `src/` (outside test modules).
fn keys_read_in_code() -> BTreeSet<(String, String)> {
    const CALLS: &[&str] = &[
        ".get(\"",
        ".string_or(\"",
        ".required(\"",
        ".secret(\"",
        ".parsed_or(\"",
        ".bool_or(\"",
        ".url_or(\"",
        ".is_set(\"",
        ".is_blank(\"",
        "parse_http_url(\"",
        "parse_tz(\"",
        "ConfigError::new(\"",
        "const KEY: &str = \"",
    ];
    let mut found = BTreeSet::new();
    let mut stack = vec![root().join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                scan(&path, CALLS, &mut found);
            }
        }
    }
    found
}

fn scan(path: &Path, calls: &[&str], found: &mut BTreeSet<(String, String)>) {
    let text = std::fs::read_to_string(path).unwrap();
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    let file = path.strip_prefix(root()).unwrap().display().to_string();
    for call in calls {
        for (at, _) in code.match_indices(call) {
            let rest = &code[at + call.len()..];
            let word = rest.split('"').next().unwrap_or_default();
            if is_key(word) {
                found.insert((word.to_string(), file.clone()));
            }
        }
    }
}

fn difference(a: &BTreeSet<String>, b: &BTreeSet<String>) -> Vec<String> {
    a.difference(b).cloned().collect()
}

#[test]
fn every_known_key_is_in_env_example_and_the_readme_table_and_nothing_else_is() {
    let known: BTreeSet<String> = KNOWN_KEYS.iter().map(|k| k.to_string()).collect();
    let env = env_example_keys();
    let readme = readme_keys();
    let mut problems = Vec::new();
    for (missing, from) in [
        (difference(&known, &env), "missing from .env.example"),
        (
            difference(&env, &known),
            "in .env.example but unknown to src/config/source.rs KNOWN_KEYS",
        ),
        (
            difference(&known, &readme),
            "missing from the README's configuration table",
        ),
        (
            difference(&readme, &known),
            "in the README's table but unknown to KNOWN_KEYS",
        ),
    ] {
        if !missing.is_empty() {
            problems.push(format!("{from}: {}", missing.join(", ")));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_key_the_code_reads_is_a_known_key() {
    let read = keys_read_in_code();
    assert!(
        read.iter().any(|(k, _)| k == "OWNER_TELEGRAM_CHAT_ID"),
        "the scan finds the config reads: {read:?}"
    );
    let unknown: Vec<String> = read
        .iter()
        .filter(|(k, _)| !KNOWN_KEYS.contains(&k.as_str()))
        .map(|(k, file)| format!("{k} (read in {file})"))
        .collect();
    assert!(
        unknown.is_empty(),
        "keys read but not in KNOWN_KEYS (add them there, to .env.example and to the README \
         table): {}",
        unknown.join(", ")
    );
}
