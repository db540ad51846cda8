//! What the fake remembers: every call, every violation, the messages the bot sent, the update
//! queue, webhook and command settings, files to download, and queued faults. Shared between the axum handlers and
//! the test through an `Arc<Shared>`; every change wakes the waiters.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Notify;

/// One request the fake received.
#[derive(Clone, Debug)]
pub struct Call {
    /// Method name as api.json spells it (`sendMessage`), or as sent when unknown.
    pub method: String,
    /// The JSON body (an object; `{}` when empty).
    pub params: Value,
    /// HTTP status of the answer; `None` while the call is in flight (a long poll).
    pub status: Option<u16>,
}

/// A message the bot sent with `sendMessage`, as it is now (later edits applied).
#[derive(Clone, Debug, PartialEq)]
pub struct SentMessage {
    /// Target chat (`0` if the bot addressed a chat by `@username`).
    pub chat_id: i64,
    /// Id the fake assigned (increasing, shared by all chats).
    pub message_id: i64,
    /// Text exactly as sent (with HTML tags when `parse_mode` is HTML).
    pub text: String,
    /// What the user sees: tags removed and entities decoded.
    pub visible_text: String,
    /// Telegram's MessageEntity objects for `visible_text` (from HTML or the `entities` sent).
    pub entities: Vec<Value>,
    /// `parse_mode` as sent.
    pub parse_mode: Option<String>,
    /// `reply_markup` as sent (or as last edited).
    pub reply_markup: Option<Value>,
    /// How many times `editMessageText` / `editMessageReplyMarkup` changed it.
    pub edits: u32,
}

/// A file the bot sent with sendDocument or sendPhoto.
#[derive(Clone, Debug, PartialEq)]
pub struct SentFile {
    /// Target chat.
    pub chat_id: i64,
    /// Id of the message that carries it (also in `sent`, with the caption as text).
    pub message_id: i64,
    /// `sendDocument` or `sendPhoto`.
    pub method: String,
    /// The file name the bot gave.
    pub file_name: String,
    /// The content, byte for byte.
    pub bytes: Vec<u8>,
    /// The caption as the user sees it (empty when none).
    pub caption: String,
}

/// A one-shot failure for the next call of a method, see `FakeTelegram::fail_next`.
#[derive(Clone, Debug)]
pub enum Fault {
    /// 429 with `parameters.retry_after`; teloxide reports `RequestError::RetryAfter`.
    TooManyRequests {
        /// Seconds the bot is asked to wait.
        retry_after: u32,
    },
    /// 400 "Bad Request: can't parse entities: ..." whatever the text.
    CantParseEntities,
    /// Any status and description, e.g. 409 "Conflict: ..." for getUpdates. Note that teloxide
    /// sleeps 10 s before reading a 5xx answer.
    Status {
        /// HTTP status and `error_code`.
        code: u16,
        /// Telegram's `description`.
        description: String,
    },
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Carry the call out (a sendMessage is delivered), then hold the answer this long: past
    /// the client's timeout, the bot cannot know the call took effect.
    AnswerLate(Duration),
    /// Carry the call out, write `200 OK` and its headers and the start of the body, then
    /// close the connection: a connection reset mid-response.
    ResetMidResponse,
    /// Carry the call out, then answer `200 OK` with a body that is not valid JSON (cut off).
    MalformedJson,
}

impl Fault {
    /// 500 "Internal Server Error", as Telegram answers when it is in trouble.
    pub fn server_error() -> Self {
        Self::Status {
            code: 500,
            description: "Internal Server Error".to_owned(),
        }
    }

    /// 409 "Conflict: terminated by other getUpdates request", as when a second instance polls.
    pub fn conflict() -> Self {
        Self::Status {
            code: 409,
            description: "Conflict: terminated by other getUpdates request; make sure that \
                          only one bot instance is running"
                .to_owned(),
        }
    }

    /// Whether the call is carried out before the fault breaks its answer.
    pub fn takes_effect(&self) -> bool {
        matches!(
            self,
            Self::Delay(_) | Self::AnswerLate(_) | Self::ResetMidResponse | Self::MalformedJson
        )
    }
}

