//! `memory_fts`: the full-text index over each user's history turns, notes and documents that
//! `/recall` searches. Triggers (migration `memory`) keep it in step with the three tables; this
//! file only reads it, always for one user.
//!
//! Ranking is BM25 lifted by recency while the user has at most [`CANDIDATES`] matches; with
//! more (common words), the newest matches win, notes and documents first (they sort above
//! history by their rowid). Either way a rare word is found however old it is, and a query costs
//! about the same at a million rows as at ten thousand. A phrase of common words is looked for
//! only in recent rows, newest first (see `recall_window`).

use rusqlite::{Connection, params};

use super::recall_query::RecallQuery;
use super::recall_window;
use super::{Store, StoreError, now_unix};
use crate::ids::UserId;

/// Most matches ranked by BM25; with more, the newest win.
const CANDIDATES: i64 = 500;
/// Most results a query returns.
pub const MAX_RECALL_RESULTS: usize = 10;
/// Words of context in a snippet.
const SNIPPET_TOKENS: i64 = 16;
/// Most characters of a snippet.
const SNIPPET_CHARS: usize = 240;
/// Age (days) at which recency no longer doubles a match's weight but adds half.
const RECENCY_HALF_DAYS: f64 = 30.0;

/// Where a recalled piece came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryKind {
    /// Something the user said.
    You,
    /// Something the assistant said.
    Assistant,
    /// A note.
    Note,
    /// A document the user sent.
    Document,
}

impl MemoryKind {
    fn parse(kind: &str) -> Self {
        match kind {
            "you" => Self::You,
            "note" => Self::Note,
            "document" => Self::Document,
            _ => Self::Assistant,
        }
    }
}

/// One match.
#[derive(Debug, Clone, PartialEq)]
pub struct Recalled {
    /// History turn, note or document.
    pub kind: MemoryKind,
    /// When it was said or saved (Unix seconds).
    pub created_at: i64,
    /// A short piece around the match, matched words between `«` and `»`.
    pub snippet: String,
    /// The `memory_fts` rowid (a history turn's id; notes and documents above 2^60).
    pub rowid: i64,
}

impl Store {
    /// The user's best matches for `query`, at most `limit` (≤ [`MAX_RECALL_RESULTS`]). Rows with
    /// every term come first; when none has them all, rows with any term. `skip_rowid` leaves one
    /// row out (the question being answered, which always matches itself).
    pub async fn recall(
        &self,
        user_id: UserId,
        query: RecallQuery,
        limit: usize,
        skip_rowid: Option<i64>,
    ) -> Result<Vec<Recalled>, StoreError> {
        let limit = limit.clamp(1, MAX_RECALL_RESULTS);
        self.call(move |c| {
            let strict = query.all_terms();
            let floor = recall_window::floor(c, &query)?;
            let found = match floor {
                Some(floor) => newest(c, user_id, &strict, floor, limit, skip_rowid)?,
                None => ranked(c, user_id, &strict, limit, skip_rowid, now_unix())?,
            };
            if !found.is_empty() || !query.has_several_terms() {
                return Ok(found);
            }
            let any = query.any_term();
            match floor {
                Some(floor) => newest(c, user_id, &any, floor, limit, skip_rowid),
                None => ranked(c, user_id, &any, limit, skip_rowid, now_unix()),
            }
        })
        .await
    }

    /// The id of the user's newest turn of their own (what they just asked), if any.
    pub async fn last_user_turn_id(&self, user_id: UserId) -> Result<Option<i64>, StoreError> {
        self.call(move |c| {
            c.query_row(
                "SELECT max(id) FROM chat_history WHERE user_id = ?1 AND role = 'user'",
                [user_id],
                |r| r.get(0),
            )
        })
        .await
    }
}

