//! The one integration-test binary: real components against fakes on 127.0.0.1.

mod support;

mod cli;
mod fake_telegram_selftest;
mod gmail;
mod health;
mod llm_router;
mod polling;
mod webhook;
