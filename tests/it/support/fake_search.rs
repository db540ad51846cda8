//! Fake web search services on 127.0.0.1 (port 0) in their real JSON shapes: SearXNG's
//! `GET /search?q=…&format=json` (403 for any other format, as an instance without JSON output
//! answers) and Brave's `GET /res/v1/web/search?q=…&count=N`, which checks `X-Subscription-Token`
//! and answers a wrong key with its 422 `SUBSCRIPTION_TOKEN_INVALID` error body. Each records
//! every request and can be told to misbehave (an error status, an endless body, broken JSON).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use url::Url;

/// Which service a fake is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// A SearXNG instance with JSON output enabled.
    SearxNg,
    /// The Brave Search API.
    Brave,
}

/// One result the fake returns: title, URL, snippet (Brave's description may hold `<strong>`).
#[derive(Debug, Clone)]
pub struct Hit {
    pub title: String,
    pub url: String,
    pub snippet: String,
}

/// A result.
pub fn hit(title: &str, url: &str, snippet: &str) -> Hit {
    Hit {
        title: title.to_string(),
        url: url.to_string(),
        snippet: snippet.to_string(),
    }
}

/// How the fake answers the next searches.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// 200 with these results in the service's shape.
    Results(Vec<Hit>),
    /// This status with the service's error body (Brave: `ErrorResponse` with `code`).
    Error { status: u16, code: &'static str },
    /// 200 with a JSON content type and a body that never ends.
    Endless,
    /// 200 with a JSON content type and JSON cut off mid-object.
    Malformed,
}

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Path and raw query as received.
    pub uri: String,
    /// The decoded query parameters.
    pub params: Vec<(String, String)>,
    /// Request headers.
    pub headers: HeaderMap,
}

