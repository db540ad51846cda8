//! Google OAuth 2.0 for Gmail and Calendar (one consent) with the `oauth2` crate: the consent URL (PKCE S256, random
//! `state`, offline access, forced consent so a refresh token is issued), the code exchange, the
//! refresh, and the revocation.

use std::borrow::Cow;
use std::time::Duration;

use oauth2::basic::{BasicClient, BasicErrorResponseType, BasicRequestTokenError};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret as OauthSecret, CsrfToken,
    EndpointNotSet, EndpointSet, HttpClientError, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RefreshToken, Scope, TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::{ClientSecret, GmailError, StoredToken};
use crate::config::GmailConfig;
use crate::store::now_unix;

/// Read-only Gmail.
pub const GMAIL_SCOPE: &str = "https://www.googleapis.com/auth/gmail.readonly";
/// Calendar events (read and create); asked in the same consent as Gmail.
pub const CALENDAR_SCOPE: &str = "https://www.googleapis.com/auth/calendar.events";

/// Timeout of every call to Google's OAuth endpoints.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

type OauthClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// A consent URL and the secrets the redirect must be matched against.
#[derive(Debug)]
pub struct ConsentRequest {
    /// The URL to open in a browser.
    pub url: Url,
    /// The random `state` sent with it.
    pub state: String,
    /// The PKCE code verifier (its S256 challenge is in the URL).
    pub verifier: SecretString,
}

/// Google's OAuth endpoints for one OAuth client; cheap to clone.
#[derive(Clone, Debug)]
pub struct GmailAuth {
    client: OauthClient,
    client_secret: ClientSecret,
    revoke_url: Url,
    http: reqwest::Client,
}

impl GmailAuth {
    /// Reads `GOOGLE_CLIENT_SECRET_FILE` and points at the configured endpoints.
    pub fn new(config: &GmailConfig) -> Result<Self, GmailError> {
        Self::with_client(ClientSecret::load(&config.client_secret_file)?, config)
    }

    /// Uses an already loaded client secret.
    pub fn with_client(secret: ClientSecret, config: &GmailConfig) -> Result<Self, GmailError> {
        let client = BasicClient::new(ClientId::new(secret.client_id.clone()))
            .set_client_secret(OauthSecret::new(
                secret.client_secret.expose_secret().into(),
            ))
            .set_auth_type(AuthType::RequestBody)
            .set_auth_uri(AuthUrl::from_url(config.auth_url.clone()))
            .set_token_uri(TokenUrl::from_url(config.token_url.clone()));
        let http = reqwest::Client::builder()
            // The oauth2 crate requires no redirects (a redirect could leak the code elsewhere).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .build()
            .map_err(GmailError::network)?;
        Ok(Self {
            client,
            client_secret: secret,
            revoke_url: revoke_url(&config.token_url),
            http,
        })
    }

    /// A fresh consent URL redirecting to `redirect_uri`.
    pub fn consent(&self, redirect_uri: &Url) -> ConsentRequest {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = self
            .client
            .authorize_url(CsrfToken::new_random)
            .set_redirect_uri(Cow::Owned(RedirectUrl::from_url(redirect_uri.clone())))
            .add_scope(Scope::new(GMAIL_SCOPE.into()))
            .add_scope(Scope::new(CALENDAR_SCOPE.into()))
            .set_pkce_challenge(challenge)
            .add_extra_param("access_type", "offline")
            .add_extra_param("prompt", "consent")
            .url();
        ConsentRequest {
            url,
            state: state.secret().clone(),
            verifier: verifier.secret().clone().into(),
        }
    }

