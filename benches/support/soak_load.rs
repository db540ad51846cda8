//! The soak bench's message mix: which chat sends what, message after message.
//!
//! Chats take turns; each chat walks [`CYCLE`]: typed commands (`/help`, `/note add`,
//! `/note list`, `/remind 2d ...`), free text the fake model answers in words, and free text it
//! answers with a `note` tool call. The data a chat piles up is kept steady, as a real user's
//! is: the oldest notes and reminders beyond the newest [`KEEP`] are deleted again with
//! `/note delete <id>` and `/remind remove <id>` in the cycle's delete slots (ids read from the
//! database by [`Trim::candidates`]), so `/note list` does not grow with the run and a leak is
//! not confused with a user's growing data. A delete slot with nothing to delete sends `/help`.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, Statement, params};

use super::soak_llm::REMEMBER;

/// Notes and reminders a chat keeps; older ones are deleted.
pub const KEEP: i64 = 20;

/// What one message of the cycle is.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Help,
    NoteAdd,
    NoteList,
    Remind,
    /// Free text answered in words.
    Ask,
    /// Free text answered with a `note` tool call, then words.
    Remember,
    DeleteNote,
    RemoveReminder,
}

/// One chat's turn, in order: per cycle 3 notes and 1 reminder are added and as many deleted.
const CYCLE: [Slot; 12] = [
    Slot::Help,
    Slot::NoteAdd,
    Slot::Ask,
    Slot::NoteList,
    Slot::Remember,
    Slot::DeleteNote,
    Slot::Remind,
    Slot::Ask,
    Slot::DeleteNote,
    Slot::Remember,
    Slot::DeleteNote,
    Slot::RemoveReminder,
];

/// Ids a chat will delete, oldest first, and the newest id already queued.
#[derive(Debug, Default)]
struct Queued {
    notes: VecDeque<i64>,
    reminders: VecDeque<i64>,
    last_note: i64,
    last_reminder: i64,
}

/// The generator: call [`Mix::next`] for each message.
#[derive(Debug)]
pub struct Mix {
    chats: Vec<i64>,
    sent: u64,
    queued: HashMap<i64, Queued>,
}

/// The ids of one chat found by [`Trim::candidates`].
#[derive(Debug, Default)]
pub struct Candidates {
    notes: Vec<i64>,
    reminders: Vec<i64>,
}

/// What [`Trim::candidates`] needs to know: per chat, the newest ids already queued.
#[derive(Debug, Clone)]
pub struct Trim {
    after: Vec<(i64, i64, i64)>,
}

impl Mix {
    /// A mix over `chats` (each must be an active user or the owner).
    pub fn new(chats: Vec<i64>) -> Self {
        Self {
            chats,
            sent: 0,
            queued: HashMap::new(),
        }
    }

    /// The next message: `(chat_id, text)`.
    pub fn next(&mut self) -> (i64, String) {
        let n = self.sent;
        self.sent += 1;
        let count = self.chats.len() as u64;
        let chat = self.chats[(n % count) as usize];
        let slot = CYCLE[((n / count) % CYCLE.len() as u64) as usize];
        let queued = self.queued.entry(chat).or_default();
        let text = match slot {
            Slot::Help => "/help".to_owned(),
            Slot::NoteAdd => format!("/note add soak note {n}"),
            Slot::NoteList => "/note list".to_owned(),
            Slot::Remind => format!("/remind 2d soak reminder {n}"),
            Slot::Ask => format!("What is a good name for a cat, take {n}?"),
            Slot::Remember => format!("Please {REMEMBER} buy oat milk, take {n}"),
            Slot::DeleteNote => queued
                .notes
                .pop_front()
                .map_or_else(|| "/help".to_owned(), |id| format!("/note delete {id}")),
            Slot::RemoveReminder => queued
                .reminders
                .pop_front()
                .map_or_else(|| "/help".to_owned(), |id| format!("/remind remove {id}")),
        };
        (chat, text)
    }

