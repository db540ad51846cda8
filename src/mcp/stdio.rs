//! Starting a stdio MCP server: the configured command with a cleared environment (only `PATH`,
//! `HOME`, `LANG` and the configured `env`, so none of our secrets such as `TELEGRAM_BOT_TOKEN`
//! or API keys reach it), stdin/stdout piped for MCP, and stderr read into our logs at debug
//! level, line by line with a bound on the line length. The child leads its own process group, so
//! [`kill_group`] also stops what it started (`npx` starts `node`); it is killed when dropped.

use std::process::Stdio;
use std::sync::{Arc, Mutex};

use rustix::process::{Pid, Signal, kill_process_group};
use secrecy::ExposeSecret as _;
use tokio::io::AsyncReadExt as _;
use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command};

use crate::config::McpTransport;

/// The only variables of our environment a server inherits.
pub const INHERITED_ENV: [&str; 3] = ["PATH", "HOME", "LANG"];
/// Longest stderr line logged; longer lines are cut.
const MAX_STDERR_LINE: usize = 1024;
/// Characters of the last stderr line kept for `/mcp` and errors.
const LAST_LINE_CHARS: usize = 300;

/// A started server's process; dropping it kills its whole process group, so a start that is
/// abandoned half-way (shutdown during the handshake) leaves nothing behind either.
pub struct OwnedChild(pub Child);

impl Drop for OwnedChild {
    fn drop(&mut self) {
        kill_group(&mut self.0);
    }
}

/// A started server: its pipes and the child (killed on drop).
pub struct Spawned {
    /// The process.
    pub child: OwnedChild,
    /// What it writes (MCP messages).
    pub stdout: ChildStdout,
    /// What we write to it.
    pub stdin: ChildStdin,
}

/// Starts the server of a stdio transport; its stderr goes to our debug log under `server`, and
/// the last line it wrote is kept in `last_stderr`.
pub fn spawn(
    server: &str,
    transport: &McpTransport,
    last_stderr: Arc<Mutex<Option<String>>>,
) -> std::io::Result<Spawned> {
    let McpTransport::Stdio { command, args, env } = transport else {
        return Err(std::io::Error::other("not a stdio server"));
    };
    let mut cmd = Command::new(command);
    cmd.args(args)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    for key in INHERITED_ENV {
        if let Some(value) = std::env::var_os(key) {
            cmd.env(key, value);
        }
    }
    for (key, value) in env {
        cmd.env(key, value.expose_secret());
    }
    *last_stderr.lock().unwrap_or_else(|p| p.into_inner()) = None;
    let mut child = cmd.spawn()?;
    let (Some(stdout), Some(stdin), Some(stderr)) =
        (child.stdout.take(), child.stdin.take(), child.stderr.take())
    else {
        return Err(std::io::Error::other("the child's pipes were not set up"));
    };
    tokio::spawn(log_stderr(server.to_string(), stderr, last_stderr));
    Ok(Spawned {
        child: OwnedChild(child),
        stdout,
        stdin,
    })
}

/// Kills the child's whole process group (the child and anything it started), then the child.
pub fn kill_group(child: &mut Child) {
    // `id()` is `None` once the child was reaped: then there is nothing left to kill.
    // The group is the one the child leads (it was spawned with `process_group(0)`), and the
    // child has not been reaped yet (`id()` is `Some`), so the group id cannot have been reused.
    if let Some(pid) = child
        .id()
        .and_then(|pid| i32::try_from(pid).ok())
        .and_then(Pid::from_raw)
    {
        // Fails only when the group is already gone: nothing left to kill.
        let _ = kill_process_group(pid, Signal::KILL);
    }
    let _ = child.start_kill();
}

/// Logs each stderr line at debug until the pipe closes (the child exited). Reads on whatever
/// the lines look like, so the child never blocks on a full pipe; a longer line is cut.
async fn log_stderr(server: String, mut stderr: ChildStderr, last: Arc<Mutex<Option<String>>>) {
    let mut chunk = [0u8; 4096];
    let mut line: Vec<u8> = Vec::new();
    loop {
        let n = match stderr.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for &byte in &chunk[..n] {
            if byte == b'\n' {
                emit(&server, &line, &last);
                line.clear();
            } else if line.len() < MAX_STDERR_LINE {
                line.push(byte);
            }
        }
    }
    if !line.is_empty() {
        emit(&server, &line, &last);
    }
}

/// Logs one stderr line and keeps it as the last one.
fn emit(server: &str, line: &[u8], last: &Mutex<Option<String>>) {
    let line: String = String::from_utf8_lossy(line)
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    if line.trim().is_empty() {
        return;
    }
    tracing::debug!(server = %server, line = %line, "MCP server stderr");
    let kept: String = line.chars().take(LAST_LINE_CHARS).collect();
    *last.lock().unwrap_or_else(|p| p.into_inner()) = Some(kept);
}
