//! Downloading a file a user sent (a voice message) through the Bot API: `getFile`, then the
//! file URL. That URL contains the bot token, so it is never logged or put in an error: errors
//! here carry only a short description. `getFile` only reads, so a rate limit (with a short
//! `retry_after`) or an answer lost on the way is tried once more before the user is told. The
//! pause before that try ends at shutdown, leaving the message pending (see
//! [`crate::shutdown_pause`]).

use std::time::Duration;

use futures::StreamExt as _;
use teloxide::net::Download as _;
use teloxide::prelude::*;
use teloxide::types::FileId;
use teloxide::{ApiError, RequestError};
use tokio_util::sync::CancellationToken;

use super::describe_error;
use crate::media::{FetchError, FetchedFile, FileSource};

/// The largest file the public Bot API lets a bot download.
pub const BOT_DOWNLOAD_LIMIT: u64 = 20 * 1024 * 1024;

/// Longest `retry_after` waited for before the one more `getFile`; a longer rate limit is
/// reported at once (the user is asked to send the file again later).
const MAX_GET_FILE_WAIT: Duration = Duration::from_secs(5);
/// Pause before trying `getFile` again after its answer was lost or unreadable.
const GET_FILE_RETRY_PAUSE: Duration = Duration::from_millis(500);

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
    /// Shutdown came while waiting to try `getFile` again; the message stays pending.
    #[error(transparent)]
    Stopped(#[from] crate::shutdown_pause::Stopped),
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
    /// Ends the pause before trying `getFile` again at shutdown.
    shutdown: CancellationToken,
}

impl std::fmt::Debug for TelegramFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TelegramFiles")
    }
}

impl TelegramFiles {
    /// Downloads with `bot` (its client's timeout bounds each call).
    pub fn new(bot: Bot) -> Self {
        Self {
            bot,
            shutdown: CancellationToken::new(),
        }
    }

    /// Stops waiting before a retry when `shutdown` fires: the download ends with
    /// [`FileError::Stopped`] and the message that needed it stays pending.
    pub fn with_shutdown(mut self, shutdown: CancellationToken) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// Fetches `file_id`, refusing anything over `limit` bytes before or while reading it.
    #[tracing::instrument(skip_all)]
    pub async fn download(&self, file_id: &str, limit: u64) -> Result<DownloadedFile, FileError> {
        let file = self.get_file(file_id, limit).await?;
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

    /// `getFile`, tried once more after a short rate limit or a lost or unreadable answer.
    async fn get_file(
        &self,
        file_id: &str,
        limit: u64,
    ) -> Result<teloxide::types::File, FileError> {
        let request = || self.bot.get_file(FileId(file_id.to_string()));
        let error = match request().await {
            Ok(file) => return Ok(file),
            Err(e) => e,
        };
        let Some(pause) = retry_pause(&error) else {
            return Err(lookup_error(&error, limit));
        };
        tracing::warn!(error = %describe_error(&error), pause_ms = pause.as_millis(),
            "getFile failed; retrying once");
        crate::shutdown_pause::pause(&self.shutdown, tokio::time::sleep(pause)).await?;
        request().await.map_err(|e| lookup_error(&e, limit))
    }
}

/// How long to wait before trying `getFile` again, or `None` when another try cannot help (a
/// refusal, a long rate limit, or a timeout that would only make the user wait twice as long).
fn retry_pause(error: &RequestError) -> Option<Duration> {
    match error {
        RequestError::RetryAfter(asked) => {
            Some(asked.duration()).filter(|wait| *wait <= MAX_GET_FILE_WAIT)
        }
        RequestError::Network(e) if e.is_timeout() => None,
        RequestError::Network(_) | RequestError::InvalidJson { .. } | RequestError::Io(_) => {
            Some(GET_FILE_RETRY_PAUSE)
        }
        RequestError::Api(_) | RequestError::MigrateToChatId(_) => None,
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

/// Photos and documents for [`crate::media::Media`], and voice recordings, come through `getFile`.
#[async_trait::async_trait]
impl FileSource for TelegramFiles {
    fn limit(&self) -> u64 {
        BOT_DOWNLOAD_LIMIT
    }

    async fn fetch(&self, file_id: &str, max_bytes: u64) -> Result<FetchedFile, FetchError> {
        match self.download(file_id, max_bytes).await {
            Ok(file) => Ok(FetchedFile {
                bytes: file.bytes,
                file_name: file.file_name,
            }),
            Err(FileError::TooBig { .. }) => Err(FetchError::TooBig),
            Err(e) => Err(FetchError::Failed(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use teloxide::types::Seconds;

    #[test]
    fn a_short_rate_limit_or_a_broken_answer_is_tried_again_a_refusal_is_not() {
        let asked = |s| RequestError::RetryAfter(Seconds::from_seconds(s));
        assert_eq!(retry_pause(&asked(2)), Some(Duration::from_secs(2)));
        assert_eq!(
            retry_pause(&asked(60)),
            None,
            "too long to keep the user waiting"
        );
        let garbage = RequestError::InvalidJson {
            source: std::sync::Arc::new(serde_json::from_str::<u8>("x").unwrap_err()),
            raw: "x".into(),
        };
        assert_eq!(retry_pause(&garbage), Some(GET_FILE_RETRY_PAUSE));
        let refused = RequestError::Api(ApiError::Unknown("Bad Request: wrong file_id".into()));
        assert_eq!(retry_pause(&refused), None);
    }
}
