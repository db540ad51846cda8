//! HTTP plumbing shared by the providers: the client with timeouts, endpoint joining,
//! sending a JSON body, and reading `retry-after`.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{RequestBuilder, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use super::error::LlmError;
use super::retry::{LONGEST_SERVER_WAIT, server_wait};

/// Longest connect phase, whatever the request timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A reqwest client for LLM calls: `timeout` bounds each whole request (connect, send, read).
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(CONNECT_TIMEOUT))
        .user_agent(concat!("minicrew/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// `base` + `path`, whether or not `base` ends in a slash (`Url` prints a bare host as `host/`).
pub fn endpoint(base: &Url, path: &str) -> String {
    format!("{}{}", base.as_str().trim_end_matches('/'), path)
}

/// A header value holding a secret, marked sensitive so no `Debug` output shows it.
pub fn secret_header(secret: &SecretString, prefix: &str) -> Result<HeaderValue, LlmError> {
    let mut value =
        HeaderValue::from_str(&format!("{prefix}{}", secret.expose_secret())).map_err(|_| {
            LlmError::BadRequest {
                status: 0,
                message: "the API key contains characters not allowed in an HTTP header".into(),
            }
        })?;
    value.set_sensitive(true);
    Ok(value)
}

/// A non-success answer: status, headers and the raw body, for the provider to classify.
pub struct ErrorReply {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers (`retry-after`).
    pub headers: HeaderMap,
    /// Body parsed as JSON, or `Value::Null` when it was not JSON.
    pub body: Value,
}

/// Why [`post_json`] did not return a decoded answer.
pub enum PostError {
    /// The server answered with a non-success status: the provider classifies it.
    Status(ErrorReply),
    /// Transport or decoding failed: already classified.
    Failed(LlmError),
}

/// Sends `body` as JSON and decodes a 2xx answer into `T`.
pub async fn post_json<T: DeserializeOwned>(
    request: RequestBuilder,
    body: &Value,
) -> Result<T, PostError> {
    let failed = |e| PostError::Failed(LlmError::from_reqwest(e));
    let response = request.json(body).send().await.map_err(failed)?;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| PostError::Failed(body_error(e)))?;
    if status.is_success() {
        return serde_json::from_slice(&bytes)
            .map_err(|e| PostError::Failed(LlmError::Decode(e.to_string())));
    }
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Err(PostError::Status(ErrorReply {
        status,
        headers,
        body,
    }))
}

/// A failure while reading an answer's body. reqwest calls it a decode error, but it is the
/// connection breaking (or the time running out) mid-answer, so the same call may well succeed
/// again: it is a network error (retried), not an answer of the wrong shape (not retried).
fn body_error(e: reqwest::Error) -> LlmError {
    if e.is_timeout() {
        LlmError::Timeout
    } else {
        LlmError::Network(format!("the answer was cut off ({})", e.without_url()))
    }
}

/// The wait a server asked for: `retry-after-ms`, or `retry-after` in seconds or as an HTTP date.
///
/// Any header value is safe: numbers go through [`server_wait`] (`1e20` and `inf` become the
/// longest wait, which makes the router fall back; `-1`, `NaN` are no hint), a date in the past
/// is no wait, and text that is neither a number nor a date is no hint (`None`).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = get("retry-after-ms").and_then(|v| v.parse::<f64>().ok())
        && let Some(wait) = server_wait(ms / 1000.0)
    {
        return Some(wait);
    }
    let raw = get("retry-after")?;
    if let Ok(secs) = raw.parse::<f64>() {
        return server_wait(secs);
    }
    let date = chrono::DateTime::parse_from_rfc2822(raw).ok()?;
    let wait = date.signed_duration_since(chrono::Utc::now());
    Some(
        wait.to_std()
            .map_or(Duration::ZERO, |w| w.min(LONGEST_SERVER_WAIT)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_joins_with_and_without_trailing_slash() {
        let bare = Url::parse("https://api.anthropic.com").unwrap();
        assert_eq!(
            endpoint(&bare, "/v1/messages"),
            "https://api.anthropic.com/v1/messages"
        );
        let v1 = Url::parse("http://localhost:11434/v1").unwrap();
        assert_eq!(
            endpoint(&v1, "/chat/completions"),
            "http://localhost:11434/v1/chat/completions"
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_milliseconds() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", "1500".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_millis(1500)));
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    fn after(value: &str) -> Option<Duration> {
        let mut h = HeaderMap::new();
        h.insert("retry-after", value.parse().unwrap());
        retry_after(&h)
    }

    #[test]
    fn hostile_retry_after_values_are_bounded_or_ignored() {
        for huge in [
            "1e20",
            "inf",
            "Infinity",
            "1e308",
            "99999999999999999999999",
        ] {
            assert_eq!(after(huge), Some(LONGEST_SERVER_WAIT), "{huge}");
        }
        for junk in ["-1", "NaN", "-inf", "soon", "", "1,5", "0x10"] {
            assert_eq!(after(junk), None, "{junk:?}");
        }
        assert_eq!(after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        assert_eq!(
            after("Fri, 31 Dec 9999 23:59:59 GMT"),
            Some(LONGEST_SERVER_WAIT)
        );
        let mut h = HeaderMap::new();
        h.insert("retry-after-ms", "1e300".parse().unwrap());
        assert_eq!(retry_after(&h), Some(LONGEST_SERVER_WAIT));
        h.insert("retry-after-ms", "-5".parse().unwrap());
        h.insert("retry-after", "3".parse().unwrap());
        assert_eq!(
            retry_after(&h),
            Some(Duration::from_secs(3)),
            "a bad retry-after-ms falls through to retry-after"
        );
    }
}
