//! The provider-neutral conversation: what the router keeps between rounds and what every
//! provider encodes into its own wire format. Keeping the state here (not in wire JSON) is what
//! lets a conversation move to another provider mid-tool-loop without running a tool twice.

use serde_json::Value;

/// Who said a line of stored history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The human.
    User,
    /// The assistant's final text reply.
    Assistant,
}

pub use crate::config::Tier;

/// One tool as offered to a model: the single generic spec each provider converts.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    /// Tool name, `[a-zA-Z0-9_-]{1,64}`.
    pub name: String,
    /// What the tool does, written for the model.
    pub description: String,
    /// JSON Schema of the arguments object.
    pub parameters: Value,
}

/// A tool call the model asked for.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ToolCall {
    /// Call id (the provider's, or generated when the provider has none).
    pub id: String,
    /// Tool name.
    pub name: String,
    /// Arguments object.
    pub arguments: Value,
    /// Opaque provider data to echo back with this call (Gemini's `thoughtSignature`).
    pub provider_meta: Option<Value>,
}

/// The result of one executed tool call, sent back as a native tool result.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolResult {
    /// The id of the [`ToolCall`] this answers.
    pub call_id: String,
    /// Tool name (Gemini matches results by name).
    pub name: String,
    /// Output text, or the error text when `is_error`.
    pub content: String,
    /// The tool failed; the model should see that it did.
    pub is_error: bool,
}

/// An image sent to a model with a user message. Cloning shares the bytes; `Debug` shows only
/// the type and length, so logs never carry image data.
#[derive(Clone, PartialEq, Eq)]
pub struct Image {
    /// `image/jpeg`, `image/png`, `image/gif` or `image/webp`.
    pub mime: &'static str,
    /// The encoded image.
    pub bytes: std::sync::Arc<Vec<u8>>,
}

impl Image {
    /// The bytes as standard base64 (what every provider's wire format wants).
    pub fn base64(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(self.bytes.as_slice())
    }
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Image({}, {} bytes)", self.mime, self.bytes.len())
    }
}

/// One item of the generic conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum Turn {
    /// A user message.
    User(String),
    /// A user message with images (only ever the current message: history keeps placeholders).
    UserWithImages {
        /// The text (the caption, or what to do with the images).
        text: String,
        /// The images, in the order sent.
        images: Vec<Image>,
    },
    /// An assistant message, possibly with tool calls.
    Assistant {
        /// Text the model wrote (may be empty when it only called tools).
        text: String,
        /// Tools it asked to run, in order.
        tool_calls: Vec<ToolCall>,
    },
    /// Results of the previous assistant turn's tool calls, in the same order.
    ToolResults(Vec<ToolResult>),
}

/// Whether the model may call tools in this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ToolChoice {
    /// The model decides.
    #[default]
    Auto,
    /// Tools stay declared (the history may contain calls) but the model must answer in text.
    None,
}

/// One request to one provider.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmRequest {
    /// System prompt.
    pub system: String,
    /// The conversation, oldest first, ending with a user message or tool results.
    pub turns: Vec<Turn>,
    /// Tools offered (empty: no tools).
    pub tools: Vec<ToolSpec>,
    /// Whether tools may be called this round.
    pub tool_choice: ToolChoice,
    /// Model id.
    pub model: String,
    /// Upper bound of output tokens.
    pub max_tokens: u32,
}

/// Token counts of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Usage {
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Generated tokens.
    pub output_tokens: u64,
}

/// One provider's answer.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LlmResponse {
    /// Text of the answer (empty when the model only called tools).
    pub text: String,
    /// Tool calls to run, in order.
    pub tool_calls: Vec<ToolCall>,
    /// Token counts.
    pub usage: Usage,
    /// The model that answered (as reported by the server, else the one asked for).
    pub model: String,
    /// The provider's stop reason, verbatim (`end_turn`, `tool_use`, `STOP`, `stop`, ...).
    pub stop_reason: String,
}
