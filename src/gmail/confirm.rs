//! The webhook-mode callback in two steps, so a mailbox is linked only to the Telegram account
//! its owner agreed to. Before, Google's redirect linked the mailbox to whoever *asked* for the
//! consent link: a user who forwarded their `/authgmail` link to the owner got the owner's mail.
//!
//! 1. [`GmailConnect::prepare_confirmation`] (the redirect, a GET): checks the `state`, seals
//!    Google's code into the pending consent with the hash of a fresh one-time confirm token, and
//!    says which user the consent belongs to. Nothing is exchanged yet. The page shows that user
//!    and a Confirm button carrying the token.
//! 2. [`GmailConnect::confirm`] (the button, a POST): takes the consent by the token's hash
//!    (single use), exchanges the code and stores the token.
//!
//! The token is random, only in that page and stored only as a hash, so another site cannot
//! forge the POST (CSRF) and a replayed POST finds nothing. Loading the page again issues a new
//! token and voids the old one.

use std::time::Duration;

use oauth2::CsrfToken;
use secrecy::SecretString;

use super::connect::{Connected, hash_hex};
use super::loopback::RedirectParams;
use super::{GmailConnect, GmailError};
use crate::ids::UserId;
use crate::store::gmail::GmailConfirmation;
use crate::store::now_unix;

/// How long the confirm button works after Google's redirect.
pub const CONFIRM_TTL: Duration = Duration::from_secs(10 * 60);

/// Random bytes in a confirm token.
const TOKEN_BYTES: u32 = 32;

/// Longest confirm token accepted from a form (ours are 43 characters).
const MAX_TOKEN_LEN: usize = 128;

/// A consent waiting for its Confirm button.
pub struct PendingConfirmation {
    /// The user (users.id) the mailbox will be linked to.
    pub user_id: UserId,
    /// The one-time token the page's form must send back.
    pub token: SecretString,
    /// Unix seconds after which the button is refused.
    pub expires_at: i64,
}

impl std::fmt::Debug for PendingConfirmation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingConfirmation")
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl GmailConnect {
    /// Step 1, Google's redirect: remembers the code (sealed) and returns who the consent is for
    /// with a fresh confirm token. Refuses an unknown, used or expired `state`, and forgets the
    /// consent when Google reports that access was declined.
    pub async fn prepare_confirmation(
        &self,
        params: &RedirectParams,
    ) -> Result<PendingConfirmation, GmailError> {
        let state = params
            .state
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or(GmailError::BadRedirect("no state in the address"))?;
        let state_hash = hash_hex(state);
        let callback = self.callback.as_ref().map(|url| url.as_str());
        let pending = self
            .store
            .gmail_pending(state_hash.clone())
            .await?
            .filter(|p| Some(p.redirect_uri.as_str()) == callback)
            .ok_or(GmailError::UnknownState)?;
        let now = now_unix();
        if now >= pending.expires_at {
            self.store.delete_gmail_pending(state_hash).await?;
            return Err(GmailError::StateExpired);
        }
        let code = match params.code_for(state) {
            Ok(code) => code,
            Err(e @ (GmailError::Denied | GmailError::AuthorizationError(_))) => {
                self.store.delete_gmail_pending(state_hash).await?;
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        let token = CsrfToken::new_random_len(TOKEN_BYTES).into_secret();
        let expires_at = now + CONFIRM_TTL.as_secs() as i64;
        let confirmation = GmailConfirmation {
            sealed_code: self.key.seal(code.as_bytes(), &code_context(&state_hash)),
            confirm_hash: hash_hex(&token),
            expires_at,
        };
        if !self
            .store
            .await_gmail_confirmation(state_hash, confirmation)
            .await?
        {
            return Err(GmailError::UnknownState); // confirmed in another tab meanwhile
        }
        Ok(PendingConfirmation {
            user_id: pending.user_id,
            token: SecretString::from(token),
            expires_at,
        })
    }

    /// Step 2, the Confirm button: redeems `token` once and connects the mailbox.
    pub async fn confirm(&self, token: &str) -> Result<Connected, GmailError> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(GmailError::UnknownState);
        }
        let (pending, sealed_code) = self
            .store
            .take_gmail_confirmation(hash_hex(token))
            .await?
            .ok_or(GmailError::UnknownState)?;
        if now_unix() >= pending.expires_at {
            return Err(GmailError::StateExpired);
        }
        let code = self
            .key
            .open(&sealed_code, &code_context(&pending.state_hash))?;
        let code = String::from_utf8(code).map_err(|_| GmailError::Decrypt)?;
        self.finish(&pending, &code).await
    }
}

/// Binds a sealed code to its consent: a code moved to another row does not decrypt.
fn code_context(state_hash: &str) -> Vec<u8> {
    format!("minicrew gmail code {state_hash}").into_bytes()
}
