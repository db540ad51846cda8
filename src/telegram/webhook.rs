//! Webhook mode, Telegram side: registering our URL with `setWebhook` at start (retrying with
//! backoff while Telegram is unreachable) and reading a posted body into what the inbox stores.
//! The HTTP server's webhook route, above this module, hands posted bodies here.

use std::time::Duration;

use secrecy::ExposeSecret;
use teloxide::prelude::*;
use teloxide::types::Update;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::convert::{ALLOWED_UPDATES, chat_of};
use super::{describe_error, error_code};
use crate::config::WebhookConfig;
use crate::health::Health;
use crate::ids::ChatId;

/// Longest wait between `setWebhook` retries.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// A posted body that is a Telegram update, ready for `Intake::accept`.
#[derive(Debug, Clone, PartialEq)]
pub struct PostedUpdate {
    /// Telegram's update id.
    pub update_id: i64,
    /// The chat it belongs to, when it has one.
    pub chat_id: Option<ChatId>,
    /// The body as Telegram sent it.
    pub payload: String,
    /// The body decoded (`None` when teloxide cannot read it: it is stored and skipped), handed
    /// on so the handler does not decode it a second time.
    pub decoded: Option<Update>,
}

/// Why a posted body is not an update.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadUpdate {
    /// Not valid JSON (or not UTF-8).
    #[error("the body is not valid JSON")]
    NotJson,
    /// JSON, but not an object with an integer `update_id`.
    #[error("the body has no integer update_id")]
    NoUpdateId,
    /// An update teloxide panics on while decoding (it unwraps fields Telegram always sends);
    /// stored, it would crash every replay, so it is refused.
    #[error("the update cannot be decoded")]
    Undecodable,
}

/// Reads a webhook body. An update of a kind the bot does not decode is still an update: it is
/// stored and recorded as skipped, so Telegram does not resend it.
pub fn parse_update(body: &[u8]) -> Result<PostedUpdate, BadUpdate> {
    let payload = std::str::from_utf8(body).map_err(|_| BadUpdate::NotJson)?;
    // Decoded once, from the text, as replay does (teloxide's Update does not decode from a
    // `Value`). A decoding error is fine (the handler records it as skipped); a panic is not.
    let decoded = std::panic::catch_unwind(|| serde_json::from_str::<Update>(payload))
        .map_err(|_| BadUpdate::Undecodable)?;
    let (update_id, chat_id, decoded) = match decoded {
        Ok(update) => (i64::from(update.id.0), chat_of(&update), Some(update)),
        // Only a body teloxide cannot read is looked at again: to say why, or keep its id.
        Err(_) => (update_id_of(payload)?, None, None),
    };
    Ok(PostedUpdate {
        update_id,
        chat_id,
        payload: payload.to_string(),
        decoded,
    })
}

/// The integer `update_id` of a JSON object, or why there is none.
fn update_id_of(payload: &str) -> Result<i64, BadUpdate> {
    let value: serde_json::Value = serde_json::from_str(payload).map_err(|_| BadUpdate::NotJson)?;
    value
        .get("update_id")
        .and_then(serde_json::Value::as_i64)
        .ok_or(BadUpdate::NoUpdateId)
}

/// The URL Telegram posts to: `WEBHOOK_HOST` joined with `WEBHOOK_PATH`.
pub fn webhook_url(config: &WebhookConfig) -> Url {
    let mut url = config.host.clone();
    let base = url.path().trim_end_matches('/').to_string();
    url.set_path(&format!("{base}{}", config.path));
    url
}

/// Calls `setWebhook` until Telegram accepts it or `shutdown` fires; returns whether it was set.
/// An outage is logged once when it starts and once when it ends.
pub async fn register(
    bot: Bot,
    config: WebhookConfig,
    health: Health,
    shutdown: CancellationToken,
) -> bool {
    health.webhook_pending();
    let url = webhook_url(&config);
    let mut failures: u32 = 0;
    loop {
        let request = bot
            .set_webhook(url.clone())
            .secret_token(config.secret.expose_secret())
            .allowed_updates(ALLOWED_UPDATES)
            .drop_pending_updates(false);
        let result = tokio::select! {
            () = shutdown.cancelled() => return false,
            r = request.send() => r,
        };
        match result {
            Ok(_) => {
                health.webhook_registered();
                tracing::info!(%url, failed_tries = failures, "webhook registered with Telegram");
                return true;
            }
            Err(e) => {
                crate::metrics::telegram_error("setWebhook", error_code(&e));
                if failures == 0 {
                    tracing::warn!(reason = %describe_error(&e), %url, "cannot register the webhook; retrying with backoff");
                } else {
                    tracing::debug!(reason = %describe_error(&e), failures, "webhook still not registered");
                }
                failures += 1;
            }
        }
        let wait =
            (Duration::from_secs(1) * 2u32.pow(failures.saturating_sub(1).min(6))).min(MAX_BACKOFF);
        tokio::select! {
            () = shutdown.cancelled() => return false,
            () = tokio::time::sleep(wait) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(host: &str, path: &str) -> WebhookConfig {
        WebhookConfig {
            host: Url::parse(host).unwrap(),
            path: path.to_string(),
            listen: "127.0.0.1:0".parse().unwrap(),
            secret: "s".to_string().into(),
        }
    }

    #[test]
    fn webhook_url_joins_host_and_path_without_double_slashes() {
        let url = webhook_url(&config("https://bot.example.org/", "/bot/webhook"));
        assert_eq!(url.as_str(), "https://bot.example.org/bot/webhook");
        let url = webhook_url(&config("https://example.org/minicrew/", "/hook"));
        assert_eq!(url.as_str(), "https://example.org/minicrew/hook");
    }

    #[test]
    fn a_message_update_gives_its_id_and_chat() {
        let body = br#"{"update_id":5,"message":{"message_id":1,"date":0,"chat":{"id":42,"type":"private","first_name":"A"},"from":{"id":42,"is_bot":false,"first_name":"A"},"text":"hi"}}"#;
        let parsed = parse_update(body).unwrap();
        assert_eq!((parsed.update_id, parsed.chat_id), (5, Some(ChatId(42))));
        assert_eq!(parsed.payload.as_bytes(), body);
    }

    #[test]
    fn an_unknown_kind_is_still_an_update_and_garbage_is_not() {
        let parsed = parse_update(br#"{"update_id":9,"some_future_kind":{"x":1}}"#).unwrap();
        assert_eq!((parsed.update_id, parsed.chat_id), (9, None));
        assert_eq!(parse_update(b"{not json"), Err(BadUpdate::NotJson));
        assert_eq!(parse_update(b""), Err(BadUpdate::NotJson));
        assert_eq!(
            parse_update(br#"{"message":{}}"#),
            Err(BadUpdate::NoUpdateId)
        );
        assert_eq!(parse_update(b"[1,2]"), Err(BadUpdate::NoUpdateId));
    }

    #[test]
    fn an_update_teloxide_panics_on_is_refused_not_stored() {
        // A reaction with neither `user` nor `actor_chat`: teloxide unwraps one of them.
        let body = br#"{"update_id":6,"message_reaction":{"chat":{"id":1,"type":"private","first_name":"O"},"message_id":3,"date":0,"old_reaction":[],"new_reaction":[]}}"#;
        assert_eq!(parse_update(body), Err(BadUpdate::Undecodable));
    }
}
