//! The HTTP side of web search: one reqwest client, a time limit on the whole request, no
//! redirects followed (Brave's key is a custom header that a redirect would carry anywhere), the
//! query as a properly encoded query parameter, and a body read up to a cap.

use std::time::Duration;

use reqwest::header::{ACCEPT, HeaderValue};
use reqwest::{Client, Response, StatusCode, redirect};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use url::Url;

use super::SearchError;
use super::results::Hit;
use super::wire::{Shape, parse};
use crate::config::SearchConfig;
use crate::tools::web_fetch::fetch::read_capped;

/// Time limit for one search, body included.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes of a results body read at most; a longer body is refused, not parsed cut.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Bytes of an error body read (enough for the error code).
const MAX_ERROR_BYTES: usize = 16 * 1024;

/// Runs searches against the configured backend.
#[derive(Debug, Clone)]
pub struct Searcher {
    client: Client,
    config: SearchConfig,
}

impl Searcher {
    /// Builds the client. The backend is the owner's choice (often on their own network), so no
    /// address guard applies as for web fetch; redirects are never followed.
    pub fn new(config: SearchConfig) -> Result<Self, SearchError> {
        let client = Client::builder()
            .redirect(redirect::Policy::none())
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .user_agent(concat!(
                "minicrew/",
                env!("CARGO_PKG_VERSION"),
                " (web search)"
            ))
            .build()
            .map_err(|e| SearchError::Client(e.to_string()))?;
        Ok(Self { client, config })
    }

    /// The first `max` results for `query`, all within [`TIMEOUT`].
    pub async fn search(&self, query: &str, max: usize) -> Result<Vec<Hit>, SearchError> {
        let shape = match &self.config {
            SearchConfig::SearxNg { .. } => Shape::SearxNg,
            SearchConfig::Brave { .. } => Shape::Brave,
            SearchConfig::Off => return Err(SearchError::NotConfigured),
        };
        let service = shape.service();
        let body = tokio::time::timeout(TIMEOUT, self.fetch(shape, query, max))
            .await
            .map_err(|_| SearchError::Timeout(service))??;
        tokio::task::spawn_blocking(move || parse(shape, &body, max))
            .await
            .map_err(|e| SearchError::Client(format!("result parsing stopped: {e}")))?
    }

    /// Sends the request and returns the success body.
    async fn fetch(&self, shape: Shape, query: &str, max: usize) -> Result<Vec<u8>, SearchError> {
        let service = shape.service();
        let request = match &self.config {
            SearchConfig::SearxNg { url } => self
                .client
                .get(endpoint(url, &["search"])?)
                .query(&[("q", query), ("format", "json")]),
            SearchConfig::Brave { url, api_key } => self
                .client
                .get(endpoint(url, &["res", "v1", "web", "search"])?)
                .query(&[("q", query), ("count", &max.to_string())])
                .header("X-Subscription-Token", key_header(api_key)?),
            SearchConfig::Off => return Err(SearchError::NotConfigured),
        };
        let mut response = request
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| SearchError::from_reqwest(service, &e))?;
        let status = response.status();
        if !status.is_success() {
            let body = read_capped(&mut response, MAX_ERROR_BYTES)
                .await
                .map(|(body, _)| body)
                .unwrap_or_default();
            tracing::info!(service, status = status.as_u16(), "web search refused");
            return Err(status_error(shape, status, &body));
        }
        read_body(service, &mut response).await
    }
}

/// Reads the whole body, or refuses it past [`MAX_BODY_BYTES`].
async fn read_body(service: &'static str, response: &mut Response) -> Result<Vec<u8>, SearchError> {
    let (body, cut) = read_capped(response, MAX_BODY_BYTES)
        .await
        .map_err(|_| SearchError::Unreachable(service))?;
    if cut {
        tracing::info!(service, "web search reply over the size cap");
        return Err(SearchError::TooLarge(service));
    }
    Ok(body)
}

