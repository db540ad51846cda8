//! `web_fetch` (`/fetch <url>`): reads a web page and returns its text, to the user with a short
//! header or to the model as quoted, untrusted data. Addresses outside the public internet are
//! refused unless `WEB_FETCH_ALLOW_PRIVATE=true`.
//!
//! Map: [`fetch`] runs the request (redirects by hand, time limit, size cap) through the SSRF
//! guard of [`crate::outbound`]; [`page`] turns the body into text.

pub mod error;
pub mod fetch;
pub mod page;

use async_trait::async_trait;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use super::{CallSource, Effect, Tool, ToolContext, ToolError, ToolOutput, Where, str_arg};
pub use crate::outbound::AddressPolicy;
pub use error::FetchError;
pub use fetch::Fetcher;
pub use page::Page;

const USAGE: &str = "/fetch <url>, e.g. /fetch https://example.com";

/// Reads web pages.
#[derive(Debug)]
pub struct WebFetch {
    /// Which addresses may be reached.
    policy: AddressPolicy,
    /// Built once, at first use.
    fetcher: OnceCell<Fetcher>,
}

impl WebFetch {
    /// The tool; private and loopback addresses only when `allow_private`
    /// (`WEB_FETCH_ALLOW_PRIVATE`).
    pub fn new(allow_private: bool) -> Self {
        Self::with_policy(AddressPolicy::new(allow_private))
    }

    /// The tool with an explicit policy (tests stand in for the internet on loopback).
    pub fn with_policy(policy: AddressPolicy) -> Self {
        Self {
            policy,
            fetcher: OnceCell::new(),
        }
    }

    async fn fetcher(&self) -> Result<&Fetcher, FetchError> {
        self.fetcher
            .get_or_try_init(|| async { Fetcher::new(self.policy.clone()) })
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

    fn effect(&self) -> Effect {
        Effect::Read
    }

    fn runs_in(&self) -> Where {
        Where::Any
    }

    fn returns_untrusted(&self) -> bool {
        true
    }

    fn sends_out(&self) -> bool {
        true
    }

    fn describe(&self, args: &Value) -> String {
        let url = args.get("url").and_then(Value::as_str).unwrap_or("");
        format!("Fetch the web page {}", super::shorten(url, 500))
    }

    fn progress(&self, args: &Value) -> String {
        let url = with_scheme(args.get("url").and_then(Value::as_str).unwrap_or("").trim());
        let host = url::Url::parse(&url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| "a web page".to_string());
        format!("Reading {}…", super::shorten(&host, 100))
    }

    fn parse_command(&self, args: &str) -> Result<Value, ToolError> {
        Ok(json!({"url": args.trim()}))
    }

    async fn call(&self, ctx: &ToolContext<'_>, args: Value) -> Result<ToolOutput, ToolError> {
        let url = with_scheme(str_arg(&args, "url", USAGE)?.trim());
        let fetched = match self.fetcher().await {
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
            CallSource::Command | CallSource::Schedule | CallSource::Confirm => page.for_user(),
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
