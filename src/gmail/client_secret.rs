//! The OAuth client file Google Cloud downloads (`GOOGLE_CLIENT_SECRET_FILE`):
//! `{"installed": {"client_id", "client_secret", ...}}` for a Desktop app (a `"web"` client is
//! accepted too, for the webhook callback). Endpoints come from the config, not from this file.

use std::path::Path;

use secrecy::SecretString;
use serde::Deserialize;

use super::GmailError;

/// The client id and secret of the Google OAuth client. `Debug` hides the secret.
#[derive(Clone, Debug)]
pub struct ClientSecret {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`.
    pub client_secret: SecretString,
}

#[derive(Deserialize)]
struct File {
    installed: Option<Inner>,
    web: Option<Inner>,
}

#[derive(Deserialize)]
struct Inner {
    client_id: String,
    client_secret: String,
}

impl ClientSecret {
    /// Reads and parses the client file at `path`. A failure is logged with the path; the
    /// error's text (shown to users) names only the key.
    pub fn load(path: &Path) -> Result<Self, GmailError> {
        let problem = |problem: String| {
            tracing::warn!(path = %path.display(), %problem, "cannot use the Google OAuth client file");
            GmailError::ClientSecret {
                path: path.to_path_buf(),
                problem,
            }
        };
        let text = std::fs::read_to_string(path).map_err(|e| {
            problem(if e.kind() == std::io::ErrorKind::NotFound {
                "not found; create a Desktop-app OAuth client in Google Cloud and download its JSON"
                    .into()
            } else {
                e.to_string()
            })
        })?;
        Self::parse(&text).map_err(problem)
    }

    /// Parses the JSON text of a client file.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: File = serde_json::from_str(text)
            .map_err(|e| format!("not a Google OAuth client JSON ({e})"))?;
        let inner = file
            .installed
            .or(file.web)
            .ok_or("has no \"installed\" section; choose application type Desktop app")?;
        if inner.client_id.is_empty() || inner.client_secret.is_empty() {
            return Err("client_id or client_secret is empty".into());
        }
        Ok(Self {
            client_id: inner.client_id,
            client_secret: inner.client_secret.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn desktop_client_file_is_parsed_and_other_json_is_explained() {
        let text = r#"{"installed":{"client_id":"123.apps.googleusercontent.com","project_id":"p",
            "auth_uri":"https://accounts.google.com/o/oauth2/auth","token_uri":"https://oauth2.googleapis.com/token",
            "client_secret":"GOCSPX-abc","redirect_uris":["http://localhost"]}}"#;
        let secret = ClientSecret::parse(text).unwrap();
        assert_eq!(secret.client_id, "123.apps.googleusercontent.com");
        assert_eq!(secret.client_secret.expose_secret(), "GOCSPX-abc");
        assert!(!format!("{secret:?}").contains("GOCSPX"));
        let err = ClientSecret::parse(r#"{"other":{}}"#).unwrap_err();
        assert!(err.contains("Desktop app"), "{err}");
    }
}
