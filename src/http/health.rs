//! `GET /health`: one JSON object for monitors and humans. 200 when all is well; 503 when the
//! database is unusable (`status: "unavailable"`) or updates are not arriving
//! (`status: "degraded"`, e.g. a stalled poll loop or another instance polling the same token).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::StatusState;
use crate::config::BotMode;
use crate::health::ProviderHealth;

/// Bound on the database checks; a database slower than this counts as unusable.
const DB_TIMEOUT: Duration = Duration::from_secs(2);

/// The `/health` body.
#[derive(Debug, Clone, Serialize)]
pub struct HealthReport {
    /// `ok`, `degraded` or `unavailable`.
    pub status: &'static str,
    /// Why it is not `ok`, one sentence each.
    pub reasons: Vec<String>,
    /// `polling` or `webhook`.
    pub bot_mode: &'static str,
    /// Seconds since start.
    pub uptime_secs: u64,
    /// Whether the database answers.
    pub database_ok: bool,
    /// Updates stored and not handled yet (`None` when the database is unusable).
    pub inbox_backlog: Option<i64>,
    /// When the last update finished handling.
    pub last_update_at: Option<DateTime<Utc>>,
    /// Each LLM provider called since start, with its last error if any.
    pub providers: BTreeMap<String, ProviderHealth>,
    /// Each configured MCP server: state, tool count, last error.
    pub mcp: BTreeMap<String, crate::health::McpServerStatus>,
}

/// The `/health` route.
pub fn routes(state: StatusState) -> Router {
    Router::new()
        .route("/health", get(health))
        .with_state(state)
}

async fn health(State(state): State<StatusState>) -> (StatusCode, Json<HealthReport>) {
    let report = report(&state).await;
    let code = if report.status == "ok" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(report))
}

/// Checks the database and gathers the shared health state.
pub async fn report(state: &StatusState) -> HealthReport {
    let backlog = async {
        state.store.ping().await?;
        state.store.inbox_backlog().await
    };
    let backlog = match tokio::time::timeout(DB_TIMEOUT, backlog).await {
        Ok(Ok(n)) => Some(n),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "health check: the database is unusable");
            None
        }
        Err(_) => {
            tracing::warn!("health check: the database did not answer within 2 s");
            None
        }
    };
    let health = &state.health;
    let mut reasons = health.problems(Instant::now());
    health.log_problems_once(&reasons);
    let status = match (backlog, reasons.is_empty()) {
        (None, _) => {
            reasons.insert(0, "the database is unusable".to_string());
            "unavailable"
        }
        (Some(_), false) => "degraded",
        (Some(_), true) => "ok",
    };
    HealthReport {
        status,
        reasons,
        bot_mode: match state.bot_mode {
            BotMode::Polling => "polling",
            BotMode::Webhook => "webhook",
        },
        uptime_secs: health.uptime().as_secs(),
        database_ok: backlog.is_some(),
        inbox_backlog: backlog,
        last_update_at: health.last_update_handled(),
        providers: health.providers(),
        mcp: health.mcp_servers(),
    }
}
