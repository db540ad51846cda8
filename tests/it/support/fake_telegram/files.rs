//! File downloads: `GET /file/bot{token}/{file_path}`, the URL getFile's `file_path` is fetched
//! from. teloxide percent-encodes the path as one segment (`voice%2Ffile_1.oga`); Telegram
//! accepts both spellings, so the fake decodes it. Every download is recorded.

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::state::Shared;
use super::updates::BOT_TOKEN;

/// Answers a request under `/file/`: the bytes, 404 for an unknown path, 401 for a wrong token
/// (recorded as a violation, like any call with a wrong token).
pub fn serve(shared: &Shared, method: &Method, path: &str) -> Response {
    let Some((token, file_path)) = path
        .strip_prefix("/file/bot")
        .and_then(|p| p.split_once('/'))
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let file_path = percent_decode(file_path);
    shared.update(|state| {
        if token != BOT_TOKEN {
            let problem = format!("file download of {file_path}: wrong bot token");
            state.violations.push(problem);
            return StatusCode::UNAUTHORIZED.into_response();
        }
        if method != Method::GET {
            let problem = format!("file download of {file_path}: sent as {method}, not GET");
            state.violations.push(problem);
            return StatusCode::METHOD_NOT_ALLOWED.into_response();
        }
        state.downloads.push(file_path.clone());
        match state.files.values().find(|f| f.path == file_path) {
            Some(file) => file.bytes.clone().into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        }
    })
}

/// `%XX` escapes decoded (file paths are ASCII; anything malformed is kept as is).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(byte) if bytes[i] == b'%' => {
                out.push(byte);
                i += 3;
            }
            _ => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
