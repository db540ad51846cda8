//! `minicrew config`: every known key, its effective value and where it came from (the process
//! environment, the env file, or the default), secrets masked.
//!
//! The defaults shown are the values `.env.example` documents (compiled in); a test checks that
//! the config read from `.env.example` equals the config read from nothing, so they are the
//! code's own defaults. Tokens, keys, secrets and passwords show only whether they are set; a
//! URL shows no password and no query. The daemon validates the same keys first, so a bad value
//! exits 2 naming the key before anything is printed.

use std::path::Path;

use crate::config::{ConfigError, KNOWN_KEYS, read_sources};

/// `.env.example`, whose values are the documented defaults.
pub const ENV_EXAMPLE: &str = include_str!("../../.env.example");

/// Keys read by the logging and panic machinery from the process environment only.
pub const ENVIRONMENT_ONLY: &[&str] = &["RUST_LOG", "RUST_BACKTRACE"];

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The process environment.
    Env,
    /// The env file (`.env` or `--env-file`).
    File,
    /// Not set: the built-in default.
    Default,
}

impl Origin {
    fn label(self) -> &'static str {
        match self {
            Self::Env => "env",
            Self::File => "env file",
            Self::Default => "default",
        }
    }
}

/// One row of the listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The key.
    pub key: &'static str,
    /// The value as shown (masked where secret).
    pub shown: String,
    /// Where it came from.
    pub origin: Origin,
}

/// Whether the value of `key` is a secret (only its presence is shown).
pub fn is_secret(key: &str) -> bool {
    ["_TOKEN", "_KEY", "_SECRET", "_PASSWORD"]
        .iter()
        .any(|end| key.ends_with(end))
}

/// The documented default of `key` (its value in `.env.example`), if not empty.
pub fn documented_default(key: &str) -> Option<&'static str> {
    ENV_EXAMPLE
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .find(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Every known key with its effective value and origin, read as the daemon reads them, and the
/// header lines (the env file read, unknown keys in it).
pub fn rows(env_file: Option<&Path>, version: &str) -> Result<(Vec<Row>, String), ConfigError> {
    let sources = read_sources(env_file)?;
    let file_note = match &sources.file {
        Some(path) => format!("env file: {}", path.display()),
        None => "no env file".to_string(),
    };
    let mut rows = Vec::with_capacity(KNOWN_KEYS.len());
    for &key in KNOWN_KEYS {
        let (raw, origin) = if ENVIRONMENT_ONLY.contains(&key) {
            match std::env::var(key) {
                Ok(v) => (Some(v), Origin::Env),
                Err(_) => (None, Origin::Default),
            }
        } else if sources.reader.is_set(key) || sources.reader.is_blank(key) {
            let origin = if sources.from_env.iter().any(|k| k == key) {
                Origin::Env
            } else {
                Origin::File
            };
            (Some(sources.reader.get(key).unwrap_or_default()), origin)
        } else {
            (None, Origin::Default)
        };
        let shown = match (raw, origin) {
            (Some(v), _) if v.trim().is_empty() => "(empty)".to_string(),
            (Some(_), _) if is_secret(key) => "(set, hidden)".to_string(),
            (Some(v), _) => display_value(&v),
            (None, _) => documented_default(key)
                .map(display_value)
                .unwrap_or_else(|| "(not set)".to_string()),
        };
        rows.push(Row { key, shown, origin });
    }
    let mut notes = format!("# minicrew {version} effective configuration ({file_note})\n");
    for (unknown, meant) in &sources.unknown_keys {
        notes.push_str(&format!("# unknown key in the env file: {unknown}"));
        if let Some(meant) = meant {
            notes.push_str(&format!(" (did you mean {meant}?)"));
        }
        notes.push('\n');
    }
    Ok((rows, notes))
}

/// The listing `minicrew config` prints; `version` is what `--version` says.
pub fn render(env_file: Option<&Path>, version: &str) -> Result<String, ConfigError> {
    let (rows, notes) = rows(env_file, version)?;
    let width = rows.iter().map(|r| r.key.len()).max().unwrap_or(0);
    let mut out = notes;
    for row in rows {
        out.push_str(&format!(
            "{:<width$}  {:<9}  {}\n",
            row.key,
            row.origin.label(),
            row.shown
        ));
    }
    Ok(out)
}

/// A value on one line: a URL without its password or query, long text cut.
fn display_value(value: &str) -> String {
    let value = match url::Url::parse(value) {
        Ok(mut url) if url.password().is_some() || url.query().is_some() => {
            if url.password().is_some() {
                let _ = url.set_password(Some("***"));
            }
            if url.query().is_some() {
                url.set_query(Some("***"));
            }
            url.to_string()
        }
        _ => value.to_string(),
    };
    let one_line: String = value.escape_debug().collect();
    const MAX: usize = 80;
    if one_line.chars().count() > MAX {
        let cut: String = one_line.chars().take(MAX).collect();
        format!("{cut}… ({} characters)", value.chars().count())
    } else {
        one_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keys_secrets_and_passwords_are_secret_and_paths_are_not() {
        for key in [
            "TELEGRAM_BOT_TOKEN",
            "TELEGRAM_WEBHOOK_SECRET",
            "ANTHROPIC_API_KEY",
            "SECRET_KEY",
            "CALDAV_PASSWORD",
            "BRAVE_SEARCH_API_KEY",
        ] {
            assert!(is_secret(key), "{key}");
        }
        assert!(!is_secret("GOOGLE_CLIENT_SECRET_FILE"));
        assert!(!is_secret("CALDAV_USERNAME"));
    }

    #[test]
    fn a_url_shows_no_password_or_query_and_long_text_is_cut() {
        let shown = display_value("https://ana:pw-SECRET@dav.example.com/cal?token=SECRET2");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("dav.example.com"), "{shown}");
        let long = "word ".repeat(100);
        let shown = display_value(&long);
        assert!(shown.ends_with("(500 characters)"), "{shown}");
        assert_eq!(display_value("line one\nline two"), "line one\\nline two");
    }

    #[test]
    fn the_defaults_env_example_documents_are_the_codes_own() {
        use crate::config::{Config, EnvReader, Purpose};
        let required = [
            ("TELEGRAM_BOT_TOKEN", "1:x"),
            ("OWNER_TELEGRAM_CHAT_ID", "1"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let mut example: std::collections::HashMap<String, String> =
            dotenvy::from_read_iter(ENV_EXAMPLE.as_bytes())
                .map(|item| item.expect(".env.example parses"))
                .collect();
        assert!(example.len() > 50, "{} keys", example.len());
        example.extend(required.clone());
        let documented = Config::from_reader(&EnvReader::new(example), Purpose::Daemon).unwrap();
        let built_in =
            Config::from_reader(&EnvReader::new(required.into()), Purpose::Daemon).unwrap();
        assert_eq!(format!("{documented:?}"), format!("{built_in:?}"));
    }

    #[test]
    fn documented_defaults_come_from_env_example() {
        assert_eq!(documented_default("BOT_MODE"), Some("polling"));
        assert_eq!(documented_default("TELEGRAM_BOT_TOKEN"), None);
        assert_eq!(documented_default("NOT_A_KEY"), None);
    }
}
