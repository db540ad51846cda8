//! LLM layer: provider names now; the provider trait, registry and router come with the LLM issue.

pub mod provider_kind;

pub use provider_kind::ProviderKind;

/// A tool as offered to a model: name, description and JSON-schema parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    /// Function name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// JSON schema of its arguments object.
    pub parameters: serde_json::Value,
}
