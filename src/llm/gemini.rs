//! Gemini `generateContent` (`POST {base}/v1beta/models/{model}:generateContent`), the key in
//! the `x-goog-api-key` header (never in the URL): `systemInstruction`, `functionDeclarations`,
//! `functionCall` → `functionResponse`, `thoughtSignature` echoed on its part, `usageMetadata`.

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::LlmError;
use super::gemini_errors::classify;
use super::provider_core::{KeyHeader, ProviderCore, generated_call_id, push_merged};
use super::stream::StreamObserver;
use super::stream::gemini::GeminiStream;
use super::types::{LlmRequest, LlmResponse, Tier, ToolCall, ToolChoice, Turn, Usage};
use super::{LlmProvider, ProviderKind};
use crate::config::ProviderConfig;

/// Google's documented placeholder for function calls Gemini did not produce itself (a
/// conversation that started on another provider); Gemini 3 rejects such calls without one.
const FOREIGN_CALL_SIGNATURE: &str = "skip_thought_signature_validator";

/// Gemini over the Generative Language API.
pub struct Gemini {
    core: ProviderCore,
}

impl Gemini {
    /// A client for `cfg` using `http` (which carries the timeouts).
    pub fn new(cfg: ProviderConfig, http: reqwest::Client) -> Self {
        let key = KeyHeader {
            name: "x-goog-api-key",
            prefix: "",
        };
        Self {
            core: ProviderCore::new(cfg, http, key, classify),
        }
    }
}

#[async_trait]
impl LlmProvider for Gemini {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Gemini
    }

    fn model(&self, tier: Tier) -> &str {
        self.core.model(tier)
    }

    fn accepts_images(&self, tier: Tier) -> bool {
        self.core.accepts_images(tier)
    }

    async fn complete(&self, req: &LlmRequest) -> Result<LlmResponse, LlmError> {
        let path = format!("/v1beta/models/{}:generateContent", req.model);
        let request = self.core.post(&path)?;
        let answer = |wire| decode(wire, &req.model);
        self.core.whole(request, &encode(req), answer).await
    }

    async fn stream(
        &self,
        req: &LlmRequest,
        observer: &dyn StreamObserver,
    ) -> Result<LlmResponse, LlmError> {
        let path = format!("/v1beta/models/{}:streamGenerateContent?alt=sse", req.model);
        let request = self.core.post(&path)?;
        let assembler = GeminiStream::new(&req.model);
        let answer = |wire| decode(wire, &req.model);
        (self.core)
            .streamed(request, &encode(req), assembler, observer, answer)
            .await
    }
}

/// The request body for `req`.
pub fn encode(req: &LlmRequest) -> Value {
    let mut contents: Vec<Value> = Vec::new();
    for turn in &req.turns {
        let (role, parts) = match turn {
            Turn::User(text) => ("user", text_part(text)),
            Turn::UserWithImages { text, images } => {
                let mut parts: Vec<Value> = images
                    .iter()
                    .map(|i| json!({"inline_data": {"mime_type": i.mime, "data": i.base64()}}))
                    .collect();
                parts.extend(text_part(text));
                ("user", parts)
            }
            Turn::Assistant { text, tool_calls } => {
                let mut parts = text_part(text);
                let native = tool_calls.iter().any(|c| signature(c).is_some());
                for (i, call) in tool_calls.iter().enumerate() {
                    let mut part = json!({"functionCall":
                        {"id": call.id, "name": call.name, "args": call.arguments}});
                    match signature(call) {
                        Some(sig) => part["thoughtSignature"] = json!(sig),
                        None if !native && i == 0 => {
                            part["thoughtSignature"] = json!(FOREIGN_CALL_SIGNATURE)
                        }
                        None => {}
                    }
                    parts.push(part);
                }
                ("model", parts)
            }
            Turn::ToolResults(results) => {
                let parts = results.iter().map(|r| {
                    let key = if r.is_error { "error" } else { "result" };
                    json!({"functionResponse": {"id": r.call_id, "name": r.name,
                                                "response": {key: r.content}}})
                });
                ("user", parts.collect())
            }
        };
        push_merged(&mut contents, role, "parts", parts);
    }
    let mut body = json!({
        "systemInstruction": {"parts": [{"text": req.system}]},
        "contents": contents,
        "generationConfig": {"maxOutputTokens": req.max_tokens},
    });
    if !req.tools.is_empty() {
        let declarations: Vec<Value> = req.tools.iter().map(declaration).collect();
        body["tools"] = json!([{"functionDeclarations": declarations}]);
        if req.tool_choice == ToolChoice::None {
            body["toolConfig"] = json!({"functionCallingConfig": {"mode": "NONE"}});
        }
    }
    body
}

