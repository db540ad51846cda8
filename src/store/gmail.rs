//! Gmail tables: pending OAuth consents started from chat (`gmail_pending_auth`, keyed by the
//! SHA-256 of the OAuth `state`, which is never stored in clear) and the emails already summarised
//! per user (`processed_emails`).

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, now_unix};
use crate::ids::UserId;

/// A consent link handed out by `/authgmail`, waiting for Google's redirect.
#[derive(Clone, PartialEq, Eq)]
pub struct PendingGmailAuth {
    /// SHA-256 (hex) of the OAuth `state`.
    pub state_hash: String,
    /// The user the consent belongs to.
    pub user_id: UserId,
    /// The PKCE verifier, sealed with the token key (never stored in plaintext).
    pub sealed_verifier: Vec<u8>,
    /// The redirect URI the consent URL named (the code exchange must repeat it).
    pub redirect_uri: String,
    /// Unix seconds after which the link is no longer accepted.
    pub expires_at: i64,
}

/// What the web callback stores while its confirm page waits for the button.
pub struct GmailConfirmation {
    /// Google's authorization code, sealed with the token key.
    pub sealed_code: Vec<u8>,
    /// SHA-256 (hex) of the one-time token in the page's form.
    pub confirm_hash: String,
    /// Unix seconds after which the button is refused.
    pub expires_at: i64,
}

impl std::fmt::Debug for PendingGmailAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingGmailAuth")
            .field("user_id", &self.user_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Records a pending consent and drops consents that expired before `now`.
    pub async fn insert_gmail_pending(
        &self,
        pending: PendingGmailAuth,
        now: i64,
    ) -> Result<(), StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "DELETE FROM gmail_pending_auth WHERE expires_at <= ?1",
                params![now],
            )?;
            tx.execute(
                "INSERT INTO gmail_pending_auth
                     (state_hash, user_id, verifier, redirect_uri, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    pending.state_hash,
                    pending.user_id,
                    pending.sealed_verifier,
                    pending.redirect_uri,
                    now,
                    pending.expires_at
                ],
            )?;
            tx.commit()
        })
        .await
    }

    /// Removes and returns the pending consent for `state_hash` (single use). With `user_id`,
    /// only a consent of that user is taken; another user's consent stays untouched.
    pub async fn take_gmail_pending(
        &self,
        state_hash: String,
        user_id: Option<UserId>,
    ) -> Result<Option<PendingGmailAuth>, StoreError> {
        self.call(move |c| {
            c.query_row(
                "DELETE FROM gmail_pending_auth
                 WHERE state_hash = ?1 AND (?2 IS NULL OR user_id = ?2)
                 RETURNING state_hash, user_id, verifier, redirect_uri, expires_at",
                params![state_hash, user_id],
                pending_from_row,
            )
            .optional()
        })
        .await
    }

    /// The pending consent for `state_hash`, left in place (the web callback's first step).
    pub async fn gmail_pending(
        &self,
        state_hash: String,
    ) -> Result<Option<PendingGmailAuth>, StoreError> {
        self.call(move |c| {
            c.query_row(
                "SELECT state_hash, user_id, verifier, redirect_uri, expires_at
                 FROM gmail_pending_auth WHERE state_hash = ?1",
                params![state_hash],
                pending_from_row,
            )
            .optional()
        })
        .await
    }

    /// Stores Google's (sealed) code with the hash of a new confirm token on the consent of
    /// `state_hash`, replacing an earlier one, and moves its expiry to `expires_at`. Returns
    /// whether the consent was still there.
    pub async fn await_gmail_confirmation(
        &self,
        state_hash: String,
        confirmation: GmailConfirmation,
    ) -> Result<bool, StoreError> {
        self.call(move |c| {
            c.execute(
                "UPDATE gmail_pending_auth SET sealed_code = ?2, confirm_hash = ?3, expires_at = ?4
                 WHERE state_hash = ?1",
                params![
                    state_hash,
                    confirmation.sealed_code,
                    confirmation.confirm_hash,
                    confirmation.expires_at
                ],
            )
            .map(|rows| rows == 1)
        })
        .await
    }

    /// Removes and returns the consent whose confirm token hashes to `confirm_hash`, with its
    /// sealed code (single use: a second call finds nothing).
    pub async fn take_gmail_confirmation(
        &self,
        confirm_hash: String,
    ) -> Result<Option<(PendingGmailAuth, Vec<u8>)>, StoreError> {
        self.call(move |c| {
            c.query_row(
                "DELETE FROM gmail_pending_auth
                 WHERE confirm_hash = ?1 AND sealed_code IS NOT NULL
                 RETURNING state_hash, user_id, verifier, redirect_uri, expires_at, sealed_code",
                params![confirm_hash],
                |r| Ok((pending_from_row(r)?, r.get(5)?)),
            )
            .optional()
        })
        .await
    }

    /// Forgets the consent of `state_hash` (declined on Google's page, or expired).
    pub async fn delete_gmail_pending(&self, state_hash: String) -> Result<(), StoreError> {
        self.call(move |c| {
            c.execute(
                "DELETE FROM gmail_pending_auth WHERE state_hash = ?1",
                params![state_hash],
            )
            .map(drop)
        })
        .await
    }

    /// Keeps the ids of `message_ids` that `user_id` has not had summarised yet, in order.
    pub async fn unprocessed_email_ids(
        &self,
        user_id: UserId,
        message_ids: Vec<String>,
    ) -> Result<Vec<String>, StoreError> {
        self.call(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT 1 FROM processed_emails WHERE user_id = ?1 AND message_id = ?2",
            )?;
            let mut fresh = Vec::with_capacity(message_ids.len());
            for id in message_ids {
                if !stmt.exists(params![user_id, id])? {
                    fresh.push(id);
                }
            }
            Ok(fresh)
        })
        .await
    }

    /// Marks `message_ids` as summarised for `user_id` (ids already marked are left as they are).
    pub async fn mark_emails_processed(
        &self,
        user_id: UserId,
        message_ids: Vec<String>,
    ) -> Result<(), StoreError> {
        let now = now_unix();
        self.call(move |c| {
            let tx = c.transaction()?;
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT OR IGNORE INTO processed_emails (user_id, message_id, processed_at)
                     VALUES (?1, ?2, ?3)",
                )?;
                for id in &message_ids {
                    stmt.execute(params![user_id, id, now])?;
                }
            }
            tx.commit()
        })
        .await
    }

    /// The users.id for `--auth-gmail --user ID`: `ID` may be a users.id or a Telegram chat id.
    pub async fn gmail_user_by_id_or_chat(&self, id: i64) -> Result<Option<UserId>, StoreError> {
        self.call(move |c| {
            c.query_row(
                "SELECT id FROM users WHERE id = ?1 OR chat_id = ?1 ORDER BY id = ?1 DESC LIMIT 1",
                params![id],
                |r| r.get(0),
            )
            .optional()
        })
        .await
    }
}

