//! Benchmark of `/recall` on a growing history: query latency (p50, p99, max) at 10k, 100k and
//! 1M `chat_history` rows, through the real `Store` (its SQLite thread, the FTS5 index the
//! triggers keep) on a file in a temp dir. Rows are made-up sentences over a 5,000-word
//! vocabulary with Zipf-like word frequencies, shared by two users; the user asked about owns
//! half. One fact ("locker code 4711") is planted in the oldest rows. At each size it also times
//! the two history lookups: the recent turns a free text sends to the model, and `/history 20`.
//! It prints a table and asserts nothing about speed:
//!
//! ```text
//! cargo bench --bench recall
//! RECALL_BENCH_MAX_ROWS=10000 cargo bench --bench recall   # a quick look at the smallest size
//! ```

// Test code may unwrap: clippy.toml exempts only `#[test]`s and `#[cfg(test)]` modules, not
// the helpers and fakes of a test or bench crate.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use minicrew::ids::UserId;
use minicrew::store::{RecallQuery, Store};

/// History sizes measured (the database grows from one to the next).
const SIZES: [usize; 3] = [10_000, 100_000, 1_000_000];
/// Queries timed per kind and size.
const RUNS: usize = 200;
/// Words in the vocabulary.
const VOCABULARY: usize = 5_000;
/// Results asked for, as `/recall` does.
const RESULTS: usize = 5;

/// A made-up word for each rank (rank 0 is the most frequent).
fn vocabulary(rng: &mut fastrand::Rng) -> Vec<String> {
    const SYLLABLES: [&str; 16] = [
        "ka", "lo", "mi", "ren", "sa", "to", "vi", "el", "un", "dor", "pa", "qui", "zu", "ne",
        "ba", "ril",
    ];
    (0..VOCABULARY)
        .map(|i| {
            let n = 1 + i % 3;
            let mut word: String = (0..n).map(|_| SYLLABLES[rng.usize(..16)]).collect();
            word.push_str(&i.to_string());
            word
        })
        .collect()
}

/// Cumulative Zipf weights (1/rank) for sampling.
fn zipf() -> Vec<f64> {
    let mut total = 0.0;
    (0..VOCABULARY)
        .map(|r| {
            total += 1.0 / (r as f64 + 1.0);
            total
        })
        .collect()
}

fn sentence(rng: &mut fastrand::Rng, words: &[String], cumulative: &[f64]) -> String {
    let total = cumulative[cumulative.len() - 1];
    let len = 8 + rng.usize(..13);
    let picked: Vec<&str> = (0..len)
        .map(|_| {
            let x = rng.f64() * total;
            let rank = cumulative.partition_point(|c| *c < x).min(VOCABULARY - 1);
            words[rank].as_str()
        })
        .collect();
    picked.join(" ")
}

/// Adds history rows until there are `target`, in one transaction with one prepared statement.
async fn grow(store: &Store, from: usize, target: usize, words: &[String], seed: u64) -> Duration {
    let words = words.to_vec();
    let started = Instant::now();
    store
        .call(move |c| {
            let mut rng = fastrand::Rng::with_seed(seed);
            let cumulative = zipf();
            let tx = c.transaction()?;
            {
                let mut insert = tx.prepare(
                    "INSERT INTO chat_history (user_id, role, content, created_at)
                     VALUES (?1, ?2, ?3, ?4)",
                )?;
                let start = 1_600_000_000i64;
                for i in from..target {
                    let user = 1 + (i % 2) as i64;
                    let role = if i % 4 < 2 { "user" } else { "assistant" };
                    let text = if i == 4 {
                        "my locker code at the gym is 4711".to_string()
                    } else {
                        sentence(&mut rng, &words, &cumulative)
                    };
                    insert.execute(rusqlite::params![user, role, text, start + i as i64 * 60])?;
                }
            }
            tx.commit()
        })
        .await
        .expect("history rows inserted");
    started.elapsed()
}

/// The kinds of query timed, each with a way to make one.
/// Makes one query text of a kind.
type MakeQuery = Box<dyn Fn(&mut fastrand::Rng) -> String>;

