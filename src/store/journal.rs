//! The `update_journal` table: the completed steps of an update's work (its user turn, each LLM
//! round, each tool call, a voice transcript), keyed by `update_id` and a step name. An update
//! replayed after a crash reads them back and resumes instead of doing the work again. Values
//! are JSON chosen by the step's owner; a step is written once (the first write wins).

use rusqlite::{Connection, OptionalExtension, params};

use super::history::insert_turn;
use super::{NewTurn, Speaker, Store, StoreError, now_unix};
use crate::ids::UserId;

/// Where a piece of work is journaled: the update it belongs to and the step's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepKey {
    /// The update whose work this is.
    pub update_id: i64,
    /// The step, e.g. `round:2` or `tool:3`.
    pub step: String,
}

impl StepKey {
    /// Step `step` of update `update_id`.
    pub fn new(update_id: i64, step: impl Into<String>) -> Self {
        Self {
            update_id,
            step: step.into(),
        }
    }
}

/// Writes a step unless it is there already.
pub(super) fn put(c: &Connection, update_id: i64, step: &str, value: &str) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT OR IGNORE INTO update_journal (update_id, step, value, created_at)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![update_id, step, value, now_unix()])
    .map(drop)
}

fn get(c: &Connection, update_id: i64, step: &str) -> rusqlite::Result<Option<String>> {
    c.prepare_cached("SELECT value FROM update_journal WHERE update_id = ?1 AND step = ?2")?
        .query_row(params![update_id, step], |r| r.get(0))
        .optional()
}

impl Store {
    /// The recorded value of a step, if it completed before.
    pub async fn journal_get(&self, key: &StepKey) -> Result<Option<String>, StoreError> {
        let key = key.clone();
        self.call(move |c| get(c, key.update_id, &key.step)).await
    }

    /// Records a completed step (a second write of the same step is ignored).
    pub async fn journal_put(&self, key: &StepKey, value: String) -> Result<(), StoreError> {
        let key = key.clone();
        self.call(move |c| put(c, key.update_id, &key.step, &value))
            .await
    }

    /// Stores a conversation turn once per step: a replay of the same step returns the turn
    /// stored the first time. Without a key the turn is simply stored.
    pub async fn add_turn_once(
        &self,
        key: Option<StepKey>,
        user_id: UserId,
        speaker: Speaker,
        turn: NewTurn,
    ) -> Result<i64, StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            if let Some(key) = &key
                && let Some(id) = get(&tx, key.update_id, &key.step)?
                && let Ok(id) = id.parse()
            {
                return Ok(id);
            }
            let id = insert_turn(&tx, user_id, speaker, &turn)?;
            if let Some(key) = &key {
                put(&tx, key.update_id, &key.step, &id.to_string())?;
            }
            tx.commit()?;
            Ok(id)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ChatId;

    #[tokio::test]
    async fn a_turn_is_stored_once_per_step_and_a_step_keeps_its_first_value() {
        let store = Store::open_in_memory().unwrap();
        let owner = store.ensure_owner(ChatId(1), "Olga", "UTC").await.unwrap();
        let key = StepKey::new(42, "user_turn");
        let turn = || NewTurn {
            content: "hello".into(),
            ..NewTurn::default()
        };
        let first = store
            .add_turn_once(Some(key.clone()), owner.id, Speaker::User, turn())
            .await
            .unwrap();
        let again = store
            .add_turn_once(Some(key), owner.id, Speaker::User, turn())
            .await
            .unwrap();
        assert_eq!(first, again);
        let stored: i64 = store
            .call(|c| c.query_row("SELECT COUNT(*) FROM chat_history", [], |r| r.get(0)))
            .await
            .unwrap();
        assert_eq!(stored, 1);

        let step = StepKey::new(42, "tool:1");
        assert_eq!(store.journal_get(&step).await.unwrap(), None);
        store.journal_put(&step, "first".into()).await.unwrap();
        store.journal_put(&step, "second".into()).await.unwrap();
        assert_eq!(
            store.journal_get(&step).await.unwrap().as_deref(),
            Some("first")
        );
    }
}
