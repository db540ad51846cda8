//! The Gmail REST client (read-only): `users/me/messages?q=..&maxResults=N`, then
//! `users/me/messages/{id}?format=full` for each message not summarised yet. Access tokens are
//! refreshed when expired or on a 401, and the refreshed token is stored. A 5xx is tried once
//! more after a pause (which shutdown ends: the request stays pending, see
//! [`crate::shutdown_pause`]); an error status that stays is logged once with what to do about it.

use std::time::Duration;

use secrecy::ExposeSecret;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::message_text::parse_message;
use super::{EmailArgs, EmailMessage, GmailAuth, GmailError, StoredToken, TokenStore};
use crate::config::GmailConfig;
use crate::ids::UserId;
use crate::store::{Store, now_unix};

/// Timeout of every Gmail API call.
const HTTP_TIMEOUT: Duration = Duration::from_secs(20);

/// Pause before the one more try after a Gmail 5xx.
const SERVER_ERROR_PAUSE: Duration = Duration::from_secs(1);

/// Gmail's own upper bound for `maxResults`.
const GMAIL_MAX_PAGE: u32 = 500;

#[derive(Deserialize)]
struct ListResponse {
    #[serde(default)]
    messages: Vec<ListedMessage>,
}

#[derive(Deserialize)]
struct ListedMessage {
    id: String,
}

/// Reads a user's mail; cheap to clone.
#[derive(Clone, Debug)]
pub struct GmailClient {
    gmail: GmailConfig,
    tokens: TokenStore,
    store: Store,
    http: reqwest::Client,
    /// Ends the pause before a retry at shutdown.
    shutdown: CancellationToken,
}

/// One user's token during a fetch; refreshed at most once, and a 5xx retried at most once.
struct Session {
    user_id: UserId,
    token: StoredToken,
    refreshed: bool,
    server_error_retried: bool,
}

impl GmailClient {
    /// A client using `gmail`'s endpoints, `tokens` for credentials, `store` for processed ids.
    pub fn new(gmail: GmailConfig, tokens: TokenStore, store: Store) -> Result<Self, GmailError> {
        let http = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .build()
            .map_err(GmailError::network)?;
        Ok(Self {
            gmail,
            tokens,
            store,
            http,
            shutdown: CancellationToken::new(),
        })
    }

    /// Stops waiting before a retry when `shutdown` fires: the fetch ends with
    /// [`GmailError::Stopped`] and the request that needed it stays pending.
    pub fn with_shutdown(mut self, shutdown: CancellationToken) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// Messages matching `args` (at most `GMAIL_MAX_RESULTS`), newest first as Gmail lists them,
    /// leaving out those already summarised for this user unless `args.force`.
    #[tracing::instrument(skip_all, fields(user_id, days = args.days, force = args.force))]
    pub async fn fetch_recent(
        &self,
        user_id: UserId,
        args: &EmailArgs,
    ) -> Result<Vec<EmailMessage>, GmailError> {
        let token = self
            .tokens
            .load(user_id)
            .await?
            .ok_or(GmailError::NotConnected)?;
        let mut session = Session {
            user_id,
            token,
            refreshed: false,
            server_error_retried: false,
        };
        if session.token.is_expired(now_unix()) {
            self.refresh(&mut session).await?;
        }
        let max_results = self.gmail.max_results.clamp(1, GMAIL_MAX_PAGE);
        let mut list_url = self.messages_url()?;
        list_url
            .query_pairs_mut()
            .append_pair("q", &args.gmail_query())
            .append_pair("maxResults", &max_results.to_string());
        let list: ListResponse = serde_json::from_slice(&self.get(&mut session, list_url).await?)
            .map_err(|_| GmailError::BadResponse("message list".into()))?;
        // A list longer than asked for would cost one request per extra id: ignore the excess.
        let mut ids: Vec<String> = list
            .messages
            .into_iter()
            .take(usize::try_from(max_results).unwrap_or(usize::MAX))
            .map(|m| m.id)
            .collect();
        if !args.force {
            ids = self.store.unprocessed_email_ids(user_id, ids).await?;
        }
        let mut messages = Vec::with_capacity(ids.len());
        for id in ids {
            let mut url = self.messages_url()?;
            url.path_segments_mut()
                .map_err(|_| GmailError::BadResponse("GMAIL_API_URL cannot hold a path".into()))?
                .push(&id);
            url.query_pairs_mut().append_pair("format", "full");
            let body = self.get(&mut session, url).await?;
            // Decoding and HTML-to-text are CPU work on outside input: off the async threads.
            let message = tokio::task::spawn_blocking(move || parse_message(&body))
                .await
                .ok()
                .and_then(Result::ok)
                .ok_or_else(|| GmailError::BadResponse(format!("message {id}")))?;
            messages.push(message);
        }
        Ok(messages)
    }

