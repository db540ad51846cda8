//! minicrew: a personal AI assistant that lives in Telegram, one async binary and one SQLite file.
//!
//! Crate map (data flow: channel → inbox → per-chat queue → dispatcher → tool | LLM → outbox):
//! - [`config`]: `.env` + environment → validated [`config::Config`]; secrets never print.
//! - [`gmail`]: Gmail OAuth (loopback + PKCE, chat consent links), encrypted tokens, REST client.
//! - [`llm`]: LLM providers, registry and router.
//! - [`store`]: SQLite (WAL), migrations, typed repository methods; all SQL lives here.

pub mod config;
pub mod gmail;
pub mod llm;
pub mod store;
