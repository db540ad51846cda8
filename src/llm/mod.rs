//! LLM layer: provider names now; the provider trait, registry and router come with the LLM issue.

pub mod provider_kind;

pub use provider_kind::ProviderKind;
