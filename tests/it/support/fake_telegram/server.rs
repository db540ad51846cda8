//! The HTTP side: `POST /bot{token}/{Method}` with a JSON body, checked against api.json, with
//! queued faults applied, answered in Telegram's `{"ok": ..}` envelope (file downloads under
//! `/file/` are in `files.rs`). Every request becomes a
//! `Call`; every problem with it becomes a violation.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tokio::task::JoinHandle;

use super::methods::{self, ApiError, Reply};
use super::multipart::Upload;
use super::state::{Fault, Shared};
use super::updates::BOT_TOKEN;
use super::{files, messages, multipart, polling};
use crate::support::bot_api_spec::SPEC;

/// Binds 127.0.0.1 on a free port and serves the fake until the task is aborted.
pub async fn serve(shared: Arc<Shared>) -> (SocketAddr, JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("fake telegram: bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("fake telegram: bound address");
    let app = Router::new().fallback(handle).with_state(shared);
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .await
            .expect("fake telegram: serve");
    });
    (addr, task)
}

async fn handle(
    AxumState(shared): AxumState<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if uri.path().starts_with("/file/") {
        return files::serve(&shared, &method, uri.path());
    }
    match parse_request(&method, uri.path(), &headers, &body) {
        Ok((name, params, uploads)) => match call(&shared, &name, params, uploads).await {
            (reply, None) => envelope(reply),
            (reply, Some(fault)) => broken(reply, fault).await,
        },
        Err((name, problem, error)) => {
            shared.update(|state| {
                let index = state.begin_call(&name, &Value::Object(Map::new()));
                state.calls[index].status = Some(error.code);
                state.violations.push(problem);
            });
            envelope(Err(error))
        }
    }
}

type Rejection = (String, String, ApiError);
type Parsed = (String, Map<String, Value>, Vec<Upload>);

