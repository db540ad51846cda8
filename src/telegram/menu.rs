//! The Telegram command menu: `setMyCommands` from the tool registry, only when the list changed
//! since the last start (its hash is kept in `settings`), never on every restart. If Telegram is
//! unreachable at start, it is retried in the background until it goes through.

use std::time::Duration;

use sha2::{Digest, Sha256};
use teloxide::RequestError;
use teloxide::prelude::*;
use teloxide::types::BotCommand;
use tokio_util::sync::CancellationToken;

use super::{describe_error, is_permanent};
use crate::store::Store;
use crate::tools::CommandInfo;

const HASH_KEY: &str = "telegram_commands_hash";
/// Longest wait between retries while Telegram is unreachable.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(300);

/// Keeps trying [`sync_commands`] with backoff until it succeeds, fails for good, or `stop` fires.
pub async fn sync_commands_until_done(
    bot: Bot,
    store: Store,
    menu: Vec<CommandInfo>,
    stop: CancellationToken,
) {
    let mut wait = Duration::from_secs(2);
    loop {
        match sync_commands(&bot, &store, &menu).await {
            Err(e) if !is_permanent(&e) => {
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(wait) => wait = (wait * 2).min(MAX_RETRY_WAIT),
                }
            }
            _ => return,
        }
    }
}

/// Sends the menu if it differs from the last one sent; a Telegram error is logged and returned.
pub async fn sync_commands(
    bot: &Bot,
    store: &Store,
    menu: &[CommandInfo],
) -> Result<(), RequestError> {
    let hash = menu_hash(menu);
    match store.setting(HASH_KEY).await {
        Ok(Some(stored)) if stored == hash => {
            tracing::debug!("command menu unchanged");
            return Ok(());
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot read the stored menu hash; sending the menu"),
    }
    let commands: Vec<BotCommand> = menu
        .iter()
        .map(|c| BotCommand::new(&c.command, &c.description))
        .collect();
    match bot.set_my_commands(commands).await {
        Ok(_) => {
            tracing::info!(commands = menu.len(), "command menu updated");
            if let Err(e) = store.set_setting(HASH_KEY, &hash).await {
                tracing::warn!(error = %e, "cannot store the menu hash");
            }
            Ok(())
        }
        Err(e) => {
            tracing::warn!(error = %describe_error(&e), "could not update the command menu; will retry");
            Err(e)
        }
    }
}

fn menu_hash(menu: &[CommandInfo]) -> String {
    let json = serde_json::to_string(menu).unwrap_or_default();
    Sha256::digest(json.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
