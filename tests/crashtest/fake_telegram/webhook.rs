//! Telegram's side of webhook mode: POSTing each unconfirmed update to the registered URL.

use std::sync::Arc;
use std::time::Duration;

use super::Shared;

/// Bound on one webhook POST.
const WEBHOOK_POST_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause after a webhook POST that was not answered 200 (no daemon listening, or it died).
const WEBHOOK_RETRY: Duration = Duration::from_millis(20);

/// Telegram's side of webhook mode: while a webhook is set, POSTs the oldest unconfirmed update
/// to it (https replaced by http: no TLS terminator here) with the secret header, and confirms
/// it only on a 200. Anything else (nothing listening, the daemon killed mid-request) is retried.
pub async fn push(shared: Arc<Shared>) {
    let client = match reqwest::Client::builder()
        .timeout(WEBHOOK_POST_TIMEOUT)
        .pool_max_idle_per_host(0)
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            eprintln!("crashtest: cannot build the webhook client: {e}");
            return;
        }
    };
    loop {
        let changed = shared.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        let next = {
            let state = shared.state();
            match (&state.webhook, state.pending.front()) {
                (Some((url, secret)), Some(update)) => Some((
                    url.replacen("https://", "http://", 1),
                    secret.clone(),
                    update.clone(),
                )),
                _ => None,
            }
        };
        let Some((url, secret, update)) = next else {
            changed.await;
            continue;
        };
        let posted = client
            .post(&url)
            .header("X-Telegram-Bot-Api-Secret-Token", &secret)
            .json(&update)
            .send()
            .await;
        if posted.is_ok_and(|r| r.status() == reqwest::StatusCode::OK) {
            let id = update["update_id"].as_i64();
            let mut state = shared.state();
            let before = state.pending.len();
            state.pending.retain(|u| u["update_id"].as_i64() != id);
            state.acks.webhook += (before - state.pending.len()) as u64;
            drop(state);
            shared.bump();
        } else {
            tokio::time::sleep(WEBHOOK_RETRY).await;
        }
    }
}