/// Reads the first five columns: state_hash, user_id, verifier, redirect_uri, expires_at.
fn pending_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PendingGmailAuth> {
    Ok(PendingGmailAuth {
        state_hash: r.get(0)?,
        user_id: r.get(1)?,
        sealed_verifier: r.get(2)?,
        redirect_uri: r.get(3)?,
        expires_at: r.get(4)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ChatId;

    async fn store_with_user() -> (Store, UserId) {
        let store = Store::open_in_memory().unwrap();
        let id = crate::store::add_test_user(&store, ChatId(4242)).await;
        (store, id)
    }

    fn pending(user_id: UserId, expires_at: i64) -> PendingGmailAuth {
        PendingGmailAuth {
            state_hash: "abc".into(),
            user_id,
            sealed_verifier: vec![1, 2, 3],
            redirect_uri: "http://127.0.0.1/".into(),
            expires_at,
        }
    }

    #[tokio::test]
    async fn pending_consent_is_taken_once_and_only_by_its_user() {
        let (store, user) = store_with_user().await;
        store
            .insert_gmail_pending(pending(user, 100), 10)
            .await
            .unwrap();
        let other = store
            .take_gmail_pending("abc".into(), Some(UserId(user.0 + 1)))
            .await;
        assert_eq!(other.unwrap(), None);
        let taken = store.take_gmail_pending("abc".into(), Some(user)).await;
        assert_eq!(taken.unwrap(), Some(pending(user, 100)));
        let again = store.take_gmail_pending("abc".into(), None).await;
        assert_eq!(again.unwrap(), None);
    }

    #[tokio::test]
    async fn processed_ids_are_filtered_per_user() {
        let (store, user) = store_with_user().await;
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        store
            .mark_emails_processed(user, ids(&["a", "b"]))
            .await
            .unwrap();
        store
            .mark_emails_processed(user, ids(&["b"]))
            .await
            .unwrap();
        let fresh = store.unprocessed_email_ids(user, ids(&["a", "c", "b", "d"]));
        assert_eq!(fresh.await.unwrap(), ids(&["c", "d"]));
        assert_eq!(
            store.gmail_user_by_id_or_chat(4242).await.unwrap(),
            Some(user)
        );
        assert_eq!(
            store.gmail_user_by_id_or_chat(user.0).await.unwrap(),
            Some(user)
        );
        assert_eq!(store.gmail_user_by_id_or_chat(7).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_confirmation_is_taken_once_by_its_token_hash() {
        let (store, user) = store_with_user().await;
        store
            .insert_gmail_pending(pending(user, 100), 10)
            .await
            .unwrap();
        assert!(
            store
                .take_gmail_confirmation("h1".into())
                .await
                .unwrap()
                .is_none(),
            "nothing to confirm before the redirect arrived"
        );
        let confirmation = |hash: &str| GmailConfirmation {
            sealed_code: vec![9, 9],
            confirm_hash: hash.into(),
            expires_at: 200,
        };
        let stored = store.await_gmail_confirmation("abc".into(), confirmation("h1"));
        assert!(stored.await.unwrap());
        // Loading the page again replaces the token: the old one no longer works.
        let stored = store.await_gmail_confirmation("abc".into(), confirmation("h2"));
        assert!(stored.await.unwrap());
        assert!(
            store
                .take_gmail_confirmation("h1".into())
                .await
                .unwrap()
                .is_none()
        );
        let (taken, code) = store
            .take_gmail_confirmation("h2".into())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (taken.user_id, taken.expires_at, code),
            (user, 200, vec![9, 9])
        );
        assert!(
            store
                .take_gmail_confirmation("h2".into())
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(store.gmail_pending("abc".into()).await.unwrap(), None);
    }
}
