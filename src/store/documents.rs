//! The `documents` table: the text of files a user sent (PDF text layers, text files), kept so
//! `/recall` can find them later and `/export` can hand them back.

use rusqlite::params;

use super::{Store, StoreError, now_unix};
use crate::ids::UserId;

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
        let texts_of = |user: UserId| {
            store.call(move |c| {
                let mut rows = c.prepare("SELECT text FROM documents WHERE user_id = ?1")?;
                let texts = rows.query_map([user], |r| r.get::<_, String>(0))?;
                texts.collect::<Result<Vec<_>, _>>()
            })
        };
        assert_eq!(texts_of(UserId(1)).await.unwrap(), ["the text of a.txt"]);
        assert_eq!(texts_of(UserId(2)).await.unwrap(), ["the text of b.txt"]);
    }
}
