//! The soak bench's figures: one sample every 10 s, the table rows printed as the run goes, and
//! the verdict: growth after warm-up against the bounds.

use std::time::Duration;

use super::soak_chart::Point;

/// RSS may grow at most this much after the warm-up: the 2 MB (2,000,000 bytes).
pub const RSS_BOUND_KIB: u64 = 2_000_000 / 1024;
/// Open file descriptors may grow at most this many after the warm-up (a connection or two
/// opened or closed by a pool between two samples is not a leak; a leak grows without bound).
pub const FD_SLACK: u64 = 5;

/// One reading of the daemon.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Time since the load started.
    pub at: Duration,
    /// `VmRSS`, KiB.
    pub rss_kib: u64,
    /// `RssAnon` (heap and stacks), KiB.
    pub anon_kib: u64,
    /// Open file descriptors.
    pub fds: u64,
    /// Threads.
    pub threads: u64,
    /// Messages pushed to the fake Bot API so far.
    pub pushed: u64,
    /// Replies sent (sendMessage calls) so far: one per message handled.
    pub handled: u64,
}

impl Sample {
    /// The chart's point for this sample.
    pub fn point(&self) -> Point {
        Point {
            minute: self.at.as_secs_f64() / 60.0,
            rss_mib: mib(self.rss_kib),
            fds: self.fds as f64,
        }
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Prints the table's header.
pub fn print_header() {
    println!(
        "{:>6} {:>8} {:>9} {:>5} {:>7} {:>9} {:>8}",
        "time", "RSS MiB", "anon MiB", "fds", "threads", "handled", "backlog"
    );
}

/// Prints one row; `mark` flags the end of the warm-up.
pub fn print_row(s: &Sample, mark: bool) {
    let secs = s.at.as_secs();
    println!(
        "{:>3}:{:02} {:>8.2} {:>9.2} {:>5} {:>7} {:>9} {:>8}{}",
        secs / 60,
        secs % 60,
        mib(s.rss_kib),
        mib(s.anon_kib),
        s.fds,
        s.threads,
        s.handled,
        s.pushed.saturating_sub(s.handled),
        if mark { "  <- end of warm-up" } else { "" }
    );
}

/// Growth between the end of the warm-up and the end of the load.
#[derive(Debug, Clone, Copy)]
pub struct Growth {
    /// RSS at the end minus RSS at the end of the warm-up, KiB (negative: it shrank).
    pub rss_kib: i64,
    /// The same for the anonymous part.
    pub anon_kib: i64,
    /// The highest RSS after the warm-up minus RSS at its end, KiB.
    pub rss_peak_kib: i64,
    /// Open fds at the end minus at the end of the warm-up.
    pub fds: i64,
}

impl Growth {
    /// Compares the last sample with `warm`, the sample at the end of the warm-up.
    pub fn between(warm: &Sample, after: &[Sample]) -> Self {
        let end = after.last().unwrap_or(warm);
        let diff = |a: u64, b: u64| a as i64 - b as i64;
        let peak = after
            .iter()
            .map(|s| s.rss_kib)
            .max()
            .unwrap_or(warm.rss_kib);
        Self {
            rss_kib: diff(end.rss_kib, warm.rss_kib),
            anon_kib: diff(end.anon_kib, warm.anon_kib),
            rss_peak_kib: diff(peak, warm.rss_kib),
            fds: diff(end.fds, warm.fds),
        }
    }

    /// Whether RSS grew within [`RSS_BOUND_KIB`].
    pub fn rss_ok(&self) -> bool {
        self.rss_kib <= RSS_BOUND_KIB as i64
    }

    /// Whether open fds grew within [`FD_SLACK`].
    pub fn fds_ok(&self) -> bool {
        self.fds <= FD_SLACK as i64
    }
}

/// Prints the growth after the warm-up (`samples[warm]`) and each check, with `rest_ok` for
/// the checks made elsewhere; `true` if all passed.
pub fn verdict(samples: &[Sample], warm: usize, rest_ok: bool) -> bool {
    let Some(warm_sample) = samples.get(warm) else {
        println!("FAIL: the run ended before the warm-up did");
        return false;
    };
    let growth = Growth::between(warm_sample, &samples[warm..]);
    let secs = warm_sample.at.as_secs();
    println!();
    println!(
        "growth after warm-up (end minus {}:{:02}): RSS {}, anon {}, open fds {:+}",
        secs / 60,
        secs % 60,
        signed_mib(growth.rss_kib),
        signed_mib(growth.anon_kib),
        growth.fds
    );
    println!(
        "highest RSS after warm-up: {}",
        signed_mib(growth.rss_peak_kib)
    );
    let checks = [
        (
            growth.rss_ok(),
            format!("RSS growth within 2 MB ({RSS_BOUND_KIB} KiB)"),
        ),
        (
            growth.fds_ok(),
            format!("open fds grew by at most {FD_SLACK}"),
        ),
        (
            rest_ok,
            "every update handled and answered, no request refused, /metrics and /health \
             answered, clean SIGTERM exit"
                .to_owned(),
        ),
    ];
    for (ok, what) in &checks {
        println!("{}: {what}", if *ok { "PASS" } else { "FAIL" });
    }
    checks.iter().all(|(ok, _)| *ok)
}

/// Formats KiB as signed MiB with KiB in parentheses.
fn signed_mib(kib: i64) -> String {
    format!("{:+.2} MiB ({kib:+} KiB)", kib as f64 / 1024.0)
}
