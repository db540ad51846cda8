//! The `pending_actions` table: tool calls the model asked for that wait for the user's Confirm
//! button. Taking one is a single statement-level decision, so a double press, a press by someone
//! else or a late press can never run it twice.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, now_unix};
use crate::ids::{ChatId, UserId};

/// A tool call to show with Confirm / Cancel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPendingAction {
    /// The user it was shown to (the only one who may decide).
    pub user_id: UserId,
    /// Where the buttons were sent.
    pub chat_id: ChatId,
    /// Tool name.
    pub tool: String,
    /// Arguments as JSON.
    pub arguments: String,
    /// What the message said would happen.
    pub preview: String,
    /// Random word carried by the buttons.
    pub nonce: String,
    /// Seconds until it expires.
    pub ttl_secs: i64,
}

/// A pending action that was just decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAction {
    /// Row id.
    pub id: i64,
    /// Tool name.
    pub tool: String,
    /// Arguments as JSON.
    pub arguments: String,
    /// What the message said would happen.
    pub preview: String,
}

/// What the user decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Run it.
    Confirm,
    /// Drop it.
    Cancel,
}

/// The result of pressing a button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// This press decided it; run (or drop) it now.
    Decided(PendingAction),
    /// The action belongs to another user.
    NotYours,
    /// It was decided before (`confirmed` or `cancelled`).
    AlreadyDecided(String),
    /// Its time ran out.
    Expired,
    /// No such action (or the button's word does not match).
    Unknown,
}

impl Store {
    /// Stores an action waiting for a decision; returns its id.
    pub async fn add_pending_action(&self, action: NewPendingAction) -> Result<i64, StoreError> {
        self.call(move |c| {
            let now = now_unix();
            c.execute(
                "INSERT INTO pending_actions
                     (user_id, chat_id, tool, arguments, preview, nonce, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    action.user_id,
                    action.chat_id,
                    action.tool,
                    action.arguments,
                    action.preview,
                    action.nonce,
                    now,
                    now.saturating_add(action.ttl_secs)
                ],
            )?;
            Ok(c.last_insert_rowid())
        })
        .await
    }

    /// Decides action `id` for `user_id` at `now` if it is theirs, still pending and not expired;
    /// otherwise says why not. One transaction, so two presses cannot both decide it.
    pub async fn take_pending_action(
        &self,
        id: i64,
        user_id: UserId,
        nonce: &str,
        decision: Decision,
        now: i64,
    ) -> Result<Taken, StoreError> {
        let nonce = nonce.to_string();
        self.call(move |c| {
            let tx = c.transaction()?;
            let row = tx
                .query_row(
                    "SELECT user_id, nonce, state, expires_at, tool, arguments, preview
                     FROM pending_actions WHERE id = ?1",
                    [id],
                    |r| {
                        Ok((
                            r.get::<_, UserId>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, i64>(3)?,
                            PendingAction {
                                id,
                                tool: r.get(4)?,
                                arguments: r.get(5)?,
                                preview: r.get(6)?,
                            },
                        ))
                    },
                )
                .optional()?;
            let Some((owner, stored_nonce, state, expires_at, action)) = row else {
                return Ok(Taken::Unknown);
            };
            let taken = if stored_nonce != nonce {
                Taken::Unknown
            } else if owner != user_id {
                Taken::NotYours
            } else if state != "pending" {
                Taken::AlreadyDecided(state)
            } else if now >= expires_at {
                Taken::Expired
            } else {
                let new_state = match decision {
                    Decision::Confirm => "confirmed",
                    Decision::Cancel => "cancelled",
                };
                tx.execute(
                    "UPDATE pending_actions SET state = ?1, decided_at = ?2
                     WHERE id = ?3 AND state = 'pending'",
                    params![new_state, now, id],
                )?;
                Taken::Decided(action)
            };
            tx.commit()?;
            Ok(taken)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store_with_user() -> (Store, UserId) {
        let store = Store::open_in_memory().unwrap();
        let owner = store.ensure_owner(ChatId(1), "Olga", "UTC").await.unwrap();
        (store, owner.id)
    }

    fn action(user_id: UserId) -> NewPendingAction {
        NewPendingAction {
            user_id,
            chat_id: ChatId(1),
            tool: "note".into(),
            arguments: r#"{"action":"add","text":"x"}"#.into(),
            preview: "Save a note".into(),
            nonce: "abc".into(),
            ttl_secs: 600,
        }
    }

    #[tokio::test]
    async fn an_action_is_decided_once() {
        let (store, user) = store_with_user().await;
        let id = store.add_pending_action(action(user)).await.unwrap();
        let now = now_unix();
        let first = store
            .take_pending_action(id, user, "abc", Decision::Confirm, now)
            .await
            .unwrap();
        assert!(matches!(first, Taken::Decided(ref a) if a.tool == "note"));
        let second = store
            .take_pending_action(id, user, "abc", Decision::Confirm, now)
            .await
            .unwrap();
        assert_eq!(second, Taken::AlreadyDecided("confirmed".into()));
    }

    #[tokio::test]
    async fn another_user_a_wrong_word_or_a_late_press_decides_nothing() {
        let (store, user) = store_with_user().await;
        let id = store.add_pending_action(action(user)).await.unwrap();
        let now = now_unix();
        let take = |who, nonce: &'static str, at| {
            let store = store.clone();
            async move {
                store
                    .take_pending_action(id, who, nonce, Decision::Confirm, at)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(take(UserId(user.0 + 1), "abc", now).await, Taken::NotYours);
        assert_eq!(take(user, "abd", now).await, Taken::Unknown);
        assert_eq!(take(user, "abc", now + 600).await, Taken::Expired);
        assert_eq!(
            store
                .take_pending_action(id + 1, user, "abc", Decision::Confirm, now)
                .await
                .unwrap(),
            Taken::Unknown
        );
        // None of those used it up.
        assert!(matches!(take(user, "abc", now).await, Taken::Decided(_)));
    }
}
