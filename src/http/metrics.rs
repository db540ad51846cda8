//! `GET /metrics`: Prometheus text. The inbox backlog gauge is refreshed from the database on
//! each scrape, so it is exact whatever happened since.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::StatusState;

/// Bound on the backlog query during a scrape.
const DB_TIMEOUT: Duration = Duration::from_secs(2);

/// Prometheus' text exposition content type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The `/metrics` route.
pub fn routes(state: StatusState) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(state)
}

async fn scrape(State(state): State<StatusState>) -> Response {
    let Some(handle) = state.metrics.clone() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder not installed\n",
        )
            .into_response();
    };
    if let Ok(Ok(backlog)) = tokio::time::timeout(DB_TIMEOUT, state.store.inbox_backlog()).await {
        crate::metrics::inbox_backlog(backlog);
    }
    let text = handle.render();
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response()
}
