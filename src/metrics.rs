//! Every Prometheus metric the daemon exports: the names live here, with one small recording
//! function each, so the rest of the code records with a one-line call.
//!
//! The `metrics` facade has one global recorder per process. [`install`] installs the
//! Prometheus recorder once (a `OnceLock`) and every app in the process shares its handle, which
//! also means the integration tests, running many apps in one process, see each other's counts.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::store::InboxOutcome;

/// Updates stored in the inbox, by `kind` (`message`, `callback_query`, ...).
pub const UPDATES_RECEIVED: &str = "minicrew_updates_received_total";
/// Redeliveries of an update already stored, by `kind`.
pub const UPDATES_DUPLICATE: &str = "minicrew_updates_duplicate_total";
/// Updates handled, by `kind` and `outcome` (`done`, `skipped`).
pub const UPDATES_HANDLED: &str = "minicrew_updates_handled_total";
/// Updates whose handling failed, by `kind` and `reason` (`send`, `database`).
pub const UPDATES_FAILED: &str = "minicrew_updates_failed_total";
/// Seconds from picking an update up to closing its inbox row, by `kind`.
pub const UPDATE_SECONDS: &str = "minicrew_update_handling_seconds";
/// Updates stored but not handled yet.
pub const INBOX_BACKLOG: &str = "minicrew_inbox_backlog";
/// LLM requests by `provider` and `outcome` (`ok` or the error kind).
pub const LLM_REQUESTS: &str = "minicrew_llm_requests_total";
/// LLM request latency by `provider` and `outcome`.
pub const LLM_SECONDS: &str = "minicrew_llm_request_seconds";
/// LLM tokens by `provider` and `direction` (`input`, `output`).
pub const LLM_TOKENS: &str = "minicrew_llm_tokens_total";
/// Failed Telegram API calls by `method` and `code` (`429`, `403`, `timeout`, ...).
pub const TELEGRAM_ERRORS: &str = "minicrew_telegram_api_errors_total";
/// Messages delivered to Telegram.
pub const MESSAGES_SENT: &str = "minicrew_messages_sent_total";
/// Webhook requests by answered `status`.
pub const WEBHOOK_REQUESTS: &str = "minicrew_webhook_requests_total";

/// Histogram buckets (seconds) for every `*_seconds` metric: 1 ms to 2 min.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 30.0, 120.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the Prometheus recorder (first call only) and returns the shared handle; `None` if
/// another recorder was installed first by someone else (metrics are then not exported).
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS);
            match builder.and_then(PrometheusBuilder::install_recorder) {
                Ok(handle) => {
                    describe();
                    Some(handle)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot install the metrics recorder; /metrics will be empty");
                    None
                }
            }
        })
        .clone()
}

fn describe() {
    describe_counter!(UPDATES_RECEIVED, "Updates stored in the inbox");
    describe_counter!(UPDATES_DUPLICATE, "Repeated deliveries ignored");
    describe_counter!(UPDATES_HANDLED, "Updates handled");
    describe_counter!(UPDATES_FAILED, "Updates whose handling failed");
    describe_histogram!(
        UPDATE_SECONDS,
        metrics::Unit::Seconds,
        "Update handling time"
    );
    describe_gauge!(INBOX_BACKLOG, "Updates waiting to be handled");
    describe_counter!(LLM_REQUESTS, "LLM requests");
    describe_histogram!(LLM_SECONDS, metrics::Unit::Seconds, "LLM request latency");
    describe_counter!(LLM_TOKENS, "LLM tokens");
    describe_counter!(TELEGRAM_ERRORS, "Failed Telegram API calls");
    describe_counter!(MESSAGES_SENT, "Messages delivered to Telegram");
    describe_counter!(WEBHOOK_REQUESTS, "Webhook requests by status");
}

/// An update was stored (`duplicate` = it had been stored before).
pub fn update_received(kind: &'static str, duplicate: bool) {
    let name = if duplicate {
        UPDATES_DUPLICATE
    } else {
        UPDATES_RECEIVED
    };
    counter!(name, "kind" => kind).increment(1);
}

/// An update finished: `outcome` is its inbox outcome, `None` when the database failed.
pub fn update_finished(kind: &'static str, outcome: Option<InboxOutcome>, elapsed: Duration) {
    match outcome {
        Some(InboxOutcome::Done) => {
            counter!(UPDATES_HANDLED, "kind" => kind, "outcome" => "done").increment(1)
        }
        Some(InboxOutcome::Skipped) => {
            counter!(UPDATES_HANDLED, "kind" => kind, "outcome" => "skipped").increment(1)
        }
        Some(InboxOutcome::Failed) => {
            counter!(UPDATES_FAILED, "kind" => kind, "reason" => "send").increment(1)
        }
        None => counter!(UPDATES_FAILED, "kind" => kind, "reason" => "database").increment(1),
    }
    histogram!(UPDATE_SECONDS, "kind" => kind).record(elapsed.as_secs_f64());
}

/// The current inbox backlog.
pub fn inbox_backlog(count: i64) {
    gauge!(INBOX_BACKLOG).set(count as f64);
}

/// One LLM request attempt.
pub fn llm_request(
    provider: &'static str,
    outcome: &str,
    latency: Duration,
    input_tokens: u64,
    output_tokens: u64,
) {
    let outcome = outcome.to_string();
    counter!(LLM_REQUESTS, "provider" => provider, "outcome" => outcome.clone()).increment(1);
    histogram!(LLM_SECONDS, "provider" => provider, "outcome" => outcome)
        .record(latency.as_secs_f64());
    counter!(LLM_TOKENS, "provider" => provider, "direction" => "input").increment(input_tokens);
    counter!(LLM_TOKENS, "provider" => provider, "direction" => "output").increment(output_tokens);
}

/// A Telegram API call of `method` failed with `code` (see `telegram::error_code`).
pub fn telegram_error(method: &'static str, code: &'static str) {
    counter!(TELEGRAM_ERRORS, "method" => method, "code" => code).increment(1);
}

/// A message was delivered.
pub fn message_sent() {
    counter!(MESSAGES_SENT).increment(1);
}

/// The webhook answered with `status`.
pub fn webhook_request(status: u16) {
    let status: &'static str = match status {
        200 => "200",
        400 => "400",
        401 => "401",
        403 => "403",
        413 => "413",
        500 => "500",
        _ => "other",
    };
    counter!(WEBHOOK_REQUESTS, "status" => status).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recordings_render_as_prometheus_text_with_labels_and_buckets() {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)
            .unwrap()
            .build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            update_received("message", false);
            update_finished(
                "message",
                Some(InboxOutcome::Done),
                Duration::from_millis(3),
            );
            llm_request("claude", "ok", Duration::from_millis(800), 120, 40);
            telegram_error("sendMessage", "429");
            inbox_backlog(7);
        });
        let text = handle.render();
        for line in [
            "minicrew_updates_received_total{kind=\"message\"} 1",
            "minicrew_updates_handled_total{kind=\"message\",outcome=\"done\"} 1",
            "minicrew_update_handling_seconds_bucket{kind=\"message\",le=\"0.005\"} 1",
            "minicrew_llm_tokens_total{provider=\"claude\",direction=\"input\"} 120",
            "minicrew_telegram_api_errors_total{method=\"sendMessage\",code=\"429\"} 1",
            "minicrew_inbox_backlog 7",
        ] {
            assert!(text.contains(line), "missing `{line}` in:\n{text}");
        }
    }
}
