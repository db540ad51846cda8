//! Stopping a daemon child process the way systemd and `docker stop` do: SIGTERM, then waiting
//! (bounded) for it to exit.

use std::process::{Command, Output};
use std::time::Duration;

use tokio::process::Child;

/// How long a daemon may take to exit after SIGTERM: the shutdown grace plus a margin.
const EXIT_WITHIN: Duration = Duration::from_secs(20);

/// Sends SIGTERM to `child` (through `kill`, so tests need no libc).
pub fn sigterm(child: &Child) {
    let pid = child.id().expect("the child is still running").to_string();
    let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(sent.success(), "kill -TERM {pid} failed");
}

/// Waits for `child` to exit after a SIGTERM, up to [`EXIT_WITHIN`]; its output (what was piped).
pub async fn exit_after_sigterm(child: Child) -> Output {
    tokio::time::timeout(EXIT_WITHIN, child.wait_with_output())
        .await
        .expect("exits within the shutdown grace after SIGTERM")
        .unwrap()
}

/// SIGTERM, then [`exit_after_sigterm`].
pub async fn stop_with_sigterm(child: Child) -> Output {
    sigterm(&child);
    exit_after_sigterm(child).await
}