    /// Exchanges an authorization `code` for tokens; Google must issue a refresh token.
    pub async fn exchange_code(
        &self,
        code: &str,
        verifier: &SecretString,
        redirect_uri: &Url,
    ) -> Result<StoredToken, GmailError> {
        let response = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.expose_secret().to_string()))
            .set_redirect_uri(Cow::Owned(RedirectUrl::from_url(redirect_uri.clone())))
            .request_async(&self.http)
            .await
            .map_err(|e| token_error(e, false))?;
        let refresh = response
            .refresh_token()
            .ok_or(GmailError::NoRefreshToken)?
            .secret()
            .clone();
        Ok(to_stored(&response, refresh.into()))
    }

    /// Obtains a new access token; keeps the old refresh token when Google sends none.
    pub async fn refresh(&self, token: &StoredToken) -> Result<StoredToken, GmailError> {
        let refresh = RefreshToken::new(token.refresh_token.expose_secret().to_string());
        let response = self
            .client
            .exchange_refresh_token(&refresh)
            .request_async(&self.http)
            .await
            .map_err(|e| token_error(e, true))?;
        let refresh_token = match response.refresh_token() {
            Some(new) => new.secret().clone().into(),
            None => token.refresh_token.clone(),
        };
        Ok(to_stored(&response, refresh_token))
    }

    /// Revokes the grant at Google (RFC 7009 form POST of the refresh token).
    ///
    /// Done with reqwest directly: the oauth2 crate refuses non-https revocation URLs, which
    /// would make the endpoint impossible to fake in tests.
    pub async fn revoke(&self, token: &StoredToken) -> Result<(), GmailError> {
        let response = self
            .http
            .post(self.revoke_url.clone())
            .form(&[
                ("token", token.refresh_token.expose_secret()),
                ("client_id", self.client_secret.client_id.as_str()),
                (
                    "client_secret",
                    self.client_secret.client_secret.expose_secret(),
                ),
            ])
            .send()
            .await
            .map_err(GmailError::network)?;
        match response.status().as_u16() {
            200..=299 => Ok(()),
            // Already revoked or expired: the grant is gone, which is what we wanted.
            400 => Ok(()),
            status => Err(GmailError::Api { status }),
        }
    }
}

/// Google's revocation endpoint lives beside its token endpoint: `<origin of token URL>/revoke`.
pub fn revoke_url(token_url: &Url) -> Url {
    let mut url = token_url.clone();
    url.set_path("/revoke");
    url.set_query(None);
    url
}

fn to_stored(response: &oauth2::basic::BasicTokenResponse, refresh: SecretString) -> StoredToken {
    StoredToken {
        access_token: response.access_token().secret().clone().into(),
        refresh_token: refresh,
        expires_at: response
            .expires_in()
            .map(|d| now_unix() + i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2)),
        scope: response.scopes().map(|scopes| {
            scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        }),
    }
}

/// Maps an oauth2 error without ever including the response body (it may hold tokens).
fn token_error(
    e: BasicRequestTokenError<HttpClientError<reqwest::Error>>,
    refreshing: bool,
) -> GmailError {
    use oauth2::RequestTokenError as E;
    match e {
        E::ServerResponse(r)
            if refreshing && *r.error() == BasicErrorResponseType::InvalidGrant =>
        {
            GmailError::ReconnectNeeded
        }
        E::ServerResponse(r) => GmailError::TokenRequest(r.error().to_string()),
        E::Request(HttpClientError::Reqwest(e)) => GmailError::network(*e),
        E::Request(_) => GmailError::Network("request failed".into()),
        E::Parse(_, _) => GmailError::BadResponse("unreadable token answer".into()),
        E::Other(_) => GmailError::TokenRequest("unexpected answer".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoke_url_is_beside_the_token_endpoint() {
        let google = Url::parse("https://oauth2.googleapis.com/token").unwrap();
        assert_eq!(
            revoke_url(&google).as_str(),
            "https://oauth2.googleapis.com/revoke"
        );
        let fake = Url::parse("http://127.0.0.1:4000/oauth/token?x=1").unwrap();
        assert_eq!(revoke_url(&fake).as_str(), "http://127.0.0.1:4000/revoke");
    }
}
