//! Shared runtime health: what `/health` reports beyond the database. The parts of the daemon
//! record facts here as they happen (an update handled, a successful poll, a 409 conflict, a
//! provider error, the webhook registered); `/health` reads them. Cheap to clone; recording is a
//! short mutex hold with no `.await`, so it costs nothing on the hot path.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::watch;

mod mcp_server;

pub use mcp_server::{McpServerStatus, ServerState};

/// No successful `getUpdates` for this long means the poll loop is stalled.
pub const POLL_STALL_AFTER: Duration = Duration::from_secs(120);

/// Handle on the shared health state. Cheap to clone.
#[derive(Clone)]
pub struct Health {
    inner: Arc<Inner>,
}

struct Inner {
    started: Instant,
    state: Mutex<State>,
    http_addr: watch::Sender<Option<SocketAddr>>,
    status_addr: watch::Sender<Option<SocketAddr>>,
    stall_logged: AtomicBool,
}

#[derive(Default)]
struct State {
    last_update_handled: Option<DateTime<Utc>>,
    /// Set when the poll loop starts; `None` in webhook mode.
    polling_since: Option<Instant>,
    last_poll_ok: Option<Instant>,
    poll_conflict: bool,
    /// `Some(false)` while webhook mode waits for `setWebhook` to succeed.
    webhook_registered: Option<bool>,
    providers: BTreeMap<String, ProviderHealth>,
    mcp_servers: BTreeMap<String, McpServerStatus>,
}

/// The last outcome of one LLM provider, as `/health` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProviderHealth {
    /// The last error (a short kind such as `timeout` or `rate_limited`; never a secret).
    pub last_error: Option<String>,
    /// When that error happened.
    pub last_error_at: Option<DateTime<Utc>>,
    /// When the provider last answered.
    pub last_ok_at: Option<DateTime<Utc>>,
}

impl Default for Health {
    fn default() -> Self {
        Self::new()
    }
}

impl Health {
    /// A fresh state; uptime counts from now.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                started: Instant::now(),
                state: Mutex::new(State::default()),
                http_addr: watch::channel(None).0,
                status_addr: watch::channel(None).0,
                stall_logged: AtomicBool::new(false),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Every update below is a plain field write, so a poisoned lock still holds sound data.
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Time since [`Health::new`].
    pub fn uptime(&self) -> Duration {
        self.inner.started.elapsed()
    }

    /// An update finished handling (any outcome).
    pub fn update_handled(&self) {
        self.state().last_update_handled = Some(Utc::now());
    }

    /// When an update was last handled.
    pub fn last_update_handled(&self) -> Option<DateTime<Utc>> {
        self.state().last_update_handled
    }

    /// The poll loop started at `now` (the stall clock starts here).
    pub fn polling_started(&self, now: Instant) {
        self.state().polling_since = Some(now);
    }

    /// A `getUpdates` call succeeded at `now`; clears a conflict.
    pub fn poll_succeeded(&self, now: Instant) {
        let mut state = self.state();
        state.last_poll_ok = Some(now);
        state.poll_conflict = false;
        self.inner.stall_logged.store(false, Ordering::Relaxed);
    }

    /// Telegram answered `getUpdates` with 409: another instance polls with this token.
    pub fn poll_conflict(&self) {
        self.state().poll_conflict = true;
    }

    /// Webhook mode: `setWebhook` has not succeeded yet.
    pub fn webhook_pending(&self) {
        self.state().webhook_registered = Some(false);
    }

    /// Webhook mode: Telegram accepted `setWebhook`.
    pub fn webhook_registered(&self) {
        self.state().webhook_registered = Some(true);
    }

    /// Records one LLM call of `provider`: `error` is its error kind, `None` on success.
    pub fn provider_result(&self, provider: &str, error: Option<&str>) {
        let mut state = self.state();
        let entry = state.providers.entry(provider.to_string()).or_default();
        match error {
            Some(e) => {
                entry.last_error = Some(e.to_string());
                entry.last_error_at = Some(Utc::now());
            }
            None => entry.last_ok_at = Some(Utc::now()),
        }
    }

    /// Each provider that was called, with its last outcome.
    pub fn providers(&self) -> BTreeMap<String, ProviderHealth> {
        self.state().providers.clone()
    }

    /// Records an MCP server's current status (its supervisor calls this on every change).
    pub fn set_mcp_server(&self, status: McpServerStatus) {
        self.state().mcp_servers.insert(status.name.clone(), status);
    }

