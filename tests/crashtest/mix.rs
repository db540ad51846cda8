//! The conversation mix: what each fed update is, the token that makes it unique
//! (`msg-00042`), the text or recording it carries, and what it must leave behind (its reply,
//! its note or reminder). Commands, free text with and without tool calls, and voice, from the
//! owner and two approved users (reminders only from the owner, who has no reminder quota).

use serde_json::Value;

use crate::fake_telegram::FakeTelegram;
use crate::updates::{text_update, voice_update};

/// The owner's chat id.
pub const OWNER: i64 = 71_001;
/// The two users approved in the warm-up.
pub const USERS: [i64; 2] = [71_002, 71_003];
/// Every chat of the mix.
pub const CHATS: [i64; 3] = [OWNER, USERS[0], USERS[1]];

/// Digits of a token's number.
const TOKEN_DIGITS: usize = 5;

/// `msg-00042` for 42.
pub fn token_text(token: u32) -> String {
    format!("msg-{token:0TOKEN_DIGITS$}")
}

/// The first `msg-NNNNN` token in `text`.
pub fn find_token(text: &str) -> Option<u32> {
    text.match_indices("msg-").find_map(|(at, _)| {
        let digits = text.get(at + 4..at + 4 + TOKEN_DIGITS)?;
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let next = text[at + 4 + TOKEN_DIGITS..].chars().next();
        if next.is_some_and(|c| c.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    })
}

/// What kind of message an update is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `/help`: a reply with the command list, no token.
    Help,
    /// `/note add note msg-N`: a note, replied to with `Saved note #id.`.
    NoteCommand,
    /// `/remind 2d remind msg-N` (owner): a reminder, replied to with its text.
    RemindCommand,
    /// Free text, answered without tools.
    Chat,
    /// Free text the model answers after a `note` tool call.
    ChatNote,
    /// Free text the model answers after a `remind` tool call (owner).
    ChatRemind,
    /// A voice message, transcribed and answered without tools.
    Voice,
    /// A voice message whose transcript leads to a `note` tool call.
    VoiceNote,
}

impl Kind {
    /// Every kind, for the report.
    pub const ALL: [Kind; 8] = [
        Kind::Help,
        Kind::NoteCommand,
        Kind::RemindCommand,
        Kind::Chat,
        Kind::ChatNote,
        Kind::ChatRemind,
        Kind::Voice,
        Kind::VoiceNote,
    ];

    /// Draws a kind for `chat`: weights favour what has side effects.
    fn draw(rng: &mut fastrand::Rng, chat: i64) -> Kind {
        let owner_only = [Kind::RemindCommand, Kind::ChatRemind];
        loop {
            let kind = match rng.u32(0..12) {
                0 => Kind::Help,
                1 | 2 => Kind::NoteCommand,
                3 => Kind::RemindCommand,
                4 | 5 => Kind::Chat,
                6 | 7 => Kind::ChatNote,
                8 => Kind::ChatRemind,
                9 | 10 => Kind::Voice,
                _ => Kind::VoiceNote,
            };
            if chat == OWNER || !owner_only.contains(&kind) {
                return kind;
            }
        }
    }
}

/// One update the harness fed.
#[derive(Debug, Clone)]
pub struct Fed {
    /// Its update_id.
    pub update_id: i64,
    /// Whose private chat it came from.
    pub chat_id: i64,
    /// What it is.
    pub kind: Kind,
    /// Its token (none for `/help`).
    pub token: Option<u32>,
    /// The daemon process running when it was fed.
    pub fed_during: u32,
}

impl Fed {
    /// The note it must leave behind, if any (`notes.body`).
    pub fn note_body(&self) -> Option<String> {
        let tag = token_text(self.token?);
        match self.kind {
            Kind::NoteCommand => Some(format!("note {tag}")),
            Kind::ChatNote | Kind::VoiceNote => Some(format!("llm note {tag}")),
            _ => None,
        }
    }

    /// The reminder it must leave behind, if any (`schedules.message`).
    pub fn reminder_text(&self) -> Option<String> {
        let tag = token_text(self.token?);
        match self.kind {
            Kind::RemindCommand => Some(format!("remind {tag}")),
            Kind::ChatRemind => Some(format!("llm remind {tag}")),
            _ => None,
        }
    }
}

/// Makes the updates of the mix and remembers every one it fed.
#[derive(Default)]
pub struct Mix {
    next_token: u32,
    fed: Vec<Fed>,
}

impl Mix {
    /// Feeds `count` random updates from random chats to `fake` while daemon process
    /// `generation` runs.
    pub fn feed_burst(
        &mut self,
        fake: &FakeTelegram,
        rng: &mut fastrand::Rng,
        count: usize,
        generation: u32,
    ) {
        for _ in 0..count {
            let chat_id = CHATS[rng.usize(0..CHATS.len())];
            let kind = Kind::draw(rng, chat_id);
            self.feed(fake, chat_id, kind, generation);
        }
    }

    /// Feeds one update of `kind` from `chat_id`.
    fn feed(&mut self, fake: &FakeTelegram, chat_id: i64, kind: Kind, generation: u32) {
        let token = (kind != Kind::Help).then(|| {
            self.next_token += 1;
            self.next_token
        });
        let tag = token.map(token_text).unwrap_or_default();
        let text = match kind {
            Kind::Help => "/help".to_owned(),
            Kind::NoteCommand => format!("/note add note {tag}"),
            Kind::RemindCommand => format!("/remind 2d remind {tag}"),
            Kind::Chat => format!("hello {tag}"),
            Kind::ChatNote => format!("please [note] {tag}"),
            Kind::ChatRemind => format!("please [remind] {tag}"),
            Kind::Voice | Kind::VoiceNote => String::new(),
        };
        let update_id = if text.is_empty() {
            let marker = if kind == Kind::VoiceNote {
                " [note]"
            } else {
                ""
            };
            let audio = format!("OggS {tag}{marker}").into_bytes();
            let (file_id, size) = (format!("voice-{tag}"), audio.len() as u64);
            fake.add_file(&file_id, &format!("{tag}.oga"), audio);
            fake.push(|id| voice_update(id, chat_id, &file_id, size))
        } else {
            fake.push(|id| text_update(id, chat_id, &text))
        };
        self.fed.push(Fed {
            update_id,
            chat_id,
            kind,
            token,
            fed_during: generation,
        });
    }

    /// Every update fed so far, in order.
    pub fn fed(&self) -> &[Fed] {
        &self.fed
    }
}

/// Feeds a plain text update outside the mix (the warm-up's `/start` and `/approve`).
pub fn feed_text(fake: &FakeTelegram, chat_id: i64, text: &str) -> i64 {
    fake.push(|id| -> Value { text_update(id, chat_id, text) })
}
