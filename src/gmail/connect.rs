//! `/authgmail` and `/disconnectgmail`: every active user connects their own Gmail from chat.
//!
//! `begin` hands out a one-time consent link (PKCE + a `state` bound to the user, 15 minutes,
//! single use; the state is stored hashed and the verifier sealed in `gmail_pending_auth`). In
//! webhook mode Google redirects to `WEBHOOK_HOST/auth/gmail/callback`, which asks the browser to
//! confirm the Telegram account first ([`super::confirm`]); in polling mode the redirect is a
//! loopback address the browser cannot open, and the user pastes the address it shows
//! ([`super::paste`]). Either way the user is then told which Google address was connected.

use std::time::Duration;

use secrecy::SecretString;
use sha2::{Digest, Sha256};
use url::Url;

use super::loopback::RedirectParams;
use super::paste::find_redirect_url;
use super::{GmailAuth, GmailError, SecretKey, TokenStore, profile};
use crate::config::{Config, GmailConfig};
use crate::ids::UserId;
use crate::store::gmail::PendingGmailAuth;
use crate::store::{Store, now_unix};

/// How long a consent link stays valid.
pub const CONSENT_TTL: Duration = Duration::from_secs(15 * 60);

/// Path of the webhook-mode callback route under `WEBHOOK_HOST`.
pub const CALLBACK_PATH: &str = "/auth/gmail/callback";

/// Redirect of polling mode: nothing listens there, the user copies the address from the browser.
pub const PASTE_REDIRECT_URI: &str = "http://127.0.0.1/auth/gmail/callback";

/// A consent link for one user.
#[derive(Debug, Clone)]
pub struct ConsentLink {
    /// The Google consent URL.
    pub url: Url,
    /// Unix seconds after which the link no longer works.
    pub expires_at: i64,
    /// Whether the user must paste the address they land on (polling mode).
    pub needs_paste: bool,
}

impl ConsentLink {
    /// The chat reply that hands the link to the user.
    pub fn instructions(&self) -> String {
        let minutes = CONSENT_TTL.as_secs() / 60;
        let after = if self.needs_paste {
            "Google then sends you to a page that does not load (an address starting with \
             http://127.0.0.1). That is expected: copy that whole address from the address bar \
             and send it here."
        } else {
            "When you have allowed access, you are done: I will confirm here."
        };
        format!(
            "Open this link to let me read your Gmail (read-only). It works once, for {minutes} minutes.\n\n{}\n\n{after}",
            self.url
        )
    }
}

/// What `/disconnectgmail` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disconnect {
    /// There was no token for this user.
    NotConnected,
    /// Google revoked the grant and the token file was deleted.
    Revoked,
    /// The token file was deleted but Google could not be told (network, missing client file).
    RemovedLocally,
}

/// A mailbox that was just connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connected {
    /// The user (users.id) it is linked to.
    pub user_id: UserId,
    /// Its Google address, when Gmail's profile could be read.
    pub email: Option<String>,
}

impl Connected {
    /// The chat message that confirms it, naming the address.
    pub fn chat_message(&self) -> String {
        match &self.email {
            Some(email) => format!("Gmail is connected: {email}. Try /email today."),
            None => {
                "Gmail is connected (I could not read which address). Try /email today.".to_string()
            }
        }
    }
}

/// The chat connect flow; cheap to clone.
#[derive(Clone, Debug)]
pub struct GmailConnect {
    pub(super) gmail: GmailConfig,
    pub(super) store: Store,
    tokens: TokenStore,
    pub(super) key: SecretKey,
    pub(super) callback: Option<Url>,
}

impl GmailConnect {
    /// Uses `WEBHOOK_HOST/auth/gmail/callback` as redirect in webhook mode, else the paste flow.
    pub fn new(config: &Config, store: Store, key: SecretKey) -> Self {
        let callback = config
            .telegram
            .webhook
            .as_ref()
            .and_then(|w| w.host.join(CALLBACK_PATH).ok());
        Self::with_callback(config.gmail.clone(), store, key, callback)
    }

    /// Like [`GmailConnect::new`] with an explicit callback URL (`None` = paste flow).
    pub fn with_callback(
        gmail: GmailConfig,
        store: Store,
        key: SecretKey,
        callback: Option<Url>,
    ) -> Self {
        let tokens = TokenStore::new(&gmail.credentials_dir, key.clone());
        Self {
            gmail,
            store,
            tokens,
            key,
            callback,
        }
    }

    /// The token store this flow writes to.
    pub fn tokens(&self) -> &TokenStore {
        &self.tokens
    }

