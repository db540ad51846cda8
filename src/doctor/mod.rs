//! `minicrew doctor`: checks the configuration, file permissions, the database, Telegram (the
//! token and the webhook as Telegram reports it), each LLM provider, the web search backend,
//! the Gmail tokens, each calendar in use and each MCP server. One line per check (ok, warn or
//! FAIL); under a warning or failure, one line with its fix: the key to set, the command to run
//! or the page to visit. Exit 1 on any failure. Outside calls run side by side, each bounded
//! ([`NETWORK_LIMIT`]; LLM providers `LLM_TIMEOUT_SECS` up to [`llm::LIMIT`]; MCP servers their
//! `startup_timeout_secs`), so a server that never answers cannot hold doctor up for longer;
//! no secret is ever printed.
//!
//! Map: [`check`] is the outcome and the report; one file per group of checks: [`files`],
//! [`telegram`], [`llm`], [`search`], [`gmail`], [`calendars`], [`mcp`].

pub mod calendars;
pub mod check;
pub mod files;
pub mod gmail;
pub mod llm;
pub mod mcp;
pub mod search;
pub mod telegram;

use std::time::Duration;

use check::{Check, Level, Secrets, within};

use crate::config::{BotMode, Config};
use crate::store::{DB_FILE_NAME, Store};

/// The longest a network check (Telegram, web search, the calendars) may take. LLM providers
/// get `LLM_TIMEOUT_SECS` up to [`llm::LIMIT`]; MCP servers their `startup_timeout_secs`.
pub const NETWORK_LIMIT: Duration = Duration::from_secs(15);

/// Runs every check and returns the report and whether nothing failed.
pub async fn run(config: &Config) -> (String, bool) {
    let mut checks = vec![Check::ok("config", summary(config))];
    let before = files::check(config);
    let store = Store::open(&config.data_dir);
    let db = config.data_dir.join(DB_FILE_NAME);
    let database = match &store {
        Ok(_) => Check::ok("database", format!("{} opened and migrated", db.display())),
        Err(e) => Check::fail(
            "database",
            e.to_string(),
            "make DATA_DIR a folder this user can write (or set DATA_DIR to one)",
        ),
    };
    checks.extend(settle(before, files::check(config)));
    checks.push(database);
    let telegram_fix = telegram::unreachable_fix(config);
    let search_fix = "check that SEARXNG_URL or BRAVE_SEARCH_URL answers from this machine";
    let calendar_fix = "check that the calendar servers answer from this machine";
    let (telegram, llm, search, mcp, accounts) = tokio::join!(
        within(
            NETWORK_LIMIT,
            "telegram",
            &telegram_fix,
            telegram::check(config)
        ),
        llm::check(config),
        within(NETWORK_LIMIT, "web search", search_fix, async {
            vec![search::check(config).await]
        }),
        mcp::check(config),
        async {
            let Ok(store) = &store else {
                return Vec::new();
            };
            let (gmail, calendars) = tokio::join!(
                gmail::check(config, store),
                within(
                    NETWORK_LIMIT,
                    "calendars",
                    calendar_fix,
                    calendars::check(config, store)
                ),
            );
            std::iter::once(gmail).chain(calendars).collect()
        },
    );
    checks.extend(telegram.into_iter().chain(llm).chain(search));
    checks.extend(accounts.into_iter().chain(mcp));
    check::render(&checks, &Secrets::of(config))
}

/// The permission problems found before the database was opened, where opening it (which makes
/// the database files private) mended one, become a warning that says so.
fn settle(before: Vec<Check>, after: Vec<Check>) -> Vec<Check> {
    if before.iter().all(|c| c.level == Level::Ok) {
        return after;
    }
    let mended = "opening the database just now made it private; keep copies and backups of it \
                  private too (umask 077)";
    let mut settled: Vec<Check> = before
        .into_iter()
        .map(|c| {
            if after.iter().any(|a| a.text == c.text) {
                c
            } else {
                Check::warn(c.name, format!("{} until now", c.text), mended)
            }
        })
        .collect();
    let new = after
        .into_iter()
        .filter(|a| a.level != Level::Ok && !settled.iter().any(|c| c.text == a.text));
    settled.extend(new.collect::<Vec<_>>());
    settled
}

fn summary(config: &Config) -> String {
    let mode = match config.telegram.mode {
        BotMode::Polling => "polling",
        BotMode::Webhook => "webhook",
    };
    let providers: Vec<&str> = config
        .llm
        .providers
        .iter()
        .map(|p| p.kind.as_str())
        .collect();
    format!(
        "mode {mode}, owner chat {}, providers [{}]",
        config.owner_chat_id,
        providers.join(", ")
    )
}
