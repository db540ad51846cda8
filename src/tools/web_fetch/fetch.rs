//! The HTTP side of the web fetch tool: one reqwest client with the guarded resolver, redirects
//! followed by hand so every hop is checked, a time limit on the whole fetch, and a body read
//! in chunks up to a cap so a huge or endless response is cut, never buffered whole.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use reqwest::{Client, Response, redirect};
use url::Url;

use super::FetchError;
use crate::outbound::{AddressPolicy, GuardedResolver, check_url};

/// Time limit for a whole fetch, redirects and body included.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 5;
/// Bytes of body read at most; the rest is never downloaded.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// The kind of body a page has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// `text/html` or `application/xhtml+xml`.
    Html,
    /// `text/plain`.
    Text,
    /// `application/json` (or `+json`).
    Json,
}

/// A fetched response body, possibly cut at [`MAX_BODY_BYTES`].
#[derive(Debug, Clone)]
pub struct Fetched {
    /// Where the last redirect led.
    pub final_url: Url,
    /// What the body is.
    pub kind: BodyKind,
    /// The `charset` parameter of the content type, lowercased, if any.
    pub charset: Option<String>,
    /// The bytes read.
    pub body: Vec<u8>,
    /// Whether the body went on past the cap.
    pub cut: bool,
}

/// Fetches pages under an [`AddressPolicy`].
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: Client,
    policy: Arc<AddressPolicy>,
}

impl Fetcher {
    /// Builds the client: guarded resolver, no automatic redirects, no proxy from the
    /// environment (a proxy would connect on our behalf, past the address check).
    pub fn new(policy: AddressPolicy) -> Result<Self, FetchError> {
        let policy = Arc::new(policy);
        let client = Client::builder()
            .dns_resolver(Arc::new(GuardedResolver::new(Arc::clone(&policy))))
            .redirect(redirect::Policy::none())
            .no_proxy()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .user_agent(concat!(
                "minicrew/",
                env!("CARGO_PKG_VERSION"),
                " (web fetch)"
            ))
            .build()
            .map_err(|e| FetchError::Client(e.to_string()))?;
        Ok(Self { client, policy })
    }

    /// Fetches `url`, following up to [`MAX_REDIRECTS`] redirects, all within [`TIMEOUT`].
    pub async fn fetch(&self, url: &str) -> Result<Fetched, FetchError> {
        let url = Url::parse(url).map_err(|e| FetchError::InvalidUrl(e.to_string()))?;
        tokio::time::timeout(TIMEOUT, self.follow(url))
            .await
            .map_err(|_| FetchError::Timeout)?
    }

    async fn follow(&self, mut url: Url) -> Result<Fetched, FetchError> {
        for _ in 0..=MAX_REDIRECTS {
            check_url(&url, &self.policy)?;
            let response = self
                .client
                .get(url.clone())
                .header(
                    ACCEPT,
                    "text/html, text/plain;q=0.9, application/json;q=0.9",
                )
                .send()
                .await
                .map_err(|e| FetchError::from_reqwest(&e))?;
            if let Some(next) = redirect_target(&url, &response)? {
                url = next;
                continue;
            }
            return read(url, response).await;
        }
        Err(FetchError::TooManyRedirects)
    }
}

/// The next URL when `response` is a redirect with a `Location`.
fn redirect_target(current: &Url, response: &Response) -> Result<Option<Url>, FetchError> {
    if !response.status().is_redirection() {
        return Ok(None);
    }
    let Some(location) = response.headers().get(LOCATION) else {
        return Ok(None);
    };
    let location = location
        .to_str()
        .map_err(|_| FetchError::InvalidUrl("the redirect target is not text".into()))?;
    current
        .join(location)
        .map(Some)
        .map_err(|e| FetchError::InvalidUrl(format!("bad redirect target: {e}")))
}

/// Checks status and content type, then reads at most [`MAX_BODY_BYTES`].
async fn read(final_url: Url, mut response: Response) -> Result<Fetched, FetchError> {
    if !response.status().is_success() {
        return Err(FetchError::Status(response.status().as_u16()));
    }
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let (kind, charset) = parse_content_type(&content_type)?;
    let (body, cut) = read_capped(&mut response, MAX_BODY_BYTES).await?;
    Ok(Fetched {
        final_url,
        kind,
        charset,
        body,
        cut,
    })
}

/// Reads chunks until the end or `cap` bytes; says whether more was left unread.
pub async fn read_capped(
    response: &mut Response,
    cap: usize,
) -> Result<(Vec<u8>, bool), FetchError> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| FetchError::from_reqwest(&e))?
    {
        let room = cap.saturating_sub(body.len());
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

/// The body kind and charset of a (lowercased) `Content-Type` value.
fn parse_content_type(value: &str) -> Result<(BodyKind, Option<String>), FetchError> {
    let mut parts = value.split(';').map(str::trim);
    let essence = parts.next().unwrap_or("");
    let kind = match essence {
        "text/html" | "application/xhtml+xml" => BodyKind::Html,
        "text/plain" => BodyKind::Text,
        "application/json" => BodyKind::Json,
        e if e.starts_with("application/") && e.ends_with("+json") => BodyKind::Json,
        "" => {
            return Err(FetchError::UnsupportedType(
                "content of no stated type".into(),
            ));
        }
        other => return Err(FetchError::UnsupportedType(other.to_string())),
    };
    let charset = parts
        .filter_map(|p| p.strip_prefix("charset="))
        .map(|c| c.trim_matches('"').to_string())
        .next();
    Ok((kind, charset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_are_read_with_their_charset_and_others_are_refused() {
        let ok = |v: &str| parse_content_type(v).unwrap();
        assert_eq!(
            ok("text/html; charset=\"iso-8859-1\""),
            (BodyKind::Html, Some("iso-8859-1".to_string()))
        );
        assert_eq!(ok("text/plain"), (BodyKind::Text, None));
        assert_eq!(ok("application/ld+json"), (BodyKind::Json, None));
        assert!(matches!(
            parse_content_type("image/png"),
            Err(FetchError::UnsupportedType(t)) if t == "image/png"
        ));
        assert!(parse_content_type("").is_err());
    }
}
