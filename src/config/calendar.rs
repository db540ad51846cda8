//! Calendar keys: `GOOGLE_CALENDAR_API_URL` and the owner's CalDAV account (`CALDAV_URL`,
//! `CALDAV_USERNAME`, `CALDAV_PASSWORD`: all three or none).

use secrecy::SecretString;
use url::Url;

use super::{ConfigError, EnvReader};

/// The owner's CalDAV account from the environment.
#[derive(Debug, Clone)]
pub struct CalDavKeys {
    /// Base URL of the server (discovery starts here).
    pub url: Url,
    /// User name.
    pub username: String,
    /// App password.
    pub password: SecretString,
}

/// Calendar settings.
#[derive(Debug, Clone)]
pub struct CalendarConfig {
    /// Google Calendar REST base URL.
    pub google_api_url: Url,
    /// The owner's CalDAV account, when configured.
    pub owner_caldav: Option<CalDavKeys>,
}

impl CalendarConfig {
    /// Reads the calendar keys; a partial CalDAV account names the missing key.
    pub fn from_reader(env: &EnvReader) -> Result<Self, ConfigError> {
        let google_api_url = env.url_or(
            "GOOGLE_CALENDAR_API_URL",
            "https://www.googleapis.com/calendar/v3",
        )?;
        let keys = ["CALDAV_URL", "CALDAV_USERNAME", "CALDAV_PASSWORD"];
        let owner_caldav = if keys.iter().all(|k| env.get(k).is_none()) {
            None
        } else {
            let hint =
                "is needed with the other CALDAV_* keys (server URL, user name, app password)";
            let url = env.required("CALDAV_URL", hint)?;
            let url = super::reader::parse_http_url("CALDAV_URL", &url)?;
            Some(CalDavKeys {
                url,
                username: env.required("CALDAV_USERNAME", hint)?,
                password: SecretString::from(env.required("CALDAV_PASSWORD", hint)?),
            })
        };
        Ok(Self {
            google_api_url,
            owner_caldav,
        })
    }
}
