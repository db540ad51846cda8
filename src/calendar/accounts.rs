//! Whose calendar is where: a user's own connected CalDAV account (`calendar_accounts`, the app
//! password sealed with the secret key and bound to the user id), else, for the owner, the
//! `CALDAV_*` account from the configuration, else Google Calendar through the user's Gmail
//! token (asking for a new consent when that token lacks the calendar scope). Connecting checks
//! the credentials by discovery before anything is stored.
//!
//! A user other than the owner names a server the bot will call, so their address is checked
//! like a web fetch (no private or loopback addresses unless `WEB_FETCH_ALLOW_PRIVATE`), and no
//! client follows a redirect to another host: the password goes only where the user said.

use std::sync::Arc;

use reqwest::redirect;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::caldav::{CalDavCalendar, CalDavClient, client::HTTP_TIMEOUT};
use super::error::CONNECT_USAGE;
use super::google::{GoogleCalendar, has_calendar_scope};
use super::{Calendar, CalendarError};
use crate::command_line::parse_command;
use crate::config::Config;
use crate::config::GmailConfig;
use crate::gmail::{SecretKey, TokenStore};
use crate::ids::UserId;
use crate::outbound::{AddressPolicy, GuardedResolver, check_url};
use crate::store::{CalendarAccountRow, Store};
use crate::users::User;

/// Most redirects followed on one CalDAV request (same host only).
const MAX_REDIRECTS: usize = 5;

/// A user's calendar, opened (discovered) and ready.
pub struct CalendarLink {
    /// The calendar.
    pub calendar: Box<dyn Calendar>,
}

/// Finds, connects and disconnects users' calendars. Cheap to clone.
#[derive(Clone)]
pub struct CalendarAccounts {
    store: Store,
    key: SecretKey,
    owner: Option<crate::config::CalDavKeys>,
    /// For the owner's own addresses (any address).
    http: reqwest::Client,
    /// For other users' addresses: the web fetch address policy.
    guarded: reqwest::Client,
    policy: Arc<AddressPolicy>,
    /// Gmail's token store (Google Calendar uses the same token).
    tokens: TokenStore,
    gmail: GmailConfig,
    google_api: Url,
}

/// What `/calendar connect caldav <url> <username> <app-password>` said.
#[derive(Clone)]
pub struct ConnectRequest {
    /// Server base URL.
    pub url: Url,
    /// User name.
    pub username: String,
    /// App password.
    pub password: SecretString,
}

impl CalendarAccounts {
    /// Accounts over `store`, sealing passwords with `key`.
    pub fn new(config: &Config, store: Store, key: SecretKey) -> Result<Self, CalendarError> {
        let policy = Arc::new(AddressPolicy::new(config.web_fetch_allow_private));
        let build = |guard: Option<Arc<AddressPolicy>>| {
            let mut builder = reqwest::Client::builder()
                .timeout(HTTP_TIMEOUT)
                .connect_timeout(HTTP_TIMEOUT)
                .redirect(same_host_redirects())
                .user_agent(concat!(
                    "minicrew/",
                    env!("CARGO_PKG_VERSION"),
                    " (calendar)"
                ));
            if let Some(policy) = guard {
                builder = builder
                    .dns_resolver(Arc::new(GuardedResolver::new(policy)))
                    .no_proxy();
            }
            builder
                .build()
                .map_err(|e| CalendarError::Unreachable(format!("no HTTP client: {e}")))
        };
        Ok(Self {
            store,
            key: key.clone(),
            owner: config.calendar.owner_caldav.clone(),
            http: build(None)?,
            guarded: build(Some(Arc::clone(&policy)))?,
            policy,
            tokens: TokenStore::new(&config.gmail.credentials_dir, key),
            gmail: config.gmail.clone(),
            google_api: config.calendar.google_api_url.clone(),
        })
    }

    /// The user's calendar, discovered afresh; [`CalendarError::NotConnected`] when they have
    /// none.
    pub async fn calendar_for(&self, user: &User) -> Result<CalendarLink, CalendarError> {
        let tz = user.timezone.tz();
        if let Some(row) = self.store.calendar_account(user.id).await? {
            let sealed = row.secret.as_deref().ok_or(CalendarError::Decrypt)?;
            let password = self
                .key
                .open(sealed, &context(user.id))
                .map_err(|_| CalendarError::Decrypt)?;
            let password = String::from_utf8(password).map_err(|_| CalendarError::Decrypt)?;
            let url = Url::parse(&row.url).map_err(|_| CalendarError::NotFound(row.url.clone()))?;
            let client = self.client_for(user, url, row.username, password.into())?;
            return Ok(link(CalDavCalendar::open(client, tz).await?));
        }
        match (&self.owner, user.is_owner()) {
            (Some(keys), true) => {
                let client = CalDavClient::new(
                    self.http.clone(),
                    keys.url.clone(),
                    keys.username.clone(),
                    keys.password.clone(),
                );
                Ok(link(CalDavCalendar::open(client, tz).await?))
            }
            _ => self.google_for(user).await,
        }
    }

