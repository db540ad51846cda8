//! HTML → text on hostile input: each 2 MB hostile page through `Page::from_fetched` (what
//! `/fetch` and the `web_fetch` tool run) and a hostile 2 MB HTML email through
//! `parse_message`, plus an ordinary 2 MB article for scale. Prints min and median wall time
//! over [`RUNS`] runs of each, and the least CPU time of the converting thread (steadier on a
//! shared machine; Linux only, else `-`).
//!
//! Run: `cargo bench --bench html_text`.

// Test code may unwrap: clippy.toml exempts only `#[test]`s and `#[cfg(test)]` modules, not
// the helpers and fakes of a test or bench crate.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use minicrew::gmail::message_text::parse_message;
use minicrew::tools::web_fetch::fetch::{BodyKind, Fetched};
use minicrew::tools::web_fetch::page::Page;

/// Size of every input.
const SIZE: usize = 2 * 1024 * 1024;
/// Conversions per input.
const RUNS: usize = 7;

/// Name, prefix and repeated unit of each hostile page.
const PAGES: &[(&str, &str, &str)] = &[
    ("ampersands", "", "&"),
    ("<script> open tags", "", "<script>"),
    ("'<' without '>'", "", "<"),
    ("nested <div>", "", "<div>"),
    ("nested <div>x", "", "<div>x"),
    ("huge attribute", "<div title=\"", "a"),
    ("unterminated comment", "<!--", "<p>x</p>"),
    ("nested <ul><li>", "", "<ul><li>x"),
    ("nested <blockquote> lines", "", "<blockquote>x<br>"),
    ("misnested <table>x", "", "<table>x"),
    ("nested tables", "", "<table><tr><td>x"),
    ("<p> blocks", "", "<p>x"),
    ("formatting soup", "", "<b><i><u><s>x"),
];

/// An ordinary article paragraph, for scale.
const ARTICLE: &str = "<p>The <b>council</b> met on Tuesday to discuss the <a href=\"/budget\">\
    budget</a> for next year; members asked about schools, roads &amp; parks.</p>\
    <ul><li>Schools: 12 M</li><li>Roads: 8 M</li></ul>";

fn hostile(prefix: &str, unit: &str) -> String {
    let mut html = String::with_capacity(SIZE + unit.len());
    html.push_str(prefix);
    while html.len() + unit.len() <= SIZE {
        html.push_str(unit);
    }
    html
}

fn fetched(html: &str) -> Fetched {
    Fetched {
        final_url: "https://hostile.example/".parse().expect("a valid URL"),
        kind: BodyKind::Html,
        charset: None,
        body: html.as_bytes().to_vec(),
        cut: false,
    }
}

/// CPU time used by this thread so far, where the OS tells it (Linux).
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// Min and median wall time, and least CPU time, of [`RUNS`] runs of some work.
struct Timing {
    min: Duration,
    median: Duration,
    cpu: Option<Duration>,
}

fn time(mut work: impl FnMut()) -> Timing {
    let mut walls = Vec::with_capacity(RUNS);
    let mut cpu: Option<Duration> = None;
    for _ in 0..RUNS {
        let (cpu_before, start) = (thread_cpu(), Instant::now());
        work();
        walls.push(start.elapsed());
        if let (Some(before), Some(after)) = (cpu_before, thread_cpu()) {
            let used = after.saturating_sub(before);
            cpu = Some(cpu.map_or(used, |least| least.min(used)));
        }
    }
    walls.sort();
    Timing {
        min: walls[0],
        median: walls[RUNS / 2],
        cpu,
    }
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1e3)
}

fn report(name: &str, timing: Timing) {
    let cpu = timing.cpu.map_or_else(|| "-".to_string(), ms);
    println!(
        "{name:<28} wall min {:>9}  median {:>9}   cpu min {cpu:>9}",
        ms(timing.min),
        ms(timing.median),
    );
}

fn main() {
    println!("HTML → text, 2 MB inputs, {RUNS} runs each");
    for (name, prefix, unit) in PAGES {
        let page = fetched(&hostile(prefix, unit));
        report(name, time(|| drop(Page::from_fetched(page.clone()))));
    }
    let article = fetched(&hostile("<title>News</title>", ARTICLE));
    report(
        "ordinary article (page)",
        time(|| drop(Page::from_fetched(article.clone()))),
    );

    let html = hostile("<p>Hi</p>", "&<div><ul><li><table>x&amp;<script>");
    let email = serde_json::json!({
        "id": "hostile",
        "payload": {
            "mimeType": "text/html",
            "headers": [{"name": "Subject", "value": "Hello"}],
            "body": {"size": html.len(), "data": URL_SAFE_NO_PAD.encode(&html)}
        }
    })
    .to_string()
    .into_bytes();
    report(
        "hostile HTML email",
        time(|| drop(parse_message(&email).expect("a valid message"))),
    );
}