/// Method name (as sent) and JSON parameters, or a violation with Telegram's answer to it.
fn parse_request(
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Parsed, Rejection> {
    let not_found = || ApiError {
        code: 404,
        description: "Not Found".to_owned(),
        retry_after: None,
    };
    let Some((token, name)) = path.strip_prefix("/bot").and_then(|p| p.rsplit_once('/')) else {
        return Err((
            path.to_owned(),
            format!("request to unexpected path {path}"),
            not_found(),
        ));
    };
    // The api.json spelling (`sendMessage`) when known, as sent otherwise.
    let name = SPEC
        .method(name)
        .map_or(name, |m| m.name.as_str())
        .to_owned();
    if token != BOT_TOKEN {
        let unauthorized = ApiError {
            code: 401,
            description: "Unauthorized".to_owned(),
            retry_after: None,
        };
        return Err((
            name.clone(),
            format!("{name}: wrong bot token"),
            unauthorized,
        ));
    }
    if method != Method::POST {
        let problem = format!("{name}: sent as {method}, teloxide and minicrew POST");
        return Err((name, problem, ApiError::bad_request("use POST")));
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let parsed = if body.is_empty() {
        Some((Map::new(), Vec::new()))
    } else if content_type.starts_with("application/json") {
        serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .map(|params| (params, Vec::new()))
    } else if content_type.starts_with("multipart/form-data") {
        multipart::parse(content_type, body, SPEC.method(&name))
    } else {
        None
    };
    let Some((params, uploads)) = parsed else {
        let problem = format!("{name}: unreadable `{content_type}` body");
        return Err((name, problem, ApiError::bad_request("invalid request body")));
    };
    if SPEC.method(&name).is_none() {
        return Err((
            name.clone(),
            format!("unknown method `{name}`"),
            not_found(),
        ));
    }
    Ok((name, params, uploads))
}

/// Validates, applies a queued fault, answers, and records the call with its status. A fault
/// that breaks the answer of a call carried out comes back beside the answer.
async fn call(
    shared: &Shared,
    sent_name: &str,
    params: Map<String, Value>,
    uploads: Vec<Upload>,
) -> (Reply, Option<Fault>) {
    let spec = SPEC.method(sent_name).expect("checked by parse_request");
    let name = spec.name.as_str();
    let problems = SPEC.check_params(spec, &params);
    let (index, fault) = shared.update(|state| {
        let index = state.begin_call(name, &Value::Object(params.clone()));
        state.violations.extend(problems.iter().cloned());
        (index, state.take_fault(name))
    });
    let (before, after) = match fault {
        Some(Fault::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            (None, None)
        }
        Some(fault) if fault.takes_effect() => (None, Some(fault)),
        Some(fault) => (Some(fault_error(fault)), None),
        None => (None, None),
    };
    let reply = match (problems.first(), before) {
        (Some(problem), _) => Err(ApiError::bad_request(problem)),
        (None, Some(error)) => Err(error),
        (None, None) => answer(shared, name, &params, uploads).await,
    };
    let status = reply.as_ref().map_or_else(|e| e.code, |_| 200);
    shared.update(|state| state.calls[index].status = Some(status));
    (reply, after)
}

async fn answer(
    shared: &Shared,
    name: &str,
    params: &Map<String, Value>,
    uploads: Vec<Upload>,
) -> Reply {
    if name == "getUpdates" {
        polling::get_updates(shared, params).await
    } else if name == "sendDocument" || name == "sendPhoto" {
        shared.update(|state| messages::send_file(state, name, params, uploads))
    } else {
        shared.update(|state| methods::answer(state, name, params))
    }
}

/// The error a fault answers with instead of carrying the call out.
fn fault_error(fault: Fault) -> ApiError {
    match fault {
        Fault::TooManyRequests { retry_after } => ApiError {
            code: 429,
            description: format!("Too Many Requests: retry after {retry_after}"),
            retry_after: Some(retry_after),
        },
        Fault::CantParseEntities => ApiError::bad_request(
            "can't parse entities: Can't find end of the entity starting at byte offset 0",
        ),
        Fault::Status { code, description } => ApiError {
            code,
            description,
            retry_after: None,
        },
        Fault::Delay(_) | Fault::AnswerLate(_) | Fault::ResetMidResponse | Fault::MalformedJson => {
            unreachable!("faults that take effect are applied to the answer")
        }
    }
}

/// The answer to a call carried out, broken as `fault` says.
async fn broken(reply: Reply, fault: Fault) -> Response {
    let whole = envelope(reply);
    match fault {
        Fault::AnswerLate(delay) => {
            // The bot gives up before this; its connection is then closed under us.
            tokio::time::sleep(delay).await;
            whole
        }
        Fault::ResetMidResponse => {
            use futures::StreamExt as _;
            let head = Bytes::from_static(br#"{"ok":true,"result":{"#);
            // The pause lets the headers and the first bytes reach the bot before the reset
            // (an error at once would abort before anything is written).
            let cut = futures::stream::iter([Ok(head)]).chain(futures::stream::once(async {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "fake telegram: connection reset mid-response",
                ))
            }));
            (
                [(header::CONTENT_TYPE, "application/json")],
                Body::from_stream(cut),
            )
                .into_response()
        }
        Fault::MalformedJson => (
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"ok":true,"result":{"message_id":"#,
        )
            .into_response(),
        other => unreachable!("{other:?} does not break an answer"),
    }
}

/// Telegram's JSON envelope with the matching HTTP status.
fn envelope(reply: Reply) -> Response {
    match reply {
        Ok(result) => axum::Json(json!({"ok": true, "result": result})).into_response(),
        Err(error) => {
            let mut body = json!({
                "ok": false,
                "error_code": error.code,
                "description": error.description,
            });
            if let Some(seconds) = error.retry_after {
                body["parameters"] = json!({"retry_after": seconds});
            }
            let status = StatusCode::from_u16(error.code).unwrap_or(StatusCode::BAD_REQUEST);
            (status, axum::Json(body)).into_response()
        }
    }
}
