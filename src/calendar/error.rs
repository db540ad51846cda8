//! Why a calendar call failed, each with a message that says what to do. No variant carries a
//! password or a token.

use crate::store::StoreError;

/// How to connect a CalDAV calendar, for messages.
pub const CONNECT_USAGE: &str = "/calendar connect caldav <url> <username> <app-password>";

/// A calendar call's failure.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// The user has no calendar.
    #[error(
        "You have no calendar connected yet. Connect one with {CONNECT_USAGE} (iCloud, Fastmail, \
         Nextcloud and other CalDAV servers; use an app password, not your main password)."
    )]
    NotConnected,
    /// The server refused the username or password (401/403).
    #[error(
        "The calendar server refused the username or app password. Check the username, create a \
         new app password in your account's security settings, and connect again with \
         {CONNECT_USAGE}."
    )]
    WrongPassword,
    /// The address answers, but no calendar was found behind it.
    #[error(
        "I found no calendar at {0}. Check the address (for iCloud https://caldav.icloud.com, for \
         Fastmail https://caldav.fastmail.com, for Nextcloud https://<host>/remote.php/dav) and \
         that the account has at least one calendar."
    )]
    NotFound(String),
    /// The server could not be reached or took too long.
    #[error("I couldn't reach the calendar server ({0}); please try again in a minute.")]
    Unreachable(String),
    /// The server answered something that is not what CalDAV promises.
    #[error("The calendar server gave an answer I can't read ({0}).")]
    BadResponse(String),
    /// The address given is not allowed or not a web address.
    #[error("{0}")]
    BadAddress(String),
    /// Google needs a new consent (revoked token, or the calendar scope was never granted).
    #[error(
        "Google needs your permission again for the calendar. Send /authgmail and accept the \
         calendar access, then try again."
    )]
    Reconnect,
    /// The stored credentials could not be decrypted (the secret key changed).
    #[error(
        "I can't read your stored calendar password any more (the bot's secret key changed). \
         Connect again with {CONNECT_USAGE}."
    )]
    Decrypt,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CalendarError {
    /// A network failure, without the URL (which may carry a user name).
    pub fn network(e: &reqwest::Error) -> Self {
        let what = if e.is_timeout() {
            "it did not answer in time"
        } else if e.is_connect() {
            "connection refused or no route"
        } else {
            "the connection failed"
        };
        Self::Unreachable(what.into())
    }
}
