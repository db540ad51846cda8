//! Google Calendar (REST v3) as a [`Calendar`]: the user's primary calendar through the Gmail
//! OAuth token (one consent for both; `calendar.events` scope). Events are listed with
//! `singleEvents=true` (Google expands recurring events), busy times come from `freeBusy`,
//! inserts carry an id derived from the event's uid so a repeat is Google's 409 and changes
//! nothing. An expired access token is refreshed once on a 401; a revoked grant or a token
//! without the calendar scope asks the user to connect again.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Mutex;
use url::Url;

use super::event::{Event, EventTime, NewEvent, sort_events};
use super::{Calendar, CalendarError};
use crate::config::GmailConfig;
use crate::gmail::{CALENDAR_SCOPE, GmailAuth, GmailError, StoredToken, TokenStore};
use crate::ids::UserId;
use crate::store::now_unix;

/// Timeout of every Calendar API call.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(20);
/// Largest answer read.
const MAX_BYTES: usize = 4 * 1024 * 1024;
/// Most events asked for in one list (Google's page limit is 2500).
const MAX_EVENTS: u32 = 250;

/// Whether a stored Google token was granted the calendar scope. A token whose scopes Google
/// did not say is tried (a missing scope then gets Google's 403, which asks to reconnect too).
pub fn has_calendar_scope(token: &StoredToken) -> bool {
    token
        .scope
        .as_deref()
        .is_none_or(|s| s.split_whitespace().any(|g| g == CALENDAR_SCOPE))
}

/// One user's primary Google Calendar.
pub struct GoogleCalendar {
    http: reqwest::Client,
    api: Url,
    gmail: GmailConfig,
    tokens: TokenStore,
    user_id: UserId,
    tz: Tz,
    token: Mutex<StoredToken>,
}

impl GoogleCalendar {
    /// The calendar of `user_id`, whose token is `token`, read for a user in `tz`.
    pub fn new(
        http: reqwest::Client,
        api: Url,
        gmail: GmailConfig,
        tokens: TokenStore,
        user_id: UserId,
        tz: Tz,
        token: StoredToken,
    ) -> Self {
        Self {
            http,
            api,
            gmail,
            tokens,
            user_id,
            tz,
            token: Mutex::new(token),
        }
    }

    fn url(&self, path: &str) -> Result<Url, CalendarError> {
        let base = self.api.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}/{path}"))
            .map_err(|_| CalendarError::BadResponse("invalid GOOGLE_CALENDAR_API_URL".into()))
    }

    /// Sends a request with the bearer token; on a 401 refreshes once and sends again.
    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<Value>,
    ) -> Result<(StatusCode, Vec<u8>), CalendarError> {
        let mut token = self.token.lock().await;
        if token.is_expired(now_unix()) {
            *token = self.refresh(&token).await?;
        }
        let mut refreshed = false;
        loop {
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(token.access_token.expose_secret());
            if let Some(body) = &body {
                request = request.json(body);
            }
            let mut response = request
                .send()
                .await
                .map_err(|e| CalendarError::network(&e))?;
            let status = response.status();
            if status == StatusCode::UNAUTHORIZED && !refreshed {
                tracing::info!(
                    user_id = %self.user_id,
                    "Google refused the access token; refreshing"
                );
                *token = self.refresh(&token).await?;
                refreshed = true;
                continue;
            }
            let mut bytes = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| CalendarError::network(&e))?
            {
                if bytes.len() + chunk.len() > MAX_BYTES {
                    return Err(CalendarError::BadResponse(
                        "the answer was too large".into(),
                    ));
                }
                bytes.extend_from_slice(&chunk);
            }
            return match status {
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    tracing::warn!(
                        user_id = %self.user_id,
                        status = status.as_u16(),
                        "Google Calendar refused the token: the user is asked to reconnect (a 403 \
                         that stays after that means the Calendar API is not enabled in the \
                         project of GOOGLE_CLIENT_SECRET_FILE)"
                    );
                    Err(CalendarError::Reconnect)
                }
                _ => Ok((status, bytes)),
            };
        }
    }

    async fn refresh(&self, token: &StoredToken) -> Result<StoredToken, CalendarError> {
        let google = |e: GmailError| match e {
            GmailError::ReconnectNeeded => CalendarError::Reconnect,
            other => CalendarError::Unreachable(other.to_string()),
        };
        let auth = GmailAuth::new(&self.gmail).map_err(google)?;
        let fresh = auth.refresh(token).await.map_err(google)?;
        self.tokens
            .save(self.user_id, &fresh)
            .await
            .map_err(google)?;
        Ok(fresh)
    }
}

fn ok(status: StatusCode) -> Result<(), CalendarError> {
    if status.is_success() {
        Ok(())
    } else {
        Err(CalendarError::BadResponse(format!(
            "HTTP {}",
            status.as_u16()
        )))
    }
}

#[derive(Deserialize)]
struct EventList {
    #[serde(default)]
    items: Vec<GEvent>,
}