    /// Records `messages` as summarised for `user_id` (call after the summary was delivered).
    pub async fn mark_processed(
        &self,
        user_id: UserId,
        messages: &[EmailMessage],
    ) -> Result<(), GmailError> {
        let ids = messages.iter().map(|m| m.id.clone()).collect();
        Ok(self.store.mark_emails_processed(user_id, ids).await?)
    }

    fn messages_url(&self) -> Result<Url, GmailError> {
        let base = self.gmail.api_url.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}/gmail/v1/users/me/messages"))
            .map_err(|_| GmailError::BadResponse("invalid GMAIL_API_URL".into()))
    }

    /// GETs `url` with the bearer token; on a 401 refreshes once and retries.
    async fn get(&self, session: &mut Session, url: Url) -> Result<Vec<u8>, GmailError> {
        loop {
            let response = self
                .http
                .get(url.clone())
                .bearer_auth(session.token.access_token.expose_secret())
                .send()
                .await
                .map_err(GmailError::network)?;
            let status = response.status().as_u16();
            if status == 401 && !session.refreshed {
                tracing::info!(
                    user_id = %session.user_id,
                    "Gmail rejected the access token; refreshing it and trying again"
                );
                self.refresh(session).await?;
                continue;
            }
            if (500..600).contains(&status) && !session.server_error_retried {
                tracing::warn!(status, "Gmail server error; trying once more");
                session.server_error_retried = true;
                let pause = tokio::time::sleep(SERVER_ERROR_PAUSE);
                crate::shutdown_pause::pause(&self.shutdown, pause).await?;
                continue;
            }
            if !(200..300).contains(&status) {
                let reason = google_reason(response).await;
                tracing::warn!(
                    user_id = %session.user_id,
                    status,
                    reason,
                    "Gmail refused the request: {}",
                    what_to_do(status)
                );
                return Err(GmailError::Api { status });
            }
            let body = response.bytes().await.map_err(GmailError::network)?;
            return Ok(body.to_vec());
        }
    }

    async fn refresh(&self, session: &mut Session) -> Result<(), GmailError> {
        let auth = GmailAuth::new(&self.gmail)?;
        session.token = auth.refresh(&session.token).await?;
        session.refreshed = true;
        self.tokens.save(session.user_id, &session.token).await?;
        tracing::debug!(user_id = %session.user_id, "Gmail access token refreshed");
        Ok(())
    }
}

/// Google's `error.status` (`PERMISSION_DENIED`, ...) from an error body, or "" when there is
/// none. Only this enum-like word is kept: the body is not logged.
async fn google_reason(response: reqwest::Response) -> String {
    #[derive(Deserialize)]
    struct Body {
        error: Detail,
    }
    #[derive(Deserialize)]
    struct Detail {
        #[serde(default)]
        status: String,
    }
    let bytes = response.bytes().await.unwrap_or_default();
    serde_json::from_slice::<Body>(&bytes)
        .map(|b| b.error.status)
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_uppercase() || *c == '_')
        .take(40)
        .collect()
}

/// What the operator can do about a Gmail error status that stayed.
fn what_to_do(status: u16) -> &'static str {
    match status {
        401 => "the refreshed token is refused too; the user should connect again with /authgmail",
        403 => {
            "access denied; enable the Gmail API in the Google Cloud project of \
             GOOGLE_CLIENT_SECRET_FILE, or have the user connect again with /authgmail"
        }
        429 => "Gmail's rate limit; the user was asked to try again later",
        500..=599 => "Gmail is failing at Google's end; nothing to do here, the user can try again",
        _ => "unexpected status; check GMAIL_API_URL",
    }
}
