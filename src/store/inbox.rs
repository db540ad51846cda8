//! The `inbox` table: every Telegram update is stored here before it is acknowledged, so nothing
//! is lost, and its `update_id` key makes a repeated delivery a no-op.
//!
//! The insert is the one write that waits for the disk (`synchronous=FULL`). Inserts that arrive
//! while one is being committed wait on the database thread's queue and then share one commit
//! (group commit): each caller is answered only after that commit, so each stays durable before
//! it is acknowledged, and under load a sync serves many updates instead of one.

use rusqlite::{Connection, params};
use tokio::sync::oneshot;

use super::{Store, StoreError, Work, now_unix};
use crate::ids::ChatId;

/// Most inserts that share one commit.
pub(super) const MAX_BATCH: usize = 256;

const INSERT: &str = "INSERT INTO inbox (update_id, chat_id, payload, received_at)
     VALUES (?1, ?2, ?3, ?4) ON CONFLICT(update_id) DO NOTHING";

/// An inbox insert on its way to the database thread, and where its outcome goes.
pub(super) struct DurableInsert {
    update_id: i64,
    chat_id: Option<ChatId>,
    payload: String,
    received_at: i64,
    done: oneshot::Sender<Result<bool, StoreError>>,
}

/// Inserts `batch` in one durable commit and answers each insert. The insert itself cannot fail
/// for one row alone (a repeated update_id is ignored), so a failed commit is the database's
/// (busy, read-only, full) and every insert of the batch gets that error.
pub(super) fn insert_batch(conn: &mut Connection, batch: Vec<DurableInsert>) {
    // A caller that went away (cancelled) simply drops its answer.
    match insert_durably(conn, &batch) {
        Ok(inserted) => {
            for (insert, new) in batch.into_iter().zip(inserted) {
                let _ = insert.done.send(Ok(new));
            }
        }
        Err(e) => {
            for insert in batch {
                let _ = insert.done.send(Err(copy_of(&e)));
            }
        }
    }
}

/// The same error for another caller (`rusqlite::Error` is not `Clone`): SQLite's own code and
/// message, which say what to do (busy, read-only, disk full).
fn copy_of(e: &rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(*code, message.clone()))
        }
        other => StoreError::Task(other.to_string()),
    }
}

/// One transaction committed with `synchronous=FULL` (the commit waits for the disk, so it
/// survives a power loss); every other write stays `NORMAL`. Returns, per insert, whether it
/// was new.
fn insert_durably(conn: &mut Connection, batch: &[DurableInsert]) -> rusqlite::Result<Vec<bool>> {
    conn.pragma_update(None, "synchronous", "FULL")?;
    let outcome = (|| -> rusqlite::Result<Vec<bool>> {
        let tx = conn.transaction()?;
        let mut inserted = Vec::with_capacity(batch.len());
        {
            let mut stmt = tx.prepare_cached(INSERT)?;
            for i in batch {
                let rows =
                    stmt.execute(params![i.update_id, i.chat_id, i.payload, i.received_at])?;
                inserted.push(rows == 1);
            }
        }
        tx.commit()?;
        Ok(inserted)
    })();
    let restored = conn.pragma_update(None, "synchronous", "NORMAL");
    match (outcome, restored) {
        (Err(e), _) => Err(e),
        (Ok(inserted), Ok(())) => Ok(inserted),
        // The rows are durable, so they count as stored; later commits then also wait for the
        // disk, which is slower but loses nothing.
        (Ok(inserted), Err(e)) => {
            tracing::warn!(error = %e, "could not set synchronous back to NORMAL");
            Ok(inserted)
        }
    }
}

/// Closes inbox row `update_id` with `outcome`; if its chat was forgotten meanwhile, what is
/// left of the chat's finished updates goes now.
fn finish(
    c: &Connection,
    update_id: i64,
    outcome: InboxOutcome,
    error: Option<String>,
) -> rusqlite::Result<()> {
    c.prepare_cached(
        "UPDATE inbox SET status = ?1, error = ?2, handled_at = ?3 WHERE update_id = ?4",
    )?
    .execute(params![outcome.as_str(), error, now_unix(), update_id])?;
    super::user_data::purge_forgotten_chat(c, update_id)
}

