//! What users saw: every update answered at least once, and no reply sent twice outside the
//! documented outcome-unknown window.

use std::collections::{BTreeMap, HashMap, HashSet};

use rusqlite::Connection;

use super::db::Db;
use super::{Check, check, describe, samples, short};
use crate::fake_telegram::Sent;
use crate::mix::{Fed, Kind, find_token, token_text};
use crate::window::{WindowLine, excuse};

/// The reply to `/help` starts with this.
const HELP_START: &str = "<b>Commands</b>";

/// The sends, indexed the ways the checks look them up.
struct Index<'a> {
    /// (chat, token) → (text, sending process) of the sends to that chat that carry the token.
    by_token: HashMap<(i64, u32), Vec<(&'a str, u32)>>,
    /// (chat, text) → the first process that sent it.
    exact: HashMap<(i64, &'a str), u32>,
}

impl<'a> Index<'a> {
    fn new(sends: &'a [Sent]) -> Self {
        let mut by_token: HashMap<(i64, u32), Vec<(&str, u32)>> = HashMap::new();
        let mut exact = HashMap::new();
        for s in sends {
            if let Some(token) = find_token(&s.text) {
                let texts = by_token.entry((s.chat_id, token)).or_default();
                texts.push((&s.text, s.generation));
            }
            exact
                .entry((s.chat_id, s.text.as_str()))
                .or_insert(s.generation);
        }
        Self { by_token, exact }
    }
}

/// The reply `/note add` gets for note `id`.
fn saved_note(id: i64) -> String {
    format!("Saved note #{id}.")
}

/// Whether `text` (sent to the update's chat) is the reply `fed` asks for; `/help` and
/// `/note add` replies carry no token and are matched elsewhere.
fn answers_it(fed: &Fed, text: &str) -> bool {
    let tag = token_text(fed.token.unwrap_or(0));
    match fed.kind {
        Kind::Help | Kind::NoteCommand => false,
        Kind::RemindCommand => text.contains(&format!("remind {tag}")),
        _ => text.contains(&format!("answer to {tag}")),
    }
}

/// The ids of the note `fed` asked for (several when it was stored twice).
fn note_ids<'a>(fed: &Fed, db: &'a Db) -> &'a [i64] {
    let user = db.users.get(&fed.chat_id).copied().unwrap_or(0);
    let key = (user, fed.note_body().unwrap_or_default());
    db.notes.get(&key).map_or(&[], Vec::as_slice)
}

/// The first daemon process that sent a reply answering `fed`, if any did (not for `/help`:
/// those are counted per chat).
fn first_answer(fed: &Fed, index: &Index<'_>, db: &Db) -> Option<u32> {
    if fed.kind == Kind::NoteCommand {
        return note_ids(fed, db)
            .iter()
            .filter_map(|id| {
                index
                    .exact
                    .get(&(fed.chat_id, saved_note(*id).as_str()))
                    .copied()
            })
            .min();
    }
    let key = (fed.chat_id, fed.token.unwrap_or(0));
    index
        .by_token
        .get(&key)?
        .iter()
        .filter(|(text, _)| answers_it(fed, text))
        .map(|(_, generation)| *generation)
        .min()
}

/// Every update answered at least once; replies that answer nothing fed are listed, and so
/// is how many kills cut work in progress.
pub fn answers(fed: &[Fed], sends: &[Sent], db: &Db, killed: &[u32]) -> Vec<Check> {
    let index = Index::new(sends);
    let mut lost: Vec<String> = Vec::new();
    let mut help_fed: BTreeMap<i64, usize> = BTreeMap::new();
    // (fed during, first answered by) of every update with a token.
    let mut spans = Vec::new();
    for f in fed {
        if f.kind == Kind::Help {
            *help_fed.entry(f.chat_id).or_default() += 1;
            continue;
        }
        let first = first_answer(f, &index, db);
        spans.push((f.fed_during, first.unwrap_or(u32::MAX)));
        if first.is_none() {
            lost.push(describe(f));
        }
    }
    for (chat, count) in &help_fed {
        let got = sends
            .iter()
            .filter(|s| s.chat_id == *chat && s.text.starts_with(HELP_START))
            .count();
        for _ in got..*count {
            lost.push(format!("a /help of chat {chat}"));
        }
    }
    let cut = killed
        .iter()
        .filter(|g| spans.iter().any(|(fed, answered)| fed <= g && answered > g))
        .count();
    println!(
        "kills that cut work in progress (an update fed before it was first answered by a later process): {cut} of {}",
        killed.len()
    );
    let other = unexplained(fed, sends, db);
    println!(
        "replies: {} messages sent after the warm-up; {} of {} updates answered, {} lost; \
         {} replies answer no fed update{}",
        sends.len(),
        fed.len() - lost.len(),
        fed.len(),
        lost.len(),
        other.len(),
        samples(
            other
                .iter()
                .map(|s| format!("{}: {}", s.chat_id, short(&s.text)))
        )
    );
    vec![check(
        "every update answered at least once",
        lost.is_empty(),
        format!("{} lost{}", lost.len(), samples(lost.into_iter())),
    )]
}

