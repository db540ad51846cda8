//! The daily cleanup: rows past their retention go, everything else stays.

use chrono::{DateTime, TimeDelta, Utc};

use crate::scheduler::Harness;

/// Now, to the whole second (the table stores Unix seconds).
fn now_secs() -> DateTime<Utc> {
    DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap()
}

#[tokio::test]
async fn cleanup_deletes_exactly_the_expired_rows() {
    let h = Harness::new().await;
    let now = now_secs();
    let (owner, ago) = (h.owner_id, move |days: i64| {
        (now - TimeDelta::days(days)).timestamp()
    });
    h.store()
        .call(move |c| {
            for (content, at) in [("old turn", ago(31)), ("kept turn", ago(29))] {
                c.execute("INSERT INTO chat_history (user_id, role, content, created_at) VALUES (?1, 'user', ?2, ?3)", rusqlite::params![owner, content, at])?;
            }
            for (tool, at) in [("old_tool", ago(91)), ("kept_tool", ago(89))] {
                c.execute("INSERT INTO tool_logs (user_id, tool, arguments, source, status, duration_ms, created_at) VALUES (?1, ?2, '{}', 'command', 'ok', 1, ?3)", rusqlite::params![owner, tool, at])?;
            }
            for (msg, at) in [("old-mail", ago(91)), ("kept-mail", ago(89))] {
                c.execute("INSERT INTO processed_emails (user_id, message_id, processed_at) VALUES (?1, ?2, ?3)", rusqlite::params![owner, msg, at])?;
            }
            for (update_id, status, at) in [(1, "done", ago(8)), (2, "done", ago(6)), (3, "pending", ago(8)), (4, "failed", ago(8))] {
                c.execute("INSERT INTO inbox (update_id, payload, status, received_at) VALUES (?1, '{}', ?2, ?3)", rusqlite::params![update_id, status, at])?;
                c.execute("INSERT INTO outbox (update_id, chat_id, seq, text, format, status, created_at) VALUES (?1, 1, 0, ?2, 'plain', 'sent', ?3)", rusqlite::params![update_id, format!("reply {update_id}"), at])?;
            }
            for (preview, expired) in [("old button", ago(8)), ("recent button", ago(1))] {
                c.execute("INSERT INTO pending_actions (user_id, chat_id, tool, arguments, preview, nonce, created_at, expires_at) VALUES (?1, 1, 'note', '{}', ?2, 'n', ?3, ?3)", rusqlite::params![owner, preview, expired])?;
            }
            for (text, status, at) in [("old scheduled", "sent", ago(8)), ("unsent scheduled", "pending", ago(8)), ("new scheduled", "sent", ago(1))] {
                c.execute("INSERT INTO outbox (chat_id, seq, text, format, status, created_at) VALUES (1, 0, ?1, 'plain', ?2, ?3)", rusqlite::params![text, status, at])?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let report = h.store().cleanup(now, 30).await.unwrap();
    let column = |sql: &'static str| {
        h.store().call(move |c| {
            let mut stmt = c.prepare(sql)?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            rows.collect::<Result<Vec<_>, _>>()
        })
    };
    assert_eq!(
        column("SELECT content FROM chat_history").await.unwrap(),
        ["kept turn"]
    );
    assert_eq!(
        column("SELECT tool FROM tool_logs").await.unwrap(),
        ["kept_tool"]
    );
    assert_eq!(
        column("SELECT message_id FROM processed_emails")
            .await
            .unwrap(),
        ["kept-mail"]
    );
    assert_eq!(
        column("SELECT CAST(update_id AS TEXT) FROM inbox ORDER BY update_id")
            .await
            .unwrap(),
        ["2", "3"]
    );
    assert_eq!(
        column("SELECT text FROM outbox ORDER BY id").await.unwrap(),
        ["reply 2", "reply 3", "unsent scheduled", "new scheduled"]
    );
    assert_eq!(
        column("SELECT preview FROM pending_actions").await.unwrap(),
        ["recent button"]
    );
    assert_eq!(
        (
            report.history,
            report.tool_logs,
            report.processed_emails,
            report.inbox,
            report.outbox,
            report.pending_actions
        ),
        (1, 1, 1, 2, 3, 1)
    );
}
