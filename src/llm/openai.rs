//! OpenAI-compatible chat completions (`POST {base}/chat/completions`): `tools` / `tool_calls`
//! (arguments as a JSON string), role `tool` results with `tool_call_id`, `usage`. The same
//! code serves OpenAI, Groq, OpenRouter, Ollama, llama.cpp and vLLM, chosen by base URL;
//! `Authorization: Bearer` is sent only when a key is set (local servers need none).

use async_trait::async_trait;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{LlmError, scrub};
use super::http::{ErrorReply, PostError, retry_after};
use super::provider_core::{KeyHeader, ProviderCore, generated_call_id};
use super::stream::StreamObserver;
use super::stream::openai::OpenAiStream;
use super::types::{LlmRequest, LlmResponse, Tier, ToolCall, ToolChoice, Turn, Usage};
use super::{LlmProvider, ProviderKind};
use crate::config::ProviderConfig;

/// The chat completions endpoint under the base URL.
const PATH: &str = "/chat/completions";

/// Any OpenAI-compatible server.
pub struct OpenAi {
    core: ProviderCore,
}

impl OpenAi {
    /// A client for `cfg` using `http` (which carries the timeouts).
    pub fn new(cfg: ProviderConfig, http: reqwest::Client) -> Self {
        let key = KeyHeader {
            name: "authorization",
            prefix: "Bearer ",
        };
        Self {
            core: ProviderCore::new(cfg, http, key, classify),
        }
    }

    /// OpenAI's own API wants `max_completion_tokens` (newer models reject `max_tokens`);
    /// the compatible servers know only `max_tokens`.
    fn max_tokens_field(&self) -> &'static str {
        match self.core.cfg().base_url.host_str() {
            Some("api.openai.com") => "max_completion_tokens",
            _ => "max_tokens",
        }
    }
}

#[async_trait]
impl LlmProvider for OpenAi {
    fn kind(&self) -> ProviderKind {
        ProviderKind::OpenAi
    }

    fn model(&self, tier: Tier) -> &str {
        self.core.model(tier)
    }

    fn accepts_images(&self, tier: Tier) -> bool {
        self.core.accepts_images(tier)
    }

    async fn complete(&self, req: &LlmRequest) -> Result<LlmResponse, LlmError> {
        let request = self.core.post(PATH)?;
        let mut body = encode(req);
        body[self.max_tokens_field()] = json!(req.max_tokens);
        let answer = |wire| decode(wire, &req.model);
        self.core.whole(request, &body, answer).await
    }

    async fn stream(
        &self,
        req: &LlmRequest,
        observer: &dyn StreamObserver,
    ) -> Result<LlmResponse, LlmError> {
        let request = self.core.post(PATH)?;
        let mut body = encode(req);
        body[self.max_tokens_field()] = json!(req.max_tokens);
        body["stream"] = json!(true);
        body["stream_options"] = json!({"include_usage": true});
        let assembler = OpenAiStream::new(&req.model);
        let answer = |wire| decode(wire, &req.model);
        match (self.core)
            .stream_raw(request, &body, assembler, observer, answer)
            .await
        {
            Ok(response) => Ok(response),
            // A compatible server that does not know streaming (or `stream_options`) says so
            // with a 400: ask it again for a whole answer.
            Err(PostError::Status(reply))
                if reply.status == 400 && reply.body.to_string().contains("stream") =>
            {
                tracing::info!("the server refused to stream; asking for a whole answer");
                let response = self.complete(req).await?;
                observer.text(&response.text);
                Ok(response)
            }
            Err(e) => Err(self.core.failure(e)),
        }
    }
}

