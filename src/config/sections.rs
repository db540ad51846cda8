//! Config sections with many keys of their own: LLM providers, Gmail, speech-to-text.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use super::reader::{ConfigError, EnvReader};
use super::{ProviderKind, Tier};

/// Default Claude models (cheap, mid); override with `CLAUDE_MODEL_CHEAP` / `CLAUDE_MODEL_MID`.
pub const CLAUDE_DEFAULT_MODELS: (&str, &str) = ("claude-haiku-4-5", "claude-sonnet-4-5");
/// Default Gemini models (cheap, mid).
pub const GEMINI_DEFAULT_MODELS: (&str, &str) = ("gemini-2.5-flash", "gemini-2.5-pro");
/// Default models on OpenAI's own API (cheap, mid); other servers must name theirs.
pub const OPENAI_DEFAULT_MODELS: (&str, &str) = ("gpt-4.1-mini", "gpt-4.1");
/// OpenAI's own API; any other base URL is "your own server".
pub const OPENAI_DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// One configured provider.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// Which provider this is.
    pub kind: ProviderKind,
    /// API key; optional only for OpenAI-compatible servers on a non-default base URL.
    pub api_key: Option<SecretString>,
    /// Base URL of the API.
    pub base_url: Url,
    /// The cheap, fast model.
    pub model_cheap: String,
    /// The mid-tier model (summaries, harder questions).
    pub model_mid: String,
    /// Whether its models see images (`CLAUDE_VISION`, ...); `None`: guessed by model family.
    pub vision: Option<bool>,
}

impl ProviderConfig {
    /// The configured model id for `tier`.
    pub fn model(&self, tier: Tier) -> &str {
        match tier {
            Tier::Cheap => &self.model_cheap,
            Tier::Mid => &self.model_mid,
        }
    }
}

/// LLM routing settings.
#[derive(Debug, Clone)]
pub struct LlmConfig {
    /// Configured providers, in `LLM_FALLBACK_ORDER`.
    pub providers: Vec<ProviderConfig>,
    /// The provider new users start with (`DEFAULT_LLM`, else the first configured).
    pub default: Option<ProviderKind>,
    /// Order tried after the user's preferred provider.
    pub fallback_order: Vec<ProviderKind>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Replaces the built-in system prompt when set.
    pub system_prompt: Option<String>,
    /// Turns of history sent as context.
    pub max_context_messages: usize,
}

impl LlmConfig {
    /// Reads the provider keys; a provider is configured when its key (or, for OpenAI-compatible
    /// servers, a non-default base URL) is set.
    pub fn from_reader(env: &EnvReader) -> Result<Self, ConfigError> {
        let fallback_order = parse_order(env)?;
        let mut providers = Vec::new();
        for kind in &fallback_order {
            if let Some(p) = provider(env, *kind)? {
                providers.push(p);
            }
        }
        let default = match env.get("DEFAULT_LLM") {
            None => providers.first().map(|p| p.kind),
            Some(raw) => {
                let kind: ProviderKind = raw
                    .parse()
                    .map_err(|e| ConfigError::new("DEFAULT_LLM", format!("{e}")))?;
                if !providers.iter().any(|p| p.kind == kind) {
                    return Err(ConfigError::new(
                        "DEFAULT_LLM",
                        format!("'{kind}' is not configured; set its API key or choose another"),
                    ));
                }
                Some(kind)
            }
        };
        Ok(Self {
            providers,
            default,
            fallback_order,
            timeout: Duration::from_secs(env.parsed_or(
                "LLM_TIMEOUT_SECS",
                60,
                "a number of seconds",
            )?),
            system_prompt: env.get("SYSTEM_PROMPT"),
            max_context_messages: env.parsed_or(
                "MAX_CONTEXT_MESSAGES",
                10,
                "a number of messages",
            )?,
        })
    }

    /// The settings of `kind`, if configured.
    pub fn provider(&self, kind: ProviderKind) -> Option<&ProviderConfig> {
        self.providers.iter().find(|p| p.kind == kind)
    }
}

fn parse_order(env: &EnvReader) -> Result<Vec<ProviderKind>, ConfigError> {
    let raw = env.string_or("LLM_FALLBACK_ORDER", "claude,gemini,openai");
    let mut order = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let kind: ProviderKind = name
            .parse()
            .map_err(|e| ConfigError::new("LLM_FALLBACK_ORDER", format!("{e}")))?;
        if !order.contains(&kind) {
            order.push(kind);
        }
    }
    // Providers left out of the order are still tried, last.
    for kind in ProviderKind::ALL {
        if !order.contains(&kind) {
            order.push(kind);
        }
    }
    Ok(order)
}

