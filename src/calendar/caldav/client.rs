//! The CalDAV wire (RFC 4791 over WebDAV) on our reqwest client: discovery from a base URL
//! (`current-user-principal` → `calendar-home-set` → calendars, by `PROPFIND`), `REPORT
//! calendar-query` with a time range, `PUT` of one event with `If-None-Match: *`, `DELETE`.
//! Every call has a timeout and a cap on the answer's size; hrefs that point to another host are
//! refused, so the password never travels anywhere but the server the user named.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode, header};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::xml::{CALDAV, DAV, Response, el, parse_multistatus};
use crate::calendar::CalendarError;

/// Timeout of every CalDAV request.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(20);
/// Largest discovery answer read.
const MAX_PROPFIND_BYTES: usize = 1024 * 1024;
/// Largest `REPORT` answer read (a busy calendar's month is far below this).
const MAX_REPORT_BYTES: usize = 8 * 1024 * 1024;

/// A calendar collection found by discovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collection {
    /// Its URL (ends with `/`).
    pub url: Url,
    /// Its display name (the last path part when it has none).
    pub name: String,
}

/// One account on one CalDAV server. `Debug` never shows the password.
#[derive(Clone)]
pub struct CalDavClient {
    http: reqwest::Client,
    base: Url,
    username: String,
    password: SecretString,
}

impl std::fmt::Debug for CalDavClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CalDavClient")
            .field("base", &self.base.as_str())
            .field("password", &"[REDACTED]")
            .finish_non_exhaustive()
    }
}

impl CalDavClient {
    /// A client for `username` at `base`, over `http` (which carries the timeouts).
    pub fn new(http: reqwest::Client, base: Url, username: String, password: SecretString) -> Self {
        Self {
            http,
            base,
            username,
            password,
        }
    }

