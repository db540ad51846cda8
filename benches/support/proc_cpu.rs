//! CPU time of a child process as the kernel counts it (`utime + stime` in `/proc/<pid>/stat`,
//! and per thread in `/proc/<pid>/task/<tid>/stat`), so a figure per message does not depend on
//! what else the shared machine is doing. Resolution is one clock tick (10 ms at `USER_HZ` 100):
//! phases are sized so that their CPU time is hundreds of ticks.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context as _;

/// Clock ticks per second of `/proc`'s time fields (`USER_HZ`, 100 on every Linux ABI).
const TICKS_PER_SECOND: u64 = 100;

/// CPU time used so far: the whole process and each thread name (threads of one name summed,
/// e.g. all `tokio-runtime-w` workers).
#[derive(Debug, Clone, Default)]
pub struct Cpu {
    /// utime + stime of the process (all its threads, living and exited).
    pub total: Duration,
    /// utime + stime per thread name, living threads only.
    pub threads: BTreeMap<String, Duration>,
}

impl Cpu {
    /// What was used between `before` and `self`.
    pub fn since(&self, before: &Cpu) -> Cpu {
        let threads = self
            .threads
            .iter()
            .map(|(name, t)| {
                let was = before.threads.get(name).copied().unwrap_or_default();
                (name.clone(), t.saturating_sub(was))
            })
            .collect();
        Cpu {
            total: self.total.saturating_sub(before.total),
            threads,
        }
    }

    /// Milliseconds of CPU per item, for `count` items.
    pub fn ms_per(&self, count: u64) -> f64 {
        self.total.as_secs_f64() * 1000.0 / count.max(1) as f64
    }

    /// The thread names that used CPU, busiest first, as `name 123 ms (45%)`.
    pub fn split(&self) -> String {
        let mut busy: Vec<(&String, &Duration)> =
            self.threads.iter().filter(|(_, t)| !t.is_zero()).collect();
        busy.sort_by(|a, b| b.1.cmp(a.1));
        let total = self.total.as_secs_f64().max(f64::EPSILON);
        busy.iter()
            .map(|(name, t)| {
                format!(
                    "{name} {} ms ({:.0}%)",
                    t.as_millis(),
                    t.as_secs_f64() * 100.0 / total
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Reads the CPU time of `pid` and of each of its threads now.
pub fn read(pid: u32) -> anyhow::Result<Cpu> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .context("cannot read /proc/<pid>/stat (has the daemon exited?)")?;
    let (_, total) = times(&stat).context("unreadable /proc/<pid>/stat")?;
    let mut threads = BTreeMap::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/task"))?.flatten() {
        // A thread may exit between the listing and the read: it is then not counted.
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        if let Some((name, used)) = times(&stat) {
            *threads.entry(name).or_insert(Duration::ZERO) += used;
        }
    }
    Ok(Cpu { total, threads })
}

/// The command name and `utime + stime` of a `stat` line. The name is in parentheses and may
/// hold spaces; utime and stime are the 12th and 13th fields after it.
fn times(stat: &str) -> Option<(String, Duration)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?.to_string();
    let mut fields = stat.get(close + 1..)?.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    let ticks = utime + stime;
    Some((name, Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND)))
}
