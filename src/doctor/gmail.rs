//! The Gmail check: the OAuth client file (only needed for `/email`) and every stored token
//! opens with the secret key.

use super::check::Check;
use crate::config::Config;
use crate::gmail::{ClientSecret, SecretKey, TokenStore};
use crate::store::Store;

/// Where a Desktop-app OAuth client is made.
const CLOUD_CONSOLE: &str = "https://console.cloud.google.com/apis/credentials";

/// One check: the client file and the users' tokens.
pub async fn check(config: &Config, store: &Store) -> Check {
    let name = "gmail";
    let file = &config.gmail.client_secret_file;
    if !file.exists() {
        return Check::ok(
            name,
            format!(
                "no OAuth client at {} (only needed for /email; create a Desktop app client at \
                 {CLOUD_CONSOLE} and set GOOGLE_CLIENT_SECRET_FILE)",
                file.display()
            ),
        );
    }
    if let Err(e) = ClientSecret::load(file) {
        return Check::fail(
            name,
            e.to_string(),
            format!(
                "download the client of a Desktop app again from {CLOUD_CONSOLE} and point \
                 GOOGLE_CLIENT_SECRET_FILE at it"
            ),
        );
    }
    let key = match SecretKey::load_or_create(config.secret_key.as_ref(), &config.data_dir) {
        Ok(k) => k,
        Err(e) => {
            return Check::fail(
                name,
                e.to_string(),
                "set SECRET_KEY to 32 bytes of base64 (openssl rand -base64 32), or remove a \
                 damaged DATA_DIR/secret.key and connect Gmail again",
            );
        }
    };
    let tokens = TokenStore::new(&config.gmail.credentials_dir, key);
    let users = store.list_users().await.unwrap_or_default();
    let (mut connected, mut broken) = (0, Vec::new());
    for user in users {
        match tokens.load(user.id).await {
            Ok(Some(_)) => connected += 1,
            Ok(None) => {}
            Err(e) => broken.push((user, e)),
        }
    }
    match broken.first() {
        None => Check::ok(
            name,
            format!("client file found; {connected} user(s) connected"),
        ),
        Some((first, _)) => Check::fail(
            name,
            broken
                .iter()
                .map(|(user, e)| format!("user {} ({}): {e}", user.id, user.display_name))
                .collect::<Vec<_>>()
                .join("; "),
            format!(
                "run minicrew --auth-gmail --user {} (or the user sends /authgmail) for each user named",
                first.chat_id
            ),
        ),
    }
}
