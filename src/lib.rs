//! minicrew: a personal AI assistant that lives in Telegram, one async binary and one SQLite file.
//!
//! Crate map (data flow: channel → inbox → per-chat queue → dispatcher → tool | LLM → outbox):
//! - [`scheduler`]: schedules, timezone-aware next runs across DST, missed-run policy.
//! - [`store`]: SQLite (WAL), migrations, typed repository methods; all SQL lives here.

pub mod scheduler;
pub mod store;