fn signature(call: &ToolCall) -> Option<&str> {
    call.provider_meta
        .as_ref()?
        .get("thoughtSignature")?
        .as_str()
}

/// A text part, or none for empty text. Whitespace is kept, unlike Claude's `text_block`:
/// Gemini accepts it, and a whitespace-only turn stays a turn.
fn text_part(text: &str) -> Vec<Value> {
    if text.is_empty() {
        Vec::new()
    } else {
        vec![json!({"text": text})]
    }
}

/// A function declaration; Gemini's schema subset rejects some JSON-Schema keywords and an
/// object without properties, so those are dropped.
fn declaration(tool: &super::types::ToolSpec) -> Value {
    let mut decl = json!({"name": tool.name, "description": tool.description});
    let params = super::schema::for_gemini(&tool.parameters);
    let has_properties = params["properties"]
        .as_object()
        .is_some_and(|p| !p.is_empty());
    if has_properties {
        decl["parameters"] = params;
    }
    decl
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireResponse {
    #[serde(default)]
    candidates: Vec<Candidate>,
    #[serde(default)]
    usage_metadata: WireUsage,
    #[serde(default)]
    model_version: Option<String>,
    #[serde(default)]
    prompt_feedback: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    #[serde(default)]
    content: Option<Content>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Content {
    #[serde(default)]
    parts: Vec<Part>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Part {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    thought: bool,
    #[serde(default)]
    function_call: Option<FunctionCall>,
    #[serde(default)]
    thought_signature: Option<String>,
}

#[derive(Deserialize)]
struct FunctionCall {
    #[serde(default)]
    id: Option<String>,
    name: String,
    #[serde(default)]
    args: Value,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct WireUsage {
    #[serde(default)]
    prompt_token_count: u64,
    #[serde(default)]
    candidates_token_count: u64,
    #[serde(default)]
    thoughts_token_count: u64,
}

fn decode(wire: WireResponse, asked_model: &str) -> Result<LlmResponse, LlmError> {
    let Some(candidate) = wire.candidates.into_iter().next() else {
        let reason = wire.prompt_feedback["blockReason"]
            .as_str()
            .unwrap_or("none");
        return Err(LlmError::Decode(format!(
            "no candidates (block reason: {reason})"
        )));
    };
    let mut text = String::new();
    let mut tool_calls = Vec::new();
    for part in candidate.content.map(|c| c.parts).unwrap_or_default() {
        if let Some(call) = part.function_call {
            let args = if call.args.is_null() {
                json!({})
            } else {
                call.args
            };
            tool_calls.push(ToolCall {
                id: call.id.unwrap_or_else(generated_call_id),
                name: call.name,
                arguments: args,
                provider_meta: part
                    .thought_signature
                    .map(|sig| json!({"thoughtSignature": sig})),
            });
        } else if let Some(t) = part.text.filter(|_| !part.thought) {
            text.push_str(&t);
        }
    }
    let usage = wire.usage_metadata;
    Ok(LlmResponse {
        text,
        tool_calls,
        usage: Usage {
            input_tokens: usage.prompt_token_count,
            // Thinking tokens are billed as output.
            output_tokens: usage
                .candidates_token_count
                .saturating_add(usage.thoughts_token_count),
        },
        model: wire
            .model_version
            .unwrap_or_else(|| asked_model.to_string()),
        stop_reason: candidate.finish_reason.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_only_text_stays_a_part_and_same_role_turns_merge() {
        let req = LlmRequest {
            system: "sys".into(),
            turns: vec![
                Turn::User("  ".into()),
                Turn::User(String::new()),
                Turn::User("hi".into()),
            ],
            tools: Vec::new(),
            tool_choice: ToolChoice::Auto,
            model: "m".into(),
            max_tokens: 100,
        };
        let body = encode(&req);
        assert_eq!(
            body["contents"],
            json!([{"role": "user", "parts": [{"text": "  "}, {"text": "hi"}]}])
        );
    }
}
