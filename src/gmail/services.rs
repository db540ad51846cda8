//! Gmail's two halves as one handle, shared by the tools, the dispatcher and the OAuth callback.

use super::{GmailClient, GmailConnect};

/// Gmail's two halves: connecting accounts and reading mail.
#[derive(Clone)]
pub struct GmailServices {
    /// `/authgmail`, `/disconnectgmail`, the OAuth callback.
    pub connect: GmailConnect,
    /// Reads messages for `/email`.
    pub client: GmailClient,
}