/// Ranks the newest candidates for `fts` and cuts snippets for the best `limit`.
///
/// BM25 weighs each word by how rare it is, which SQLite learns by reading every match of the
/// word once per query: cheap for the rare words people look for, but for common words at a
/// million rows it costs tens of milliseconds. So when the user has more matches than
/// [`CANDIDATES`] (the words are common), the newest matches win (notes and documents first)
/// instead; otherwise they are ranked by BM25 lifted by recency.
fn ranked(
    c: &Connection,
    user_id: UserId,
    fts: &str,
    limit: usize,
    skip_rowid: Option<i64>,
    now: i64,
) -> rusqlite::Result<Vec<Recalled>> {
    let skip = skip_rowid.unwrap_or(-1);
    let limit = i64::try_from(limit).unwrap_or(1);
    let matches: i64 = c
        .prepare_cached(
            "SELECT COUNT(*) FROM (SELECT rowid FROM memory_fts
             WHERE memory_fts MATCH ?1 AND user_id = ?2 AND rowid != ?3
             ORDER BY rowid DESC LIMIT ?4)",
        )?
        .query_row(params![fts, user_id, skip, CANDIDATES], |r| r.get(0))?;
    let row = |r: &rusqlite::Row<'_>| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
        ))
    };
    let rows = if matches >= CANDIDATES {
        c.prepare_cached(
            "SELECT rowid, created_at, kind FROM memory_fts
             WHERE memory_fts MATCH ?1 AND user_id = ?2 AND rowid != ?3
             ORDER BY rowid DESC LIMIT ?4",
        )?
        .query_map(params![fts, user_id, skip, limit], row)?
        .collect::<rusqlite::Result<Vec<_>>>()?
    } else {
        c.prepare_cached(
            "WITH candidates AS MATERIALIZED (
                 SELECT rowid, bm25(memory_fts) AS score, created_at, kind FROM memory_fts
                 WHERE memory_fts MATCH ?1 AND user_id = ?2 AND rowid != ?3)
             SELECT rowid, created_at, kind FROM candidates
             ORDER BY -score * (1.0 + 1.0 / (1.0 + max(?4 - created_at, 0) / 86400.0 / ?5)) DESC,
                      rowid DESC
             LIMIT ?6",
        )?
        .query_map(
            params![fts, user_id, skip, now, RECENCY_HALF_DAYS, limit],
            row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?
    };
    with_snippets(c, user_id, fts, rows)
}

