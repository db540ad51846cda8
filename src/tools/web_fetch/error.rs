//! Why a web fetch failed. Every message is safe to show the user (no credentials: URLs with
//! credentials are refused before anything is fetched).

use super::fetch::{MAX_REDIRECTS, TIMEOUT};
use crate::outbound::Refused;

/// A web fetch that did not produce a page.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    /// The text is not a URL we can use; the string says why.
    #[error("That is not a web address I can read ({0}). Example: /fetch https://example.com")]
    InvalidUrl(String),
    /// Not http or https.
    #[error("Only http and https addresses can be fetched, not {0}: addresses.")]
    Scheme(String),
    /// The URL carries a user name or password.
    #[error("Addresses with a user name or password in them are not fetched.")]
    Credentials,
    /// The guard refused the host: it is, or resolves to, an address outside the public
    /// internet, or it does not resolve (the guard's own words).
    #[error(transparent)]
    Refused(Refused),
    /// More redirects than [`MAX_REDIRECTS`].
    #[error("The page redirected more than {MAX_REDIRECTS} times; I stopped following it.")]
    TooManyRedirects,
    /// No complete answer within [`TIMEOUT`].
    #[error("The site did not answer within {} seconds.", TIMEOUT.as_secs())]
    Timeout,
    /// The final answer was not a success.
    #[error("The site answered with HTTP status {0}.")]
    Status(u16),
    /// A content type we do not read.
    #[error("That address serves {0}, not a page I can read (HTML, plain text or JSON).")]
    UnsupportedType(String),
    /// Connecting or reading failed.
    #[error("I could not load the page: {0}.")]
    Network(&'static str),
    /// The HTTP client could not be built.
    #[error("the web fetch HTTP client could not be built: {0}")]
    Client(String),
}

/// The guard's refusals, each as the web fetch error of the same kind.
impl From<Refused> for FetchError {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::Scheme(scheme) => Self::Scheme(scheme),
            Refused::Credentials => Self::Credentials,
            Refused::NoHost => Self::InvalidUrl("it has no host".into()),
            refused @ (Refused::Blocked { .. } | Refused::UnknownHost(_)) => Self::Refused(refused),
        }
    }
}

impl FetchError {
    /// Finds the guard's refusal inside a reqwest error (the resolver's refusals travel as its
    /// source), or describes the failure without echoing internals.
    pub fn from_reqwest(err: &reqwest::Error) -> Self {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
        while let Some(e) = source {
            if let Some(refused) = e.downcast_ref::<Refused>() {
                return refused.clone().into();
            }
            source = e.source();
        }
        if err.is_timeout() {
            Self::Timeout
        } else if err.is_connect() {
            Self::Network("the connection to the site failed")
        } else if err.is_redirect() {
            Self::TooManyRedirects
        } else {
            Self::Network("the transfer failed")
        }
    }
}
