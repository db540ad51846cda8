//! The `documents` table: the text of files a user sent (PDF text layers, text files), kept so
//! `/recall` can find them later and `/export` can hand them back.

use rusqlite::params;

use super::{Store, StoreError, now_unix};
use crate::ids::UserId;

/// A stored document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// Row id.
    pub id: i64,
    /// The file name as sent (or a made-up one for text without a name).
    pub name: String,
    /// The MIME type Telegram reported, if any.
    pub mime: Option<String>,
    /// The extracted text.
    pub text: String,
    /// When it was stored (Unix seconds).
    pub created_at: i64,
}

/// A document to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDocument {
    /// Whose document it is.
    pub user_id: UserId,
    /// The file name as sent.
    pub name: String,
    /// The MIME type Telegram reported, if any.
    pub mime: Option<String>,
    /// The extracted text.
    pub text: String,
    /// The call that stored it (an update's key): the same call made again after a crash finds
    /// the row it made the first time instead of adding a second.
    pub origin: Option<String>,
}

impl Store {
    /// Stores a document's text and returns its id (the existing id for a replayed `origin`).
    pub async fn add_document(&self, doc: NewDocument) -> Result<i64, StoreError> {
        self.call(move |c| {
            let inserted = c.execute(
                "INSERT INTO documents (user_id, name, mime, text, created_at, origin)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
                params![
                    doc.user_id,
                    doc.name,
                    doc.mime,
                    doc.text,
                    now_unix(),
                    doc.origin
                ],
            )?;
            if inserted == 1 {
                return Ok(c.last_insert_rowid());
            }
            c.query_row(
                "SELECT id FROM documents WHERE origin = ?1 AND user_id = ?2",
                params![doc.origin, doc.user_id],
                |r| r.get(0),
            )
        })
        .await
    }

    /// A user's documents, oldest first.
    pub async fn list_documents(&self, user_id: UserId) -> Result<Vec<Document>, StoreError> {
        self.call(move |c| {
            let mut stmt = c.prepare(
                "SELECT id, name, mime, text, created_at FROM documents
                 WHERE user_id = ?1 ORDER BY id",
            )?;
            let rows = stmt.query_map([user_id], |r| {
                Ok(Document {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    mime: r.get(2)?,
                    text: r.get(3)?,
                    created_at: r.get(4)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    /// Deletes all of a user's documents and returns how many there were.
    pub async fn delete_documents(&self, user_id: UserId) -> Result<usize, StoreError> {
        self.call(move |c| c.execute("DELETE FROM documents WHERE user_id = ?1", [user_id]))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(user_id: UserId, name: &str, origin: Option<&str>) -> NewDocument {
        NewDocument {
            user_id,
            name: name.to_string(),
            mime: Some("text/plain".to_string()),
            text: format!("the text of {name}"),
            origin: origin.map(str::to_string),
        }
    }

    #[tokio::test]
    async fn a_document_is_stored_once_per_origin_and_only_its_owner_sees_it() {
        let store = Store::open_in_memory().unwrap();
        let first = store
            .add_document(doc(UserId(1), "a.txt", Some("u:5")))
            .await
            .unwrap();
        let again = store
            .add_document(doc(UserId(1), "a.txt", Some("u:5")))
            .await
            .unwrap();
        assert_eq!(first, again);
        store
            .add_document(doc(UserId(2), "b.txt", None))
            .await
            .unwrap();
        let mine = store.list_documents(UserId(1)).await.unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].text, "the text of a.txt");
        assert_eq!(store.delete_documents(UserId(1)).await.unwrap(), 1);
        assert!(store.list_documents(UserId(1)).await.unwrap().is_empty());
        assert_eq!(store.list_documents(UserId(2)).await.unwrap().len(), 1);
    }
}
