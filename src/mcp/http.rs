//! rmcp's streamable-HTTP client transport over our own reqwest 0.12 client. rmcp's built-in
//! reqwest transport needs reqwest 0.13 (a second HTTP and TLS stack in the binary), so this
//! implements its [`StreamableHttpClient`] trait instead: POST a JSON-RPC message (the answer is
//! JSON or an SSE stream), GET the server's SSE stream, DELETE the session.
//!
//! Bounds: a connect timeout; each POST (including an SSE answer streamed back) within the
//! request timeout; JSON bodies, error bodies and single SSE events capped in size; redirects not
//! followed (headers such as a bearer token never go to another host). Header values are never
//! logged or put in an error.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{BoxStream, StreamExt};
use http::{HeaderName, HeaderValue};
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::common::http_header::{
    EVENT_STREAM_MIME_TYPE, HEADER_LAST_EVENT_ID, HEADER_SESSION_ID, JSON_MIME_TYPE,
};
use rmcp::transport::streamable_http_client::{
    SseError, StreamableHttpClient, StreamableHttpError, StreamableHttpPostResponse,
    StreamableHttpResponseLimits,
};
use sse_stream::{Sse, SseStream};

/// The error type our client reports to rmcp.
type HttpError = StreamableHttpError<reqwest::Error>;

/// A reqwest 0.12 client that speaks MCP's streamable HTTP.
#[derive(Clone, Debug)]
pub struct McpHttpClient {
    client: reqwest::Client,
    request_timeout: Duration,
}

impl McpHttpClient {
    /// A client with these timeouts (rustls, no redirects).
    pub fn new(connect_timeout: Duration, request_timeout: Duration) -> reqwest::Result<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("minicrew/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            request_timeout,
        })
    }

    fn with_headers(
        builder: reqwest::RequestBuilder,
        auth: Option<String>,
        custom: HashMap<HeaderName, HeaderValue>,
    ) -> reqwest::RequestBuilder {
        let mut builder = builder;
        if let Some(token) = auth {
            builder = builder.bearer_auth(token);
        }
        for (name, value) in custom {
            builder = builder.header(name, value);
        }
        builder
    }
}

/// Whether the `Content-Type` value's essence is `expected` (parameters ignored).
fn media_type_is(value: &[u8], expected: &str) -> bool {
    value
        .split(|b| *b == b';')
        .next()
        .and_then(|essence| std::str::from_utf8(essence).ok())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(expected))
}

/// The body, read up to `max` bytes; larger is an error.
async fn read_bounded(response: reqwest::Response, max: usize) -> Result<Vec<u8>, HttpError> {
    if response.content_length().is_some_and(|n| n > max as u64) {
        return Err(StreamableHttpError::ResponseBodyTooLarge { max_size: max });
    }
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| StreamableHttpError::Client(e.without_url()))?;
        if body.len() + chunk.len() > max {
            return Err(StreamableHttpError::ResponseBodyTooLarge { max_size: max });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// An SSE stream whose events may not exceed `max_event` raw bytes: the bytes since the last
/// blank line are counted, and a stream that exceeds the bound ends with an error.
fn bounded_sse(
    response: reqwest::Response,
    max_event: usize,
) -> BoxStream<'static, Result<Sse, SseError>> {
    let mut since_boundary = 0usize;
    let bytes = response.bytes_stream().map(move |chunk| {
        let chunk = chunk?;
        since_boundary = match last_event_end(&chunk) {
            Some(at) => chunk.len() - at,
            None => since_boundary + chunk.len(),
        };
        if since_boundary > max_event {
            return Err(BodyError::TooLarge(max_event));
        }
        Ok(chunk)
    });
    SseStream::from_bytes_stream(bytes).boxed()
}

/// Where the last event of `chunk` ends (just after a blank line: `\n\n` or `\n\r\n`).
fn last_event_end(chunk: &[u8]) -> Option<usize> {
    (1..chunk.len()).rev().find_map(|i| {
        let blank = chunk[i] == b'\n'
            && (chunk[i - 1] == b'\n'
                || (i >= 2 && chunk[i - 1] == b'\r' && chunk[i - 2] == b'\n'));
        blank.then_some(i + 1)
    })
}

/// Errors of the byte stream under the SSE parser.
#[derive(Debug, thiserror::Error)]
enum BodyError {
    /// The connection failed while reading.
    #[error("reading the response failed: {0}")]
    Read(#[from] reqwest::Error),
    /// One event was larger than allowed.
    #[error("an SSE event exceeded the maximum size of {0} bytes")]
    TooLarge(usize),
}

impl StreamableHttpClient for McpHttpClient {
    type Error = reqwest::Error;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<StreamableHttpPostResponse, HttpError> {
        self.post_message_with_response_limits(
            uri,
            message,
            session_id,
            auth_header,
            custom_headers,
            StreamableHttpResponseLimits::default(),
        )
        .await
    }

    async fn post_message_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<StreamableHttpPostResponse, HttpError> {
        let mut limits = StreamableHttpResponseLimits::default();
        limits.max_sse_event_size = max_sse_event_size;
        self.post_message_with_response_limits(
            uri,
            message,
            session_id,
            auth_header,
            custom_headers,
            limits,
        )
        .await
    }

