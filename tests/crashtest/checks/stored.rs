//! What the daemon stored: each note and reminder asked for exactly once (or, when a kill cut
//! the command in the middle, at most once with the user told it was interrupted), no
//! conversation turn twice, and no LLM round billed twice in `llm_usage`.

use std::collections::BTreeMap;

use super::db::Db;
use super::{Check, check, describe, samples, short};
use crate::fake_llm::decode_usage;
use crate::fake_telegram::Sent;
use crate::mix::{Fed, token_text};
use crate::run::Run;

/// What the daemon tells a user whose command a restart interrupted (it is not run again).
const INTERRUPTED: &str = "I was restarted while running";

/// The note or reminder each update asked for exists exactly once, unless the user was told a
/// restart interrupted it; no conversation turn or tool run is stored twice.
pub fn side_effects(fed: &[Fed], sends: &[Sent], db: &Db) -> Vec<Check> {
    let user = |f: &Fed| db.users.get(&f.chat_id).copied().unwrap_or(0);
    let told_interrupted = |f: &Fed| {
        f.token.is_some_and(|t| {
            let token = token_text(t);
            sends.iter().any(|s| {
                s.chat_id == f.chat_id && s.text.contains(INTERRUPTED) && s.text.contains(&token)
            })
        })
    };
    let mut missing = Vec::new();
    let mut interrupted = 0;
    for f in fed {
        if told_interrupted(f) {
            interrupted += 1;
            continue;
        }
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
        "side effects: {} asked for, {} missing, {interrupted} interrupted by a kill (not run again, the user told); \
         notes duplicated {extra_notes}, reminders duplicated {extra_reminders}; \
         conversation turns stored twice {extra_turns}; note/remind tool runs logged twice {}",
        fed.iter().filter(asked).count(),
        missing.len(),
        db.tools_repeated
    );
    let repeated_turns = db
        .turns_repeated
        .iter()
        .map(|((u, role, text), n)| format!("{n}× user {u} {role}: {}", short(text)));
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
pub fn billing(run: &Run, db: &Db) -> Check {
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
