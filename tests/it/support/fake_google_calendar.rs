//! The Google Calendar API v3 part of the fake Google (same server, tokens and 401s as Gmail):
//! `calendars/primary/events` list (timeMin/timeMax, singleEvents), insert (a client-chosen
//! `id` twice is 409 like Google), delete (410 once gone), and `freeBusy`. A token granted
//! without the `calendar.events` scope gets Google's 403 for insufficient scopes.

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;

use super::fake_google::{FakeState, Shared, authorize, unauthorized};

const CALENDAR_SCOPE: &str = "https://www.googleapis.com/auth/calendar.events";

/// The calendar routes, merged into the fake Google's router.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/calendar/v3/calendars/primary/events",
            get(list).post(insert),
        )
        .route(
            "/calendar/v3/calendars/primary/events/{id}",
            axum::routing::delete(delete),
        )
        .route("/calendar/v3/freeBusy", post(free_busy))
}

/// `None` when the call may go on; otherwise Google's answer (401 or 403).
fn check(s: &mut FakeState, headers: &HeaderMap) -> Option<Response> {
    if !authorize(s, headers) {
        return Some(unauthorized());
    }
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let granted = s.scopes.get(bearer).cloned().unwrap_or_default();
    if !granted.split(' ').any(|g| g == CALENDAR_SCOPE) {
        let body = json!({"error": {"code": 403, "status": "PERMISSION_DENIED",
            "message": "Request had insufficient authentication scopes.",
            "errors": [{"reason": "insufficientPermissions"}]}});
        return Some((StatusCode::FORBIDDEN, Json(body)).into_response());
    }
    None
}

fn error(status: StatusCode, reason: &str, message: &str) -> Response {
    let body = json!({"error": {"code": status.as_u16(), "message": message,
        "errors": [{"domain": "global", "reason": reason, "message": message}]}});
    (status, Json(body)).into_response()
}

/// The instants an event covers (all-day dates as UTC midnights).
fn span(event: &Value) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let at = |v: &Value| -> Option<DateTime<Utc>> {
        if let Some(t) = v["dateTime"].as_str() {
            return DateTime::parse_from_rfc3339(t)
                .ok()
                .map(|t| t.with_timezone(&Utc));
        }
        let day = NaiveDate::parse_from_str(v["date"].as_str()?, "%Y-%m-%d").ok()?;
        Some(day.and_hms_opt(0, 0, 0)?.and_utc())
    };
    Some((at(&event["start"])?, at(&event["end"])?))
}

fn bound(q: &HashMap<String, String>, key: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(q.get(key)?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

async fn list(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut s = state.lock().unwrap();
    if let Some(refused) = check(&mut s, &headers) {
        return refused;
    }
    let (Some(min), Some(max)) = (bound(&q, "timeMin"), bound(&q, "timeMax")) else {
        return error(StatusCode::BAD_REQUEST, "badRequest", "Bad Request");
    };
    let items: Vec<Value> = s
        .calendar_events
        .iter()
        .filter(|e| span(e).is_some_and(|(start, end)| start < max && end > min))
        .cloned()
        .collect();
    Json(
        json!({"kind": "calendar#events", "summary": "bea.reader@example.com",
        "timeZone": "Europe/Berlin", "items": items}),
    )
    .into_response()
}

async fn insert(
    State(state): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut s = state.lock().unwrap();
    if let Some(refused) = check(&mut s, &headers) {
        return refused;
    }
    if span(&body).is_none() || body["summary"].as_str().is_none() {
        return error(
            StatusCode::BAD_REQUEST,
            "required",
            "Missing start, end or summary.",
        );
    }
    let id = match body["id"].as_str() {
        Some(id) => id.to_string(),
        None => format!("gen{}", s.calendar_events.len() + 1),
    };
    if s.calendar_events.iter().any(|e| e["id"] == json!(id)) {
        return error(
            StatusCode::CONFLICT,
            "duplicate",
            "The requested identifier already exists.",
        );
    }
    let mut event = body.clone();
    event["id"] = json!(id);
    event["status"] = json!("confirmed");
    event["kind"] = json!("calendar#event");
    s.calendar_events.push(event.clone());
    Json(event).into_response()
}

async fn delete(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let mut s = state.lock().unwrap();
    if let Some(refused) = check(&mut s, &headers) {
        return refused;
    }
    let before = s.calendar_events.len();
    s.calendar_events.retain(|e| e["id"] != json!(id));
    if s.calendar_events.len() == before {
        return error(StatusCode::GONE, "deleted", "Resource has been deleted");
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn free_busy(
    State(state): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut s = state.lock().unwrap();
    if let Some(refused) = check(&mut s, &headers) {
        return refused;
    }
    let parse = |k: &str| {
        DateTime::parse_from_rfc3339(body[k].as_str().unwrap_or(""))
            .ok()
            .map(|t| t.with_timezone(&Utc))
    };
    let (Some(min), Some(max)) = (parse("timeMin"), parse("timeMax")) else {
        return error(StatusCode::BAD_REQUEST, "badRequest", "Bad Request");
    };
    let busy: Vec<Value> = s
        .calendar_events
        .iter()
        .filter(|e| e["start"]["dateTime"].is_string() && e["transparency"] != json!("transparent"))
        .filter_map(span)
        .filter(|(start, end)| *start < max && *end > min)
        .map(|(start, end)| json!({"start": start.max(min).to_rfc3339(), "end": end.min(max).to_rfc3339()}))
        .collect();
    Json(
        json!({"kind": "calendar#freeBusy", "timeMin": body["timeMin"], "timeMax": body["timeMax"],
        "calendars": {"primary": {"busy": busy}}}),
    )
    .into_response()
}
