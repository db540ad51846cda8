//! systemd's service notification protocol (`sd_notify`), for `Type=notify` with `WatchdogSec=`:
//! `READY=1` once the daemon receives updates, `WATCHDOG=1` at half the watchdog interval while
//! the runtime and the database answer, `STOPPING=1` when shutdown begins.
//!
//! The protocol is one datagram per message, `KEY=VALUE` lines, sent to the `AF_UNIX` socket
//! named by `NOTIFY_SOCKET` (a path, or an abstract name written with a leading `@`). It is
//! written here over [`UnixDatagram`] with no `unsafe` and no crate. Without `NOTIFY_SOCKET`
//! (a terminal, a container, the tests) every call is a no-op. The socket never blocks a runtime
//! thread: a full receive queue makes a watchdog ping be skipped, and `READY=1`/`STOPPING=1` be
//! retried for up to [`SEND_PATIENCE`]. A send that fails is logged at debug level and otherwise
//! ignored: notification never stops the bot.

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

use crate::store::Store;

/// How long one watchdog round may wait for the database before it skips its ping.
const STORE_PING_TIMEOUT: Duration = Duration::from_secs(5);
/// How long `READY=1` and `STOPPING=1` are retried while the manager's queue is full.
pub const SEND_PATIENCE: Duration = Duration::from_secs(2);
const RETRY_EVERY: Duration = Duration::from_millis(20);

/// Where the notifications go, or nowhere. Cheap to clone.
#[derive(Clone, Default)]
pub struct Notifier {
    target: Option<Arc<Target>>,
}

struct Target {
    socket: UnixDatagram,
    address: Address,
    /// Half of `WATCHDOG_USEC` when the watchdog is enabled for this process.
    watchdog_every: Option<Duration>,
}

/// A `NOTIFY_SOCKET` value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Address {
    Path(PathBuf),
    /// Linux abstract namespace (`@name` in the variable), without the `@`.
    Abstract(Vec<u8>),
}

impl Notifier {
    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from the process environment.
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok();
        Self::from_vars(
            var("NOTIFY_SOCKET"),
            var("WATCHDOG_USEC"),
            var("WATCHDOG_PID"),
            std::process::id(),
        )
    }

    fn from_vars(
        socket: Option<String>,
        watchdog_usec: Option<String>,
        watchdog_pid: Option<String>,
        own_pid: u32,
    ) -> Self {
        let Some(address) = socket.as_deref().and_then(parse_address) else {
            return Self::default();
        };
        let socket = match UnixDatagram::unbound().and_then(|s| {
            s.set_nonblocking(true)?;
            Ok(s)
        }) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "NOTIFY_SOCKET is set but no socket can be made");
                return Self::default();
            }
        };
        let watchdog_every =
            watchdog_interval(watchdog_usec.as_deref(), watchdog_pid.as_deref(), own_pid);
        Self {
            target: Some(Arc::new(Target {
                socket,
                address,
                watchdog_every,
            })),
        }
    }

    /// Whether `NOTIFY_SOCKET` named a socket.
    pub fn is_enabled(&self) -> bool {
        self.target.is_some()
    }

    /// How often [`Notifier::spawn_watchdog`] pings: half of `WATCHDOG_USEC`, if set for us.
    pub fn watchdog_every(&self) -> Option<Duration> {
        self.target.as_ref().and_then(|t| t.watchdog_every)
    }

    /// `READY=1`: startup is finished; `status` is shown by `systemctl status`.
    pub async fn ready(&self, status: &str) {
        self.send_patiently(&format!("READY=1\nSTATUS={}", one_line(status)))
            .await;
    }

    /// `STOPPING=1`: shutdown has begun (in-flight messages are being finished).
    pub async fn stopping(&self) {
        self.send_patiently("STOPPING=1\nSTATUS=shutting down")
            .await;
    }

    /// `WATCHDOG=1`: the service is alive. Skipped when the manager's queue is full.
    pub fn watchdog(&self) {
        if let Err(e) = self.try_send("WATCHDOG=1") {
            tracing::debug!(error = %e, "cannot ping the service manager's watchdog");
        }
    }

    /// Pings the watchdog every [`Notifier::watchdog_every`] from the async runtime, each time
    /// only after the database answered a trivial query within a few seconds: a wedged runtime or
    /// a dead database thread stops the pings, and systemd restarts the service. A Telegram
    /// outage or a second instance does not (a restart would not fix them; `/health` reports
    /// them). `None` when the watchdog is off. Stops with `shutdown` or when the handle drops.
    pub fn spawn_watchdog(
        &self,
        store: Store,
        shutdown: CancellationToken,
    ) -> Option<AbortOnDropHandle<()>> {
        let every = self.watchdog_every()?;
        let notifier = self.clone();
        let timeout = STORE_PING_TIMEOUT.min(every);
        Some(AbortOnDropHandle::new(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    _ = tick.tick() => {}
                }
                match tokio::time::timeout(timeout, store.ping()).await {
                    Ok(Ok(())) => notifier.watchdog(),
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "database check failed; not pinging the watchdog")
                    }
                    Err(_) => tracing::warn!(
                        "the database did not answer within {}s; not pinging the watchdog",
                        timeout.as_secs()
                    ),
                }
            }
        })))
    }

    /// Sends `message`, retrying while the queue is full, for up to [`SEND_PATIENCE`].
    async fn send_patiently(&self, message: &str) {
        let deadline = tokio::time::Instant::now() + SEND_PATIENCE;
        loop {
            match self.try_send(message) {
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        && tokio::time::Instant::now() < deadline =>
                {
                    tokio::time::sleep(RETRY_EVERY).await;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "cannot notify the service manager");
                    return;
                }
                Ok(()) => return,
            }
        }
    }

    /// One non-blocking send; `Ok` also when notification is off.
    fn try_send(&self, message: &str) -> std::io::Result<()> {
        let Some(target) = &self.target else {
            return Ok(());
        };
        match &target.address {
            Address::Path(path) => target.socket.send_to(message.as_bytes(), path),
            Address::Abstract(name) => send_abstract(&target.socket, message.as_bytes(), name),
        }
        .map(drop)
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn send_abstract(socket: &UnixDatagram, message: &[u8], name: &[u8]) -> std::io::Result<usize> {
    #[cfg(target_os = "android")]
    use std::os::android::net::SocketAddrExt as _;
    #[cfg(target_os = "linux")]
    use std::os::linux::net::SocketAddrExt as _;
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
    socket.send_to_addr(message, &addr)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn send_abstract(_: &UnixDatagram, _: &[u8], _: &[u8]) -> std::io::Result<usize> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "abstract socket names exist on Linux only",
    ))
}

