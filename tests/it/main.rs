//! The one integration-test binary: real components against fakes on 127.0.0.1.

// Test code may unwrap: clippy.toml exempts only `#[test]`s and `#[cfg(test)]` modules, not
// the helpers and fakes of a test or bench crate.
#![allow(clippy::unwrap_used)]

mod support;

mod assistant;
mod backup_restore;
mod budgets;
mod caldav;
mod calendar;
mod cli;
mod cli_ops;
mod config_docs;
mod deploy_files;
mod doctor;
mod doctor_calendars;
mod doctor_files;
mod email;
mod exactly_once;
mod export_forget;
mod fake_telegram_selftest;
mod fault_matrix;
mod gmail;
mod gmail_callback;
mod google_calendar;
mod group_streaming;
mod groups;
mod health;
mod health_cli;
mod hostile_html;
mod hostile_numbers;
mod http_server;
mod layering;
mod llm_router;
mod mcp;
mod mcp_ops;
mod media;
mod memory;
mod outgoing_files;
mod panics;
mod pause_shutdown;
mod polling;
mod rendering;
mod schedule_limits;
mod scheduler;
mod scheduler_briefing;
mod scheduler_cleanup;
mod scheduler_commands;
mod scheduler_concurrency;
mod send_shutdown;
mod service_notify;
mod strangers;
mod streaming;
mod trust;
mod upgrades;
mod usage_chart;
mod voice;
mod web_fetch;
mod web_search;
mod webhook;
