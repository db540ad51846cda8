//! The web search backend: a SearXNG instance (`SEARXNG_URL`) when set, else the Brave Search
//! API (`BRAVE_SEARCH_API_KEY`, `BRAVE_SEARCH_URL`), else none (the tool is then not offered to
//! the model and `/search` says which key to set).

use secrecy::SecretString;
use url::Url;

use super::reader::{ConfigError, EnvReader, parse_http_url};

/// Brave's API host, the default of `BRAVE_SEARCH_URL`.
pub const BRAVE_DEFAULT_URL: &str = "https://api.search.brave.com";

/// Where web searches go.
#[derive(Debug, Clone)]
pub enum SearchConfig {
    /// A SearXNG instance with JSON output enabled (`SEARXNG_URL`).
    SearxNg {
        /// Base URL of the instance (`/search` is added).
        url: Url,
    },
    /// The Brave Search API.
    Brave {
        /// Base URL of the API (`BRAVE_SEARCH_URL`; `/res/v1/web/search` is added).
        url: Url,
        /// The subscription token (`BRAVE_SEARCH_API_KEY`), sent as `X-Subscription-Token`.
        api_key: SecretString,
    },
    /// Neither is configured.
    Off,
}

impl SearchConfig {
    /// Reads the search keys. Both URLs are checked whenever they are set, so a typo is caught
    /// at start even while the other backend is in use.
    pub fn from_reader(env: &EnvReader) -> Result<Self, ConfigError> {
        let brave_url = env.url_or("BRAVE_SEARCH_URL", BRAVE_DEFAULT_URL)?;
        if let Some(raw) = env.get("SEARXNG_URL") {
            return Ok(Self::SearxNg {
                url: parse_http_url("SEARXNG_URL", &raw)?,
            });
        }
        Ok(match env.secret("BRAVE_SEARCH_API_KEY") {
            Some(api_key) => Self::Brave {
                url: brave_url,
                api_key,
            },
            None => Self::Off,
        })
    }

    /// Whether a backend is configured.
    pub fn is_on(&self) -> bool {
        !matches!(self, Self::Off)
    }

    /// The backend's name for replies and logs ("SearXNG", "Brave Search").
    pub fn service(&self) -> &'static str {
        match self {
            Self::SearxNg { .. } => "SearXNG",
            Self::Brave { .. } => "Brave Search",
            Self::Off => "web search",
        }
    }

    /// One line for `doctor`: the backend and its address, or how to turn it on.
    pub fn summary(&self) -> String {
        match self {
            Self::SearxNg { url } => format!("SearXNG at {url}"),
            Self::Brave { url, .. } => format!("Brave Search API at {url}"),
            Self::Off => "not configured (set SEARXNG_URL or BRAVE_SEARCH_API_KEY to let the \
                          assistant search the web)"
                .to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<SearchConfig, ConfigError> {
        SearchConfig::from_reader(&EnvReader::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ))
    }

    #[test]
    fn searxng_wins_over_brave_and_neither_means_off() {
        let both = read(&[
            ("SEARXNG_URL", "http://127.0.0.1:8888/"),
            ("BRAVE_SEARCH_API_KEY", "BSA-key"),
        ])
        .unwrap();
        assert!(
            matches!(&both, SearchConfig::SearxNg { url } if url.as_str() == "http://127.0.0.1:8888/")
        );
        let brave = read(&[("SEARXNG_URL", ""), ("BRAVE_SEARCH_API_KEY", "BSA-key")]).unwrap();
        assert!(
            matches!(&brave, SearchConfig::Brave { url, .. } if url.as_str() == "https://api.search.brave.com/")
        );
        assert!(!read(&[]).unwrap().is_on());
    }

    #[test]
    fn a_bad_url_names_its_key_and_the_summary_never_shows_the_key() {
        let err = read(&[("SEARXNG_URL", "searx.local:8888")]).unwrap_err();
        assert_eq!(err.key, "SEARXNG_URL");
        let err =
            read(&[("BRAVE_SEARCH_URL", "ftp://x"), ("SEARXNG_URL", "http://s")]).unwrap_err();
        assert_eq!(err.key, "BRAVE_SEARCH_URL");
        let brave = read(&[("BRAVE_SEARCH_API_KEY", "BSA-SECRET-1")]).unwrap();
        assert!(!brave.summary().contains("SECRET") && !format!("{brave:?}").contains("SECRET"));
    }
}