/// Sends that are no reply to anything fed (an error message, a stray notice).
fn unexplained<'a>(fed: &[Fed], sends: &'a [Sent], db: &Db) -> Vec<&'a Sent> {
    let by_token: HashMap<u32, &Fed> = fed.iter().filter_map(|f| Some((f.token?, f))).collect();
    let note_replies: HashSet<(i64, String)> = fed
        .iter()
        .filter(|f| f.kind == Kind::NoteCommand)
        .flat_map(|f| {
            note_ids(f, db)
                .iter()
                .map(|id| (f.chat_id, saved_note(*id)))
        })
        .collect();
    sends
        .iter()
        .filter(|s| {
            let for_token = find_token(&s.text)
                .and_then(|t| by_token.get(&t))
                .is_some_and(|f| f.chat_id == s.chat_id && answers_it(f, &s.text));
            !s.text.starts_with(HELP_START)
                && !for_token
                && !note_replies.contains(&(s.chat_id, s.text.clone()))
        })
        .collect()
}

/// Exact (chat, text) repeats beyond what was asked for (`/help` may be asked for repeatedly);
/// a repeat that a log line puts in the documented "outcome unknown" window is counted apart.
pub fn duplicates(
    fed: &[Fed],
    sends: &[Sent],
    conn: &Connection,
    window: &[WindowLine],
) -> anyhow::Result<Check> {
    // (chat, text) → every send of it.
    let mut copies: BTreeMap<(i64, &str), Vec<&Sent>> = BTreeMap::new();
    for s in sends {
        copies
            .entry((s.chat_id, s.text.as_str()))
            .or_default()
            .push(s);
    }
    let mut used = vec![false; window.len()];
    let (mut inside, mut outside, mut examples) = (0, 0, Vec::new());
    for ((chat, text), sent) in copies {
        let count = sent.len();
        let asked = if text.starts_with(HELP_START) {
            fed.iter()
                .filter(|f| f.kind == Kind::Help && f.chat_id == chat)
                .count()
        } else {
            1
        };
        let extra = count.saturating_sub(asked);
        if extra == 0 {
            continue;
        }
        let mut stmt = conn.prepare("SELECT id FROM outbox WHERE chat_id = ?1 AND text = ?2")?;
        let outbox_ids: Vec<i64> = stmt
            .query_map(rusqlite::params![chat, text], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let excused = excuse(window, &mut used, chat, &outbox_ids, extra);
        inside += excused;
        outside += extra - excused;
        if extra > excused {
            let senders: Vec<String> = sent.iter().map(|s| s.generation.to_string()).collect();
            let apart = sent[count - 1].at.duration_since(sent[0].at);
            examples.push(format!(
                "{count} sent for {asked} asked to {chat} by processes {} over {} ms: {}",
                abbreviate(&senders),
                apart.as_millis(),
                short(text)
            ));
        }
    }
    println!(
        "duplicate replies: {outside} outside the outcome-unknown window, {inside} inside it ({} such log lines)",
        window.len()
    );
    Ok(check(
        "no reply sent twice (outside the outcome-unknown window)",
        outside == 0,
        format!("{outside} extra copies{}", samples(examples.into_iter())),
    ))
}

/// `[4, 10, 19, …, 202]`: the first three items and the last when there are many.
fn abbreviate(items: &[String]) -> String {
    if items.len() <= 5 {
        return format!("[{}]", items.join(", "));
    }
    let last = items.last().map_or("", String::as_str);
    format!("[{}, …, {last}]", items[..3].join(", "))
}
