//! Anthropic Messages streamed (`"stream": true`): `message_start` (model, input tokens),
//! `content_block_start` / `content_block_delta` (`text_delta`, `input_json_delta`) /
//! `content_block_stop`, `message_delta` (stop reason, output tokens), `message_stop` (the end
//! marker), `ping`, and `error` events.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{
    Assemble, Flow, MAX_PARTS, StreamObserver, cut_off, in_stream_error, parse_arguments,
    parse_event,
};
use crate::llm::error::LlmError;
use crate::llm::types::{LlmResponse, ToolCall, Usage};

/// One content block as it grows.
enum Block {
    Text(String),
    Tool {
        id: String,
        name: String,
        json: String,
    },
    Other,
}

/// Assembles one streamed Claude answer.
pub struct ClaudeStream {
    model: String,
    blocks: BTreeMap<u64, Block>,
    usage: Usage,
    stop_reason: String,
    stopped: bool,
}

impl ClaudeStream {
    /// An empty answer to a request for `asked_model`.
    pub fn new(asked_model: &str) -> Box<Self> {
        Box::new(Self {
            model: asked_model.to_string(),
            blocks: BTreeMap::new(),
            usage: Usage::default(),
            stop_reason: String::new(),
            stopped: false,
        })
    }

    fn read_usage(&mut self, usage: &Value) {
        if let Some(n) = usage["input_tokens"].as_u64() {
            self.usage.input_tokens = n;
        }
        if let Some(n) = usage["output_tokens"].as_u64() {
            self.usage.output_tokens = n;
        }
    }
}

impl Assemble for ClaudeStream {
    fn event(&mut self, data: &str, observer: &dyn StreamObserver) -> Result<Flow, LlmError> {
        let event = parse_event(data)?;
        let index = event["index"].as_u64().unwrap_or(0);
        match event["type"].as_str().unwrap_or_default() {
            "message_start" => {
                let message = &event["message"];
                if let Some(model) = message["model"].as_str() {
                    self.model = model.to_string();
                }
                self.read_usage(&message["usage"]);
            }
            "content_block_start" => {
                if self.blocks.len() >= MAX_PARTS {
                    return Err(LlmError::Decode("too many content blocks".into()));
                }
                let block = &event["content_block"];
                let started = match block["type"].as_str() {
                    Some("text") => {
                        let text = block["text"].as_str().unwrap_or_default();
                        observer.text(text);
                        Block::Text(text.to_string())
                    }
                    Some("tool_use") => Block::Tool {
                        id: block["id"].as_str().unwrap_or_default().to_string(),
                        name: block["name"].as_str().unwrap_or_default().to_string(),
                        json: String::new(),
                    },
                    _ => Block::Other,
                };
                self.blocks.insert(index, started);
            }
            "content_block_delta" => {
                let delta = &event["delta"];
                match (self.blocks.get_mut(&index), delta["type"].as_str()) {
                    (Some(Block::Text(text)), Some("text_delta")) => {
                        let piece = delta["text"].as_str().unwrap_or_default();
                        observer.text(piece);
                        text.push_str(piece);
                    }
                    (Some(Block::Tool { json, .. }), Some("input_json_delta")) => {
                        json.push_str(delta["partial_json"].as_str().unwrap_or_default());
                    }
                    (None, _) => {
                        return Err(LlmError::Decode(format!(
                            "a delta for content block {index}, which never started"
                        )));
                    }
                    _ => {} // thinking, signatures, citations
                }
            }
            "message_delta" => {
                if let Some(reason) = event["delta"]["stop_reason"].as_str() {
                    self.stop_reason = reason.to_string();
                }
                self.read_usage(&event["usage"]);
            }
            "message_stop" => {
                self.stopped = true;
                return Ok(Flow::Done);
            }
            "error" => return Err(in_stream_error(&event["error"])),
            _ => {} // ping, content_block_stop
        }
        Ok(Flow::More)
    }

    fn finish(self: Box<Self>) -> Result<LlmResponse, LlmError> {
        if !self.stopped {
            return Err(cut_off());
        }
        let mut text = String::new();
        let mut tool_calls = Vec::new();
        for block in self.blocks.into_values() {
            match block {
                Block::Text(t) => text.push_str(&t),
                Block::Tool { id, name, json } => tool_calls.push(ToolCall {
                    id,
                    name,
                    arguments: parse_arguments(&json),
                    provider_meta: None,
                }),
                Block::Other => {}
            }
        }
        Ok(LlmResponse {
            text,
            tool_calls,
            usage: self.usage,
            model: self.model,
            stop_reason: self.stop_reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::stream::Unobserved;
    use serde_json::json;

    fn feed(events: &[Value]) -> Result<LlmResponse, LlmError> {
        let mut stream = ClaudeStream::new("asked");
        for e in events {
            if stream.event(&e.to_string(), &Unobserved)? == Flow::Done {
                break;
            }
        }
        stream.finish()
    }

    fn answer_with_tool() -> Vec<Value> {
        vec![
            json!({"type": "message_start", "message": {"model": "claude-x",
                "usage": {"input_tokens": 25, "output_tokens": 1}}}),
            json!({"type": "content_block_start", "index": 0,
                "content_block": {"type": "text", "text": ""}}),
            json!({"type": "content_block_delta", "index": 0,
                "delta": {"type": "text_delta", "text": "Let me "}}),
            json!({"type": "content_block_delta", "index": 0,
                "delta": {"type": "text_delta", "text": "look."}}),
            json!({"type": "content_block_stop", "index": 0}),
            json!({"type": "content_block_start", "index": 1, "content_block":
                {"type": "tool_use", "id": "toolu_1", "name": "web_fetch", "input": {}}}),
            json!({"type": "content_block_delta", "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": "{\"url\": \"exa"}}),
            json!({"type": "content_block_delta", "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": "mple.com\"}"}}),
            json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"},
                "usage": {"output_tokens": 42}}),
            json!({"type": "message_stop"}),
        ]
    }

    #[test]
    fn text_tool_input_pieces_and_usage_assemble_into_one_answer() {
        let response = feed(&answer_with_tool()).unwrap();
        assert_eq!(response.text, "Let me look.");
        assert_eq!(response.tool_calls.len(), 1);
        assert_eq!(response.tool_calls[0].id, "toolu_1");
        assert_eq!(
            response.tool_calls[0].arguments,
            json!({"url": "example.com"})
        );
        assert_eq!(
            response.usage,
            Usage {
                input_tokens: 25,
                output_tokens: 42
            }
        );
        assert_eq!(response.model, "claude-x");
        assert_eq!(response.stop_reason, "tool_use");
    }

    #[test]
    fn a_stream_without_message_stop_is_cut_off_and_retryable() {
        let mut events = answer_with_tool();
        events.pop();
        let error = feed(&events).unwrap_err();
        assert!(error.is_retryable(), "{error}");
    }

    #[test]
    fn an_overloaded_error_event_is_retryable() {
        let events = vec![json!({"type": "error",
            "error": {"type": "overloaded_error", "message": "Overloaded"}})];
        assert_eq!(feed(&events).unwrap_err(), LlmError::Overloaded);
    }
}
