//! Crash test: the real daemon binary against a fake Bot API and a fake OpenAI-compatible
//! provider (chat and speech-to-text) that live here and outlive it. N times: start a fresh
//! process on the same data dir, feed a burst of updates (commands, free text with and without
//! tool calls, voice; from the owner and two approved users; polling or webhook, drawn per
//! process), `kill -9` it 0..X ms later. Then one more process drains everything and is stopped
//! with SIGTERM, and the counts are printed and checked: every update answered, no reply sent
//! twice outside the documented outcome-unknown window, no note, reminder or conversation turn
//! stored twice, no LLM round billed twice. Exit status 1 when any check fails.
//!
//! ```text
//! cargo test --test crashtest                       # CI: 15 kills, the debug binary cargo built
//! CRASHTEST_KILLS=200 cargo test --test crashtest   # 200 kills, target/release/minicrew
//! ```
//!
//! `CRASHTEST_SEED` replays a run's random choices (the seed is printed);
//! `CRASHTEST_MAX_KILL_MS` moves the kill window; `CRASHTEST_BINARY` runs another binary.

// Test code may unwrap: clippy.toml exempts only `#[test]`s and `#[cfg(test)]` modules, not
// the helpers and fakes of a test or bench crate.
#![allow(clippy::unwrap_used)]

mod checks;
#[allow(dead_code)]
#[path = "../../benches/support/daemon.rs"]
mod daemon;
mod fake_llm;
mod fake_telegram;
mod mix;
mod run;
#[allow(dead_code)]
#[path = "../it/support/fake_telegram/updates.rs"]
mod updates;
mod window;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use run::Settings;

/// Kills in CI, where `CRASHTEST_KILLS` is not set.
const CI_KILLS: u32 = 15;
/// Default upper end of the kill moment, in ms after the burst.
const MAX_KILL_MS: u64 = 300;

fn main() -> ExitCode {
    let settings = match settings() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("crashtest: {e:#}");
            println!("0 passed, 1 failed");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("crashtest: cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(crash_test(&settings)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("crashtest: {e:#}");
            println!("0 passed, 1 failed");
            ExitCode::FAILURE
        }
    }
}

/// The run's shape from the environment; a set kill count means a local run on the release
/// binary (built first when missing or stale).
fn settings() -> anyhow::Result<Settings> {
    let var = |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty());
    let number = |key: &str| -> anyhow::Result<Option<u64>> {
        var(key)
            .map(|v| {
                v.parse()
                    .with_context(|| format!("{key}: not a number: {v}"))
            })
            .transpose()
    };
    let kills = number("CRASHTEST_KILLS")?;
    let seed = number("CRASHTEST_SEED")?.unwrap_or_else(|| fastrand::u64(..));
    let binary = match (var("CRASHTEST_BINARY"), kills) {
        (Some(path), _) => PathBuf::from(path),
        (None, Some(_)) => release_binary()?,
        (None, None) => PathBuf::from(env!("CARGO_BIN_EXE_minicrew")),
    };
    Ok(Settings {
        kills: kills.map_or(Ok(CI_KILLS), u32::try_from)?,
        seed,
        max_kill_ms: number("CRASHTEST_MAX_KILL_MS")?.unwrap_or(MAX_KILL_MS),
        binary,
    })
}

/// `target/release/minicrew`, after `cargo build --release` when it is missing or older than
/// the sources.
fn release_binary() -> anyhow::Result<PathBuf> {
    let binary = daemon::release_binary();
    if binary.is_file() && !daemon::is_stale(&binary) {
        return Ok(binary);
    }
    eprintln!(
        "crashtest: building {} (cargo build --release)",
        binary.display()
    );
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = std::process::Command::new(cargo);
    build
        .args(["build", "--release", "--bin", "minicrew"])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    // Cargo gives this test variables about the package (CARGO_PKG_NAME, CARGO_MANIFEST_DIR,
    // ...); build scripts such as ring's watch some of them, so passing them on would make
    // the next `cargo build --release` from a shell rebuild half the dependencies.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if is_set_by_cargo_for_tests(&key) {
            build.env_remove(key.as_ref());
        }
    }
    let status = build.status().context("cannot run cargo build --release")?;
    anyhow::ensure!(status.success(), "cargo build --release failed ({status})");
    Ok(binary)
}

/// Variables cargo sets for a running test (not ones a user sets to configure cargo).
fn is_set_by_cargo_for_tests(key: &str) -> bool {
    const EXACT: [&str; 8] = [
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_MANIFEST_LINKS",
        "CARGO_CRATE_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
        "OUT_DIR",
    ];
    EXACT.contains(&key)
        || ["CARGO_PKG_", "CARGO_BIN_", "CARGO_CFG_"]
            .iter()
            .any(|p| key.starts_with(p))
}

/// Runs everything and prints the report; returns whether every check passed.
async fn crash_test(settings: &Settings) -> anyhow::Result<bool> {
    println!(
        "crashtest: {} kills, kill moment 0..={} ms after each burst, seed {} (CRASHTEST_SEED={} replays its choices), binary {}",
        settings.kills,
        settings.max_kill_ms,
        settings.seed,
        settings.seed,
        settings.binary.display()
    );
    let run = run::run(settings).await?;
    let k = run.kills;
    let per_kill = run.kill_loop.as_secs_f64() / f64::from(settings.kills.max(1));
    println!(
        "kills: {} in {:.1} s ({per_kill:.2} s each); {} polling, {} webhook; {} before the process reached the Bot API, \
         {} before its first reply, {} after replying; {} processes exited by themselves",
        settings.kills,
        run.kill_loop.as_secs_f64(),
        k.polling,
        k.webhook,
        k.before_telegram,
        k.before_reply,
        k.after_reply,
        run.self_exits.len()
    );
    for exit in &run.self_exits {
        eprintln!("crashtest: {exit}");
    }
    let window = window::read(&run.log_paths());
    let mut checks = checks::evaluate(&run, &window)?;
    checks.push(checks::Check {
        name: "no daemon process exited by itself",
        ok: run.self_exits.is_empty(),
        detail: format!("{} exited", run.self_exits.len()),
    });
    checks.push(checks::Check {
        name: "the last process drained and exited 0 on SIGTERM",
        ok: run.drained && run.final_exit_ok,
        detail: format!("drained: {}; {}", run.drained, run.final_exit),
    });
    let failed = checks.iter().filter(|c| !c.ok).count();
    for c in &checks {
        let verdict = if c.ok { "ok" } else { "FAILED" };
        println!("check {:<58} {verdict:<6} {}", c.name, c.detail);
    }
    if failed > 0 {
        println!(
            "crashtest: daemon logs kept in {} for a look",
            run.dir.path().display()
        );
        // Keep the data dir and logs of a failed run.
        let _ = run.dir.keep();
    }
    println!("{} passed, {failed} failed", checks.len() - failed);
    Ok(failed == 0)
}
