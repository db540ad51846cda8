//! `minicrew health`: asks the running daemon's `/health` on this machine and says whether it is
//! healthy, for a container `HEALTHCHECK` or a monitoring script on an image without curl.
//! Exit 0 when `/health` answers 200 within a few seconds, else 1 with one line saying why.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use url::Url;

use crate::config::{BotMode, Config};

/// The whole request (connect, send, read the answer) must finish within this.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// At most this much of the answer is read.
const MAX_BODY: usize = 64 * 1024;

/// Why the daemon was not found healthy.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// Neither `HTTP_LISTEN` nor webhook mode: the daemon serves no `/health`.
    #[error("HTTP_LISTEN: is not set, so the bot serves no /health (set it, e.g. 127.0.0.1:9090)")]
    NotServed,
    /// No answer (refused, timed out, not HTTP).
    #[error("no answer from {url}: {reason}")]
    Unreachable {
        /// The URL asked.
        url: Url,
        /// What went wrong, without the URL.
        reason: String,
    },
    /// `/health` answered, but not 200.
    #[error("{url} answered {status}: {detail}")]
    Unhealthy {
        /// The URL asked.
        url: Url,
        /// The HTTP status.
        status: u16,
        /// The `status` and `reasons` from its JSON, or the start of its body.
        detail: String,
    },
}

/// The `/health` URL of the daemon that `config` describes: `HTTP_LISTEN` when set, else the
/// webhook server in webhook mode. An unspecified bind address (`0.0.0.0`, `[::]`) is asked on
/// loopback.
pub fn health_url(config: &Config) -> Result<Url, ProbeError> {
    let telegram = &config.telegram;
    let addr = match (telegram.http_listen, telegram.mode, &telegram.webhook) {
        (Some(addr), _, _) => addr,
        (None, BotMode::Webhook, Some(w)) => w.listen,
        _ => return Err(ProbeError::NotServed),
    };
    let addr = SocketAddr::new(loopback_if_unspecified(addr.ip()), addr.port());
    Url::parse(&format!("http://{addr}/health")).map_err(|_| ProbeError::NotServed)
}

fn loopback_if_unspecified(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        other => other,
    }
}

/// GETs `url` (no proxy, [`PROBE_TIMEOUT`]); `Ok` with the reported status when it answers 200.
pub async fn probe(url: &Url) -> Result<String, ProbeError> {
    let unreachable = |e: &dyn std::error::Error| ProbeError::Unreachable {
        url: url.clone(),
        reason: with_causes(e),
    };
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(PROBE_TIMEOUT)
        .connect_timeout(PROBE_TIMEOUT)
        .build()
        .map_err(|e| unreachable(&e.without_url()))?;
    let mut response = client
        .get(url.clone())
        .send()
        .await
        .map_err(|e| unreachable(&e.without_url()))?;
    let status = response.status().as_u16();
    let mut body = Vec::new();
    while body.len() < MAX_BODY {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) => return Err(unreachable(&e.without_url())),
        }
    }
    body.truncate(MAX_BODY);
    let detail = summarize(&body);
    if status == 200 {
        Ok(detail)
    } else {
        Err(ProbeError::Unhealthy {
            url: url.clone(),
            status,
            detail,
        })
    }
}

/// The error and its causes, `: `-separated ("error sending request: ... Connection refused").
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `status` and `reasons` from the JSON `/health` answers, or the start of another body.
fn summarize(body: &[u8]) -> String {
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) {
        let status = json["status"].as_str().unwrap_or("unknown").to_string();
        return match json["reasons"].as_array() {
            Some(p) if !p.is_empty() => {
                let reasons: Vec<&str> = p.iter().filter_map(|v| v.as_str()).collect();
                format!("{status} ({})", reasons.join("; "))
            }
            _ => status,
        };
    }
    let text = String::from_utf8_lossy(body);
    text.chars()
        .take(200)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unspecified_bind_address_is_asked_on_loopback() {
        assert_eq!(
            loopback_if_unspecified("0.0.0.0".parse().unwrap()),
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
        assert_eq!(
            loopback_if_unspecified("::".parse().unwrap()),
            IpAddr::V6(Ipv6Addr::LOCALHOST)
        );
        let lan: IpAddr = "192.168.1.5".parse().unwrap();
        assert_eq!(loopback_if_unspecified(lan), lan);
    }

    #[test]
    fn the_summary_names_the_status_and_reasons_and_never_dumps_a_huge_body() {
        let degraded = br#"{"status":"degraded","reasons":["polling stalled: no successful getUpdates for 130s"]}"#;
        assert_eq!(
            summarize(degraded),
            "degraded (polling stalled: no successful getUpdates for 130s)"
        );
        assert_eq!(summarize(br#"{"status":"ok"}"#), "ok");
        let junk = vec![b'x'; MAX_BODY];
        assert_eq!(summarize(&junk).len(), 200);
    }
}
