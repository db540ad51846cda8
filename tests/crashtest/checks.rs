//! What the crash test counts after the run, from the fakes' records (what users saw, what the
//! provider was asked) and the daemon's database (what it stored): lost updates, replies sent
//! twice, duplicated notes, reminders and conversation turns, and LLM rounds billed twice.

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::Context as _;
use rusqlite::Connection;

use crate::fake_llm::decode_usage;
use crate::fake_telegram::Sent;
use crate::mix::{Fed, Kind, find_token, token_text};
use crate::run::Run;
use crate::window::{WindowLine, excuse};

/// The reply to `/help` starts with this.
const HELP_START: &str = "<b>Commands</b>";
/// Examples printed per problem.
const SAMPLES: usize = 5;

/// One pass/fail line of the report.
pub struct Check {
    /// What must hold.
    pub name: &'static str,
    /// Whether it held.
    pub ok: bool,
    /// The counts behind it.
    pub detail: String,
}

fn check(name: &'static str, ok: bool, detail: String) -> Check {
    Check { name, ok, detail }
}

/// The database rows the checks read.
struct Db {
    /// chat_id → users.id.
    users: HashMap<i64, i64>,
    /// (user_id, body) → note ids.
    notes: HashMap<(i64, String), Vec<i64>>,
    /// (user_id, message) → reminder count.
    reminders: HashMap<(i64, String), usize>,
    /// (user_id, role, content) stored more than once → how many times.
    turns_repeated: Vec<((i64, String, String), usize)>,
    /// `llm_usage` rows: (input_tokens, status).
    usage: Vec<(i64, String)>,
    /// (tool, arguments) of note/remind calls logged more than once → how many times.
    tools_repeated: usize,
}

fn read_db(conn: &Connection) -> anyhow::Result<Db> {
    let pairs = |sql: &str| -> anyhow::Result<Vec<(i64, i64, String)>> {
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    };
    let users = pairs("SELECT chat_id, id, status FROM users")?
        .into_iter()
        .map(|(chat, id, _)| (chat, id))
        .collect();
    let mut notes: HashMap<(i64, String), Vec<i64>> = HashMap::new();
    for (user, id, body) in pairs("SELECT user_id, id, body FROM notes")? {
        notes.entry((user, body)).or_default().push(id);
    }
    let mut reminders = HashMap::new();
    for (user, _, text) in
        pairs("SELECT user_id, id, message FROM schedules WHERE message IS NOT NULL")?
    {
        *reminders.entry((user, text)).or_default() += 1;
    }
    let mut stmt = conn.prepare(
        "SELECT user_id, role, content, count(*) FROM chat_history
         GROUP BY user_id, role, content HAVING count(*) > 1",
    )?;
    let turns_repeated = stmt
        .query_map([], |r| {
            Ok((
                (r.get(0)?, r.get(1)?, r.get(2)?),
                r.get::<_, i64>(3)? as usize,
            ))
        })?
        .collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare("SELECT input_tokens, status FROM llm_usage")?;
    let usage = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let tools_repeated: i64 = conn.query_row(
        "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM tool_logs
         WHERE tool IN ('note', 'remind') AND status = 'ok'
         GROUP BY user_id, tool, arguments HAVING n > 1)",
        [],
        |r| r.get(0),
    )?;
    Ok(Db {
        users,
        notes,
        reminders,
        turns_repeated,
        usage,
        tools_repeated: tools_repeated as usize,
    })
}

/// Runs every check and prints the counts behind them.
pub fn evaluate(run: &Run, window: &[WindowLine]) -> anyhow::Result<Vec<Check>> {
    let conn = Connection::open(run.db_path()).context("open the daemon's database")?;
    let db = read_db(&conn)?;
    let sends = &run.telegram.sent()[run.warm_up_sends..];
    let fed = run.mix.fed();
    let mut checks = Vec::new();

    let acks = run.telegram.acks();
    let unconfirmed = run.telegram.unconfirmed();
    println!(
        "updates: fed {} ({}), confirmed {} (by getUpdates offset {}, by webhook 200 {}), still unconfirmed {unconfirmed}",
        fed.len(),
        kinds_line(fed),
        acks.polling + acks.webhook,
        acks.polling,
        acks.webhook,
    );
    checks.push(check(
        "every update was acknowledged (offset or 200)",
        unconfirmed == 0,
        format!("{unconfirmed} never acknowledged"),
    ));
    checks.extend(answers(fed, sends, &db, &run.killed));
    checks.push(duplicate_replies(fed, sends, &conn, window)?);
    checks.extend(side_effects(fed, &db));
    checks.push(billing(run, &db));
    Ok(checks)
}

