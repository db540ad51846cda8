//! The HTTP server: the webhook route (webhook mode), `/health` and `/metrics` (both modes).
//! [`router`] assembles the routes; [`HttpServer`] binds, serves, and drains on shutdown.
//!
//! To add a route (the Gmail OAuth callback, say), give it its own small `Router` with its own
//! state, like [`health::routes`], and merge it in [`router`].

pub mod gmail_callback;
pub mod health;
pub mod metrics;
pub mod webhook;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

use crate::config::BotMode;
use crate::health::Health;
use crate::store::Store;

pub use gmail_callback::GmailCallbackState;
pub use webhook::WebhookState;

/// Errors from starting the HTTP server.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The address could not be bound (in use, no permission, not local).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address from the config.
        addr: SocketAddr,
        /// Why binding failed.
        source: std::io::Error,
    },
}

/// What `/health` and `/metrics` read. Cheap to clone.
#[derive(Clone)]
pub struct StatusState {
    /// The database (pinged, backlog counted).
    pub store: Store,
    /// Shared runtime health.
    pub health: Health,
    /// Reported as `bot_mode`.
    pub bot_mode: BotMode,
    /// The Prometheus handle; `None` when no recorder could be installed.
    pub metrics: Option<PrometheusHandle>,
}

/// Every route: `/health`, `/metrics`, and in webhook mode the webhook route and the Gmail
/// OAuth callback.
pub fn router(
    status: StatusState,
    webhook: Option<WebhookState>,
    gmail: Option<GmailCallbackState>,
) -> Router {
    let mut router = Router::new()
        .merge(health::routes(status.clone()))
        .merge(metrics::routes(status));
    if let Some(webhook) = webhook {
        router = router.merge(webhook::routes(webhook));
    }
    if let Some(gmail) = gmail {
        router = router.merge(gmail_callback::routes(gmail));
    }
    router
}

/// A running HTTP server. Dropping it aborts the server (a crash); [`HttpServer::shutdown`]
/// stops it gracefully.
pub struct HttpServer {
    addr: SocketAddr,
    stop: CancellationToken,
    task: AbortOnDropHandle<std::io::Result<()>>,
}

impl HttpServer {
    /// Binds `listen` (port 0 picks a free port) and serves `router`.
    pub async fn start(listen: SocketAddr, router: Router) -> Result<Self, HttpError> {
        let bind_error = |source| HttpError::Bind {
            addr: listen,
            source,
        };
        let listener = TcpListener::bind(listen).await.map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        let stop = CancellationToken::new();
        let serve =
            axum::serve(listener, router).with_graceful_shutdown(stop.clone().cancelled_owned());
        let task = AbortOnDropHandle::new(tokio::spawn(async move { serve.await }));
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
            Ok(Ok(Ok(()))) => true,
            Ok(Ok(Err(e))) => {
                tracing::warn!(error = %e, "HTTP server stopped with an error");
                true
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "HTTP server task failed");
                true
            }
            Err(_) => false,
        }
    }
}