/// The mutable part of the fake.
#[derive(Default)]
pub struct State {
    /// Every request, in arrival order.
    pub calls: Vec<Call>,
    /// Every contract break, one sentence each.
    pub violations: Vec<String>,
    /// Messages the bot sent, edits applied.
    pub sent: Vec<SentMessage>,
    /// Pushed updates not yet confirmed by an offset.
    pub updates: VecDeque<Value>,
    /// Highest update id pushed so far.
    pub last_update_id: i64,
    /// Last message id handed out.
    pub last_message_id: i64,
    /// Every `offset` getUpdates was called with.
    pub offsets: Vec<i64>,
    /// Parameters of the last setWebhook, `None` after deleteWebhook.
    pub webhook: Option<Value>,
    /// Telegram's last failed delivery to the webhook (`last_error_date`, `last_error_message`).
    pub webhook_error: Option<(i64, String)>,
    /// The last non-empty `allowed_updates` the bot asked for.
    pub allowed_updates: Option<Vec<String>>,
    /// `commands` of the last setMyCommands.
    pub commands: Vec<Value>,
    /// Queued faults by lowercase method name.
    pub faults: HashMap<String, VecDeque<Fault>>,
    /// Ids of callback queries that were pushed and not answered yet.
    pub open_callbacks: HashSet<String>,
    /// Files the bot may fetch, by `file_id`.
    pub files: HashMap<String, StoredFile>,
    /// `file_path` of every file download, in order.
    pub downloads: Vec<String>,
    /// Every draft preview shown with sendMessageDraft, in order.
    pub drafts: Vec<Draft>,
    /// Every accepted editMessageText of a message, in order.
    pub text_edits: Vec<TextEdit>,
    /// Members per group chat for getChatMemberCount (3 when not set).
    pub member_counts: HashMap<i64, i64>,
    /// Files the bot sent, in order.
    pub files_sent: Vec<SentFile>,
}

/// One accepted `editMessageText` of a message the bot sent.
#[derive(Clone, Debug, PartialEq)]
pub struct TextEdit {
    /// The chat of the message.
    pub chat_id: i64,
    /// The message edited.
    pub message_id: i64,
    /// What the message shows after the edit.
    pub visible_text: String,
    /// When the fake accepted it.
    pub at: std::time::Instant,
}

/// One accepted `sendMessageDraft` call.
#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    /// The private chat it was shown in.
    pub chat_id: i64,
    /// The draft it updates (same id: animated as one message being written).
    pub draft_id: i64,
    /// The preview text.
    pub text: String,
}

/// A file users "sent", served by getFile and the file URL.
#[derive(Clone, Debug)]
pub struct StoredFile {
    /// `file_path` as getFile reports it, e.g. `voice/file_1.oga`.
    pub path: String,
    /// The content.
    pub bytes: Vec<u8>,
}

/// State plus the notifications around it.
#[derive(Default)]
pub struct Shared {
    state: Mutex<State>,
    /// Woken on every change (calls, messages, offsets) for the `wait_*` helpers.
    pub changed: Notify,
    /// Woken when an update is pushed, for long polls.
    pub pushed: Notify,
}

impl Shared {
    /// Locks the state; a panic in another test thread does not poison the fake for this one.
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies `change` and wakes everyone waiting for a change.
    pub fn update<T>(&self, change: impl FnOnce(&mut State) -> T) -> T {
        let out = change(&mut self.state());
        self.changed.notify_waiters();
        out
    }
}

impl State {
    /// Records an arriving call and returns its index (to set its status later).
    pub fn begin_call(&mut self, method: &str, params: &Value) -> usize {
        self.calls.push(Call {
            method: method.to_owned(),
            params: params.clone(),
            status: None,
        });
        self.calls.len() - 1
    }

    /// The next queued fault for `method`, if any.
    pub fn take_fault(&mut self, method: &str) -> Option<Fault> {
        self.faults
            .get_mut(&method.to_ascii_lowercase())?
            .pop_front()
    }

    /// The sent message `message_id` in `chat_id`, for edits.
    pub fn message_mut(&mut self, chat_id: i64, message_id: i64) -> Option<&mut SentMessage> {
        self.sent
            .iter_mut()
            .find(|m| m.chat_id == chat_id && m.message_id == message_id)
    }
}
