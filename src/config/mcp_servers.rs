//! `MCP_CONFIG`: the MCP servers file in the common `{"mcpServers": {name: {...}}}` form, read and
//! validated once at start. Each server is a command the bot starts (`command`, `args`, `env`) or
//! a streamable-HTTP URL (`url`, `headers`), plus our own fields: `users` (`owner` | `all`),
//! `effect` (`outside` | `read`), `timeout_secs` (one tool call) and `startup_timeout_secs`
//! (start, handshake and tool list). Every error names the server and the field.

use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Map, Value};
use url::Url;

use super::ConfigError;

/// The key naming the file.
pub const KEY: &str = "MCP_CONFIG";
/// The file read when `MCP_CONFIG` is unset, if it exists.
pub const DEFAULT_FILE: &str = "mcp.json";
/// Largest config file read.
const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// Most servers in one file.
const MAX_SERVERS: usize = 32;
/// Longest server name: `<server>__<tool>` must stay within a provider's 64 characters.
pub const MAX_NAME_CHARS: usize = 24;
/// Default time one tool call may take.
const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// Default time to start a server, shake hands and list its tools.
const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// Fields a server entry may have.
const FIELDS: [&str; 9] = [
    "command",
    "args",
    "env",
    "url",
    "headers",
    "users",
    "effect",
    "timeout_secs",
    "startup_timeout_secs",
];

/// Who may use a server's tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum McpUsers {
    /// Only the owner (the default).
    Owner,
    /// Every approved user.
    All,
}

/// How a server is reached.
#[derive(Debug, Clone)]
pub enum McpTransport {
    /// A command the bot starts and owns, speaking MCP on stdin/stdout.
    Stdio {
        /// Program to run (a path, or a name looked up in `PATH`).
        command: String,
        /// Its arguments.
        args: Vec<String>,
        /// The only variables it gets besides `PATH`, `HOME` and `LANG` (values may be secrets).
        env: Vec<(String, SecretString)>,
    },
    /// A streamable-HTTP endpoint.
    Http {
        /// The endpoint, `http` or `https`.
        url: Url,
        /// Extra request headers (an `Authorization` bearer token); values are never logged.
        headers: Vec<(String, SecretString)>,
    },
}

/// One configured server.
#[derive(Debug, Clone)]
pub struct McpServerConfig {
    /// Its name, the prefix of its tools (`<name>__<tool>`).
    pub name: String,
    /// Command or URL.
    pub transport: McpTransport,
    /// Who may use its tools.
    pub users: McpUsers,
    /// `true` when the config says `"effect": "read"`: calls run without a confirm button.
    pub read_only: bool,
    /// Time one tool call may take.
    pub call_timeout: Duration,
    /// Time to start, shake hands and list tools.
    pub startup_timeout: Duration,
}

/// Every configured server, in file order (empty: no MCP).
#[derive(Debug, Clone, Default)]
pub struct McpConfig {
    /// The file they came from.
    pub file: Option<PathBuf>,
    /// The servers.
    pub servers: Vec<McpServerConfig>,
}

/// Reads `MCP_CONFIG` (or `mcp.json` when present); `raw` is the key's value if set.
pub fn load(raw: Option<String>) -> Result<McpConfig, ConfigError> {
    let path = match raw {
        Some(path) => PathBuf::from(path),
        None if Path::new(DEFAULT_FILE).is_file() => PathBuf::from(DEFAULT_FILE),
        None => return Ok(McpConfig::default()),
    };
    let fail = |problem: String| ConfigError::new(KEY, format!("{}: {problem}", path.display()));
    let size = std::fs::metadata(&path)
        .map_err(|e| fail(format!("cannot read the file ({e})")))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(fail(format!("is larger than {MAX_FILE_BYTES} bytes")));
    }
    let text =
        std::fs::read_to_string(&path).map_err(|e| fail(format!("cannot read the file ({e})")))?;
    let servers = parse(&text).map_err(fail)?;
    Ok(McpConfig {
        file: Some(path),
        servers,
    })
}