/// A stored update that has not been handled yet.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingUpdate {
    /// Telegram's update id.
    pub update_id: i64,
    /// The chat it belongs to, as stored at intake (`None` for updates without one).
    pub chat_id: Option<ChatId>,
    /// The raw Update JSON as Telegram sent it.
    pub payload: String,
}

/// Final state of an inbox row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxOutcome {
    /// Handled; any replies were delivered.
    Done,
    /// Not a kind of update the bot handles (or unparseable); acknowledged and ignored.
    Skipped,
    /// Handling failed for good (the user blocked the bot, or handling panicked); never replayed.
    Failed,
}

impl InboxOutcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Skipped => "skipped",
            Self::Failed => "failed",
        }
    }
}

impl Store {
    /// Stores an update; returns `false` when this update_id was already stored (a redelivery).
    pub async fn insert_update(
        &self,
        update_id: i64,
        chat_id: Option<ChatId>,
        payload: String,
    ) -> Result<bool, StoreError> {
        let mut outcome = self
            .insert_updates(vec![(update_id, chat_id, payload)])
            .await;
        outcome
            .pop()
            .unwrap_or_else(|| Err(StoreError::Task("the inbox insert gave no outcome".into())))
    }

    /// Stores updates `(update_id, chat_id, payload)` in one durable commit (a `getUpdates`
    /// batch); returns, in order, whether each was new.
    pub async fn insert_updates(
        &self,
        rows: Vec<(i64, Option<ChatId>, String)>,
    ) -> Vec<Result<bool, StoreError>> {
        if rows.is_empty() {
            return Vec::new();
        }
        // The caller acknowledges the updates to Telegram next: they must survive a power loss,
        // not only a crash, so their commit waits for the disk (see `insert_batch`).
        let received_at = now_unix();
        let (inserts, outcomes): (Vec<_>, Vec<_>) = rows
            .into_iter()
            .map(|(update_id, chat_id, payload)| {
                let (done, outcome) = oneshot::channel();
                let insert = DurableInsert {
                    update_id,
                    chat_id,
                    payload,
                    received_at,
                    done,
                };
                (insert, outcome)
            })
            .unzip();
        if let Err(e) = self.submit(Work::Inbox(inserts)) {
            let reason = e.to_string();
            return outcomes
                .iter()
                .map(|_| Err(StoreError::Task(reason.clone())))
                .collect();
        }
        let mut results = Vec::with_capacity(outcomes.len());
        for outcome in outcomes {
            let panicked = |_| StoreError::Task("the inbox insert panicked".into());
            results.push(outcome.await.map_err(panicked).and_then(|r| r));
        }
        results
    }

