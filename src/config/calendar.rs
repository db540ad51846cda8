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

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> EnvReader {
        EnvReader::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn blank_caldav_keys_mean_no_account_and_a_partial_one_names_the_missing_key() {
        let none = env(&[
            ("CALDAV_URL", ""),
            ("CALDAV_USERNAME", " "),
            ("CALDAV_PASSWORD", ""),
        ]);
        assert!(
            CalendarConfig::from_reader(&none)
                .unwrap()
                .owner_caldav
                .is_none()
        );
        let partial = env(&[
            ("CALDAV_URL", "https://dav.example.com"),
            ("CALDAV_USERNAME", "ana"),
        ]);
        let err = CalendarConfig::from_reader(&partial).unwrap_err();
        assert!(err.to_string().contains("CALDAV_PASSWORD"), "{err}");
        let bad = env(&[
            ("CALDAV_URL", "dav.example.com"),
            ("CALDAV_USERNAME", "a"),
            ("CALDAV_PASSWORD", "p"),
        ]);
        let err = CalendarConfig::from_reader(&bad).unwrap_err();
        assert!(err.to_string().contains("CALDAV_URL"), "{err}");
        let shown = format!(
            "{:?}",
            CalendarConfig::from_reader(&env(&[
                ("CALDAV_URL", "https://dav.example.com"),
                ("CALDAV_USERNAME", "ana"),
                ("CALDAV_PASSWORD", "s3cret-pw"),
            ]))
            .unwrap()
        );
        assert!(!shown.contains("s3cret-pw"), "{shown}");
    }
}
