//! The loopback redirect of the installed-app flow: a one-shot HTTP listener on 127.0.0.1 with a
//! free port that waits for Google's redirect (`?code=..&state=..` or `?error=..`), and the check
//! of a redirect's parameters against the expected `state` (shared with the chat flow).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::get;
use serde::Deserialize;
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use url::Url;

use super::GmailError;

/// How long the listener keeps serving after the redirect so the browser gets its page.
const DRAIN: Duration = Duration::from_secs(2);

/// The query of Google's redirect. `Debug` hides the code and state.
#[derive(Default, Clone, Deserialize)]
pub struct RedirectParams {
    /// Authorization code on success.
    pub code: Option<String>,
    /// The `state` the consent URL carried.
    pub state: Option<String>,
    /// OAuth error (`access_denied` when the user declined).
    pub error: Option<String>,
}

impl std::fmt::Debug for RedirectParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedirectParams")
            .field("has_code", &self.code.is_some())
            .field("has_state", &self.state.is_some())
            .field("error", &self.error)
            .finish()
    }
}

impl RedirectParams {
    /// Reads `code`, `state` and `error` from a redirect URL's query.
    pub fn from_url(url: &Url) -> Self {
        let mut params = Self::default();
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "code" => params.code = Some(value.into_owned()),
                "state" => params.state = Some(value.into_owned()),
                "error" => params.error = Some(value.into_owned()),
                _ => {}
            }
        }
        params
    }

    /// The authorization code, once the state matches `expected_state` (compared in constant
    /// time) and Google reported no error.
    pub fn code_for(&self, expected_state: &str) -> Result<String, GmailError> {
        let state = self.state.as_deref().unwrap_or_default();
        if !bool::from(state.as_bytes().ct_eq(expected_state.as_bytes())) {
            return Err(GmailError::StateMismatch);
        }
        match (&self.error, &self.code) {
            (Some(e), _) if e == "access_denied" => Err(GmailError::Denied),
            (Some(e), _) => Err(GmailError::AuthorizationError(sanitize(e))),
            (None, Some(code)) if !code.is_empty() => Ok(code.clone()),
            (None, _) => Err(GmailError::BadRedirect("no code in the address")),
        }
    }
}

/// Keeps an OAuth error code printable: short and without control characters.
fn sanitize(error: &str) -> String {
    error
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect()
}

type Slot = Arc<Mutex<Option<oneshot::Sender<RedirectParams>>>>;

/// A bound loopback listener waiting for one redirect.
#[derive(Debug)]
pub struct LoopbackListener {
    listener: TcpListener,
    redirect_uri: Url,
}

impl LoopbackListener {
    /// Binds 127.0.0.1 on a free port.
    pub async fn bind() -> Result<Self, GmailError> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| GmailError::io("127.0.0.1:0", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| GmailError::io("127.0.0.1:0", e))?
            .port();
        let redirect_uri = Url::parse(&format!("http://127.0.0.1:{port}/"))
            .map_err(|_| GmailError::BadRedirect("cannot build the loopback address"))?;
        Ok(Self {
            listener,
            redirect_uri,
        })
    }

    /// The redirect URI to put in the consent URL.
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// Serves until the first redirect carrying a code or an error, or until `timeout`.
    pub async fn wait(self, timeout: Duration) -> Result<RedirectParams, GmailError> {
        let (tx, rx) = oneshot::channel();
        let slot: Slot = Arc::new(Mutex::new(Some(tx)));
        let app = axum::Router::new()
            .route("/", get(redirect))
            .with_state(slot);
        let stop = tokio_util::sync::CancellationToken::new();
        let stopped = stop.clone().cancelled_owned();
        let mut server = tokio::spawn(async move {
            axum::serve(self.listener, app)
                .with_graceful_shutdown(stopped)
                .await
        });
        let result = tokio::time::timeout(timeout, rx).await;
        // Graceful shutdown lets the browser receive its page; a kept-alive connection cannot
        // hold the command longer than DRAIN.
        stop.cancel();
        if tokio::time::timeout(DRAIN, &mut server).await.is_err() {
            server.abort();
        }
        match result {
            Ok(Ok(params)) => Ok(params),
            Ok(Err(_)) => Err(GmailError::BadRedirect("the loopback listener stopped")),
            Err(_) => Err(GmailError::TimedOut(timeout)),
        }
    }
}

async fn redirect(
    State(slot): State<Slot>,
    Query(params): Query<RedirectParams>,
) -> Html<&'static str> {
    if params.code.is_none() && params.error.is_none() {
        return Html("<p>Waiting for Google's sign-in answer.</p>");
    }
    let sender = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(sender) = sender {
        let _ = sender.send(params);
    }
    Html(
        "<!doctype html><title>minicrew</title>\
         <p>minicrew received Google's answer. You can close this tab and return to the terminal.</p>",
    )
}
