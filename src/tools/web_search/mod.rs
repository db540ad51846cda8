//! `web_search` (`/search <query>`): looks the query up on the configured backend (a SearXNG
//! instance, else the Brave Search API) and returns the top results as title, link and snippet,
//! to the user as a list or to the model as quoted, untrusted data. With no backend configured
//! the model is not offered the tool and `/search` says which key to set.
//!
//! Map: [`client`] runs the request (time limit, size cap, no redirects, the key kept out of
//! every message); [`wire`] reads each service's JSON; [`results`] cleans and renders the hits;
//! [`error`] says what went wrong in words a user can act on.

pub mod client;
pub mod error;
pub mod results;
pub mod wire;

use async_trait::async_trait;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use super::{CallSource, Effect, Tool, ToolContext, ToolError, ToolOutput, Where, str_arg};
use crate::config::SearchConfig;
pub use client::Searcher;
pub use error::SearchError;

const USAGE: &str = "/search <query>, e.g. /search rust 2024 edition";
/// Results returned per search.
pub const RESULTS: usize = 6;
/// Longest query accepted (Brave's limit is 400 characters and 50 words).
pub const QUERY_CHARS: usize = 400;

/// Searches the web.
#[derive(Debug)]
pub struct WebSearch {
    config: SearchConfig,
    /// Built once, at first use.
    searcher: OnceCell<Searcher>,
}

impl WebSearch {
    /// The tool over the configured backend (`SearchConfig::Off`: not offered to the model).
    pub fn new(config: SearchConfig) -> Self {
        Self {
            config,
            searcher: OnceCell::new(),
        }
    }

    async fn searcher(&self) -> Result<&Searcher, SearchError> {
        self.searcher
            .get_or_try_init(|| async { Searcher::new(self.config.clone()) })
            .await
    }
}

#[async_trait]
impl Tool for WebSearch {
    fn name(&self) -> &'static str {
        "web_search"
    }

    fn command(&self) -> &'static str {
        "search"
    }

    fn description(&self) -> &'static str {
        "Search the web: the top results with their titles, links and a short extract"
    }

    fn usage(&self) -> &'static str {
        USAGE
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "What to search the web for"}
            },
            "required": ["query"]
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

    fn llm_callable(&self) -> bool {
        self.config.is_on()
    }

    fn describe(&self, args: &Value) -> String {
        let query = args.get("query").and_then(Value::as_str).unwrap_or("");
        format!("Search the web for “{}”", super::shorten(query, 300))
    }

    fn parse_command(&self, args: &str) -> Result<Value, ToolError> {
        Ok(json!({"query": args.trim()}))
    }

    async fn call(&self, ctx: &ToolContext<'_>, args: Value) -> Result<ToolOutput, ToolError> {
        if !self.config.is_on() {
            return Err(ToolError::Failed(SearchError::NotConfigured.to_string()));
        }
        let query = str_arg(&args, "query", USAGE)?.trim();
        if query.chars().count() > QUERY_CHARS {
            return Err(ToolError::InvalidArguments(format!(
                "That query is too long: at most {QUERY_CHARS} characters, please."
            )));
        }
        let searcher = self
            .searcher()
            .await
            .map_err(|e| ToolError::Unexpected(e.into()))?;
        let hits = searcher.search(query, RESULTS).await.map_err(|e| {
            tracing::info!(service = self.config.service(), error = %e, "web search failed");
            ToolError::Failed(e.to_string())
        })?;
        let service = self.config.service();
        Ok(ToolOutput::plain(match ctx.source {
            CallSource::Llm => results::for_model(query, service, &hits),
            CallSource::Command | CallSource::Schedule | CallSource::Confirm => {
                results::for_user(query, service, &hits)
            }
        }))
    }
}
