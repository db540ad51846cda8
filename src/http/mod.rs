//! The HTTP server: the webhook route (webhook mode), `/health` and `/metrics` (both modes).
//! [`router`] assembles the routes ([`public_router`] and [`status_router`] when they are served
//! on two listeners); [`HttpServer`] binds, serves with timeouts and a connection cap, and drains
//! on shutdown.
//!
//! To add a route (the Gmail OAuth callback, say), give it its own small `Router` with its own
//! state, like [`health::routes`], and merge it in [`router`].

pub mod gmail_callback;
pub mod health;
pub mod metrics;
pub mod server;
pub mod webhook;

use std::net::SocketAddr;

use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::config::BotMode;
use crate::health::Health;
use crate::store::Store;

pub use gmail_callback::GmailCallbackState;
pub use server::{HttpServer, ServerLimits};
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

/// Every route on one listener: `/health`, `/metrics`, and in webhook mode the webhook route and
/// the Gmail OAuth callback.
pub fn router(
    status: StatusState,
    webhook: Option<WebhookState>,
    gmail: Option<GmailCallbackState>,
) -> Router {
    status_router(status).merge(public_router(webhook, gmail))
}

/// `/health` and `/metrics`: for monitoring, best kept off the public internet.
pub fn status_router(status: StatusState) -> Router {
    Router::new()
        .merge(health::routes(status.clone()))
        .merge(metrics::routes(status))
}

/// The routes the outside world must reach: the webhook route and the Gmail OAuth callback.
pub fn public_router(webhook: Option<WebhookState>, gmail: Option<GmailCallbackState>) -> Router {
    let mut router = Router::new();
    if let Some(webhook) = webhook {
        router = router.merge(webhook::routes(webhook));
    }
    if let Some(gmail) = gmail {
        router = router.merge(gmail_callback::routes(gmail));
    }
    router
}
