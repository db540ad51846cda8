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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::body::{Body, Bytes};
    use axum::response::{IntoResponse, Response};
    use futures::StreamExt as _;

    use super::*;
    use crate::llm::stream::Unobserved;
    use crate::llm::stream::openai::OpenAiStream;

    const TIGHT: StreamLimits = StreamLimits {
        idle: Duration::from_millis(300),
        max_event_bytes: 1024,
        max_total_bytes: 4096,
    };

    /// Serves `make()` for every request on a local port; returns the URL.
    async fn serve(make: fn() -> Response) -> String {
        let app = axum::Router::new().fallback(move || async move { make() });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/")
    }

    fn sse(chunks: impl futures::Stream<Item = String> + Send + 'static) -> Response {
        let body = Body::from_stream(chunks.map(|c| Ok::<_, std::io::Error>(Bytes::from(c))));
        let mut response = body.into_response();
        response.headers_mut().insert(
            "content-type",
            axum::http::HeaderValue::from_static("text/event-stream"),
        );
        response
    }

    fn whole(_: &[u8]) -> Result<LlmResponse, LlmError> {
        Err(LlmError::Decode("whole answer".into()))
    }

    async fn call(url: &str) -> Result<LlmResponse, PostError> {
        let request = reqwest::Client::new().post(url);
        let assembler = OpenAiStream::new("m");
        post_sse(request, &Value::Null, TIGHT, assembler, &Unobserved, &whole).await
    }

    fn error_of(result: Result<LlmResponse, PostError>) -> LlmError {
        match result {
            Err(PostError::Failed(e)) => e,
            Err(PostError::Status(reply)) => panic!("status {}", reply.status),
            Ok(r) => panic!("answered {r:?}"),
        }
    }

    #[tokio::test]
    async fn a_stream_that_goes_silent_times_out_between_chunks() {
        let url = serve(|| {
            let first = futures::stream::iter([
                "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n".to_string(),
            ]);
            sse(first.chain(futures::stream::pending()))
        })
        .await;
        let started = std::time::Instant::now();
        assert_eq!(error_of(call(&url).await), LlmError::Timeout);
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[tokio::test]
    async fn a_stream_over_the_total_cap_is_refused() {
        let url = serve(|| {
            let event = "data: {\"choices\":[{\"delta\":{\"content\":\"xxxxxxxxxx\"}}]}\n\n";
            sse(futures::stream::iter(vec![event.to_string(); 500]))
        })
        .await;
        let error = error_of(call(&url).await);
        assert!(
            matches!(error, LlmError::Decode(ref m) if m.contains("over 4096")),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_line_over_the_event_cap_is_refused() {
        let url = serve(|| {
            sse(futures::stream::iter([
                "data: ".to_string() + &"x".repeat(2000)
            ]))
        })
        .await;
        let error = error_of(call(&url).await);
        assert!(
            matches!(error, LlmError::Decode(ref m) if m.contains("1024")),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_stream_that_ends_early_is_a_retryable_cut_not_an_answer() {
        let url = serve(|| {
            sse(futures::stream::iter([
                "data: {\"choices\":[{\"delta\":{\"content\":\"half\"}}]}\n\n".to_string(),
            ]))
        })
        .await;
        assert!(error_of(call(&url).await).is_retryable());
    }

    #[tokio::test]
    async fn an_answer_that_did_not_stream_is_read_whole_and_an_error_status_is_returned() {
        let url = serve(|| axum::Json(serde_json::json!({"choices": []})).into_response()).await;
        assert_eq!(
            error_of(call(&url).await),
            LlmError::Decode("whole answer".into()),
            "the provider's whole-answer decoder read it"
        );
        let url = serve(|| {
            (
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                axum::Json(serde_json::json!({"error": {"message": "slow down"}})),
            )
                .into_response()
        })
        .await;
        match call(&url).await {
            Err(PostError::Status(reply)) => {
                assert_eq!(reply.status, 429);
                assert_eq!(reply.body["error"]["message"], "slow down");
            }
            _ => panic!("a status for the provider to classify"),
        }
    }
}