fn parse_address(value: &str) -> Option<Address> {
    match value.as_bytes() {
        [] => None,
        [b'@', name @ ..] => Some(Address::Abstract(name.to_vec())),
        [b'/', ..] => Some(Address::Path(PathBuf::from(value))),
        // systemd only sends absolute paths or abstract names; anything else is not ours.
        _ => None,
    }
}

/// Half of `WATCHDOG_USEC` when it is set, positive, and meant for this process.
fn watchdog_interval(usec: Option<&str>, pid: Option<&str>, own_pid: u32) -> Option<Duration> {
    let usec: u64 = usec?.trim().parse().ok().filter(|&u| u > 0)?;
    if let Some(pid) = pid
        && pid.trim().parse::<u32>().ok() != Some(own_pid)
    {
        return None;
    }
    Some(Duration::from_micros(usec / 2).max(Duration::from_millis(1)))
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_an_abstract_name_and_junk_are_told_apart() {
        assert_eq!(
            parse_address("/run/systemd/notify"),
            Some(Address::Path("/run/systemd/notify".into()))
        );
        assert_eq!(
            parse_address("@/org/x"),
            Some(Address::Abstract(b"/org/x".to_vec()))
        );
        assert_eq!(parse_address(""), None);
        assert_eq!(parse_address("relative/sock"), None);
    }

    #[test]
    fn the_watchdog_pings_at_half_its_interval_and_only_for_this_pid() {
        let half = Some(Duration::from_secs(15));
        assert_eq!(watchdog_interval(Some("30000000"), None, 7), half);
        assert_eq!(watchdog_interval(Some("30000000"), Some("7"), 7), half);
        assert_eq!(watchdog_interval(Some("30000000"), Some("8"), 7), None);
        assert_eq!(watchdog_interval(Some("0"), None, 7), None);
        assert_eq!(watchdog_interval(Some("soon"), None, 7), None);
        assert_eq!(watchdog_interval(None, None, 7), None);
    }

    #[tokio::test]
    async fn without_notify_socket_nothing_is_sent_and_there_is_no_watchdog() {
        let n = Notifier::from_vars(None, Some("1000000".into()), None, 1);
        assert!(!n.is_enabled());
        assert_eq!(n.watchdog_every(), None);
        n.ready("x").await; // a no-op, not a panic
    }

    #[tokio::test]
    async fn a_full_manager_queue_never_blocks_and_ready_waits_its_turn() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let manager = UnixDatagram::bind(&path).unwrap();
        let n = Notifier::from_vars(Some(path.display().to_string()), None, None, 1);
        // Far more pings than any receive queue holds: each returns at once (a blocking socket
        // would hang here, and with it a runtime worker of the bot).
        let (done, pinged) = std::sync::mpsc::channel();
        let pinger = n.clone();
        std::thread::spawn(move || {
            for _ in 0..10_000 {
                pinger.watchdog();
            }
            let _ = done.send(());
        });
        assert!(
            pinged.recv_timeout(Duration::from_secs(5)).is_ok(),
            "a watchdog ping blocked on a full queue"
        );
        let drain = tokio::task::spawn_blocking(move || {
            let mut buf = [0u8; 256];
            manager
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            loop {
                let len = manager.recv(&mut buf).unwrap();
                if buf[..len].starts_with(b"READY=1") {
                    return;
                }
            }
        });
        n.ready("up").await;
        drain.await.unwrap();
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn messages_reach_an_abstract_socket_as_one_datagram_each() {
        use std::os::linux::net::SocketAddrExt as _;
        let name = format!("minicrew-notify-test-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let listener = UnixDatagram::bind_addr(&addr).unwrap();
        listener
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let n = Notifier::from_vars(Some(format!("@{name}")), None, None, 1);
        n.ready("polling\nfor updates").await;
        n.stopping().await;
        let mut buf = [0u8; 256];
        let len = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"READY=1\nSTATUS=polling for updates");
        let len = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"STOPPING=1\nSTATUS=shutting down");
    }
}