/// `base` with `segments` added to its path (a base path such as `/searxng` is kept).
fn endpoint(base: &Url, segments: &[&str]) -> Result<Url, SearchError> {
    let mut url = base.clone();
    url.path_segments_mut()
        .map_err(|()| SearchError::Client("the search URL cannot take a path".into()))?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

/// The key as a header value marked sensitive, so no `Debug` output shows it.
fn key_header(key: &SecretString) -> Result<HeaderValue, SearchError> {
    let mut value = HeaderValue::from_str(key.expose_secret()).map_err(|_| SearchError::BadKey)?;
    value.set_sensitive(true);
    Ok(value)
}

/// What an unsuccessful status means for this service (Brave names the cause in `error.code`;
/// a bad key is a 422 there, not a 401).
fn status_error(shape: Shape, status: StatusCode, body: &[u8]) -> SearchError {
    let service = shape.service();
    let code = error_code(body);
    match (shape, status.as_u16(), code.as_deref()) {
        (_, s, _) if status.is_redirection() => SearchError::Redirect { service, status: s },
        (Shape::Brave, _, Some("SUBSCRIPTION_TOKEN_INVALID" | "SUBSCRIPTION_TOKEN_MISSING"))
        | (Shape::Brave, 401 | 403, _) => SearchError::BadKey,
        (Shape::Brave, 429, Some("QUOTA_LIMITED")) => SearchError::QuotaUsed,
        (Shape::SearxNg, 403, _) => SearchError::JsonDisabled,
        (_, 429, _) => SearchError::RateLimited(service),
        (_, s, _) => SearchError::Status { service, status: s },
    }
}

/// Brave's error code: `error.code`, or `errors[0].code` as its reference shows.
fn error_code(body: &[u8]) -> Option<String> {
    let doc: Value = serde_json::from_slice(body).ok()?;
    doc.pointer("/error/code")
        .or_else(|| doc.pointer("/errors/0/code"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_keep_a_base_path() {
        let base = Url::parse("https://host.example/searxng").unwrap();
        assert_eq!(
            endpoint(&base, &["search"]).unwrap().as_str(),
            "https://host.example/searxng/search"
        );
        let bare = Url::parse("https://api.search.brave.com").unwrap();
        assert_eq!(
            endpoint(&bare, &["res", "v1", "web", "search"])
                .unwrap()
                .as_str(),
            "https://api.search.brave.com/res/v1/web/search"
        );
    }

    #[test]
    fn statuses_map_to_clear_errors() {
        let s = |code: u16| StatusCode::from_u16(code).unwrap();
        let invalid = br#"{"type":"ErrorResponse","error":{"id":"x","status":422,"code":"SUBSCRIPTION_TOKEN_INVALID","detail":"The provided subscription token is invalid.","meta":{"component":"authentication"}},"time":1}"#;
        assert_eq!(
            status_error(Shape::Brave, s(422), invalid),
            SearchError::BadKey
        );
        assert_eq!(status_error(Shape::Brave, s(401), b""), SearchError::BadKey);
        let quota = br#"{"type":"ErrorResponse","errors":[{"code":"QUOTA_LIMITED","status":429}]}"#;
        assert_eq!(
            status_error(Shape::Brave, s(429), quota),
            SearchError::QuotaUsed
        );
        assert_eq!(
            status_error(Shape::Brave, s(429), b"{}"),
            SearchError::RateLimited("Brave Search")
        );
        assert_eq!(
            status_error(Shape::SearxNg, s(403), b"Forbidden"),
            SearchError::JsonDisabled
        );
        assert_eq!(
            status_error(Shape::SearxNg, s(302), b""),
            SearchError::Redirect {
                service: "SearXNG",
                status: 302
            }
        );
        assert_eq!(
            status_error(Shape::SearxNg, s(500), b""),
            SearchError::Status {
                service: "SearXNG",
                status: 500
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_service_that_never_answers_times_out_with_a_clear_error() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // Accepts and holds every connection, never answering.
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let config = SearchConfig::SearxNg {
            url: Url::parse(&format!("http://{addr}")).unwrap(),
        };
        let searcher = Searcher::new(config).unwrap();
        let started = tokio::time::Instant::now();
        let err = searcher.search("anything", 6).await.unwrap_err();
        assert_eq!(err, SearchError::Timeout("SearXNG"));
        assert_eq!(
            err.to_string(),
            "SearXNG did not answer within 10 seconds; try again in a moment."
        );
        assert!(started.elapsed() >= TIMEOUT && started.elapsed() < TIMEOUT * 2);
    }
}
