//! What the three provider clients share, so each provider file keeps only its wire format:
//! the settings and HTTP client, one POST with the key in the provider's header, a failed call
//! mapped to [`LlmError`] by the provider's own reader (whole or streamed), merging turns of one
//! role into one message, and call ids for answers that bring none.

use reqwest::RequestBuilder;
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::error::LlmError;
use super::http::{ErrorReply, PostError, endpoint, post_json, secret_header};
use super::stream::{Assemble, LIMITS, StreamObserver, post_sse};
use super::types::{LlmResponse, Tier};
use crate::config::ProviderConfig;

/// Where a provider wants its API key: header name and the text before the key.
#[derive(Debug, Clone, Copy)]
pub struct KeyHeader {
    /// Header name, e.g. `x-api-key`.
    pub name: &'static str,
    /// Written before the key, e.g. `Bearer `.
    pub prefix: &'static str,
}

/// Reads a provider's error body: the reply and the key to scrub from its message.
pub type Classify = fn(&ErrorReply, Option<&SecretString>) -> LlmError;

/// One provider's settings, HTTP client, key header and error reader.
pub struct ProviderCore {
    cfg: ProviderConfig,
    http: reqwest::Client,
    key_header: KeyHeader,
    classify: Classify,
}

impl ProviderCore {
    /// A core for `cfg` over `http` (which carries the timeouts); the key goes in `key_header`
    /// and non-success answers are read by `classify`.
    pub fn new(
        cfg: ProviderConfig,
        http: reqwest::Client,
        key_header: KeyHeader,
        classify: Classify,
    ) -> Self {
        Self {
            cfg,
            http,
            key_header,
            classify,
        }
    }

    /// The provider's settings.
    pub fn cfg(&self) -> &ProviderConfig {
        &self.cfg
    }

    /// The configured model id for `tier`.
    pub fn model(&self, tier: Tier) -> &str {
        self.cfg.model(tier)
    }

    /// Whether the model of `tier` accepts images (the owner's setting, else the guess).
    pub fn accepts_images(&self, tier: Tier) -> bool {
        super::vision::sees_images(self.cfg.kind, self.model(tier), self.cfg.vision)
    }

    /// A POST to `path` under the base URL, carrying the key when one is set.
    pub fn post(&self, path: &str) -> Result<RequestBuilder, LlmError> {
        let request = self.http.post(endpoint(&self.cfg.base_url, path));
        Ok(match &self.cfg.api_key {
            Some(key) => request.header(
                self.key_header.name,
                secret_header(key, self.key_header.prefix)?,
            ),
            None => request,
        })
    }

    /// Sends `body` and reads the whole answer as `W`, turned into a response by `decode`.
    pub async fn whole<W: DeserializeOwned>(
        &self,
        request: RequestBuilder,
        body: &Value,
        decode: impl FnOnce(W) -> Result<LlmResponse, LlmError>,
    ) -> Result<LlmResponse, LlmError> {
        match post_json::<W>(request, body).await {
            Ok(wire) => decode(wire),
            Err(e) => Err(self.failure(e)),
        }
    }

    /// Sends `body` and assembles the streamed answer; a server that answers whole is read as
    /// `W` by `decode`. Failures come back unread, for a provider that handles some refusals
    /// itself; [`ProviderCore::streamed`] reads them.
    pub async fn stream_raw<W: DeserializeOwned>(
        &self,
        request: RequestBuilder,
        body: &Value,
        assembler: Box<dyn Assemble + Send>,
        observer: &dyn StreamObserver,
        decode: impl Fn(W) -> Result<LlmResponse, LlmError> + Sync,
    ) -> Result<LlmResponse, PostError> {
        let whole = |bytes: &[u8]| match serde_json::from_slice::<W>(bytes) {
            Ok(wire) => decode(wire),
            Err(e) => Err(LlmError::Decode(e.to_string())),
        };
        post_sse(request, body, LIMITS, assembler, observer, &whole).await
    }

    /// [`ProviderCore::stream_raw`] with failures read into an [`LlmError`].
    pub async fn streamed<W: DeserializeOwned>(
        &self,
        request: RequestBuilder,
        body: &Value,
        assembler: Box<dyn Assemble + Send>,
        observer: &dyn StreamObserver,
        decode: impl Fn(W) -> Result<LlmResponse, LlmError> + Sync,
    ) -> Result<LlmResponse, LlmError> {
        self.stream_raw(request, body, assembler, observer, decode)
            .await
            .map_err(|e| self.failure(e))
    }

    /// A failed call as an [`LlmError`]: a non-success answer read by the provider's reader.
    pub fn failure(&self, error: PostError) -> LlmError {
        match error {
            PostError::Status(reply) => (self.classify)(&reply, self.cfg.api_key.as_ref()),
            PostError::Failed(err) => err,
        }
    }
}

/// Appends `items` as a message of `role`, under `key` (`content` for Claude, `parts` for
/// Gemini), merging into the previous message when it has the same role: both APIs want roles
/// to alternate, and stored history can hold two user lines in a row. Nothing is appended for
/// no items; which blank text counts as no item is each provider's own rule.
pub fn push_merged(messages: &mut Vec<Value>, role: &str, key: &str, items: Vec<Value>) {
    if items.is_empty() {
        return;
    }
    if let Some(last) = messages.last_mut()
        && last["role"] == role
        && let Some(existing) = last[key].as_array_mut()
    {
        existing.extend(items);
        return;
    }
    messages.push(json!({"role": role, key: items}));
}

/// A call id for an answer that sent none.
pub fn generated_call_id() -> String {
    format!("call_{:016x}", fastrand::u64(..))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_role_items_merge_and_empty_items_add_nothing() {
        let mut messages = Vec::new();
        push_merged(&mut messages, "user", "parts", vec![json!(1)]);
        push_merged(&mut messages, "user", "parts", vec![json!(2)]);
        push_merged(&mut messages, "model", "parts", Vec::new());
        push_merged(&mut messages, "model", "parts", vec![json!(3)]);
        assert_eq!(
            messages,
            vec![
                json!({"role": "user", "parts": [1, 2]}),
                json!({"role": "model", "parts": [3]}),
            ]
        );
    }

    #[test]
    fn generated_call_ids_have_one_shape_and_differ() {
        let (a, b) = (generated_call_id(), generated_call_id());
        assert!(a.starts_with("call_") && a.len() == 21, "{a}");
        assert_ne!(a, b);
    }
}
