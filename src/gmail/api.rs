//! The Gmail REST client (read-only): `users/me/messages?q=..&maxResults=N`, then
//! `users/me/messages/{id}?format=full` for each message not summarised yet. Access tokens are
//! refreshed when expired or on a 401, and the refreshed token is stored.

use std::time::Duration;

use secrecy::ExposeSecret;
use serde::Deserialize;
use url::Url;

use super::message_text::parse_message;
use super::{EmailArgs, EmailMessage, GmailAuth, GmailError, StoredToken, TokenStore};
use crate::config::GmailConfig;
use crate::store::{Store, now_unix};

/// Timeout of every Gmail API call.
const HTTP_TIMEOUT: Duration = Duration::from_secs(20);

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
}

/// One user's token during a fetch; refreshed at most once.
struct Session {
    user_id: i64,
    token: StoredToken,
    refreshed: bool,
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
        })
    }

    /// Messages matching `args` (at most `GMAIL_MAX_RESULTS`), newest first as Gmail lists them,
    /// leaving out those already summarised for this user unless `args.force`.
    #[tracing::instrument(skip_all, fields(user_id, days = args.days, force = args.force))]
    pub async fn fetch_recent(
        &self,
        user_id: i64,
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
        };
        if session.token.is_expired(now_unix()) {
            self.refresh(&mut session).await?;
        }
        let mut list_url = self.messages_url()?;
        list_url
            .query_pairs_mut()
            .append_pair("q", &args.gmail_query())
            .append_pair(
                "maxResults",
                &self.gmail.max_results.clamp(1, GMAIL_MAX_PAGE).to_string(),
            );
        let list: ListResponse = serde_json::from_slice(&self.get(&mut session, list_url).await?)
            .map_err(|_| GmailError::BadResponse("message list".into()))?;
        let mut ids: Vec<String> = list.messages.into_iter().map(|m| m.id).collect();
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
        user_id: i64,
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
                self.refresh(session).await?;
                continue;
            }
            if !(200..300).contains(&status) {
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
        tracing::debug!(user_id = session.user_id, "Gmail access token refreshed");
        Ok(())
    }
}
