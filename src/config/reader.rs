//! Typed reads of environment keys: every getter names the key in its error, so a bad `.env`
//! stops the program with one line saying which key is wrong and why.

use std::collections::HashMap;
use std::str::FromStr;

use secrecy::SecretString;
use url::Url;

/// A configuration key that is missing or invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {problem}")]
pub struct ConfigError {
    /// The environment key at fault, e.g. `OWNER_TELEGRAM_CHAT_ID`.
    pub key: String,
    /// What is wrong with it, in words a user can act on (never the secret value).
    pub problem: String,
}

impl ConfigError {
    /// An error for `key`.
    pub fn new(key: &str, problem: impl Into<String>) -> Self {
        Self {
            key: key.to_string(),
            problem: problem.into(),
        }
    }
}

/// Key/value pairs from `.env` overlaid by the process environment.
#[derive(Debug, Default, Clone)]
pub struct EnvReader {
    values: HashMap<String, String>,
    blank: std::collections::HashSet<String>,
}

impl EnvReader {
    /// Wraps a map of raw values (blank values count as unset).
    pub fn new(values: HashMap<String, String>) -> Self {
        let (blank, values): (HashMap<_, _>, HashMap<_, _>) =
            values.into_iter().partition(|(_, v)| v.trim().is_empty());
        Self {
            values,
            blank: blank.into_keys().collect(),
        }
    }

    /// Whether `key` is present but set to an empty value (`KEY=`), which some keys read as "off".
    pub fn is_blank(&self, key: &str) -> bool {
        self.blank.contains(key)
    }

    /// Every key that is set, blank or not.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.values
            .keys()
            .chain(self.blank.iter())
            .map(String::as_str)
    }

    /// The trimmed value of `key`, if set and not blank.
    pub fn get(&self, key: &str) -> Option<String> {
        self.values.get(key).map(|v| v.trim().to_string())
    }

    /// Whether `key` is set to a non-blank value.
    pub fn is_set(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }

    /// The value of `key`, or an error saying it is required and `hint`.
    pub fn required(&self, key: &str, hint: &str) -> Result<String, ConfigError> {
        self.get(key)
            .ok_or_else(|| ConfigError::new(key, format!("is required; {hint}")))
    }

    /// A string with a default.
    pub fn string_or(&self, key: &str, default: &str) -> String {
        self.get(key).unwrap_or_else(|| default.to_string())
    }

    /// A secret (API key, token); the value is never printed.
    pub fn secret(&self, key: &str) -> Option<SecretString> {
        self.get(key).map(SecretString::from)
    }

    /// A value parsed with `FromStr`, with a default when unset.
    pub fn parsed_or<T: FromStr>(
        &self,
        key: &str,
        default: T,
        expected: &str,
    ) -> Result<T, ConfigError> {
        match self.get(key) {
            None => Ok(default),
            Some(raw) => raw
                .parse()
                .map_err(|_| ConfigError::new(key, format!("expected {expected}, got '{raw}'"))),
        }
    }

    /// A boolean: true/false, yes/no, 1/0, on/off.
    pub fn bool_or(&self, key: &str, default: bool) -> Result<bool, ConfigError> {
        match self.get(key).map(|v| v.to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if matches!(v.as_str(), "true" | "yes" | "1" | "on") => Ok(true),
            Some(v) if matches!(v.as_str(), "false" | "no" | "0" | "off") => Ok(false),
            Some(v) => Err(ConfigError::new(
                key,
                format!("expected true or false, got '{v}'"),
            )),
        }
    }

    /// An absolute http(s) URL, with a default; a trailing slash is removed.
    pub fn url_or(&self, key: &str, default: &str) -> Result<Url, ConfigError> {
        let raw = self.string_or(key, default);
        parse_http_url(key, &raw)
    }
}

/// Parses an absolute http or https URL for `key`, dropping a trailing slash from its path.
pub fn parse_http_url(key: &str, raw: &str) -> Result<Url, ConfigError> {
    let trimmed = raw.trim_end_matches('/');
    let url = Url::parse(trimmed)
        .map_err(|e| ConfigError::new(key, format!("is not a valid URL ('{trimmed}': {e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::new(key, "must start with http:// or https://"));
    }
    Ok(url)
}

/// The closest known key to `unknown` (a likely typo), if any is within two edits.
pub fn near_miss<'a>(unknown: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (edit_distance(unknown, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(pairs: &[(&str, &str)]) -> EnvReader {
        EnvReader::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn blank_values_count_as_unset() {
        let r = reader(&[("A", "  ")]);
        assert!(!r.is_set("A"));
        assert_eq!(r.required("A", "set it").unwrap_err().key, "A");
    }

    #[test]
    fn parse_error_names_key_and_value() {
        let r = reader(&[("PORT", "eighty")]);
        let err = r.parsed_or::<u16>("PORT", 1, "a port number").unwrap_err();
        assert_eq!(
            err.to_string(),
            "PORT: expected a port number, got 'eighty'"
        );
    }

    #[test]
    fn urls_must_be_http_and_lose_trailing_slash() {
        let r = reader(&[("U", "https://example.org/v1/"), ("F", "ftp://x")]);
        assert_eq!(
            r.url_or("U", "http://a").unwrap().as_str(),
            "https://example.org/v1"
        );
        assert!(r.url_or("F", "http://a").is_err());
    }

    #[test]
    fn typo_of_known_key_is_found() {
        let known = ["TELEGRAM_BOT_TOKEN", "BOT_MODE"];
        assert_eq!(
            near_miss("TELEGRAM_BOT_TOKN", &known),
            Some("TELEGRAM_BOT_TOKEN")
        );
        assert_eq!(near_miss("SOMETHING_ELSE", &known), None);
    }
}
