//! The real release binary as a child process: found in the target dir, started with an env file
//! in a temp dir, measured through `/proc/<pid>/status`, stopped with SIGTERM or killed with
//! SIGKILL (the crash test, `tests/crashtest`, uses it too).

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use tokio::process::{Child, Command};
use tokio::time::Instant;

/// The daemon the benches run: `BENCH_BINARY` when set, else where `cargo build --release` puts
/// it (honours `CARGO_TARGET_DIR`). Set `BENCH_BINARY=target/release/minicrew` and build the
/// benches into another target dir (BENCHMARKS.md, "Method"): a `cargo bench` build of the
/// binary has dev-dependency features (tokio's `test-util`), so other symbol names, and the
/// start-up order in `link/startup-order.txt` does not apply to it.
pub fn release_binary() -> PathBuf {
    if let Some(binary) = std::env::var_os("BENCH_BINARY") {
        return PathBuf::from(binary);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("release").join("minicrew")
}

/// The built release binary for the bench `name`, or `None` (said on stderr) when it is not
/// built; warns when the sources are newer than it.
pub fn built_release_binary(name: &str) -> Option<PathBuf> {
    let binary = release_binary();
    if !binary.is_file() {
        eprintln!(
            "{name}: {} not found; build it first with `cargo build --release`",
            binary.display()
        );
        return None;
    }
    if is_stale(&binary) {
        eprintln!(
            "{name}: warning: sources are newer than {}; run `cargo build --release`",
            binary.display()
        );
    }
    Some(binary)
}

/// Whether a file under `src/` or `migrations/` is newer than `binary` (a stale build).
pub fn is_stale(binary: &Path) -> bool {
    let Ok(built) = binary.metadata().and_then(|m| m.modified()) else {
        return true;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    ["src", "migrations"]
        .iter()
        .any(|dir| newest_in(&root.join(dir)) > built)
}

fn newest_in(dir: &Path) -> SystemTime {
    let mut newest = SystemTime::UNIX_EPOCH;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return newest;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let modified = if path.is_dir() {
            newest_in(&path)
        } else {
            entry
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(newest)
        };
        newest = newest.max(modified);
    }
    newest
}

/// Memory figures of a process, in KiB, and its thread count.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// `VmRSS`: resident set now.
    pub rss_kib: u64,
    /// `RssAnon`: the anonymous (heap and stack) part of it.
    pub anon_kib: u64,
    /// `VmHWM`: peak resident set.
    pub hwm_kib: u64,
    /// `Threads`.
    pub threads: u64,
}

/// A running daemon; killed if dropped before [`Daemon::terminate`].
pub struct Daemon {
    child: Child,
    pid: u32,
    log: PathBuf,
}

impl Daemon {
    /// Starts `binary --env-file <dir>/bench.env` in `dir` with an empty environment besides
    /// `PATH`, so no key of the caller's shell leaks in; output goes to `<dir>/daemon.log`.
    pub fn start(binary: &Path, dir: &Path, env: &[(&str, String)]) -> anyhow::Result<Self> {
        Self::start_logging_to(binary, dir, env, &dir.join("daemon.log"))
    }

    /// Like [`Daemon::start`], with the output going to `log` (created or truncated).
    pub fn start_logging_to(
        binary: &Path,
        dir: &Path,
        env: &[(&str, String)],
        log: &Path,
    ) -> anyhow::Result<Self> {
        let env_file = dir.join("bench.env");
        let body: String = env.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        std::fs::write(&env_file, body)?;
        let log = log.to_path_buf();
        let out = std::fs::File::create(&log)?;
        let child = Command::new(binary)
            .arg("--env-file")
            .arg(&env_file)
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let pid = child
            .id()
            .context("the child has no pid right after spawn")?;
        Ok(Self { child, pid, log })
    }

    /// The child's process id (for `/proc/<pid>/...` readings such as CPU time and memory).
    #[allow(
        dead_code,
        reason = "used by the per_message and footprint benches, not by the crash test"
    )]
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Memory of the child now, from `/proc/<pid>/status`.
    pub fn memory(&self) -> anyhow::Result<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .context("cannot read /proc/<pid>/status (has the daemon exited?)")?;
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        Ok(Memory {
            rss_kib: field("VmRSS:"),
            anon_kib: field("RssAnon:"),
            hwm_kib: field("VmHWM:"),
            threads: field("Threads:"),
        })
    }

    /// The last `lines` lines of the daemon's output, for error messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Counts log lines at WARN or ERROR level (`LOG_FORMAT=json`).
    pub fn warnings_logged(&self) -> usize {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .filter(|l| l.contains(r#""level":"WARN""#) || l.contains(r#""level":"ERROR""#))
            .count()
    }

    /// The exit status if the process has already exited on its own, without waiting.
    #[allow(dead_code, reason = "used by tests/crashtest, not by the daemon bench")]
    pub fn exited(&mut self) -> anyhow::Result<Option<ExitStatus>> {
        Ok(self.child.try_wait()?)
    }

    /// `kill -9`: SIGKILL, then waits until the process is gone (so nothing it sent can
    /// arrive later).
    #[allow(dead_code, reason = "used by tests/crashtest, not by the daemon bench")]
    pub async fn kill(&mut self) -> anyhow::Result<()> {
        self.child
            .kill()
            .await
            .with_context(|| format!("cannot SIGKILL pid {}", self.pid))
    }

    /// Sends SIGTERM and waits up to `within` for the exit; returns its status and how long
    /// it took. The child is killed if it does not exit in time.
    pub async fn terminate(&mut self, within: Duration) -> anyhow::Result<(ExitStatus, Duration)> {
        let started = Instant::now();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .context("cannot run `kill -TERM`")?;
        anyhow::ensure!(sent.success(), "`kill -TERM {}` failed", self.pid);
        match tokio::time::timeout(within, self.child.wait()).await {
            Ok(status) => Ok((status?, started.elapsed())),
            Err(_) => {
                self.child.kill().await?;
                anyhow::bail!("the daemon did not exit within {within:?} of SIGTERM; killed")
            }
        }
    }
}
