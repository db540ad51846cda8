//! The `notes` table: a user's saved notes (`/note`), by number and by title (a key-value
//! memory: saving a title again replaces that note).

use rusqlite::{Connection, OptionalExtension, params};

use super::{Store, StoreError, now_unix};
use crate::ids::UserId;

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

/// What saving a note by title did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SavedNote {
    /// The note's id.
    pub id: i64,
    /// A note of that title existed and now holds the new text.
    pub replaced: bool,
}

/// A title compared the way users mean it: case and surrounding spaces do not matter.
pub fn title_key(title: &str) -> String {
    title.trim().to_lowercase()
}

/// The user's notes titled `title` (by [`title_key`]), newest first. Notes are few per user, so
/// comparing in Rust (which lowercases all of Unicode, unlike SQLite's `lower`) is cheap.
fn titled(c: &Connection, user_id: UserId, title: &str) -> rusqlite::Result<Vec<Note>> {
    let key = title_key(title);
    let mut stmt =
        c.prepare("SELECT id, title, body FROM notes WHERE user_id = ?1 ORDER BY id DESC")?;
    let rows = stmt.query_map([user_id], |r| {
        Ok(Note {
            id: r.get(0)?,
            title: r.get(1)?,
            body: r.get(2)?,
        })
    })?;
    let mut out = Vec::new();
    for note in rows {
        let note = note?;
        if title_key(&note.title) == key {
            out.push(note);
        }
    }
    Ok(out)
}

impl Store {
    /// Saves a note and returns its id.
    pub async fn add_note(
        &self,
        user_id: UserId,
        title: &str,
        body: &str,
    ) -> Result<i64, StoreError> {
        self.add_note_once(user_id, title, body, None).await
    }

    /// Saves a note made by the call `origin` (see `ToolContext::once`) and returns its id; the
    /// same call made again (a replay after a crash) returns the note it made the first time.
    pub async fn add_note_once(
        &self,
        user_id: UserId,
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
    pub async fn list_notes(&self, user_id: UserId) -> Result<Vec<Note>, StoreError> {
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
    pub async fn note(&self, user_id: UserId, id: i64) -> Result<Option<Note>, StoreError> {
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

    /// Saves `body` under `title` for the call `origin`: the user's newest note of that title
    /// (compared case-insensitively) is replaced in place, otherwise a note is added. The same
    /// call made again (a replay after a crash) finds the note it saved instead of saving twice.
    pub async fn save_note_once(
        &self,
        user_id: UserId,
        title: &str,
        body: &str,
        origin: Option<String>,
    ) -> Result<SavedNote, StoreError> {
        let (title, body) = (title.to_string(), body.to_string());
        self.call(move |c| {
            let tx = c.transaction()?;
            if let Some(origin) = &origin {
                let replayed = tx
                    .query_row(
                        "SELECT id, updated_at IS NOT NULL FROM notes WHERE origin = ?1 AND user_id = ?2",
                        params![origin, user_id],
                        |r| Ok(SavedNote { id: r.get(0)?, replaced: r.get(1)? }),
                    )
                    .optional()?;
                if let Some(saved) = replayed {
                    return Ok(saved);
                }
            }
            let existing = titled(&tx, user_id, &title)?.into_iter().next();
            let saved = match existing {
                Some(note) => {
                    tx.execute(
                        "UPDATE notes SET title = ?1, body = ?2, origin = ?3, updated_at = ?4
                         WHERE id = ?5 AND user_id = ?6",
                        params![title, body, origin, now_unix(), note.id, user_id],
                    )?;
                    SavedNote { id: note.id, replaced: true }
                }
                None => {
                    tx.execute(
                        "INSERT INTO notes (user_id, title, body, created_at, origin)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![user_id, title, body, now_unix(), origin],
                    )?;
                    SavedNote { id: tx.last_insert_rowid(), replaced: false }
                }
            };
            tx.commit()?;
            Ok(saved)
        })
        .await
    }

    /// The user's notes whose title is `title` (case-insensitive), newest first.
    pub async fn notes_titled(
        &self,
        user_id: UserId,
        title: &str,
    ) -> Result<Vec<Note>, StoreError> {
        let title = title.to_string();
        self.call(move |c| titled(c, user_id, &title)).await
    }

    /// Deletes the user's notes titled `title` (case-insensitive); returns how many there were.
    pub async fn delete_notes_titled(
        &self,
        user_id: UserId,
        title: &str,
    ) -> Result<usize, StoreError> {
        let title = title.to_string();
        self.call(move |c| {
            let tx = c.transaction()?;
            let mut deleted = 0;
            for note in titled(&tx, user_id, &title)? {
                deleted += tx.execute(
                    "DELETE FROM notes WHERE id = ?1 AND user_id = ?2",
                    params![note.id, user_id],
                )?;
            }
            tx.commit()?;
            Ok(deleted)
        })
        .await
    }

    /// Deletes one of the user's notes; returns whether it existed.
    pub async fn delete_note(&self, user_id: UserId, id: i64) -> Result<bool, StoreError> {
        self.call(move |c| {
            Ok(c.execute(
                "DELETE FROM notes WHERE user_id = ?1 AND id = ?2",
                params![user_id, id],
            )? == 1)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ChatId;

    async fn store_with_user() -> (Store, UserId) {
        let store = Store::open_in_memory().unwrap();
        let id = crate::store::add_test_user(&store, ChatId(1)).await;
        (store, id)
    }

    #[tokio::test]
    async fn saving_a_title_again_replaces_that_note_whatever_its_case() {
        let (store, user) = store_with_user().await;
        let first = store
            .save_note_once(user, "Locker code", "4711", Some("u:1".into()))
            .await
            .unwrap();
        assert!(!first.replaced);
        let second = store
            .save_note_once(user, "locker CODE", "4712", Some("u:2".into()))
            .await
            .unwrap();
        assert_eq!(
            second,
            SavedNote {
                id: first.id,
                replaced: true
            }
        );
        let notes = store.list_notes(user).await.unwrap();
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].body, "4712");
        // A replay of the second call finds what it did.
        let replay = store
            .save_note_once(user, "locker CODE", "4712", Some("u:2".into()))
            .await
            .unwrap();
        assert_eq!(replay, second);
        assert_eq!(
            store
                .delete_notes_titled(user, " LOCKER code ")
                .await
                .unwrap(),
            1
        );
        assert!(store.list_notes(user).await.unwrap().is_empty());
    }
}
