//! The HTTP server's limits through the front door: raw TCP clients that are slow or greedy
//! against the real router (webhook route, real SQLite inbox) served by `HttpServer` with small
//! limits, so nothing here waits the production 10 s.

use std::io::{ErrorKind, Read as _};
use std::net::SocketAddr;
use std::time::Duration;

use futures::FutureExt as _;
use minicrew::config::BotMode;
use minicrew::health::Health;
use minicrew::http::{self, HttpServer, ServerLimits, StatusState, WebhookState};
use minicrew::queue::ChatQueues;
use minicrew::store::{InboxOutcome, Store};
use minicrew::telegram::intake::{Intake, QueuedUpdate};
use reqwest::StatusCode;
use secrecy::SecretString;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::support::app::{OWNER, WAIT};
use crate::support::fake_telegram::text_update;
use crate::webhook::{SECRET, post};

/// Small limits so a test sees them act within milliseconds.
const TEST_LIMITS: ServerLimits = ServerLimits {
    header_read_timeout: Duration::from_millis(300),
    request_timeout: Duration::from_millis(300),
    max_connections: 2,
};

/// The real router (webhook route, `/health`, `/metrics`) over a real store in a temp dir.
struct Server {
    server: HttpServer,
    store: Store,
    _dir: TempDir,
}

impl Server {
    async fn start(limits: ServerLimits) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let handler_store = store.clone();
        let queues = ChatQueues::new(4, move |q: QueuedUpdate| {
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
            store: store.clone(),
            health: Health::new(),
            bot_mode: BotMode::Webhook,
            metrics: None,
        };
        let router = http::router(status, Some(webhook), None);
        let server = HttpServer::start_with("127.0.0.1:0".parse().unwrap(), router, limits)
            .await
            .unwrap();
        Self {
            server,
            store,
            _dir: dir,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    async fn stored_updates(&self) -> i64 {
        self.store
            .call(|c| c.query_row("SELECT COUNT(*) FROM inbox", [], |r| r.get(0)))
            .await
            .unwrap()
    }
}

/// Reads until the server closes the connection, up to [`WAIT`]; returns what it sent.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let read = tokio::time::timeout(WAIT, async {
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) => return,
                Ok(n) => received.extend_from_slice(&buf[..n]),
                // A reset is the server closing too.
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return,
                Err(e) => panic!("reading from the server failed: {e}"),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server kept the connection open");
    String::from_utf8_lossy(&received).into_owned()
}

/// Whether the server has already closed `stream`: a non-blocking read sees the end of stream.
fn closed_by_server(stream: &mut std::net::TcpStream) -> bool {
    stream.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // a 408 written before closing
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return true,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
            Err(e) => panic!("unexpected socket error: {e}"),
        }
    }
}

#[tokio::test]
async fn a_client_that_sends_half_a_request_line_is_disconnected_by_the_header_timeout() {
    let server = Server::start(TEST_LIMITS).await;
    let mut slow = TcpStream::connect(server.addr()).await.unwrap();
    slow.write_all(b"POST /bot/web").await.unwrap();
    // While it dawdles, others are served.
    let update = text_update(1, OWNER, "/help").to_string();
    assert_eq!(
        post(server.addr(), Some(SECRET), update).await,
        StatusCode::OK
    );
    let answer = read_until_closed(&mut slow).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    assert_eq!(server.stored_updates().await, 1);
}

#[tokio::test]
async fn an_idle_connection_that_never_sends_a_byte_is_closed_by_the_header_timeout() {
    let server = Server::start(TEST_LIMITS).await;
    let mut idle = TcpStream::connect(server.addr()).await.unwrap();
    read_until_closed(&mut idle).await;
}

#[tokio::test]
async fn a_body_that_stops_arriving_gets_408_and_nothing_is_stored() {
    let server = Server::start(TEST_LIMITS).await;
    let mut slow = TcpStream::connect(server.addr()).await.unwrap();
    let head = format!(
        "POST /bot/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\nContent-Length: 1000\r\n\r\n{{\"update_id\":"
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut slow).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert_eq!(server.stored_updates().await, 0);
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_and_a_webhook_is_served_once_a_slot_frees() {
    let server = Server::start(TEST_LIMITS).await;
    // Two clients take both slots and send nothing (blocking sockets, read without the runtime).
    let mut held: Vec<std::net::TcpStream> = (0..TEST_LIMITS.max_connections)
        .map(|_| std::net::TcpStream::connect(server.addr()).unwrap())
        .collect();
    let update = text_update(7, OWNER, "/help").to_string();
    let status = post(server.addr(), Some(SECRET), update).await;
    assert_eq!(status, StatusCode::OK);
    // The webhook connection waited for a slot: it was served only after the server closed one
    // of the connections holding them (the close happened before its answer was even written).
    assert!(
        held.iter_mut().any(closed_by_server),
        "the webhook was served while both slots were still held"
    );
    assert_eq!(server.stored_updates().await, 1);
}

#[tokio::test]
async fn shutdown_drains_at_once_with_idle_keep_alive_connections_open() {
    let limits = ServerLimits {
        header_read_timeout: Duration::from_secs(60),
        ..TEST_LIMITS
    };
    let server = Server::start(limits).await;
    let client = reqwest::Client::new();
    let health = client
        .get(format!("http://{}/health", server.addr()))
        .timeout(WAIT)
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let mut idle = TcpStream::connect(server.addr()).await.unwrap();
    // The pooled keep-alive connection and the idle one would hold the server for 60 s.
    assert!(
        server.server.shutdown(WAIT).await,
        "drained within the grace"
    );
    read_until_closed(&mut idle).await;
    drop(client);
}
