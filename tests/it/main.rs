//! The one integration-test binary: real components against fakes on 127.0.0.1.

mod support;

mod assistant;
mod cli;
mod email;
mod fake_telegram_selftest;
mod gmail;
mod health;
mod hostile_html;
mod llm_router;
mod polling;
mod scheduler;
mod scheduler_briefing;
mod scheduler_cleanup;
mod scheduler_commands;
mod voice;
mod web_fetch;
mod webhook;
