//! Anthropic Messages API (`POST {base}/v1/messages`): `tools`, `tool_use` → `tool_result`
//! blocks, `usage.input_tokens` / `output_tokens`, 529 "overloaded".

use async_trait::async_trait;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{LlmError, scrub};
use super::http::ErrorReply;
use super::provider_core::{KeyHeader, ProviderCore, push_merged};
use super::stream::StreamObserver;
use super::stream::claude::ClaudeStream;
use super::types::{LlmRequest, LlmResponse, Tier, ToolCall, ToolChoice, Turn, Usage};
use super::{LlmProvider, ProviderKind};
use crate::config::ProviderConfig;

/// The API version header value this encoder speaks.
const ANTHROPIC_VERSION: &str = "2023-06-01";

/// The Messages endpoint under the base URL.
const PATH: &str = "/v1/messages";

/// Claude over the Messages API.
pub struct Claude {
    core: ProviderCore,
}

impl Claude {
    /// A client for `cfg` using `http` (which carries the timeouts).
    pub fn new(cfg: ProviderConfig, http: reqwest::Client) -> Self {
        let key = KeyHeader {
            name: "x-api-key",
            prefix: "",
        };
        Self {
            core: ProviderCore::new(cfg, http, key, classify),
        }
    }
}

#[async_trait]
impl LlmProvider for Claude {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Claude
    }

    fn model(&self, tier: Tier) -> &str {
        self.core.model(tier)
    }

    fn accepts_images(&self, tier: Tier) -> bool {
        self.core.accepts_images(tier)
    }

    async fn complete(&self, req: &LlmRequest) -> Result<LlmResponse, LlmError> {
        let request = self
            .core
            .post(PATH)?
            .header("anthropic-version", ANTHROPIC_VERSION);
        let answer = |wire| Ok(decode(wire, &req.model));
        self.core.whole(request, &encode(req), answer).await
    }

    async fn stream(
        &self,
        req: &LlmRequest,
        observer: &dyn StreamObserver,
    ) -> Result<LlmResponse, LlmError> {
        let request = self
            .core
            .post(PATH)?
            .header("anthropic-version", ANTHROPIC_VERSION);
        let mut body = encode(req);
        body["stream"] = json!(true);
        let assembler = ClaudeStream::new(&req.model);
        let answer = |wire| Ok(decode(wire, &req.model));
        (self.core)
            .streamed(request, &body, assembler, observer, answer)
            .await
    }
}

/// The request body for `req`.
pub fn encode(req: &LlmRequest) -> Value {
    let mut messages: Vec<Value> = Vec::new();
    for turn in &req.turns {
        let (role, blocks) = match turn {
            Turn::User(text) => ("user", text_block(text)),
            Turn::UserWithImages { text, images } => {
                let mut blocks: Vec<Value> = images
                    .iter()
                    .map(|i| {
                        json!({"type": "image", "source": {"type": "base64",
                               "media_type": i.mime, "data": i.base64()}})
                    })
                    .collect();
                blocks.extend(text_block(text));
                ("user", blocks)
            }
            Turn::Assistant { text, tool_calls } => {
                let mut blocks = text_block(text);
                blocks.extend(tool_calls.iter().map(|c| {
                    json!({"type": "tool_use", "id": safe_id(&c.id), "name": c.name,
                           "input": c.arguments})
                }));
                ("assistant", blocks)
            }
            Turn::ToolResults(results) => {
                let blocks = results.iter().map(|r| {
                    json!({"type": "tool_result", "tool_use_id": safe_id(&r.call_id),
                           "content": r.content, "is_error": r.is_error})
                });
                ("user", blocks.collect())
            }
        };
        push_merged(&mut messages, role, "content", blocks);
    }
    let mut body = json!({
        "model": req.model,
        "max_tokens": req.max_tokens,
        "system": req.system,
        "messages": messages,
    });
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| {
                json!({"name": t.name, "description": t.description,
                            "input_schema": super::schema::for_json_schema(&t.parameters)})
            })
            .collect();
        body["tools"] = Value::Array(tools);
        if req.tool_choice == ToolChoice::None {
            body["tool_choice"] = json!({"type": "none"});
        }
    }
    body
}

