//! Sending a request whose answer streams back as server-sent events, within bounds: an idle
//! timeout between chunks, a cap per event and on the whole stream. A non-success status is read
//! (bounded) and handed back for the provider to classify, exactly like a whole answer.

use reqwest::RequestBuilder;
use serde_json::Value;

use super::sse::SseDecoder;
use super::{Assemble, Flow, StreamLimits, StreamObserver, cut_off};
use crate::llm::error::LlmError;
use crate::llm::http::{ErrorReply, PostError};
use crate::llm::types::LlmResponse;

/// Most bytes of an error answer read for its message.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Decodes a whole (not streamed) answer body.
pub type DecodeWhole<'a> = &'a (dyn Fn(&[u8]) -> Result<LlmResponse, LlmError> + Sync);

/// Sends `body` and assembles the streamed answer with `assembler`, reporting text to
/// `observer` as it arrives. A server that answers whole although asked to stream (some
/// OpenAI-compatible servers do) is read with `whole`, its text reported at once.
pub async fn post_sse(
    request: RequestBuilder,
    body: &Value,
    limits: StreamLimits,
    mut assembler: Box<dyn Assemble + Send>,
    observer: &dyn StreamObserver,
    whole: DecodeWhole<'_>,
) -> Result<LlmResponse, PostError> {
    let failed = PostError::Failed;
    let mut response = request
        .header("accept", "text/event-stream")
        .json(body)
        .send()
        .await
        .map_err(|e| failed(LlmError::from_reqwest(e)))?;
    let status = response.status();
    if !status.is_success() {
        let headers = response.headers().clone();
        let mut bytes = Vec::new();
        while bytes.len() < MAX_ERROR_BODY {
            match next_chunk(&mut response, limits).await {
                Ok(Some(chunk)) => bytes.extend_from_slice(chunk.as_ref()),
                _ => break,
            }
        }
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        return Err(PostError::Status(ErrorReply {
            status,
            headers,
            body,
        }));
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !content_type.starts_with("text/event-stream") {
        let mut bytes = Vec::new();
        while let Some(chunk) = next_chunk(&mut response, limits).await.map_err(failed)? {
            bytes.extend_from_slice(chunk.as_ref());
            if bytes.len() > limits.max_total_bytes {
                return Err(failed(too_large(limits)));
            }
        }
        let answer = whole(&bytes).map_err(failed)?;
        observer.text(&answer.text);
        return Ok(answer);
    }
    let mut decoder = SseDecoder::new(limits.max_event_bytes);
    let mut events = Vec::new();
    let mut total = 0usize;
    while let Some(chunk) = next_chunk(&mut response, limits).await.map_err(failed)? {
        let chunk = chunk.as_ref();
        total = total.saturating_add(chunk.len());
        if total > limits.max_total_bytes {
            return Err(failed(too_large(limits)));
        }
        decoder
            .push(chunk, &mut events)
            .map_err(|e| failed(LlmError::Decode(e.to_string())))?;
        for event in events.drain(..) {
            if assembler.event(&event.data, observer).map_err(failed)? == Flow::Done {
                return assembler.finish().map_err(failed);
            }
        }
    }
    assembler.finish().map_err(failed)
}

/// The next chunk of the body; silence over `limits.idle` is a timeout, a broken connection a
/// cut-off stream (both retried).
async fn next_chunk(
    response: &mut reqwest::Response,
    limits: StreamLimits,
) -> Result<Option<impl AsRef<[u8]>>, LlmError> {
    match tokio::time::timeout(limits.idle, response.chunk()).await {
        Err(_) => Err(LlmError::Timeout),
        Ok(Ok(chunk)) => Ok(chunk),
        Ok(Err(e)) if e.is_timeout() => Err(LlmError::Timeout),
        Ok(Err(e)) => {
            tracing::debug!(error = %e.without_url(), "answer stream broke");
            Err(cut_off())
        }
    }
}

fn too_large(limits: StreamLimits) -> LlmError {
    LlmError::Decode(format!(
        "the answer is over {} bytes",
        limits.max_total_bytes
    ))
}