    /// A new one-time consent link for `user_id`.
    #[tracing::instrument(skip_all, fields(user_id))]
    pub async fn begin(&self, user_id: UserId) -> Result<ConsentLink, GmailError> {
        let auth = GmailAuth::new(&self.gmail)?;
        let needs_paste = self.callback.is_none();
        let redirect = match &self.callback {
            Some(url) => url.clone(),
            None => Url::parse(PASTE_REDIRECT_URI)
                .map_err(|_| GmailError::BadRedirect("invalid paste redirect"))?,
        };
        let consent = auth.consent(&redirect);
        let state_hash = hash_hex(&consent.state);
        let now = now_unix();
        let expires_at = now + CONSENT_TTL.as_secs() as i64;
        let sealed = self.key.seal(
            secrecy::ExposeSecret::expose_secret(&consent.verifier).as_bytes(),
            state_hash.as_bytes(),
        );
        let pending = PendingGmailAuth {
            state_hash,
            user_id,
            sealed_verifier: sealed,
            redirect_uri: redirect.to_string(),
            expires_at,
        };
        self.store.insert_gmail_pending(pending, now).await?;
        Ok(ConsentLink {
            url: consent.url,
            expires_at,
            needs_paste,
        })
    }

    /// Polling mode: `pasted` is the address the user's browser landed on; the state must be one
    /// handed to this same user for the paste flow (a webhook-mode link needs its confirm page).
    pub async fn complete_from_pasted_url(
        &self,
        user_id: UserId,
        pasted: &str,
    ) -> Result<Connected, GmailError> {
        let url = find_redirect_url(pasted).ok_or(GmailError::BadRedirect(
            "paste the whole address, starting with http://127.0.0.1",
        ))?;
        let params = RedirectParams::from_url(&url);
        let state = params
            .state
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or(GmailError::BadRedirect("no state in the address"))?;
        let pending = self
            .store
            .take_gmail_pending(hash_hex(state), Some(user_id))
            .await?
            .filter(|p| p.redirect_uri == PASTE_REDIRECT_URI)
            .ok_or(GmailError::UnknownState)?;
        if now_unix() >= pending.expires_at {
            return Err(GmailError::StateExpired);
        }
        let code = params.code_for(state)?;
        self.finish(&pending, &code).await
    }

    /// Exchanges `code` with the consent's PKCE verifier, stores the token for its user and reads
    /// which address it is for.
    pub(super) async fn finish(
        &self,
        pending: &PendingGmailAuth,
        code: &str,
    ) -> Result<Connected, GmailError> {
        let verifier = self
            .key
            .open(&pending.sealed_verifier, pending.state_hash.as_bytes())?;
        let verifier =
            SecretString::from(String::from_utf8(verifier).map_err(|_| GmailError::Decrypt)?);
        let redirect = Url::parse(&pending.redirect_uri)
            .map_err(|_| GmailError::BadRedirect("stored redirect is invalid"))?;
        let auth = GmailAuth::new(&self.gmail)?;
        let token = auth.exchange_code(code, &verifier, &redirect).await?;
        self.tokens.save(pending.user_id, &token).await?;
        // The morning briefing now has mail to read; the token is a file, so this writer wakes
        // the scheduler itself.
        self.store.wake_scheduler();
        let user_id = pending.user_id;
        tracing::info!(%user_id, "Gmail connected from chat");
        let email = match profile::email_address(&self.gmail, &token).await {
            Ok(email) => Some(email),
            Err(e) => {
                tracing::warn!(%user_id, error = %e, "Gmail connected, but its address could not be read");
                None
            }
        };
        Ok(Connected { user_id, email })
    }

    /// `/disconnectgmail`: revokes the grant at Google (best effort) and deletes the token file.
    pub async fn disconnect(&self, user_id: UserId) -> Result<Disconnect, GmailError> {
        let Some(token) = self.tokens.load(user_id).await? else {
            return Ok(Disconnect::NotConnected);
        };
        let revoked = match GmailAuth::new(&self.gmail) {
            Ok(auth) => auth.revoke(&token).await,
            Err(e) => Err(e),
        };
        self.tokens.delete(user_id).await?;
        self.store.wake_scheduler(); // no mail for the morning briefing any more
        match revoked {
            Ok(()) => Ok(Disconnect::Revoked),
            Err(e) => {
                tracing::warn!(%user_id, error = %e, "Gmail token deleted but not revoked at Google");
                Ok(Disconnect::RemovedLocally)
            }
        }
    }
}

/// SHA-256 of `secret` in hex: how a `state` or a confirm token is stored and looked up.
pub(super) fn hash_hex(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
