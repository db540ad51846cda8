//! The `notes` table: a user's saved notes (`/note`).

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, now_unix};

/// A saved note.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    /// Note id, shown to the user.
    pub id: i64,
    /// First line / title.
    pub title: String,
    /// Full text.
    pub body: String,
}

impl Store {
    /// Saves a note and returns its id.
    pub async fn add_note(&self, user_id: i64, title: &str, body: &str) -> Result<i64, StoreError> {
        self.add_note_once(user_id, title, body, None).await
    }

    /// Saves a note made by the call `origin` (see `ToolContext::once`) and returns its id; the
    /// same call made again (a replay after a crash) returns the note it made the first time.
    pub async fn add_note_once(
        &self,
        user_id: i64,
        title: &str,
        body: &str,
        origin: Option<String>,
    ) -> Result<i64, StoreError> {
        let (title, body) = (title.to_string(), body.to_string());
        self.call(move |c| {
            let inserted = c.execute(
                "INSERT INTO notes (user_id, title, body, created_at, origin)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                params![user_id, title, body, now_unix(), origin],
            )?;
            if inserted == 1 {
                return Ok(c.last_insert_rowid());
            }
            c.query_row(
                "SELECT id FROM notes WHERE origin = ?1 AND user_id = ?2",
                params![origin, user_id],
                |r| r.get(0),
            )
        })
        .await
    }

    /// A user's notes, newest first.
    pub async fn list_notes(&self, user_id: i64) -> Result<Vec<Note>, StoreError> {
        self.call(move |c| {
            let mut stmt =
                c.prepare("SELECT id, title, body FROM notes WHERE user_id = ?1 ORDER BY id DESC")?;
            let rows = stmt.query_map([user_id], |r| {
                Ok(Note {
                    id: r.get(0)?,
                    title: r.get(1)?,
                    body: r.get(2)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    /// One of the user's notes.
    pub async fn note(&self, user_id: i64, id: i64) -> Result<Option<Note>, StoreError> {
        self.call(move |c| {
            c.query_row(
                "SELECT id, title, body FROM notes WHERE user_id = ?1 AND id = ?2",
                params![user_id, id],
                |r| {
                    Ok(Note {
                        id: r.get(0)?,
                        title: r.get(1)?,
                        body: r.get(2)?,
                    })
                },
            )
            .optional()
        })
        .await
    }

    /// Deletes one of the user's notes; returns whether it existed.
    pub async fn delete_note(&self, user_id: i64, id: i64) -> Result<bool, StoreError> {
        self.call(move |c| {
            Ok(c.execute(
                "DELETE FROM notes WHERE user_id = ?1 AND id = ?2",
                params![user_id, id],
            )? == 1)
        })
        .await
    }
}
