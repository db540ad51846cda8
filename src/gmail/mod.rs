//! Gmail: per-user OAuth (installed-app loopback flow for `--auth-gmail`, one-time consent links
//! for `/authgmail`), tokens encrypted at rest, and a read-only REST client feeding `/email`.
//!
//! Map: [`oauth`] talks to Google's OAuth endpoints; [`loopback`] + [`cli`] run `--auth-gmail`;
//! [`connect`] runs the chat flow with pending states in SQLite, [`confirm`] its webhook-mode
//! confirm page and [`paste`] its polling-mode pasted address; [`profile`] reads which address
//! was connected; [`tokens`] + [`secret_key`] keep tokens encrypted; [`api`] + [`message_text`]
//! read mail; [`query`] parses `/email` arguments; [`prompt`] builds the summarisation prompt;
//! [`services`] holds both halves as one handle.

pub mod api;
pub mod cli;
pub mod client_secret;
pub mod confirm;
pub mod connect;
pub mod error;
pub(crate) mod html_text;
pub mod loopback;
pub mod message_text;
pub mod oauth;
pub mod paste;
mod private_file;
pub mod profile;
pub mod prompt;
pub mod query;
pub mod secret_key;
pub mod services;
pub mod tokens;

pub use api::GmailClient;
pub use cli::{CLI_AUTH_TIMEOUT, CliAuthOptions, CliConnected, resolve_cli_user, run_cli_auth};
pub use client_secret::ClientSecret;
pub use confirm::PendingConfirmation;
pub use connect::{Connected, ConsentLink, Disconnect, GmailConnect};
pub use error::{GmailError, RECONNECT_MESSAGE};
pub use message_text::{BODY_CHAR_LIMIT, EmailMessage};
pub use oauth::{CALENDAR_SCOPE, ConsentRequest, GMAIL_SCOPE, GmailAuth};
pub use paste::looks_like_pasted_redirect;
pub use prompt::summary_prompt;
pub use query::{EmailArgs, parse_email_args};
pub use secret_key::SecretKey;
pub use services::GmailServices;
pub use tokens::{StoredToken, TokenStore};
