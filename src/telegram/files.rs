//! Downloading a file a user sent (a voice message) through the Bot API: `getFile`, then the
//! file URL. That URL contains the bot token, so it is never logged or put in an error: errors
//! here carry only a short description.

use futures::StreamExt as _;
use teloxide::net::Download as _;
use teloxide::prelude::*;
use teloxide::types::FileId;
use teloxide::{ApiError, RequestError};

use super::describe_error;

/// The largest file the public Bot API lets a bot download.
pub const BOT_DOWNLOAD_LIMIT: u64 = 20 * 1024 * 1024;

/// Why a download failed.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file is bigger than the limit (Telegram's, or the caller's).
    #[error("the file is bigger than {limit} bytes")]
    TooBig {
        /// The limit in bytes.
        limit: u64,
    },
    /// `getFile` failed (unknown or expired file id, Telegram unreachable, ...).
    #[error("getFile failed: {0}")]
    Lookup(String),
    /// The file URL could not be read; the description never contains the URL.
    #[error("download failed: {0}")]
    Download(String),
}

/// A downloaded file.
#[derive(Debug, Clone)]
pub struct DownloadedFile {
    /// The content.
    pub bytes: Vec<u8>,
    /// The last segment of Telegram's `file_path`, e.g. `file_12.oga`.
    pub file_name: String,
}

/// Downloads files through the bot. Cheap to clone; its `Debug` hides the bot (and token).
#[derive(Clone)]
pub struct TelegramFiles {
    bot: Bot,
}

impl std::fmt::Debug for TelegramFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TelegramFiles")
    }
}

impl TelegramFiles {
    /// Downloads with `bot` (its client's timeout bounds each call).
    pub fn new(bot: Bot) -> Self {
        Self { bot }
    }

    /// Fetches `file_id`, refusing anything over `limit` bytes before or while reading it.
    #[tracing::instrument(skip_all)]
    pub async fn download(&self, file_id: &str, limit: u64) -> Result<DownloadedFile, FileError> {
        let file = self
            .bot
            .get_file(FileId(file_id.to_string()))
            .await
            .map_err(|e| lookup_error(&e, limit))?;
        if u64::from(file.meta.size) > limit && file.meta.size != u32::MAX {
            return Err(FileError::TooBig { limit });
        }
        let mut stream = self.bot.download_file_stream(&file.path);
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| FileError::Download(describe_http(&e)))?;
            if (bytes.len() + chunk.len()) as u64 > limit {
                return Err(FileError::TooBig { limit });
            }
            bytes.extend_from_slice(&chunk);
        }
        let file_name = file.path.rsplit('/').next().unwrap_or_default().to_string();
        Ok(DownloadedFile { bytes, file_name })
    }
}

/// Telegram answers "file is too big" for files over its limit; anything else is a lookup error.
fn lookup_error(e: &RequestError, limit: u64) -> FileError {
    match e {
        RequestError::Api(ApiError::Unknown(text)) if text.contains("file is too big") => {
            FileError::TooBig { limit }
        }
        e => FileError::Lookup(describe_error(e)),
    }
}

/// A download error without its URL (which holds the token).
fn describe_http(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_string()
    } else if let Some(status) = e.status() {
        format!("HTTP {status}")
    } else {
        "network error".to_string()
    }
}
