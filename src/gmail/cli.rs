//! `minicrew --auth-gmail [--user ID]`: the installed-app flow in a terminal. Prints the consent
//! URL (and opens a browser when it can), waits on the loopback redirect, checks `state`,
//! exchanges the code with the PKCE verifier, stores the encrypted token and reads which Google
//! address it is for.

use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use super::{GmailAuth, GmailError, SecretKey, TokenStore, loopback::LoopbackListener, profile};
use crate::config::Config;
use crate::ids::UserId;
use crate::store::Store;

/// How long `--auth-gmail` waits for the browser by default.
pub const CLI_AUTH_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// Receives the consent URL once it is ready (the terminal prints it; a test acts as browser).
pub type ShowUrl = Box<dyn FnOnce(&Url) + Send>;

/// Options of [`run_cli_auth`].
pub struct CliAuthOptions {
    /// Spawn `xdg-open`/`open` on the consent URL (`--no-browser` turns it off).
    pub open_browser: bool,
    /// How long to wait for the redirect.
    pub timeout: Duration,
    /// Shows the consent URL to the user.
    pub show_url: ShowUrl,
}

impl CliAuthOptions {
    /// Waits [`CLI_AUTH_TIMEOUT`] and prints the URL with instructions on stdout.
    pub fn new(open_browser: bool) -> Self {
        Self {
            open_browser,
            timeout: CLI_AUTH_TIMEOUT,
            show_url: Box::new(|url| {
                println!(
                    "Open this address in a browser to let minicrew read your Gmail:\n\n{url}\n"
                );
                println!("Waiting for Google to redirect back to this machine...");
            }),
        }
    }
}

/// What `--auth-gmail` connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliConnected {
    /// The encrypted token file.
    pub path: PathBuf,
    /// The Google address connected, when Gmail's profile could be read.
    pub email: Option<String>,
}

impl CliConnected {
    /// The line the command prints on success.
    pub fn summary(&self) -> String {
        let path = self.path.display();
        match &self.email {
            Some(email) => format!("Gmail {email} connected; the encrypted token is in {path}."),
            None => format!(
                "Gmail connected (its address could not be read); the encrypted token is in {path}."
            ),
        }
    }
}

/// The users.id `--auth-gmail` acts for: `--user ID` (a users.id or a chat id) or the owner.
pub async fn resolve_cli_user(
    store: &Store,
    config: &Config,
    user: Option<i64>,
) -> Result<UserId, GmailError> {
    let wanted = user.unwrap_or(config.owner_chat_id.0);
    store
        .gmail_user_by_id_or_chat(wanted)
        .await?
        .ok_or(GmailError::UnknownUser(wanted))
}

/// Runs the whole flow for `user_id`; returns the stored token file and the address connected.
pub async fn run_cli_auth(
    config: &Config,
    user_id: UserId,
    options: CliAuthOptions,
) -> Result<CliConnected, GmailError> {
    let key = SecretKey::load_or_create(config.secret_key.as_ref(), &config.data_dir)?;
    let tokens = TokenStore::new(&config.gmail.credentials_dir, key);
    let auth = GmailAuth::new(&config.gmail)?;
    let listener = LoopbackListener::bind().await?;
    let redirect_uri = listener.redirect_uri().clone();
    let consent = auth.consent(&redirect_uri);
    (options.show_url)(&consent.url);
    if options.open_browser {
        open_browser(&consent.url);
    }
    let params = listener.wait(options.timeout).await?;
    let code = params.code_for(&consent.state)?;
    let token = auth
        .exchange_code(&code, &consent.verifier, &redirect_uri)
        .await?;
    tokens.save(user_id, &token).await?;
    tracing::info!(%user_id, "Gmail connected from the command line");
    let email = match profile::email_address(&config.gmail, &token).await {
        Ok(email) => Some(email),
        Err(e) => {
            tracing::warn!(%user_id, error = %e, "Gmail connected, but its address could not be read");
            None
        }
    };
    Ok(CliConnected {
        path: tokens.path(user_id),
        email,
    })
}

/// Best effort: spawns the platform's opener; a missing opener or display is not an error.
fn open_browser(url: &Url) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let spawned = std::process::Command::new(opener)
        .arg(url.as_str())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    match spawned {
        // Reap the opener in the background so it leaves no zombie behind.
        Ok(mut child) => {
            std::thread::spawn(move || child.wait());
        }
        Err(_) => tracing::debug!(opener, "no browser opener available; open the URL by hand"),
    }
}
