//! The web search check: the configured backend (SearXNG or Brave) answers a tiny query within
//! its time limit; a refused Brave key names `BRAVE_SEARCH_API_KEY`. No backend is not a
//! failure, only a line saying how to turn it on.

use super::check::Check;
use crate::config::{Config, SearchConfig};
use crate::tools::web_search::{SearchError, Searcher};

/// Where Brave Search API keys are made.
const BRAVE_KEYS: &str = "https://api-dashboard.search.brave.com/app/keys";
/// The query sent: one common word, one result.
const QUERY: &str = "weather";

/// One check of the configured backend.
pub async fn check(config: &Config) -> Check {
    let name = "web search";
    let search = &config.web_search;
    if !search.is_on() {
        return Check::ok(name, search.summary());
    }
    let result = match Searcher::new(search.clone()) {
        Ok(searcher) => searcher.search(QUERY, 1).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(hits) => Check::ok(
            name,
            format!("{} answered ({} result(s))", search.summary(), hits.len()),
        ),
        Err(e) => judge(search, &e),
    }
}

/// A failed search as a check, with its fix.
fn judge(search: &SearchConfig, err: &SearchError) -> Check {
    let name = "web search";
    let text = format!("{}: {err}", search.summary());
    let address = match search {
        SearchConfig::SearxNg { url } => format!("SEARXNG_URL ({url})"),
        SearchConfig::Brave { url, .. } => format!("BRAVE_SEARCH_URL ({url})"),
        SearchConfig::Off => "SEARXNG_URL".to_string(),
    };
    match err {
        SearchError::BadKey => Check::fail(
            name,
            text,
            format!("set BRAVE_SEARCH_API_KEY to a valid key from {BRAVE_KEYS}"),
        ),
        SearchError::JsonDisabled => Check::fail(
            name,
            text,
            "add json to search.formats in the SearXNG instance's settings.yml and restart it",
        ),
        SearchError::QuotaUsed => Check::warn(
            name,
            text,
            format!("wait for the quota to renew or choose a larger plan at {BRAVE_KEYS}"),
        ),
        SearchError::RateLimited(_) => Check::warn(
            name,
            text,
            "run doctor again in a minute; if it stays, raise the instance's rate limit",
        ),
        SearchError::Redirect { .. } => Check::fail(
            name,
            text,
            format!(
                "set {address} to the address the service answers on (redirects are not followed)"
            ),
        ),
        SearchError::Timeout(_)
        | SearchError::Unreachable(_)
        | SearchError::Status { .. }
        | SearchError::Malformed(_)
        | SearchError::TooLarge(_) => Check::fail(
            name,
            text,
            format!("check that {address} is right and answers from this machine"),
        ),
        SearchError::NotConfigured | SearchError::Client(_) => Check::fail(
            name,
            text,
            "set SEARXNG_URL or BRAVE_SEARCH_API_KEY in .env",
        ),
    }
}
