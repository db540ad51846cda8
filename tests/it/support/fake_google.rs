//! Fake Google on 127.0.0.1: the OAuth token endpoint (authorization_code with a real PKCE S256
//! check, refresh_token, an invalid_grant mode), the revoke endpoint, and the Gmail API
//! (`users/me/messages` list and get, `users/me/profile`) with realistic payloads and Google's
//! error bodies, and the Calendar API (`fake_google_calendar.rs`). Each consent is given by one
//! Google account, whose address the profile names.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use url::Url;

pub const CLIENT_ID: &str = "1234-fake.apps.googleusercontent.com";
pub const CLIENT_SECRET: &str = "GOCSPX-fake-client-secret";
/// The Google account [`FakeGoogle::approve`] consents as.
pub const DEFAULT_ACCOUNT: &str = "bea.reader@example.com";

/// An authorization code the test "approved" as the browser.
#[derive(Clone)]
struct Grant {
    challenge: String,
    redirect_uri: String,
    account: String,
    scope: String,
}

/// Everything the fake saw and the knobs a test turns.
#[derive(Default)]
pub struct FakeState {
    codes: HashMap<String, Grant>,
    /// Refresh tokens the fake accepts.
    pub refresh_tokens: HashSet<String>,
    /// Access tokens the Gmail API accepts.
    pub access_tokens: HashSet<String>,
    /// Answer every refresh with `invalid_grant`.
    pub invalid_grant: bool,
    /// Answer the next Gmail call with 401 even for a valid token.
    pub fail_next_with_401: bool,
    /// Statuses the next Gmail API calls (list or get) answer with, in order, each with
    /// Gmail's error body (403 `PERMISSION_DENIED`, 5xx `backendError`, ...).
    pub gmail_faults: std::collections::VecDeque<u16>,
    /// `grant_type` of every token request, in order.
    pub grants: Vec<String>,
    /// Tokens posted to /revoke.
    pub revoked: Vec<String>,
    /// `(q, maxResults)` of every list call.
    pub list_queries: Vec<(String, String)>,
    /// Bearer token of every Gmail call, in order.
    pub bearers: Vec<String>,
    /// Messages by id, listed in insertion order.
    pub messages: Vec<(String, Value)>,
    /// The Google account of each access and refresh token issued.
    pub accounts: HashMap<String, String>,
    /// The scopes granted with each access and refresh token.
    pub scopes: HashMap<String, String>,
    /// Consent grants Gmail only (as for a user who connected before Calendar was asked).
    pub grant_gmail_only: bool,
    /// Google Calendar events of the primary calendar (Calendar API v3 resources).
    pub calendar_events: Vec<Value>,
    /// Bearer token of every `users/me/profile` call, in order.
    pub profile_calls: Vec<String>,
    counter: u32,
}

impl FakeState {
    fn next(&mut self) -> u32 {
        self.counter += 1;
        self.counter
    }
}

pub(super) type Shared = Arc<Mutex<FakeState>>;

/// A running fake; stops when dropped.
pub struct FakeGoogle {
    pub base: Url,
    state: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeGoogle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeGoogle {
    pub async fn start() -> Self {
        let state: Shared = Arc::default();
        let app = Router::new()
            .route("/token", post(token))
            .route("/revoke", post(revoke))
            .route("/gmail/v1/users/me/profile", get(profile))
            .route("/gmail/v1/users/me/messages", get(list))
            .route("/gmail/v1/users/me/messages/{id}", get(get_message))
            .merge(super::fake_google_calendar::routes())
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { base, state, task }
    }

    pub fn state(&self) -> MutexGuard<'_, FakeState> {
        self.state.lock().unwrap()
    }

    /// The env keys that point the app at this fake: the client file (written into `dir`), the
    /// token folder in `dir`, and Gmail, consent and token URLs.
    pub fn env(&self, dir: &std::path::Path) -> Vec<(&'static str, String)> {
        let secret_file = dir.join("credentials.json");
        std::fs::write(&secret_file, Self::client_secret_json()).unwrap();
        vec![
            (
                "GOOGLE_CLIENT_SECRET_FILE",
                secret_file.display().to_string(),
            ),
            (
                "CREDENTIALS_DIR",
                dir.join("credentials").display().to_string(),
            ),
            ("GMAIL_API_URL", self.base.to_string()),
            (
                "GOOGLE_CALENDAR_API_URL",
                self.base.join("/calendar/v3").unwrap().to_string(),
            ),
            (
                "GOOGLE_AUTH_URL",
                self.base.join("/auth").unwrap().to_string(),
            ),
            (
                "GOOGLE_TOKEN_URL",
                self.base.join("/token").unwrap().to_string(),
            ),
        ]
    }