    /// Each configured MCP server's last known status. A failed server does not make the bot
    /// unhealthy (it runs on without its tools), so it is reported, not counted as a problem.
    pub fn mcp_servers(&self) -> BTreeMap<String, McpServerStatus> {
        self.state().mcp_servers.clone()
    }

    /// What is wrong with receiving updates at `now`, one sentence each; empty when all is well.
    pub fn problems(&self, now: Instant) -> Vec<String> {
        let state = self.state();
        let mut problems = Vec::new();
        if state.poll_conflict {
            problems.push(
                "another instance is polling with this bot token (Telegram answered 409)"
                    .to_string(),
            );
        }
        if let Some(since) = state.polling_since {
            let last = state.last_poll_ok.unwrap_or(since).max(since);
            let quiet = now.saturating_duration_since(last);
            if quiet >= POLL_STALL_AFTER {
                problems.push(format!(
                    "polling stalled: no successful getUpdates for {}s",
                    quiet.as_secs()
                ));
            }
        }
        if state.webhook_registered == Some(false) {
            problems.push("the webhook is not registered with Telegram yet".to_string());
        }
        problems
    }

    /// Logs once per stall or conflict what the operator should do; `problems` as from
    /// [`Health::problems`].
    pub fn log_problems_once(&self, problems: &[String]) {
        if problems.is_empty() || self.inner.stall_logged.swap(true, Ordering::Relaxed) {
            return;
        }
        tracing::warn!(
            problems = %problems.join("; "),
            "not receiving updates: check that only one instance runs with this bot token, \
             that TELEGRAM_API_URL is reachable, and the warnings above"
        );
    }

    /// Called by the HTTP server once it is bound (the webhook server in webhook mode).
    pub fn set_http_addr(&self, addr: SocketAddr) {
        self.inner.http_addr.send_replace(Some(addr));
    }

    /// Waits until the HTTP server is bound and returns its address (tests, logs): the webhook
    /// server in webhook mode, else the `HTTP_LISTEN` server. Returns `None` if it is not bound
    /// within `within`.
    pub async fn http_addr(&self, within: Duration) -> Option<SocketAddr> {
        wait_bound(&self.inner.http_addr, within).await
    }

    /// Called once the server answering `/health` and `/metrics` is bound.
    pub fn set_status_addr(&self, addr: SocketAddr) {
        self.inner.status_addr.send_replace(Some(addr));
    }

    /// Waits until the server answering `/health` and `/metrics` is bound and returns its address
    /// (the `HTTP_LISTEN` server when set, else the webhook server).
    pub async fn status_addr(&self, within: Duration) -> Option<SocketAddr> {
        wait_bound(&self.inner.status_addr, within).await
    }
}

async fn wait_bound(
    addr: &watch::Sender<Option<SocketAddr>>,
    within: Duration,
) -> Option<SocketAddr> {
    let mut rx = addr.subscribe();
    match tokio::time::timeout(within, rx.wait_for(Option::is_some)).await {
        Ok(Ok(addr)) => *addr,
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_loop_without_success_for_two_minutes_is_stalled() {
        let health = Health::new();
        let t0 = Instant::now();
        health.polling_started(t0);
        assert!(health.problems(t0 + Duration::from_secs(119)).is_empty());
        let problems = health.problems(t0 + Duration::from_secs(121));
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("polling stalled"), "{problems:?}");
    }

    #[test]
    fn a_successful_poll_restarts_the_stall_clock_and_clears_a_conflict() {
        let health = Health::new();
        let t0 = Instant::now();
        health.polling_started(t0);
        health.poll_conflict();
        assert!(health.problems(t0)[0].contains("another instance"));
        health.poll_succeeded(t0 + Duration::from_secs(100));
        assert!(health.problems(t0 + Duration::from_secs(200)).is_empty());
        assert_eq!(health.problems(t0 + Duration::from_secs(221)).len(), 1);
    }

    #[test]
    fn webhook_mode_is_degraded_until_registered_and_never_stalls() {
        let health = Health::new();
        health.webhook_pending();
        let later = Instant::now() + Duration::from_secs(3600);
        assert_eq!(health.problems(later).len(), 1);
        health.webhook_registered();
        assert!(health.problems(later).is_empty());
    }

    #[test]
    fn provider_keeps_its_last_error_after_a_later_success() {
        let health = Health::new();
        health.provider_result("claude", Some("timeout"));
        health.provider_result("claude", None);
        let p = &health.providers()["claude"];
        assert_eq!(p.last_error.as_deref(), Some("timeout"));
        assert!(p.last_ok_at >= p.last_error_at);
    }
}