    /// What to ask the database for next (run [`Trim::candidates`] off the runtime).
    pub fn trim(&self) -> Trim {
        let after = self
            .chats
            .iter()
            .map(|chat| {
                let q = self.queued.get(chat);
                let note = q.map_or(0, |q| q.last_note);
                let reminder = q.map_or(0, |q| q.last_reminder);
                (*chat, note, reminder)
            })
            .collect();
        Trim { after }
    }

    /// Queues the ids found for deletion.
    pub fn enqueue(&mut self, found: Vec<(i64, Candidates)>) {
        for (chat, c) in found {
            let queued = self.queued.entry(chat).or_default();
            if let Some(&last) = c.notes.last() {
                queued.last_note = last;
            }
            if let Some(&last) = c.reminders.last() {
                queued.last_reminder = last;
            }
            queued.notes.extend(c.notes);
            queued.reminders.extend(c.reminders);
        }
    }
}

impl Trim {
    /// Per chat, the notes and reminders older than its newest [`KEEP`] that are not queued
    /// yet, oldest first. Queued ids are always older than the newest `KEEP` (ids only grow),
    /// so "newer than the last queued" never hides a note that should stay.
    pub fn candidates(&self, db: &Path) -> rusqlite::Result<Vec<(i64, Candidates)>> {
        let conn = Connection::open(db)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let mut notes = conn.prepare(
            "SELECT n.id FROM notes n JOIN users u ON u.id = n.user_id
             WHERE u.chat_id = ?1 AND n.id > ?2 ORDER BY n.id DESC LIMIT -1 OFFSET ?3",
        )?;
        let mut reminders = conn.prepare(
            "SELECT s.id FROM schedules s JOIN users u ON u.id = s.user_id
             WHERE u.chat_id = ?1 AND s.id > ?2 AND s.active = 1 AND s.system IS NULL
               AND s.message IS NOT NULL
             ORDER BY s.id DESC LIMIT -1 OFFSET ?3",
        )?;
        let mut found = Vec::with_capacity(self.after.len());
        for &(chat, note, reminder) in &self.after {
            let c = Candidates {
                notes: older_than_kept(&mut notes, chat, note)?,
                reminders: older_than_kept(&mut reminders, chat, reminder)?,
            };
            found.push((chat, c));
        }
        Ok(found)
    }
}

/// The ids `stmt` finds for `chat` beyond the newest [`KEEP`] and above `after`, oldest first.
fn older_than_kept(stmt: &mut Statement<'_>, chat: i64, after: i64) -> rusqlite::Result<Vec<i64>> {
    let mut ids = stmt
        .query_map(params![chat, after, KEEP], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    ids.reverse();
    Ok(ids)
}

/// Makes `chats` active users with plain SQL (the daemon already created the schema and reads
/// users from the database on every message, so no restart is needed).
pub fn approve_users(db: &Path, chats: &[i64]) -> rusqlite::Result<()> {
    let mut conn = Connection::open(db)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let tx = conn.transaction()?;
    for chat_id in chats {
        tx.execute(
            "INSERT INTO users (chat_id, display_name, status, created_at, updated_at)
             VALUES (?1, ?2, 'active', unixepoch(), unixepoch())",
            params![chat_id, format!("Soak{chat_id}")],
        )?;
    }
    tx.commit()
}

/// What the database holds after the run.
#[derive(Debug, Clone, Copy)]
pub struct DataCounts {
    /// Notes of all chats.
    pub notes: i64,
    /// Pending reminders of all chats.
    pub reminders: i64,
    /// Inbox rows not `done` (pending, failed or skipped): each is a message not handled.
    pub unfinished: i64,
}

/// Counts notes, pending reminders and unfinished updates (to show the data stayed steady and
/// every update was handled).
pub fn data_counts(db: &Path) -> rusqlite::Result<DataCounts> {
    let conn = Connection::open(db)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0));
    Ok(DataCounts {
        notes: count("SELECT count(*) FROM notes")?,
        reminders: count(
            "SELECT count(*) FROM schedules WHERE active = 1 AND system IS NULL
             AND message IS NOT NULL",
        )?,
        unfinished: count("SELECT count(*) FROM inbox WHERE status != 'done'")?,
    })
}
