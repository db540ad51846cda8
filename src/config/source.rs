//! Where configuration comes from: the `.env` file (or `--env-file`) first, then the process
//! environment, which wins. Unknown keys in the file are reported, with the known key they
//! most likely meant.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::reader::{ConfigError, EnvReader, near_miss};

/// Every key of ARCHITECTURE.md §3, plus the logging keys read by tracing.
pub const KNOWN_KEYS: &[&str] = &[
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_URL",
    "BOT_MODE",
    "WEBHOOK_HOST",
    "WEBHOOK_PATH",
    "WEBHOOK_LISTEN",
    "WEBHOOK_PORT",
    "TELEGRAM_WEBHOOK_SECRET",
    "HTTP_LISTEN",
    "TELEGRAM_RATE_GLOBAL",
    "TELEGRAM_RATE_PER_CHAT",
    "OWNER_TELEGRAM_CHAT_ID",
    "OWNER_DISPLAY_NAME",
    "DEFAULT_LLM",
    "LLM_FALLBACK_ORDER",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "CLAUDE_MODEL_CHEAP",
    "CLAUDE_MODEL_MID",
    "GEMINI_API_KEY",
    "GEMINI_BASE_URL",
    "GEMINI_MODEL_CHEAP",
    "GEMINI_MODEL_MID",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_MODEL_CHEAP",
    "OPENAI_MODEL_MID",
    "LLM_TIMEOUT_SECS",
    "SYSTEM_PROMPT",
    "MAX_CONTEXT_MESSAGES",
    "CHAT_HISTORY_RETENTION_DAYS",
    "TIMEZONE",
    "MORNING_BRIEFING_TIME",
    "GOOGLE_CLIENT_SECRET_FILE",
    "CREDENTIALS_DIR",
    "GMAIL_MAX_RESULTS",
    "GMAIL_API_URL",
    "GOOGLE_AUTH_URL",
    "GOOGLE_TOKEN_URL",
    "SECRET_KEY",
    "USER_DAILY_TOKEN_LIMIT",
    "USER_RATE_LIMIT_PER_MIN",
    "STREAM_REPLIES",
    "TRANSCRIBE_BASE_URL",
    "TRANSCRIBE_API_KEY",
    "TRANSCRIBE_MODEL",
    "WEB_FETCH_ALLOW_PRIVATE",
    "SEARXNG_URL",
    "BRAVE_SEARCH_API_KEY",
    "BRAVE_SEARCH_URL",
    "GROUPS",
    "MCP_CONFIG",
    "GOOGLE_CALENDAR_API_URL",
    "CALDAV_URL",
    "CALDAV_USERNAME",
    "CALDAV_PASSWORD",
    "DATA_DIR",
    "LOG_FORMAT",
    "SCHEDULE_GRACE_MINUTES",
    "MEDIA_MAX_MB",
    "CLAUDE_VISION",
    "GEMINI_VISION",
    "OPENAI_VISION",
    "RUST_LOG",
    "RUST_BACKTRACE",
];

/// The merged key/value pairs and what the file contributed.
#[derive(Debug)]
pub struct Sources {
    /// File values overlaid by the environment.
    pub reader: EnvReader,
    /// The env file that was read, if any.
    pub file: Option<PathBuf>,
    /// Known keys whose value came from the process environment (it wins over the file).
    pub from_env: Vec<String>,
    /// Keys in the file that minicrew does not know, each with the key it probably meant.
    pub unknown_keys: Vec<(String, Option<&'static str>)>,
}

impl Sources {
    /// Adds a hint to `err` when the missing key looks mistyped in the env file.
    pub fn explain(&self, mut err: ConfigError) -> ConfigError {
        for (unknown, meant) in &self.unknown_keys {
            if *meant == Some(err.key.as_str()) {
                err.problem
                    .push_str(&format!(" (the env file has '{unknown}': a typo?)"));
            }
        }
        err
    }
}

/// Reads `env_file` (which must exist) or `./.env` (which may not), then the environment.
pub fn read_sources(env_file: Option<&Path>) -> Result<Sources, ConfigError> {
    let (path, must_exist) = match env_file {
        Some(p) => (p.to_path_buf(), true),
        None => (PathBuf::from(".env"), false),
    };
    let mut values = HashMap::new();
    let mut file = None;
    if path.exists() {
        for item in dotenvy::from_path_iter(&path).map_err(|e| file_error(&path, e))? {
            let (key, value) = item.map_err(|e| file_error(&path, e))?;
            values.insert(key, value);
        }
        file = Some(path);
    } else if must_exist {
        return Err(ConfigError::new(
            "--env-file",
            format!("{} does not exist", path.display()),
        ));
    }
    let unknown_keys = values
        .keys()
        .filter(|k| !KNOWN_KEYS.contains(&k.as_str()))
        .map(|k| (k.clone(), near_miss(k, KNOWN_KEYS)))
        .collect();
    let mut from_env = Vec::new();
    for (key, value) in std::env::vars() {
        if KNOWN_KEYS.contains(&key.as_str()) {
            from_env.push(key.clone());
            values.insert(key, value);
        }
    }
    Ok(Sources {
        reader: EnvReader::new(values),
        file,
        from_env,
        unknown_keys,
    })
}

fn file_error(path: &Path, err: dotenvy::Error) -> ConfigError {
    // dotenvy's parse errors quote the offending line, which could hold a secret: keep the position only.
    let problem = match err {
        dotenvy::Error::LineParse(_, index) => {
            format!("cannot parse {} near character {index}", path.display())
        }
        dotenvy::Error::Io(e) => format!("cannot read {}: {e}", path.display()),
        _ => format!("cannot read {}", path.display()),
    };
    ConfigError::new("env file", problem)
}