    /// Google Calendar through the user's Gmail token; a token from before the calendar scope
    /// was asked gets [`CalendarError::Reconnect`] (the user is asked only now, when they use
    /// the calendar).
    async fn google_for(&self, user: &User) -> Result<CalendarLink, CalendarError> {
        let token = match self.tokens.load(user.id).await {
            Ok(Some(token)) => token,
            Ok(None) => return Err(CalendarError::NotConnected),
            Err(e) => {
                tracing::warn!(user_id = %user.id, error = %e, "unreadable Gmail token");
                return Err(CalendarError::Reconnect);
            }
        };
        if !has_calendar_scope(&token) {
            return Err(CalendarError::Reconnect);
        }
        Ok(CalendarLink {
            calendar: Box::new(GoogleCalendar::new(
                self.http.clone(),
                self.google_api.clone(),
                self.gmail.clone(),
                self.tokens.clone(),
                user.id,
                user.timezone.tz(),
                token,
            )),
        })
    }

    /// Checks the credentials by discovery and, when they work, stores them sealed. Returns the
    /// calendar's name. Nothing is stored when the check fails.
    #[tracing::instrument(skip_all, fields(user_id = %user.id))]
    pub async fn connect_caldav(
        &self,
        user: &User,
        request: ConnectRequest,
    ) -> Result<String, CalendarError> {
        let client = self.client_for(
            user,
            request.url.clone(),
            request.username.clone(),
            request.password.clone(),
        )?;
        let calendar = CalDavCalendar::open(client, user.timezone.tz()).await?;
        let sealed = self.key.seal(
            request.password.expose_secret().as_bytes(),
            &context(user.id),
        );
        self.store
            .save_calendar_account(CalendarAccountRow {
                user_id: user.id,
                provider: "caldav".into(),
                url: request.url.to_string(),
                username: request.username,
                secret: Some(sealed),
            })
            .await?;
        tracing::info!("calendar connected");
        Ok(calendar.label().to_string())
    }

    /// Forgets the user's connected account; `false` when they had none.
    pub async fn disconnect(&self, user_id: UserId) -> Result<bool, CalendarError> {
        Ok(self.store.delete_calendar_account(user_id).await?)
    }

    /// Whether `user` has a calendar (a connected account, or the owner's `CALDAV_*`), without
    /// calling it.
    pub async fn has_account(&self, user: &User) -> bool {
        let stored = self.store.calendar_account(user.id).await;
        matches!(stored, Ok(Some(_))) || (user.is_owner() && self.owner.is_some())
    }

    fn client_for(
        &self,
        user: &User,
        url: Url,
        username: String,
        password: SecretString,
    ) -> Result<CalDavClient, CalendarError> {
        let http = if user.is_owner() {
            if !matches!(url.scheme(), "http" | "https") {
                return Err(CalendarError::BadAddress(
                    "The calendar address must start with https://".into(),
                ));
            }
            self.http.clone()
        } else {
            check_url(&url, &self.policy)
                .map_err(|e| CalendarError::BadAddress(format!("I can't use that address: {e}")))?;
            self.guarded.clone()
        };
        Ok(CalDavClient::new(http, url, username, password))
    }
}

fn link(calendar: CalDavCalendar) -> CalendarLink {
    CalendarLink {
        calendar: Box::new(calendar),
    }
}

/// Follows up to [`MAX_REDIRECTS`] redirects that stay on the same scheme, host and port.
fn same_host_redirects() -> redirect::Policy {
    redirect::Policy::custom(|attempt| {
        let same = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if attempt.previous().len() > MAX_REDIRECTS || !same {
            attempt.stop()
        } else {
            attempt.follow()
        }
    })
}

/// Binds a sealed password to its user: a row copied to another user does not open.
fn context(user_id: UserId) -> Vec<u8> {
    format!("minicrew calendar secret user {user_id}").into_bytes()
}

/// Whether `text` is a `/calendar connect …` line, which holds a password: the message is
/// deleted from the chat and its stored copy replaced.
pub fn holds_password(text: &str) -> bool {
    parse_command(text).is_some_and(|c| {
        c.name == "calendar"
            && c.args
                .split_whitespace()
                .next()
                .is_some_and(|w| w.eq_ignore_ascii_case("connect"))
    })
}

/// Reads `caldav <url> <username> <app-password>` (the words after `/calendar connect`).
pub fn parse_connect(args: &str) -> Result<ConnectRequest, String> {
    let words: Vec<&str> = args.split_whitespace().collect();
    let [provider, url, username, password] = words.as_slice() else {
        return Err(format!(
            "To connect a calendar send: {CONNECT_USAGE}. For Google Calendar, connect Gmail \
             with /authgmail; the calendar uses the same sign-in."
        ));
    };
    if !provider.eq_ignore_ascii_case("caldav") {
        return Err(format!(
            "I can connect CalDAV calendars in chat: {CONNECT_USAGE}. For Google Calendar use \
             /authgmail."
        ));
    }
    let url = Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| format!("'{url}' is not a web address. Send: {CONNECT_USAGE}"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "Put the user name and app password after the address, not inside it: {CONNECT_USAGE}"
        ));
    }
    Ok(ConnectRequest {
        url,
        username: (*username).to_string(),
        password: SecretString::from((*password).to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_connect_lines_count_as_holding_a_password() {
        assert!(holds_password("/calendar connect caldav https://x u p"));
        assert!(holds_password("/calendar@bot CONNECT caldav https://x u p"));
        assert!(!holds_password("/calendar week"));
        assert!(!holds_password("calendar connect"));
    }

    #[test]
    fn a_connect_line_needs_four_words_and_a_web_address() {
        assert!(parse_connect("caldav https://dav.example.com ana secret").is_ok());
        assert!(parse_connect("caldav ftp://x ana secret").is_err());
        assert!(parse_connect("google").is_err());
        assert!(parse_connect("caldav https://x ana").is_err());
        assert!(parse_connect("caldav https://ana:pw@x ana pw").is_err());
    }
}
