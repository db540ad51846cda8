//! Outbound requests to addresses a user (or the model) named: the SSRF guard every such client
//! goes through, whoever builds it (the web fetch tool, a user's CalDAV server). Loopback,
//! private, link-local and other non-public addresses are refused unless
//! `WEB_FETCH_ALLOW_PRIVATE=true`.
//!
//! Map: [`guard`] decides which addresses and URLs are allowed; [`resolver`] resolves names and
//! pins connections to checked addresses; [`refused`] says why an address was refused. A leaf:
//! it imports nothing from the rest of the crate.

pub mod guard;
pub mod refused;
pub mod resolver;

pub use guard::{AddressPolicy, check_url, non_public_kind};
pub use refused::Refused;
pub use resolver::GuardedResolver;
