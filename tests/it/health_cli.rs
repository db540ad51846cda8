//! `minicrew health`, the container health check, as Docker runs it: the real binary against a
//! local `/health` that is healthy, degraded, silent or absent. Exit 0 only for a 200; every
//! failure is exit 1 (Docker reserves 2) with one reason, within the probe's timeout.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves every connection `response` (after reading the request), or holds it open when `None`.
async fn fake_health(response: Option<&'static str>) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf).await;
                match response {
                    Some(r) => {
                        let _ = conn.write_all(r.as_bytes()).await;
                    }
                    None => tokio::time::sleep(Duration::from_secs(60)).await,
                }
            });
        }
    });
    addr
}

fn http(status: &str, body: &str) -> &'static str {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .leak()
}

async fn health(env_file: &str, args: &[&str]) -> (Output, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.env");
    std::fs::write(&path, env_file).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_minicrew"));
    cmd.env_clear()
        .current_dir(dir.path())
        .arg("--env-file")
        .arg(&path)
        .arg("health")
        .args(args);
    let started = Instant::now();
    let out = tokio::process::Command::from(cmd).output().await.unwrap();
    (out, started.elapsed())
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[tokio::test]
async fn health_exits_0_when_http_listen_answers_200() {
    let addr = fake_health(Some(http("200 OK", r#"{"status":"ok","reasons":[]}"#))).await;
    let (out, _) = health(&format!("HTTP_LISTEN={addr}\n"), &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
}

#[tokio::test]
async fn health_on_an_unspecified_bind_address_asks_loopback() {
    let addr = fake_health(Some(http("200 OK", r#"{"status":"ok"}"#))).await;
    let (out, _) = health(&format!("HTTP_LISTEN=0.0.0.0:{}\n", addr.port()), &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[tokio::test]
async fn a_degraded_bot_is_exit_1_with_its_reason() {
    let body =
        r#"{"status":"degraded","reasons":["polling stalled: no successful getUpdates for 130s"]}"#;
    let addr = fake_health(Some(http("503 Service Unavailable", body))).await;
    let (out, _) = health(&format!("HTTP_LISTEN={addr}\n"), &[]).await;
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("answered 503") && err.contains("polling stalled"),
        "{err}"
    );
}

#[tokio::test]
async fn a_bot_that_never_answers_is_exit_1_within_the_timeout() {
    let addr = fake_health(None).await;
    let url = format!("http://{addr}/health");
    let (out, took) = health("", &["--url", &url]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("no answer from"), "{}", stderr(&out));
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[tokio::test]
async fn a_stopped_bot_is_exit_1() {
    let free = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = free.local_addr().unwrap();
    drop(free);
    let (out, _) = health(&format!("HTTP_LISTEN={addr}\n"), &[]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no answer from"), "{}", stderr(&out));
}

#[tokio::test]
async fn without_http_listen_health_names_the_key_and_bad_config_is_exit_1_not_2() {
    let (out, _) = health("", &[]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("HTTP_LISTEN"), "{}", stderr(&out));
    let (out, _) = health("HTTP_LISTEN=nowhere\n", &[]).await;
    assert_eq!(out.status.code(), Some(1), "Docker reserves exit 2");
    assert!(stderr(&out).contains("HTTP_LISTEN"), "{}", stderr(&out));
}
