//! The real binary under a stand-in for systemd: a datagram socket in a temp dir named by
//! `NOTIFY_SOCKET`, as `Type=notify` with `WatchdogSec=` sets it up. The daemon must say
//! `READY=1` once its database is open and it receives updates, ping `WATCHDOG=1` while it runs,
//! and say `STOPPING=1` after SIGTERM, then exit 0.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::app::{OWNER, WAIT};
use crate::support::fake_telegram::FakeTelegram;
use crate::support::sigterm::{exit_after_sigterm, sigterm};

/// Waits (on a blocking thread, up to [`WAIT`]) for the first datagram whose lines include
/// `line`; returns every datagram read until then.
async fn read_until(socket: &UnixDatagram, line: &'static str) -> Vec<String> {
    let socket = socket.try_clone().unwrap();
    tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + WAIT;
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            socket
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .unwrap();
            let Ok(len) = socket.recv(&mut buf) else {
                break;
            };
            let message = String::from_utf8_lossy(&buf[..len]).to_string();
            let found = message.lines().any(|l| l == line);
            seen.push(message);
            if found {
                return seen;
            }
        }
        panic!("no {line} within {WAIT:?}; got {seen:?}");
    })
    .await
    .unwrap()
}

fn daemon(dir: &Path, fake: &FakeTelegram, notify_socket: &Path) -> tokio::process::Command {
    let env = format!(
        "TELEGRAM_BOT_TOKEN={}\nTELEGRAM_API_URL={}\nOWNER_TELEGRAM_CHAT_ID={OWNER}\nDATA_DIR=data\n",
        fake.token(),
        fake.url()
    );
    let env_file = dir.join("test.env");
    std::fs::write(&env_file, env).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_minicrew"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("NOTIFY_SOCKET", notify_socket)
        // Half of 0.4 s: a ping every 200 ms.
        .env("WATCHDOG_USEC", "400000")
        .current_dir(dir)
        .arg("--env-file")
        .arg(&env_file)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("stderr.log")).unwrap());
    tokio::process::Command::from(cmd)
}

#[tokio::test]
async fn under_systemd_the_daemon_says_ready_pings_the_watchdog_and_says_stopping_on_sigterm() {
    let fake = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    // Killed if an assertion fails before SIGTERM, so a failed run leaves no daemon behind.
    let child = daemon(dir.path(), &fake, &socket_path)
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    let first = read_until(&socket, "READY=1").await;
    assert_eq!(first.len(), 1, "READY=1 comes first: {first:?}");
    assert!(
        dir.path().join("data/minicrew.db").exists(),
        "ready only after the database is open"
    );
    assert!(
        first[0].contains("STATUS=receiving updates by polling"),
        "{first:?}"
    );
    read_until(&socket, "WATCHDOG=1").await;
    // Still alive and answering after the first ping.
    fake.wait_for_call("getUpdates", WAIT).await;
    fake.push_text(OWNER, "/help");
    if tokio::time::timeout(WAIT, fake.wait_for_sent(1, WAIT * 2))
        .await
        .is_err()
    {
        let log = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap();
        panic!("no answer to /help within {WAIT:?}; the daemon's log:\n{log}");
    }
    read_until(&socket, "WATCHDOG=1").await;

    sigterm(&child);
    let until_stop = read_until(&socket, "STOPPING=1").await;
    assert!(
        until_stop[..until_stop.len() - 1]
            .iter()
            .all(|m| m == "WATCHDOG=1"),
        "only pings before STOPPING=1: {until_stop:?}"
    );
    let status = exit_after_sigterm(child).await.status;
    let log = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap();
    assert_eq!(status.code(), Some(0), "{log}");
    fake.assert_no_violations();
}

#[tokio::test]
async fn an_abstract_notify_socket_name_gets_the_same_messages() {
    use std::os::linux::net::SocketAddrExt as _;
    let fake = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let name = format!("minicrew-it-notify-{}", std::process::id());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let socket = UnixDatagram::bind_addr(&addr).unwrap();
    let mut child = daemon(dir.path(), &fake, Path::new(&format!("@{name}")))
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    read_until(&socket, "READY=1").await;
    read_until(&socket, "WATCHDOG=1").await;
    child.kill().await.unwrap();
}
