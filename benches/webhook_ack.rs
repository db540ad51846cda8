//! Webhook acknowledgement latency: the real router and a real SQLite store in a temp dir, hit
//! on 127.0.0.1 at a steady 500 requests/s for 10 s from 16 posters, each on its own connection
//! (each request is due at its own time and latency counts from that due time, so a stall shows
//! up instead of slowing the sender). Prints p50/p90/p99/max; stops by itself. Every 200 means the update is durable
//! (`synchronous=FULL` commit, see RELIABILITY.md).
//!
//! Run: `cargo bench --bench webhook_ack`.

// Test code may unwrap: clippy.toml exempts only `#[test]`s and `#[cfg(test)]` modules, not
// the helpers and fakes of a test or bench crate.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures::FutureExt as _;
use minicrew::config::BotMode;
use minicrew::health::Health;
use minicrew::http::{self, HttpServer, StatusState, WebhookState};
use minicrew::queue::ChatQueues;
use minicrew::store::{InboxOutcome, Store};
use minicrew::telegram::intake::{Intake, QueuedUpdate};
use secrecy::SecretString;
use tokio::task::JoinSet;

/// Requests per second.
const RATE: u64 = 500;
/// How long the load runs.
const SECONDS: u64 = 10;
/// Concurrent posters (Telegram posts over up to 40 connections; 16 is a busy bot's share).
const POSTERS: u64 = 16;
/// Chats the updates are spread over.
const CHATS: i64 = 50;
const SECRET: &str = "bench_secret";

fn main() {
    run();
}

fn run() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(bench());
}

async fn bench() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("store opens");
    let (addr, _server) = start_server(store.clone()).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(POSTERS as usize)
        .timeout(Duration::from_secs(5))
        .build()
        .expect("HTTP client");
    let url = format!("http://{addr}/bot/webhook");

    let total = RATE * SECONDS;
    let interval = Duration::from_nanos(1_000_000_000 / RATE);
    let start = Instant::now() + Duration::from_millis(100);
    // Request i is due at start + i * interval and is posted by poster i % POSTERS, so each
    // poster keeps one connection and posts its next request when it is due, or at once when
    // its previous one was answered late (then the lateness counts in the next latency too).
    let mut posters = JoinSet::new();
    for poster in 0..POSTERS {
        let (client, url) = (client.clone(), url.clone());
        posters.spawn(async move {
            let mut results = Vec::new();
            for i in (poster..total).step_by(POSTERS as usize) {
                let due = start + interval * i as u32;
                tokio::time::sleep_until(due.into()).await;
                let ok = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("X-Telegram-Bot-Api-Secret-Token", SECRET)
                    .body(update(i as i64 + 1))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                results.push((ok, due.elapsed()));
            }
            results
        });
    }
    let mut latencies = Vec::with_capacity(total as usize);
    let mut failures = 0;
    while let Some(done) = posters.join_next().await {
        for (ok, latency) in done.expect("poster task") {
            if !ok {
                failures += 1;
            }
            latencies.push(latency);
        }
    }
    let elapsed = start.elapsed();
    report(&mut latencies, failures, elapsed);
    let stored = store.inbox_backlog().await.unwrap_or(-1);
    println!("inbox rows still pending at the end: {stored}");
}

/// The real router over a real store; the handler closes each inbox row like the daemon does.
async fn start_server(store: Store) -> (SocketAddr, HttpServer) {
    let handler_store = store.clone();
    let queues = ChatQueues::new(16, move |q: QueuedUpdate| {
        let store = handler_store.clone();
        async move {
            let _ = store
                .finish_update(q.update_id(), InboxOutcome::Done, None)
                .await;
        }
        .boxed()
    });
    let intake = Intake::new(
        store.clone(),
        queues,
        minicrew::cancellations::Cancellations::default(),
    );
    let webhook = WebhookState::new("/bot/webhook", &SecretString::from(SECRET), intake);
    let status = StatusState {
        store,
        health: Health::new(),
        bot_mode: BotMode::Webhook,
        metrics: minicrew::metrics::install(),
    };
    let server = HttpServer::start(
        "127.0.0.1:0".parse().expect("a socket address"),
        http::router(status, Some(webhook), None),
    )
    .await
    .expect("server starts");
    (server.addr(), server)
}

/// A realistic private text message update.
fn update(id: i64) -> String {
    let chat = 100_000 + id % CHATS;
    serde_json::json!({
        "update_id": id,
        "message": {
            "message_id": id,
            "date": 1_700_000_000,
            "chat": {"id": chat, "type": "private", "first_name": "Bench", "username": "bench"},
            "from": {"id": chat, "is_bot": false, "first_name": "Bench", "language_code": "en"},
            "text": "What's on my calendar tomorrow, and can you remind me to call the plumber at 10?"
        }
    })
    .to_string()
}

fn report(latencies: &mut [Duration], failures: usize, elapsed: Duration) {
    latencies.sort();
    let pct = |p: f64| {
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[i].as_secs_f64() * 1000.0
    };
    println!(
        "webhook ack: {} requests in {:.1}s ({:.0}/s offered at {RATE}/s), {failures} failed",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
    );
    println!(
        "latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(0.999),
        pct(1.0)
    );
}
