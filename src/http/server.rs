//! [`HttpServer`]: binds a port and serves a router over HTTP/1.1 with limits a public endpoint
//! needs, which `axum::serve` does not offer:
//!
//! - **Header-read timeout**: a client that has not sent a whole request head within
//!   [`ServerLimits::header_read_timeout`] is disconnected. It also bounds how long an idle
//!   keep-alive connection is kept, since waiting for the next request is waiting for its head.
//! - **Request timeout**: reading the body and producing the answer must finish within
//!   [`ServerLimits::request_timeout`]; otherwise the client gets `408` and the connection closes.
//! - **Connection cap**: at most [`ServerLimits::max_connections`] connections are served at
//!   once. Further connections *wait*: the accept loop stops accepting until a slot frees, and the
//!   kernel's listen backlog holds them. Slots free within the header-read timeout at the latest
//!   for clients that send nothing, so a burst of idle connections delays others but cannot lock
//!   them out.
//!
//! Shutdown is graceful: the loop stops accepting, each connection finishes the request in
//! progress (idle ones close at once), and [`HttpServer::shutdown`] waits for them up to a grace.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::{AbortOnDropHandle, TaskTracker};

use super::HttpError;

/// Default time a client has to send a whole request head.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time to read a request body and answer it (webhook bodies are at most 1 MiB).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default number of connections served at once.
pub const MAX_CONNECTIONS: usize = 256;
/// Pause after an accept error that is not about one connection (e.g. out of file descriptors).
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_secs(1);

/// The limits of one server; [`ServerLimits::default`] is what the daemon uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Time a client has to send a whole request head (also the keep-alive idle limit).
    pub header_read_timeout: Duration,
    /// Time to read the body and answer, from the moment the head was read.
    pub request_timeout: Duration,
    /// Connections served at once; more wait to be accepted.
    pub max_connections: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: HEADER_READ_TIMEOUT,
            request_timeout: REQUEST_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
        }
    }
}

/// A running HTTP server. Dropping it aborts the server (a crash); [`HttpServer::shutdown`]
/// stops it gracefully.
pub struct HttpServer {
    addr: SocketAddr,
    stop: CancellationToken,
    task: AbortOnDropHandle<()>,
}

impl HttpServer {
    /// Binds `listen` (port 0 picks a free port) and serves `router` with the default limits.
    pub async fn start(listen: SocketAddr, router: Router) -> Result<Self, HttpError> {
        Self::start_with(listen, router, ServerLimits::default()).await
    }

    /// Like [`HttpServer::start`] with explicit limits (tests make them small).
    pub async fn start_with(
        listen: SocketAddr,
        router: Router,
        limits: ServerLimits,
    ) -> Result<Self, HttpError> {
        let bind_error = |source| HttpError::Bind {
            addr: listen,
            source,
        };
        let listener = TcpListener::bind(listen).await.map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        let stop = CancellationToken::new();
        let router = router.layer(axum::middleware::from_fn_with_state(
            limits.request_timeout,
            request_timeout,
        ));
        let task = AbortOnDropHandle::new(tokio::spawn(accept_loop(
            listener,
            router,
            limits,
            stop.clone(),
        )));
        tracing::info!(%addr, "HTTP server listening");
        Ok(Self { addr, stop, task })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections and lets requests in progress finish, for at most `grace`.
    /// Returns whether it drained in time (if not, the rest are cut off).
    pub async fn shutdown(mut self, grace: Duration) -> bool {
        self.stop.cancel();
        match tokio::time::timeout(grace, &mut self.task).await {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "HTTP server task failed");
                true
            }
            Err(_) => false,
        }
    }
}

/// Accepts while a connection slot is free, until `stop`; then waits for the connections.
async fn accept_loop(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    stop: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let connections = TaskTracker::new();
    let mut full_logged = false;
    loop {
        if slots.available_permits() == 0 && !full_logged {
            tracing::warn!(
                max = limits.max_connections,
                "HTTP connection cap reached; new connections wait until one closes"
            );
        }
        full_logged = slots.available_permits() == 0;
        let permit = tokio::select! {
            () = stop.cancelled() => break,
            permit = Arc::clone(&slots).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break, // never closed; kept total
            },
        };
        let stream = tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    tracing::error!(error = %e, "HTTP accept failed; pausing");
                    tokio::select! {
                        () = stop.cancelled() => break,
                        () = tokio::time::sleep(ACCEPT_ERROR_PAUSE) => continue,
                    }
                }
            },
        };
        connections.spawn(serve_connection(
            stream,
            router.clone(),
            limits,
            stop.clone(),
            permit,
        ));
    }
    drop(listener);
    connections.close();
    connections.wait().await;
}

/// Serves one connection until the client closes it, a limit cuts it, or shutdown drains it.
async fn serve_connection(
    stream: TcpStream,
    router: Router,
    limits: ServerLimits,
    stop: CancellationToken,
    _slot: OwnedSemaphorePermit,
) {
    // Small answers go out at once rather than waiting for more to send.
    let _ = stream.set_nodelay(true);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let connection =
        builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(router));
    let mut connection = std::pin::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = stop.cancelled() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = result {
        // Timeouts and clients going away mid-request are expected on a public port.
        tracing::debug!(error = %e, "HTTP connection ended with an error");
    }
}

/// Errors about one incoming connection (it was reset before we took it); the loop goes on.
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// Answers `408` when reading the body and handling the request take longer than `limit`.
async fn request_timeout(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::info!(limit_secs = limit.as_secs_f64(), "HTTP request timed out");
            let mut response = (StatusCode::REQUEST_TIMEOUT, "request timed out\n").into_response();
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
            response
        }
    }
}
