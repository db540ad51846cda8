//! The shared handles every part of the pipeline uses, built once in `app` and passed around as
//! `Arc<Services>`: configuration, the store, the tool registry.

use std::sync::Arc;
use std::time::Instant;

use crate::config::Config;
use crate::health::Health;
use crate::store::Store;
use crate::tools::ToolRegistry;

/// Shared, read-mostly handles.
pub struct Services {
    /// Validated configuration.
    pub config: Arc<Config>,
    /// The database.
    pub store: Store,
    /// Every tool.
    pub tools: ToolRegistry,
    /// When the process started (for `/health`).
    pub started_at: Instant,
    /// Shared runtime health, read by `/health`.
    pub health: Health,
}

impl Services {
    /// Bundles the handles.
    pub fn new(config: Arc<Config>, store: Store, tools: ToolRegistry) -> Self {
        Self {
            config,
            store,
            tools,
            started_at: Instant::now(),
            health: Health::new(),
        }
    }
}
