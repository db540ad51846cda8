//! What the crash test counts after the run, from the fakes' records (what users saw, what the
//! provider was asked) and the daemon's database (what it stored): lost updates, replies sent
//! twice, duplicated notes, reminders and conversation turns, and LLM rounds billed twice.

mod db;
mod replies;
mod stored;

use std::collections::BTreeMap;

use anyhow::Context as _;
use rusqlite::Connection;

use crate::mix::{Fed, Kind, token_text};
use crate::run::Run;
use crate::window::WindowLine;

/// Examples printed per problem.
const SAMPLES: usize = 5;

/// One pass/fail line of the report.
pub struct Check {
    /// What must hold.
    pub name: &'static str,
    /// Whether it held.
    pub ok: bool,
    /// The counts behind it.
    pub detail: String,
}

pub(crate) fn check(name: &'static str, ok: bool, detail: String) -> Check {
    Check { name, ok, detail }
}

/// Runs every check and prints the counts behind them.
pub fn evaluate(run: &Run, window: &[WindowLine]) -> anyhow::Result<Vec<Check>> {
    let conn = Connection::open(run.db_path()).context("open the daemon's database")?;
    let db = db::read(&conn)?;
    let sends = &run.telegram.sent()[run.warm_up_sends..];
    let fed = run.mix.fed();
    let mut checks = Vec::new();

    let acks = run.telegram.acks();
    let unconfirmed = run.telegram.unconfirmed();
    println!(
        "updates: fed {} ({}), confirmed {} (by getUpdates offset {}, by webhook 200 {}), still unconfirmed {unconfirmed}",
        fed.len(),
        kinds_line(fed),
        acks.polling + acks.webhook,
        acks.polling,
        acks.webhook,
    );
    checks.push(check(
        "every update was acknowledged (offset or 200)",
        unconfirmed == 0,
        format!("{unconfirmed} never acknowledged"),
    ));
    checks.extend(replies::answers(fed, sends, &db, &run.killed));
    checks.push(replies::duplicates(fed, sends, &conn, window)?);
    checks.extend(stored::side_effects(fed, sends, &db));
    checks.push(stored::billing(run, &db));
    Ok(checks)
}

/// `Help 3, NoteCommand 14, ...`: how many updates of each kind were fed.
fn kinds_line(fed: &[Fed]) -> String {
    let mut counts: BTreeMap<Kind, usize> = BTreeMap::new();
    for f in fed {
        *counts.entry(f.kind).or_default() += 1;
    }
    Kind::ALL
        .iter()
        .map(|k| format!("{k:?} {}", counts.get(k).copied().unwrap_or(0)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `update 12 (ChatNote msg-00042)`.
fn describe(fed: &Fed) -> String {
    let tag = fed.token.map(token_text).unwrap_or_default();
    format!("update {} ({:?} {tag})", fed.update_id, fed.kind)
}

/// `text` as a quoted string of at most 60 characters, for examples.
fn short(text: &str) -> String {
    let mut cut: String = text.chars().take(60).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    format!("{cut:?}")
}

/// `; e.g. a, b, c` with the first [`SAMPLES`] items, or nothing.
fn samples(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.take(SAMPLES).collect();
    if items.is_empty() {
        String::new()
    } else {
        format!("; e.g. {}", items.join(", "))
    }
}