/// Parses the file's text into servers; the error names the server and the field.
pub fn parse(text: &str) -> Result<Vec<McpServerConfig>, String> {
    let root: Value = serde_json::from_str(text).map_err(|e| format!("is not valid JSON ({e})"))?;
    let servers = root
        .get("mcpServers")
        .and_then(Value::as_object)
        .ok_or("needs an object \"mcpServers\": {\"<name>\": {...}}")?;
    if servers.len() > MAX_SERVERS {
        return Err(format!("has more than {MAX_SERVERS} servers"));
    }
    servers
        .iter()
        .map(|(name, entry)| {
            server(name, entry).map_err(|problem| format!("server '{}': {problem}", shown(name)))
        })
        .collect()
}

/// A name as safe to print in an error (cut, control characters dropped).
fn shown(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(40).collect()
}

fn server(name: &str, entry: &Value) -> Result<McpServerConfig, String> {
    check_name(name)?;
    let entry = entry
        .as_object()
        .ok_or("must be an object with \"command\" or \"url\"")?;
    if let Some(unknown) = entry.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        let hint = super::near_miss(unknown, &FIELDS)
            .map(|k| format!(" (did you mean '{k}'?)"))
            .unwrap_or_default();
        return Err(format!("field '{}' is unknown{hint}", shown(unknown)));
    }
    let transport = match (entry.get("command"), entry.get("url")) {
        (Some(_), Some(_)) => return Err("has both 'command' and 'url'; pick one".into()),
        (None, None) => return Err("needs 'command' (stdio) or 'url' (streamable HTTP)".into()),
        (Some(command), None) => stdio(command, entry)?,
        (None, Some(url)) => http(url, entry)?,
    };
    let users = match entry.get("users").map(|v| v.as_str()) {
        None | Some(Some("owner")) => McpUsers::Owner,
        Some(Some("all")) => McpUsers::All,
        Some(_) => return Err("field 'users' must be \"owner\" or \"all\"".into()),
    };
    let read_only = match entry.get("effect").map(|v| v.as_str()) {
        None | Some(Some("outside")) => false,
        Some(Some("read")) => true,
        Some(_) => return Err("field 'effect' must be \"outside\" or \"read\"".into()),
    };
    Ok(McpServerConfig {
        name: name.to_string(),
        transport,
        users,
        read_only,
        call_timeout: seconds(entry, "timeout_secs", DEFAULT_CALL_TIMEOUT)?,
        startup_timeout: seconds(entry, "startup_timeout_secs", DEFAULT_STARTUP_TIMEOUT)?,
    })
}

/// Server names become tool-name prefixes, which providers limit to `[a-zA-Z0-9_-]`.
fn check_name(name: &str) -> Result<(), String> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || !ok_chars || name.contains("__")
    {
        return Err(format!(
            "the name must be 1 to {MAX_NAME_CHARS} letters, digits, '-' or '_' (no \"__\"), \
             because tools are named <server>__<tool>"
        ));
    }
    Ok(())
}

fn stdio(command: &Value, entry: &Map<String, Value>) -> Result<McpTransport, String> {
    let command = command
        .as_str()
        .filter(|c| !c.trim().is_empty())
        .ok_or("field 'command' must be a non-empty string")?;
    if entry.contains_key("headers") {
        return Err("field 'headers' is for 'url' servers only".into());
    }
    let args = match entry.get("args") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|a| a.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or("field 'args' must be a list of strings")?,
        Some(_) => return Err("field 'args' must be a list of strings".into()),
    };
    Ok(McpTransport::Stdio {
        command: command.to_string(),
        args,
        env: string_map(entry, "env")?,
    })
}

fn http(url: &Value, entry: &Map<String, Value>) -> Result<McpTransport, String> {
    let raw = url.as_str().ok_or("field 'url' must be a string")?;
    let url = Url::parse(raw.trim()).map_err(|e| format!("field 'url' is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("field 'url' must be an http:// or https:// URL with a host".into());
    }
    for field in ["args", "env"] {
        if entry.contains_key(field) {
            return Err(format!("field '{field}' is for 'command' servers only"));
        }
    }
    let headers = string_map(entry, "headers")?;
    for (name, _) in &headers {
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(format!(
                "field 'headers' has an invalid header name '{}'",
                shown(name)
            ));
        }
    }
    Ok(McpTransport::Http { url, headers })
}