fn kinds_line(fed: &[Fed]) -> String {
    let mut counts: BTreeMap<Kind, usize> = BTreeMap::new();
    for f in fed {
        *counts.entry(f.kind).or_default() += 1;
    }
    Kind::ALL
        .iter()
        .map(|k| format!("{k:?} {}", counts.get(k).copied().unwrap_or(0)))
        .collect::<Vec<_>>()
        .join(", ")
}

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
fn answers(fed: &[Fed], sends: &[Sent], db: &Db, killed: &[u32]) -> Vec<Check> {
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
        samples(other.iter().map(|s| format!("{}: {:?}", s.chat_id, s.text)))
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

/// `update 12 (ChatNote msg-00042)`.
fn describe(fed: &Fed) -> String {
    let tag = fed.token.map(token_text).unwrap_or_default();
    format!("update {} ({:?} {tag})", fed.update_id, fed.kind)
}

/// Exact (chat, text) repeats beyond what was asked for (`/help` may be asked for repeatedly);
/// a repeat that a log line puts in the documented "outcome unknown" window is counted apart.
fn duplicate_replies(
    fed: &[Fed],
    sends: &[Sent],
    conn: &Connection,
    window: &[WindowLine],
) -> anyhow::Result<Check> {
    // (chat, text) → the daemon processes that sent it.
    let mut copies: BTreeMap<(i64, &str), Vec<u32>> = BTreeMap::new();
    for s in sends {
        copies
            .entry((s.chat_id, s.text.as_str()))
            .or_default()
            .push(s.generation);
    }
    let mut used = vec![false; window.len()];
    let (mut inside, mut outside, mut examples) = (0, 0, Vec::new());
    for ((chat, text), senders) in copies {
        let count = senders.len();
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
            examples.push(format!(
                "{count}× to {chat} by processes {senders:?}: {text:?}"
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

/// The note or reminder each update asked for exists exactly once; no conversation turn or
/// tool run is stored twice.
fn side_effects(fed: &[Fed], db: &Db) -> Vec<Check> {
    let user = |f: &Fed| db.users.get(&f.chat_id).copied().unwrap_or(0);
    let mut missing = Vec::new();
    for f in fed {
        let present = match (f.note_body(), f.reminder_text()) {
            (Some(body), _) => db.notes.contains_key(&(user(f), body)),
            (_, Some(text)) => db.reminders.contains_key(&(user(f), text)),
            _ => true,
        };
        if !present {
            missing.push(describe(f));
        }
    }
    let extra_notes: usize = db.notes.values().map(|ids| ids.len() - 1).sum();
    let extra_reminders: usize = db.reminders.values().map(|n| n - 1).sum();
    let extra_turns: usize = db.turns_repeated.iter().map(|(_, n)| n - 1).sum();
    let asked = |f: &&Fed| f.note_body().is_some() || f.reminder_text().is_some();
    println!(
        "side effects: {} asked for, {} missing; notes duplicated {extra_notes}, reminders duplicated {extra_reminders}; \
         conversation turns stored twice {extra_turns}; note/remind tool runs logged twice {}",
        fed.iter().filter(asked).count(),
        missing.len(),
        db.tools_repeated
    );
    let repeated_turns = db
        .turns_repeated
        .iter()
        .map(|((u, role, text), n)| format!("{n}× user {u} {role}: {text:?}"));
    vec![
        check(
            "every note and reminder asked for exists",
            missing.is_empty(),
            format!("{} missing{}", missing.len(), samples(missing.into_iter())),
        ),
        check(
            "no note duplicated",
            extra_notes == 0,
            format!("{extra_notes} extra notes"),
        ),
        check(
            "no reminder duplicated",
            extra_reminders == 0,
            format!("{extra_reminders} extra reminders"),
        ),
        check(
            "no conversation turn stored twice",
            extra_turns == 0,
            format!("{extra_turns} extra turns{}", samples(repeated_turns)),
        ),
    ]
}

/// `llm_usage` rows per (token, round), traced by the usage the fake reported; and how often
/// the fake was asked each round (a re-ask whose earlier answer died with a killed process is
/// unavoidable; it is printed, not failed).
fn billing(run: &Run, db: &Db) -> Check {
    let mut billed: BTreeMap<(u32, u32), usize> = BTreeMap::new();
    let (mut unattributed, mut errors) = (0, 0);
    for (code, status) in &db.usage {
        match (status.as_str(), decode_usage(*code)) {
            ("ok", Some(round)) => *billed.entry(round).or_default() += 1,
            ("ok", None) => unattributed += 1,
            _ => errors += 1,
        }
    }
    let twice: Vec<String> = billed
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|((t, r), n)| format!("{} round {r} billed {n}×", token_text(*t)))
        .collect();
    let extra: usize = billed.values().map(|n| n - 1).sum();
    let asked = run.provider.rounds();
    let reasked: u32 = asked.values().map(|n| n - 1).sum();
    let lost_answers: u32 = asked
        .iter()
        .map(|(round, n)| n.saturating_sub(billed.get(round).copied().unwrap_or(0) as u32))
        .sum();
    let retranscribed: u32 = run.provider.transcriptions().values().map(|n| n - 1).sum();
    println!(
        "llm: {} rounds asked {} times; llm_usage ok rows {} ({extra} billing a round twice, {unattributed} unattributed), error rows {errors}; \
         rounds re-asked {reasked} ({lost_answers} asks whose answer has no usage row: in flight at a kill); \
         voice re-transcribed {retranscribed}; requests the fakes could not read {}",
        asked.len(),
        asked.values().sum::<u32>(),
        billed.values().sum::<usize>(),
        run.provider.unreadable(),
    );
    check(
        "no LLM round billed twice in llm_usage",
        extra == 0,
        format!("{extra} extra rows{}", samples(twice.into_iter())),
    )
}

/// `; e.g. a, b, c` with the first [`SAMPLES`] items, or nothing.
fn samples(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.take(SAMPLES).collect();
    if items.is_empty() {
        String::new()
    } else {
        format!("; e.g. {}", items.join(", "))
    }
}
