//! The one integration-test binary: real components against fakes on 127.0.0.1.

mod support;

mod assistant;
mod budgets;
mod cli;
mod email;
mod exactly_once;
mod export_forget;
mod fake_telegram_selftest;
mod fault_matrix;
mod gmail;
mod gmail_callback;
mod health;
mod hostile_html;
mod hostile_numbers;
mod http_server;
mod llm_router;
mod memory;
mod outgoing_files;
mod panics;
mod polling;
mod schedule_limits;
mod scheduler;
mod scheduler_briefing;
mod scheduler_cleanup;
mod scheduler_commands;
mod scheduler_concurrency;
mod strangers;
mod trust;
mod usage_chart;
mod voice;
mod web_fetch;
mod webhook;
