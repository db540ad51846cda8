//! Which Google address a token reads: `GET gmail/v1/users/me/profile` (allowed under
//! `gmail.readonly`), so the user is told exactly which mailbox was connected.

use std::time::Duration;

use secrecy::ExposeSecret;
use serde::Deserialize;
use url::Url;

use super::{GmailError, StoredToken};
use crate::config::GmailConfig;

/// Timeout of the profile call.
const HTTP_TIMEOUT: Duration = Duration::from_secs(20);

/// Longest address shown (RFC 5321 caps a path at 256 octets; this leaves room).
const MAX_ADDRESS_CHARS: usize = 320;

/// Gmail's `users.getProfile` answer; only the address is used.
#[derive(Deserialize)]
struct Profile {
    #[serde(rename = "emailAddress")]
    email_address: String,
}

/// The Google address of the mailbox `token` reads.
pub async fn email_address(gmail: &GmailConfig, token: &StoredToken) -> Result<String, GmailError> {
    let base = gmail.api_url.as_str().trim_end_matches('/');
    let url = Url::parse(&format!("{base}/gmail/v1/users/me/profile"))
        .map_err(|_| GmailError::BadResponse("invalid GMAIL_API_URL".into()))?;
    let http = reqwest::Client::builder()
        .timeout(HTTP_TIMEOUT)
        .build()
        .map_err(GmailError::network)?;
    let response = http
        .get(url)
        .bearer_auth(token.access_token.expose_secret())
        .send()
        .await
        .map_err(GmailError::network)?;
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        return Err(GmailError::Api { status });
    }
    let body = response.bytes().await.map_err(GmailError::network)?;
    parse_address(&body)
}

/// Reads `emailAddress` and keeps it printable: no control characters, bounded length.
fn parse_address(body: &[u8]) -> Result<String, GmailError> {
    let profile: Profile = serde_json::from_slice(body)
        .map_err(|_| GmailError::BadResponse("profile without emailAddress".into()))?;
    let address: String = profile
        .email_address
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_ADDRESS_CHARS)
        .collect();
    if address.trim().is_empty() {
        return Err(GmailError::BadResponse("empty emailAddress".into()));
    }
    Ok(address)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_is_read_from_gmails_profile_answer() {
        let body = br#"{"emailAddress": "bea@example.com", "messagesTotal": 1520,
            "threadsTotal": 1207, "historyId": "802196"}"#;
        assert_eq!(parse_address(body).unwrap(), "bea@example.com");
    }

    #[test]
    fn a_hostile_address_is_cleaned_and_bounded() {
        let long = format!(r#"{{"emailAddress": "a\nb\u0007{}"}}"#, "x".repeat(10_000));
        let address = parse_address(long.as_bytes()).unwrap();
        assert!(address.starts_with("abx"));
        assert_eq!(address.chars().count(), MAX_ADDRESS_CHARS);
        assert!(parse_address(br#"{"emailAddress": ""}"#).is_err());
        assert!(parse_address(br#"{"other": 1}"#).is_err());
    }
}
