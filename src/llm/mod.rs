//! LLM layer: the [`LlmProvider`] trait with one file per provider (hand-written over reqwest),
//! the registry built from config, and the router (tool loop, retry, fallback, usage records).
//!
//! Map: `types` (generic conversation) → `claude` / `gemini` / `openai` (wire formats only,
//! over `provider_core`: client, key header, error mapping, merging, call ids; `http` and
//! `stream` carry the bytes) → `registry` (config → providers) → `router` (+ `prompt`,
//! `retry`, `pricing`, `budget`).

pub mod budget;
pub mod claude;
pub mod error;
mod fallback;
pub mod gemini;
mod gemini_errors;
pub mod http;
mod journal;
pub mod openai;
pub mod pricing;
pub mod prompt;
pub mod provider_core;
pub mod registry;
pub mod retry;
pub mod router;

mod router_error;
pub mod schema;
pub mod stream;
pub mod types;
pub mod vision;

use async_trait::async_trait;

pub use crate::config::ProviderKind;
pub use budget::Budget;
pub use error::LlmError;
pub use http::http_client;
pub use registry::ProviderRegistry;
pub use retry::RetryPolicy;
pub use router::{ChatRequest, LlmRouter, ProviderFailure, RouterError, RouterReply};
pub use router_error::OVER_BUDGET_REPLY;
pub use types::{
    Image, LlmRequest, LlmResponse, Role, Tier, ToolCall, ToolChoice, ToolResult, ToolSpec, Turn,
    Usage,
};

/// One LLM API: converts the generic request to its wire format and back.
#[async_trait]
pub trait LlmProvider: Send + Sync {
    /// Which provider family this is.
    fn kind(&self) -> ProviderKind;

    /// The configured model id for `tier`.
    fn model(&self, tier: Tier) -> &str;

    /// Whether the model of `tier` accepts images; a provider that cannot see is skipped for
    /// messages with photos.
    fn accepts_images(&self, _tier: Tier) -> bool {
        false
    }

    /// Sends one request (no retries: the router owns retry and fallback).
    async fn complete(&self, req: &LlmRequest) -> Result<LlmResponse, LlmError>;

    /// Sends one request and streams the answer, text to `observer` as it arrives; the result
    /// is the same whole answer [`LlmProvider::complete`] gives. Providers that cannot stream
    /// answer whole and report the text at once.
    async fn stream(
        &self,
        req: &LlmRequest,
        observer: &dyn stream::StreamObserver,
    ) -> Result<LlmResponse, LlmError> {
        let response = self.complete(req).await?;
        observer.text(&response.text);
        Ok(response)
    }
}

/// Runs a tool the model asked for. The dispatcher implements it over the tool registry.
#[async_trait]
pub trait ToolRunner: Send + Sync {
    /// Runs `name` with `arguments`; `Err` text goes back to the model as a failed tool result.
    async fn run(&self, name: &str, arguments: serde_json::Value) -> Result<String, String>;
}

/// A runner for requests without tools: every call is refused.
pub struct NoTools;

#[async_trait]
impl ToolRunner for NoTools {
    async fn run(&self, name: &str, _arguments: serde_json::Value) -> Result<String, String> {
        Err(format!("tool '{name}' is not available here"))
    }
}
