//! Downloads of photos and documents through the running bot, capped at `MEDIA_MAX_MB` before
//! (by the size Telegram reports) and while reading. Like voice, this runs in the chat's worker.
//! The files come from a [`FileSource`] the channel attaches when it starts, so this module
//! (and voice, which fetches its recordings through the same trait) never names the channel.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;

/// Where the files a chat sent are fetched from: the channel that received them (Telegram's
/// `getFile` in the daemon). Attached once the channel runs.
#[async_trait]
pub trait FileSource: Send + Sync {
    /// The largest file this channel lets anyone fetch, in bytes.
    fn limit(&self) -> u64;

    /// The file `file_id`, refusing one over `max_bytes` before or while reading it.
    async fn fetch(&self, file_id: &str, max_bytes: u64) -> Result<FetchedFile, FetchError>;
}

/// A file fetched from the channel.
#[derive(Debug, Clone)]
pub struct FetchedFile {
    /// The content.
    pub bytes: Vec<u8>,
    /// The channel's name for it, e.g. `file_12.oga` (its extension tells speech-to-text the
    /// format); empty when the channel has none.
    pub file_name: String,
}

/// Why a [`FileSource`] could not fetch a file.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The file is over the limit asked for (or the channel's own).
    #[error("the file is too big")]
    TooBig,
    /// The channel did not hand over the file; the description holds no URL or secret.
    #[error("{0}")]
    Failed(String),
}

/// Why a photo or document could not be fetched. Each variant has a reply for the user.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The channel has no file downloads (the terminal channel), or the bot is not running yet.
    #[error("this channel cannot download files")]
    NoDownloads,
    /// The file is over `MEDIA_MAX_MB` (or Telegram's 20 MB bot limit).
    #[error("the file is over {limit_mb} MB")]
    TooBig {
        /// The limit in whole megabytes.
        limit_mb: u64,
    },
    /// Telegram did not hand over the file (the cause has no URL or token in it).
    #[error("cannot download the file: {0}")]
    Download(String),
}

impl MediaError {
    /// One short, secret-free reply for the user; `what` names the thing ("photo", "file").
    pub fn user_message(&self, what: &str) -> String {
        match self {
            Self::NoDownloads => {
                format!("I can only receive a {what} through Telegram; please paste the text.")
            }
            Self::TooBig { limit_mb } => format!(
                "That {what} is bigger than {limit_mb} MB, the most I accept. Please send a \
                 smaller one."
            ),
            Self::Download(_) => format!(
                "I couldn't download your {what} from Telegram. Please try again in a moment."
            ),
        }
    }
}

/// File downloads for photos and documents, with the size cap. Telegram's downloads are
/// attached when the bot starts.
pub struct Media {
    max_bytes: u64,
    files: OnceLock<Arc<dyn FileSource>>,
}

impl Media {
    /// Downloads capped at `max_bytes` (and at Telegram's own limit for bots).
    pub fn new(max_bytes: u64) -> Self {
        Self {
            max_bytes,
            files: OnceLock::new(),
        }
    }

    /// Lets files be downloaded through the running channel (set once, when it starts).
    pub fn attach(&self, files: Arc<dyn FileSource>) {
        if self.files.set(files).is_err() {
            tracing::debug!("file downloads were already attached for media");
        }
    }

    /// The largest file accepted, in bytes (also capped by the attached channel's limit).
    pub fn max_bytes(&self) -> u64 {
        let channel = self.files.get().map_or(u64::MAX, |f| f.limit());
        self.max_bytes.min(channel)
    }

    /// The error for a file of `size` bytes, before anything is downloaded.
    pub fn check_size(&self, size: Option<u64>) -> Result<(), MediaError> {
        match size {
            Some(size) if size > self.max_bytes() => Err(self.too_big()),
            _ => Ok(()),
        }
    }

    fn too_big(&self) -> MediaError {
        MediaError::TooBig {
            limit_mb: self.max_bytes() / (1024 * 1024),
        }
    }

    /// The bytes of `file_id`, refusing anything over the cap before or while reading it.
    #[tracing::instrument(skip_all)]
    pub async fn download(&self, file_id: &str, size: Option<u64>) -> Result<Vec<u8>, MediaError> {
        self.check_size(size)?;
        let files = self.files.get().ok_or(MediaError::NoDownloads)?;
        match files.fetch(file_id, self.max_bytes()).await {
            Ok(file) => Ok(file.bytes),
            Err(FetchError::TooBig) => Err(self.too_big()),
            Err(FetchError::Failed(e)) => Err(MediaError::Download(e)),
        }
    }
}
