//! Voice messages to text: download the recording through the channel (a
//! [`FileSource`], Telegram's `getFile` in the daemon), send it to an OpenAI-compatible
//! speech-to-text endpoint, return the transcript. Runs in the chat's worker (the dispatcher),
//! never in the intake, so a slow download holds up only that chat.

mod transcribe;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::config::TranscribeConfig;
use crate::media::{FetchError, FileSource};
use crate::message::VoiceClip;

pub use transcribe::{TranscribeError, Transcriber, is_configured};

/// How to turn transcription on, for the reply when it is off.
pub const HOW_TO_ENABLE: &str = "I can't listen to voice messages yet. To turn that on, set \
OPENAI_API_KEY or TRANSCRIBE_API_KEY (or TRANSCRIBE_BASE_URL for your own OpenAI-compatible \
speech-to-text server) in .env and restart. Meanwhile, please type your message.";

/// Why a voice message could not be turned into text. Each variant has a reply for the user.
#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    /// No speech-to-text endpoint is configured.
    #[error("transcription is not configured")]
    NotConfigured,
    /// The channel has no file downloads (the terminal channel), or the bot is not running yet.
    #[error("this channel cannot download recordings")]
    NoDownloads,
    /// The recording is over Telegram's 20 MB limit for bots.
    #[error("the recording is over the bot download limit")]
    TooBig,
    /// Telegram did not hand over the file (the cause has no URL or token in it).
    #[error("cannot download the recording: {0}")]
    Download(String),
    /// The speech-to-text server failed.
    #[error(transparent)]
    Transcribe(#[from] TranscribeError),
    /// The transcript was empty (silence, noise).
    #[error("no words in the recording")]
    Empty,
}

impl VoiceError {
    /// One short, secret-free reply for the user.
    pub fn user_message(&self) -> String {
        match self {
            Self::NotConfigured => HOW_TO_ENABLE.to_string(),
            Self::NoDownloads => "Voice messages work only through Telegram; please type your message.".to_string(),
            Self::TooBig => "That recording is over 20 MB, more than Telegram lets bots download. Please send a shorter one or type it.".to_string(),
            Self::Download(_) => "I couldn't download your voice message from Telegram. Please try again in a moment.".to_string(),
            Self::Transcribe(TranscribeError::Timeout) => "The speech-to-text service didn't answer in time, so I couldn't hear your voice message. Please try again or type it.".to_string(),
            Self::Transcribe(TranscribeError::Status(status)) => format!("I couldn't transcribe your voice message: the speech-to-text service answered with error {status}. Please try again or type it."),
            Self::Transcribe(_) => "I couldn't reach the speech-to-text service to transcribe your voice message. Please try again or type it.".to_string(),
            Self::Empty => "I couldn't make out any words in that recording.".to_string(),
        }
    }
}

/// Voice input for the dispatcher: the transcriber (when configured) and, once the channel
/// runs, its file downloads.
pub struct Voice {
    transcriber: Option<Transcriber>,
    files: OnceLock<Arc<dyn FileSource>>,
}

impl Voice {
    /// Voice input per `config`; each transcription is bounded by `timeout`.
    pub fn new(config: &TranscribeConfig, timeout: Duration) -> Result<Self, TranscribeError> {
        let transcriber = is_configured(config)
            .then(|| Transcriber::new(config, timeout))
            .transpose()?;
        Ok(Self {
            transcriber,
            files: OnceLock::new(),
        })
    }

    /// Lets recordings be downloaded through the running channel (set once, when it starts).
    pub fn attach(&self, files: Arc<dyn FileSource>) {
        if self.files.set(files).is_err() {
            tracing::debug!("file downloads were already attached for voice");
        }
    }

    /// The words spoken in `clip`.
    #[tracing::instrument(skip_all, fields(duration_secs = clip.duration_secs))]
    pub async fn to_text(&self, clip: &VoiceClip) -> Result<String, VoiceError> {
        let transcriber = self.transcriber.as_ref().ok_or(VoiceError::NotConfigured)?;
        let files = self.files.get().ok_or(VoiceError::NoDownloads)?;
        if clip.size.is_some_and(|size| size > files.limit()) {
            return Err(VoiceError::TooBig);
        }
        let file = files
            .fetch(&clip.file_id, files.limit())
            .await
            .map_err(|e| match e {
                FetchError::TooBig => VoiceError::TooBig,
                FetchError::Failed(e) => VoiceError::Download(e),
            })?;
        let text = transcriber.transcribe(file.bytes, &file.file_name).await?;
        if text.is_empty() {
            Err(VoiceError::Empty)
        } else {
            Ok(text)
        }
    }
}
