//! Gemini `streamGenerateContent?alt=sse`: each event is a whole `GenerateContentResponse`
//! holding the next parts (text pieces; function calls arrive whole, with their
//! `thoughtSignature`); the last one carries `finishReason`, and `usageMetadata` (cumulative)
//! is read from the last chunk that has it. Gemini sends no end marker: the server closes the
//! stream after the finish reason, and a stream closed before it was cut off.

use serde_json::{Value, json};

use super::{Assemble, Flow, MAX_PARTS, StreamObserver, cut_off, in_stream_error, parse_event};
use crate::llm::error::LlmError;
use crate::llm::provider_core::generated_call_id;
use crate::llm::types::{LlmResponse, ToolCall, Usage};

/// Assembles one streamed Gemini answer.
pub struct GeminiStream {
    model: String,
    text: String,
    tool_calls: Vec<ToolCall>,
    usage: Usage,
    finish_reason: Option<String>,
    block_reason: Option<String>,
}

impl GeminiStream {
    /// An empty answer to a request for `asked_model`.
    pub fn new(asked_model: &str) -> Box<Self> {
        Box::new(Self {
            model: asked_model.to_string(),
            text: String::new(),
            tool_calls: Vec::new(),
            usage: Usage::default(),
            finish_reason: None,
            block_reason: None,
        })
    }

    fn part(&mut self, part: &Value, observer: &dyn StreamObserver) -> Result<(), LlmError> {
        if let Some(call) = part.get("functionCall") {
            if self.tool_calls.len() >= MAX_PARTS {
                return Err(LlmError::Decode("too many function calls".into()));
            }
            let args = match &call["args"] {
                Value::Null => json!({}),
                args => args.clone(),
            };
            self.tool_calls.push(ToolCall {
                id: call["id"]
                    .as_str()
                    .map_or_else(generated_call_id, str::to_string),
                name: call["name"].as_str().unwrap_or_default().to_string(),
                arguments: args,
                provider_meta: part["thoughtSignature"]
                    .as_str()
                    .map(|sig| json!({"thoughtSignature": sig})),
            });
        } else if let Some(text) = part["text"].as_str()
            && !part["thought"].as_bool().unwrap_or(false)
        {
            observer.text(text);
            self.text.push_str(text);
        }
        Ok(())
    }
}

impl Assemble for GeminiStream {
    fn event(&mut self, data: &str, observer: &dyn StreamObserver) -> Result<Flow, LlmError> {
        let chunk = parse_event(data)?;
        if chunk.get("error").is_some_and(|e| !e.is_null()) {
            return Err(in_stream_error(&chunk["error"]));
        }
        if let Some(model) = chunk["modelVersion"].as_str() {
            self.model = model.to_string();
        }
        if let Some(reason) = chunk["promptFeedback"]["blockReason"].as_str() {
            self.block_reason = Some(reason.to_string());
        }
        let usage = &chunk["usageMetadata"];
        if usage.is_object() {
            let count = |key: &str| usage[key].as_u64().unwrap_or(0);
            self.usage = Usage {
                input_tokens: count("promptTokenCount"),
                // Thinking tokens are billed as output.
                output_tokens: count("candidatesTokenCount")
                    .saturating_add(count("thoughtsTokenCount")),
            };
        }
        let candidate = &chunk["candidates"][0];
        if let Some(parts) = candidate["content"]["parts"].as_array() {
            for part in parts {
                self.part(part, observer)?;
            }
        }
        if let Some(reason) = candidate["finishReason"].as_str() {
            self.finish_reason = Some(reason.to_string());
        }
        Ok(Flow::More)
    }

    fn finish(self: Box<Self>) -> Result<LlmResponse, LlmError> {
        let Some(stop_reason) = self.finish_reason else {
            if let Some(reason) = self.block_reason {
                return Err(LlmError::Decode(format!(
                    "no candidates (block reason: {reason})"
                )));
            }
            return Err(cut_off());
        };
        Ok(LlmResponse {
            text: self.text,
            tool_calls: self.tool_calls,
            usage: self.usage,
            model: self.model,
            stop_reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::stream::Unobserved;

    fn feed(chunks: &[Value]) -> Result<LlmResponse, LlmError> {
        let mut stream = GeminiStream::new("asked");
        for c in chunks {
            stream.event(&c.to_string(), &Unobserved)?;
        }
        stream.finish()
    }

    #[test]
    fn text_pieces_calls_and_the_last_usage_assemble() {
        let chunks = [
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "Hel"}]}}],
                "usageMetadata": {"promptTokenCount": 9}, "modelVersion": "gemini-x"}),
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "lo"},
                {"functionCall": {"name": "note", "args": {"a": 1}}, "thoughtSignature": "s1"}]}}]}),
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": ""}]},
                "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": 9,
                "candidatesTokenCount": 5, "thoughtsTokenCount": 2}}),
        ];
        let response = feed(&chunks).unwrap();
        assert_eq!(response.text, "Hello");
        assert_eq!(response.tool_calls[0].arguments, json!({"a": 1}));
        assert_eq!(
            response.tool_calls[0].provider_meta,
            Some(json!({"thoughtSignature": "s1"}))
        );
        assert_eq!(
            response.usage,
            Usage {
                input_tokens: 9,
                output_tokens: 7
            }
        );
        assert_eq!(response.model, "gemini-x");
    }

    #[test]
    fn a_stream_closed_before_the_finish_reason_is_cut_off() {
        let chunk = json!({"candidates": [{"content": {"parts": [{"text": "half"}]}}]});
        assert!(feed(&[chunk]).unwrap_err().is_retryable());
    }
}
