//! Telegram checks: the token (`getMe`) and the webhook as Telegram reports it
//! (`getWebhookInfo`): its last delivery error, a URL other than the configured one, updates
//! piling up, and, in polling mode, a webhook that would make every `getUpdates` a 409.

use chrono::{DateTime, TimeDelta, Utc};
use teloxide::prelude::*;
use teloxide::types::WebhookInfo;
use teloxide::{ApiError, RequestError};

use super::check::Check;
use crate::config::{BotMode, Config};
use crate::telegram::webhook::webhook_url;
use crate::telegram::{build_bot, describe_error};

/// The longest one Bot API call may take (both fit in doctor's network limit).
const CALL_LIMIT: std::time::Duration = std::time::Duration::from_secs(7);
/// Where a bot token comes from.
const BOTFATHER: &str = "https://t.me/BotFather";
/// Telegram's guide to webhooks (ports, certificates).
const WEBHOOK_GUIDE: &str = "https://core.telegram.org/bots/webhooks";
/// More updates than this waiting for delivery is worth a warning.
pub const MANY_PENDING: u32 = 100;
/// A delivery error younger than this is a failure; an older one, a warning.
const RECENT_ERROR: TimeDelta = TimeDelta::hours(1);

/// The fix when Telegram cannot be reached at all.
pub fn unreachable_fix(config: &Config) -> String {
    format!(
        "check that this machine reaches TELEGRAM_API_URL ({}) (network, proxy, firewall)",
        config.telegram.api_url
    )
}

/// `getMe`, then the webhook state: one check each.
pub async fn check(config: &Config) -> Vec<Check> {
    let Some(token) = &config.telegram.token else {
        return vec![Check::fail(
            "telegram",
            "TELEGRAM_BOT_TOKEN is not set",
            format!("set TELEGRAM_BOT_TOKEN to the token {BOTFATHER} gave your bot"),
        )];
    };
    let bot = match build_bot(token, &config.telegram.api_url) {
        Ok(b) => b,
        Err(e) => {
            return vec![Check::fail(
                "telegram",
                e.to_string(),
                unreachable_fix(config),
            )];
        }
    };
    let late = format!("no answer within {} s", CALL_LIMIT.as_secs());
    let me = match tokio::time::timeout(CALL_LIMIT, bot.get_me()).await {
        Ok(Ok(me)) => me,
        Ok(Err(e)) => {
            return vec![Check::fail(
                "telegram",
                describe_error(&e),
                request_fix(&e, config),
            )];
        }
        Err(_) => return vec![Check::fail("telegram", late, unreachable_fix(config))],
    };
    let telegram = Check::ok("telegram", format!("@{}", me.username()));
    let webhook = match tokio::time::timeout(CALL_LIMIT, bot.get_webhook_info()).await {
        Ok(Ok(info)) => webhook(config, &info, Utc::now()),
        Ok(Err(e)) => Check::fail("webhook", describe_error(&e), request_fix(&e, config)),
        Err(_) => Check::fail("webhook", late, unreachable_fix(config)),
    };
    vec![telegram, webhook]
}

/// The fix for a failed Bot API call.
fn request_fix(err: &RequestError, config: &Config) -> String {
    match err {
        RequestError::Api(ApiError::InvalidToken) => token_fix(),
        RequestError::Api(ApiError::Unknown(said)) if said.contains("Not Found") => token_fix(),
        RequestError::RetryAfter(_) => "wait a minute and run doctor again".to_string(),
        _ => unreachable_fix(config),
    }
}

fn token_fix() -> String {
    format!("set TELEGRAM_BOT_TOKEN to the token {BOTFATHER} gave your bot (/mybots, API Token)")
}

/// Judges the webhook state Telegram reported at `now`.
pub fn webhook(config: &Config, info: &WebhookInfo, now: DateTime<Utc>) -> Check {
    let name = "webhook";
    let set = info.url.as_ref().map(|u| u.to_string());
    let pending = info.pending_update_count;
    let configured = config.telegram.webhook.as_ref().map(webhook_url);
    match (config.telegram.mode, set, configured) {
        (BotMode::Polling, Some(url), _) => Check::fail(
            name,
            format!(
                "a webhook is set ({url}); while it is, getUpdates gets 409 Conflict and polling \
                 receives nothing"
            ),
            "stop any other copy of the bot that uses it, then start minicrew (in polling mode \
             it deletes the webhook first), or set BOT_MODE=webhook with WEBHOOK_HOST",
        ),
        (BotMode::Polling, None, _) => pending_check(name, "none set (polling)", pending),
        (BotMode::Webhook, None, _) => Check::warn(
            name,
            "no webhook is set yet, so Telegram delivers nothing",
            "start minicrew: in webhook mode it registers WEBHOOK_HOST + WEBHOOK_PATH at start",
        ),
        (BotMode::Webhook, Some(url), Some(mine)) if url != mine.as_str() => Check::fail(
            name,
            format!("Telegram posts to {url}, but WEBHOOK_HOST + WEBHOOK_PATH make {mine}"),
            "restart minicrew so it registers its own URL (stop any other copy first), or \
             correct WEBHOOK_HOST / WEBHOOK_PATH",
        ),
        (BotMode::Webhook, Some(url), _) => match delivery_error(info, now) {
            Some(check) => check,
            None => pending_check(name, &format!("{url}, delivering"), pending),
        },
    }
}

/// Telegram's last delivery error: a failure when recent, a warning when old.
fn delivery_error(info: &WebhookInfo, now: DateTime<Utc>) -> Option<Check> {
    let message = info.last_error_message.as_deref()?;
    let when = info.last_error_date;
    let age = when.map(|at| now.signed_duration_since(at));
    let ago = age.map_or_else(|| "at an unknown time".to_string(), describe_age);
    let text = format!(
        "Telegram's last delivery failed {ago}: \"{}\"; {} update(s) wait",
        crate::tools::shorten(message, 200),
        info.pending_update_count
    );
    let fix = format!(
        "make WEBHOOK_HOST reachable from the internet over https (ports 443, 80, 88 or 8443, a \
         valid certificate) and forward it to WEBHOOK_LISTEN:WEBHOOK_PORT; see {WEBHOOK_GUIDE}"
    );
    Some(if age.is_none_or(|a| a < RECENT_ERROR) {
        Check::fail("webhook", text, fix)
    } else {
        Check::warn("webhook", text, fix)
    })
}

fn describe_age(age: TimeDelta) -> String {
    let minutes = age.num_minutes().max(0);
    match minutes {
        0 => "less than a minute ago".to_string(),
        m if m < 120 => format!("{m} min ago"),
        m if m < 48 * 60 => format!("{} h ago", m / 60),
        m => format!("{} days ago", m / (24 * 60)),
    }
}

/// Ok, or a warning when updates pile up.
fn pending_check(name: &str, state: &str, pending: u32) -> Check {
    if pending > MANY_PENDING {
        Check::warn(
            name,
            format!("{state}; {pending} updates wait for delivery"),
            "start minicrew if it is not running; if it is, look in its log for why updates are \
             not taken",
        )
    } else {
        Check::ok(name, format!("{state}; {pending} update(s) waiting"))
    }
}
