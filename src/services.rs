//! The shared handles every part of the pipeline uses, built once in `app` and passed around as
//! `Arc<Services>`: configuration, the store, the tool registry, the LLM router, Gmail, voice.

use std::sync::Arc;

use crate::calendar::CalendarAccounts;
use crate::cancellations::Cancellations;
use crate::config::Config;
use crate::health::Health;
use crate::live_preview::Previews;
use crate::llm::LlmRouter;
use crate::mcp::McpTools;
use crate::store::Store;
use crate::tools::ToolRegistry;
use crate::users::UserRateLimit;
use crate::voice::Voice;

pub use crate::gmail::GmailServices;

/// Shared, read-mostly handles.
pub struct Services {
    /// Validated configuration.
    pub config: Arc<Config>,
    /// The database.
    pub store: Store,
    /// Every tool.
    pub tools: ToolRegistry,
    /// Routes free text to the configured LLM providers.
    pub llm: LlmRouter,
    /// Gmail accounts and mail.
    pub gmail: GmailServices,
    /// Users' calendars.
    pub calendar: CalendarAccounts,
    /// Running LLM requests per chat, for `/cancel`.
    pub cancellations: Cancellations,
    /// Messages per minute of non-owner users.
    pub user_rate_limit: UserRateLimit,
    /// Shared runtime health, read by `/health`.
    pub health: Health,
    /// Voice messages to text (Telegram downloads are attached when the bot starts).
    pub voice: Voice,
    /// Live previews of replies being written (the draft client is attached when the bot starts).
    pub previews: Previews,
    /// Who the bot is on Telegram (from `getMe`), so group messages can address it.
    pub bot_identity: crate::groups::BotIdentityCell,
    /// Photo and document downloads (attached when the bot starts), capped at `MEDIA_MAX_MB`.
    pub media: crate::media::Media,
    /// The MCP servers (their tools reach the registry as live tools); stopped at shutdown.
    pub mcp: McpTools,
}