/// The user's newest `limit` matches of `fts` at or above rowid `floor` (a phrase of common
/// words: see `recall_window`), with snippets. Stops at the `limit`-th match.
fn newest(
    c: &Connection,
    user_id: UserId,
    fts: &str,
    floor: i64,
    limit: usize,
    skip_rowid: Option<i64>,
) -> rusqlite::Result<Vec<Recalled>> {
    let skip = skip_rowid.unwrap_or(-1);
    let limit = i64::try_from(limit).unwrap_or(1);
    let rows = c
        .prepare_cached(
            "SELECT rowid, created_at, kind FROM memory_fts
             WHERE memory_fts MATCH ?1 AND user_id = ?2 AND rowid != ?3 AND rowid >= ?4
             ORDER BY rowid DESC LIMIT ?5",
        )?
        .query_map(params![fts, user_id, skip, floor, limit], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    with_snippets(c, user_id, fts, rows)
}

/// Cuts a snippet for each of the user's `(rowid, created_at, kind)` matches of `fts`.
fn with_snippets(
    c: &Connection,
    user_id: UserId,
    fts: &str,
    rows: Vec<(i64, i64, String)>,
) -> rusqlite::Result<Vec<Recalled>> {
    let mut snippet = c.prepare_cached(
        "SELECT snippet(memory_fts, 0, '«', '»', '…', ?3) FROM memory_fts
         WHERE memory_fts MATCH ?1 AND rowid = ?2 AND user_id = ?4",
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for (rowid, created_at, kind) in rows {
        let text: String =
            snippet.query_row(params![fts, rowid, SNIPPET_TOKENS, user_id], |r| r.get(0))?;
        out.push(Recalled {
            kind: MemoryKind::parse(&kind),
            created_at,
            snippet: bounded(&text),
            rowid,
        });
    }
    Ok(out)
}

/// A snippet on one line and at most [`SNIPPET_CHARS`] characters.
fn bounded(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = one_line.chars().take(SNIPPET_CHARS).collect();
    if out.len() < one_line.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ChatId;
    use crate::store::{NewDocument, NewTurn, Speaker};

    async fn store_with_users() -> (Store, UserId, UserId) {
        let store = Store::open_in_memory().unwrap();
        let a = crate::store::add_test_user(&store, ChatId(1)).await;
        let b = crate::store::add_test_user(&store, ChatId(2)).await;
        (store, a, b)
    }

    fn turn(text: &str) -> NewTurn {
        NewTurn {
            content: text.into(),
            ..NewTurn::default()
        }
    }

    fn q(text: &str) -> RecallQuery {
        RecallQuery::parse(text).unwrap()
    }

    #[tokio::test]
    async fn history_notes_and_documents_are_found_only_by_their_owner() {
        let (store, a, b) = store_with_users().await;
        store
            .add_turn(a, Speaker::User, turn("my locker code is 4711"))
            .await
            .unwrap();
        store
            .add_turn(b, Speaker::User, turn("my locker code is 9999"))
            .await
            .unwrap();
        store
            .add_note(a, "Dentist", "Tuesday at nine")
            .await
            .unwrap();
        let doc = NewDocument {
            user_id: a,
            name: "contract.pdf".into(),
            mime: None,
            text: "Termination requires three months notice.".into(),
            origin: None,
        };
        store.add_document(doc).await.unwrap();

        let found = store.recall(a, q("locker code"), 5, None).await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, MemoryKind::You);
        assert!(
            found[0].snippet.contains("«locker» «code» is 4711"),
            "{found:?}"
        );
        let note = store.recall(a, q("dentist"), 5, None).await.unwrap();
        assert_eq!(note[0].kind, MemoryKind::Note);
        let doc = store.recall(a, q("terminat*"), 5, None).await.unwrap();
        assert_eq!(doc[0].kind, MemoryKind::Document);
        assert!(
            store
                .recall(b, q("dentist"), 5, None)
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn when_no_row_has_every_word_rows_with_some_are_returned() {
        let (store, a, _) = store_with_users().await;
        store
            .add_turn(a, Speaker::User, turn("the wifi password is hunter2"))
            .await
            .unwrap();
        let found = store
            .recall(a, q("what was my wifi password"), 5, None)
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
    }

    #[tokio::test]
    async fn deleting_or_editing_a_row_updates_the_index() {
        let (store, a, _) = store_with_users().await;
        let id = store.add_note(a, "gym", "locker 12").await.unwrap();
        store
            .call(move |c| c.execute("UPDATE notes SET body = 'locker 34' WHERE id = ?1", [id]))
            .await
            .unwrap();
        assert!(store.recall(a, q("12"), 5, None).await.unwrap().is_empty());
        assert_eq!(store.recall(a, q("34"), 5, None).await.unwrap().len(), 1);
        store.delete_note(a, id).await.unwrap();
        assert!(store.recall(a, q("34"), 5, None).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_newer_match_ranks_above_an_equal_older_one() {
        let (store, a, _) = store_with_users().await;
        let old = store
            .add_turn(a, Speaker::User, turn("parking level three"))
            .await
            .unwrap();
        store
            .call(move |c| {
                c.execute(
                    "UPDATE chat_history SET created_at = created_at - 400 * 86400 WHERE id = ?1",
                    [old],
                )
            })
            .await
            .unwrap();
        let new = store
            .add_turn(a, Speaker::User, turn("parking level four"))
            .await
            .unwrap();
        let found = store.recall(a, q("parking level"), 5, None).await.unwrap();
        assert_eq!(
            found.iter().map(|r| r.rowid).collect::<Vec<_>>(),
            vec![new, old]
        );
    }

    #[tokio::test]
    async fn a_phrase_of_common_words_finds_only_that_phrase_in_the_owners_recent_rows() {
        let (store, a, b) = store_with_users().await;
        let (older, exact, b_exact) = store
            .call(move |c| {
                let tx = c.transaction()?;
                let ids = {
                    let mut insert = tx.prepare(
                        "INSERT INTO chat_history (user_id, role, content, created_at)
                         VALUES (?1, 'user', ?2, 0)",
                    )?;
                    let mut add = |user: UserId, text: &str| {
                        insert
                            .execute(params![user, text])
                            .map(|_| tx.last_insert_rowid())
                    };
                    // Beyond the newest WINDOW rows holding "the" and "end": not looked at.
                    add(a, "the end of the line")?;
                    let mut older = 0;
                    for i in 0..recall_window::WINDOW {
                        let user = if i % 2 == 0 { a } else { b };
                        // Both words in every row, as the phrase in one.
                        let text = if i == 100 {
                            "at the end".into()
                        } else {
                            format!("end the {i}")
                        };
                        let id = add(user, &text)?;
                        if i == 100 {
                            older = id;
                        }
                    }
                    let exact = add(a, "the end")?;
                    let b_exact = add(b, "the end")?;
                    add(a, "the other end")?;
                    (older, exact, b_exact)
                };
                tx.commit()?;
                Ok(ids)
            })
            .await
            .unwrap();
        let phrase = q(r#""the end""#);
        let bounded = store
            .call(move |c| recall_window::floor(c, &phrase))
            .await
            .unwrap();
        assert!(bounded.is_some(), "the bounded path is the one tested");

        let found = store.recall(a, q(r#""the end""#), 5, None).await.unwrap();
        let rowids: Vec<i64> = found.iter().map(|r| r.rowid).collect();
        assert_eq!(rowids, vec![exact, older]);
        assert!(found[0].snippet == "«the end»", "{found:?}");
        let theirs = store.recall(b, q(r#""the end""#), 5, None).await.unwrap();
        assert_eq!(
            theirs.iter().map(|r| r.rowid).collect::<Vec<_>>(),
            vec![b_exact]
        );
    }

    #[tokio::test]
    async fn with_more_matches_than_are_ranked_notes_and_the_newest_turns_win() {
        let (store, a, _) = store_with_users().await;
        let note = store
            .add_note(a, "apple pie", "grandma's recipe")
            .await
            .unwrap();
        let mut last = 0;
        for i in 0..(CANDIDATES + 20) {
            last = store
                .add_turn(a, Speaker::User, turn(&format!("apple number {i}")))
                .await
                .unwrap();
        }
        let found = store.recall(a, q("apple"), 3, None).await.unwrap();
        let rowids: Vec<i64> = found.iter().map(|r| r.rowid).collect();
        assert_eq!(rowids, vec![(1 << 60) + note, last, last - 1]);
    }
}
