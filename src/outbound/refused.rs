//! Why the guard refused an address. Every message is safe to show the user (no credentials:
//! URLs with credentials are refused before anything is sent).

use std::net::IpAddr;

/// An address or URL the guard does not let a request go to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Not http or https.
    #[error("Only http and https addresses can be fetched, not {0}: addresses.")]
    Scheme(String),
    /// The URL carries a user name or password.
    #[error("Addresses with a user name or password in them are not fetched.")]
    Credentials,
    /// The URL has no host.
    #[error("That address has no host.")]
    NoHost,
    /// The host is, or resolves to, an address outside the public internet.
    #[error(
        "I won't fetch {host}: it points to a {kind} address ({addr}), and reaching local or private networks is switched off."
    )]
    Blocked {
        /// The host as written in the URL.
        host: String,
        /// The refused address.
        addr: IpAddr,
        /// The kind of range, e.g. "loopback" or "private".
        kind: &'static str,
    },
    /// The host name does not resolve.
    #[error("I could not find the host {0}.")]
    UnknownHost(String),
}
