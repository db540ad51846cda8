//! Classifying Gemini's error bodies (`{"error":{"code","message","status","details"}}`):
//! `RetryInfo.retryDelay`, `QuotaFailure` violations, and the 400 Google sends for a bad key.

use std::time::Duration;

use secrecy::SecretString;
use serde_json::Value;

use super::error::{LlmError, scrub};
use super::http::{ErrorReply, retry_after};
use super::retry::server_wait;

/// Maps a non-success Gemini answer to an [`LlmError`].
///
/// A `QuotaFailure` is final (no retry) when it is a per-day quota or comes without a
/// `RetryInfo`; a per-minute limit with a retry delay is an ordinary rate limit.
pub fn classify(reply: &ErrorReply, key: Option<&SecretString>) -> LlmError {
    let error = &reply.body["error"];
    let status = error["status"].as_str().unwrap_or_default();
    let message = scrub(error["message"].as_str().unwrap_or_default(), key);
    let details = error["details"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let delay = details
        .iter()
        .find(|d| type_is(d, "RetryInfo"))
        .and_then(|d| d["retryDelay"].as_str())
        .and_then(parse_delay)
        .or_else(|| retry_after(&reply.headers));
    if details.iter().any(|d| reason_is(d, "API_KEY_INVALID")) {
        return LlmError::Auth(reply.status.as_u16());
    }
    if status == "RESOURCE_EXHAUSTED" || reply.status.as_u16() == 429 {
        let quota = details.iter().find(|d| type_is(d, "QuotaFailure"));
        let per_day = quota.is_some_and(|q| q.to_string().contains("PerDay"));
        if quota.is_some() && (per_day || delay.is_none()) {
            return LlmError::Quota(message);
        }
        return LlmError::RateLimited { retry_after: delay };
    }
    LlmError::from_status(reply.status, delay, message)
}

fn type_is(detail: &Value, name: &str) -> bool {
    detail["@type"]
        .as_str()
        .is_some_and(|t| t.ends_with(&format!("google.rpc.{name}")))
}

fn reason_is(detail: &Value, reason: &str) -> bool {
    type_is(detail, "ErrorInfo") && detail["reason"] == reason
}

/// Parses a protobuf JSON duration such as `"37s"` or `"1.5s"`, through [`server_wait`]: a huge
/// value (`"1e20s"`) becomes the longest wait (the router falls back), a negative one or
/// anything that is not a duration is no hint.
pub fn parse_delay(raw: &str) -> Option<Duration> {
    let secs: f64 = raw.trim().strip_suffix('s')?.parse().ok()?;
    server_wait(secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;
    use reqwest::header::HeaderMap;
    use serde_json::json;

    fn reply(code: u16, body: Value) -> ErrorReply {
        ErrorReply {
            status: StatusCode::from_u16(code).unwrap(),
            headers: HeaderMap::new(),
            body,
        }
    }

    #[test]
    fn per_minute_limit_with_retry_info_is_a_rate_limit() {
        let body = json!({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "m",
            "details": [
              {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
               "violations": [{"quotaId": "GenerateRequestsPerMinutePerProjectPerModel"}]},
              {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"}]}});
        assert_eq!(
            classify(&reply(429, body), None),
            LlmError::RateLimited {
                retry_after: Some(Duration::from_secs(2))
            }
        );
    }

    #[test]
    fn daily_quota_is_final() {
        let body = json!({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "m",
            "details": [
              {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
               "violations": [{"quotaId": "GenerateRequestsPerDayPerProjectPerModel"}]},
              {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "20s"}]}});
        assert!(matches!(
            classify(&reply(429, body), None),
            LlmError::Quota(_)
        ));
    }

    #[test]
    fn invalid_key_400_is_an_auth_error() {
        let body = json!({"error": {"code": 400, "status": "INVALID_ARGUMENT",
            "message": "API key not valid.",
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                         "reason": "API_KEY_INVALID"}]}});
        assert_eq!(classify(&reply(400, body), None), LlmError::Auth(400));
    }

    #[test]
    fn delays_parse_from_protobuf_durations() {
        assert_eq!(parse_delay("37s"), Some(Duration::from_secs(37)));
        assert_eq!(parse_delay("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_delay("soon"), None);
    }

    #[test]
    fn hostile_delays_are_bounded_or_ignored() {
        use crate::llm::retry::LONGEST_SERVER_WAIT;
        for huge in ["1e20s", "infs", "1e400s"] {
            assert_eq!(parse_delay(huge), Some(LONGEST_SERVER_WAIT), "{huge}");
        }
        for junk in ["-1s", "NaNs", "s", "", "1e20", "-infs"] {
            assert_eq!(parse_delay(junk), None, "{junk:?}");
        }
    }
}
