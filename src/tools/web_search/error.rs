//! Why a web search failed. Every message is safe to show the user: none holds the API key, a
//! response body or a URL with the query in it.

use super::client::{MAX_BODY_BYTES, TIMEOUT};

/// The reply when no backend is configured: which key to set.
pub const NOT_CONFIGURED: &str = "Web search is not set up. The bot's owner can set SEARXNG_URL \
     (the address of a SearXNG instance with JSON output enabled) or BRAVE_SEARCH_API_KEY (a Brave \
     Search API key from api-dashboard.search.brave.com) in .env and restart the bot.";

/// A web search that produced no results list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    /// Neither `SEARXNG_URL` nor `BRAVE_SEARCH_API_KEY` is set.
    #[error("{NOT_CONFIGURED}")]
    NotConfigured,
    /// No complete answer within [`TIMEOUT`].
    #[error("{0} did not answer within {secs} seconds; try again in a moment.", secs = TIMEOUT.as_secs())]
    Timeout(&'static str),
    /// Connecting or reading failed.
    #[error("I could not reach {0} just now; try again in a moment.")]
    Unreachable(&'static str),
    /// Brave refused the subscription token.
    #[error(
        "Brave Search rejected the API key: the owner should check BRAVE_SEARCH_API_KEY in the \
         Brave Search API dashboard."
    )]
    BadKey,
    /// SearXNG refused a JSON request (its `search.formats` lacks `json`).
    #[error(
        "SearXNG refused the search (HTTP 403). Its JSON output is probably switched off: the \
         owner should add json to search.formats in its settings.yml."
    )]
    JsonDisabled,
    /// Too many requests for now.
    #[error("{0} is rate limiting me right now; try again in a minute.")]
    RateLimited(&'static str),
    /// Brave's monthly quota is used up.
    #[error(
        "The Brave Search quota of this bot is used up for now; searches work again when it renews."
    )]
    QuotaUsed,
    /// The service answered with a redirect; it is not followed (the key must not travel).
    #[error(
        "{service} answered with a redirect (HTTP {status}); the owner should check its address in .env."
    )]
    Redirect {
        /// The backend's name.
        service: &'static str,
        /// The redirect status.
        status: u16,
    },
    /// Any other unsuccessful status.
    #[error("{service} answered with HTTP status {status}.")]
    Status {
        /// The backend's name.
        service: &'static str,
        /// The status.
        status: u16,
    },
    /// The body went on past [`MAX_BODY_BYTES`].
    #[error("{0} sent a reply larger than {mb} MB; I ignored it.", mb = MAX_BODY_BYTES / (1024 * 1024))]
    TooLarge(&'static str),
    /// The body is not the JSON the service should send.
    #[error("{0} sent a reply I could not read (not the search results JSON I expected).")]
    Malformed(&'static str),
    /// The HTTP client could not be built or the request could not be made.
    #[error("the web search HTTP client failed: {0}")]
    Client(String),
}

impl SearchError {
    /// Describes a reqwest failure without echoing it (its text holds the URL and the query).
    pub fn from_reqwest(service: &'static str, err: &reqwest::Error) -> Self {
        if err.is_timeout() {
            Self::Timeout(service)
        } else {
            Self::Unreachable(service)
        }
    }
}
