//! How far back a `/recall` with a phrase of common words looks. FTS5 finds `"the end"` by
//! reading every row that holds both words and checking where they stand; when both are common
//! that is most of a million-row history, read two or three times (count, rank, BM25's rarity),
//! tens of milliseconds. Such a query is looked for only among the newest [`WINDOW`] rows (any
//! user's) that hold its rarest word, newest first, which bounds the work. A query with any word
//! in at most [`WINDOW`] rows, or with a prefix, is searched through all history as before, so a
//! rare fact is still found however old it is.

use rusqlite::{Connection, OptionalExtension, params};

use super::recall_query::RecallQuery;

/// Rows holding a word beyond which the word counts as common.
pub(super) const WINDOW: i64 = 20_000;

/// The lowest rowid worth looking at for `query` (a phrase of common words only), or `None`
/// when all history is searched. Holds for both renderings: with every term required the rarest
/// term bounds the rows, with any term each is read back to here, no further than [`WINDOW`]
/// rows of its rarest word.
pub(super) fn floor(c: &Connection, query: &RecallQuery) -> rusqlite::Result<Option<i64>> {
    floor_within(c, query, WINDOW)
}

/// [`floor`] with the number of rows that makes a word common given.
fn floor_within(c: &Connection, query: &RecallQuery, window: i64) -> rusqlite::Result<Option<i64>> {
    if !query.has_long_phrase() {
        return Ok(None);
    }
    let mut floor = i64::MIN;
    for term in query.term_words() {
        let Some(words) = term else {
            return Ok(None);
        };
        // A term is as common as its rarest word: the newest `window`-th row of that word.
        let mut term_floor = i64::MIN;
        for word in &words {
            match nth_newest(c, word, window)? {
                Some(rowid) => term_floor = term_floor.max(rowid),
                None => return Ok(None),
            }
        }
        floor = floor.max(term_floor);
    }
    Ok(Some(floor))
}

/// The rowid of the `n`-th newest row (any user's) holding `word` (an FTS5 query of one quoted
/// word), `None` when fewer rows hold it. Reads at most `n` entries of the word's index.
fn nth_newest(c: &Connection, word: &str, n: i64) -> rusqlite::Result<Option<i64>> {
    c.prepare_cached(
        "SELECT rowid FROM memory_fts WHERE memory_fts MATCH ?1
         ORDER BY rowid DESC LIMIT 1 OFFSET ?2",
    )?
    .query_row(params![word, n - 1], |r| r.get(0))
    .optional()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn q(text: &str) -> RecallQuery {
        RecallQuery::parse(text).unwrap()
    }

    #[tokio::test]
    async fn only_a_phrase_whose_every_word_is_common_is_bounded() {
        let store = Store::open_in_memory().unwrap();
        let floors = store
            .call(|c| {
                c.execute(
                    "INSERT INTO users (chat_id, display_name, status, created_at, updated_at)
                     VALUES (1, 'U', 'active', 0, 0)",
                    [],
                )?;
                let user = c.last_insert_rowid();
                let mut insert = c.prepare(
                    "INSERT INTO chat_history (user_id, role, content, created_at)
                     VALUES (?1, 'user', ?2, 0)",
                )?;
                insert.execute(params![user, "locker code 4711"])?;
                let mut ids = Vec::new();
                for i in 0..10 {
                    insert.execute(params![user, format!("the end {i}")])?;
                    ids.push(c.last_insert_rowid());
                }
                Ok((
                    ids,
                    floor_within(c, &q(r#""the end""#), 4)?,
                    floor_within(c, &q(r#""the locker""#), 4)?,
                    floor_within(c, &q("the end"), 4)?,
                    floor_within(c, &q(r#""the end" lo*"#), 4)?,
                ))
            })
            .await
            .unwrap();
        let (ids, common, rare, words, prefix) = floors;
        assert_eq!(common, Some(ids[6]), "the 4th newest row with both words");
        assert_eq!(rare, None, "locker is in one row");
        assert_eq!(words, None, "no phrase");
        assert_eq!(prefix, None, "a prefix is not bounded");
    }
}
