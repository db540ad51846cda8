//! Channel-neutral messages: what arrives from a user ([`Incoming`]) and what goes back
//! ([`Reply`]). Telegram, the terminal channel and the scheduler all speak these types.

use crate::ids::ChatId;
use crate::markup::Markup;

/// A message or button press from a chat.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    /// The Telegram update id, when it came from Telegram (the inbox key).
    pub update_id: Option<i64>,
    /// The private chat it came from (for private chats this is the user's id).
    pub chat_id: ChatId,
    /// The sender's display name (first and last name).
    pub from_name: String,
    /// The sender's @username, if any.
    pub username: Option<String>,
    /// Telegram's id of the message, when it is one (to delete a message holding a password).
    pub message_id: Option<i32>,
    /// What was sent.
    pub content: Content,
    /// Where in a group it was said and whom it addresses; `None` in a private chat.
    pub group: Option<GroupMessage>,
}

/// What the group path needs of a message said in a group or supergroup: enough to tell
/// whether it addresses the bot, and where to answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupMessage {
    /// The group's title.
    pub title: String,
    /// The message to answer (for a button press: the bot's message that carries the button).
    pub message_id: i64,
    /// The forum topic it was said in, if any.
    pub thread_id: Option<i32>,
    /// Telegram user id of the speaker.
    pub sender_id: Option<i64>,
    /// `@username`s mentioned by `mention` entities, lowercase and without the `@`.
    pub mentions: Vec<String>,
    /// User ids named by `text_mention` entities.
    pub text_mentions: Vec<i64>,
    /// Telegram user id of the author of the message this one replies to.
    pub reply_to_user: Option<i64>,
}

/// Where a streamed group answer goes: the question it quotes, in its forum topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupTarget {
    /// The group.
    pub chat_id: ChatId,
    /// The update being answered (keys the recorded messages).
    pub update_id: i64,
    /// The message the answer quotes.
    pub reply_to: i64,
    /// The forum topic.
    pub thread_id: Option<i32>,
}

/// The part of an [`Incoming`] the dispatcher routes on.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// A text message (commands included).
    Text(String),
    /// An inline button press; `data` is the command line the button stands for.
    Callback {
        /// Telegram's callback query id, answered once handled.
        id: String,
        /// The command line behind the button, e.g. `/approve 12345`.
        data: String,
    },
    /// A voice message, audio file or video note: transcribed by the dispatcher, then answered
    /// like typed text.
    Voice(VoiceClip),
    /// A message the bot cannot read yet (sticker, video, ...), named for the reply.
    Unsupported(&'static str),
    /// A photo (or, once an album is gathered, several), with its caption.
    Photos(crate::media::Photos),
    /// A file sent as a document.
    Document(crate::media::DocumentFile),
    /// A message forwarded from someone else: outside content, answered as a quote.
    Forwarded {
        /// Who it came from, in words ("Ada Lovelace", "the channel News").
        origin: String,
        /// What was forwarded (text, voice, photo or document).
        inner: Box<Content>,
    },
}

/// A recording to transcribe; only its id travels, the bytes are fetched by the chat's worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceClip {
    /// Telegram's `file_id`, passed to `getFile`.
    pub file_id: String,
    /// Length in seconds.
    pub duration_secs: u32,
    /// Size in bytes, when Telegram said.
    pub size: Option<u64>,
}

impl Incoming {
    /// A text message from `chat_id` (terminal channel, tests, scheduled jobs).
    pub fn text(chat_id: ChatId, from_name: &str, text: &str) -> Self {
        Self {
            update_id: None,
            chat_id,
            from_name: from_name.to_string(),
            username: None,
            message_id: None,
            content: Content::Text(text.to_string()),
            group: None,
        }
    }

    /// The text a command would be parsed from: the message text or the button's command line.
    pub fn command_text(&self) -> &str {
        match &self.content {
            Content::Text(t) => t,
            Content::Callback { data, .. } => data,
            Content::Voice(_)
            | Content::Unsupported(_)
            | Content::Photos(_)
            | Content::Document(_)
            | Content::Forwarded { .. } => "",
        }
    }
}

/// An inline keyboard button whose press sends `command` back as if the user typed it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Button {
    /// The label shown on the button.
    pub label: String,
    /// The command line sent back when pressed (at most 64 bytes, Telegram's limit).
    pub command: String,
}

impl Button {
    /// A button labelled `label` that runs `command`.
    pub fn new(label: impl Into<String>, command: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            command: command.into(),
        }
    }
}

/// A message to send to one chat.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Reply {
    /// The chat it goes to (not always the chat that asked: approvals notify the owner).
    pub chat_id: ChatId,
    /// The text, in `format`.
    pub text: String,
    /// Plain text or Markdown; each channel renders it (Telegram HTML, terminal text).
    pub format: Markup,
    /// Rows of inline buttons under the message.
    pub buttons: Vec<Vec<Button>>,
    /// The text holds a one-time secret (a consent link): once Telegram has it, the stored
    /// copy is replaced.
    pub forget_after_send: bool,
    /// The message this answers (in groups, replies quote the message they answer).
    #[serde(default)]
    pub reply_to_message_id: Option<i64>,
    /// The forum topic it goes to.
    #[serde(default)]
    pub message_thread_id: Option<i32>,
    /// A file sent with it; the text is its caption (or goes first when too long for one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<OutgoingFile>,
}

/// A file a reply carries (an `/export`, a chart).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OutgoingFile {
    /// The file name the user sees.
    pub name: String,
    /// How it is sent.
    pub kind: FileKind,
    /// The content.
    pub bytes: Vec<u8>,
}

/// How a file is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FileKind {
    /// Any file, as an attachment (`sendDocument`).
    Document,
    /// An image shown inline (`sendPhoto`).
    Photo,
}

impl FileKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Document => "document",
            Self::Photo => "photo",
        }
    }

    /// Reads a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "document" => Some(Self::Document),
            "photo" => Some(Self::Photo),
            _ => None,
        }
    }
}

impl Reply {
    /// Plain text to `chat_id`.
    pub fn plain(chat_id: ChatId, text: impl Into<String>) -> Self {
        Self {
            chat_id,
            text: text.into(),
            format: Markup::Plain,
            buttons: Vec::new(),
            forget_after_send: false,
            reply_to_message_id: None,
            message_thread_id: None,
            file: None,
        }
    }

    /// Markdown to `chat_id` (quote outside text with [`crate::markup::escape_markdown`]).
    pub fn markdown(chat_id: ChatId, text: impl Into<String>) -> Self {
        Self {
            format: Markup::Markdown,
            ..Self::plain(chat_id, text)
        }
    }

    /// The same reply with rows of buttons.
    pub fn with_buttons(mut self, buttons: Vec<Vec<Button>>) -> Self {
        self.buttons = buttons;
        self
    }
}
