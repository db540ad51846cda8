//! `web_fetch` (`/fetch <url>`): reads a web page and returns its text, to the user with a short
//! header or to the model as quoted, untrusted data. Addresses outside the public internet are
//! refused unless `WEB_FETCH_ALLOW_PRIVATE=true`.
//!
//! Map: [`guard`] decides which addresses and URLs are allowed; [`resolver`] resolves names and
//! pins connections to checked addresses; [`fetch`] runs the request (redirects by hand, time
//! limit, size cap); [`page`] turns the body into text.

pub mod error;
pub mod fetch;
pub mod guard;
pub mod page;
pub mod resolver;

use async_trait::async_trait;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use super::{CallSource, Tool, ToolContext, ToolError, ToolOutput, str_arg};
pub use error::FetchError;
pub use fetch::Fetcher;
pub use guard::AddressPolicy;
pub use page::Page;

const USAGE: &str = "/fetch <url>, e.g. /fetch https://example.com";

/// Reads web pages.
#[derive(Debug, Default)]
pub struct WebFetch {
    /// `None`: the policy comes from `WEB_FETCH_ALLOW_PRIVATE` at first use.
    policy: Option<AddressPolicy>,
    /// Built once, at first use.
    fetcher: OnceCell<Fetcher>,
}

impl WebFetch {
    /// The tool with the policy from configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// The tool with an explicit policy (tests stand in for the internet on loopback).
    pub fn with_policy(policy: AddressPolicy) -> Self {
        Self {
            policy: Some(policy),
            fetcher: OnceCell::new(),
        }
    }

    async fn fetcher(&self, allow_private: bool) -> Result<&Fetcher, FetchError> {
        self.fetcher
            .get_or_try_init(|| async {
                let policy = self
                    .policy
                    .clone()
                    .unwrap_or_else(|| AddressPolicy::new(allow_private));
                Fetcher::new(policy)
            })
            .await
    }
}

#[async_trait]
impl Tool for WebFetch {
    fn name(&self) -> &'static str {
        "web_fetch"
    }

    fn command(&self) -> &'static str {
        "fetch"
    }

    fn description(&self) -> &'static str {
        "Read a web page (http or https URL) and return its text"
    }

    fn usage(&self) -> &'static str {
        USAGE
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "url": {"type": "string", "description": "The full http(s) URL of the page"}
            },
            "required": ["url"]
        })
    }

    fn parse_command(&self, args: &str) -> Result<Value, ToolError> {
        Ok(json!({"url": args.trim()}))
    }

    async fn call(&self, ctx: &ToolContext<'_>, args: Value) -> Result<ToolOutput, ToolError> {
        let url = with_scheme(str_arg(&args, "url", USAGE)?.trim());
        let allow_private = ctx.services.config.web_fetch_allow_private;
        let fetched = match self.fetcher(allow_private).await {
            Ok(fetcher) => fetcher.fetch(&url).await,
            Err(e) => return Err(ToolError::Unexpected(e.into())),
        };
        let fetched = fetched.map_err(|e| {
            tracing::info!(error = %e, "web fetch refused or failed");
            ToolError::Failed(e.to_string())
        })?;
        let page = tokio::task::spawn_blocking(move || Page::from_fetched(fetched))
            .await
            .map_err(|e| ToolError::Unexpected(anyhow::anyhow!("page conversion failed: {e}")))?;
        Ok(ToolOutput::plain(match ctx.source {
            CallSource::Llm => page.for_model(),
            CallSource::Command | CallSource::Schedule => page.for_user(),
        }))
    }
}

/// `example.com/x` means `https://example.com/x`; anything with a scheme is kept as written
/// (and checked later).
fn with_scheme(url: &str) -> String {
    if url.contains("://") {
        url.to_string()
    } else {
        format!("https://{url}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_without_a_scheme_gets_https() {
        assert_eq!(with_scheme("example.com/a"), "https://example.com/a");
        assert_eq!(with_scheme("http://example.com"), "http://example.com");
        assert_eq!(with_scheme("file:///etc/passwd"), "file:///etc/passwd");
    }
}