impl Recorded {
    /// A decoded query parameter ("" when absent).
    pub fn param(&self, name: &str) -> &str {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// A header as text ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

struct Shared {
    service: Service,
    key: Mutex<String>,
    behaviour: Mutex<Behaviour>,
    requests: Mutex<Vec<Recorded>>,
}

/// A running fake search service.
#[derive(Clone)]
pub struct FakeSearch {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

impl FakeSearch {
    /// A fake SearXNG instance.
    pub async fn searxng() -> Self {
        Self::start(Service::SearxNg, "").await
    }

    /// A fake Brave Search API accepting only `key`.
    pub async fn brave(key: &str) -> Self {
        Self::start(Service::Brave, key).await
    }

    async fn start(service: Service, key: &str) -> Self {
        let shared = Arc::new(Shared {
            service,
            key: Mutex::new(key.to_string()),
            behaviour: Mutex::new(Behaviour::Results(Vec::new())),
            requests: Mutex::new(Vec::new()),
        });
        let path = match service {
            Service::SearxNg => "/search",
            Service::Brave => "/res/v1/web/search",
        };
        let app = axum::Router::new()
            .route(path, axum::routing::get(handle))
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { shared, addr }
    }

    /// The base URL to configure (`SEARXNG_URL` or `BRAVE_SEARCH_URL`).
    pub fn base_url(&self) -> Url {
        Url::parse(&format!("http://{}", self.addr)).unwrap()
    }

    /// Sets how the following searches are answered.
    pub fn answer(&self, behaviour: Behaviour) {
        *self.shared.behaviour.lock().unwrap() = behaviour;
    }

    /// From now on accepts `key` (Brave only).
    pub fn accept_key(&self, key: &str) {
        *self.shared.key.lock().unwrap() = key.to_string();
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    Query(params): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let recorded = Recorded {
        uri: uri.to_string(),
        params,
        headers,
    };
    shared.requests.lock().unwrap().push(recorded.clone());
    let query = recorded.param("q").to_string();
    match shared.service {
        Service::SearxNg if recorded.param("format") != "json" => {
            return (StatusCode::FORBIDDEN, "Forbidden").into_response();
        }
        Service::Brave
            if recorded.header("x-subscription-token") != *shared.key.lock().unwrap() =>
        {
            return brave_error(422, "SUBSCRIPTION_TOKEN_INVALID");
        }
        _ => {}
    }
    let behaviour = shared.behaviour.lock().unwrap().clone();
    match (behaviour, shared.service) {
        (Behaviour::Results(hits), Service::SearxNg) => json_ok(searxng_body(&query, &hits)),
        (Behaviour::Results(hits), Service::Brave) => {
            let count = recorded.param("count").parse().unwrap_or(20);
            let hits: Vec<Hit> = hits.into_iter().take(count).collect();
            json_ok(brave_body(&query, &hits))
        }
        (Behaviour::Error { status, code }, Service::Brave) => brave_error(status, code),
        (Behaviour::Error { status, .. }, Service::SearxNg) => {
            let status = StatusCode::from_u16(status).unwrap();
            (status, status.canonical_reason().unwrap_or("")).into_response()
        }
        (Behaviour::Endless, _) => {
            let chunk = Bytes::from(format!(r#"{{"title":"{}"}},"#, "x".repeat(64 * 1024)));
            let opening = futures::stream::once(async { Ok(Bytes::from(r#"{"results":["#)) });
            let rest = futures::stream::repeat_with(move || Ok::<_, Infallible>(chunk.clone()));
            use futures::StreamExt;
            let body = Body::from_stream(opening.chain(rest));
            ([(CONTENT_TYPE, "application/json")], body).into_response()
        }
        (Behaviour::Malformed, _) => (
            [(CONTENT_TYPE, "application/json")],
            r#"{"query":"q","results":[{"title":"cut off"#,
        )
            .into_response(),
    }
}

fn json_ok(body: Value) -> Response {
    ([(CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// SearXNG's `format=json` answer.
fn searxng_body(query: &str, hits: &[Hit]) -> Value {
    let results: Vec<Value> = hits
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let parsed = Url::parse(&h.url).ok();
            json!({
                "url": h.url,
                "title": h.title,
                "content": h.snippet,
                "engine": "duckduckgo",
                "parsed_url": [
                    parsed.as_ref().map_or("", |u| u.scheme()),
                    parsed.as_ref().and_then(|u| u.host_str()).unwrap_or(""),
                    parsed.as_ref().map_or("", |u| u.path()),
                    "", "", ""
                ],
                "template": "default.html",
                "engines": ["duckduckgo", "brave"],
                "positions": [i + 1],
                "publishedDate": null,
                "thumbnail": "",
                "score": 2.0 / (i as f64 + 1.0),
                "category": "general"
            })
        })
        .collect();
    json!({
        "query": query,
        "number_of_results": 0,
        "results": results,
        "answers": [],
        "corrections": [],
        "infoboxes": [],
        "suggestions": [format!("{query} release")],
        "unresponsive_engines": []
    })
}

/// Brave's `WebSearchApiResponse`.
fn brave_body(query: &str, hits: &[Hit]) -> Value {
    let results: Vec<Value> = hits
        .iter()
        .map(|h| {
            let parsed = Url::parse(&h.url).ok();
            let host = parsed.as_ref().and_then(|u| u.host_str()).unwrap_or("");
            json!({
                "title": h.title,
                "url": h.url,
                "is_source_local": false,
                "is_source_both": false,
                "description": h.snippet,
                "page_age": "2025-02-20T00:00:00",
                "profile": {"name": host, "url": h.url, "long_name": host, "img": ""},
                "language": "en",
                "family_friendly": true,
                "type": "search_result",
                "subtype": "generic",
                "is_live": false,
                "meta_url": {
                    "scheme": parsed.as_ref().map_or("", |u| u.scheme()),
                    "netloc": host,
                    "hostname": host,
                    "favicon": "",
                    "path": parsed.as_ref().map_or("", |u| u.path())
                }
            })
        })
        .collect();
    let main: Vec<Value> = (0..hits.len())
        .map(|i| json!({"type": "web", "index": i, "all": false}))
        .collect();
    let mut body = json!({
        "type": "search",
        "query": {
            "original": query,
            "show_strict_warning": false,
            "is_navigational": false,
            "is_news_breaking": false,
            "spellcheck_off": true,
            "country": "us",
            "bad_results": false,
            "should_fallback": false,
            "postal_code": "",
            "city": "",
            "header_country": "",
            "more_results_available": true,
            "state": ""
        },
        "mixed": {"type": "mixed", "main": main, "top": [], "side": []}
    });
    // Brave leaves `web` out when it found nothing.
    if !hits.is_empty() {
        body["web"] = json!({"type": "search", "results": results, "family_friendly": true});
    }
    body
}

/// Brave's error body for `status` and `code`.
fn brave_error(status: u16, code: &str) -> Response {
    let detail = match code {
        "SUBSCRIPTION_TOKEN_INVALID" => "The provided subscription token is invalid.",
        "RATE_LIMITED" => "Request rate limit exceeded for plan.",
        "QUOTA_LIMITED" => "Request quota limit exceeded for plan.",
        _ => "Unexpected error.",
    };
    let body = json!({
        "type": "ErrorResponse",
        "error": {
            "id": "5d832250-9396-4f6e-b84a-2a1fe524cd7d",
            "status": status,
            "code": code,
            "detail": detail,
            "meta": {"component": if code == "SUBSCRIPTION_TOKEN_INVALID" { "authentication" } else { "rate_limiter" }}
        },
        "time": 1_663_072_993
    });
    (
        StatusCode::from_u16(status).unwrap(),
        [(CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