/// An object of string values (`env`, `headers`); values are kept secret.
fn string_map(
    entry: &Map<String, Value>,
    field: &str,
) -> Result<Vec<(String, SecretString)>, String> {
    let Some(value) = entry.get(field) else {
        return Ok(Vec::new());
    };
    let bad = || format!("field '{field}' must be an object of string values");
    let map = value.as_object().ok_or_else(bad)?;
    map.iter()
        .map(|(k, v)| {
            let v = v.as_str().ok_or_else(bad)?;
            if k.is_empty() || k.contains('=') || k.contains('\0') || v.contains('\0') {
                return Err(format!(
                    "field '{field}' has an invalid name '{}'",
                    shown(k)
                ));
            }
            Ok((k.clone(), SecretString::from(v.to_string())))
        })
        .collect()
}

fn seconds(entry: &Map<String, Value>, field: &str, default: Duration) -> Result<Duration, String> {
    match entry.get(field) {
        None => Ok(default),
        Some(v) => v
            .as_u64()
            .filter(|s| (1..=3600).contains(s))
            .map(Duration::from_secs)
            .ok_or_else(|| format!("field '{field}' must be a number of seconds from 1 to 3600")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(text: &str) -> String {
        parse(text).expect_err("should be refused")
    }

    #[test]
    fn a_stdio_and_an_http_server_parse_with_their_defaults() {
        let servers = parse(
            r#"{"mcpServers": {
                "time": {"command": "python", "args": ["-m", "mcp_server_time"], "env": {"TZ": "UTC"}},
                "web": {"url": "https://mcp.example.com/mcp", "headers": {"Authorization": "Bearer s3cret"},
                        "users": "all", "effect": "read", "timeout_secs": 5}
            }}"#,
        )
        .unwrap();
        assert_eq!(servers.len(), 2);
        let time = &servers[0];
        assert_eq!(time.name, "time");
        assert_eq!(time.users, McpUsers::Owner);
        assert!(!time.read_only);
        assert!(
            matches!(&time.transport, McpTransport::Stdio { command, args, env }
            if command == "python" && args.len() == 2 && env.len() == 1)
        );
        let web = &servers[1];
        assert_eq!((web.users, web.read_only), (McpUsers::All, true));
        assert_eq!(web.call_timeout, Duration::from_secs(5));
        assert!(!format!("{web:?}").contains("s3cret"), "{web:?}");
    }

    #[test]
    fn errors_name_the_server_and_the_field() {
        let cases = [
            (
                r#"{"mcpServers": {"t": {"command": "x", "effect": "write"}}}"#,
                "server 't': field 'effect'",
            ),
            (
                r#"{"mcpServers": {"t": {"command": "x", "users": 3}}}"#,
                "server 't': field 'users'",
            ),
            (
                r#"{"mcpServers": {"t": {"command": "x", "args": "a b"}}}"#,
                "server 't': field 'args'",
            ),
            (
                r#"{"mcpServers": {"t": {"url": "ftp://x"}}}"#,
                "server 't': field 'url'",
            ),
            (
                r#"{"mcpServers": {"t": {"command": "x", "efect": "read"}}}"#,
                "field 'efect' is unknown (did you mean 'effect'?)",
            ),
            (
                r#"{"mcpServers": {"t": {"command": "x", "timeout_secs": 0}}}"#,
                "field 'timeout_secs'",
            ),
            (
                r#"{"mcpServers": {"t": {}}}"#,
                "server 't': needs 'command'",
            ),
            (
                r#"{"mcpServers": {"my.server": {"command": "x"}}}"#,
                "server 'my.server': the name",
            ),
            (
                r#"{"mcpServers": {"a__b": {"command": "x"}}}"#,
                "server 'a__b': the name",
            ),
            (r#"{"servers": {}}"#, "mcpServers"),
            (r#"{"mcpServers": "#, "not valid JSON"),
        ];
        for (text, expected) in cases {
            let error = error_of(text);
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn a_malformed_file_is_a_config_error_naming_the_key_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mcp.json");
        std::fs::write(&path, r#"{"mcpServers": {"t": {"command": 7}}}"#).unwrap();
        let error = load(Some(path.display().to_string())).unwrap_err();
        assert_eq!(error.key, KEY);
        assert!(
            error.problem.contains("server 't': field 'command'"),
            "{error}"
        );
        let missing = load(Some(dir.path().join("none.json").display().to_string())).unwrap_err();
        assert!(missing.problem.contains("cannot read"), "{missing}");
    }
}