    async fn post_message_with_response_limits(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        limits: StreamableHttpResponseLimits,
    ) -> Result<StreamableHttpPostResponse, HttpError> {
        let accept = format!("{EVENT_STREAM_MIME_TYPE}, {JSON_MIME_TYPE}");
        let mut request = self
            .client
            .post(uri.as_ref())
            .timeout(self.request_timeout)
            .header(reqwest::header::ACCEPT, accept);
        request = Self::with_headers(request, auth_header, custom_headers);
        let had_session = session_id.is_some();
        if let Some(session) = session_id {
            request = request.header(HEADER_SESSION_ID, session.as_ref());
        }
        let response = request
            .json(&message)
            .send()
            .await
            .map_err(|e| StreamableHttpError::Client(e.without_url()))?;
        let status = response.status();
        if matches!(
            status,
            reqwest::StatusCode::ACCEPTED | reqwest::StatusCode::NO_CONTENT
        ) {
            return Ok(StreamableHttpPostResponse::Accepted);
        }
        if status == reqwest::StatusCode::NOT_FOUND && had_session {
            return Err(StreamableHttpError::SessionExpired);
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .map(|v| v.as_bytes().to_vec());
        let session = response
            .headers()
            .get(HEADER_SESSION_ID)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let is_json = content_type
            .as_deref()
            .is_some_and(|ct| media_type_is(ct, JSON_MIME_TYPE));
        if !status.is_success() {
            if is_json {
                let body = read_bounded(response, limits.max_json_response_size).await?;
                if let Ok(message @ ServerJsonRpcMessage::Error(_)) =
                    serde_json::from_slice::<ServerJsonRpcMessage>(&body)
                {
                    return Ok(StreamableHttpPostResponse::Json(message, session));
                }
            }
            return Err(StreamableHttpError::UnexpectedServerResponse(Cow::Owned(
                format!("HTTP {status}"),
            )));
        }
        match content_type.as_deref() {
            Some(ct) if media_type_is(ct, EVENT_STREAM_MIME_TYPE) => {
                Ok(StreamableHttpPostResponse::Sse(
                    bounded_sse(response, limits.max_sse_event_size),
                    session,
                ))
            }
            Some(ct) if media_type_is(ct, JSON_MIME_TYPE) => {
                let body = read_bounded(response, limits.max_json_response_size).await?;
                let message: ServerJsonRpcMessage = serde_json::from_slice(&body)?;
                Ok(StreamableHttpPostResponse::Json(message, session))
            }
            other => Err(StreamableHttpError::UnexpectedContentType(
                other.map(|ct| String::from_utf8_lossy(ct).chars().take(100).collect()),
            )),
        }
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<(), HttpError> {
        let request = self
            .client
            .delete(uri.as_ref())
            .timeout(self.request_timeout)
            .header(HEADER_SESSION_ID, session_id.as_ref());
        let response = Self::with_headers(request, auth_header, custom_headers)
            .send()
            .await
            .map_err(|e| StreamableHttpError::Client(e.without_url()))?;
        if response.status() == reqwest::StatusCode::METHOD_NOT_ALLOWED {
            return Ok(());
        }
        response
            .error_for_status()
            .map(|_| ())
            .map_err(|e| StreamableHttpError::Client(e.without_url()))
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, HttpError> {
        self.get_stream_with_max_sse_event_size(
            uri,
            session_id,
            last_event_id,
            auth_header,
            custom_headers,
            StreamableHttpResponseLimits::default().max_sse_event_size,
        )
        .await
    }

    async fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, HttpError> {
        // The server's own stream stays open for as long as the session lives: no request
        // timeout here, only the connect timeout and the event size bound.
        let accept = format!("{EVENT_STREAM_MIME_TYPE}, {JSON_MIME_TYPE}");
        let mut request = self
            .client
            .get(uri.as_ref())
            .header(reqwest::header::ACCEPT, accept);
        if let Some(session) = session_id {
            request = request.header(HEADER_SESSION_ID, session.as_ref());
        }
        if let Some(id) = last_event_id {
            request = request.header(HEADER_LAST_EVENT_ID, id);
        }
        let response = Self::with_headers(request, auth_header, custom_headers)
            .send()
            .await
            .map_err(|e| StreamableHttpError::Client(e.without_url()))?;
        if response.status() == reqwest::StatusCode::METHOD_NOT_ALLOWED {
            return Err(StreamableHttpError::ServerDoesNotSupportSse);
        }
        if !response.status().is_success() {
            return Err(StreamableHttpError::UnexpectedServerResponse(Cow::Owned(
                format!("HTTP {}", response.status()),
            )));
        }
        let event_stream = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .is_some_and(|ct| media_type_is(ct.as_bytes(), EVENT_STREAM_MIME_TYPE));
        if !event_stream {
            return Err(StreamableHttpError::UnexpectedContentType(None));
        }
        Ok(bounded_sse(response, max_sse_event_size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ends_are_found_after_blank_lines() {
        assert_eq!(last_event_end(b"data: a\n\ndata: b"), Some(9));
        assert_eq!(last_event_end(b"data: a\r\n\r\nx"), Some(11));
        assert_eq!(last_event_end(b"data: a\ndata: b\n"), None);
    }

    #[test]
    fn media_types_match_on_their_essence() {
        assert!(media_type_is(
            b"text/event-stream; charset=utf-8",
            EVENT_STREAM_MIME_TYPE
        ));
        assert!(media_type_is(b"Application/JSON", JSON_MIME_TYPE));
        assert!(!media_type_is(b"application/jsonx", JSON_MIME_TYPE));
    }
}
