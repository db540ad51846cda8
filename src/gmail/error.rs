//! `GmailError`: every way the Gmail layer can fail, each with a message fit for the user.
//!
//! No variant carries a token, a code or a PKCE verifier, so `Display` and `Debug` are safe to log
//! and to send to chat. `Display` never shows a server file path either (it reaches users' chats
//! and the callback page): variants about a file keep the path in a field, and the path is logged
//! once, where the error is made ([`GmailError::io`], `ClientSecret::load`).

use std::path::PathBuf;

use crate::store::StoreError;

/// The reply for a token Google no longer accepts; the `/email` tool shows it as is.
pub const RECONNECT_MESSAGE: &str = "Gmail must be connected again: send /authgmail";

/// Errors of the Gmail layer (OAuth, token store, REST client).
#[derive(Debug, thiserror::Error)]
pub enum GmailError {
    /// `--auth-gmail --user ID` names no known user.
    #[error("no user with id or chat id {0}; the user must /start the bot first")]
    UnknownUser(i64),
    /// The user has no stored Gmail token.
    #[error("Gmail is not connected: send /authgmail")]
    NotConnected,
    /// Google rejected the refresh token (`invalid_grant`: revoked or expired).
    #[error("{RECONNECT_MESSAGE}")]
    ReconnectNeeded,
    /// The OAuth client file is missing or not a Google "Desktop app" client.
    #[error("the Google OAuth client file (GOOGLE_CLIENT_SECRET_FILE) {problem}")]
    ClientSecret {
        /// `GOOGLE_CLIENT_SECRET_FILE` (logged, never displayed).
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// `SECRET_KEY` or `DATA_DIR/secret.key` is not 32 bytes of base64.
    #[error("invalid token encryption key ({source_name}): {problem}")]
    InvalidKey {
        /// Where the key came from: `SECRET_KEY` or `DATA_DIR/secret.key` (never a full path).
        source_name: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A token file or a sealed verifier did not decrypt (wrong key or damaged file).
    #[error(
        "stored Gmail credentials cannot be decrypted (was SECRET_KEY changed?): send /authgmail"
    )]
    Decrypt,
    /// The redirect carried a `state` other than the one this flow sent.
    #[error("the sign-in answer did not match this request (wrong state); start again")]
    StateMismatch,
    /// The consent link is unknown, was already used, or belongs to another user.
    #[error("this Gmail sign-in link is unknown or already used: send /authgmail for a new one")]
    UnknownState,
    /// The consent link is older than its time limit.
    #[error("this Gmail sign-in link has expired: send /authgmail for a new one")]
    StateExpired,
    /// The user declined consent on Google's page.
    #[error("Gmail access was not granted on Google's consent page")]
    Denied,
    /// Google's redirect reported another OAuth error.
    #[error("Google reported an authorization error: {0}")]
    AuthorizationError(String),
    /// No redirect arrived within the time limit.
    #[error("no answer from the browser within {0:?}; run the command again")]
    TimedOut(std::time::Duration),
    /// A pasted text is not the address of Google's redirect.
    #[error("that does not look like the address of the page Google sent you to ({0})")]
    BadRedirect(&'static str),
    /// Google's token endpoint refused a request (error code only, never the token).
    #[error("Google refused the token request: {0}")]
    TokenRequest(String),
    /// Google answered without a refresh token, so access could not be kept.
    #[error(
        "Google did not issue a refresh token; remove minicrew's access in your Google account and connect again"
    )]
    NoRefreshToken,
    /// A Google endpoint could not be reached or timed out.
    #[error("cannot reach Google: {0}")]
    Network(String),
    /// The Gmail API answered with an error status.
    #[error("Gmail answered HTTP {status}")]
    Api {
        /// The HTTP status code.
        status: u16,
    },
    /// The Gmail API answered with a body we cannot read.
    #[error("unexpected answer from Gmail: {0}")]
    BadResponse(String),
    /// A credentials file could not be read or written.
    #[error("cannot read or write a Gmail credentials file: {source}")]
    Io {
        /// The file or folder (logged, never displayed).
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Shutdown came while waiting to try again; the request stays pending for the next start.
    #[error("shutting down; try again in a minute")]
    Stopped(#[from] crate::shutdown_pause::Stopped),
}

impl GmailError {
    /// Wraps an I/O error with the path it concerns, and logs the path (the only place it
    /// appears: the error's text, which users see, leaves it out).
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        tracing::warn!(path = %path.display(), error = %source, "Gmail file access failed");
        Self::Io { path, source }
    }

    /// Wraps a reqwest error without its URL (a URL may carry a search query or a code).
    pub(crate) fn network(e: reqwest::Error) -> Self {
        let kind = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "connection failed"
        } else if e.is_decode() {
            "unreadable answer"
        } else {
            "request failed"
        };
        Self::Network(kind.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_about_files_do_not_show_their_path() {
        let secret_dir = "/srv/private/minicrew-credentials";
        let io = GmailError::io(
            format!("{secret_dir}/gmail_7.json"),
            std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        );
        let client = GmailError::ClientSecret {
            path: PathBuf::from(format!("{secret_dir}/client.json")),
            problem: "not found".into(),
        };
        for error in [io, client] {
            let text = error.to_string();
            assert!(!text.contains(secret_dir), "{text}");
            assert!(!text.contains(".json"), "{text}");
        }
    }
}
