//! Which model size of a provider to use. A leaf type: each provider's config names a model per
//! tier ([`super::ProviderConfig::model`]) and `llm` asks for one, so it lives below both.

/// Which model size of a provider to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tier {
    /// The cheap, fast model (everyday chat).
    #[default]
    Cheap,
    /// The mid-tier model (summaries, harder questions).
    Mid,
}
