//! A fake OpenAI-compatible speech-to-text server on 127.0.0.1 (port 0):
//! `POST /v1/audio/transcriptions` with a multipart form (`file`, `model`, ...), answered with
//! `{"text": ...}` or a scripted error status. Records every request's form for assertions.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use url::Url;

/// One canned answer.
#[derive(Debug, Clone)]
pub enum SttReply {
    /// `{"text": ...}`.
    Text(String),
    /// An error status with OpenAI's error body.
    Status(u16),
    /// Wait, then answer.
    Delayed(Duration, Box<SttReply>),
}

/// One recorded request.
#[derive(Debug, Clone)]
pub struct SttRequest {
    /// Path as received.
    pub path: String,
    /// The `Authorization` header ("" when absent).
    pub authorization: String,
    /// Text fields of the form (`model`, `response_format`, ...).
    pub fields: HashMap<String, String>,
    /// `filename` of the `file` part.
    pub file_name: Option<String>,
    /// Content of the `file` part.
    pub file: Option<Vec<u8>>,
}

#[derive(Default)]
struct Shared {
    script: Mutex<VecDeque<SttReply>>,
    requests: Mutex<Vec<SttRequest>>,
}

/// A running fake; the server task lives as long as the test's runtime.
#[derive(Clone)]
pub struct FakeStt {
    shared: Arc<Shared>,
    addr: std::net::SocketAddr,
}

impl FakeStt {
    /// Starts the fake on a free local port.
    pub async fn start() -> Self {
        let shared = Arc::new(Shared::default());
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { shared, addr }
    }

    /// The base URL for `TRANSCRIBE_BASE_URL` (`http://127.0.0.1:PORT/v1`).
    pub fn base_url(&self) -> Url {
        Url::parse(&format!("http://{}/v1", self.addr)).unwrap()
    }

    /// Queues answers, given in order (an empty queue answers 500).
    pub fn script(&self, replies: impl IntoIterator<Item = SttReply>) {
        self.shared.script.lock().unwrap().extend(replies);
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<SttRequest> {
        self.shared.requests.lock().unwrap().clone()
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut request = SttRequest {
        path: uri.path().to_owned(),
        authorization: text(header::AUTHORIZATION),
        fields: HashMap::new(),
        file_name: None,
        file: None,
    };
    for part in parse_multipart(&text(header::CONTENT_TYPE), &body) {
        if part.name == "file" {
            request.file_name = part.file_name;
            request.file = Some(part.content);
        } else {
            let value = String::from_utf8_lossy(&part.content).into_owned();
            request.fields.insert(part.name, value);
        }
    }
    let valid = request.path == "/v1/audio/transcriptions" && request.file.is_some();
    shared.requests.lock().unwrap().push(request);
    if !valid {
        return (
            StatusCode::BAD_REQUEST,
            "expected a file at /audio/transcriptions",
        )
            .into_response();
    }
    let mut reply = shared
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(SttReply::Status(500));
    while let SttReply::Delayed(wait, inner) = reply {
        tokio::time::sleep(wait).await;
        reply = *inner;
    }
    match reply {
        SttReply::Text(text) => axum::Json(json!({"text": text})).into_response(),
        SttReply::Status(status) => {
            let body =
                json!({"error": {"message": format!("fake {status}"), "type": "server_error"}});
            (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
        }
        SttReply::Delayed(..) => unreachable!("unwrapped above"),
    }
}

struct Part {
    name: String,
    file_name: Option<String>,
    content: Vec<u8>,
}

/// The parts of a `multipart/form-data` body, byte-exact (audio is not UTF-8).
fn parse_multipart(content_type: &str, body: &[u8]) -> Vec<Part> {
    let Some(boundary) = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
    else {
        return Vec::new();
    };
    let delimiter = format!("\r\n--{}", boundary.trim_matches('"')).into_bytes();
    // Prefix a CRLF so the first delimiter looks like the others.
    let body = [b"\r\n".as_slice(), body].concat();
    let mut parts = Vec::new();
    for section in split(&body, &delimiter).into_iter().skip(1) {
        if section.starts_with(b"--") {
            break;
        }
        let Some(head_end) = find(section, b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&section[..head_end]);
        let Some(name) = quoted(&head, "name") else {
            continue;
        };
        parts.push(Part {
            name,
            file_name: quoted(&head, "filename"),
            content: section[head_end + 4..].to_vec(),
        });
    }
    parts
}

fn quoted(head: &str, key: &str) -> Option<String> {
    let start = head.find(&format!(" {key}=\""))? + key.len() + 3;
    let len = head[start..].find('"')?;
    Some(head[start..start + len].to_owned())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn split<'a>(mut rest: &'a [u8], delimiter: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    while let Some(at) = find(rest, delimiter) {
        out.push(&rest[..at]);
        rest = &rest[at + delimiter.len()..];
    }
    out.push(rest);
    out
}
