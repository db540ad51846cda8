//! The names of the LLM providers minicrew can talk to, as used in config, `/model` and `users`.
//! A leaf type: config reads it and `llm` builds on it, so it lives below both.

use std::fmt;
use std::str::FromStr;

/// One of the supported provider families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProviderKind {
    /// Anthropic's Messages API.
    Claude,
    /// Google's Gemini `generateContent` API.
    Gemini,
    /// Any server speaking OpenAI's `/chat/completions` (OpenAI, Groq, OpenRouter, Ollama, ...).
    OpenAi,
}

impl ProviderKind {
    /// Every kind, in the default fallback order.
    pub const ALL: [ProviderKind; 3] = [Self::Claude, Self::Gemini, Self::OpenAi];

    /// The config and command name: `claude`, `gemini`, `openai`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Claude => "claude",
            Self::Gemini => "gemini",
            Self::OpenAi => "openai",
        }
    }

    /// The `.env` key that holds this provider's API key.
    pub fn key_name(self) -> &'static str {
        match self {
            Self::Claude => "ANTHROPIC_API_KEY",
            Self::Gemini => "GEMINI_API_KEY",
            Self::OpenAi => "OPENAI_API_KEY",
        }
    }

    /// The `.env` key that says whether this provider's models see images.
    pub fn vision_key(self) -> &'static str {
        match self {
            Self::Claude => "CLAUDE_VISION",
            Self::Gemini => "GEMINI_VISION",
            Self::OpenAi => "OPENAI_VISION",
        }
    }

    /// The name shown to users.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Claude => "Claude",
            Self::Gemini => "Gemini",
            Self::OpenAi => "OpenAI-compatible",
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A provider name that is not one of `claude`, `gemini`, `openai`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown provider '{0}' (expected claude, gemini or openai)")]
pub struct UnknownProvider(pub String);

impl FromStr for ProviderKind {
    type Err = UnknownProvider;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "claude" | "anthropic" => Ok(Self::Claude),
            "gemini" | "google" => Ok(Self::Gemini),
            "openai" | "openai-compatible" => Ok(Self::OpenAi),
            other => Err(UnknownProvider(other.to_string())),
        }
    }
}