    /// The calendars of the account that hold events, in the server's order.
    #[tracing::instrument(skip_all, fields(host = self.base.host_str()))]
    pub async fn discover(&self) -> Result<Vec<Collection>, CalendarError> {
        let home = self.calendar_home().await?;
        let body = el("d:propfind")
            .with([el("d:prop").with([
                el("d:resourcetype"),
                el("d:displayname"),
                el("c:supported-calendar-component-set"),
            ])])
            .document();
        let responses = self.propfind(&home, "1", body).await?;
        let mut found = Vec::new();
        for r in responses {
            let is_calendar = r.prop(DAV, "resourcetype").is_some_and(|p| {
                p.children
                    .iter()
                    .any(|(ns, name)| ns == CALDAV && name == "calendar")
            });
            let holds_events = r
                .prop(CALDAV, "supported-calendar-component-set")
                .is_none_or(|p| p.comps.is_empty() || p.comps.iter().any(|c| c == "VEVENT"));
            if !(is_calendar && holds_events) {
                continue;
            }
            let mut url = self.resolve(&home, &r.href)?;
            if !url.path().ends_with('/') {
                url.set_path(&format!("{}/", url.path()));
            }
            let name = r
                .prop(DAV, "displayname")
                .map(|p| p.text.trim().to_string())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| last_segment(&url));
            found.push(Collection { url, name });
        }
        Ok(found)
    }

    /// The calendar home: from the principal named by the base URL (or `/.well-known/caldav`).
    async fn calendar_home(&self) -> Result<Url, CalendarError> {
        let principal_body = el("d:propfind")
            .with([el("d:prop").with([el("d:current-user-principal"), el("c:calendar-home-set")])])
            .document();
        let first = self.propfind(&self.base, "0", principal_body.clone()).await;
        let responses = match first {
            Ok(r) if principal_of(&r).is_some() || home_of(&r).is_some() => r,
            Ok(_) | Err(CalendarError::NotFound(_)) => {
                let known = self.resolve(&self.base, "/.well-known/caldav")?;
                self.propfind(&known, "0", principal_body).await?
            }
            Err(e) => return Err(e),
        };
        if let Some(home) = home_of(&responses) {
            return self.resolve(&self.base, &home);
        }
        let principal =
            principal_of(&responses).ok_or_else(|| CalendarError::NotFound(self.shown_base()))?;
        let principal = self.resolve(&self.base, &principal)?;
        let body = el("d:propfind")
            .with([el("d:prop").with([el("c:calendar-home-set")])])
            .document();
        let responses = self.propfind(&principal, "0", body).await?;
        let home = home_of(&responses).ok_or_else(|| CalendarError::NotFound(self.shown_base()))?;
        self.resolve(&principal, &home)
    }

    /// The calendar objects (iCalendar text) of `calendar` with an event in `[from, to)`.
    #[tracing::instrument(skip_all)]
    pub async fn query(
        &self,
        calendar: &Url,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<String>, CalendarError> {
        let stamp = |t: DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
        let range = el("c:time-range")
            .attr("start", stamp(from))
            .attr("end", stamp(to));
        let body =
            el("c:calendar-query")
                .with([
                    el("d:prop").with([el("d:getetag"), el("c:calendar-data")]),
                    el("c:filter").with([el("c:comp-filter")
                        .attr("name", "VCALENDAR")
                        .with([el("c:comp-filter").attr("name", "VEVENT").with([range])])]),
                ])
                .document();
        let method = Method::from_bytes(b"REPORT").map_err(|e| bad(e.to_string()))?;
        let (status, text) = self
            .send(method, calendar, Some("1"), body, MAX_REPORT_BYTES)
            .await?;
        expect_multistatus(status, self)?;
        let responses = parse_multistatus(&text).map_err(bad)?;
        Ok(responses
            .into_iter()
            .filter_map(|r| r.prop(CALDAV, "calendar-data").map(|p| p.text.clone()))
            .filter(|t| !t.trim().is_empty())
            .collect())
    }

    /// Stores `ics` as `<uid>.ics` in `calendar` unless that resource exists: `Ok(true)` when
    /// created, `Ok(false)` when it was there already (a repeated create changes nothing).
    #[tracing::instrument(skip_all)]
    pub async fn put_new(
        &self,
        calendar: &Url,
        uid: &str,
        ics: String,
    ) -> Result<bool, CalendarError> {
        let url = resource_url(calendar, uid);
        let response = self
            .authed(Method::PUT, &url)
            .header(header::CONTENT_TYPE, "text/calendar; charset=utf-8")
            .header(header::IF_NONE_MATCH, "*")
            .body(ics)
            .send()
            .await
            .map_err(|e| CalendarError::network(&e))?;
        match response.status() {
            s if s.is_success() => Ok(true),
            StatusCode::PRECONDITION_FAILED => Ok(false),
            s => Err(self.status_error(s)),
        }
    }

    /// Deletes `<uid>.ics` from `calendar`; `Ok(false)` when it was not there.
    #[tracing::instrument(skip_all)]
    pub async fn delete(&self, calendar: &Url, uid: &str) -> Result<bool, CalendarError> {
        let url = resource_url(calendar, uid);
        let response = self
            .authed(Method::DELETE, &url)
            .send()
            .await
            .map_err(|e| CalendarError::network(&e))?;
        match response.status() {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND | StatusCode::GONE => Ok(false),
            s => Err(self.status_error(s)),
        }
    }

    async fn propfind(
        &self,
        url: &Url,
        depth: &str,
        body: String,
    ) -> Result<Vec<Response>, CalendarError> {
        let method = Method::from_bytes(b"PROPFIND").map_err(|e| bad(e.to_string()))?;
        let (status, text) = self
            .send(method, url, Some(depth), body, MAX_PROPFIND_BYTES)
            .await?;
        expect_multistatus(status, self)?;
        parse_multistatus(&text).map_err(bad)
    }

    async fn send(
        &self,
        method: Method,
        url: &Url,
        depth: Option<&str>,
        body: String,
        cap: usize,
    ) -> Result<(StatusCode, String), CalendarError> {
        let mut request = self
            .authed(method, url)
            .header(header::CONTENT_TYPE, "application/xml; charset=utf-8")
            .body(body);
        if let Some(depth) = depth {
            request = request.header("Depth", depth);
        }
        let mut response = request
            .send()
            .await
            .map_err(|e| CalendarError::network(&e))?;
        let status = response.status();
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| CalendarError::network(&e))?
        {
            if bytes.len() + chunk.len() > cap {
                return Err(bad(format!(
                    "the answer was larger than {} MB",
                    cap / (1024 * 1024)
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
    }

    fn authed(&self, method: Method, url: &Url) -> reqwest::RequestBuilder {
        self.http
            .request(method, url.clone())
            .basic_auth(&self.username, Some(self.password.expose_secret()))
    }

    /// `href` against `base`, refused when it leaves the server the user named.
    fn resolve(&self, base: &Url, href: &str) -> Result<Url, CalendarError> {
        let url = base
            .join(href.trim())
            .map_err(|_| bad(format!("a bad href {href:?}")))?;
        if url.origin() != self.base.origin() {
            return Err(bad("it pointed to another host".into()));
        }
        Ok(url)
    }

    fn status_error(&self, status: StatusCode) -> CalendarError {
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => CalendarError::WrongPassword,
            StatusCode::NOT_FOUND => CalendarError::NotFound(self.shown_base()),
            s => bad(format!("HTTP {}", s.as_u16())),
        }
    }

    /// The base URL without any user name or password in it, for messages.
    fn shown_base(&self) -> String {
        let mut shown = self.base.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        shown.to_string()
    }
}

fn expect_multistatus(status: StatusCode, client: &CalDavClient) -> Result<(), CalendarError> {
    match status {
        StatusCode::MULTI_STATUS => Ok(()),
        s if s.is_success() => Err(bad(format!("HTTP {} instead of 207", s.as_u16()))),
        s => Err(client.status_error(s)),
    }
}

fn bad(reason: String) -> CalendarError {
    CalendarError::BadResponse(reason)
}

fn principal_of(responses: &[Response]) -> Option<String> {
    responses
        .iter()
        .find_map(|r| {
            r.prop(DAV, "current-user-principal")?
                .hrefs
                .first()
                .cloned()
        })
        .filter(|h| !h.is_empty())
}

fn home_of(responses: &[Response]) -> Option<String> {
    responses
        .iter()
        .find_map(|r| r.prop(CALDAV, "calendar-home-set")?.hrefs.first().cloned())
        .filter(|h| !h.is_empty())
}

/// `<calendar>/<uid>.ics`, the uid percent-encoded as one path segment.
fn resource_url(calendar: &Url, uid: &str) -> Url {
    let mut url = calendar.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().push(&format!("{uid}.ics"));
    }
    url
}

fn last_segment(url: &Url) -> String {
    url.path_segments()
        .and_then(|mut s| s.rfind(|p| !p.is_empty()))
        .unwrap_or("calendar")
        .to_string()
}