    /// The client file Google Cloud downloads for a Desktop app.
    pub fn client_secret_json() -> String {
        json!({"installed": {
            "client_id": CLIENT_ID, "project_id": "minicrew-test",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": "https://oauth2.googleapis.com/token",
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_secret": CLIENT_SECRET, "redirect_uris": ["http://localhost"]}})
        .to_string()
    }

    /// Plays Google's consent page: checks the consent URL and returns a code bound to its PKCE
    /// challenge and redirect URI.
    pub fn approve(&self, consent_url: &Url) -> String {
        self.approve_as(consent_url, DEFAULT_ACCOUNT)
    }

    /// Like [`FakeGoogle::approve`], signed in to Google as `account`.
    pub fn approve_as(&self, consent_url: &Url, account: &str) -> String {
        let q: HashMap<String, String> = consent_url.query_pairs().into_owned().collect();
        assert_eq!(q["client_id"], CLIENT_ID);
        assert_eq!(q["response_type"], "code");
        assert_eq!(
            q["scope"],
            "https://www.googleapis.com/auth/gmail.readonly https://www.googleapis.com/auth/calendar.events"
        );
        assert_eq!(q["access_type"], "offline");
        assert_eq!(q["prompt"], "consent");
        assert_eq!(q["code_challenge_method"], "S256");
        assert!(q["state"].len() >= 16, "state must be random");
        let mut s = self.state();
        let code = format!("4/0Acode-{}", s.next());
        let grant = Grant {
            challenge: q["code_challenge"].clone(),
            redirect_uri: q["redirect_uri"].clone(),
            account: account.to_string(),
            scope: if s.grant_gmail_only {
                "https://www.googleapis.com/auth/gmail.readonly".to_string()
            } else {
                q["scope"].clone()
            },
        };
        s.codes.insert(code.clone(), grant);
        code
    }

    /// Forgets every access token issued, as when they expire at Google: the next Gmail call
    /// gets 401 and works again after a refresh.
    pub fn expire_access_tokens(&self) {
        self.state().access_tokens.clear();
    }

    /// Makes the next Gmail API call answer `status` with Gmail's error body.
    pub fn fail_next_gmail(&self, status: u16) {
        self.state().gmail_faults.push_back(status);
    }

    pub fn add_message(&self, id: &str, payload: Value) {
        let message = json!({"id": id, "threadId": format!("t-{id}"), "labelIds": ["INBOX", "UNREAD"],
            "snippet": "snippet", "internalDate": "1741000000000", "sizeEstimate": 1234, "payload": payload});
        self.state().messages.push((id.to_string(), message));
    }
}

/// An `application/x-www-form-urlencoded` body (axum's `form` feature is off in this crate).
fn parse_form(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn google_error(status: StatusCode, error: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": "fake"})),
    )
        .into_response()
}

async fn token(State(state): State<Shared>, body: Bytes) -> Response {
    let form = parse_form(&body);
    let mut s = state.lock().unwrap();
    let grant_type = form.get("grant_type").cloned().unwrap_or_default();
    s.grants.push(grant_type.clone());
    if form.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || form.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
    {
        return google_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    match grant_type.as_str() {
        "authorization_code" => {
            let Some(grant) = form.get("code").and_then(|c| s.codes.remove(c)) else {
                return google_error(StatusCode::BAD_REQUEST, "invalid_grant");
            };
            let verifier = form.get("code_verifier").cloned().unwrap_or_default();
            let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if challenge != grant.challenge || form.get("redirect_uri") != Some(&grant.redirect_uri)
            {
                return google_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            let n = s.next();
            let (access, refresh) = (format!("ya29.access-{n}"), format!("1//refresh-secret-{n}"));
            s.access_tokens.insert(access.clone());
            s.refresh_tokens.insert(refresh.clone());
            s.accounts.insert(access.clone(), grant.account.clone());
            s.accounts.insert(refresh.clone(), grant.account);
            s.scopes.insert(access.clone(), grant.scope.clone());
            s.scopes.insert(refresh.clone(), grant.scope.clone());
            Json(
                json!({"access_token": access, "expires_in": 3599, "refresh_token": refresh,
                "scope": grant.scope, "token_type": "Bearer"}),
            )
            .into_response()
        }
        "refresh_token" => {
            let known = form
                .get("refresh_token")
                .is_some_and(|t| s.refresh_tokens.contains(t));
            if s.invalid_grant || !known {
                return google_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            let access = format!("ya29.access-{}", s.next());
            s.access_tokens.insert(access.clone());
            if let Some(account) = form.get("refresh_token").and_then(|t| s.accounts.get(t)) {
                let account = account.clone();
                s.accounts.insert(access.clone(), account);
            }
            let scope = form
                .get("refresh_token")
                .and_then(|t| s.scopes.get(t))
                .cloned()
                .unwrap_or_else(|| "https://www.googleapis.com/auth/gmail.readonly".to_string());
            s.scopes.insert(access.clone(), scope.clone());
            Json(json!({"access_token": access, "expires_in": 3599,
                "scope": scope, "token_type": "Bearer"}))
            .into_response()
        }
        _ => google_error(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    }
}

async fn revoke(State(state): State<Shared>, body: Bytes) -> Response {
    let form = parse_form(&body);
    let mut s = state.lock().unwrap();
    let token = form.get("token").cloned().unwrap_or_default();
    if !s.refresh_tokens.remove(&token) {
        return google_error(StatusCode::BAD_REQUEST, "invalid_token");
    }
    s.revoked.push(token);
    StatusCode::OK.into_response()
}

/// Checks the bearer token like Gmail does; false means answer with [`unauthorized`].
pub(super) fn authorize(s: &mut FakeState, headers: &HeaderMap) -> bool {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string();
    s.bearers.push(bearer.clone());
    let forced = std::mem::take(&mut s.fail_next_with_401);
    !forced && s.access_tokens.contains(&bearer)
}

/// Gmail's error body for a queued fault.
fn gmail_error(status: u16) -> Response {
    let (reason, message) = match status {
        403 => (
            "PERMISSION_DENIED",
            "Request had insufficient authentication scopes.",
        ),
        429 => ("RESOURCE_EXHAUSTED", "Quota exceeded."),
        500..=599 => ("INTERNAL", "Backend Error"),
        _ => ("FAILED_PRECONDITION", "Precondition check failed."),
    };
    let body = json!({"error": {"code": status, "status": reason, "message": message}});
    let code = StatusCode::from_u16(status).unwrap();
    (code, Json(body)).into_response()
}

/// Gmail's 401 body.
pub(super) fn unauthorized() -> Response {
    let body = json!({"error": {"code": 401, "status": "UNAUTHENTICATED",
        "message": "Request had invalid authentication credentials."}});
    (StatusCode::UNAUTHORIZED, Json(body)).into_response()
}

async fn list(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut s = state.lock().unwrap();
    if !authorize(&mut s, &headers) {
        return unauthorized();
    }
    if let Some(status) = s.gmail_faults.pop_front() {
        return gmail_error(status);
    }
    let query = (
        q.get("q").cloned().unwrap_or_default(),
        q.get("maxResults").cloned().unwrap_or_default(),
    );
    s.list_queries.push(query);
    let ids: Vec<Value> = s
        .messages
        .iter()
        .map(|(id, _)| json!({"id": id, "threadId": format!("t-{id}")}))
        .collect();
    if ids.is_empty() {
        return Json(json!({"resultSizeEstimate": 0})).into_response();
    }
    Json(json!({"resultSizeEstimate": ids.len(), "messages": ids})).into_response()
}

async fn get_message(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut s = state.lock().unwrap();
    if !authorize(&mut s, &headers) {
        return unauthorized();
    }
    if let Some(status) = s.gmail_faults.pop_front() {
        return gmail_error(status);
    }
    if q.get("format").map(String::as_str) != Some("full") {
        return google_error(StatusCode::BAD_REQUEST, "format must be full");
    }
    match s.messages.iter().find(|(m, _)| *m == id) {
        Some((_, message)) => Json(message.clone()).into_response(),
        None => google_error(StatusCode::NOT_FOUND, "notFound"),
    }
}

/// `users.getProfile`, in Gmail's wire format. Not recorded in `bearers` (those are mail reads).
async fn profile(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let mut s = state.lock().unwrap();
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string();
    s.profile_calls.push(bearer.clone());
    if !s.access_tokens.contains(&bearer) {
        return unauthorized();
    }
    let account = s
        .accounts
        .get(&bearer)
        .cloned()
        .unwrap_or_else(|| DEFAULT_ACCOUNT.to_string());
    Json(
        json!({"emailAddress": account, "messagesTotal": 1520, "threadsTotal": 1207,
        "historyId": "802196"}),
    )
    .into_response()
}
