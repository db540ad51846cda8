//! One doctor check's outcome (ok, warn or FAIL, with the fix for the last two) and how the
//! report is written: one line per check, the fix indented under it, and every configured
//! secret value blotted out of the text as a last guard (each check avoids printing them in
//! the first place).

use std::fmt::Write as _;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::config::McpTransport;
use crate::config::{Config, SearchConfig};

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Works (or is simply not configured, said in the text).
    Ok,
    /// Works for now, but something needs attention.
    Warn,
    /// Broken: `doctor` exits 1.
    Fail,
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Check {
    /// What was checked (`telegram`, `llm claude`, `calendar Ana`).
    pub name: String,
    /// The outcome.
    pub level: Level,
    /// What was found, in one line.
    pub text: String,
    /// For a warning or failure: the key to set, the command to run or the page to visit.
    pub fix: Option<String>,
}

impl Check {
    /// A passing check.
    pub fn ok(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            level: Level::Ok,
            text: text.into(),
            fix: None,
        }
    }

    /// A warning with its fix.
    pub fn warn(name: impl Into<String>, text: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            level: Level::Warn,
            text: text.into(),
            fix: Some(fix.into()),
        }
    }

    /// A failure with its fix.
    pub fn fail(name: impl Into<String>, text: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            level: Level::Fail,
            text: text.into(),
            fix: Some(fix.into()),
        }
    }
}

/// Runs `check` for at most `limit`; past it, one failure naming the limit and `fix`.
pub async fn within<F>(limit: Duration, name: &str, fix: &str, check: F) -> Vec<Check>
where
    F: Future<Output = Vec<Check>>,
{
    match tokio::time::timeout(limit, check).await {
        Ok(checks) => checks,
        Err(_) => vec![Check::fail(
            name,
            format!("no answer within {} s", limit.as_secs()),
            fix,
        )],
    }
}

/// Writes the report and says whether nothing failed.
pub fn render(checks: &[Check], secrets: &Secrets) -> (String, bool) {
    let mut report = String::new();
    let mut ok = true;
    for check in checks {
        let mark = match check.level {
            Level::Ok => "ok  ",
            Level::Warn => "warn",
            Level::Fail => {
                ok = false;
                "FAIL"
            }
        };
        let _ = writeln!(report, "{mark} {}: {}", check.name, one_line(&check.text));
        if let Some(fix) = &check.fix {
            let _ = writeln!(report, "     fix: {}", one_line(fix));
        }
    }
    (secrets.blot(&report), ok)
}

/// Newlines and other control characters (from a server's message) become spaces.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Every secret value in the configuration, to be blotted out of the report.
pub struct Secrets(Vec<String>);

/// Shown in place of a secret.
const HIDDEN: &str = "[hidden]";
/// Values shorter than this are not secrets worth the name (and would blot ordinary words).
const SHORTEST: usize = 6;

impl Secrets {
    /// Collects the bot token (and its part after `:`), the webhook secret, API keys, the
    /// CalDAV password, `SECRET_KEY`, and MCP servers' env and header values.
    pub fn of(config: &Config) -> Self {
        let mut values: Vec<&SecretString> = Vec::new();
        values.extend(config.telegram.token.as_ref());
        values.extend(config.telegram.webhook.as_ref().map(|w| &w.secret));
        values.extend(
            config
                .llm
                .providers
                .iter()
                .filter_map(|p| p.api_key.as_ref()),
        );
        values.extend(config.transcribe.api_key.as_ref());
        values.extend(config.secret_key.as_ref());
        if let SearchConfig::Brave { api_key, .. } = &config.web_search {
            values.push(api_key);
        }
        values.extend(config.calendar.owner_caldav.as_ref().map(|c| &c.password));
        for server in &config.mcp.servers {
            let pairs = match &server.transport {
                McpTransport::Stdio { env, .. } => env,
                McpTransport::Http { headers, .. } => headers,
            };
            values.extend(pairs.iter().map(|(_, v)| v));
        }
        let mut texts: Vec<String> = values
            .into_iter()
            .map(|s| s.expose_secret().to_string())
            .collect();
        let token_parts: Vec<String> = texts
            .iter()
            .filter_map(|t| t.split_once(':').map(|(_, secret)| secret.to_string()))
            .collect();
        texts.extend(token_parts);
        // Bearer tokens in headers: the token alone may show up too.
        let bearer: Vec<String> = texts
            .iter()
            .filter_map(|t| t.strip_prefix("Bearer ").map(str::to_string))
            .collect();
        texts.extend(bearer);
        texts.retain(|t| t.trim().len() >= SHORTEST);
        // Longest first, so a value holding a shorter one is blotted whole.
        texts.sort_by_key(|t| std::cmp::Reverse(t.len()));
        Self(texts)
    }

    /// `text` with every secret value replaced by `[hidden]`.
    pub fn blot(&self, text: &str) -> String {
        self.0
            .iter()
            .fold(text.to_string(), |out, secret| out.replace(secret, HIDDEN))
    }
}

/// `path` as a shell word for a fix line (quoted when it holds anything unusual).
pub fn shell_word(path: &std::path::Path) -> String {
    let text = path.display().to_string();
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:@".contains(c));
    if plain && !text.is_empty() {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_and_warnings_carry_their_fix_indented_and_only_failures_fail() {
        let checks = [
            Check::ok("config", "fine"),
            Check::warn("webhook", "old error", "do this"),
        ];
        let (report, ok) = render(&checks, &Secrets(Vec::new()));
        assert!(ok);
        assert_eq!(
            report,
            "ok   config: fine\nwarn webhook: old error\n     fix: do this\n"
        );
        let (report, ok) = render(
            &[Check::fail("x", "broke\nacross lines", "run y")],
            &Secrets(Vec::new()),
        );
        assert!(!ok);
        assert_eq!(report, "FAIL x: broke across lines\n     fix: run y\n");
    }

    #[test]
    fn secrets_are_blotted_whole_and_short_values_are_left_alone() {
        let secrets = Secrets(vec!["123456:ABCDEF-token".into(), "ABCDEF-token".into()]);
        let (report, _) = render(
            &[Check::ok(
                "t",
                "https://h/bot123456:ABCDEF-token/x and ABCDEF-token",
            )],
            &secrets,
        );
        assert_eq!(report, "ok   t: https://h/bot[hidden]/x and [hidden]\n");
    }

    #[test]
    fn paths_with_spaces_are_quoted_for_the_shell() {
        assert_eq!(shell_word("data/minicrew.db".as_ref()), "data/minicrew.db");
        assert_eq!(shell_word("my data/it's".as_ref()), r"'my data/it'\''s'");
    }
}