/// A text block, or none for blank text: Claude rejects a text block that is empty or only
/// whitespace (Gemini takes whitespace, so its `text_part` drops only empty text).
fn text_block(text: &str) -> Vec<Value> {
    if text.trim().is_empty() {
        Vec::new()
    } else {
        vec![json!({"type": "text", "text": text})]
    }
}

/// Claude ids must match `[a-zA-Z0-9_-]+`; ids from other providers are mapped into that set.
fn safe_id(id: &str) -> String {
    let mapped: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if mapped.is_empty() {
        "call".into()
    } else {
        mapped
    }
}

#[derive(Deserialize)]
struct WireResponse {
    #[serde(default)]
    content: Vec<Block>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: WireUsage,
    #[serde(default)]
    model: Option<String>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block {
    Text {
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default)]
        input: Value,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize, Default)]
struct WireUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
}

fn decode(wire: WireResponse, asked_model: &str) -> LlmResponse {
    let mut text = String::new();
    let mut tool_calls = Vec::new();
    for block in wire.content {
        match block {
            Block::Text { text: t } => text.push_str(&t),
            Block::ToolUse { id, name, input } => tool_calls.push(ToolCall {
                id,
                name,
                arguments: input,
                provider_meta: None,
            }),
            Block::Other => {}
        }
    }
    LlmResponse {
        text,
        tool_calls,
        usage: Usage {
            input_tokens: wire.usage.input_tokens,
            output_tokens: wire.usage.output_tokens,
        },
        model: wire.model.unwrap_or_else(|| asked_model.to_string()),
        stop_reason: wire.stop_reason.unwrap_or_default(),
    }
}

/// Reads Anthropic's `{"type":"error","error":{"type","message"}}`.
fn classify(reply: &ErrorReply, key: Option<&SecretString>) -> LlmError {
    let kind = reply.body["error"]["type"].as_str().unwrap_or_default();
    let message = scrub(
        reply.body["error"]["message"].as_str().unwrap_or_default(),
        key,
    );
    let retry_after = super::http::retry_after(&reply.headers);
    match kind {
        "overloaded_error" => LlmError::Overloaded,
        "rate_limit_error" => LlmError::RateLimited { retry_after },
        "authentication_error" | "permission_error" => LlmError::Auth(reply.status.as_u16()),
        _ if message.contains("credit balance") => LlmError::Quota(message),
        _ => LlmError::from_status(reply.status, retry_after, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::types::{ToolResult, ToolSpec};

    #[test]
    fn tool_results_are_native_blocks_and_roles_alternate() {
        let call = ToolCall {
            id: "call.1".into(),
            name: "weather".into(),
            arguments: json!({"city": "Oslo"}),
            provider_meta: None,
        };
        let req = LlmRequest {
            system: "sys".into(),
            turns: vec![
                Turn::User("a".into()),
                Turn::User("b".into()),
                Turn::Assistant {
                    text: String::new(),
                    tool_calls: vec![call],
                },
                Turn::ToolResults(vec![ToolResult {
                    call_id: "call.1".into(),
                    name: "weather".into(),
                    content: "sunny".into(),
                    is_error: false,
                }]),
            ],
            tools: vec![ToolSpec {
                name: "weather".into(),
                description: "d".into(),
                parameters: json!({"type": "object"}),
            }],
            tool_choice: ToolChoice::Auto,
            model: "m".into(),
            max_tokens: 100,
        };
        let body = encode(&req);
        let msgs = body["messages"].as_array().unwrap();
        assert_eq!(msgs.len(), 3);
        assert_eq!(msgs[0]["content"].as_array().unwrap().len(), 2);
        assert_eq!(msgs[1]["content"][0]["id"], "call_1");
        assert_eq!(msgs[2]["content"][0]["type"], "tool_result");
        assert_eq!(msgs[2]["content"][0]["tool_use_id"], "call_1");
        assert_eq!(body["tools"][0]["input_schema"]["type"], "object");
    }

    #[test]
    fn whitespace_only_text_sends_no_text_block_and_merges_nothing() {
        let req = LlmRequest {
            system: "sys".into(),
            turns: vec![Turn::User("  \n".into()), Turn::User("hi".into())],
            tools: Vec::new(),
            tool_choice: ToolChoice::Auto,
            model: "m".into(),
            max_tokens: 100,
        };
        let body = encode(&req);
        assert_eq!(
            body["messages"],
            json!([{"role": "user", "content": [{"type": "text", "text": "hi"}]}])
        );
    }
}
