//! Tool names for MCP tools: `<server>__<tool>`, made safe for every provider
//! (`^[a-zA-Z0-9_-]{1,64}$`), and kept as `&'static str` (the `Tool` trait's names are static) in
//! a bounded interner: the same name is stored once, and a server that keeps inventing new names
//! cannot grow memory without limit.

use std::collections::HashSet;
use std::sync::Mutex;

/// The separator between the server and the tool name.
pub const SEPARATOR: &str = "__";
/// The providers' limit on a tool name.
pub const MAX_TOOL_NAME: usize = 64;
/// Most distinct MCP tool names kept over the life of the process.
const MAX_INTERNED: usize = 4096;

/// `<server>__<tool>` with every character providers refuse replaced by `_`, cut to 64
/// characters; `None` when nothing usable is left of the tool's name.
pub fn tool_name(server: &str, tool: &str) -> Option<String> {
    let cleaned: String = tool
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.trim_matches('_').is_empty() {
        return None;
    }
    let mut name = format!("{server}{SEPARATOR}{cleaned}");
    name.truncate(MAX_TOOL_NAME);
    Some(name)
}

/// Interned names, shared by every server.
#[derive(Debug, Default)]
pub struct Interner {
    names: Mutex<HashSet<&'static str>>,
}

impl Interner {
    /// The static copy of `name`; `None` once [`MAX_INTERNED`] names are held.
    pub fn intern(&self, name: &str) -> Option<&'static str> {
        let mut names = self.names.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(existing) = names.get(name) {
            return Some(existing);
        }
        if names.len() >= MAX_INTERNED {
            return None;
        }
        // Leaked on purpose and bounded above: tool names live as long as the process.
        let leaked: &'static str = Box::leak(name.to_string().into_boxed_str());
        names.insert(leaked);
        Some(leaked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_join_server_and_tool_and_keep_to_what_providers_accept() {
        assert_eq!(
            tool_name("time", "get_current_time").as_deref(),
            Some("time__get_current_time")
        );
        assert_eq!(
            tool_name("everything", "get-sum").as_deref(),
            Some("everything__get-sum")
        );
        assert_eq!(
            tool_name("fs", "read.file/v2").as_deref(),
            Some("fs__read_file_v2")
        );
        assert_eq!(tool_name("fs", "...").as_deref(), None);
        let long = tool_name("s", &"x".repeat(200)).unwrap();
        assert_eq!(long.len(), MAX_TOOL_NAME);
        let valid = |n: &str| {
            n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        assert!(valid(&tool_name("s", "ünï côdé 🙂").unwrap()));
    }

    #[test]
    fn the_same_name_is_interned_once() {
        let interner = Interner::default();
        let a = interner.intern("time__x").unwrap();
        let b = interner.intern("time__x").unwrap();
        assert!(std::ptr::eq(a, b));
    }
}
