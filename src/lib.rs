//! minicrew: a personal AI assistant that lives in Telegram, one async binary and one SQLite file.
//!
//! Crate map (data flow: channel → inbox → per-chat queue → dispatcher → tool | LLM → outbox):
//! - [`store`]: SQLite (WAL), migrations, typed repository methods; all SQL lives here.
//! - [`telegram`]: formatting, splitting and rate limiting of outgoing messages.

pub mod store;
pub mod telegram;
