//! The Telegram command menu: `setMyCommands` from the tool registry, only when the list changed
//! since the last start (its hash is kept in `settings`), never on every restart.

use sha2::{Digest, Sha256};
use teloxide::prelude::*;
use teloxide::types::BotCommand;

use super::describe_error;
use crate::store::Store;
use crate::tools::CommandInfo;

const HASH_KEY: &str = "telegram_commands_hash";

/// Sends the menu if it differs from the last one sent. Failures are logged, not fatal.
pub async fn sync_commands(bot: &Bot, store: &Store, menu: &[CommandInfo]) {
    let hash = menu_hash(menu);
    match store.setting(HASH_KEY).await {
        Ok(Some(stored)) if stored == hash => {
            tracing::debug!("command menu unchanged");
            return;
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
        }
        Err(e) => tracing::warn!(error = %describe_error(&e), "could not update the command menu"),
    }
}

fn menu_hash(menu: &[CommandInfo]) -> String {
    let json = serde_json::to_string(menu).unwrap_or_default();
    Sha256::digest(json.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
