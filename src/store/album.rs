//! Albums in the inbox: Telegram delivers each photo of an album as its own update, sharing a
//! `media_group_id`. The first one handled (the leader) claims the others, so the album is
//! answered once. Claiming is one transaction: the set of parts is journaled under the leader
//! (first write wins, so a replay of the leader gets the same set) and each part is closed as
//! done, so it is neither answered on its own nor replayed.

use rusqlite::{OptionalExtension, params};

use super::{PendingUpdate, Store, StoreError, now_unix};
use crate::ids::ChatId;

/// The journal step that holds an album's parts.
const ALBUM_STEP: &str = "album";

/// Most parts besides the leader (Telegram albums hold at most 10 items).
const MAX_PARTS: i64 = 9;

/// Pending photos of `chat_id` in album `group`, other than `leader`, oldest first.
const PARTS_SQL: &str = "SELECT update_id FROM inbox
     WHERE status = 'pending' AND chat_id = ?1 AND update_id != ?3
       AND json_extract(payload, '$.message.media_group_id') = ?2
       AND json_extract(payload, '$.message.photo') IS NOT NULL
     ORDER BY update_id LIMIT ?4";

impl Store {
    /// How many other photos of album `group` wait in `chat_id`'s inbox besides `leader`.
    pub async fn pending_album_parts(
        &self,
        chat_id: ChatId,
        group: &str,
        leader: i64,
    ) -> Result<usize, StoreError> {
        let group = group.to_string();
        self.call(move |c| {
            let mut stmt = c.prepare(PARTS_SQL)?;
            let ids = stmt.query_map(params![chat_id, group, leader, MAX_PARTS], |r| {
                r.get::<_, i64>(0)
            })?;
            Ok(ids.count())
        })
        .await
    }

    /// Whether `leader` already claimed its album's parts (it is being replayed).
    pub async fn album_claimed(&self, leader: i64) -> Result<bool, StoreError> {
        self.call(move |c| {
            c.query_row(
                "SELECT 1 FROM update_journal WHERE update_id = ?1 AND step = ?2",
                params![leader, ALBUM_STEP],
                |_| Ok(()),
            )
            .optional()
            .map(|found| found.is_some())
        })
        .await
    }

    /// Claims the other photos of album `group` for `leader` and returns them, oldest first:
    /// the parts pending now, or on a replay the parts claimed the first time.
    pub async fn claim_album(
        &self,
        leader: i64,
        chat_id: ChatId,
        group: &str,
    ) -> Result<Vec<PendingUpdate>, StoreError> {
        let group = group.to_string();
        self.call(move |c| {
            let tx = c.transaction()?;
            let recorded: Option<String> = tx
                .query_row(
                    "SELECT value FROM update_journal WHERE update_id = ?1 AND step = ?2",
                    params![leader, ALBUM_STEP],
                    |r| r.get(0),
                )
                .optional()?;
            let ids: Vec<i64> = match recorded {
                Some(value) => serde_json::from_str(&value).unwrap_or_default(),
                None => {
                    let mut stmt = tx.prepare(PARTS_SQL)?;
                    let ids = stmt
                        .query_map(params![chat_id, group, leader, MAX_PARTS], |r| r.get(0))?
                        .collect::<Result<Vec<i64>, _>>()?;
                    drop(stmt);
                    let value = serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into());
                    super::journal::put(&tx, leader, ALBUM_STEP, &value)?;
                    ids
                }
            };
            let mut parts = Vec::with_capacity(ids.len());
            for id in ids {
                tx.execute(
                    "UPDATE inbox SET status = 'done', error = ?1, handled_at = ?2
                     WHERE update_id = ?3 AND status = 'pending'",
                    params![
                        format!("answered with the album of update {leader}"),
                        now_unix(),
                        id
                    ],
                )?;
                let part = tx
                    .query_row(
                        "SELECT update_id, chat_id, payload FROM inbox WHERE update_id = ?1",
                        [id],
                        |r| {
                            Ok(PendingUpdate {
                                update_id: r.get(0)?,
                                chat_id: r.get(1)?,
                                payload: r.get(2)?,
                            })
                        },
                    )
                    .optional()?;
                parts.extend(part);
            }
            tx.commit()?;
            Ok(parts)
        })
        .await
    }

    /// Whether update `update_id` still waits to be handled (an album's part that its leader
    /// claimed does not).
    pub async fn update_is_pending(&self, update_id: i64) -> Result<bool, StoreError> {
        self.call(move |c| {
            c.query_row(
                "SELECT status = 'pending' FROM inbox WHERE update_id = ?1",
                [update_id],
                |r| r.get(0),
            )
            .optional()
            .map(|pending| pending.unwrap_or(false))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo(update_id: i64, group: &str) -> String {
        serde_json::json!({"update_id": update_id, "message": {"media_group_id": group,
            "photo": [{"file_id": format!("p{update_id}")}]}})
        .to_string()
    }

    #[tokio::test]
    async fn a_leader_claims_its_album_once_and_a_replay_gets_the_same_parts() {
        let store = Store::open_in_memory().unwrap();
        for (id, group) in [(1, "g"), (2, "g"), (3, "other"), (4, "g")] {
            store
                .insert_update(id, Some(ChatId(5)), photo(id, group))
                .await
                .unwrap();
        }
        store
            .insert_update(6, Some(ChatId(9)), photo(6, "g"))
            .await
            .unwrap();
        assert_eq!(
            store.pending_album_parts(ChatId(5), "g", 1).await.unwrap(),
            2
        );

        let parts = store.claim_album(1, ChatId(5), "g").await.unwrap();
        let ids: Vec<i64> = parts.iter().map(|p| p.update_id).collect();
        assert_eq!(ids, [2, 4], "same chat, same album, oldest first");
        assert!(!store.update_is_pending(2).await.unwrap());
        assert!(
            store.update_is_pending(1).await.unwrap(),
            "the leader answers"
        );
        assert!(store.update_is_pending(3).await.unwrap());
        assert!(store.album_claimed(1).await.unwrap());

        let again = store.claim_album(1, ChatId(5), "g").await.unwrap();
        assert_eq!(
            again.iter().map(|p| p.update_id).collect::<Vec<_>>(),
            [2, 4]
        );
        let pending = store.pending_updates().await.unwrap();
        let left: Vec<i64> = pending.iter().map(|p| p.update_id).collect();
        assert_eq!(left, [1, 3, 6]);
    }
}
