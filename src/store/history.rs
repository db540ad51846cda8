//! The `chat_history` table: each user's conversation turns, the LLM's memory.

use rusqlite::params;

use super::{Store, StoreError, now_unix};
use crate::ids::UserId;

/// Who said a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    /// The user.
    User,
    /// The bot.
    Assistant,
}

impl Speaker {
    fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }
}

/// A turn to store.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewTurn {
    /// Text of the turn.
    pub content: String,
    /// Tools the model called to produce it (comma-separated names).
    pub tool_used: Option<String>,
    /// The model that produced it.
    pub llm_model: Option<String>,
    /// Tokens spent producing it.
    pub token_used: i64,
}

/// A stored turn.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    /// Who said it.
    pub speaker: Speaker,
    /// What was said.
    pub content: String,
}

/// A user's turns after the context window's start, newest first (read through the
/// `chat_history_user_id` index, so the cost does not grow with the history).
const CONTEXT_TURNS: &str = "SELECT role, content FROM chat_history
     WHERE user_id = ?1 AND id > ?2 AND id != ?3
     ORDER BY id DESC LIMIT ?4";

/// A user's last turns with their times, newest first, for `/history`.
const LAST_TURNS: &str = "SELECT role, content, created_at FROM chat_history WHERE user_id = ?1
     ORDER BY id DESC LIMIT ?2";

impl Store {
    /// Appends a turn to a user's history; returns its id.
    pub async fn add_turn(
        &self,
        user_id: UserId,
        speaker: Speaker,
        turn: NewTurn,
    ) -> Result<i64, StoreError> {
        self.call(move |c| insert_turn(c, user_id, speaker, &turn))
            .await
    }

    /// The last `limit` turns of a user after turn id `after_id` (the `/new` mark), oldest first,
    /// excluding the turn `exclude_id` (the message being answered, which is sent separately).
    pub async fn recent_turns(
        &self,
        user_id: UserId,
        after_id: i64,
        limit: usize,
        exclude_id: Option<i64>,
    ) -> Result<Vec<Turn>, StoreError> {
        self.call(move |c| {
            let mut stmt = c.prepare_cached(CONTEXT_TURNS)?;
            let rows = stmt.query_map(
                params![
                    user_id,
                    after_id,
                    exclude_id.unwrap_or(-1),
                    i64::try_from(limit).unwrap_or(i64::MAX)
                ],
                |r| {
                    let role: String = r.get(0)?;
                    let speaker = if role == "assistant" {
                        Speaker::Assistant
                    } else {
                        Speaker::User
                    };
                    Ok(Turn {
                        speaker,
                        content: r.get(1)?,
                    })
                },
            )?;
            let mut turns = rows.collect::<rusqlite::Result<Vec<_>>>()?;
            turns.reverse();
            Ok(turns)
        })
        .await
    }
}
/// Inserts one turn; returns its id.
pub(super) fn insert_turn(
    c: &rusqlite::Connection,
    user_id: UserId,
    speaker: Speaker,
    turn: &NewTurn,
) -> rusqlite::Result<i64> {
    c.prepare_cached(
        "INSERT INTO chat_history (user_id, role, content, tool_used, llm_model, token_used, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?.execute(params![user_id, speaker.as_str(), turn.content, turn.tool_used, turn.llm_model, turn.token_used, now_unix()],
    )?;
    Ok(c.last_insert_rowid())
}

/// A turn with its time, for `/history`.
#[derive(Debug, Clone, PartialEq)]
pub struct DatedTurn {
    /// Who said it.
    pub speaker: Speaker,
    /// What was said.
    pub content: String,
    /// When (Unix seconds).
    pub created_at: i64,
}

impl Store {
    /// The user's last `n` turns (whatever `/new` said), oldest first.
    pub async fn last_turns(
        &self,
        user_id: UserId,
        n: usize,
    ) -> Result<Vec<DatedTurn>, StoreError> {
        self.call(move |c| {
            let mut stmt = c.prepare_cached(LAST_TURNS)?;
            let rows = stmt.query_map(
                params![user_id, i64::try_from(n).unwrap_or(i64::MAX)],
                |r| {
                    let role: String = r.get(0)?;
                    Ok(DatedTurn {
                        speaker: if role == "assistant" {
                            Speaker::Assistant
                        } else {
                            Speaker::User
                        },
                        content: r.get(1)?,
                        created_at: r.get(2)?,
                    })
                },
            )?;
            let mut turns = rows.collect::<rusqlite::Result<Vec<_>>>()?;
            turns.reverse();
            Ok(turns)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SQLite's plan for `sql`, one line per step.
    fn plan(store_conn: &rusqlite::Connection, sql: &str, params: usize) -> String {
        let args: Vec<i64> = vec![1; params];
        let mut stmt = store_conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        stmt.query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap()
            .join("\n")
    }

    #[tokio::test]
    async fn the_last_turns_are_read_from_an_index_in_order_never_sorted_from_the_whole_history() {
        let store = Store::open_in_memory().unwrap();
        let plans = store
            .call(|c| Ok([plan(c, CONTEXT_TURNS, 4), plan(c, LAST_TURNS, 2)]))
            .await
            .unwrap();
        for plan in plans {
            assert!(plan.contains("chat_history_user_id"), "{plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        }
    }
}
