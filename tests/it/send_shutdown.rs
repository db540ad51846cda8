//! Shutdown reaches a reply waiting to be sent again: the outbox sender ends its retry backoff at
//! once and leaves the chunk pending in the outbox, so the next start sends it.

use std::time::Duration;

use minicrew::ids::ChatId;
use minicrew::message::Reply;
use minicrew::store::Store;
use minicrew::telegram::build_bot;
use minicrew::telegram::send::{SendError, TelegramSender};
use secrecy::SecretString;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::support::app::{OWNER, WAIT};
use crate::support::logs::Logs;

/// How soon the sender must give up after shutdown; without it, the backoffs still ahead of a
/// first failure (1 + 2 + 4 + 8 + 16 s) keep it for half a minute.
const PROMPTLY: Duration = Duration::from_secs(2);

#[tokio::test]
async fn shutdown_during_a_send_retry_backoff_returns_promptly_and_keeps_the_reply_pending() {
    let (logs, _guard) = Logs::capture_this_thread();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // Nothing listens on this port any more: every send fails to connect, and is retried.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let api = Url::parse(&format!("http://{closed}/")).unwrap();
    let bot = build_bot(&SecretString::from("123:TEST"), &api).unwrap();
    let shutdown = CancellationToken::new();
    let sender = TelegramSender::new(bot, store.clone(), 0, 0).with_shutdown(shutdown.clone());
    let rows = sender
        .queue(None, vec![Reply::plain(ChatId(OWNER), "hello")])
        .await
        .unwrap();
    let ids = rows.iter().map(|r| r.id).collect::<Vec<_>>();
    let delivery = tokio::spawn({
        let sender = sender.clone();
        async move { sender.deliver(&rows).await }
    });

    let deadline = Instant::now() + WAIT;
    while logs.with_words(&["send failed; retrying"]).is_empty() {
        assert!(Instant::now() < deadline, "the first send never failed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    shutdown.cancel();
    let result = tokio::time::timeout(PROMPTLY, delivery)
        .await
        .expect("the sender stops waiting at shutdown")
        .unwrap();

    assert!(matches!(result, Err(SendError::Stopped)), "{result:?}");
    let stored = store.chunks_by_id(ids).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].status, "pending", "the reply is not given up");
    assert_eq!(stored[0].message_id, None);
}
