//! getUpdates as Telegram does it: an `offset` confirms (drops) every earlier update, `limit`
//! caps the batch, `timeout` long-polls (capped, so tests stay quick) and returns as soon as an
//! update is pushed, `allowed_updates` is remembered, and a set webhook makes it a 409 Conflict.

use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::time::Instant;

use super::methods::{ApiError, Reply};
use super::state::{Shared, State};
use super::updates::update_kind;

/// Longest the fake holds a long poll, whatever `timeout` the bot asks for.
pub const LONG_POLL_CAP: Duration = Duration::from_secs(3);

/// Update kinds Telegram delivers when the bot never named any.
const DEFAULT_EXCLUDED: &[&str] = &["chat_member", "message_reaction", "message_reaction_count"];

/// Answers getUpdates, waiting for a push up to the (capped) timeout.
pub async fn get_updates(shared: &Shared, params: &Map<String, Value>) -> Reply {
    let offset = params.get("offset").and_then(Value::as_i64);
    let limit = params
        .get("limit")
        .and_then(Value::as_i64)
        .unwrap_or(100)
        .clamp(1, 100);
    let timeout = params.get("timeout").and_then(Value::as_u64).unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(timeout).min(LONG_POLL_CAP);
    let webhook_active = shared.update(|state| {
        if let Some(offset) = offset {
            state.offsets.push(offset);
            confirm(state, offset);
        }
        if let Some(allowed) = params.get("allowed_updates").and_then(Value::as_array) {
            let kinds: Vec<String> = allowed
                .iter()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect();
            state.allowed_updates = (!kinds.is_empty()).then_some(kinds);
        }
        state.webhook.is_some()
    });
    if webhook_active {
        return Err(ApiError {
            code: 409,
            description: "Conflict: can't use getUpdates method while webhook is active; \
                          use deleteWebhook to delete the webhook first"
                .to_owned(),
            retry_after: None,
        });
    }
    loop {
        let notified = shared.pushed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let batch = take(&mut shared.state(), offset, limit as usize);
        if !batch.is_empty() {
            return Ok(Value::Array(batch));
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return Ok(json!([]));
        }
    }
}

/// Drops what `offset` confirms: ids below it, or all but the last `-offset` when negative.
fn confirm(state: &mut State, offset: i64) {
    if offset < 0 {
        let keep = offset.unsigned_abs() as usize;
        while state.updates.len() > keep {
            state.updates.pop_front();
        }
    } else {
        state
            .updates
            .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
    }
}

/// Up to `limit` deliverable updates (left queued until confirmed); updates of kinds the bot
/// did not subscribe to are dropped, as Telegram never queues them, and reported as violations
/// because a test that pushes one expects the bot to get it.
fn take(state: &mut State, offset: Option<i64>, limit: usize) -> Vec<Value> {
    let allowed = state.allowed_updates.clone();
    let mut dropped = Vec::new();
    state.updates.retain(|u| {
        let kind = update_kind(u).unwrap_or_default();
        let keep = match &allowed {
            Some(kinds) => kinds.iter().any(|k| k == kind),
            None => !DEFAULT_EXCLUDED.contains(&kind),
        };
        if !keep {
            dropped.push(format!(
                "getUpdates: update {} ({kind}) never delivered: not in the bot's allowed_updates {allowed:?}",
                u["update_id"]
            ));
        }
        keep
    });
    state.violations.extend(dropped);
    let from = offset.filter(|o| *o > 0).unwrap_or(i64::MIN);
    state
        .updates
        .iter()
        .filter(|u| u["update_id"].as_i64().unwrap_or(0) >= from)
        .take(limit)
        .cloned()
        .collect()
}