fn provider(env: &EnvReader, kind: ProviderKind) -> Result<Option<ProviderConfig>, ConfigError> {
    let vision_key = kind.vision_key();
    let vision = if env.is_set(vision_key) {
        Some(env.bool_or(vision_key, false)?)
    } else {
        None
    };
    let (key, url_key, default_url, cheap_key, mid_key, defaults) = match kind {
        ProviderKind::Claude => (
            "ANTHROPIC_API_KEY",
            "ANTHROPIC_BASE_URL",
            "https://api.anthropic.com",
            "CLAUDE_MODEL_CHEAP",
            "CLAUDE_MODEL_MID",
            Some(CLAUDE_DEFAULT_MODELS),
        ),
        ProviderKind::Gemini => (
            "GEMINI_API_KEY",
            "GEMINI_BASE_URL",
            "https://generativelanguage.googleapis.com",
            "GEMINI_MODEL_CHEAP",
            "GEMINI_MODEL_MID",
            Some(GEMINI_DEFAULT_MODELS),
        ),
        ProviderKind::OpenAi => (
            "OPENAI_API_KEY",
            "OPENAI_BASE_URL",
            OPENAI_DEFAULT_BASE_URL,
            "OPENAI_MODEL_CHEAP",
            "OPENAI_MODEL_MID",
            None,
        ),
    };
    let api_key = env.secret(key);
    let base_url = env.url_or(url_key, default_url)?;
    let custom_server = env.is_set(url_key) && base_url.as_str() != default_url;
    let enabled = api_key.is_some() || (kind == ProviderKind::OpenAi && custom_server);
    if !enabled {
        return Ok(None);
    }
    let defaults = defaults.or(if custom_server {
        None
    } else {
        Some(OPENAI_DEFAULT_MODELS)
    });
    let (model_cheap, model_mid) = match defaults {
        Some((cheap, mid)) => (env.string_or(cheap_key, cheap), env.string_or(mid_key, mid)),
        None => {
            let cheap = env.required(
                cheap_key,
                "name the model your OpenAI-compatible server serves, e.g. llama3.1",
            )?;
            let mid = env.string_or(mid_key, &cheap);
            (cheap, mid)
        }
    };
    Ok(Some(ProviderConfig {
        kind,
        api_key,
        base_url,
        model_cheap,
        model_mid,
        vision,
    }))
}

/// Gmail OAuth client and API endpoints.
#[derive(Debug, Clone)]
pub struct GmailConfig {
    /// The Desktop-app OAuth client JSON downloaded from Google Cloud.
    pub client_secret_file: PathBuf,
    /// Folder of the per-user encrypted tokens `gmail_<user_id>.json`.
    pub credentials_dir: PathBuf,
    /// Most messages fetched per summary.
    pub max_results: u32,
    /// Gmail REST base URL.
    pub api_url: Url,
    /// Google's OAuth authorization endpoint.
    pub auth_url: Url,
    /// Google's OAuth token endpoint.
    pub token_url: Url,
}

impl GmailConfig {
    /// Reads the Gmail keys.
    pub fn from_reader(env: &EnvReader) -> Result<Self, ConfigError> {
        Ok(Self {
            client_secret_file: PathBuf::from(
                env.string_or("GOOGLE_CLIENT_SECRET_FILE", "credentials.json"),
            ),
            credentials_dir: PathBuf::from(env.string_or("CREDENTIALS_DIR", "credentials")),
            max_results: env.parsed_or("GMAIL_MAX_RESULTS", 30, "a number of messages")?,
            api_url: env.url_or("GMAIL_API_URL", "https://gmail.googleapis.com")?,
            auth_url: env.url_or(
                "GOOGLE_AUTH_URL",
                "https://accounts.google.com/o/oauth2/v2/auth",
            )?,
            token_url: env.url_or("GOOGLE_TOKEN_URL", "https://oauth2.googleapis.com/token")?,
        })
    }
}

/// OpenAI-compatible speech-to-text for voice messages.
#[derive(Debug, Clone)]
pub struct TranscribeConfig {
    /// Base URL (defaults to the OpenAI provider's).
    pub base_url: Url,
    /// API key (defaults to the OpenAI provider's).
    pub api_key: Option<SecretString>,
    /// Model name.
    pub model: String,
}

impl TranscribeConfig {
    /// Reads the `TRANSCRIBE_*` keys, defaulting to the OpenAI provider's.
    pub fn from_reader(env: &EnvReader) -> Result<Self, ConfigError> {
        let openai_url = env.string_or("OPENAI_BASE_URL", OPENAI_DEFAULT_BASE_URL);
        Ok(Self {
            base_url: env.url_or("TRANSCRIBE_BASE_URL", &openai_url)?,
            api_key: env
                .secret("TRANSCRIBE_API_KEY")
                .or_else(|| env.secret("OPENAI_API_KEY")),
            model: env.string_or("TRANSCRIBE_MODEL", "whisper-1"),
        })
    }
}