#[derive(Deserialize)]
struct GEvent {
    #[serde(default)]
    id: String,
    #[serde(default)]
    summary: String,
    location: Option<String>,
    #[serde(default)]
    status: String,
    #[serde(default)]
    transparency: String,
    start: GTime,
    end: GTime,
}

#[derive(Deserialize)]
struct GTime {
    date: Option<NaiveDate>,
    #[serde(rename = "dateTime")]
    date_time: Option<DateTime<chrono::FixedOffset>>,
}

fn to_event(g: GEvent) -> Option<Event> {
    if g.status == "cancelled" {
        return None;
    }
    let time = match (g.start.date, g.end.date, g.start.date_time, g.end.date_time) {
        (Some(first), end, _, _) => EventTime::AllDay {
            first,
            last: end
                .filter(|e| *e > first)
                .map_or(first, |e| e - TimeDelta::days(1)),
        },
        (None, _, Some(start), end) => {
            let start = start.with_timezone(&Utc);
            let end = end.map_or(start, |e| e.with_timezone(&Utc)).max(start);
            EventTime::Timed { start, end }
        }
        _ => return None,
    };
    Some(Event {
        uid: g.id,
        title: g.summary.trim().to_string(),
        time,
        location: g
            .location
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty()),
        free: g.transparency == "transparent",
    })
}

/// A Google event id from our uid: Google allows base32hex characters (0-9, a-v), 5 to 1024.
fn google_id(uid: &str) -> String {
    let head = uid.split('@').next().unwrap_or(uid);
    head.chars()
        .map(|c| c.to_ascii_lowercase())
        .filter(|c| c.is_ascii_digit() || ('a'..='v').contains(c))
        .take(1024)
        .collect()
}

#[async_trait]
impl Calendar for GoogleCalendar {
    fn label(&self) -> &str {
        "Google Calendar"
    }

    async fn events(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Event>, CalendarError> {
        let mut url = self.url("calendars/primary/events")?;
        url.query_pairs_mut()
            .append_pair("timeMin", &from.to_rfc3339())
            .append_pair("timeMax", &to.to_rfc3339())
            .append_pair("singleEvents", "true")
            .append_pair("orderBy", "startTime")
            .append_pair("maxResults", &MAX_EVENTS.to_string());
        let (status, body) = self.send(Method::GET, url, None).await?;
        ok(status)?;
        let list: EventList = serde_json::from_slice(&body)
            .map_err(|_| CalendarError::BadResponse("event list".into()))?;
        let mut events: Vec<Event> = list
            .items
            .into_iter()
            .filter_map(to_event)
            .filter(|e| e.overlaps(from, to, self.tz))
            .collect();
        sort_events(&mut events, self.tz);
        Ok(events)
    }

    async fn busy(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, DateTime<Utc>)>, CalendarError> {
        #[derive(Deserialize)]
        struct Answer {
            calendars: std::collections::HashMap<String, Busy>,
        }
        #[derive(Deserialize)]
        struct Busy {
            #[serde(default)]
            busy: Vec<Interval>,
        }
        #[derive(Deserialize)]
        struct Interval {
            start: DateTime<Utc>,
            end: DateTime<Utc>,
        }
        let body = json!({"timeMin": from.to_rfc3339(), "timeMax": to.to_rfc3339(),
            "items": [{"id": "primary"}]});
        let (status, answer) = self
            .send(Method::POST, self.url("freeBusy")?, Some(body))
            .await?;
        ok(status)?;
        let answer: Answer = serde_json::from_slice(&answer)
            .map_err(|_| CalendarError::BadResponse("free/busy".into()))?;
        Ok(answer
            .calendars
            .into_values()
            .flat_map(|b| b.busy)
            .map(|i| (i.start.max(from), i.end.min(to)))
            .filter(|(s, e)| s < e)
            .collect())
    }

    async fn create(&self, event: &NewEvent) -> Result<bool, CalendarError> {
        let body = json!({
            "id": google_id(&event.uid),
            "summary": event.title,
            "start": {"dateTime": event.start.to_rfc3339()},
            "end": {"dateTime": event.end.to_rfc3339()},
        });
        let url = self.url("calendars/primary/events")?;
        match self.send(Method::POST, url, Some(body)).await?.0 {
            StatusCode::CONFLICT => Ok(false),
            status => ok(status).map(|()| true),
        }
    }

    async fn delete(&self, uid: &str) -> Result<bool, CalendarError> {
        let mut url = self.url("calendars/primary/events")?;
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.push(&google_id(uid));
        }
        match self.send(Method::DELETE, url, None).await?.0 {
            StatusCode::NOT_FOUND | StatusCode::GONE => Ok(false),
            status => ok(status).map(|()| true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_uids_become_valid_google_event_ids() {
        let id = google_id("0a1b2c3d4e5f67890a1b2c3d4e5f6789@minicrew");
        assert_eq!(id, "0a1b2c3d4e5f67890a1b2c3d4e5f6789");
        assert!(
            id.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='v').contains(&c))
        );
    }
}
