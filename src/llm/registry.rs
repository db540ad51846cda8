//! The configured providers, built once from config. Adding a provider is one file (the wire
//! format) plus one line in [`build`].

use std::sync::Arc;

use super::claude::Claude;
use super::gemini::Gemini;
use super::openai::OpenAi;
use super::{LlmProvider, ProviderKind};
use crate::config::{LlmConfig, ProviderConfig};

/// The one place that maps a provider kind to its implementation.
fn build(cfg: &ProviderConfig, http: &reqwest::Client) -> Arc<dyn LlmProvider> {
    let (cfg, http) = (cfg.clone(), http.clone());
    match cfg.kind {
        ProviderKind::Claude => Arc::new(Claude::new(cfg, http)),
        ProviderKind::Gemini => Arc::new(Gemini::new(cfg, http)),
        ProviderKind::OpenAi => Arc::new(OpenAi::new(cfg, http)),
    }
}

/// The configured providers, in fallback order.
#[derive(Clone)]
pub struct ProviderRegistry {
    providers: Vec<Arc<dyn LlmProvider>>,
}

impl std::fmt::Debug for ProviderRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.kinds()).finish()
    }
}

impl ProviderRegistry {
    /// One provider per configured entry of `cfg`, sharing `http` (which carries the timeouts).
    pub fn from_config(cfg: &LlmConfig, http: &reqwest::Client) -> Self {
        Self::from_providers(cfg.providers.iter().map(|p| build(p, http)).collect())
    }

    /// A registry of ready-made providers, in fallback order.
    pub fn from_providers(providers: Vec<Arc<dyn LlmProvider>>) -> Self {
        Self { providers }
    }

    /// The configured kinds, in fallback order.
    pub fn kinds(&self) -> Vec<ProviderKind> {
        self.providers.iter().map(|p| p.kind()).collect()
    }

    /// The provider of `kind`, if configured.
    pub fn get(&self, kind: ProviderKind) -> Option<Arc<dyn LlmProvider>> {
        self.providers.iter().find(|p| p.kind() == kind).cloned()
    }

    /// The order to try for one message: `preferred` first (when configured), then the rest in
    /// `fallback` order, then any configured provider `fallback` does not name.
    pub fn attempt_order(
        &self,
        preferred: Option<ProviderKind>,
        fallback: &[ProviderKind],
    ) -> Vec<Arc<dyn LlmProvider>> {
        let mut kinds: Vec<ProviderKind> = Vec::new();
        let named = preferred.into_iter().chain(fallback.iter().copied());
        for kind in named.chain(self.kinds()) {
            if !kinds.contains(&kind) && self.get(kind).is_some() {
                kinds.push(kind);
            }
        }
        kinds.into_iter().filter_map(|k| self.get(k)).collect()
    }
}