    /// Updates not yet handled, oldest first (replayed at start-up). Done, skipped and failed
    /// rows are final and never come back here.
    pub async fn pending_updates(&self) -> Result<Vec<PendingUpdate>, StoreError> {
        self.call(|c| {
            let mut stmt = c.prepare(
                "SELECT update_id, chat_id, payload FROM inbox WHERE status = 'pending' ORDER BY update_id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(PendingUpdate {
                    update_id: r.get(0)?,
                    chat_id: r.get(1)?,
                    payload: r.get(2)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    /// Records how an update ended. If its chat was forgotten (`/forget`) while it was being
    /// handled, what is left of the chat's finished updates goes now (`user_data`).
    pub async fn finish_update(
        &self,
        update_id: i64,
        outcome: InboxOutcome,
        error: Option<String>,
    ) -> Result<(), StoreError> {
        self.call(move |c| finish(c, update_id, outcome, error))
            .await
    }

    /// [`Self::finish_update`] in the same trip to the database as [`Self::groups_to_leave`],
    /// unless there are groups to leave: then the row stays open and they are returned, for the
    /// caller to leave them first and then finish the update (so that a handled update has had
    /// all its effects). Returns an empty list when the row was closed.
    pub async fn finish_update_unless_groups_to_leave(
        &self,
        update_id: i64,
        outcome: InboxOutcome,
        error: Option<String>,
    ) -> Result<Vec<ChatId>, StoreError> {
        self.call(move |c| {
            let groups = super::groups::groups_to_leave(c)?;
            if groups.is_empty() {
                finish(c, update_id, outcome, error)?;
            }
            Ok(groups)
        })
        .await
    }

    /// The highest update_id stored, so polling can resume after it.
    pub async fn last_update_id(&self) -> Result<Option<i64>, StoreError> {
        self.call(|c| c.query_row("SELECT MAX(update_id) FROM inbox", [], |r| r.get(0)))
            .await
    }

    /// How many updates wait to be handled.
    pub async fn inbox_backlog(&self) -> Result<i64, StoreError> {
        self.call(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM inbox WHERE status = 'pending'",
                [],
                |r| r.get(0),
            )
        })
        .await
    }
}

impl Store {
    /// Replaces the text of stored update `update_id` (a message that held a one-time secret),
    /// keeping the update decodable.
    pub async fn replace_update_text(&self, update_id: i64, text: &str) -> Result<(), StoreError> {
        let text = text.to_string();
        self.call(move |c| {
            c.execute(
                "UPDATE inbox SET payload = json_set(payload, '$.message.text', ?1)
                 WHERE update_id = ?2 AND json_extract(payload, '$.message.text') IS NOT NULL",
                params![text, update_id],
            )?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Holds the database thread until the returned sender is dropped, so that inserts queue up
    /// behind it and reach the thread together.
    async fn hold_the_database_thread(store: &Store) -> std::sync::mpsc::Sender<()> {
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (started, running) = oneshot::channel();
        let store = store.clone();
        let _holder = tokio::spawn(async move {
            store
                .call(move |_| {
                    let _ = started.send(());
                    let _ = held.recv();
                    Ok(())
                })
                .await
        });
        running.await.expect("the holding query runs");
        release
    }

    #[tokio::test]
    async fn inserts_queued_together_are_each_answered_and_a_repeated_id_is_not_new() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let release = hold_the_database_thread(&store).await;
        let mut inserts = tokio::task::JoinSet::new();
        for id in [1, 2, 3, 2, 4] {
            let store = store.clone();
            inserts.spawn(async move {
                vec![store.insert_update(id, Some(ChatId(7)), "{}".into()).await]
            });
        }
        let polled = store.clone();
        let batch = vec![
            (5, Some(ChatId(7)), "{}".to_string()),
            (1, Some(ChatId(7)), "{}".to_string()),
        ];
        let polled = tokio::spawn(async move { polled.insert_updates(batch).await });
        // The tasks queue their inserts behind the held thread before it is released.
        tokio::task::yield_now().await;
        drop(release);
        let mut new = 0;
        while let Some(done) = inserts.join_next().await {
            for inserted in done.unwrap() {
                new += i32::from(inserted.unwrap());
            }
        }
        assert_eq!(
            new, 4,
            "ids 1 to 4 are new once each; the second 2 is a repeat"
        );
        let polled: Vec<bool> = polled
            .await
            .unwrap()
            .into_iter()
            .map(Result::unwrap)
            .collect();
        // 5 is new; 1 was queued first by the task spawned first (tasks start in spawn order).
        assert_eq!(polled, [true, false]);
        assert_eq!(store.pending_updates().await.unwrap().len(), 5);
    }

    #[tokio::test]
    async fn when_the_commit_fails_every_insert_of_the_batch_gets_the_database_error() {
        let store = Store::open_in_memory().unwrap();
        store
            .call(|c| c.pragma_update(None, "query_only", true))
            .await
            .unwrap();
        let release = hold_the_database_thread(&store).await;
        let mut inserts = tokio::task::JoinSet::new();
        let one = store.clone();
        inserts
            .spawn(async move { vec![one.insert_update(1, Some(ChatId(7)), "{}".into()).await] });
        let two = store.clone();
        inserts.spawn(async move {
            two.insert_updates(vec![
                (2, Some(ChatId(7)), "{}".into()),
                (3, None, "{}".into()),
            ])
            .await
        });
        tokio::task::yield_now().await;
        drop(release);
        let mut failed = 0;
        while let Some(done) = inserts.join_next().await {
            for outcome in done.unwrap() {
                let error = outcome.expect_err("a read-only database stores nothing");
                assert!(
                    matches!(&error, StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
                        if e.code == rusqlite::ErrorCode::ReadOnly),
                    "{error}"
                );
                failed += 1;
            }
        }
        assert_eq!(failed, 3);
    }
}
