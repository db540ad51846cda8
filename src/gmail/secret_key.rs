//! The key that encrypts Gmail credentials at rest (XChaCha20-Poly1305): `SECRET_KEY` when set,
//! otherwise `DATA_DIR/secret.key`, generated with mode 0600 on first use.

use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretString};

use super::GmailError;
use super::private_file::write_private;

/// File name of the generated key inside `DATA_DIR`.
pub const KEY_FILE_NAME: &str = "secret.key";

const NONCE_LEN: usize = 24;

/// A 32-byte symmetric key; cheap to clone, never printed.
#[derive(Clone)]
pub struct SecretKey {
    cipher: Arc<XChaCha20Poly1305>,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey([REDACTED])")
    }
}

impl SecretKey {
    /// Uses `config_key` (`SECRET_KEY`, base64 of 32 bytes) when set; otherwise reads
    /// `data_dir/secret.key`, generating it (mode 0600, logged without the key) when missing.
    pub fn load_or_create(
        config_key: Option<&SecretString>,
        data_dir: &Path,
    ) -> Result<Self, GmailError> {
        if let Some(key) = config_key {
            return Self::from_base64("SECRET_KEY", key.expose_secret());
        }
        let path = data_dir.join(KEY_FILE_NAME);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::from_base64(&format!("DATA_DIR/{KEY_FILE_NAME}"), &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = XChaCha20Poly1305::generate_key(&mut OsRng);
                write_private(&path, STANDARD.encode(key).as_bytes())?;
                tracing::info!(path = %path.display(), "generated a new token encryption key (SECRET_KEY unset)");
                Ok(Self::from_key(&key))
            }
            Err(e) => Err(GmailError::io(path, e)),
        }
    }

    /// Parses 32 bytes of standard or URL-safe base64; `source_name` names the origin in errors.
    pub fn from_base64(source_name: &str, text: &str) -> Result<Self, GmailError> {
        let text = text.trim();
        let bytes = STANDARD
            .decode(text)
            .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')))
            .map_err(|_| GmailError::InvalidKey {
                source_name: source_name.to_string(),
                problem: "not valid base64".into(),
            })?;
        if bytes.len() != 32 {
            return Err(GmailError::InvalidKey {
                source_name: source_name.to_string(),
                problem: format!("expected 32 bytes, got {}", bytes.len()),
            });
        }
        Ok(Self::from_key(Key::from_slice(&bytes)))
    }

    fn from_key(key: &Key) -> Self {
        Self {
            cipher: Arc::new(XChaCha20Poly1305::new(key)),
        }
    }

    /// Encrypts `plaintext` bound to `context` (authenticated, not secret): nonce || ciphertext.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: plaintext,
            aad: context,
        };
        // Encryption into a Vec fails only on allocation limits far beyond a token's size.
        let ciphertext = self
            .cipher
            .encrypt(&nonce, payload)
            .expect("XChaCha20-Poly1305 encrypts any message shorter than 256 GiB");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ciphertext);
        out
    }

    /// Decrypts what [`SecretKey::seal`] produced with the same `context`.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>, GmailError> {
        if sealed.len() < NONCE_LEN {
            return Err(GmailError::Decrypt);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let payload = Payload {
            msg: ciphertext,
            aad: context,
        };
        self.cipher
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| GmailError::Decrypt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_data_opens_only_with_the_same_key_and_context() {
        let dir = tempfile::tempdir().unwrap();
        let key = SecretKey::load_or_create(None, dir.path()).unwrap();
        let sealed = key.seal(b"hello", b"ctx");
        assert!(!sealed.windows(5).any(|w| w == b"hello"));
        assert_eq!(key.open(&sealed, b"ctx").unwrap(), b"hello");
        assert!(matches!(
            key.open(&sealed, b"other"),
            Err(GmailError::Decrypt)
        ));
        let reloaded = SecretKey::load_or_create(None, dir.path()).unwrap();
        assert_eq!(reloaded.open(&sealed, b"ctx").unwrap(), b"hello");
        let other = SecretKey::from_base64("test", &STANDARD.encode([7u8; 32])).unwrap();
        assert!(matches!(
            other.open(&sealed, b"ctx"),
            Err(GmailError::Decrypt)
        ));
    }

    #[test]
    fn configured_key_must_be_32_bytes_of_base64() {
        let short = SecretString::from(STANDARD.encode([1u8; 16]));
        let err = SecretKey::load_or_create(Some(&short), Path::new("/nonexistent")).unwrap_err();
        assert!(err.to_string().contains("expected 32 bytes"), "{err}");
        let bad = SecretString::from("not base64!!".to_string());
        assert!(SecretKey::load_or_create(Some(&bad), Path::new("/nonexistent")).is_err());
        let good = SecretString::from(URL_SAFE_NO_PAD.encode([2u8; 32]));
        assert!(SecretKey::load_or_create(Some(&good), Path::new("/nonexistent")).is_ok());
        assert_eq!(
            format!(
                "{:?}",
                SecretKey::from_base64("k", &STANDARD.encode([3u8; 32])).unwrap()
            ),
            "SecretKey([REDACTED])"
        );
    }
}
