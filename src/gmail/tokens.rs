//! Per-user Gmail tokens at rest: `CREDENTIALS_DIR/gmail_<user_id>.json`, an envelope whose payload
//! is encrypted with the [`SecretKey`] and bound to the user id, written atomically with mode 0600.

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{GmailError, SecretKey, private_file::write_private};
use crate::ids::UserId;

/// Seconds before the recorded expiry at which an access token is already treated as expired.
const EXPIRY_MARGIN_SECS: i64 = 60;

/// An OAuth token pair for one user. `Debug` never shows the tokens.
#[derive(Clone)]
pub struct StoredToken {
    /// Bearer token for the Gmail API (short-lived).
    pub access_token: SecretString,
    /// Long-lived token that obtains new access tokens.
    pub refresh_token: SecretString,
    /// Unix seconds when the access token expires, when Google said.
    pub expires_at: Option<i64>,
    /// Granted scopes, space separated.
    pub scope: Option<String>,
}

impl std::fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredToken")
            .field("access_token", &"[REDACTED]")
            .field("refresh_token", &"[REDACTED]")
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .finish()
    }
}

impl StoredToken {
    /// Whether the access token is expired (or about to be) at `now` (Unix seconds).
    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at
            .is_some_and(|at| now + EXPIRY_MARGIN_SECS >= at)
    }
}

/// The plaintext inside the envelope; lives only in memory.
#[derive(Serialize, Deserialize)]
struct Plain {
    access_token: String,
    refresh_token: String,
    expires_at: Option<i64>,
    scope: Option<String>,
}

/// What is on disk.
#[derive(Serialize, Deserialize)]
struct Envelope {
    format: String,
    version: u32,
    cipher: String,
    data: String,
}

const FORMAT: &str = "minicrew-gmail-token";
const CIPHER: &str = "xchacha20poly1305";

/// Reads and writes the encrypted per-user token files.
#[derive(Clone, Debug)]
pub struct TokenStore {
    dir: PathBuf,
    key: SecretKey,
}

impl TokenStore {
    /// A store over `dir` (`CREDENTIALS_DIR`) encrypting with `key`.
    pub fn new(dir: impl Into<PathBuf>, key: SecretKey) -> Self {
        Self {
            dir: dir.into(),
            key,
        }
    }

    /// The file of `user_id`'s token.
    pub fn path(&self, user_id: UserId) -> PathBuf {
        self.dir.join(format!("gmail_{user_id}.json"))
    }

    /// Encrypts and writes `token` for `user_id` (atomic, mode 0600).
    pub async fn save(&self, user_id: UserId, token: &StoredToken) -> Result<(), GmailError> {
        let plain = Plain {
            access_token: token.access_token.expose_secret().to_string(),
            refresh_token: token.refresh_token.expose_secret().to_string(),
            expires_at: token.expires_at,
            scope: token.scope.clone(),
        };
        let json =
            serde_json::to_vec(&plain).map_err(|e| GmailError::BadResponse(e.to_string()))?;
        let envelope = Envelope {
            format: FORMAT.into(),
            version: 1,
            cipher: CIPHER.into(),
            data: STANDARD.encode(self.key.seal(&json, &context(user_id))),
        };
        let bytes = serde_json::to_vec_pretty(&envelope)
            .map_err(|e| GmailError::BadResponse(e.to_string()))?;
        let path = self.path(user_id);
        blocking(move || write_private(&path, &bytes)).await
    }

    /// Reads and decrypts `user_id`'s token; `None` when the user never connected Gmail.
    pub async fn load(&self, user_id: UserId) -> Result<Option<StoredToken>, GmailError> {
        let path = self.path(user_id);
        let read_path = path.clone();
        let bytes = match blocking(move || Ok(std::fs::read(&read_path))).await? {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(GmailError::io(path, e)),
        };
        let envelope: Envelope = serde_json::from_slice(&bytes).map_err(|_| GmailError::Decrypt)?;
        if envelope.format != FORMAT || envelope.cipher != CIPHER {
            return Err(GmailError::Decrypt);
        }
        let sealed = STANDARD
            .decode(envelope.data)
            .map_err(|_| GmailError::Decrypt)?;
        let json = self.key.open(&sealed, &context(user_id))?;
        let plain: Plain = serde_json::from_slice(&json).map_err(|_| GmailError::Decrypt)?;
        Ok(Some(StoredToken {
            access_token: plain.access_token.into(),
            refresh_token: plain.refresh_token.into(),
            expires_at: plain.expires_at,
            scope: plain.scope,
        }))
    }

    /// Deletes `user_id`'s token file; `false` when there was none.
    pub async fn delete(&self, user_id: UserId) -> Result<bool, GmailError> {
        let path = self.path(user_id);
        blocking(move || match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(GmailError::io(path, e)),
        })
        .await
    }
}

/// Binds a token file to its user: a file copied to another user's name does not decrypt.
fn context(user_id: UserId) -> Vec<u8> {
    format!("minicrew gmail token user {user_id}").into_bytes()
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, GmailError> + Send + 'static,
) -> Result<T, GmailError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| GmailError::io(".", std::io::Error::other(e.to_string())))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> StoredToken {
        StoredToken {
            access_token: "ya29.access".to_string().into(),
            refresh_token: "1//refresh-secret".to_string().into(),
            expires_at: Some(1_000),
            scope: Some("gmail.readonly".into()),
        }
    }

    #[tokio::test]
    async fn token_round_trips_encrypted_and_is_bound_to_its_user() {
        let dir = tempfile::tempdir().unwrap();
        let key = SecretKey::load_or_create(None, dir.path()).unwrap();
        let store = TokenStore::new(dir.path().join("creds"), key);
        assert!(store.load(UserId(5)).await.unwrap().is_none());
        store.save(UserId(5), &token()).await.unwrap();
        let raw = std::fs::read_to_string(store.path(UserId(5))).unwrap();
        assert!(!raw.contains("refresh-secret") && !raw.contains("refresh_token"));
        let loaded = store.load(UserId(5)).await.unwrap().unwrap();
        assert_eq!(loaded.refresh_token.expose_secret(), "1//refresh-secret");
        assert_eq!(loaded.expires_at, Some(1_000));
        std::fs::copy(store.path(UserId(5)), store.path(UserId(6))).unwrap();
        assert!(matches!(
            store.load(UserId(6)).await,
            Err(GmailError::Decrypt)
        ));
        assert!(store.delete(UserId(5)).await.unwrap());
        assert!(!store.delete(UserId(5)).await.unwrap());
    }

    #[test]
    fn debug_redacts_tokens_and_expiry_has_a_margin() {
        let shown = format!("{:?}", token());
        assert!(
            !shown.contains("refresh-secret") && !shown.contains("ya29"),
            "{shown}"
        );
        assert!(!token().is_expired(900));
        assert!(token().is_expired(941));
    }
}
