//! Speech to text over the OpenAI-compatible `POST {base}/audio/transcriptions` (OpenAI, Groq,
//! a local whisper server): a multipart form with `file` and `model`, a Bearer key when set,
//! answered with `{"text": "..."}`. Every request is bounded by the client's timeout.

use std::time::Duration;

use reqwest::multipart::{Form, Part};
use secrecy::{ExposeSecret, SecretString};

use crate::config::TranscribeConfig;
use crate::llm::http::endpoint;

/// The host of the default base URL (OpenAI's own API, which needs a key).
const OPENAI_HOST: &str = "api.openai.com";

/// Largest answer read from the server: hours of speech as JSON fit easily; a server sending
/// more is broken or hostile, and is not allowed to fill the memory.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// Why a transcription failed. Never carries the key or the audio.
#[derive(Debug, thiserror::Error)]
pub enum TranscribeError {
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client for transcription: {0}")]
    Client(String),
    /// The server answered with an error status (401 bad key, 413 too large, 429, 5xx, ...).
    #[error("the speech-to-text server answered HTTP {0}")]
    Status(u16),
    /// No answer within the timeout.
    #[error("the speech-to-text server did not answer in time")]
    Timeout,
    /// The server could not be reached or the connection broke.
    #[error("cannot reach the speech-to-text server")]
    Network,
    /// The answer was not `{"text": ...}`.
    #[error("unexpected answer from the speech-to-text server")]
    BadResponse,
}

/// A client for one speech-to-text endpoint and model.
pub struct Transcriber {
    http: reqwest::Client,
    url: String,
    api_key: Option<SecretString>,
    model: String,
}

#[derive(serde::Deserialize)]
struct Transcription {
    text: String,
}

impl Transcriber {
    /// A client for `config`, each request bounded by `timeout`.
    pub fn new(config: &TranscribeConfig, timeout: Duration) -> Result<Self, TranscribeError> {
        let http = crate::llm::http_client(timeout)
            .map_err(|e| TranscribeError::Client(e.without_url().to_string()))?;
        Ok(Self {
            http,
            url: endpoint(&config.base_url, "/audio/transcriptions"),
            api_key: config.api_key.clone(),
            model: config.model.clone(),
        })
    }

    /// The text spoken in `audio`; `file_name`'s extension tells the server the format.
    #[tracing::instrument(skip_all, fields(bytes = audio.len()))]
    pub async fn transcribe(
        &self,
        audio: Vec<u8>,
        file_name: &str,
    ) -> Result<String, TranscribeError> {
        let form = Form::new()
            .text("model", self.model.clone())
            .text("response_format", "json")
            .part("file", Part::bytes(audio).file_name(upload_name(file_name)));
        let mut request = self.http.post(&self.url).multipart(form);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key.expose_secret());
        }
        let response = request.send().await.map_err(classify)?;
        let status = response.status();
        if !status.is_success() {
            return Err(TranscribeError::Status(status.as_u16()));
        }
        let body = read_capped(response, MAX_ANSWER_BYTES).await?;
        let body: Transcription =
            serde_json::from_slice(&body).map_err(|_| TranscribeError::BadResponse)?;
        Ok(body.text.trim().to_string())
    }
}

/// The whole body of `response`, or [`TranscribeError::BadResponse`] once it passes `cap` bytes.
async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, TranscribeError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| match classify(e) {
        TranscribeError::Network => TranscribeError::BadResponse,
        other => other,
    })? {
        if body.len().saturating_add(chunk.len()) > cap {
            return Err(TranscribeError::BadResponse);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Whether transcription is set up: a key (`TRANSCRIBE_API_KEY` or `OPENAI_API_KEY`), or a base
/// URL other than OpenAI's (a local server needs no key). OpenAI without a key cannot work.
pub fn is_configured(config: &TranscribeConfig) -> bool {
    config.api_key.is_some() || config.base_url.host_str() != Some(OPENAI_HOST)
}

/// Telegram names voice files `.oga`; OpenAI accepts the same Ogg data only as `.ogg`.
fn upload_name(file_name: &str) -> String {
    match file_name.strip_suffix(".oga") {
        Some(stem) => format!("{stem}.ogg"),
        None if file_name.is_empty() => "voice.ogg".to_string(),
        None => file_name.to_string(),
    }
}

fn classify(e: reqwest::Error) -> TranscribeError {
    if e.is_timeout() {
        TranscribeError::Timeout
    } else if e.is_decode() {
        TranscribeError::BadResponse
    } else {
        TranscribeError::Network
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    fn config(base_url: &str, key: Option<&str>) -> TranscribeConfig {
        TranscribeConfig {
            base_url: Url::parse(base_url).unwrap(),
            api_key: key.map(|k| SecretString::from(k.to_string())),
            model: "whisper-1".into(),
        }
    }

    #[test]
    fn openai_without_a_key_is_not_configured() {
        assert!(!is_configured(&config("https://api.openai.com/v1", None)));
        assert!(is_configured(&config(
            "https://api.openai.com/v1",
            Some("k")
        )));
    }

    #[test]
    fn a_local_server_needs_no_key() {
        assert!(is_configured(&config("http://127.0.0.1:8080/v1", None)));
    }

    #[test]
    fn telegram_oga_files_are_uploaded_as_ogg() {
        assert_eq!(upload_name("file_3.oga"), "file_3.ogg");
        assert_eq!(upload_name("file_4.mp4"), "file_4.mp4");
        assert_eq!(upload_name(""), "voice.ogg");
    }
}