fn queries(words: &[String]) -> Vec<(&'static str, MakeQuery)> {
    let w = words.to_vec();
    let w2 = w.clone();
    let w3 = w.clone();
    let w4 = w.clone();
    vec![
        (
            "old rare fact",
            Box::new(|_: &mut fastrand::Rng| "what was my locker code?".into()),
        ),
        (
            "2 mid words",
            Box::new(move |rng: &mut fastrand::Rng| {
                format!(
                    "{} {}",
                    w[100 + rng.usize(..900)],
                    w[100 + rng.usize(..900)]
                )
            }),
        ),
        (
            "1 common word",
            Box::new(move |rng: &mut fastrand::Rng| w2[rng.usize(..5)].clone()),
        ),
        (
            "phrase",
            Box::new(move |rng: &mut fastrand::Rng| {
                let i = rng.usize(..50);
                format!("\"{} {}\"", w3[i], w3[i + 1])
            }),
        ),
        (
            "prefix",
            Box::new(move |rng: &mut fastrand::Rng| {
                let word = &w4[rng.usize(..2000)];
                format!("{}*", &word[..word.len().min(3)])
            }),
        ),
        (
            "no match",
            Box::new(|_: &mut fastrand::Rng| "xylophone".into()),
        ),
    ]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// Times the history a free text loads (the last `MAX_CONTEXT_MESSAGES` turns after the `/new`
/// mark, 10 by default; 20 here) and `/history 20`, `RUNS` times each, and prints their rows.
async fn history_lookups(store: &Store, size: usize) {
    for name in [
        "history: the turns a free text sends",
        "history: /history 20",
    ] {
        let mut times = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let started = Instant::now();
            let turns = if name.ends_with("sends") {
                store
                    .recent_turns(UserId(1), 0, 20, None)
                    .await
                    .expect("recent turns")
                    .len()
            } else {
                store
                    .last_turns(UserId(1), 20)
                    .await
                    .expect("last turns")
                    .len()
            };
            times.push(started.elapsed());
            assert_eq!(turns, 20, "a full page of turns");
        }
        times.sort();
        println!(
            "| {size} | {name} | {} | {} | {} |",
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99)),
            ms(times[times.len() - 1])
        );
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("store opens");
    store
        .call(|c| {
            c.execute_batch(
                "INSERT INTO users (chat_id, display_name, status, created_at, updated_at)
                 VALUES (1, 'A', 'owner', 0, 0), (2, 'B', 'active', 0, 0)",
            )
        })
        .await
        .expect("users");
    let words = vocabulary(&mut fastrand::Rng::with_seed(7));
    let kinds = queries(&words);
    println!("| rows | query | p50 ms | p99 ms | max ms |");
    println!("| ---: | --- | ---: | ---: | ---: |");
    let mut have = 0;
    let mut all_at_size = Vec::new();
    let max_rows = std::env::var("RECALL_BENCH_MAX_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(usize::MAX);
    for size in SIZES.into_iter().filter(|s| *s <= max_rows) {
        let took = grow(&store, have, size, &words, size as u64).await;
        have = size;
        eprintln!("grew to {size} rows in {:.1} s", took.as_secs_f64());
        let mut rng = fastrand::Rng::with_seed(11);
        let mut everything = Vec::new();
        for (name, make) in &kinds {
            let mut times = Vec::with_capacity(RUNS);
            let mut found = 0;
            for _ in 0..RUNS {
                let text = make(&mut rng);
                let query = RecallQuery::parse(&text).expect("a query with words");
                let started = Instant::now();
                let hits = store
                    .recall(UserId(1), query, RESULTS, None)
                    .await
                    .expect("recall");
                times.push(started.elapsed());
                found += usize::from(!hits.is_empty());
                if *name == "old rare fact" {
                    assert!(
                        hits.iter().any(|h| h.snippet.contains("4711")),
                        "the fact is found"
                    );
                }
            }
            times.sort();
            everything.extend(times.iter().copied());
            println!(
                "| {size} | {name} (found {found}/{RUNS}) | {} | {} | {} |",
                ms(percentile(&times, 0.5)),
                ms(percentile(&times, 0.99)),
                ms(times[times.len() - 1])
            );
        }
        everything.sort();
        all_at_size.push((size, everything));
        history_lookups(&store, size).await;
    }
    for (size, times) in &all_at_size {
        println!(
            "| {size} | all kinds | {} | {} | {} |",
            ms(percentile(times, 0.5)),
            ms(percentile(times, 0.99)),
            ms(times[times.len() - 1])
        );
    }
    let bytes = std::fs::metadata(dir.path().join(minicrew::store::DB_FILE_NAME))
        .map(|m| m.len())
        .unwrap_or(0);
    println!("database file at {have} rows: {} MB", bytes / (1024 * 1024));
}
