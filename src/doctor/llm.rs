//! LLM provider checks: one tiny request each (a few tokens), and for a refusal the key to set
//! and the page where the provider hands out keys.

use std::time::Duration;

use super::check::Check;
use crate::config::{Config, ProviderConfig};
use crate::llm::{
    self, LlmError, LlmRequest, ProviderKind, ProviderRegistry, Tier, ToolChoice, Turn,
};

/// The longest a provider check may take, whatever `LLM_TIMEOUT_SECS` says.
pub const LIMIT: Duration = Duration::from_secs(30);

/// The time one provider check gets: `LLM_TIMEOUT_SECS`, at most [`LIMIT`].
pub fn limit(config: &Config) -> Duration {
    config.llm.timeout.min(LIMIT)
}

/// One check per configured provider (or one line saying none is).
pub async fn check(config: &Config) -> Vec<Check> {
    if config.llm.providers.is_empty() {
        return vec![Check::ok(
            "llm",
            "no provider configured (set ANTHROPIC_API_KEY, GEMINI_API_KEY or OPENAI_API_KEY to chat)",
        )];
    }
    let http = match llm::http_client(limit(config)) {
        Ok(h) => h,
        Err(_) => {
            return vec![Check::fail(
                "llm",
                "cannot build the HTTP client",
                "check the system's TLS certificates and run doctor again",
            )];
        }
    };
    let registry = ProviderRegistry::from_config(&config.llm, &http);
    let checks = config.llm.providers.iter().map(|p| {
        let provider = registry.get(p.kind);
        async move {
            let name = format!("llm {}", p.kind);
            let Some(provider) = provider else {
                return Check::fail(name, "not built", "check its keys in .env");
            };
            let request = LlmRequest {
                system: "Reply with the word ok.".into(),
                turns: vec![Turn::User("ping".into())],
                tools: Vec::new(),
                tool_choice: ToolChoice::None,
                model: provider.model(Tier::Cheap).to_string(),
                max_tokens: 8,
            };
            let answer = tokio::time::timeout(limit(config), provider.complete(&request)).await;
            match answer {
                Ok(Ok(r)) => Check::ok(name, format!("{} answered", r.model)),
                Ok(Err(e)) => judge(name, p, &request.model, &e),
                Err(_) => judge(name, p, &request.model, &LlmError::Timeout),
            }
        }
    });
    futures::future::join_all(checks).await
}

/// A failed request as a check: busy servers warn, everything else fails; each with its fix.
fn judge(name: String, provider: &ProviderConfig, model: &str, err: &LlmError) -> Check {
    let kind = provider.kind;
    let text = format!("{err}");
    let base = format!("{} ({})", base_url_key(kind), provider.base_url);
    match err {
        LlmError::Auth(_) => Check::fail(
            name,
            text,
            format!(
                "set {} to a valid key from {}",
                kind.key_name(),
                key_page(provider)
            ),
        ),
        LlmError::Quota(_) => Check::fail(
            name,
            text,
            format!("add credit or raise the quota at {}", key_page(provider)),
        ),
        LlmError::BadRequest { status: 404, .. } => Check::fail(
            name,
            text,
            format!(
                "set {} to a model this account can use (now {model}), and check {base}",
                cheap_model_key(kind)
            ),
        ),
        LlmError::RateLimited { .. } | LlmError::Overloaded | LlmError::Server(_) => Check::warn(
            name,
            text,
            "the provider is busy or in trouble: run doctor again in a few minutes",
        ),
        LlmError::Timeout | LlmError::Network(_) => Check::fail(
            name,
            text,
            format!(
                "check that this machine reaches {base}; raise LLM_TIMEOUT_SECS for a slow local server"
            ),
        ),
        LlmError::BadRequest { .. } | LlmError::Decode(_) => Check::fail(
            name,
            text,
            format!(
                "check {base} (it must speak the {} API) and {} ({model})",
                kind.display_name(),
                cheap_model_key(kind)
            ),
        ),
    }
}

/// Where the provider's API keys are made.
fn key_page(provider: &ProviderConfig) -> &'static str {
    match provider.kind {
        ProviderKind::Claude => "https://console.anthropic.com/settings/keys",
        ProviderKind::Gemini => "https://aistudio.google.com/apikey",
        ProviderKind::OpenAi if provider.base_url.host_str() == Some("api.openai.com") => {
            "https://platform.openai.com/api-keys"
        }
        ProviderKind::OpenAi => "your OpenAI-compatible server's dashboard",
    }
}

fn base_url_key(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::Claude => "ANTHROPIC_BASE_URL",
        ProviderKind::Gemini => "GEMINI_BASE_URL",
        ProviderKind::OpenAi => "OPENAI_BASE_URL",
    }
}

fn cheap_model_key(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::Claude => "CLAUDE_MODEL_CHEAP",
        ProviderKind::Gemini => "GEMINI_MODEL_CHEAP",
        ProviderKind::OpenAi => "OPENAI_MODEL_CHEAP",
    }
}