/// The request body for `req` (without the max-tokens field, which depends on the server).
pub fn encode(req: &LlmRequest) -> Value {
    let mut messages = vec![json!({"role": "system", "content": req.system})];
    for turn in &req.turns {
        match turn {
            Turn::User(text) => messages.push(json!({"role": "user", "content": text})),
            Turn::UserWithImages { text, images } => {
                let mut parts = vec![json!({"type": "text", "text": text})];
                parts.extend(images.iter().map(|i| {
                    json!({"type": "image_url", "image_url":
                           {"url": format!("data:{};base64,{}", i.mime, i.base64())}})
                }));
                messages.push(json!({"role": "user", "content": parts}));
            }
            Turn::Assistant { text, tool_calls } => {
                let mut msg = json!({"role": "assistant", "content": text});
                if !tool_calls.is_empty() {
                    let calls: Vec<Value> = tool_calls
                        .iter()
                        .map(|c| {
                            json!({"id": c.id, "type": "function", "function":
                            {"name": c.name, "arguments": c.arguments.to_string()}})
                        })
                        .collect();
                    msg["tool_calls"] = Value::Array(calls);
                    if text.is_empty() {
                        msg["content"] = Value::Null;
                    }
                }
                messages.push(msg);
            }
            Turn::ToolResults(results) => {
                messages.extend(results.iter().map(
                    |r| json!({"role": "tool", "tool_call_id": r.call_id, "content": r.content}),
                ))
            }
        }
    }
    let mut body = json!({"model": req.model, "messages": messages});
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| {
                json!({"type": "function", "function": {"name": t.name,
                "description": t.description,
                "parameters": super::schema::for_json_schema(&t.parameters)}})
            })
            .collect();
        body["tools"] = Value::Array(tools);
        if req.tool_choice == ToolChoice::None {
            body["tool_choice"] = json!("none");
        }
    }
    body
}

#[derive(Deserialize)]
struct WireResponse {
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    model: Option<String>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<WireCall>,
}

#[derive(Deserialize)]
struct WireCall {
    #[serde(default)]
    id: Option<String>,
    function: WireFunction,
}

#[derive(Deserialize)]
struct WireFunction {
    name: String,
    /// A JSON string per the spec; some servers send the object itself.
    #[serde(default)]
    arguments: Value,
}

#[derive(Deserialize, Default)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

fn decode(wire: WireResponse, asked_model: &str) -> Result<LlmResponse, LlmError> {
    let choice = wire
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| LlmError::Decode("no choices in the response".into()))?;
    let tool_calls = choice
        .message
        .tool_calls
        .into_iter()
        .map(|c| ToolCall {
            id: c
                .id
                .filter(|id| !id.is_empty())
                .unwrap_or_else(generated_call_id),
            name: c.function.name,
            arguments: parse_arguments(c.function.arguments),
            provider_meta: None,
        })
        .collect();
    let usage = wire.usage.unwrap_or_default();
    Ok(LlmResponse {
        text: choice.message.content.unwrap_or_default(),
        tool_calls,
        usage: Usage {
            input_tokens: usage.prompt_tokens,
            output_tokens: usage.completion_tokens,
        },
        model: wire.model.unwrap_or_else(|| asked_model.to_string()),
        stop_reason: choice.finish_reason.unwrap_or_default(),
    })
}

/// Arguments as an object: parsed from the JSON string, `{}` when empty; text that is not JSON
/// is passed on as a string so the tool rejects it and the model sees why.
fn parse_arguments(raw: Value) -> Value {
    match raw {
        Value::String(s) if s.trim().is_empty() => json!({}),
        Value::String(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
        Value::Null => json!({}),
        other => other,
    }
}

/// Reads `{"error":{"message","type","code"}}`; `insufficient_quota` (and OpenRouter's 402)
/// are final.
fn classify(reply: &ErrorReply, key: Option<&SecretString>) -> LlmError {
    let error = &reply.body["error"];
    let code = error["code"].as_str().unwrap_or_default();
    let kind = error["type"].as_str().unwrap_or_default();
    let message = scrub(error["message"].as_str().unwrap_or_default(), key);
    if code == "insufficient_quota" || kind == "insufficient_quota" || reply.status == 402 {
        return LlmError::Quota(message);
    }
    LlmError::from_status(reply.status, retry_after(&reply.headers), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_parse_from_string_or_object() {
        assert_eq!(parse_arguments(json!("{\"a\":1}")), json!({"a": 1}));
        assert_eq!(parse_arguments(json!({"a": 1})), json!({"a": 1}));
        assert_eq!(parse_arguments(json!("")), json!({}));
        assert_eq!(parse_arguments(json!("not json")), json!("not json"));
    }
}
